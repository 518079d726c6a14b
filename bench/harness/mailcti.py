"""mailcti - find the project's programs and run private copies of them.

Owns a private configuration (BASE/mailcti.conf), pbx-sim config, spool and
sockets under BASE, and the processes it starts (through util.Procs).  Also a
small client for the ipc protocol (lib/ipc.h) used to submit jobs straight to
ctid and to ask it for STATUS.  What can fail: a program is not built yet or
exits at start-up; that is NotMeasurable with the reason, never a number.
"""

import os
import pwd
import re
import socket
import subprocess
import time

from . import util

PROGRAMS = {
    "cti-milter": "filter/cti-milter",
    "ctid": "daemon/ctid",
    "pbx-sim": "pbx-sim/pbx-sim",
    "ctictl": "cli/ctictl",
}

PBX_SIM_CONFIG = """\
[sim]
heartbeat_interval=0
[2001-2999]
kind=extension
behaviour=answer-after 1
[3000-7999]
kind=extension
behaviour=answer-after 1
[0312345678]
kind=external
behaviour=answer-after 2
[0388888888]
kind=external
behaviour=never-answer
[0388800000-0388800999]
kind=external
behaviour=never-answer
[0312300000-0312304999]
kind=external
behaviour=answer-after 2
[0399999999]
kind=external
behaviour=busy
"""


NO_LIMITS = ("per_sender_per_minute", "per_sender_per_hour", "global_per_minute", "global_per_hour",
             "per_sender_concurrent", "global_concurrent")
SENDER = "alice@bench.example"
SOURCES = ["%d" % x for x in range(2001, 2011)]


def find_program(build_dir, src_dir, name):
    """find_program - path of NAME in the build dir (or an in-tree build), or NotMeasurable."""
    rel = PROGRAMS[name]
    for d in (build_dir, src_dir):
        if d:
            p = os.path.join(d, rel)
            if os.path.isfile(p) and os.access(p, os.X_OK):
                return p
    raise util.NotMeasurable("%s not built (looked for %s in the build dir)" % (name, rel))


