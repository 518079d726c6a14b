"""test_skeleton - the walking skeleton end to end: SMTP in, CSTA out, a
notification back, against a real stack (Postfix, Dovecot, cti-milter, ctid,
pbx-sim).  Each test raises AssertionError with a message a person can act on.
"""
import os
import time

import libmail
from libmail import request_mail, send, find_mail, in_reply_to, header_is, result_fields
from libpbx import control

NOTIFY_TIMEOUT = 30.0


def _check(cond, message):
    if not cond:
        raise AssertionError(message)


def _notification(ctx, user, msgid, timeout=NOTIFY_TIMEOUT):
    found = find_mail(ctx.stack.maildir(user), in_reply_to(msgid), timeout)
    _check(found is not None,
           "no notification with In-Reply-To %s in %s's Maildir after %.0f s" % (msgid, user, timeout))
    path, msg = found
    fields, attempts = result_fields(msg)
    _check(fields is not None, "notification %s has no application/x-cti-result part" % path)
    return msg, fields, attempts


def _hang_up(ctx, device):
    """The person at DEVICE puts the phone down (pbx-sim control socket), so the number is free again."""
    reply = control(ctx.stack["PBX_CONTROL"], "hangup " + device)
    _check(reply.get("ok"), "pbx-sim could not hang up %s: %r" % (device, reply))


def _submit(ctx, fields, sender="alice"):
    msg = request_mail(ctx.stack, sender, fields)
    msgid = msg["Message-ID"]
    t0 = time.time()
    res = send(ctx.stack, sender, ctx.stack["CTI_ADDRESS"], libmail.as_bytes(msg))
    _check(res.code == 250, "request %s was not accepted: %d %s" % (msgid, res.code, res.text))
    return msgid, t0


def test_connect_success(ctx):
    """2001 -> 0312345678 answers: MakeCall, EstablishedEvent, Status: success, request kept in call's Maildir."""
    rid = libmail.unique("connect")
    msgid, t0 = _submit(ctx, [("Action", "connect"), ("Source", "2001"),
                              ("Destination", "0312345678"), ("Request-Id", rid)])
    calls = ctx.pbx.wait(lambda: ctx.pbx.rx("MakeCall", t0, callingDevice="2001",
                                            calledDirectoryNumber="0312345678"))
    _check(calls, "pbx-sim received no MakeCall 2001 -> 0312345678")
    est = ctx.pbx.wait(lambda: ctx.pbx.tx("EstablishedEvent", calls[0]["wall"]))
    _check(est, "pbx-sim sent no EstablishedEvent after the MakeCall")
    msg, fields, _ = _notification(ctx, "alice", msgid)
    _check(fields.get("status") == "success", "Status is %r, want success (%r)" % (fields.get("status"), fields))
    _check(fields.get("request-id") == rid, "Request-Id %r not echoed (%r)" % (rid, fields.get("request-id")))
    _check(msg.get("Auto-Submitted", "").startswith("auto-replied"), "notification lacks Auto-Submitted: auto-replied")
    _check(msg.get("Return-Path", "").strip() in ("<>", ""), "notification not from the null sender: %r" % msg.get("Return-Path"))
    kept = find_mail(ctx.stack.maildir("call"), header_is("Message-ID", msgid), 10)
    _check(kept is not None, "accepted request %s not delivered to call's Maildir" % msgid)
    _hang_up(ctx, "0312345678")


def test_busy(ctx):
    """0399999999 is busy: Status: failed and a reason that says busy."""
    msgid, t0 = _submit(ctx, [("Source", "2002"), ("Destination", "0399999999")])
    calls = ctx.pbx.wait(lambda: ctx.pbx.rx("MakeCall", t0, calledDirectoryNumber="0399999999"))
    _check(calls, "pbx-sim received no MakeCall to 0399999999")
    _, fields, _ = _notification(ctx, "alice", msgid)
    _check(fields.get("status") == "failed", "Status is %r, want failed (%r)" % (fields.get("status"), fields))
    _check("busy" in fields.get("reason", "").lower(), "Reason %r does not mention busy" % fields.get("reason"))


def test_monitor_timeout(ctx):
    """0388888888 never answers, Monitor-Time: 5: ClearConnection/ClearCall ~5 s after MakeCall, Status: timeout."""
    msgid, t0 = _submit(ctx, [("Source", "2003"), ("Destination", "0388888888"), ("Monitor-Time", "5")])
    calls = ctx.pbx.wait(lambda: ctx.pbx.rx("MakeCall", t0, calledDirectoryNumber="0388888888"))
    _check(calls, "pbx-sim received no MakeCall to 0388888888")
    start = calls[0]["wall"]
    clears = ctx.pbx.wait(lambda: ctx.pbx.rx("ClearConnection", start) + ctx.pbx.rx("ClearCall", start), 15)
    _check(clears, "no ClearConnection or ClearCall within 15 s of the MakeCall")
    delay = clears[0]["wall"] - start
    _check(4.0 <= delay <= 7.5, "the call was cleared %.2f s after MakeCall, want about 5 s" % delay)
    _, fields, _ = _notification(ctx, "alice", msgid)
    _check(fields.get("status") == "timeout", "Status is %r, want timeout (%r)" % (fields.get("status"), fields))


