"""test_abuse - who may make calls, through the private Postfix: every way a
sender might get a call placed that it may not, and the hygiene of what
comes back.  Each case states the SMTP code and enhanced status the client
must see and a text that says why, and checks that pbx-sim received no
MakeCall for it.  The stack's policy DB is seeded by scripts/stack: alice
2001-2006, bob 2007-2008, carol 2009-2010; the default destination rules
deny 00, +, 0900, 0137 and 118.
"""
import base64
import configparser
import os
import re
import smtplib
import time
from email.mime.application import MIMEApplication
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid

import libmail
from libmail import SendResult, find_mail, header_is, in_reply_to, request_mail

NOTIFY_TIMEOUT = 30.0


def _check(cond, message):
    if not cond:
        raise AssertionError(message)


def _smtp(stack, login, mail_from, data, rcpt=None):
    """Send DATA with MAIL FROM:<MAIL_FROM>, logged in as LOGIN (None: no AUTH)."""
    rcpt = rcpt or stack["CTI_ADDRESS"]
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=60) as smtp:
        smtp.ehlo("client.example")
        if login:
            smtp.login(login, stack.password(login))
        try:
            smtp.sendmail(mail_from, [rcpt], data)
        except smtplib.SMTPDataError as e:
            return SendResult(e.smtp_code, libmail._text(e.smtp_error))
        except smtplib.SMTPSenderRefused as e:
            return SendResult(e.smtp_code, libmail._text(e.smtp_error))
        except smtplib.SMTPRecipientsRefused as e:
            code, text = list(e.recipients.values())[0]
            return SendResult(code, libmail._text(text))
    return SendResult(250, "")


def _no_call(ctx, t0, destination, wait=2.0):
    time.sleep(wait)
    calls = ctx.pbx.rx("MakeCall", t0, calledDirectoryNumber=destination)
    _check(not calls, "a MakeCall to %s was placed for a refused request" % destination)


def _refused(ctx, res, code, status, words, destination, t0):
    _check(res.code == code, "answered %d %s, want %d %s" % (res.code, res.text, code, status))
    _check(res.text.startswith(status), "the reply %r does not carry %s" % (res.text, status))
    for w in words:
        _check(w.lower() in res.text.lower(), "the reply %r does not say %r" % (res.text, w))
    _no_call(ctx, t0, destination)


def _request(ctx, user, fields, **kw):
    msg = request_mail(ctx.stack, user, fields, **kw)
    return msg, libmail.as_bytes(msg)


def test_abuse_unauthenticated(ctx):
    """No SMTP AUTH: 550 5.7.1 saying how to authenticate; no call."""
    t0 = time.time()
    _, data = _request(ctx, "alice", [("Source", "2001"), ("Destination", "2003")])
    res = _smtp(ctx.stack, None, ctx.stack.address("alice"), data)
    _refused(ctx, res, 550, "5.7.1", ["not identified", "SMTP AUTH"], "2003", t0)


def test_abuse_not_granted(ctx):
    """bob, logged in, asks for alice's extension 2001: 550 5.7.1 naming 2001; no call."""
    t0 = time.time()
    _, data = _request(ctx, "bob", [("Source", "2001"), ("Destination", "2004")])
    res = _smtp(ctx.stack, "bob", ctx.stack.address("bob"), data)
    _refused(ctx, res, 550, "5.7.1", ["extension 2001", "bob"], "2004", t0)


def test_abuse_spoofed_from(ctx):
    """bob logs in but writes From: and MAIL FROM alice: the AUTH login counts, and alice's
    envelope sender is not bob's own; 550 5.7.1."""
    t0 = time.time()
    msg, data = _request(ctx, "alice", [("Source", "2002"), ("Destination", "2005")])
    _check(msg["From"] == ctx.stack.address("alice"), "test mail not from alice")
    res = _smtp(ctx.stack, "bob", ctx.stack.address("alice"), data)
    if res.code != 250 or res.text:
        _refused(ctx, res, 550, "5.7.1", ["envelope sender", "does not belong", "sender bob"], "2005", t0)
    else:
        raise AssertionError("a request with a spoofed From: was accepted")


def test_abuse_international_denied(ctx):
    """International destinations (00..., +...) under the default policy: 550 5.7.1 naming the rule."""
    for number, rule in (("0044 20 7946 0000", "deny 00"), ("+44 20 7946 0000", "deny +")):
        t0 = time.time()
        canonical = number.replace(" ", "")
        _, data = _request(ctx, "alice", [("Source", "2001"), ("Destination", number)])
        res = _smtp(ctx.stack, "alice", ctx.stack.address("alice"), data)
        _refused(ctx, res, 550, "5.7.1", ["rule", rule, canonical], canonical, t0)