class Instance:
    """Instance - private pbx-sim + ctid + cti-milter sharing one mailcti.conf."""

    def __init__(self, base, build_dir, src_dir, procs, time_scale=1.0, trusted="127.0.0.0/8"):
        self.base = base
        self.trusted = trusted
        self.build_dir = build_dir
        self.src_dir = src_dir
        self.procs = procs
        self.time_scale = time_scale
        self.csta_port = util.free_port()
        self.conf = os.path.join(base, "mailcti.conf")
        self.milter_socket = os.path.join(base, "milter", "milter.sock")
        self.ctid_socket = os.path.join(base, "run", "ctid.sock")
        self.retrieval_socket = os.path.join(base, "run", "retrieval.sock")
        self.pbx_log = os.path.join(base, "pbx-sim.jsonl")
        self.pbx_control = os.path.join(base, "run", "pbx-control.sock")
        self.pbx_config = os.path.join(base, "pbx-sim.conf")
        self.spool = os.path.join(base, "spool")
        self.pbx = self.ctid = self.milter = None
        pw = pwd.getpwnam("postfix")
        for d in ("milter", "milter-tmp", "run", "spool", "media", "db"):
            os.makedirs(os.path.join(base, d), exist_ok=True)
        for d in ("milter", "milter-tmp"):
            os.chown(os.path.join(base, d), pw.pw_uid, pw.pw_gid)
        os.chmod(os.path.join(base, "run"), 0o755)
        # SQLite WAL readers (the milter runs as postfix) create -shm/-wal beside the routes DB
        os.chown(os.path.join(base, "db"), 0, pw.pw_gid)
        os.chmod(os.path.join(base, "db"), 0o775)
        self.routes_note = None  # set by init_routes(): "" when all went well
        self.sendmail = os.path.join(base, "sendmail-discard")
        with open(self.sendmail, "w") as f:
            f.write("#!/bin/sh\n# benchmarks send no notifications anywhere\ncat >/dev/null\n")
        os.chmod(self.sendmail, 0o755)
        self.write_config()

    def write_config(self):
        b = self.base
        with open(self.conf, "w") as f:
            # requests go to call@bench.example: mail from an unidentified client to
            # anyone else is accepted at DATA, unread
            f.write("[milter]\nsocket=unix:%s\ntmp_dir=%s\nuser=postfix\nctid_timeout_ms=10000\n"
                    "request_addresses=call@bench.example\n\n"
                    % (self.milter_socket, os.path.join(b, "milter-tmp")))
            f.write("[ctid]\nsocket=%s\nretrieval_socket=%s\nsocket_group=postfix\nretrieval_group=\n"
                    "spool_dir=%s\njobs_db=%s\nmedia_dir=%s\nsendmail=%s\nnotify_from=mailcti@bench.example\n"
                    "hostname=bench.example\n\n"
                    % (self.ctid_socket, self.retrieval_socket, self.spool, os.path.join(b, "db", "jobs.db"),
                       os.path.join(b, "media"), self.sendmail))
            f.write("[pbx]\nhost=127.0.0.1\nport=%d\n\n" % self.csta_port)
            f.write("[routing]\ndb=%s\n\n" % os.path.join(b, "db", "routes.db"))
            # senders from loopback are identified by their envelope sender (the same
            # milter conversation as an SMTP AUTH login); P1's inbound cell trusts
            # another address, so that its mail comes from an unidentified client
            f.write("[identity]\nmethods=network\ntrusted_networks=%s\n\n" % self.trusted)
            f.write("[policy]\ndb=%s\n\n" % os.path.join(b, "db", "policy.db"))
            # no rate limits: the benchmarks send thousands of requests as one sender
            f.write("[limits]\n" + "".join("%s=0\n" % k for k in NO_LIMITS))
        with open(self.pbx_config, "w") as f:
            f.write(PBX_SIM_CONFIG)

    def prog(self, name):
        return find_program(self.build_dir, self.src_dir, name)

    def init_routes(self):
        """init_routes - once: the routes DB with a default route "local", and the policy DB granting
        SENDER the extensions SOURCES and every mailbox of bench.example (ctictl)."""
        if self.routes_note is not None:
            return
        self.routes_note = ""
        try:
            ctl = self.prog("ctictl")
        except util.NotMeasurable as e:
            self.routes_note = "no routes/policy DB: %s" % e
            return
        cmds = [["route", "add", "default", "local"], ["sender", "add", SENDER]]
        cmds += [["sender", "grant", SENDER, x] for x in SOURCES]
        cmds.append(["sender", "grant", SENDER, "--mailbox", "*@bench.example"])
        for c in cmds:
            r = subprocess.run([ctl, "-c", self.conf] + c, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, timeout=30)
            if r.returncode != 0:
                self.routes_note += "ctictl %s: %s; " % (" ".join(c), r.stdout.strip()[-200:])

    def start_pbx(self):
        argv = [self.prog("pbx-sim"), "--config", self.pbx_config, "--listen", "127.0.0.1:%d" % self.csta_port,
                "--log", self.pbx_log, "--control", self.pbx_control, "--time-scale", str(self.time_scale)]
        self.pbx = self.procs.start("pbx-sim", argv)
        util.wait_for(lambda: util.tcp_connectable(self.csta_port), 10, "pbx-sim listening", self.pbx)

    def start_ctid(self, wait_link=True):
        self.init_routes()
        self.ctid = self.procs.start("ctid", [self.prog("ctid"), "-f", "-c", self.conf])
        util.wait_for(lambda: util.unix_connectable(self.ctid_socket), 15, "ctid socket", self.ctid)
        if wait_link and self.pbx is not None:
            util.wait_for(lambda: ipc_status(self.ctid_socket).get("Link") == "up", 15, "ctid PBX link up",
                          self.ctid, step=0.1)

    def start_milter(self):
        self.init_routes()
        self.milter = self.procs.start("cti-milter", [self.prog("cti-milter"), "-f", "-c", self.conf])
        util.wait_for(lambda: os.path.exists(self.milter_socket), 15, "cti-milter socket", self.milter)
        # Postfix's smtpd runs as postfix: the socket must be connectable by it.
        time.sleep(0.1)
        util.wait_for(lambda: util.unix_connectable(self.milter_socket), 5, "cti-milter socket", self.milter)

    def milter_spec(self):
        return "unix:" + self.milter_socket

    def stop(self):
        for p in (self.milter, self.ctid, self.pbx):
            if p is not None:
                self.procs.stop(p)
        self.milter = self.ctid = self.pbx = None


# ---------------------------------------------------------------- ipc client (lib/ipc.h)

def _escape(value):
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def _unescape(value):
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r", "t": "\t"}.get(m.group(1), m.group(1)), value)


def ipc_encode(verb, fields, body=None):
    """ipc_encode - wire bytes of an MCTI/1 frame."""
    out = ["MCTI/1 %s\n" % verb]
    for name, value in fields:
        out.append("%s: %s\n" % (name, _escape(value)))
    if body is not None:
        out.append("Body-Length: %d\n" % len(body))
    out.append("\n")
    data = "".join(out).encode()
    return data + body if body is not None else data


def ipc_read(sock):
    """ipc_read - (verb, {name: value}) of one frame read from SOCK."""
    buf = b""
    while b"\n\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise util.NotMeasurable("ctid closed the connection without a reply")
        buf += chunk
    head, rest = buf.split(b"\n\n", 1)
    lines = head.decode("utf-8", "replace").split("\n")
    first = lines[0].split(" ", 1)
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(": ")
        fields.setdefault(name.lower(), _unescape(value))
    n = int(fields.get("body-length", "0") or 0)
    while len(rest) < n:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return (first[1] if len(first) > 1 else ""), fields