def _assert_not_taken(ctx, msgid, destination, t0):
    """Nothing of the mail MSGID left anywhere: queue, ctid spool, call's Maildir, and no MakeCall."""
    time.sleep(2.0)
    key = msgid.encode()
    for path in ctx.stack.queue_files():
        try:
            data = libmail.read_file(path)
        except OSError:
            continue
        _check(key not in data, "rejected mail %s is in the Postfix queue: %s" % (msgid, path))
    for path in ctx.stack.spool_files():
        try:
            data = libmail.read_file(path)
        except OSError:
            continue
        _check(key not in data, "rejected mail %s is in ctid's spool: %s" % (msgid, path))
    kept = find_mail(ctx.stack.maildir("call"), header_is("Message-ID", msgid), 0)
    _check(kept is None, "rejected mail %s was delivered to call's Maildir" % msgid)
    calls = ctx.pbx.rx("MakeCall", t0, calledDirectoryNumber=destination)
    _check(not calls, "a MakeCall to %s was placed for a rejected request" % destination)


def _reject_case(ctx, fields, field_name, destination):
    msg = request_mail(ctx.stack, "alice", fields)
    msgid = msg["Message-ID"]
    t0 = time.time()
    res = send(ctx.stack, "alice", ctx.stack["CTI_ADDRESS"], libmail.as_bytes(msg))
    _check(res.code == 550, "malformed request answered %d %s, want 550" % (res.code, res.text))
    _check(field_name.lower() in res.text.lower(), "the 550 text %r does not name %s" % (res.text, field_name))
    _assert_not_taken(ctx, msgid, destination, t0)


def test_malformed_monitor_time(ctx):
    """Monitor-Time: abc is refused at SMTP time with 550 naming the field; nothing queued, spooled or dialled."""
    _reject_case(ctx, [("Source", "2001"), ("Destination", "0377777777"), ("Monitor-Time", "abc")],
                 "Monitor-Time", "0377777777")


def test_malformed_unknown_field(ctx):
    """An unknown field is refused at SMTP time with 550 naming it; nothing queued, spooled or dialled."""
    _reject_case(ctx, [("Source", "2001"), ("Destination", "0377777777"), ("Colour", "blue")],
                 "Colour", "0377777777")


def test_extension_not_granted(ctx):
    """alice may not call from carol's extension 2009: 550 naming it, nothing queued, spooled or dialled."""
    _reject_case(ctx, [("Source", "2009"), ("Destination", "0377777777")], "2009", "0377777777")


def test_premium_destination_denied(ctx):
    """A premium-rate destination (0900...) is refused by the default policy: 550 naming the number."""
    _reject_case(ctx, [("Source", "2001"), ("Destination", "09001234567")], "0900", "09001234567")


def test_ctid_down_tempfail(ctx):
    """ctid stopped: 451 and the client keeps the mail; after ctid is back the same mail succeeds."""
    msg = request_mail(ctx.stack, "alice", [("Source", "2004"), ("Destination", "0312345678")])
    data = libmail.as_bytes(msg)
    msgid = msg["Message-ID"]
    ctx.stack.service("stop", "ctid")
    try:
        res = send(ctx.stack, "alice", ctx.stack["CTI_ADDRESS"], data)
        _check(res.code == 451, "with ctid down the request got %d %s, want 451" % (res.code, res.text))
        _check(res.text.startswith("4."), "451 text %r lacks a 4.x.x status" % res.text)
        time.sleep(0.5)
        _check(not any(msgid.encode() in libmail.read_file(p) for p in ctx.stack.queue_files()
                       if os.path.exists(p)), "tempfailed mail %s stayed in the Postfix queue" % msgid)
    finally:
        ctx.stack.service("start", "ctid")
    t0 = time.time()
    res = send(ctx.stack, "alice", ctx.stack["CTI_ADDRESS"], data)
    _check(res.code == 250, "resent request after ctid restart got %d %s" % (res.code, res.text))
    calls = ctx.pbx.wait(lambda: ctx.pbx.rx("MakeCall", t0, callingDevice="2004"))
    _check(calls, "no MakeCall from 2004 after the resend")
    _, fields, _ = _notification(ctx, "alice", msgid)
    _check(fields.get("status") == "success", "Status is %r, want success (%r)" % (fields.get("status"), fields))
    _hang_up(ctx, "0312345678")


