"""test_corpus - request mails as real mail clients write them: the milter, the
explanation and ctid must give each the same verdict.

The mails are made at test time by the clients themselves: mutt, neomutt and
s-nail compose a mail with call.cti attached (-a), their sendmail/mta set to a
small script that captures the message; swaks sends its own mail through the
stack's Postfix with SMTP AUTH (the message is taken from its transcript).
Thunderbird- and Outlook-style mails are files in corpus/ (base64
application/octet-stream; quoted-printable text/plain inside
multipart/alternative; CRLF).  mutt, neomutt and s-nail attach call.cti as
text/plain: it is the request all the same, and it is never spoken.

For every mail: `ctictl explain` and a mail to explain@ (as alice) give a
verdict; the mail sent as alice to the CTI address gives the milter's (250 and
a job, or 550); ctid's outcome is the notification's Status and pbx-sim's log
(MakeCall from the Source, no media played).  All must agree.
The forwarding case: alice forwards a request inline (keeping the attachment)
to bob, and bob replies keeping it: both are delivered, nothing is dialled.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid

import libmail
from libmail import find_mail, header_is, in_reply_to, result_fields, send

WAIT = 60.0
CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
DEST = "0312345678"  # answers after 2 simulated seconds


def _check(cond, message):
    if not cond:
        raise AssertionError(message)


def _tool(name):
    path = shutil.which(name)
    _check(path is not None, "%s is not installed (scripts/setup installs it)" % name)
    return path


class Workdir:
    """A private HOME with call.cti, the body text, a muttrc and the capture script."""

    def __init__(self, ctx, request):
        self.dir = tempfile.mkdtemp(prefix="mailcti-corpus.")
        self.ctx = ctx
        self.cti = os.path.join(self.dir, "call.cti")
        with open(self.cti, "w") as f:
            f.write(request)
        self.body = os.path.join(self.dir, "body.txt")
        with open(self.body, "w") as f:
            f.write("Please place this call.\n")
        self.capture = os.path.join(self.dir, "capture.sh")
        with open(self.capture, "w") as f:
            f.write('#!/bin/sh\ncat > "$CAPTURE_OUT"\n')
        os.chmod(self.capture, 0o755)
        self.muttrc = os.path.join(self.dir, "muttrc")
        with open(self.muttrc, "w") as f:
            f.write('set sendmail="%s"\nset from="%s"\nset use_from=yes\nset realname="Alice"\n'
                    'set copy=no\nset record=""\nset charset="utf-8"\nset send_charset="us-ascii:utf-8"\n'
                    % (self.capture, ctx.stack.address("alice")))

    def run(self, argv, out_name):
        out = os.path.join(self.dir, out_name)
        env = dict(os.environ, HOME=self.dir, CAPTURE_OUT=out, LC_ALL="C.UTF-8")
        with open(self.body, "rb") as body:
            res = subprocess.run(argv, stdin=body, capture_output=True, env=env, timeout=60, cwd=self.dir)
        _check(res.returncode == 0 and os.path.exists(out), "%s failed (%d): %s" % (
            os.path.basename(argv[0]), res.returncode, res.stderr.decode(errors="replace")))
        with open(out, "rb") as f:
            return f.read()

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def _mutt(w, name):
    return w.run([_tool(name), "-n", "-F", w.muttrc, "-s", "call via " + name, "-a", w.cti, "--",
                  w.ctx.stack["CTI_ADDRESS"]], name + ".eml")


def _snail(w):
    return w.run([_tool("s-nail"), "-:/", "-S", "mta=" + w.capture, "-S", "from=" + w.ctx.stack.address("alice"),
                  "-S", "sendcharsets=utf-8", "-S", "expandaddr", "-a", w.cti, "-s", "call via s-nail",
                  w.ctx.stack["CTI_ADDRESS"]], "s-nail.eml")


def _swaks(ctx, w, to, msgid):
    """swaks sends its own mail as alice with SMTP AUTH; (final SMTP code, text, message bytes)."""
    res = subprocess.run([_tool("swaks"), "--server", "127.0.0.1", "--port", str(ctx.stack.smtp_port),
                          "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", ctx.stack.password("alice"),
                          "--from", ctx.stack.address("alice"), "--to", to,
                          "--header", "Subject: call via swaks", "--header", "Message-Id: " + msgid,
                          "--body", "Please place this call.", "--attach-name", "call.cti", "--attach", "@" + w.cti],
                         capture_output=True, timeout=60, cwd=w.dir)
    lines = res.stdout.decode(errors="replace").splitlines()
    data, sent, code, text = [], False, 0, ""
    for line in lines:
        if line == " -> ." and sent is None:
            sent = True
        elif line.startswith(" -> ") and sent is None:
            data.append(line[4:])
        elif line.startswith("<-  354"):
            sent = None
        elif sent is True and re.match(r"^<(-|\*\*) +\d{3}", line):
            m = re.match(r"^<(?:-|\*\*) +(\d{3})[ -](.*)", line)
            code, text = int(m.group(1)), m.group(2)
            break
    _check(code, "no answer to swaks's DATA in its transcript:\n%s" % "\n".join(lines[-20:]))
    return code, text, ("\r\n".join(data) + "\r\n").encode()


def _file(ctx, name):
    with open(os.path.join(CORPUS, name), "rb") as f:
        raw = f.read()
    raw = raw.replace(b"@pbx.example", ("@" + ctx.stack.domain).encode())
    # a fresh Message-ID per run, so that the replies are told apart
    return re.sub(rb"(?im)^Message-ID: <[^>]*>", ("Message-ID: " + make_msgid(domain="corpus.example")).encode(),
                  raw, count=1)


def _msgid(raw):
    m = re.search(rb"(?im)^Message-I[dD]: *(<[^>\r\n]+>)", raw)
    _check(m is not None, "the mail has no Message-ID:\n%s" % raw[:500])
    return m.group(1).decode()


def _explain_cli(ctx, raw, recipient=None):
    args = ["explain", "--auth", "alice", "--sender", ctx.stack.address("alice")]
    if recipient:
        args += ["--recipient", recipient]
    binary = os.path.join(ctx.stack["BUILD_DIR"], "cli", "ctictl")
    res = subprocess.run([binary, "-c", ctx.stack["CONFIG"]] + args + ["--json"], input=raw,
                         capture_output=True, timeout=60)
    try:
        return json.loads(res.stdout.decode())["verdict"]
    except (ValueError, KeyError):
        raise AssertionError("ctictl explain gave no verdict (%d): %r %r" % (res.returncode, res.stdout, res.stderr))


def _explain_mail(ctx, raw):
    """RAW mailed by alice to explain@: the verdict in the explanation's Subject; 'refuse' for a 550
    (a request that does not parse is refused at SMTP time there too: there is nothing to explain)."""
    msgid = _msgid(raw)
    res = send(ctx.stack, "alice", ctx.stack.address("explain"), raw)
    if res.code == 550:
        return "refuse"
    _check(res.code == 250, "explain@ did not take the mail: %d %s" % (res.code, res.text))
    found = find_mail(ctx.stack.maildir("alice"),
                      lambda m, r: in_reply_to(msgid)(m, r) and (m["Subject"] or "").startswith("CTI dry run:"), WAIT)
    _check(found is not None, "no explanation mail for %s after %.0f s" % (msgid, WAIT))
    return found[1]["Subject"].split(":", 1)[1].strip()


def _media_plays(ctx, t0):
    return [e for e in ctx.pbx.entries()
            if e.get("type") == "media" and e.get("event") == "play" and e.get("wall", 0) >= t0]


def _ctid_outcome(ctx, msgid, source, code, t0):
    """What ctid did with the mail: 'execute' (dialled, Status success) or 'none'; and the notification."""
    if code != 250:
        time.sleep(1.0)
        _check(not ctx.pbx.rx("MakeCall", t0, callingDevice=source), "a refused request dialled %s" % source)
        return "refuse", None
    found = find_mail(ctx.stack.maildir("alice"),
                      lambda m, r: in_reply_to(msgid)(m, r) and not (m["Subject"] or "").startswith("CTI dry run:"),
                      WAIT)
    _check(found is not None, "no notification for %s after %.0f s" % (msgid, WAIT))
    fields, _ = result_fields(found[1])
    _check(fields is not None, "the notification for %s has no result part" % msgid)
    calls = ctx.pbx.rx("MakeCall", t0, callingDevice=source)
    if fields.get("status") == "success" and calls:
        return "execute", found[1]
    return "status %s, %d calls" % (fields.get("status"), len(calls)), found[1]


def _agree(ctx, name, raw, source, expect, send_raw=None):
    """The three paths give EXPECT ('execute' or 'refuse') for RAW; SEND_RAW() sends it (code, text)."""
    cli = _explain_cli(ctx, raw)
    by_mail = _explain_mail(ctx, raw)
    t0 = time.time()
    if send_raw is None:
        res = send(ctx.stack, "alice", ctx.stack["CTI_ADDRESS"], raw)
        code, text = res.code, res.text
    else:
        code, text = send_raw()
    milter = {250: "execute", 550: "refuse"}.get(code, "answered %d %s" % (code, text))
    ctid, note = _ctid_outcome(ctx, _msgid(raw), source, code, t0)
    verdicts = {"ctictl explain": cli, "explain@": by_mail, "milter": milter, "ctid": ctid}
    _check(all(v == expect for v in verdicts.values()),
           "%s: the paths disagree (want %s everywhere): %r; SMTP %d %s" % (name, expect, verdicts, code, text))
    if note is not None:
        plays = _media_plays(ctx, t0)
        _check(not plays, "%s: pbx-sim played media for a mail without any: %r" % (name, plays))
        body = note.as_string()
        _check("call.cti" not in body and "Say" not in body,
               "%s: the notification reports a step made of the request part:\n%s" % (name, body[:2000]))


def _with_workdir(ctx, request, fn):
    w = Workdir(ctx, request)
    try:
        return fn(w)
    finally:
        w.close()


def _request(source, extra=""):
    return "Source: %s\nDestination: %s\n%s" % (source, DEST, extra)


def test_corpus_mutt(ctx):
    """mutt attaches call.cti as text/plain: explain, milter and ctid all execute it; nothing is spoken."""
    raw = _with_workdir(ctx, _request("2001"), lambda w: _mutt(w, "mutt"))
    _check(re.search(rb"(?i)Content-Type: text/plain[^\n]*\n(?:[^\n]+\n)*?Content-Disposition: attachment; "
                     rb"filename=\"?call\.cti", raw.replace(b"\r\n", b"\n")),
           "mutt no longer attaches call.cti as text/plain; the corpus should say what it does now:\n%s"
           % raw.decode(errors="replace"))
    _agree(ctx, "mutt", raw, "2001", "execute")


def test_corpus_neomutt(ctx):
    """neomutt's mail (call.cti as text/plain) gets the same verdict on every path."""
    raw = _with_workdir(ctx, _request("2002"), lambda w: _mutt(w, "neomutt"))
    _agree(ctx, "neomutt", raw, "2002", "execute")


