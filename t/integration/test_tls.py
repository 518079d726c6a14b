"""test_tls - the PBX link over TLS ([pbx] tls = yes).

These tests start a stack of their own (scripts/stack --tls-client-cert, the
binaries of the stack the runner was given): pbx-sim serves TLS with a
certificate of a private CA made by openssl and requires a client certificate
of that CA; ctid trusts that CA and presents its client certificate.  For the
refusals, the stack's pbx-sim is replaced for a while by one serving a
certificate of another CA, or one issued for another name, on the same port;
ctid must refuse it, say why in its log, and show the link down with that
reason in `ctictl status`.
"""
import atexit
import os
import shutil
import subprocess
import tempfile
import time

import libmail
import libstack
from libmail import find_mail, in_reply_to, request_mail, result_fields, send
from libpbx import PbxLog, control

TESTCERT = os.path.join(libstack.TOP, "scripts", "lib", "testcert")
_stack = None  # (base dir, libstack.Stack), started by the first test


def _check(cond, message):
    if not cond:
        raise AssertionError(message)


def _wait(pred, timeout, step=0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)


def _get_stack(ctx):
    global _stack
    if _stack is None:
        base = tempfile.mkdtemp(prefix="mailcti-tls.")
        os.chmod(base, 0o755)
        stack_dir = os.path.join(base, "stack")
        atexit.register(stop_stack, None)
        subprocess.run([libstack.STACK_SCRIPT, "start", stack_dir, "--build", ctx.stack["BUILD_DIR"],
                        "--time-scale", ctx.stack["TIME_SCALE"] or "5", "--name", "tls",
                        "--tls-client-cert"], check=True, stdout=subprocess.DEVNULL)
        _stack = (base, libstack.Stack(stack_dir))
    return _stack[1]


def stop_stack(log_dir):
    """Stop and remove the TLS stack, if started; copy sanitizer reports into LOG_DIR
    (the main stack's, for the run's scan).  Returns the copies."""
    global _stack
    if _stack is None:
        return []
    base, stack = _stack
    _stack = None
    subprocess.run([libstack.STACK_SCRIPT, "stop", stack.dir], check=False, stdout=subprocess.DEVNULL)
    copies = libstack.keep_sanitizer_reports(stack.dir, log_dir, "tls") if log_dir else []
    shutil.rmtree(base, ignore_errors=True)
    return copies


def _ctid_log(stack):
    with open(stack.log_path("ctid.log"), encoding="utf-8", errors="replace") as f:
        return f.read()


def _link_up(stack):
    return stack.ctictl_json("status").get("Link") == "up"


class _ForeignPbx:
    """pbx-sim on the stack's CSTA port serving CERT (a name in the stack's tls dir),
    in place of the stack's own, which is back when the block ends."""

    def __init__(self, stack, cert, client_ca=None):
        self.stack, self.cert, self.client_ca = stack, cert, client_ca
        self.log = os.path.join(stack["LOG_DIR"], "pbx-%s.jsonl" % cert)

    def __enter__(self):
        tls = self.stack["TLS_DIR"]
        self.stack.service("stop", "pbx-sim")
        cmd = [os.path.join(self.stack["BUILD_DIR"], "pbx-sim", "pbx-sim"), "--config", self.stack["PBX_CONFIG"],
               "--listen", "127.0.0.1:%s" % self.stack["CSTA_PORT"], "--log", self.log,
               "--tls-cert", os.path.join(tls, self.cert + ".pem"), "--tls-key", os.path.join(tls, self.cert + ".key")]
        if self.client_ca:
            cmd += ["--tls-client-ca", os.path.join(tls, self.client_ca + ".pem")]
        self.err = open(os.path.join(self.stack["LOG_DIR"], "pbx-%s.log" % self.cert), "ab")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.err, stderr=self.err)
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(10)
        self.err.close()
        self.stack.service("start", "pbx-sim")
        # generous: under AddressSanitizer on a loaded machine a restart takes a while
        _check(_wait(lambda: _link_up(self.stack), 60), "the link did not come back up with the stack's own pbx-sim")


def _make_cert(stack, *args):
    subprocess.run([TESTCERT] + list(args), check=True)


def _refused(stack, cert, reason, since_len):
    """ctid refuses pbx-sim's CERT: a log line with REASON after offset SINCE_LEN, link down with it."""
    lines = _wait(lambda: [l for l in _ctid_log(stack)[since_len:].splitlines()
                           if "certificate was refused" in l and reason in l], 60)
    _check(lines, "ctid logged no refusal naming %r for pbx-sim's %s certificate; its log ends:\n%s"
           % (reason, cert, _ctid_log(stack)[-1500:]))
    status = stack.ctictl_json("status")
    _check(status.get("Link") == "down", "ctictl status shows Link %r with a refused certificate" % status.get("Link"))
    _check(reason in status.get("Last-Error", ""),
           "ctictl status Last-Error %r does not name %r" % (status.get("Last-Error"), reason))