def test_abuse_premium_denied(ctx):
    """Premium rate 0137...: 550 5.7.1 naming rule 4 (deny 0137)."""
    t0 = time.time()
    _, data = _request(ctx, "alice", [("Source", "2001"), ("Destination", "0137 123456")])
    res = _smtp(ctx.stack, "alice", ctx.stack.address("alice"), data)
    _refused(ctx, res, 550, "5.7.1", ["deny 0137"], "0137123456", t0)


def test_abuse_dial_string_injection(ctx):
    """A dial string (500&SIP/...) or a second number in Destination: 550 5.6.0 naming the field."""
    for value in ("500&SIP/evil.example", "2003;2004", "2003\tX"):
        t0 = time.time()
        _, data = _request(ctx, "alice", [("Source", "2001"), ("Destination", value)])
        res = _smtp(ctx.stack, "alice", ctx.stack.address("alice"), data)
        _refused(ctx, res, 550, "5.6.0", ["Destination"], "2003", t0)
        _check(not ctx.pbx.rx("MakeCall", t0, calledDirectoryNumber=value), "dial string reached the PBX")


def test_abuse_overlong_number(ctx):
    """16 digits (policy: at most 15) is 550 5.7.1; 25 digits is refused by the parser (5.6.0)."""
    t0 = time.time()
    _, data = _request(ctx, "alice", [("Source", "2001"), ("Destination", "0312345678901234")])
    res = _smtp(ctx.stack, "alice", ctx.stack.address("alice"), data)
    _refused(ctx, res, 550, "5.7.1", ["16 digits", "at most 15"], "0312345678901234", t0)
    long_number = "0" + "3" * 24
    _, data = _request(ctx, "alice", [("Source", "2001"), ("Destination", long_number)])
    res = _smtp(ctx.stack, "alice", ctx.stack.address("alice"), data)
    _refused(ctx, res, 550, "5.6.0", ["Destination", "digits"], long_number, t0)


def test_abuse_null_sender(ctx):
    """MAIL FROM:<> (a bounce): never executed, 550 5.7.1; no call."""
    t0 = time.time()
    _, data = _request(ctx, "alice", [("Source", "2001"), ("Destination", "2006")])
    res = _smtp(ctx.stack, "alice", "", data)
    _refused(ctx, res, 550, "5.7.1", ["null sender"], "2006", t0)


def test_abuse_auto_submitted(ctx):
    """Auto-Submitted: auto-replied (a vacation reply quoting a request): 550 5.7.1; no call."""
    t0 = time.time()
    msg = request_mail(ctx.stack, "alice", [("Source", "2001"), ("Destination", "2006")])
    msg["Auto-Submitted"] = "auto-replied"
    res = _smtp(ctx.stack, "alice", ctx.stack.address("alice"), libmail.as_bytes(msg))
    _refused(ctx, res, 550, "5.7.1", ["Auto-Submitted"], "2006", t0)


def _limits_config(ctx, values):
    """Set [limits] keys in the stack's mailcti.conf; the old text (to restore)."""
    path = ctx.stack["CONFIG"]
    old = open(path).read()
    cp = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    cp.optionxform = str
    cp.read_string(old)
    if not cp.has_section("limits"):
        cp.add_section("limits")
    for k, v in values.items():
        cp.set("limits", k, str(v))
    with open(path, "w") as f:
        cp.write(f, space_around_delimiters=False)
    return old


def _recent_jobs_of(ctx, login):
    """Jobs the stack's ctid stored in the last hour under LOGIN's rate key (read-only)."""
    db = ctx.stack.jobs_db()
    try:
        row = db.execute("SELECT rate_key FROM jobs WHERE auth_authen = ? AND rate_key IS NOT NULL "
                         "ORDER BY created DESC LIMIT 1", (login,)).fetchone()
        if row is None:
            return 0
        return db.execute("SELECT count(*) FROM jobs WHERE rate_key = ? AND created > ?",
                          (row[0], int(time.time()) - 3600)).fetchone()[0]
    finally:
        db.close()