def test_corpus_snail(ctx):
    """s-nail's mail gets the same verdict on every path."""
    raw = _with_workdir(ctx, _request("2003"), _snail)
    _agree(ctx, "s-nail", raw, "2003", "execute")


def test_corpus_swaks(ctx):
    """swaks (base64 application/octet-stream, sent by swaks itself with SMTP AUTH) agrees on every path."""
    def run(w):
        msgid = make_msgid(domain="swaks.example")
        # explain first needs the bytes: swaks writes the same message to explain@ as to call@
        code, text, raw = _swaks(ctx, w, ctx.stack.address("explain"), msgid)
        _check(code == 250, "explain@ refused swaks's mail: %d %s" % (code, text))
        found = find_mail(ctx.stack.maildir("alice"),
                          lambda m, r: in_reply_to(msgid)(m, r) and (m["Subject"] or "").startswith("CTI dry run:"),
                          WAIT)
        _check(found is not None, "no explanation for swaks's mail")
        by_mail = found[1]["Subject"].split(":", 1)[1].strip()
        cli = _explain_cli(ctx, raw)
        t0 = time.time()
        msgid2 = make_msgid(domain="swaks.example")
        code, text, _ = _swaks(ctx, w, ctx.stack["CTI_ADDRESS"], msgid2)
        milter = {250: "execute", 550: "refuse"}.get(code, "answered %d %s" % (code, text))
        ctid, _note = _ctid_outcome(ctx, msgid2, "2004", code, t0)
        verdicts = {"ctictl explain": cli, "explain@": by_mail, "milter": milter, "ctid": ctid}
        _check(all(v == "execute" for v in verdicts.values()), "swaks: the paths disagree: %r" % verdicts)
    _with_workdir(ctx, _request("2004"), run)


