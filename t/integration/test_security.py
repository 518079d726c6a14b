"""test_security - no sender acts on what is not theirs, through the private
Postfix and ctid's own socket.

Every case is an attack a logged-in (or not logged-in) client can try with
a real SMTP client (smtplib), or a local process with ctid's socket.  Each
states the SMTP reply the client must see, and checks on pbx-sim's log that
nothing reached the PBX that the sender may not do.  The stack's policy DB
(scripts/stack): alice 2001-2006, bob 2007-2008, carol 2009-2010, each
registered as login and as address; [identity] default_domain is the mail
domain, so "carol" and "carol@<domain>" are one account.
"""
import smtplib
import socket
import time
from contextlib import closing

import libmail
from libmail import find_all, header_is
from test_abuse import _check, _limits_config, _no_call, _refused, _request, _smtp

WAIT = 30.0
BUSY = "0399999999"  # pbx-sim answers busy: a call that is placed and over at once


def _no_pbx(ctx, t0, service, wait=2.0, **args):
    time.sleep(wait)
    seen = ctx.pbx.rx(service, t0, **args)
    _check(not seen, "pbx-sim received %s %r for a refused request: %r" % (service, args, seen))


def _restart_ctid(ctx):
    ctx.stack.service("stop", "ctid")
    ctx.stack.service("start", "ctid")


def _recent(ctx, key):
    """Jobs ctid accepted in the last hour under rate key KEY."""
    with closing(ctx.stack.jobs_db()) as db:
        return db.execute("SELECT count(*) FROM jobs WHERE rate_key = ? AND created > ?",
                          (key, int(time.time()) - 3600)).fetchone()[0]


def _key_of(ctx, msgid):
    with closing(ctx.stack.jobs_db()) as db:
        row = db.execute("SELECT rate_key FROM jobs WHERE message_id IN (?, ?)",
                         (msgid, "<%s>" % msgid)).fetchone()
    return row[0] if row else None


def test_security_forward_set_foreign(ctx):
    """alice diverts bob's 2007 to her 2001: 550 5.7.1 naming 2007; no RouteRegister(2007)."""
    t0 = time.time()
    _, data = _request(ctx, "alice", [("Action", "forward-set"), ("Source", "2001"),
                                      ("Destination", "2007"), ("Forward-To", "2001")])
    res = _smtp(ctx.stack, "alice", ctx.stack.address("alice"), data)
    _refused(ctx, res, 550, "5.7.1", ["forward-set the diversion of extension 2007"], "2001", t0)
    _no_pbx(ctx, t0, "RouteRegister", wait=0, routeingDevice="2007")


def test_security_forward_clear_foreign(ctx):
    """alice removes bob's diversion of 2007: 550 5.7.1; no RouteRegisterCancel."""
    t0 = time.time()
    _, data = _request(ctx, "alice", [("Action", "forward-clear"), ("Source", "2001"),
                                      ("Destination", "2007")])
    res = _smtp(ctx.stack, "alice", ctx.stack.address("alice"), data)
    _refused(ctx, res, 550, "5.7.1", ["forward-clear the diversion of extension 2007"], "2007", t0)
    _no_pbx(ctx, t0, "RouteRegisterCancel", wait=0)


def _bob_forward(ctx, fields):
    """bob's own forward request through Postfix: the result fields of its notification."""
    msg, data = _request(ctx, "bob", [("Source", "2007"), ("Destination", "2007")] + fields)
    res = _smtp(ctx.stack, "bob", ctx.stack.address("bob"), data)
    _check(res.code == 250, "bob's own %r answered %d %s" % (fields, res.code, res.text))
    found = libmail.find_mail(ctx.stack.maildir("bob"), libmail.in_reply_to(msg["Message-ID"]), WAIT)
    _check(found is not None, "no result for bob's %r" % fields)
    result, _ = libmail.result_fields(found[1])
    _check(result and result.get("status") == "success", "bob's %r: %r" % (fields, result))
    return result


def test_security_forward_retarget_reported(ctx):
    """bob diverts his own 2007 twice: the second result says which diversion it replaced."""
    try:
        _bob_forward(ctx, [("Action", "forward-set"), ("Forward-To", "2008")])
        result = _bob_forward(ctx, [("Action", "forward-set"), ("Forward-To", "2003")])
        text = " ".join(result.values())
        _check("were forwarded to 2008" in text and "replaced" in text and "2003" in text,
               "the re-targeted diversion is not reported: %r" % result)
    finally:
        _bob_forward(ctx, [("Action", "forward-clear")])


def test_security_sender_mismatch(ctx):
    """Logged in as alice with MAIL FROM bob (reject_sender_login_mismatch): 550 5.7.1; no call."""
    t0 = time.time()
    _, data = _request(ctx, "alice", [("Source", "2001"), ("Destination", "2005")])
    res = _smtp(ctx.stack, "alice", ctx.stack.address("bob"), data)
    _refused(ctx, res, 550, "5.7.1", ["envelope sender", ctx.stack.address("bob"), "does not belong"],
             "2005", t0)