def test_abuse_rate_limit(ctx):
    """Over per_sender_per_hour: 450 4.7.1 naming the limit, the client keeps the mail; no call; and a
    restart of ctid does not reset the count.

    ctid is restarted with per_sender_per_hour = bob's requests of the last hour + 2 (restored afterwards)."""
    limit = _recent_jobs_of(ctx, "bob") + 2
    old = _limits_config(ctx, {"per_sender_per_hour": limit, "over_limit": "tempfail"})
    try:
        ctx.stack.service("stop", "ctid")
        ctx.stack.service("start", "ctid")
        t0 = time.time()
        for dest in ("2001", "2002"):
            _, data = _request(ctx, "bob", [("Source", "2007"), ("Destination", dest)])
            res = _smtp(ctx.stack, "bob", ctx.stack.address("bob"), data)
            _check(res.code == 250, "request %d of the hour answered %d %s" % (int(dest[-1]), res.code, res.text))
        _, data = _request(ctx, "bob", [("Source", "2008"), ("Destination", "2003")])
        res = _smtp(ctx.stack, "bob", ctx.stack.address("bob"), data)
        _refused(ctx, res, 450, "4.7.1", ["rate limit", "%d requests per hour" % limit], "2003", t0)
        # the counters come back from the store: a restart is no way around the limit
        ctx.stack.service("stop", "ctid")
        ctx.stack.service("start", "ctid")
        res = _smtp(ctx.stack, "bob", ctx.stack.address("bob"), data)
        _refused(ctx, res, 450, "4.7.1", ["rate limit", "%d requests per hour" % limit], "2003", t0)
    finally:
        with open(ctx.stack["CONFIG"], "w") as f:
            f.write(old)
        ctx.stack.service("stop", "ctid")
        ctx.stack.service("start", "ctid")


def test_abuse_forged_job_header(ctx):
    """X-CTI-Job and X-CTI-Hop headers from outside never reach a mailbox (no forged user trigger)."""
    msg = MIMEText("hello\n")
    msg["From"] = ctx.stack.address("alice")
    msg["To"] = ctx.stack.address("bob")
    msg["Subject"] = "forged"
    msg["Message-ID"] = make_msgid(domain="client.example")
    msg["Date"] = formatdate()
    msg["X-CTI-Job"] = "0123456789abcdef0123456789abcdef"
    msg["X-CTI-Hop"] = "gw-evil; Thu, 1 Jan 2026 00:00:00 +0000"
    res = _smtp(ctx.stack, "alice", ctx.stack.address("alice"), libmail.as_bytes(msg),
                rcpt=ctx.stack.address("bob"))
    _check(res.code == 250, "plain mail answered %d %s" % (res.code, res.text))
    found = find_mail(ctx.stack.maildir("bob"), header_is("Message-ID", msg["Message-ID"]), 30)
    _check(found is not None, "the mail did not reach bob")
    _, got = found
    _check(got.get("X-CTI-Job") is None, "a forged X-CTI-Job header reached bob's mailbox")
    _check(got.get("X-CTI-Hop") is None, "a forged X-CTI-Hop header reached bob's mailbox")


def _log_tail(path, offset):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read().decode("utf-8", "replace")


def _queue_id(stack, msgid, timeout=10.0):
    """The Postfix queue id of the mail with MSGID, from the maillog."""
    deadline = time.monotonic() + timeout
    while True:
        for line in _log_tail(stack.log_path("maillog"), 0).splitlines():
            m = re.search(r"cleanup\[\d+\]: ([0-9A-F]+): message-id=%s" % re.escape(msgid), line)
            if m:
                return m.group(1)
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.2)


