#!/usr/bin/env python3
"""ctid-e2e - ctid end to end against pbx-sim, without Postfix.

Starts pbx-sim and ctid on a private port and private sockets in a temporary
directory, SUBMITs requests over ctid's ipc socket (the MCTI/1 framing of
lib/ipc.h, written here independently), and checks what happened on the PBX
(pbx-sim's JSON-lines log), in ctid's STATUS and in the notification mail
handed to a recording sendmail.  Every process started here is stopped.

Usage: ctid-e2e.py [BUILD_DIR]   (default: $BUILD_DIR, else .. as under make check)
Exit 77 (skip) when pbx-sim has not been built.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

# make check runs tests in the build tree's t/; by hand, name the build tree
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BUILD_DIR", ".."))
CTID = os.path.join(BUILD, "daemon", "ctid")
PBXSIM = os.path.join(BUILD, "pbx-sim", "pbx-sim")
CTICTL = os.path.join(BUILD, "cli", "ctictl")

# ctid authorizes every SUBMIT against the policy DB itself: the senders of
# these tests, their extensions and the mailboxes they may name
SENDERS = ("alice", "bob", "carol", "dave", "erin")
EXTENSIONS = ["%d" % n for n in list(range(2001, 2011)) + list(range(3001, 3011)) + [4999]]

SIM_CONF = """\
[sim]
heartbeat_interval=1
[2001-2010]
kind=extension
behaviour=answer-after 1
[0312345678]
kind=external
behaviour=answer-after 2
[0399999999]
kind=external
behaviour=busy
[0388888888]
kind=external
behaviour=never-answer
[3001-3010]
kind=extension
behaviour=answer-after 1
[0366666661]
kind=external
behaviour=dnd
[0366666662]
kind=external
behaviour=decline
[0366666663]
kind=external
behaviour=invalid
[0366666664]
kind=external
behaviour=unreachable
"""

# destination behaviour -> the Reason a requester reads
FAILURE_CASES = [
    ("3001", "0366666661", "do not disturb"),
    ("3002", "0366666662", "call declined"),
    ("3003", "0366666663", "invalid number format"),
    ("3004", "0366666664", "destination unreachable"),
    ("4999", "0312345678", "source 4999 cannot be monitored"),
]

FAILURES = []


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def esc(v):
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def unesc(v):
    out, i = [], 0
    while i < len(v):
        if v[i] == "\\" and i + 1 < len(v):
            out.append({"n": "\n", "r": "\r", "t": "\t"}.get(v[i + 1], v[i + 1]))
            i += 2
        else:
            out.append(v[i])
            i += 1
    return "".join(out)


def read_head(s):
    """bytes read from socket S up to the end of a frame's header (or the stream's end)"""
    buf = b""
    while b"\n\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf


def ipc(path, verb, fields=(), body=None, timeout=10):
    head = "MCTI/1 %s\n" % verb
    for k, v in fields:
        head += "%s: %s\n" % (k, esc(v))
    if body is not None:
        head += "Body-Length: %d\n" % len(body)
    data = (head + "\n").encode() + (body or b"")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    s.sendall(data)
    buf = read_head(s)
    s.close()
    lines = buf.split(b"\n\n", 1)[0].decode().split("\n")
    reply = {"verb": lines[0].split(" ", 1)[1] if " " in lines[0] else lines[0]}
    for line in lines[1:]:
        k, _, v = line.partition(": ")
        reply[k] = unesc(v)
    return reply


def request_mail(fields, msgid):
    part = "".join("%s: %s\r\n" % kv for kv in fields)
    return ("From: alice@example.test\r\nTo: call@example.test\r\nSubject: call\r\n"
            "Message-ID: <%s>\r\nMIME-Version: 1.0\r\nContent-Type: application/x-cti\r\n\r\n%s"
            % (msgid, part)).encode()


def canonical(fields):
    return "".join("%s: %s\n" % kv for kv in fields)


class Stack:
    def __init__(self, tmp, style):
        self.tmp = tmp
        self.style = style
        self.port = free_port()
        self.pbx_log = os.path.join(tmp, "pbx.log")
        self.sock = os.path.join(tmp, "ctid.sock")
        self.outbox = os.path.join(tmp, "outbox")
        os.makedirs(self.outbox, exist_ok=True)
        with open(os.path.join(tmp, "sim.conf"), "w") as f:
            f.write(SIM_CONF)
        sendmail = os.path.join(tmp, "sendmail")
        with open(sendmail, "w") as f:
            f.write('#!/bin/sh\nf="%s/$(date +%%s%%N).eml"\n{ echo "X-Args: $*"; cat; } > "$f.tmp" && mv "$f.tmp" "$f"\n'
                    % self.outbox)
        os.chmod(sendmail, 0o755)
        with open(os.path.join(tmp, "mailcti.conf"), "w") as f:
            f.write("[ctid]\nsocket=%s\nretrieval_socket=%s/retrieval.sock\nsocket_group=\nretrieval_group=\n"
                    "spool_dir=%s/spool\njobs_db=%s/jobs.db\nsendmail=%s\nhostname=gw.example.test\n"
                    "default_monitor_time=8\n"
                    "[pbx]\nhost=127.0.0.1\nport=%d\nsession=%s\nuser=cti\npassword=secret\n"
                    "session_duration=10\nreconnect_min_ms=100\nreconnect_max_ms=500\n"
                    "[policy]\ndb=%s/policy.db\n[identity]\ndefault_domain=example.test\n"
                    # no rate limits here: t/ctid-limits.py tests them
                    "[limits]\nper_sender_per_minute=0\nper_sender_per_hour=0\nglobal_per_minute=0\n"
                    "global_per_hour=0\nper_sender_concurrent=0\nglobal_concurrent=0\n"
                    "per_sender_notifications_per_hour=0\n"
                    % (self.sock, tmp, tmp, tmp, sendmail, self.port, style, tmp))
        self.procs = []
        self.seed_policy()

    def ctictl(self, *args):
        subprocess.run([CTICTL, "-c", os.path.join(self.tmp, "mailcti.conf")] + list(args),
                       check=True, stdout=subprocess.DEVNULL)

    def seed_policy(self):
        """every test sender registered as its address, granted every extension but 2001,
        which only alice has"""
        for who in SENDERS:
            ident = "%s@example.test" % who
            self.ctictl("sender", "add", ident)
            for ext in EXTENSIONS if who == "alice" else EXTENSIONS[1:]:
                self.ctictl("sender", "grant", ident, ext)
            self.ctictl("sender", "grant", ident, "--mailbox", "*@example.test")

    def start_pbx(self):
        log = open(os.path.join(self.tmp, "pbx.stderr"), "a")
        p = subprocess.Popen([PBXSIM, "--config", os.path.join(self.tmp, "sim.conf"),
                              "--listen", "127.0.0.1:%d" % self.port, "--log", self.pbx_log,
                              "--control", os.path.join(self.tmp, "pbx.control"),
                              "--session-style", "both"], stdout=log, stderr=log)
        self.procs.append(p)
        self.pbx = p
        return p

    def start_ctid(self):
        self.ctid_err = os.path.join(self.tmp, "ctid.stderr")
        log = open(self.ctid_err, "a")
        p = subprocess.Popen([CTID, "-f", "-c", os.path.join(self.tmp, "mailcti.conf"), "-d"], stdout=log, stderr=log)
        self.procs.append(p)
        self.ctid = p
        deadline = time.time() + 10
        while not os.path.exists(self.sock) and time.time() < deadline:
            time.sleep(0.05)
        return p

    def stop(self, p, sig=signal.SIGTERM):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                return p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                return None
        return p.returncode

    def stop_all(self):
        for p in reversed(self.procs):
            self.stop(p)

    def status(self):
        return ipc(self.sock, "STATUS")

    def wait_link(self, up=True, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if (self.status().get("Link") == "up") == up:
                return True
            time.sleep(0.1)
        return False

    def pbx_entries(self):
        out = []
        if os.path.exists(self.pbx_log):
            with open(self.pbx_log, encoding="utf-8") as f:
                for line in f:
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
        return out

    def rx(self, service):
        return [e for e in self.pbx_entries() if e.get("type") == "rx" and e.get("service") == service]

    def submit(self, fields, job_id=None, queue_id="4ABC123"):
        msgid = "req-%d@example.test" % time.time_ns()
        extra = [("Job-Id", job_id)] if job_id else []
        return ipc(self.sock, "SUBMIT", [("Request", canonical(fields)), ("Sender", "alice@example.test"),
                                          ("Auth-Authen", "alice"),
                                          ("Recipient", "call@example.test"), ("Queue-Id", queue_id),
                                          ("Message-Id", "<%s>" % msgid)] + extra,
                   body=request_mail(fields, msgid))

    def wait_mail(self, job_id, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for name in sorted(os.listdir(self.outbox)):
                if not name.endswith(".eml"):
                    continue
                text = open(os.path.join(self.outbox, name), encoding="utf-8", errors="replace").read()
                if "Job-Id: %s" % job_id in text:
                    return text
            time.sleep(0.1)
        return None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def result_field(mail, name):
    for line in (mail or "").splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    return None


def scenario(style):
    with tempfile.TemporaryDirectory(prefix="ctid-e2e-") as tmp:
        st = Stack(tmp, style)
        try:
            run_scenario(st, style)
        finally:
            st.stop_all()
            if FAILURES:
                sys.stdout.write(open(st.ctid_err).read()[-6000:] if os.path.exists(st.ctid_err) else "")


def run_scenario(st, style):
    print("# session style %s" % style)
    st.start_pbx()
    st.start_ctid()
    check(os.path.exists(st.sock) and oct(os.stat(st.sock).st_mode & 0o777) == "0o660", "ctid socket is mode 0660")
    check(ipc(st.sock, "PING")["verb"] == "OK", "PING answered OK")
    check(st.wait_link(), "link comes up (%s)" % style)
    s = st.status()
    check(s.get("Session-Style") == style, "STATUS Session-Style %s" % style)
    if style == "ecma354":
        sas = st.rx("StartApplicationSession")
        check(len(sas) == 1 and "<user>cti</user>" in sas[0].get("xml", ""), "StartApplicationSession with login")
    else:
        check(len(st.rx("SystemRegister")) >= 1, "SystemRegister sent")
        time.sleep(2.5)
        ssr = [e for e in st.pbx_entries() if e.get("type") == "rx" and e.get("service") == "SystemStatusResponse"]
        check(len(ssr) >= 2, "heartbeats answered with SystemStatusResponse (%d)" % len(ssr))

    # 1. answered call
    r = st.submit([("Action", "connect"), ("Source", "2001"), ("Destination", "0312345678"),
                   ("Request-Id", "r1")])
    check(r["verb"] == "OK" and len(r.get("Job-Id", "")) == 32, "SUBMIT answered OK with a Job-Id")
    job = r.get("Job-Id", "")
    mail = st.wait_mail(job)
    check(mail is not None, "notification for the answered call")
    check(result_field(mail, "Status") == "success", "answered call: Status success")
    mk = st.rx("MakeCall")
    check(any(e["args"].get("callingDevice") == "2001" and e["args"].get("calledDirectoryNumber") == "0312345678"
              for e in mk), "pbx-sim saw MakeCall 2001 -> 0312345678")
    check("-f <>" in (mail or "") or "X-Args: -f" in (mail or ""), "notification sent from the null sender")
    # play cti-milter (non_smtpd_milters): confirm the notification with NOTIFIED
    spooled = os.path.join(st.tmp, "spool", job + ".eml")
    tag = [ln.split(":", 1)[1].split() for ln in (mail or "").splitlines()
           if ln.lower().startswith("x-cti-notification:")]
    check(len(tag) == 1 and len(tag[0]) == 3 and tag[0][0] == job,
          "notification carries X-CTI-Notification: <job> <token> <copy>")
    check(os.path.exists(spooled), "spool file kept until the notification is confirmed")
    if len(tag) == 1 and len(tag[0]) == 3:
        _j, token, copy = tag[0]
        answers = [ipc(st.sock, "NOTIFIED", [("Job", job), ("Token", t), ("Copy", c)])["verb"]
                   for t, c in (("0" * 32, copy), (token, copy), (token, copy), (token, "1" * 32))]
        check(answers == ["REJECT", "OK", "OK", "DUPLICATE"],
              "NOTIFIED: wrong token REJECT, the copy OK (twice), another copy DUPLICATE: %s" % answers)
    deadline = time.time() + 5
    while os.path.exists(spooled) and time.time() < deadline:
        time.sleep(0.05)
    check(not os.path.exists(spooled), "spool file removed after notifying")

    # 2. busy destination
    r = st.submit([("Source", "2002"), ("Destination", "0399999999")])
    mail = st.wait_mail(r.get("Job-Id", "-"))
    check(result_field(mail, "Status") == "failed" and "busy" in (result_field(mail, "Reason") or ""),
          "busy destination: Status failed, Reason busy")
    check(any(e["args"].get("connectionToBeCleared.deviceID") == "2002" for e in st.rx("ClearConnection")),
          "busy destination: the source's connection is cleared")

    # 2a. other failures of the destination, and an unknown source
    jobs = [(st.submit([("Source", src), ("Destination", dst)]).get("Job-Id", "-"), src, dst, want)
            for src, dst, want in FAILURE_CASES]
    for job, src, dst, want in jobs:
        mail = st.wait_mail(job)
        check(result_field(mail, "Status") == "failed" and want in (result_field(mail, "Reason") or ""),
              "%s -> %s: failed, %r (got %r)" % (src, dst, want, result_field(mail, "Reason")))

    # 2b. Retry: a busy destination is dialled again, then fails with both attempts reported
    r = st.submit([("Source", "2005"), ("Destination", "0399999999"), ("Retry", "2; interval=1")])
    mail = st.wait_mail(r.get("Job-Id", "-"))
    check(result_field(mail, "Status") == "failed" and result_field(mail, "Attempts") == "2",
          "Retry 2: failed after 2 attempts")
    check(sum(1 for e in st.rx("MakeCall") if e["args"].get("callingDevice") == "2005") == 2,
          "Retry 2: MakeCall sent twice")
    check(len([l for l in (mail or "").splitlines() if l.startswith("Attempt:")]) == 2,
          "Retry 2: two Attempt lines in the result")

    # 3. no answer within Monitor-Time: the call is cleared
    t0 = time.time()
    r = st.submit([("Source", "2003"), ("Destination", "0388888888"), ("Monitor-Time", "3")])
    mail = st.wait_mail(r.get("Job-Id", "-"))
    check(result_field(mail, "Status") == "timeout", "never-answer: Status timeout")
    check("3 s" in (result_field(mail, "Reason") or ""), "timeout reason names Monitor-Time")
    check(time.time() - t0 >= 2.5, "timeout not before Monitor-Time")
    check(len(st.rx("ClearConnection")) >= 1, "ClearConnection sent at Monitor-Time")

    # 4. forward-clear of a number that has no forwarding
    r = st.submit([("Action", "forward-clear"), ("Source", "2004"), ("Destination", "2005")])
    mail = st.wait_mail(r.get("Job-Id", "-"))
    check(result_field(mail, "Status") == "failed" and "no forwarding" in (result_field(mail, "Reason") or ""),
          "forward-clear without a forwarding: failed, says so")

    # 5. bad request and repeated Job-Id
    r = st.submit([("Source", "2001"), ("Destinaton", "1")])
    check(r["verb"] == "REJECT", "unparsable request: REJECT")
    # ctid authorizes every SUBMIT itself: the frame's Identity is not believed
    fields = [("Source", "2001"), ("Destination", "0312345678")]
    for extra, what in (([("Identity", "alice@example.test")], "no AUTH login"),
                        ([("Auth-Authen", "mallory")], "an unregistered login"),
                        ([("Auth-Authen", "bob"), ("Identity", "alice")], "bob claiming alice")):
        n = len(st.rx("MakeCall"))
        r = ipc(st.sock, "SUBMIT", [("Request", canonical(fields)), ("Sender", ""),
                                    ("Recipient", "call@example.test")] + extra,
                body=request_mail(fields, "forged-%d@example.test" % time.time_ns()))
        check(r["verb"] == "REJECT" and "not" in r.get("Reason", ""),
              "SUBMIT with %s: REJECT (%s: %s)" % (what, r["verb"], r.get("Reason")))
        check(len(st.rx("MakeCall")) == n, "SUBMIT with %s: nothing dialled" % what)
    jid = "0123456789abcdef0123456789abcdef"
    r1 = st.submit([("Source", "2001"), ("Destination", "2005"), ("Trigger", "user"), ("Mailbox", "bob@example.test")],
                   job_id=jid)
    r2 = st.submit([("Source", "2001"), ("Destination", "2005"), ("Trigger", "user"), ("Mailbox", "bob@example.test")],
                   job_id=jid)
    check(r1.get("Job-Id") == jid and r2.get("verb") == "OK" and r2.get("Job-Id") == jid, "repeated Job-Id: OK once more")
    check(st.status().get("Jobs-waiting-user") == "1", "Trigger: user job waits")

    # 6. retrieval: wrong user refused, owner fires, again is OK
    rs = os.path.join(st.tmp, "retrieval.sock")
    check(ipc(rs, "SUBMIT", [("Request", "x")], body=b"x")["verb"] == "REJECT", "no SUBMIT on the retrieval socket")
    check(ipc(rs, "RETRIEVED", [("User", "carol"), ("Job", jid), ("Trigger", "seen")])["verb"] == "REJECT",
          "retrieval by another user: REJECT")
    check(ipc(rs, "RETRIEVED", [("User", "BOB"), ("Job", jid), ("Trigger", "fetch:full mail")])["verb"] == "OK",
          "retrieval by the owner: OK")
    mail = st.wait_mail(jid)
    check(result_field(mail, "Status") == "success", "user-triggered job ran and succeeded")
    check(ipc(rs, "RETRIEVED", [("User", "bob"), ("Job", jid), ("Trigger", "seen")])["verb"] == "OK",
          "second retrieval: OK, not run again")
    time.sleep(0.5)
    check(sum(1 for e in st.rx("MakeCall") if e["args"].get("calledDirectoryNumber") == "2005") == 1,
          "user-triggered job dialled exactly once")

    # 6b. the PBX goes away while a call rings: after the reconnect ctid looks for the call
    # (SnapshotDevice); the restarted PBX no longer has it, so the attempt fails
    r = st.submit([("Source", "2010"), ("Destination", "0388888888"), ("Monitor-Time", "30")])
    deadline = time.time() + 10
    while time.time() < deadline and not any(e["args"].get("callingDevice") == "2010" for e in st.rx("MakeCall")):
        time.sleep(0.1)
    st.stop(st.pbx)
    st.start_pbx()
    mail = st.wait_mail(r.get("Job-Id", "-"))
    check(result_field(mail, "Status") == "failed" and "link" in (result_field(mail, "Reason") or ""),
          "PBX lost while ringing: failed, reason names the link")
    check(len(st.rx("SnapshotDevice")) >= 1, "PBX lost while ringing: SnapshotDevice after the reconnect")
    check(st.wait_link(), "link back after pbx-sim restarts")

    # 7. link loss and restart: a job queued while the PBX is away runs when it is back
    st.stop(st.pbx)
    check(st.wait_link(up=False), "link down after pbx-sim stops")
    r = st.submit([("Source", "2006"), ("Destination", "0312345678")])
    check(r["verb"] == "OK", "SUBMIT accepted while the PBX is down")
    st.start_pbx()
    mail = st.wait_mail(r.get("Job-Id", "-"))
    check(result_field(mail, "Status") == "success", "job queued during the outage succeeds after reconnect")

    # 8. restart of ctid keeps a queued job
    r = st.submit([("Source", "2007"), ("Destination", "2009"), ("Not-Before", time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3)))])
    job = r.get("Job-Id", "-")
    check(st.stop(st.ctid) == 0, "ctid exits 0 on SIGTERM")
    check(not os.path.exists(st.sock), "socket removed on exit")
    if style == "ecma354":
        check(len(st.rx("StopApplicationSession")) >= 1, "StopApplicationSession on shutdown")
    st.start_ctid()
    mail = st.wait_mail(job)
    check(result_field(mail, "Status") == "success", "job survives a ctid restart")

    # 9. restart while an attempt rings: the restarted ctid finds the call again (SnapshotDevice),
    # does not dial twice, and the attempt ends by its Monitor-Time; one notification
    r = st.submit([("Source", "2008"), ("Destination", "0388888888"), ("Monitor-Time", "6")])
    job = r.get("Job-Id", "-")
    deadline = time.time() + 10
    while time.time() < deadline and not any(e["args"].get("callingDevice") == "2008" for e in st.rx("MakeCall")):
        time.sleep(0.1)
    time.sleep(0.3)
    check(st.status().get("Jobs-running") == "1", "job running while it rings")
    st.stop(st.ctid)
    st.start_ctid()
    mail = st.wait_mail(job)
    check(result_field(mail, "Status") == "timeout", "call followed across a restart: timeout at Monitor-Time")
    check(sum(1 for e in st.rx("MakeCall") if e["args"].get("callingDevice") == "2008") == 1,
          "call followed across a restart: dialled once")
    time.sleep(1)
    n = sum(1 for name in os.listdir(st.outbox)
            if name.endswith(".eml") and "Job-Id: %s" % job in open(os.path.join(st.outbox, name)).read())
    check(n == 1, "exactly one notification for the interrupted job (%d)" % n)
    if style == "ecma354":
        check(len(st.rx("ResetApplicationSessionTimer")) >= 1, "session timer reset before it expires")
    else:
        check(len(st.rx("RequestSystemStatus")) >= 1, "RequestSystemStatus keepalive sent")
    check(st.status().get("Link") == "up", "link still up after the keepalives")
    s = st.status()
    check(s.get("Jobs-queued") == "0" and s.get("Jobs-running") == "0", "no live jobs left")
    check(st.stop(st.ctid) == 0, "ctid exits 0 at the end")


def main():
    if not os.access(PBXSIM, os.X_OK) or not os.access(CTID, os.X_OK):
        print("skip: %s or %s not built" % (CTID, PBXSIM))
        return 77
    for style in ("ecma354", "system-status"):
        scenario(style)
    print("%d failure(s)" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