def _plain_mail(ctx):
    body = ("Hello Bob,\r\n\r\n.a line starting with a dot\r\nFrom the start of a line\r\n"
            "trailing spaces   \r\n\ttab\r\n" + "x" * 900 + "\r\n\r\n-- \r\nAlice\r\n")
    msgid = "<%s@client.example>" % libmail.unique("plain")
    headers = ("From: %s\r\nTo: %s\r\nSubject: plain text, no CTI\r\nMessage-ID: %s\r\n"
               "Date: Wed, 25 Nov 2026 12:00:00 +0000\r\nMIME-Version: 1.0\r\n"
               "Content-Type: text/plain; charset=us-ascii\r\n\r\n") % (
        ctx.stack.address("alice"), ctx.stack.address("bob"), msgid)
    return msgid, (headers + body).encode("ascii")


def _binary_mail(ctx):
    from email.mime.application import MIMEApplication
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText
    blob = os.urandom(150 * 1024)
    msg = MIMEMultipart("mixed")
    msg["From"] = ctx.stack.address("alice")
    msg["To"] = ctx.stack.address("bob")
    msg["Subject"] = "binary attachment, no CTI"
    msg["Message-ID"] = "<%s@client.example>" % libmail.unique("binary")
    msg.attach(MIMEText("see attachment\n", "plain"))
    att = MIMEApplication(blob, "octet-stream")
    att.add_header("Content-Disposition", "attachment", filename="data.bin")
    msg.attach(att)
    return msg["Message-ID"], libmail.as_bytes(msg), blob


def _delivered_identical(ctx, msgid, data):
    found = find_mail(ctx.stack.maildir("bob"), header_is("Message-ID", msgid), 20)
    _check(found is not None, "mail %s not delivered to bob's Maildir" % msgid)
    path, _ = found
    raw = libmail.read_file(path)
    _check(libmail.message_body(raw) == libmail.message_body(data),
           "body of %s differs from what was sent (%d vs %d bytes)" % (
               path, len(libmail.message_body(raw)), len(libmail.message_body(data))))
    sent_headers = data.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    _check(sent_headers in raw, "the sent header block is not intact in %s" % path)
    return path


def test_plain_mail_passes(ctx):
    """A plain non-CTI mail reaches bob's Maildir with its body byte-identical."""
    msgid, data = _plain_mail(ctx)
    res = send(ctx.stack, "alice", ctx.stack.address("bob"), data)
    _check(res.code == 250, "plain mail refused: %d %s" % (res.code, res.text))
    _delivered_identical(ctx, msgid, data)


def test_binary_attachment_passes(ctx):
    """A multipart mail with a 150 KB binary attachment reaches bob byte-identical, attachment intact."""
    msgid, data, blob = _binary_mail(ctx)
    res = send(ctx.stack, "alice", ctx.stack.address("bob"), data)
    _check(res.code == 250, "multipart mail refused: %d %s" % (res.code, res.text))
    path = _delivered_identical(ctx, msgid, data)
    msg = libmail.parse(libmail.read_file(path))
    parts = [p for p in msg.walk() if p.get_filename() == "data.bin"]
    _check(parts and parts[0].get_payload(decode=True) == blob, "decoded attachment differs in %s" % path)


def test_imap_pop3_read(ctx):
    """A mail to carol is readable over IMAP (BODY.PEEK[]) and POP3 (RETR) with the stack's passwords."""
    import imaplib
    import poplib
    msgid, data = _plain_mail(ctx)
    data = data.replace(ctx.stack.address("bob").encode(), ctx.stack.address("carol").encode())
    res = send(ctx.stack, "alice", ctx.stack.address("carol"), data)
    _check(res.code == 250, "mail to carol refused: %d %s" % (res.code, res.text))
    found = find_mail(ctx.stack.maildir("carol"), header_is("Message-ID", msgid), 20)
    _check(found is not None, "mail %s not delivered to carol's Maildir" % msgid)
    want = libmail.message_body(data)
    imap = imaplib.IMAP4("127.0.0.1", int(ctx.stack["IMAP_PORT"]))
    try:
        imap.login("carol", ctx.stack.password("carol"))
        imap.select("INBOX", readonly=True)
        typ, nums = imap.search(None, "HEADER", "Message-ID", msgid)
        _check(typ == "OK" and nums[0].split(), "IMAP SEARCH does not find %s" % msgid)
        typ, fetched = imap.fetch(nums[0].split()[-1], "(BODY.PEEK[])")
        _check(typ == "OK", "IMAP FETCH failed: %r" % fetched)
        _check(libmail.message_body(fetched[0][1]) == want, "IMAP body differs from what was sent")
    finally:
        imap.logout()
    pop = poplib.POP3("127.0.0.1", int(ctx.stack["POP3_PORT"]), timeout=20)
    try:
        pop.user("carol")
        pop.pass_(ctx.stack.password("carol"))
        count = len(pop.list()[1])
        bodies = [b"\r\n".join(pop.retr(i)[1]) + b"\r\n" for i in range(1, count + 1)]
        _check(any(msgid.encode() in b and libmail.message_body(b) == want for b in bodies),
               "no POP3 message matches %s byte for byte" % msgid)
    finally:
        pop.quit()