def test_security_notify_to_other(ctx):
    """alice asks for the result to go to bob (Notify-To): 550 5.7.1; no call, no mail to bob."""
    t0 = time.time()
    msg, data = _request(ctx, "alice", [("Source", "2001"), ("Destination", "2006"),
                                        ("Notify-To", ctx.stack.address("bob"))])
    res = _smtp(ctx.stack, "alice", ctx.stack.address("alice"), data)
    _refused(ctx, res, 550, "5.7.1", ["Notify-To", "does not belong"], "2006", t0)
    _check(not find_all(ctx.stack.maildir("bob"), libmail.in_reply_to(msg["Message-ID"])),
           "bob got a result mail for alice's request")


def _smtp_login(stack, login, password, mail_from, data):
    """Send DATA logged in as LOGIN (any spelling of an account) with PASSWORD."""
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=60) as smtp:
        smtp.ehlo("client.example")
        smtp.login(login, password)
        try:
            smtp.sendmail(mail_from, [stack["CTI_ADDRESS"]], data)
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as e:
            return libmail.SendResult(e.smtp_code, libmail._text(e.smtp_error))
    return libmail.SendResult(250, "")


def test_security_one_account(ctx):
    """carol and carol@<domain> log in to one account: one rate budget, one rate key."""
    key = ctx.stack.address("carol")
    limit = _recent(ctx, key) + 2
    old = _limits_config(ctx, {"per_sender_per_hour": limit, "over_limit": "tempfail"})
    try:
        _restart_ctid(ctx)
        t0 = time.time()
        ids = []
        # a busy number: the calls end at once and leave no extension of others' tests in use
        for login in ("carol", key):
            msg, data = _request(ctx, "carol", [("Source", "2009"), ("Destination", BUSY)])
            res = _smtp_login(ctx.stack, login, ctx.stack.password("carol"), key, data)
            _check(res.code == 250, "login %s answered %d %s" % (login, res.code, res.text))
            _check(ctx.pbx.wait(lambda: ctx.pbx.rx("MakeCall", t0, callingDevice="2009"), WAIT),
                   "carol's call was not dialled")
            ids.append(msg["Message-ID"].strip("<>"))
        keys = {_key_of(ctx, i) for i in ids}
        _check(keys == {key}, "the two logins were counted under %r, want one key %r" % (keys, key))
        for login in ("carol", key):
            _, data = _request(ctx, "carol", [("Source", "2010"), ("Destination", "2004")])
            res = _smtp_login(ctx.stack, login, ctx.stack.password("carol"), key, data)
            _refused(ctx, res, 450, "4.7.1", ["rate limit", "%d requests per hour" % limit], "2004", t0)
    finally:
        with open(ctx.stack["CONFIG"], "w") as f:
            f.write(old)
        _restart_ctid(ctx)


def _explain_mail(ctx, user, fields):
    msg, data = _request(ctx, user, fields)
    return msg, data


def test_security_explain_unidentified(ctx):
    """explain@ without AUTH and a forged sender: 550 5.7.1, nothing mailed to the forged address;
    logged in as alice with MAIL FROM bob: refused the same way."""
    before = set(libmail.maildir_files(ctx.stack.maildir("bob")))
    msg, data = _explain_mail(ctx, "bob", [("Source", "2007"), ("Destination", "2003")])
    res = _smtp(ctx.stack, None, ctx.stack.address("bob"), data, rcpt=ctx.stack["EXPLAIN_ADDRESS"])
    _check(res.code == 550 and res.text.startswith("5.7.1"), "unidentified explain: %d %s" % (res.code, res.text))
    _check("explanation not sent" in res.text and "not identified" in res.text,
           "the reply does not say why: %r" % res.text)
    msg2, data = _explain_mail(ctx, "bob", [("Source", "2001"), ("Destination", "2003")])
    res = _smtp(ctx.stack, "alice", ctx.stack.address("bob"), data, rcpt=ctx.stack["EXPLAIN_ADDRESS"])
    _check(res.code == 550 and "does not belong" in res.text, "explain as alice for bob: %d %s"
           % (res.code, res.text))
    time.sleep(3)
    new = set(libmail.maildir_files(ctx.stack.maildir("bob"))) - before
    _check(not new, "mail reached bob's mailbox after refused explain requests: %r" % sorted(new))
    with closing(ctx.stack.jobs_db()) as db:
        for m in (msg, msg2):
            mid = m["Message-ID"].strip("<>")
            row = db.execute("SELECT 1 FROM jobs WHERE message_id IN (?, ?)",
                             (mid, "<%s>" % mid)).fetchone()
            _check(row is None, "ctid holds a job for a refused explain request")