def test_tls_call_by_mail(ctx):
    """TLS link with a client certificate pbx-sim requires: a call placed by mail, MakeCall, Status: success."""
    stack = _get_stack(ctx)
    pbx = PbxLog(stack["PBX_LOG"])
    _check(_wait(lambda: _link_up(stack), 60), "the TLS link did not come up: %s" % stack.ctictl_json("status"))
    _check("over TLS, certificate verified" in _ctid_log(stack), "ctid did not log a verified TLS connection")
    seen = [e for e in pbx.entries() if e.get("type") == "session" and e.get("event") == "tls"]
    _check(seen and seen[-1].get("client_cert") == "CN=ctid.%s" % stack.domain,
           "pbx-sim saw no client certificate CN=ctid.%s: %r" % (stack.domain, seen[-1:]))
    msg = request_mail(stack, "alice", [("Source", "2001"), ("Destination", "0312345678")])
    t0 = time.time()
    res = send(stack, "alice", stack["CTI_ADDRESS"], libmail.as_bytes(msg))
    _check(res.code == 250, "request not accepted: %d %s" % (res.code, res.text))
    calls = pbx.wait(lambda: pbx.rx("MakeCall", t0, callingDevice="2001", calledDirectoryNumber="0312345678"))
    _check(calls, "pbx-sim received no MakeCall 2001 -> 0312345678 over TLS")
    found = find_mail(stack.maildir("alice"), in_reply_to(msg["Message-ID"]), 30)
    _check(found is not None, "no notification for %s" % msg["Message-ID"])
    fields, _ = result_fields(found[1])
    _check(fields and fields.get("status") == "success", "Status %r, want success" % (fields or {}).get("status"))
    control(stack["PBX_CONTROL"], "hangup 0312345678")


def test_tls_unknown_ca(ctx):
    """pbx-sim with a certificate of another CA: ctid refuses it (unknown CA), link down with that reason."""
    stack = _get_stack(ctx)
    tls = stack["TLS_DIR"]
    if not os.path.exists(os.path.join(tls, "rogue.pem")):
        _make_cert(stack, "ca", tls, "other")
        _make_cert(stack, "cert", tls, "other", "rogue", "localhost", "IP:127.0.0.1", "DNS:localhost")
    since = len(_ctid_log(stack))
    with _ForeignPbx(stack, "rogue"):
        _refused(stack, "rogue", "unknown CA", since)


def test_tls_name_mismatch(ctx):
    """pbx-sim with a certificate of the right CA for another name: refused (name mismatch)."""
    stack = _get_stack(ctx)
    tls = stack["TLS_DIR"]
    if not os.path.exists(os.path.join(tls, "wrongname.pem")):
        _make_cert(stack, "cert", tls, "ca", "wrongname", "pbx.wrong.example", "DNS:pbx.wrong.example")
    since = len(_ctid_log(stack))
    with _ForeignPbx(stack, "wrongname"):
        _refused(stack, "wrongname", "name mismatch", since)


def _set_server_name(stack, name):
    """Put [pbx] tls_server_name=NAME into the stack's mailcti.conf (None: remove it), restart ctid."""
    with open(stack["CONFIG"], encoding="utf-8") as f:
        lines = [l for l in f.read().splitlines() if not l.startswith("tls_server_name=")]
    if name is not None:
        lines.insert(lines.index("[pbx]") + 1, "tls_server_name=" + name)
    with open(stack["CONFIG"], "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    stack.service("stop", "ctid")
    stack.service("start", "ctid")


def test_tls_server_name_override(ctx):
    """[pbx] tls_server_name=pbx.wrong.example: the certificate for that name is accepted although host is 127.0.0.1."""
    stack = _get_stack(ctx)
    tls = stack["TLS_DIR"]
    if not os.path.exists(os.path.join(tls, "wrongname.pem")):
        _make_cert(stack, "cert", tls, "ca", "wrongname", "pbx.wrong.example", "DNS:pbx.wrong.example")
    with _ForeignPbx(stack, "wrongname"):
        try:
            _set_server_name(stack, "pbx.wrong.example")
            _check(_wait(lambda: _link_up(stack), 60),
                   "the link did not come up with tls_server_name set to the certificate's name: %s"
                   % stack.ctictl_json("status").get("Last-Error"))
        finally:
            _set_server_name(stack, None)


def test_tls_client_cert_refused(ctx):
    """pbx-sim requiring a client certificate of another CA refuses ctid's: no session, pbx-sim says why."""
    stack = _get_stack(ctx)
    tls = stack["TLS_DIR"]
    if not os.path.exists(os.path.join(tls, "other.pem")):
        _make_cert(stack, "ca", tls, "other")
    with _ForeignPbx(stack, "server", client_ca="other") as pbx:
        log = PbxLog(pbx.log)
        failed = _wait(lambda: [e for e in log.entries() if e.get("event") == "tls-failed"
                                and "unknown CA" in e.get("reason", "")], 60)
        _check(failed, "pbx-sim logged no refusal of ctid's client certificate: %r" % log.entries()[-3:])
        _check(not _link_up(stack), "the link is up although pbx-sim refused ctid's client certificate")


TESTS = [test_tls_call_by_mail, test_tls_unknown_ca, test_tls_name_mismatch, test_tls_server_name_override,
         test_tls_client_cert_refused]