def _user_job(ctx, source):
    """Send a Trigger: user request to the CTI address; (msgid, job id from X-CTI-Job, t0)."""
    msgid, t0 = _submit(ctx, [("Source", source), ("Destination", "0312345678"), ("Trigger", "user")])
    found = find_mail(ctx.stack.maildir("call"), header_is("Message-ID", msgid), 20)
    _check(found is not None, "Trigger: user request %s not delivered to call's Maildir" % msgid)
    job = (found[1].get("X-CTI-Job") or "").strip()
    _check(job, "delivered Trigger: user request has no X-CTI-Job header")
    time.sleep(1.0)
    _check(not ctx.pbx.rx("MakeCall", t0, callingDevice=source),
           "Trigger: user job dialled before the mailbox owner read the mail")
    return msgid, job, t0


def _fired(ctx, msgid, source, t0):
    calls = ctx.pbx.wait(lambda: ctx.pbx.rx("MakeCall", t0, callingDevice=source), 20)
    _check(calls, "no MakeCall from %s after the owner retrieved the mail" % source)
    _, fields, _ = _notification(ctx, "alice", msgid)
    _check(fields.get("status") == "success", "Status is %r, want success (%r)" % (fields.get("status"), fields))
    _hang_up(ctx, "0312345678")
    return calls


def test_trigger_user_imap(ctx):
    """Trigger: user: a header fetch does not dial; the owner's IMAP body fetch dials once, a second fetch not again."""
    import imaplib
    msgid, job, t0 = _user_job(ctx, "2005")
    imap = imaplib.IMAP4("127.0.0.1", int(ctx.stack["IMAP_PORT"]))
    try:
        imap.login("call", ctx.stack.password("call"))
        imap.select("INBOX")
        typ, nums = imap.search(None, "HEADER", "X-CTI-Job", job)
        _check(typ == "OK" and nums[0].split(), "IMAP SEARCH does not find the job %s" % job)
        num = nums[0].split()[-1]
        imap.fetch(num, "(BODY.PEEK[HEADER] FLAGS)")
        time.sleep(1.5)
        _check(not ctx.pbx.rx("MakeCall", t0, callingDevice="2005"), "a header-only IMAP fetch fired the job")
        imap.fetch(num, "(BODY.PEEK[])")
        _fired(ctx, msgid, "2005", t0)
        imap.fetch(num, "(BODY[])")
        time.sleep(1.5)
        _check(len(ctx.pbx.rx("MakeCall", t0, callingDevice="2005")) == 1, "a second retrieval dialled again")
    finally:
        imap.logout()


def test_trigger_user_pop3(ctx):
    """Trigger: user: POP3 TOP does not dial; RETR by the owner does."""
    import poplib
    msgid, job, t0 = _user_job(ctx, "2006")
    pop = poplib.POP3("127.0.0.1", int(ctx.stack["POP3_PORT"]), timeout=20)
    try:
        pop.user("call")
        pop.pass_(ctx.stack.password("call"))
        count = len(pop.list()[1])
        wanted = None
        for i in range(count, 0, -1):
            head = b"\n".join(pop.top(i, 0)[1])
            if job.encode() in head:
                wanted = i
                break
        _check(wanted is not None, "POP3 TOP finds no message with X-CTI-Job %s" % job)
        time.sleep(1.5)
        _check(not ctx.pbx.rx("MakeCall", t0, callingDevice="2006"), "POP3 TOP fired the job")
        pop.retr(wanted)
    finally:
        pop.quit()
    _fired(ctx, msgid, "2006", t0)


TESTS = [
    test_plain_mail_passes,
    test_binary_attachment_passes,
    test_imap_pop3_read,
    test_connect_success,
    test_busy,
    test_monitor_timeout,
    test_malformed_monitor_time,
    test_malformed_unknown_field,
    test_extension_not_granted,
    test_premium_destination_denied,
    test_ctid_down_tempfail,
    test_trigger_user_imap,
    test_trigger_user_pop3,
]