def test_corpus_thunderbird(ctx):
    """A Thunderbird-style mail (application/octet-stream, base64, CRLF) agrees on every path."""
    _agree(ctx, "thunderbird", _file(ctx, "thunderbird.eml"), "2005", "execute")


def test_corpus_outlook(ctx):
    """An Outlook-style mail (text/plain call.cti, quoted-printable, multipart/alternative body) agrees."""
    _agree(ctx, "outlook", _file(ctx, "outlook.eml"), "2006", "execute")


def test_corpus_refused(ctx):
    """A mutt mail with a misspelt field is refused by all three: 550, explain 'refuse', nothing dialled."""
    raw = _with_workdir(ctx, "Source: 2001\nDestinaton: %s\n" % DEST, lambda w: _mutt(w, "mutt"))
    _agree(ctx, "mutt, bad field", raw, "2001", "refuse")


def _forward_inline(ctx, original, frm, to, subject_prefix):
    """A forward or reply made the way mail clients do it inline: new text, the .cti part kept as it is."""
    orig = libmail.parse(original)
    msg = MIMEMultipart("mixed")
    msg["From"] = ctx.stack.address(frm)
    msg["To"] = ctx.stack.address(to)
    msg["Subject"] = "%s %s" % (subject_prefix, orig["Subject"])
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="client.example")
    if subject_prefix == "Re:":
        msg["In-Reply-To"] = orig["Message-ID"]
    msg.attach(MIMEText("See below.\n\n-------- Original Message --------\nPlease place this call.\n", "plain"))
    kept = [p for p in orig.walk() if p.get_filename() == "call.cti"]
    _check(len(kept) == 1, "the original has %d call.cti parts" % len(kept))
    msg.attach(kept[0])
    return msg


