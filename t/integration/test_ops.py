"""test_ops - the operators' and clients' tools against a real stack:
cti-send (composition, SMTP submission with AUTH, waiting on a Maildir and
over IMAP, the direct channel over ctid's socket), ctictl jobs/status/stats/
config/watch/explain, and the installed tree of "make install DESTDIR=...".
Each test raises AssertionError with a message a person can act on.
"""
import email
import email.policy
import io
import json
import os
import shutil
import smtplib
import subprocess
import tempfile
import time
import wave

import libmail
from libmail import find_mail, in_reply_to, result_fields
from libpbx import control

WAIT = 60


def _check(cond, message):
    if not cond:
        raise AssertionError(message)


def _bin(ctx, name):
    sub = {"cti-send": "cli", "ctictl": "cli"}[name]
    return os.path.join(ctx.stack["BUILD_DIR"], sub, name)


def _ctictl(ctx, *args, stdin=None, binary=None):
    cmd = [binary or _bin(ctx, "ctictl"), "-c", ctx.stack["CONFIG"]] + list(args)
    return subprocess.run(cmd, input=stdin, capture_output=True, timeout=60)


def _ctictl_json(ctx, *args):
    return ctx.stack.ctictl_json(*args)


def _password_file(ctx, user):
    fd, path = tempfile.mkstemp(prefix="ops-pw.")
    with os.fdopen(fd, "w") as f:
        f.write(ctx.stack.password(user) + "\n")
    return path


def _send(ctx, *args, user="alice", binary=None, timeout=120, gateway=None):
    """cti-send with the stack's SMTP submission as USER (to GATEWAY, default the CTI address)."""
    pw = _password_file(ctx, user)
    try:
        cmd = [binary or _bin(ctx, "cti-send"), "--from", ctx.stack.address(user),
               "--gateway", gateway or ctx.stack["CTI_ADDRESS"],
               "--smtp", "127.0.0.1:%s" % ctx.stack["SMTP_PORT"], "--user", user,
               "--password-file", pw] + list(args)
        return subprocess.run(cmd, capture_output=True, timeout=timeout)
    finally:
        os.unlink(pw)


def _direct(ctx, *args, binary=None):
    cmd = [binary or _bin(ctx, "cti-send"), "-c", ctx.stack["CONFIG"], "--direct",
           "--from", ctx.stack.address("alice"), "--gateway", ctx.stack["CTI_ADDRESS"]] + list(args)
    return subprocess.run(cmd, capture_output=True, timeout=120)


def _hang_up(ctx, device):
    reply = control(ctx.stack["PBX_CONTROL"], "hangup " + device)
    _check(reply.get("ok"), "pbx-sim could not hang up %s: %r" % (device, reply))


def _job_of(ctx, message_id):
    """The JOBS record whose Message-Id is MESSAGE_ID (waits a little for it)."""
    for _ in range(100):
        for job in _ctictl_json(ctx, "jobs", "list", "--limit", "50"):
            if job.get("Message-Id") == "<%s>" % message_id:
                return job
        time.sleep(0.1)
    raise AssertionError("no job for Message-ID %s in ctictl jobs list" % message_id)


def _submitted_id(res):
    out = res.stdout.decode()
    _check("submitted <" in out, "cti-send did not report a submission: %r %r" % (out, res.stderr.decode()))
    return out.split("submitted <", 1)[1].split(">", 1)[0]


def _wav(seconds=0.5):
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x10" * int(8000 * seconds))
    return buf.getvalue()


# ---------------------------------------------------------------- cti-send