def ipc_call(path, verb, fields, body=None, timeout=10.0):
    """ipc_call - one request/reply over a fresh connection: (verb, fields)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        s.sendall(ipc_encode(verb, fields, body))
        return ipc_read(s)
    finally:
        s.close()


def ipc_status(path):
    """ipc_status - ctid's STATUS fields (lower-case names), {} when it does not answer."""
    try:
        verb, fields = ipc_call(path, "STATUS", [], timeout=2.0)
    except (OSError, util.NotMeasurable):
        return {}
    return {k.title() if not k.startswith("jobs-") else k: v for k, v in fields.items()} if verb == "OK" else {}


def request_text(destination, source="2001", trigger="system", monitor="120", notify="no", extra=()):
    """request_text - an application/x-cti part's text."""
    lines = ["Action: connect", "Source: " + source, "Destination: " + destination,
             "Notify: " + notify, "Monitor-Time: " + monitor, "Trigger: " + trigger]
    lines += list(extra)
    return "\n".join(lines) + "\n"


def request_mail(sender, rcpt, req, msgid, attachment=None):
    """request_mail - a multipart request mail (CRLF) carrying REQ and optionally a big attachment."""
    b = "=-bench-boundary-="
    parts = ["From: <%s>" % sender, "To: <%s>" % rcpt, "Subject: bench request",
             "Date: Wed, 25 Nov 2026 12:00:00 +0000", "Message-ID: <%s>" % msgid, "MIME-Version: 1.0",
             'Content-Type: multipart/mixed; boundary="%s"' % b, "",
             "--" + b, "Content-Type: text/plain; charset=us-ascii", "", "Please place this call.", "",
             "--" + b, "Content-Type: application/x-cti", ""]
    parts += req.rstrip("\n").split("\n")
    parts.append("")
    if attachment is not None:
        parts += ["--" + b, "Content-Type: application/octet-stream", "Content-Transfer-Encoding: base64",
                  'Content-Disposition: attachment; filename="data.bin"', ""]
        parts.append(attachment)
    parts.append("--%s--" % b)
    parts.append("")
    return "\r\n".join(parts)


def submit_job(path, req, sender="alice@bench.example", rcpt="call@bench.example", message=None, mailbox=None):
    """submit_job - SUBMIT one job straight to ctid; (verb, fields)."""
    msgid = "bench.%d.%f@bench.example" % (os.getpid(), time.time())
    body = (message or request_mail(sender, rcpt, req, msgid)).encode()
    fields = [("Request", req), ("Sender", sender), ("Recipient", rcpt), ("Message-Id", "<%s>" % msgid)]
    if mailbox:
        fields.append(("Mailbox", mailbox))
    return ipc_call(path, "SUBMIT", fields, body)


# ---------------------------------------------------------------- scripts/stack

class Stack:
    """Stack - the project's full stack (scripts/stack start/stop DIR) and its stack.env."""

    def __init__(self, src_dir, build_dir, base):
        self.script = os.path.join(src_dir, "scripts", "stack")
        self.dir = os.path.join(base, "stack")
        self.build_dir = build_dir
        self.env = {}
        self.started = False

    def available(self):
        return os.path.isfile(self.script) and os.access(self.script, os.X_OK)

    def start(self, time_scale=10.0, timeout=120):
        if not self.available():
            raise util.NotMeasurable("scripts/stack not present")
        env = dict(os.environ, BUILD_DIR=self.build_dir)
        self.started = True
        argv = [self.script, "start", self.dir, "--build", self.build_dir, "--time-scale", str(time_scale)]
        for k in NO_LIMITS:
            argv += ["--set", "limits.%s=0" % k]
        # Output to a file, not a pipe: daemons the script leaves running would hold a pipe open.
        out_path = os.path.join(os.path.dirname(self.dir), "stack-start.log")
        with open(out_path, "w") as out:
            try:
                r = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, env=env,
                                   stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                raise util.NotMeasurable("scripts/stack start did not finish in %d s" % timeout)
        if r.returncode != 0:
            raise util.NotMeasurable("scripts/stack start failed (exit %d): %s" %
                                     (r.returncode, util.log_tail(out_path, 3)))
        self.env = parse_env(os.path.join(self.dir, "stack.env"))
        return self.env

    def stop(self):
        if self.started:
            try:
                subprocess.run([self.script, "stop", self.dir], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=120, stdin=subprocess.DEVNULL,
                               env=dict(os.environ, BUILD_DIR=self.build_dir))
            except subprocess.TimeoutExpired:
                raise util.HarnessError("scripts/stack stop %s did not finish in 120 s" % self.dir)
            self.started = False


def parse_env(path):
    """parse_env - KEY=VALUE lines of a shell-sourceable file, quotes removed, via the shell itself."""
    if not os.path.exists(path):
        raise util.NotMeasurable("%s missing after scripts/stack start" % os.path.basename(path))
    r = subprocess.run(["sh", "-c", 'set -a; . "$1"; env -0', "sh", path], stdout=subprocess.PIPE, check=True)
    env = {}
    for item in r.stdout.split(b"\0"):
        k, _, v = item.decode("utf-8", "replace").partition("=")
        if k:
            env[k] = v
    return env