def test_forward_and_reply_not_dialled(ctx):
    """alice forwards a mutt request inline to bob (attachment kept): delivered, nothing dialled; bob's reply
    keeping the attachment is delivered to alice, not refused; ctictl explain says not-a-request for bob."""
    original = _with_workdir(ctx, _request("2001"), lambda w: _mutt(w, "mutt"))
    t0 = time.time()
    fwd = _forward_inline(ctx, original, "alice", "bob", "Fwd:")
    raw = libmail.as_bytes(fwd)
    verdict = _explain_cli(ctx, raw, recipient=ctx.stack.address("bob"))
    _check(verdict == "not-a-request", "ctictl explain --recipient bob says %r, want not-a-request" % verdict)
    res = send(ctx.stack, "alice", ctx.stack.address("bob"), raw)
    _check(res.code == 250, "the forward to bob was answered %d %s" % (res.code, res.text))
    found = find_mail(ctx.stack.maildir("bob"), header_is("Message-ID", fwd["Message-ID"]), WAIT)
    _check(found is not None, "the forwarded request did not reach bob's Maildir")
    _check(not found[1].get_all("X-CTI-Job"), "the forward to bob got a job header")
    reply = _forward_inline(ctx, libmail.as_bytes(found[1]), "bob", "alice", "Re:")
    res = send(ctx.stack, "bob", ctx.stack.address("alice"), libmail.as_bytes(reply))
    _check(res.code == 250, "bob's reply keeping the attachment was answered %d %s" % (res.code, res.text))
    found = find_mail(ctx.stack.maildir("alice"), header_is("Message-ID", reply["Message-ID"]), WAIT)
    _check(found is not None, "bob's reply did not reach alice's Maildir")
    time.sleep(2.0)  # a wrongly started job would have dialled by now
    calls = ctx.pbx.rx("MakeCall", t0, callingDevice="2001")
    _check(not calls, "the forward or the reply was dialled: %r" % calls)
    with open(ctx.stack.log_path("milter.log"), errors="replace") as f:
        _check("delivered as ordinary mail" in f.read(), "the milter did not log the forward as ordinary mail")


TESTS = [test_corpus_mutt, test_corpus_neomutt, test_corpus_snail, test_corpus_swaks, test_corpus_thunderbird,
         test_corpus_outlook, test_corpus_refused, test_forward_and_reply_not_dialled]
