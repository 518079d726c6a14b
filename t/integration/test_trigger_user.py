"""test_trigger_user - Trigger: user end to end through the whole stack.

alice mails a Trigger: user request to bob (the mailbox owner); Postfix and
cti-milter deliver it to bob's Maildir with the X-CTI-Job header, ctid keeps the
job waiting.  bob then reads his mail with Python's imaplib and poplib against
the stack's Dovecot (cti plugin loaded): header-only access must not dial, a
body retrieval or \\Seen dials exactly once, a forged job header in someone
else's mailbox dials nothing, and a retrieval while ctid is down still dials
once ctid is back (the plugin's spool).  A job nobody reads expires after its
Not-After with a notification.  Calls are counted in pbx-sim's log (MakeCall
by callingDevice), job states are read with ctictl.
Each test raises AssertionError with a message a person can act on.
"""
import imaplib
import json
import os
import poplib
import re
import subprocess
import time
from email.utils import formatdate

import libmail
from libmail import find_mail, header_is, in_reply_to, request_mail, result_fields, send
from libpbx import control

SETTLE = 2.5        # wall seconds in which a wrongly fired job would have dialled
DEST = "0312345678"  # answers after 2 simulated seconds
_dovecot_log_start = None  # offset of dovecot.log when this module's first test ran


def _check(cond, message):
    if not cond:
        raise AssertionError(message)


def _mark_dovecot_log(ctx):
    global _dovecot_log_start
    if _dovecot_log_start is None:
        try:
            _dovecot_log_start = os.path.getsize(ctx.stack.log_path("dovecot.log"))
        except OSError:
            _dovecot_log_start = 0


def _ctictl(ctx, *args):
    binary = os.path.join(ctx.stack["BUILD_DIR"], "cli", "ctictl")
    res = subprocess.run([binary, "-c", ctx.stack["CONFIG"]] + list(args), capture_output=True, timeout=30)
    _check(res.returncode == 0, "ctictl %s failed (%d): %s" % (" ".join(args), res.returncode,
                                                               res.stderr.decode(errors="replace")))
    return res.stdout.decode()


def _job_state(ctx, job):
    return json.loads(_ctictl(ctx, "jobs", "show", job, "--json")).get("State")


def _calls(ctx, source, since):
    return ctx.pbx.rx("MakeCall", since, callingDevice=source)


def _user_job(ctx, source, owner="bob", extra=()):
    """alice mails a Trigger: user request from SOURCE to OWNER; (msgid, job, t0, raw delivered bytes).
    Checks the mail reached OWNER's Maildir with an X-CTI-Job header and nothing was dialled."""
    _mark_dovecot_log(ctx)
    fields = [("Source", source), ("Destination", DEST), ("Trigger", "user"),
              ("Request-Id", libmail.unique("tu"))] + list(extra)
    msg = request_mail(ctx.stack, "alice", fields, subject="call me when you read this")
    del msg["To"]
    msg["To"] = ctx.stack.address(owner)
    msgid = msg["Message-ID"]
    t0 = time.time()
    res = send(ctx.stack, "alice", ctx.stack.address(owner), libmail.as_bytes(msg))
    _check(res.code == 250, "Trigger: user request to %s refused: %d %s" % (owner, res.code, res.text))
    found = find_mail(ctx.stack.maildir(owner), header_is("Message-ID", msgid), 20)
    _check(found is not None, "Trigger: user request %s not delivered to %s's Maildir" % (msgid, owner))
    path, delivered = found
    jobs = delivered.get_all("X-CTI-Job") or []
    _check(len(jobs) == 1 and re.fullmatch(r"[0-9a-f]{32}", jobs[0].strip()),
           "delivered request has X-CTI-Job headers %r, want exactly one job id" % jobs)
    job = jobs[0].strip()
    _check(_job_state(ctx, job) == "waiting-user", "job %s is not waiting for its reader" % job)
    _check(not _calls(ctx, source, t0), "Trigger: user job dialled before %s read the mail" % owner)
    return msgid, job, t0, libmail.read_file(path)