def test_security_explain_budget(ctx):
    """Dry runs spend a budget of their own: bob's explanations up to the limit, then 450 4.7.1;
    his call budget is untouched and a call still goes through.  No explanation shows a path."""
    key = ctx.stack.address("bob")
    calls, explains = _recent(ctx, key), _recent(ctx, "explain:" + key)
    limit = max(calls, explains) + 2
    old = _limits_config(ctx, {"per_sender_per_hour": limit, "over_limit": "tempfail"})
    try:
        _restart_ctid(ctx)
        t0 = time.time()
        sent = []
        for _ in range(limit - explains):
            msg, data = _explain_mail(ctx, "bob", [("Source", "2007"), ("Destination", "2003")])
            res = _smtp(ctx.stack, "bob", key, data, rcpt=ctx.stack["EXPLAIN_ADDRESS"])
            _check(res.code == 250, "explain within the budget answered %d %s" % (res.code, res.text))
            sent.append(msg["Message-ID"])
        _, data = _explain_mail(ctx, "bob", [("Source", "2007"), ("Destination", "2003")])
        res = _smtp(ctx.stack, "bob", key, data, rcpt=ctx.stack["EXPLAIN_ADDRESS"])
        _check(res.code == 450 and res.text.startswith("4.7.1") and "rate limit" in res.text,
               "explain over its budget: %d %s" % (res.code, res.text))
        _, data = _request(ctx, "bob", [("Source", "2008"), ("Destination", BUSY)])
        res = _smtp(ctx.stack, "bob", key, data)
        _check(res.code == 250, "a call after the explain budget is spent: %d %s" % (res.code, res.text))
        _check(ctx.pbx.wait(lambda: ctx.pbx.rx("MakeCall", t0, callingDevice="2008"), WAIT),
               "the call was not dialled")
        _check(not ctx.pbx.rx("MakeCall", t0, callingDevice="2007"), "an explain request dialled")
        found = libmail.find_mail(ctx.stack.maildir("bob"), libmail.in_reply_to(sent[0]), WAIT)
        _check(found is not None, "no explanation mail for bob")
        body = found[1].get_payload(decode=True).decode()
        _check(ctx.stack.dir not in body and ".db" not in body,
               "the explanation prints a path of the host:\n%s" % body)
    finally:
        with open(ctx.stack["CONFIG"], "w") as f:
            f.write(old)
        _restart_ctid(ctx)


def _ipc(path, verb, fields, body):
    """One MCTI/1 frame to PATH and its reply as a dict (the framing of lib/ipc.h)."""
    esc = lambda v: v.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    head = "MCTI/1 %s\n" % verb + "".join("%s: %s\n" % (k, esc(v)) for k, v in fields)
    head += "Body-Length: %d\n\n" % len(body)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(path)
        s.sendall(head.encode() + body)
        buf = b""
        while b"\n\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    lines = buf.split(b"\n\n", 1)[0].decode().split("\n")
    reply = {"verb": lines[0].split(" ", 1)[-1]}
    for line in lines[1:]:
        k, _, v = line.partition(": ")
        reply[k] = v
    return reply


def test_security_ctid_socket(ctx):
    """A SUBMIT written straight to ctid's socket: the claimed Identity is not believed, ctid
    checks policy.db itself; REJECT with the reason, a log line, nothing dialled."""
    t0 = time.time()
    sock = ctx.stack["CTID_SOCKET"]
    cases = (
        # bob's extension for alice's login, with a forged Identity
        ([("Auth-Authen", "alice"), ("Identity", "bob"), ("Sender", ctx.stack.address("alice"))],
         "2007", "may not use extension 2007"),
        # no login at all, Identity only
        ([("Identity", ctx.stack.address("alice")), ("Sender", ctx.stack.address("alice"))],
         "2001", "not identified"),
    )
    for fields, source, why in cases:
        req = [("Source", source), ("Destination", "2003")]
        msg = libmail.request_mail(ctx.stack, "alice", req)
        reply = _ipc(sock, "SUBMIT", [("Request", libmail.request_text(req).replace("\r", "")),
                                      ("Recipient", ctx.stack["CTI_ADDRESS"])] + fields,
                     libmail.as_bytes(msg))
        _check(reply["verb"] == "REJECT" and why in reply.get("Reason", ""),
               "SUBMIT of %s: %r, want REJECT saying %r" % (source, reply, why))
        _no_pbx(ctx, t0, "MakeCall", callingDevice=source)
    with open(ctx.stack.log_path("ctid.log"), errors="replace") as f:
        log = f.read()
    _check("SUBMIT" in log and "rejected: not authorized" in log,
           "ctid logged no refusal of the forged SUBMIT")


TESTS = [test_security_forward_set_foreign, test_security_forward_clear_foreign,
         test_security_forward_retarget_reported,
         test_security_sender_mismatch, test_security_notify_to_other, test_security_one_account,
         test_security_explain_unidentified, test_security_explain_budget, test_security_ctid_socket]