def test_send_print_mime(ctx):
    """cti-send --print: multipart/mixed, the x-cti part, attachments with types and RFC 2231 names."""
    tmp = tempfile.mkdtemp(prefix="ops-send.")
    try:
        wav = os.path.join(tmp, "Grüße.wav")
        pdf = os.path.join(tmp, "memo.pdf")
        with open(wav, "wb") as f:
            f.write(_wav())
        with open(pdf, "wb") as f:
            f.write(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
        res = subprocess.run([_bin(ctx, "cti-send"), "--print", "--from", "alice@pbx.example",
                              "--gateway", "call@pbx.example", "--source", "2001", "--to", "0312345678",
                              "--retry", "3; interval=10m", "--monitor-time", "90s", "--request-id", "R-7",
                              "--play", wav, "--say", "Heiß ist es", "--fax", pdf],
                             capture_output=True, timeout=30)
        _check(res.returncode == 0, "cti-send --print failed: %s" % res.stderr.decode())
        msg = email.message_from_bytes(res.stdout, policy=email.policy.default)
        _check(msg.get_content_type() == "multipart/mixed", "top type %s" % msg.get_content_type())
        _check(msg["To"] == "call@pbx.example" and msg["Message-ID"], "bad headers: %r" % dict(msg))
        parts = list(msg.iter_parts())
        types = [p.get_content_type() for p in parts]
        _check(types[:2] == ["text/plain", "application/x-cti"], "part types %r" % types)
        req = parts[1].get_content()
        req = req.decode() if isinstance(req, bytes) else req
        for line in ("Source: 2001", "Destination: 0312345678", "Retry: 3; interval=10m",
                     "Monitor-Time: 90s", "Request-Id: R-7"):
            _check(line in req, "%r missing from the x-cti part:\n%s" % (line, req))
        audio = [p for p in parts if p.get_content_maintype() == "audio"]
        _check(len(audio) == 1, "no audio part among %r" % types)
        _check(audio[0].get_filename() == "Grüße.wav", "audio file name %r" % audio[0].get_filename())
        _check(audio[0].get_content() == _wav(), "the WAV does not survive base64")
        say = [p for p in parts if p.get_filename() == "say-1.txt"]
        _check(say and say[0].get_content().strip() == "Heiß ist es", "say part wrong: %r" % say)
        _check(say[0].get_content_disposition() == "attachment", "say part is not an attachment")
        fax = [p for p in parts if p.get_filename() == "memo.pdf"]
        _check(fax and fax[0].get_content_type() == "application/pdf", "fax part wrong: %r" % types)
    finally:
        shutil.rmtree(tmp)


def test_send_smtp_wait_success(ctx):
    """cti-send --smtp with AUTH and --wait on the Maildir: the call is placed, exit status 0."""
    t0 = time.time()
    res = _send(ctx, "--source", "2003", "--to", "0312345678", "--wait",
                "--maildir", ctx.stack.maildir("alice"), "--wait-time", str(WAIT))
    try:
        _check(res.returncode == 0, "exit %d, want 0: %s %s" % (res.returncode, res.stdout.decode(), res.stderr.decode()))
        _check(b"success" in res.stdout, "no success printed: %r" % res.stdout)
        calls = ctx.pbx.rx("MakeCall", t0, callingDevice="2003", calledDirectoryNumber="0312345678")
        _check(calls, "pbx-sim received no MakeCall 2003 -> 0312345678")
    finally:
        _hang_up(ctx, "2003")


def test_send_wait_failed_busy(ctx):
    """A busy destination: cti-send --wait prints the status with its reason ("failed: ... busy") and exits 1."""
    res = _send(ctx, "--source", "2004", "--to", "0399999999", "--wait",
                "--maildir", ctx.stack.maildir("alice"), "--wait-time", str(WAIT))
    _check(res.returncode == 1, "exit %d, want 1 (failed): %s %s" % (res.returncode, res.stdout.decode(), res.stderr.decode()))
    last = res.stdout.decode().strip().splitlines()[-1]
    _check(last.startswith("failed: ") and "busy" in last, "the result line is %r, want 'failed: <reason>' naming busy" % last)


def test_send_wait_imap(ctx):
    """--wait over IMAP (libcurl) finds the notification in alice's INBOX: exit 0."""
    try:
        res = _send(ctx, "--source", "2005", "--to", "0312345678", "--wait", "--imap",
                    "imap://127.0.0.1:%s/INBOX" % ctx.stack["IMAP_PORT"], "--wait-time", str(WAIT))
        _check(res.returncode == 0, "exit %d, want 0: %s %s" % (res.returncode, res.stdout.decode(), res.stderr.decode()))
    finally:
        _hang_up(ctx, "2005")


def test_send_refused_reports_reply(ctx):
    """A request for an extension not granted: the 5.x.x text reaches the user, exit 3."""
    res = _send(ctx, "--source", "2009", "--to", "0312345678")
    _check(res.returncode == 3, "exit %d, want 3" % res.returncode)
    _check(b"550" in res.stderr and b"2009" in res.stderr, "the SMTP reply is not shown: %r" % res.stderr)
    _check(b"refused the request: 550 5.7.1 " in res.stderr and b"Weird" not in res.stderr,
           "the refusal is not shown as the server's code and text: %r" % res.stderr)


# ---------------------------------------------------------------- ctictl

def test_ctictl_status_stats_config(ctx):
    """status: link up and queue counts; stats: outcomes and time to answer; config -n: the stack's settings."""
    st = _ctictl_json(ctx, "status")
    _check(st.get("Link") == "up", "Link is %r" % st.get("Link"))
    _check(_ctictl(ctx, "status").returncode == 0, "ctictl status exits non-zero with the link up")
    _check(all(isinstance(st[k], int) for k in st if k.startswith("Jobs-") or k.endswith("Uptime")),
           "status --json: counts are not JSON numbers: %r" % st)
    _check("Jobs-queued" in st and "Uptime" in st and "Link-Since" in st, "status fields missing: %r" % st)
    _check(int(st.get("Link-Uptime", -1)) >= 0, "no Link-Uptime: %r" % st)
    stats = _ctictl_json(ctx, "stats")
    _check(isinstance(stats["Jobs"], int) and isinstance(stats["Answered"], int), "stats --json: %r" % stats)
    _check(int(stats["Jobs"]) >= int(stats["Jobs-success"]) >= 1, "stats: %r" % stats)
    _check(int(stats["Answered"]) >= 1 and int(stats["Answer-P95-Ms"]) >= int(stats["Answer-Mean-Ms"]) * 0,
           "no time to answer: %r" % stats)
    _check(int(stats.get("Outcome-answered", 0)) == int(stats["Answered"]), "outcomes: %r" % stats)
    res = _ctictl(ctx, "config", "-n")
    out = res.stdout.decode()
    _check(res.returncode == 0 and "ctid.socket = %s" % ctx.stack["CTID_SOCKET"] in out, "config -n: %s" % out)
    _check("pbx.application_id" not in out, "config -n shows a default: %s" % out)


def test_version(ctx):
    """--version on every program prints configure's version and exits 0."""
    with open(os.path.join(ctx.stack["BUILD_DIR"], "build-config.h"), encoding="utf-8") as f:
        version = [l.split('"')[1] for l in f if l.startswith("#define PACKAGE_VERSION ")][0]
    for sub, name in (("daemon", "ctid"), ("filter", "cti-milter"), ("cli", "ctictl"), ("cli", "cti-send"),
                      ("pbx-sim", "pbx-sim")):
        res = subprocess.run([os.path.join(ctx.stack["BUILD_DIR"], sub, name), "--version"],
                             capture_output=True, text=True, timeout=30)
        _check(res.returncode == 0 and res.stdout == "%s (mailcti) %s\n" % (name, version),
               "%s --version: %d %r %r" % (name, res.returncode, res.stdout, res.stderr))


def test_ctictl_jobs_list_show(ctx):
    """jobs list filters by state, sender and age; jobs show gives the attempts and the request."""
    res = _send(ctx, "--source", "2006", "--to", "0312345678", "--wait",
                "--maildir", ctx.stack.maildir("alice"), "--wait-time", str(WAIT))
    _hang_up(ctx, "2006")
    mid = _submitted_id(res)
    job = _job_of(ctx, mid)
    _check(job["State"] == "success" and job["Source"] == "2006", "job: %r" % job)
    ids = [j["Job-Id"] for j in _ctictl_json(ctx, "jobs", "list", "--state", "success", "--age", "1h",
                                             "--sender", ctx.stack.address("alice"))]
    _check(job["Job-Id"] in ids, "filtered list lacks the job")
    ids = [j["Job-Id"] for j in _ctictl_json(ctx, "jobs", "list", "--state", "failed")]
    _check(job["Job-Id"] not in ids, "--state failed lists a successful job")
    show = _ctictl_json(ctx, "jobs", "show", job["Job-Id"])
    _check(len(show.get("Attempt", [])) == 1 and "answered" in show["Attempt"][0], "attempts: %r" % show)
    _check("Destination: 0312345678" in show.get("Request", ""), "request: %r" % show.get("Request"))
    res = _ctictl(ctx, "jobs", "show", "0" * 32)
    _check(res.returncode == 1, "show of an unknown job exits %d" % res.returncode)
    res = _ctictl(ctx, "jobs", "list", "--state", "bogus")
    _check(res.returncode == 2, "bad --state exits %d" % res.returncode)


def _wait_state(ctx, job_id, state, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if _ctictl_json(ctx, "jobs", "show", job_id)["State"] == state:
            return
        time.sleep(0.1)
    raise AssertionError("job %s never reached %s" % (job_id, state))


def test_ctictl_cancel(ctx):
    """jobs cancel on a ringing call: ClearConnection, state cancelled, one notification Status: cancelled."""
    res = _send(ctx, "--source", "2001", "--to", "0388888888", "--monitor-time", "5m")
    mid = _submitted_id(res)
    job = _job_of(ctx, mid)
    _wait_state(ctx, job["Job-Id"], "running")
    time.sleep(0.3)
    t0 = time.time()
    res = _ctictl(ctx, "jobs", "cancel", job["Job-Id"], "--reason", "test")
    _check(res.returncode == 0, "cancel failed: %s" % res.stderr.decode())
    _check(ctx.pbx.wait(lambda: ctx.pbx.rx("ClearConnection", t0), 10), "no ClearConnection after the cancel")
    found = find_mail(ctx.stack.maildir("alice"), in_reply_to("<%s>" % mid), WAIT)
    _check(found, "no notification for the cancelled job")
    fields, _ = result_fields(found[1])
    _check(fields.get("status") == "cancelled", "Status %r" % fields.get("status"))
    res = _ctictl(ctx, "jobs", "cancel", job["Job-Id"])
    _check(res.returncode == 1 and b"already cancelled" in res.stderr, "second cancel: %r" % res.stderr)


def test_ctictl_retry(ctx):
    """jobs retry re-opens a failed job for one more attempt and sends a second notification."""
    res = _send(ctx, "--source", "2002", "--to", "0399999999", "--wait",
                "--maildir", ctx.stack.maildir("alice"), "--wait-time", str(WAIT))
    mid = _submitted_id(res)
    job = _job_of(ctx, mid)
    _check(job["State"] == "failed", "job is %s, want failed" % job["State"])
    res = _ctictl(ctx, "jobs", "retry", job["Job-Id"])
    _check(res.returncode == 0 and b"attempt 2" in res.stdout, "retry: %r %r" % (res.stdout, res.stderr))
    _wait_state(ctx, job["Job-Id"], "failed")
    show = _ctictl_json(ctx, "jobs", "show", job["Job-Id"])
    _check(len(show.get("Attempt", [])) == 2, "attempts after retry: %r" % show.get("Attempt"))
    end = time.time() + WAIT
    while time.time() < end:
        n = sum(1 for p in libmail.maildir_files(ctx.stack.maildir("alice"))
                if in_reply_to("<%s>" % mid)(libmail.parse(libmail.read_file(p)), None))
        if n == 2:
            break
        time.sleep(0.2)
    _check(n == 2, "%d notifications after the retry, want 2" % n)
    ok = _send(ctx, "--source", "2001", "--to", "0312345678", "--wait",
               "--maildir", ctx.stack.maildir("alice"), "--wait-time", str(WAIT))
    _hang_up(ctx, "2001")
    done = _job_of(ctx, _submitted_id(ok))
    res = _ctictl(ctx, "jobs", "retry", done["Job-Id"])
    _check(res.returncode == 1, "retry of a successful job exits %d" % res.returncode)


def test_ctictl_watch(ctx):
    """watch streams one line per job change: queued, running, success, notified."""
    watch = subprocess.Popen([_bin(ctx, "ctictl"), "-c", ctx.stack["CONFIG"], "watch", "--json", "--count", "5"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(0.3)
        res = _send(ctx, "--source", "2003", "--to", "0312345678", "--wait",
                    "--maildir", ctx.stack.maildir("alice"), "--wait-time", str(WAIT))
        _hang_up(ctx, "2003")
        out, err = watch.communicate(timeout=30)
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()
    job = _job_of(ctx, _submitted_id(res))
    events = [json.loads(line) for line in out.decode().splitlines()]
    mine = [e for e in events if e["Job-Id"] == job["Job-Id"]]
    states = [e["State"] for e in mine]
    _check(states and states[0] == "queued" and "running" in states and "success" in states,
           "watched states %r (stderr %r)" % (states, err))
    _check(all(e["Queue-Id"] == job["Queue-Id"] for e in mine), "events not keyed by the queue id")


def test_direct_channel(ctx):
    """cti-send --direct: root acting for alice gets the RESULT frame; bob's extension is refused; root itself is not a sender."""
    t0 = time.time()
    res = _direct(ctx, "--identity", "alice", "--source", "2004", "--to", "0312345678",
                  "--wait", "--wait-time", str(WAIT))
    _hang_up(ctx, "2004")
    _check(res.returncode == 0, "direct --wait exit %d: %s %s" % (res.returncode, res.stdout.decode(), res.stderr.decode()))
    _check(ctx.pbx.rx("MakeCall", t0, callingDevice="2004"), "no MakeCall from 2004")
    job_id = res.stdout.decode().split("job ", 1)[1].split()[0]
    show = _ctictl_json(ctx, "jobs", "show", job_id)
    _check(show.get("Auth-Authen") == "alice" and show["State"] == "success", "direct job: %r" % show)
    res = _direct(ctx, "--identity", "alice", "--source", "2007", "--to", "0312345678", "--wait")
    _check(res.returncode == 3 and b"2007" in res.stderr, "not-granted direct: %d %r" % (res.returncode, res.stderr))
    res = _direct(ctx, "--source", "2001", "--to", "0312345678", "--wait")
    _check(res.returncode == 3 and b"not registered" in res.stderr, "root as sender: %d %r" % (res.returncode, res.stderr))
    res = _direct(ctx, "--identity", "alice", "--source", "2001", "--to", "0312345678")
    _check(res.returncode == 3 and b"Notify-To" in res.stderr, "no Notify-To, no wait: %r" % res.stderr)


def test_direct_channel_mail_result(ctx):
    """A direct request with Notify-To and no wait: the result comes by mail like any other."""
    res = _direct(ctx, "--identity", "alice", "--notify-to", ctx.stack.address("alice"),
                  "--source", "2005", "--to", "0399999999", "--request-id", "direct-mail")
    _check(res.returncode == 0, "direct exit %d: %r" % (res.returncode, res.stderr))
    job_id = res.stdout.decode().split("job ", 1)[1].split()[0]
    _wait_state(ctx, job_id, "failed")
    found = find_mail(ctx.stack.maildir("alice"),
                      lambda m, raw: b"direct-mail" in raw and b"x-cti-result" in raw, WAIT)
    _check(found, "no notification mail for the direct request")


def _explain(ctx, mail, *args):
    return _ctictl(ctx, "explain", "--json", *args, stdin=mail)


def test_ctictl_explain(ctx):
    """explain: a valid request executes here, a bad sender is refused, a routed prefix is relayed."""
    mail = subprocess.run([_bin(ctx, "cti-send"), "--print", "--from", ctx.stack.address("alice"),
                           "--gateway", ctx.stack["CTI_ADDRESS"], "--source", "2001", "--to", "0312345678",
                           "--say", "hello"], capture_output=True, timeout=30).stdout
    res = _explain(ctx, mail, "--auth", "alice", "--sender", ctx.stack.address("alice"))
    ex = json.loads(res.stdout.decode())
    _check(res.returncode == 0 and ex["verdict"] == "execute", "valid: %r" % ex)
    for part in ("identified as '%s'" % ctx.stack.address("alice"), "may use extension 2001", "allowed", "speech synthesis"):
        _check(part in ex["report"], "%r not in the report:\n%s" % (part, ex["report"]))
    res = _explain(ctx, mail, "--auth", "bob", "--sender", ctx.stack.address("bob"))
    ex = json.loads(res.stdout.decode())
    _check(res.returncode == 1 and ex["verdict"] == "refuse" and "2001" in ex["summary"], "bob: %r" % ex)
    _check(_ctictl(ctx, "gateway", "add", "ops-gw", "call@ops-gw.example").returncode == 0, "gateway add")
    try:
        _check(_ctictl(ctx, "route", "add", "0312345", "ops-gw").returncode == 0, "route add")
        res = _explain(ctx, mail, "--auth", "alice")
        ex = json.loads(res.stdout.decode())
        _check(res.returncode == 0 and ex["verdict"] == "relay" and "call@ops-gw.example" in ex["summary"],
               "relayed: %r" % ex)
    finally:
        _ctictl(ctx, "route", "del", "0312345")
        _ctictl(ctx, "gateway", "del", "ops-gw")


def test_dry_run_explanation_mail(ctx):
    """Dry-Run: yes by mail: an explanation mail replies to the request, nothing is dialled."""
    t0 = time.time()
    res = _send(ctx, "--source", "2002", "--to", "0312345678", "--dry-run", "--say", "hello")
    mid = _submitted_id(res)
    found = find_mail(ctx.stack.maildir("alice"), in_reply_to("<%s>" % mid), WAIT)
    _check(found, "no explanation mail replying to %s" % mid)
    msg = found[1]
    _check(msg["Subject"] == "CTI dry run: execute", "Subject %r" % msg["Subject"])
    body = msg.get_payload(decode=True).decode()
    for part in ("identified as '%s'" % ctx.stack.address("alice"), "may use extension 2002", "speech synthesis", "nothing was dialled"):
        _check(part in body, "%r not in the explanation:\n%s" % (part, body))
    _check(not ctx.pbx.rx("MakeCall", t0, callingDevice="2002"), "a dry run dialled")
    job = _job_of(ctx, mid)
    _check(job["State"] == "dry-run" and job["Attempts"] == 0, "dry-run job: %r" % job)
    stats = _ctictl_json(ctx, "stats")
    _check(any(k.lower() == "jobs-dry-run" and int(v) >= 1 for k, v in stats.items()),
           "ctictl stats does not count the dry run as one: %r" % stats)


def _explain_by_mail(ctx, *args):
    """A request mailed by alice to the explain address: (Message-ID, explanation mail, body)."""
    res = _send(ctx, *args, gateway=ctx.stack.address("explain"))
    _check(res.returncode == 0, "the explain address did not take the mail (exit %d): %s %s"
           % (res.returncode, res.stdout.decode(), res.stderr.decode()))
    mid = _submitted_id(res)
    found = find_mail(ctx.stack.maildir("alice"), in_reply_to("<%s>" % mid), WAIT)
    _check(found, "no explanation mail replying to %s" % mid)
    return mid, found[1], found[1].get_payload(decode=True).decode()


def test_explain_address(ctx):
    """Mail to explain@: explained (execute, refuse without a 550, relay), sent to the sender, never dialled."""
    t0 = time.time()
    explain_box = set(libmail.maildir_files(ctx.stack.maildir("explain")))
    carol_box = set(libmail.maildir_files(ctx.stack.maildir("carol")))
    mid, msg, body = _explain_by_mail(ctx, "--source", "2001", "--to", "0312345678", "--say", "hello")
    _check(msg["Subject"] == "CTI dry run: execute", "valid: Subject %r\n%s" % (msg["Subject"], body))
    for part in ("identified as '%s'" % ctx.stack.address("alice"), "may use extension 2001", "allowed", "speech synthesis",
                 "nothing was dialled"):
        _check(part in body, "%r not in the explanation:\n%s" % (part, body))
    job = _job_of(ctx, mid)
    _check(job["State"] == "dry-run" and job["Attempts"] == 0 and job["Recipient"] == ctx.stack.address("explain"),
           "explain job: %r" % job)
    # a Notify-To of someone else is refused by the real path, so the dry run says so, and
    # the explanation still goes to the sender only
    _, msg, body = _explain_by_mail(ctx, "--source", "2001", "--to", "0312345678",
                                    "--notify-to", ctx.stack.address("carol"))
    _check(msg["Subject"] == "CTI dry run: refuse" and "Notify-To" in body,
           "Notify-To carol: Subject %r\n%s" % (msg["Subject"], body))
    _, msg, body = _explain_by_mail(ctx, "--source", "2009", "--to", "0312345678")
    _check(msg["Subject"] == "CTI dry run: refuse", "not granted: Subject %r\n%s" % (msg["Subject"], body))
    _check("2009" in body and "may not use" in body, "the refusal is not explained:\n%s" % body)
    _check(_ctictl(ctx, "gateway", "add", "explain-gw", "call@explain-gw.example").returncode == 0, "gateway add")
    try:
        _check(_ctictl(ctx, "route", "add", "0312345", "explain-gw").returncode == 0, "route add")
        _, msg, body = _explain_by_mail(ctx, "--source", "2001", "--to", "0312345678")
    finally:
        _ctictl(ctx, "route", "del", "0312345")
        _ctictl(ctx, "gateway", "del", "explain-gw")
    _check(msg["Subject"] == "CTI dry run: relay" and "call@explain-gw.example" in body,
           "relayed: Subject %r\n%s" % (msg["Subject"], body))
    _check(ctx.stack.wait_queue_empty(), "mail left in the Postfix queue")
    with open(ctx.stack.log_path("maillog"), errors="replace") as f:
        _check("explain-gw.example" not in f.read(), "the explain request was relayed to the other gateway")
    calls = [c for c in ctx.pbx.rx("MakeCall", t0) if c["args"].get("callingDevice") in ("2001", "2009")]
    _check(not calls, "an explain request dialled: %r" % calls)
    _check(set(libmail.maildir_files(ctx.stack.maildir("explain"))) == explain_box,
           "request mails reached the explain mailbox")
    _check(set(libmail.maildir_files(ctx.stack.maildir("carol"))) == carol_box,
           "Notify-To got an explanation: only the envelope sender may")


def test_explain_address_shared(ctx):
    """A request to explain@ and bob: bob gets the mail, alice the explanation, nothing dialled; <> gets a 550."""
    t0 = time.time()
    explain_box = set(libmail.maildir_files(ctx.stack.maildir("explain")))
    mid = libmail.unique("explain-shared") + "@client.example"
    mail = libmail.request_mail(ctx.stack, "alice", [("Source", "2003"), ("Destination", "0312345678")],
                                msgid="<%s>" % mid)
    res = libmail.send(ctx.stack, "alice", [ctx.stack.address("explain"), ctx.stack.address("bob")],
                       libmail.as_bytes(mail))
    _check(res.code == 250, "explain + bob: %r" % res)
    found = find_mail(ctx.stack.maildir("alice"), in_reply_to("<%s>" % mid), WAIT)
    _check(found and found[1]["Subject"] == "CTI dry run: execute", "no explanation for alice: %r" % (found,))
    _check(find_mail(ctx.stack.maildir("bob"), libmail.header_is("Message-ID", "<%s>" % mid), WAIT),
           "bob did not get the request mail")
    _check(ctx.stack.wait_queue_empty(), "mail left in the Postfix queue")
    _check(set(libmail.maildir_files(ctx.stack.maildir("explain"))) == explain_box,
           "the request mail reached the explain mailbox")
    _check(not ctx.pbx.rx("MakeCall", t0, callingDevice="2003"), "an explain request dialled")
    with smtplib.SMTP("127.0.0.1", ctx.stack.smtp_port, timeout=60) as smtp:
        smtp.login("alice", ctx.stack.password("alice"))
        try:
            smtp.sendmail("<>", [ctx.stack.address("explain")], libmail.as_bytes(mail))
            code, text = 250, b""
        except smtplib.SMTPDataError as e:
            code, text = e.smtp_code, e.smtp_error
    _check(code == 550 and b"5.7.1" in text and b"has none" in text,
           "null sender to explain@: %d %r, want 550 5.7.1" % (code, text))


# ---------------------------------------------------------------- packaging

def test_install_destdir(ctx):
    """make install DESTDIR=...: every program, the plugin, man pages, schema, examples, units; the installed tools work."""
    dest = tempfile.mkdtemp(prefix="ops-install.")
    try:
        res = subprocess.run(["make", "-C", ctx.stack["BUILD_DIR"], "install", "DESTDIR=" + dest],
                             capture_output=True, timeout=600)
        _check(res.returncode == 0, "make install failed:\n%s" % res.stderr.decode()[-2000:])
        found = {}
        for root, _dirs, files in os.walk(dest):
            for f in files:
                found[f] = os.path.join(root, f)
        for name in ("ctid", "cti-milter", "ctictl", "cti-send", "pbx-sim", "ctictl.8", "cti-send.1",
                     "mailcti.conf.5", "mailcti.conf.example", "postfix-main.cf.example", "ctid.service",
                     "pbx-sim.service", "90-mailcti.conf"):
            _check(name in found, "%s not installed under %s" % (name, dest))
        _check(any(f.endswith(".sql") for f in found), "no schema installed")
        _check(any(f.startswith("lib90_cti_plugin") for f in found), "no Dovecot plugin installed")
        unit = open(found["ctid.service"]).read()
        _check("ExecStart=/" in unit and "@sbindir@" not in unit, "unit not substituted:\n%s" % unit)
        res = _ctictl(ctx, "status", "--json", binary=found["ctictl"])
        _check(res.returncode == 0 and json.loads(res.stdout.decode())["Link"] == "up",
               "installed ctictl status: %r" % res.stderr)
        res = _direct(ctx, "--identity", "alice", "--source", "2006", "--to", "0312345678",
                      "--wait", "--wait-time", str(WAIT), binary=found["cti-send"])
        _hang_up(ctx, "2006")
        _check(res.returncode == 0, "installed cti-send --direct: %d %r" % (res.returncode, res.stderr))
        res = subprocess.run([found["ctid"], "--help"], capture_output=True, timeout=10)
        _check(res.returncode == 0, "installed ctid --help exits %d" % res.returncode)
    finally:
        shutil.rmtree(dest)


TESTS = [
    test_send_print_mime,
    test_send_smtp_wait_success,
    test_send_wait_failed_busy,
    test_send_wait_imap,
    test_send_refused_reports_reply,
    test_ctictl_status_stats_config,
    test_version,
    test_ctictl_jobs_list_show,
    test_ctictl_cancel,
    test_ctictl_retry,
    test_ctictl_watch,
    test_direct_channel,
    test_direct_channel_mail_result,
    test_ctictl_explain,
    test_dry_run_explanation_mail,
    test_explain_address,
    test_explain_address_shared,
    test_install_destdir,
]