def _imap(ctx, user="bob"):
    imap = imaplib.IMAP4("127.0.0.1", int(ctx.stack["IMAP_PORT"]))
    typ, data = imap.login(user, ctx.stack.password(user))
    text = b" ".join(data).decode(errors="replace")
    _check(typ == "OK" and "initialization failed" not in text.lower(),
           "IMAP LOGIN of %s answered %s %r" % (user, typ, text))
    typ, data = imap.select("INBOX")
    _check(typ == "OK", "IMAP SELECT INBOX of %s failed: %r" % (user, data))
    return imap


def _imap_uid(imap, job):
    """The UID of the mail carrying JOB (a header SEARCH, which must not fire)."""
    typ, data = imap.uid("SEARCH", None, "HEADER", "X-CTI-Job", job)
    uids = data[0].split() if typ == "OK" and data and data[0] else []
    _check(len(uids) == 1, "IMAP SEARCH finds %d mails with X-CTI-Job %s" % (len(uids), job))
    return uids[0].decode()


def _imap_fetch(imap, uid, items):
    typ, data = imap.uid("FETCH", uid, items)
    _check(typ == "OK" and data and data[0] is not None, "IMAP UID FETCH %s %s failed: %r" % (uid, items, data))
    return data


def _logout(imap):
    try:
        imap.logout()
    except (imaplib.IMAP4.error, OSError):
        pass


def _pop3(ctx, user="bob"):
    pop = poplib.POP3("127.0.0.1", int(ctx.stack["POP3_PORT"]), timeout=20)
    pop.user(user)
    reply = pop.pass_(ctx.stack.password(user)).decode(errors="replace")
    _check(reply.startswith("+OK") and "initialization failed" not in reply.lower(),
           "POP3 PASS of %s answered %r" % (user, reply))
    return pop


def _pop3_find(pop, job):
    """The POP3 message number of the mail carrying JOB (TOP, which must not fire)."""
    count = len(pop.list()[1])
    for i in range(count, 0, -1):
        if job.encode() in b"\n".join(pop.top(i, 0)[1]):
            return i
    raise AssertionError("POP3 TOP finds no message with X-CTI-Job %s" % job)


def _no_call(ctx, source, since, what):
    time.sleep(SETTLE)
    calls = _calls(ctx, source, since)
    _check(not calls, "%s dialled: %d MakeCall from %s" % (what, len(calls), source))


def _one_call(ctx, msgid, job, source, since, what, timeout=20):
    """Exactly one MakeCall from SOURCE since SINCE, a success notification, the job done."""
    calls = ctx.pbx.wait(lambda: _calls(ctx, source, since), timeout)
    _check(calls, "%s did not dial: no MakeCall from %s within %d s" % (what, source, timeout))
    found = find_mail(ctx.stack.maildir("alice"), in_reply_to(msgid), 30)
    _check(found is not None, "no notification for %s (job %s) in alice's Maildir" % (msgid, job))
    fields, _ = result_fields(found[1])
    _check(fields and fields.get("status") == "success" and fields.get("job-id") == job,
           "notification of job %s: %r, want Status: success" % (job, fields))
    time.sleep(1.0)
    calls = _calls(ctx, source, since)
    _check(len(calls) == 1, "%s dialled %d times, want once" % (what, len(calls)))
    _check(_job_state(ctx, job) == "success", "job %s is %r after its call, want success" % (job, _job_state(ctx, job)))
    control(ctx.stack["PBX_CONTROL"], "hangup " + DEST)
    return calls[0]


def test_tu_header_access_then_body_peek(ctx):
    """ENVELOPE, BODY.PEEK[HEADER], BODYSTRUCTURE, POP3 TOP: no call; BODY.PEEK[]: one call; a new session: none."""
    msgid, job, t0, raw = _user_job(ctx, "2001")
    imap = _imap(ctx)
    try:
        uid = _imap_uid(imap, job)
        _imap_fetch(imap, uid, "(ENVELOPE)")
        _imap_fetch(imap, uid, "(BODY.PEEK[HEADER])")
        _imap_fetch(imap, uid, "(BODYSTRUCTURE RFC822.SIZE FLAGS)")
    finally:
        _logout(imap)
    pop = _pop3(ctx)
    try:
        num = _pop3_find(pop, job)
        pop.top(num, 5)
    finally:
        pop.quit()
    _no_call(ctx, "2001", t0, "header-only access (ENVELOPE, BODY.PEEK[HEADER], BODYSTRUCTURE, POP3 TOP)")
    _check(_job_state(ctx, job) == "waiting-user", "header-only access changed job %s's state" % job)
    imap = _imap(ctx)
    try:
        data = _imap_fetch(imap, _imap_uid(imap, job), "(BODY.PEEK[])")
        _check(libmail.message_body(data[0][1]) == libmail.message_body(raw),
               "BODY.PEEK[] returned a body different from the delivered mail")
        _one_call(ctx, msgid, job, "2001", t0, "BODY.PEEK[]")
    finally:
        _logout(imap)
    t1 = time.time()
    imap = _imap(ctx)
    try:
        _imap_fetch(imap, _imap_uid(imap, job), "(BODY.PEEK[])")
    finally:
        _logout(imap)
    _no_call(ctx, "2001", t1, "a second BODY.PEEK[] in a new session")