def test_abuse_unseen_forged_headers(ctx):
    """Mail that cannot be a request (no AUTH, no trusted client, not to a request address) is
    accepted by cti-milter at DATA without being read; Postfix's header_checks still remove forged
    X-CTI-Job and X-CTI-Notification headers.  ctid's own notifications, which come in through
    pickup with X-CTI-Notification, are still confirmed by the milter and delivered."""
    stack = ctx.stack
    milter_log = stack.log_path("milter.log")
    start = os.path.getsize(milter_log)
    msg = MIMEText("hello\n")
    msg["From"] = "outsider@client.example"
    msg["To"] = stack.address("bob")
    msg["Subject"] = "forged, unauthenticated"
    msg["Message-ID"] = make_msgid(domain="client.example")
    msg["Date"] = formatdate()
    msg["X-CTI-Job"] = "0123456789abcdef0123456789abcdef"
    msg["X-CTI-Notification"] = "0123456789abcdef0123456789abcdef 00112233445566778899aabbccddeeff 1"
    res = _smtp(stack, None, "outsider@client.example", libmail.as_bytes(msg), rcpt=stack.address("bob"))
    _check(res.code == 250, "plain mail answered %d %s" % (res.code, res.text))
    found = find_mail(stack.maildir("bob"), header_is("Message-ID", msg["Message-ID"]), 30)
    _check(found is not None, "the mail did not reach bob")
    _, got = found
    _check(got.get("X-CTI-Job") is None, "a forged X-CTI-Job header reached bob's mailbox")
    _check(got.get("X-CTI-Notification") is None, "a forged X-CTI-Notification header reached bob's mailbox")
    qid = _queue_id(stack, msg["Message-ID"])
    _check(qid is not None, "no queue id for %s in the maillog" % msg["Message-ID"])
    seen = [line for line in _log_tail(milter_log, start).splitlines() if qid in line or "header" in line]
    _check(not seen, "cti-milter read the mail it should have accepted unseen: %s" % seen[:3])

    start = os.path.getsize(milter_log)
    req, data = _request(ctx, "alice", [("Source", "2001"), ("Destination", "2004"), ("Notify", "yes")])
    res = _smtp(stack, "alice", stack.address("alice"), data)
    _check(res.code == 250, "request answered %d %s" % (res.code, res.text))
    found = find_mail(stack.maildir("alice"), in_reply_to(req["Message-ID"]), NOTIFY_TIMEOUT)
    _check(found is not None, "no notification for the request")
    _check(found[1].get("X-CTI-Notification") is None, "the notification kept its X-CTI-Notification header")
    confirmed = [line for line in _log_tail(milter_log, start).splitlines()
                 if re.search(r": notification \S+ \S+ \S+ confirmed", line)]
    _check(confirmed, "cti-milter logged no confirmed notification")


def test_abuse_crlf_request_id(ctx):
    """CR/LF smuggled into Request-Id (base64 part) never becomes a header of the notification."""
    t0 = time.time()
    msg = MIMEMultipart("mixed")
    msg["From"] = ctx.stack.address("alice")
    msg["To"] = ctx.stack["CTI_ADDRESS"]
    msg["Subject"] = "call"
    msg["Date"] = formatdate()
    msg["Message-ID"] = make_msgid(domain="client.example")
    msg.attach(MIMEText("call\n"))
    text = b"Source: 2001\r\nDestination: 2004\r\nRequest-Id: ref1\rX-Injected: yes\r\n"
    part = MIMEApplication(text, "x-cti", _encoder=lambda p: (
        p.set_payload(base64.encodebytes(text).decode()), p.add_header("Content-Transfer-Encoding", "base64")))
    msg.attach(part)
    res = _smtp(ctx.stack, "alice", ctx.stack.address("alice"), libmail.as_bytes(msg))
    if res.code == 550:
        _check(res.text.startswith("5.6.0"), "refused with %s, want 5.6.0" % res.text)
        _no_call(ctx, t0, "2004")
        return
    _check(res.code == 250, "answered %d %s" % (res.code, res.text))
    found = find_mail(ctx.stack.maildir("alice"), in_reply_to(msg["Message-ID"]), NOTIFY_TIMEOUT)
    _check(found is not None, "no notification for the request")
    _, note = found
    _check(note.get("X-Injected") is None, "CR/LF in Request-Id injected a notification header")


def test_abuse_forwarded_request(ctx):
    """A request inside a forwarded message (message/rfc822) is not executed: it passes as mail."""
    t0 = time.time()
    inner = request_mail(ctx.stack, "carol", [("Source", "2009"), ("Destination", "2005")])
    outer = MIMEMultipart("mixed")
    outer["From"] = ctx.stack.address("bob")
    outer["To"] = ctx.stack["CTI_ADDRESS"]
    outer["Subject"] = "Fwd: call request"
    outer["Date"] = formatdate()
    outer["Message-ID"] = make_msgid(domain="client.example")
    outer.attach(MIMEText("see below\n"))
    outer.attach(MIMEMessage(inner))
    res = _smtp(ctx.stack, "bob", ctx.stack.address("bob"), libmail.as_bytes(outer))
    _check(res.code in (250, 550), "answered %d %s" % (res.code, res.text))
    _no_call(ctx, t0, "2005", wait=3.0)


TESTS = [
    test_abuse_unauthenticated,
    test_abuse_not_granted,
    test_abuse_spoofed_from,
    test_abuse_international_denied,
    test_abuse_premium_denied,
    test_abuse_dial_string_injection,
    test_abuse_overlong_number,
    test_abuse_null_sender,
    test_abuse_auto_submitted,
    test_abuse_rate_limit,
    test_abuse_forged_job_header,
    test_abuse_unseen_forged_headers,
    test_abuse_crlf_request_id,
    test_abuse_forwarded_request,
]