def test_tu_body_fetch_non_peek(ctx):
    """A non-PEEK BODY[] by the owner: exactly one call, and the mail is \\Seen."""
    msgid, job, t0, _ = _user_job(ctx, "2002")
    imap = _imap(ctx)
    try:
        uid = _imap_uid(imap, job)
        _imap_fetch(imap, uid, "(BODY[])")
        _one_call(ctx, msgid, job, "2002", t0, "BODY[]")
        flags = _imap_fetch(imap, uid, "(FLAGS)")
        _check(b"\\Seen" in flags[0], "BODY[] did not set \\Seen: %r" % flags)
    finally:
        _logout(imap)


def test_tu_store_seen(ctx):
    """STORE +FLAGS (\\Seen) by the owner: exactly one call."""
    msgid, job, t0, _ = _user_job(ctx, "2003")
    imap = _imap(ctx)
    try:
        uid = _imap_uid(imap, job)
        typ, data = imap.uid("STORE", uid, "+FLAGS", "(\\Seen)")
        _check(typ == "OK", "STORE +FLAGS (\\Seen) failed: %r" % data)
        _one_call(ctx, msgid, job, "2003", t0, "STORE +FLAGS (\\Seen)")
    finally:
        _logout(imap)


def test_tu_pop3_retr(ctx):
    """POP3 RETR by the owner (then QUIT, which sets \\Seen): exactly one call."""
    msgid, job, t0, raw = _user_job(ctx, "2004")
    pop = _pop3(ctx)
    try:
        num = _pop3_find(pop, job)
        lines = pop.retr(num)[1]
        _check(libmail.message_body(b"\r\n".join(lines) + b"\r\n") == libmail.message_body(raw),
               "POP3 RETR returned a body different from the delivered mail")
    finally:
        pop.quit()
    _one_call(ctx, msgid, job, "2004", t0, "POP3 RETR")


def _doveadm_save(ctx, user, data):
    """Put DATA straight into USER's INBOX through Dovecot's storage (no SMTP, no milter)."""
    res = subprocess.run(["doveadm", "-c", ctx.stack["DOVECOT_CONFIG"], "save", "-u", user, "-m", "INBOX"],
                         input=data, capture_output=True, timeout=30)
    _check(res.returncode == 0, "doveadm save into %s's INBOX failed: %s" % (user, res.stderr.decode()))


def test_tu_forged_job_header(ctx):
    """A copy of alice's Trigger: user mail (her job id) saved into bob's INBOX and read by bob: no call, alice's job still waits."""
    msgid, job, t0, raw = _user_job(ctx, "2005", owner="alice")
    forged = raw.replace(msgid.encode(), ("<%s@forger.example>" % libmail.unique("forged")).encode())
    _doveadm_save(ctx, "bob", forged)
    imap = _imap(ctx)
    try:
        uid = _imap_uid(imap, job)
        _imap_fetch(imap, uid, "(BODY.PEEK[])")
        _imap_fetch(imap, uid, "(BODY[])")
    finally:
        _logout(imap)
    pop = _pop3(ctx)
    try:
        pop.retr(_pop3_find(pop, job))
    finally:
        pop.quit()
    _no_call(ctx, "2005", t0, "bob reading a mail with alice's job id")
    _check(_job_state(ctx, job) == "waiting-user",
           "alice's job %s is %r after bob read the forged copy, want waiting-user" % (job, _job_state(ctx, job)))
    refused = _wait_log(ctx, "dovecot.log", lambda l: "ctid refused job=%s" % job in l and "(bob)" in l)
    _check(refused, "dovecot.log has no 'ctid refused job=%s' line for bob's retrieval" % job)
    # the real owner still can: her own retrieval fires the job once
    imap = _imap(ctx, "alice")
    try:
        typ, data = imap.uid("SEARCH", None, "HEADER", "Message-ID", msgid)
        uids = data[0].split() if typ == "OK" and data[0] else []
        _check(len(uids) == 1, "alice's INBOX has %d mails with Message-ID %s" % (len(uids), msgid))
        _imap_fetch(imap, uids[0].decode(), "(BODY.PEEK[])")
        _one_call(ctx, msgid, job, "2005", t0, "alice reading her own request")
    finally:
        _logout(imap)


def _wait_log(ctx, name, predicate, timeout=5.0):
    """Lines of the stack's log NAME matching PREDICATE, polled until some appear or TIMEOUT."""
    deadline = time.monotonic() + timeout
    while True:
        with open(ctx.stack.log_path(name), encoding="utf-8", errors="replace") as f:
            found = [l for l in f if predicate(l)]
        if found or time.monotonic() >= deadline:
            return found
        time.sleep(0.2)


def _spool_file(ctx, user):
    return os.path.join(ctx.stack["CTI_PLUGIN_SPOOL"], user)


def _wait_spool_gone(ctx, user, timeout):
    deadline = time.monotonic() + timeout
    while os.path.exists(_spool_file(ctx, user)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not os.path.exists(_spool_file(ctx, user))


def test_tu_ctid_down_session_open(ctx):
    """ctid down during BODY.PEEK[]: the fetch succeeds, the report is queued; once ctid is back the open session resends it: one call."""
    msgid, job, t0, _ = _user_job(ctx, "2006")
    imap = _imap(ctx)
    try:
        uid = _imap_uid(imap, job)
        ctx.stack.service("stop", "ctid")
        try:
            started = time.monotonic()
            _imap_fetch(imap, uid, "(BODY.PEEK[])")
            took = time.monotonic() - started
            _check(took < 3.0, "BODY.PEEK[] took %.1f s with ctid down, want at most about cti_timeout" % took)
            spool = _spool_file(ctx, "bob")
            _check(os.path.exists(spool) and job in libmail.read_file(spool).decode(),
                   "the unacknowledged report of job %s is not in the plugin's spool %s" % (job, spool))
            time.sleep(SETTLE)  # at least one resend while ctid is away
        finally:
            ctx.stack.service("start", "ctid")
        # the session stays open (NOOPs) while the plugin's retry timer resends
        deadline = time.monotonic() + 15
        while not _calls(ctx, "2006", t0) and time.monotonic() < deadline:
            imap.noop()
            time.sleep(0.5)
        _one_call(ctx, msgid, job, "2006", t0, "a retrieval queued while ctid was down")
        _check(_wait_spool_gone(ctx, "bob", 5), "the plugin's spool still holds reports after delivery")
    finally:
        _logout(imap)


def test_tu_ctid_down_pop3_next_login(ctx):
    """ctid down during POP3 RETR+QUIT: queued; ctid back, bob's next login resends it: one call."""
    msgid, job, t0, _ = _user_job(ctx, "2001")
    ctx.stack.service("stop", "ctid")
    try:
        pop = _pop3(ctx)
        try:
            pop.retr(_pop3_find(pop, job))
        finally:
            pop.quit()
        _check(job in libmail.read_file(_spool_file(ctx, "bob")).decode(),
               "the unacknowledged RETR of job %s is not in the plugin's spool" % job)
    finally:
        ctx.stack.service("start", "ctid")
    _no_call(ctx, "2001", t0, "nothing (no login since ctid came back)")
    imap = _imap(ctx)  # a mail client's next poll: the login flushes the spool
    try:
        _one_call(ctx, msgid, job, "2001", t0, "a POP3 RETR queued while ctid was down")
    finally:
        _logout(imap)
    _check(_wait_spool_gone(ctx, "bob", 5), "the plugin's spool still holds reports after delivery")


def test_tu_not_after_expires(ctx):
    """A Trigger: user job nobody reads ends as expired at its Not-After, with one notification."""
    not_after = time.time() + 6
    msgid, job, t0, _ = _user_job(ctx, "2002", extra=[("Not-After", formatdate(not_after, usegmt=True))])
    found = find_mail(ctx.stack.maildir("alice"), in_reply_to(msgid), 30)
    _check(found is not None, "no notification for the unread request %s within 30 s" % msgid)
    fields, _ = result_fields(found[1])
    _check(fields and fields.get("status") == "expired" and fields.get("job-id") == job,
           "notification of unread job %s: %r, want Status: expired" % (job, fields))
    _check(time.time() >= not_after - 1.0, "job %s expired before its Not-After" % job)
    _check(_job_state(ctx, job) == "expired", "job %s is %r, want expired" % (job, _job_state(ctx, job)))
    _check(not _calls(ctx, "2002", t0), "the expired job dialled")
    # reading it afterwards does not dial either
    imap = _imap(ctx)
    try:
        _imap_fetch(imap, _imap_uid(imap, job), "(BODY.PEEK[])")
    finally:
        _logout(imap)
    _no_call(ctx, "2002", t0, "reading an expired job's mail")
    time.sleep(1.0)
    notes = [p for p in libmail.maildir_files(ctx.stack.maildir("alice"))
             if (libmail.parse(libmail.read_file(p)).get("In-Reply-To") or "").strip() == msgid]
    _check(len(notes) == 1, "%d notifications for the expired job %s, want one" % (len(notes), job))


def _restart_ctid_with(ctx, text):
    ctx.stack.service("stop", "ctid")
    with open(ctx.stack["CONFIG"], "w", encoding="utf-8") as f:
        f.write(text)
    ctx.stack.service("start", "ctid")


def test_tu_default_expiry(ctx):
    """Without Not-After an unread job expires after [ctid] user_trigger_expiry (60 s here) with one notification."""
    expiry = 60
    with open(ctx.stack["CONFIG"], encoding="utf-8") as f:
        original = f.read()
    _check("\n[ctid]\n" in original, "no [ctid] group in %s" % ctx.stack["CONFIG"])
    _restart_ctid_with(ctx, original.replace("\n[ctid]\n", "\n[ctid]\nuser_trigger_expiry=%d\n" % expiry, 1))
    try:
        msgid, job, t0, _ = _user_job(ctx, "2003")
    finally:
        _restart_ctid_with(ctx, original)  # the job keeps the deadline it was stored with
    found = find_mail(ctx.stack.maildir("alice"), in_reply_to(msgid), expiry + 20)
    _check(found is not None, "no notification for the unread request %s within %d s" % (msgid, expiry + 20))
    waited = time.time() - t0
    fields, _ = result_fields(found[1])
    _check(fields and fields.get("status") == "expired" and fields.get("job-id") == job,
           "notification of unread job %s: %r, want Status: expired" % (job, fields))
    _check(waited >= expiry - 1, "job %s expired after %.0f s, before user_trigger_expiry=%d" % (job, waited, expiry))
    _check(_job_state(ctx, job) == "expired", "job %s is %r, want expired" % (job, _job_state(ctx, job)))
    _check(not _calls(ctx, "2003", t0), "the expired job dialled")


def test_tu_dovecot_log_clean(ctx):
    """Dovecot's log (since this module's first test) has no Error:, Fatal: or Panic: line and no failed initialization."""
    _mark_dovecot_log(ctx)
    with open(ctx.stack.log_path("dovecot.log"), "rb") as f:
        f.seek(_dovecot_log_start)
        lines = f.read().decode(errors="replace").splitlines()
    bad = [l for l in lines if re.search(r"\b(Error|Fatal|Panic):", l) or "initialization failed" in l]
    _check(not bad, "dovecot.log has %d bad lines, first: %s" % (len(bad), bad[:3]))


TESTS = [
    test_tu_header_access_then_body_peek,
    test_tu_body_fetch_non_peek,
    test_tu_store_seen,
    test_tu_pop3_retr,
    test_tu_forged_job_header,
    test_tu_ctid_down_session_open,
    test_tu_ctid_down_pop3_next_login,
    test_tu_not_after_expires,
    test_tu_default_expiry,
    test_tu_dovecot_log_clean,
]
