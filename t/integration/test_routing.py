"""test_routing - routing between two gateways, end to end.

These tests start a pair of complete stacks of their own (scripts/stack, the
binaries of the stack the runner was given): gateway gw-a and gateway gw-b,
each with its Postfix, Dovecot, cti-milter, ctid and pbx-sim on loopback, each
Postfix delivering the other's mail domain to the other's SMTP port
(--peer).  The pair is started by the first test that needs it and stopped
when the runner exits (atexit), leaving no process behind.

The routing DB of each gateway is written with ctictl while the milters run:
they started without a DB (the default route, local) and must see the routes
at once.
"""
import atexit
import collections
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

import libmail
import libstack
from libmail import find_mail, in_reply_to, header_is, result_fields
from libpbx import PbxLog, control

NOTIFY_TIMEOUT = 45.0
STACKWAIT = os.path.join(libstack.TOP, "scripts", "lib", "stackwait.py")


def _check(cond, message):
    if not cond:
        raise AssertionError(message)


class Gateway:
    """One stack of the pair, with its pbx-sim log and its ctictl."""

    def __init__(self, stack_dir):
        self.stack = libstack.Stack(stack_dir)
        self.name = self.stack["STACK_NAME"]
        self.pbx = PbxLog(self.stack["PBX_LOG"])
        self.cti_address = self.stack["CTI_ADDRESS"]

    def ctictl(self, *args):
        ctictl = os.path.join(self.stack["BUILD_DIR"], "cli", "ctictl")
        res = subprocess.run([ctictl, "-c", self.stack["CONFIG"]] + list(args),
                             capture_output=True, text=True, timeout=30)
        _check(res.returncode == 0, "%s: ctictl %s failed (%d): %s%s" % (
            self.name, " ".join(args), res.returncode, res.stdout, res.stderr))
        return res.stdout

    def add_numbers(self, numbers):
        """Give this gateway's PBX the external NUMBERS, a dict number -> behaviour (pbx-sim reads
        its plan at start)."""
        with open(self.stack["PBX_CONFIG"], "a", encoding="ascii") as f:
            for number, behaviour in numbers.items():
                f.write("\n[%s]\nkind=external\nbehaviour=%s\n" % (number, behaviour))
        self.stack.service("stop", "pbx-sim")
        self.stack.service("start", "pbx-sim")

    def maillog(self):
        try:
            with open(self.stack.log_path("maillog"), encoding="utf-8", errors="replace") as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []


class Pair:
    """gw-a and gw-b, started once, stopped at exit.

    Each relays to the other from a loopback address of its own (--relay-from),
    and each trusts exactly that address of the other: as a relay whose
    X-CTI-Hop traces are believed, and as a network whose envelope senders are
    believed ([identity] network), so that a request relayed from A is
    identified on B without SMTP AUTH while B's local clients still need it.
    """

    def __init__(self, build_dir, time_scale):
        self.base = tempfile.mkdtemp(prefix="mailcti-routing.")
        os.chmod(self.base, 0o755)  # Dovecot's users and Postfix need to traverse it
        self.dirs = [os.path.join(self.base, n) for n in ("gw-a", "gw-b")]
        self.started = []
        # a random start, so that two runs at once rarely race for the same ports
        ports = [self._free_base(43000 + 20 * random.randrange(200))]
        ports.append(self._free_base(ports[0] + 10))
        relay_from = ["127.1.%d.%d" % (p >> 8 & 255, p & 255) for p in ports]
        domains = ["gw-a.pbx.example", "gw-b.pbx.example"]
        try:
            for i, name in enumerate(("gw-a", "gw-b")):
                peer = 1 - i
                cmd = [libstack.STACK_SCRIPT, "start", self.dirs[i], "--build", build_dir,
                       "--time-scale", str(time_scale), "--ports", str(ports[i]),
                       "--name", name, "--domain", domains[i],
                       "--peer", "%s=%d" % (domains[peer], ports[peer]),
                       "--relay-from", relay_from[i],
                       "--set", "identity.methods=auth,network",
                       "--set", "identity.trusted_networks=%s/32" % relay_from[peer],
                       "--set", "identity.trusted_relays=%s/32" % relay_from[peer]]
                if name == "gw-b":  # B serves only what its routes say
                    cmd += ["--set", "routing.default_route=refuse"]
                self.started.append(self.dirs[i])
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        except BaseException:
            self.stop()
            raise
        self.a = Gateway(self.dirs[0])
        self.b = Gateway(self.dirs[1])
        self.b.add_numbers({"0612345678": "answer-after 1", "0699999999": "busy"})

    @staticmethod
    def _free_base(start):
        out = subprocess.run([sys.executable, STACKWAIT, "free-base", str(start), "10", "4"],
                             check=True, capture_output=True, text=True)
        return int(out.stdout.strip())

    def stop(self, log_dir=None):
        """Stop both stacks; with LOG_DIR, copy there any of their logs that hold a sanitizer
        report (ASan build), for the run's scan of the main stack's logs.  Returns the copies."""
        copies = []
        for d in reversed(self.started):
            subprocess.run([libstack.STACK_SCRIPT, "stop", d], check=False,
                           stdout=subprocess.DEVNULL)
            if log_dir:
                copies += libstack.keep_sanitizer_reports(d, log_dir, "routing-" + os.path.basename(d))
        self.started = []
        shutil.rmtree(self.base, ignore_errors=True)
        return copies


_pair = None


def _get_pair(ctx):
    global _pair
    if _pair is None:
        build = ctx.stack["BUILD_DIR"]
        _pair = Pair(build, float(ctx.stack["TIME_SCALE"] or 5))
        atexit.register(stop_pair, ctx.stack["LOG_DIR"])
        _set_up_routes(_pair)
    return _pair


def stop_pair(log_dir):
    """stop_pair - stop the pair if a test started it (the runner calls it before it stops the
    main stack, whose LOG_DIR receives any sanitizer report of the pair's logs).  Returns the
    copies of the logs that hold one."""
    global _pair
    copies = []
    if _pair is not None:
        copies = _pair.stop(log_dir)
        _pair = None
    return copies


def _set_up_routes(pair):
    """A relays 06 to B; B executes 06 itself but relays 0655 back to A (a loop).
    B lets alice of A's domain use extension 2001 (B's operator registers remote senders)."""
    a, b = pair.a, pair.b
    remote_alice = a.stack.address("alice")
    b.ctictl("sender", "add", remote_alice, "--note", "test: alice on gw-a")
    b.ctictl("sender", "grant", remote_alice, "2001")
    a.ctictl("gateway", "add", "gw-b", b.cti_address, "--note", "test peer")
    a.ctictl("route", "add", "06", "gw-b", "--note", "test: B serves 06")
    b.ctictl("gateway", "add", "gw-a", a.cti_address, "--note", "test peer")
    b.ctictl("route", "add", "06", "local")
    b.ctictl("route", "add", "0655", "gw-a", "--note", "test: a loop back to A")
    out = a.ctictl("route", "lookup", "0612345678")
    _check("gw-b" in out, "gw-a's ctictl route lookup 0612345678 does not name gw-b: %s" % out)


def _send_request(gw, sender, fields):
    msg = libmail.request_mail(gw.stack, sender, fields)
    msgid = msg["Message-ID"]
    t0 = time.time()
    res = libmail.send(gw.stack, sender, gw.cti_address, libmail.as_bytes(msg))
    return msgid, t0, res


def _files_with(paths, needle):
    found = []
    for p in paths:
        try:
            if needle in libmail.read_file(p):
                found.append(p)
        except OSError:
            pass
    return found


def _queue_ids(lines, msgid):
    """Postfix queue ids whose cleanup logged MSGID as message-id."""
    ids = []
    for line in lines:
        m = re.search(r" ([0-9A-F]{6,}): message-id=(\S+)", line)
        if m and m.group(2) == msgid and m.group(1) not in ids:
            ids.append(m.group(1))
    return ids


def test_routing_relay_to_peer(ctx):
    """A routes 06 to B: the request mailed to A is relayed with an X-CTI-Hop trace, dialled by B's PBX only,
    and B's result notification reaches the sender's Maildir on A."""
    pair = _get_pair(ctx)
    a, b = pair.a, pair.b
    rid = libmail.unique("relay")
    msgid, t0, res = _send_request(a, "alice", [("Source", "2001"), ("Destination", "0612345678"),
                                                ("Request-Id", rid)])
    _check(res.code == 250, "gw-a did not accept the request for B: %d %s" % (res.code, res.text))

    calls = b.pbx.wait(lambda: b.pbx.rx("MakeCall", t0, callingDevice="2001",
                                        calledDirectoryNumber="0612345678"), 30)
    _check(calls, "gw-b's pbx-sim received no MakeCall 2001 -> 0612345678 (B's milter log: %s)"
           % b.stack.log_path("milter.log"))
    _check(not a.pbx.rx("MakeCall", t0, calledDirectoryNumber="0612345678"),
           "gw-a's pbx-sim dialled 0612345678 too: the request was executed on A as well")

    kept = find_mail(b.stack.maildir("call"), header_is("Message-ID", msgid), 20)
    _check(kept is not None, "the relayed request %s is not in gw-b's call Maildir" % msgid)
    hops = kept[1].get_all("X-CTI-Hop") or []
    _check(len(hops) == 1 and hops[0].strip().lower().startswith("gw-a;"),
           "the relayed request carries X-CTI-Hop %r, want one trace naming gw-a" % hops)
    _check(find_mail(a.stack.maildir("call"), header_is("Message-ID", msgid), 0) is None,
           "the relayed request was delivered to gw-a's call Maildir too")
    _check(not _files_with(a.stack.spool_files(), msgid.encode()),
           "gw-a's ctid spooled the relayed request (a job on A)")

    found = find_mail(a.stack.maildir("alice"), in_reply_to(msgid), NOTIFY_TIMEOUT)
    _check(found is not None, "no notification for %s in alice's Maildir on gw-a after %.0f s"
           % (msgid, NOTIFY_TIMEOUT))
    fields, _ = result_fields(found[1])
    _check(fields is not None, "the notification %s has no application/x-cti-result part" % found[0])
    _check(fields.get("status") == "success", "Status is %r, want success (%r)"
           % (fields.get("status"), fields))
    _check(fields.get("request-id") == rid, "Request-Id %r not echoed (%r)" % (rid, fields))
    control(b.stack["PBX_CONTROL"], "hangup 0612345678")


def _queued_on(gw, msgids):
    """The MSGIDS that stand in a file of GW's Postfix queue."""
    files = [libmail.read_file(p) for p in gw.stack.queue_files() if os.path.exists(p)]
    return [m for m in msgids if any(m.encode() in data for data in files)]


def _jobs_for(gw, msgids):
    """GW's ctid jobs for MSGIDS: message id -> [(job id, state, attempts)]."""
    found = {}
    if not os.path.exists(gw.stack["JOBS_DB"]):
        return found
    db = gw.stack.jobs_db()
    try:
        for m in msgids:
            rows = db.execute("SELECT id, state, attempts FROM jobs WHERE message_id = ?", (m,)).fetchall()
            if rows:
                found[m] = rows
    finally:
        db.close()
    return found


def test_routing_r2_relay_holds_while_ctid_down(ctx):
    """R2 through a relaying Postfix: with gw-b's ctid down, gw-b answers gw-a's Postfix 451 for every
    request A relays; the mails wait in A's queue (nothing on B); once B's ctid is back and A's queue is
    flushed, B takes every one, dials each once, and each sender gets exactly one notification on A."""
    pair = _get_pair(ctx)
    a, b = pair.a, pair.b
    n = 20 if getattr(ctx, "long", False) else 5
    sent = []
    t0 = time.time()
    b.stack.service("stop", "ctid")
    try:
        for i in range(n):
            msgid, _t, res = _send_request(a, "alice", [("Source", "2001"), ("Destination", "0699999999"),
                                                        ("Request-Id", libmail.unique("r2relay-%d" % i))])
            _check(res.code == 250, "gw-a did not accept request %d for B: %d %s" % (i, res.code, res.text))
            sent.append(msgid)
        # every one tried once by A's smtp client and deferred with B's 451
        deferred = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            lines = a.maillog()
            deferred = [m for m in sent if any(
                " %s: " % qid in line and "status=deferred" in line and " 451 " in line
                for qid in _queue_ids(lines, m) for line in lines)]
            if len(deferred) == n:
                break
            time.sleep(0.5)
        held = _queued_on(a, sent)
        on_b = _queued_on(b, sent) + _files_with(b.stack.spool_files(), b"r2relay")
        jobs_b = _jobs_for(b, sent)
    finally:
        b.stack.service("start", "ctid")
    print("    R2 relay: ctid down on gw-b: %d requests accepted by gw-a, %d deferred by 451, %d held in "
          "gw-a's queue, %d on gw-b" % (n, len(deferred), len(held), len(on_b) + len(jobs_b)), flush=True)
    _check(len(deferred) == n, "gw-a logged a 451 deferral for %d of %d relayed requests" % (len(deferred), n))
    _check(len(held) == n, "only %d of %d deferred requests are in gw-a's queue" % (len(held), n))
    _check(not on_b and not jobs_b, "gw-b kept something while its ctid was down: %s %s" % (on_b[:3], jobs_b))

    subprocess.run(["postqueue", "-c", a.stack["POSTFIX_CONFIG"], "-f"], check=True)
    deadline = time.monotonic() + 90
    jobs = {}
    while time.monotonic() < deadline:
        jobs = _jobs_for(b, sent)
        if len(jobs) == n and all(r[1] in ("success", "failed", "timeout") for rows in jobs.values()
                                  for r in rows):
            break
        time.sleep(0.5)
    notes = {}
    while time.monotonic() < deadline:
        notes = {m: libmail.find_all(a.stack.maildir("alice"), in_reply_to(m)) for m in sent}
        if all(notes.values()):
            break
        time.sleep(0.5)
    time.sleep(2.0)  # a second copy would have come by now
    notes = {m: libmail.find_all(a.stack.maildir("alice"), in_reply_to(m)) for m in sent}
    calls = b.pbx.rx("MakeCall", t0, calledDirectoryNumber="0699999999")
    states = collections.Counter(r[1] for rows in jobs.values() for r in rows)
    left = _queued_on(a, sent)
    print("    R2 relay: after B's ctid returned and A's queue was flushed: %d jobs on gw-b %s, %d MakeCalls, "
          "notifications %s, %d still in gw-a's queue" % (sum(len(r) for r in jobs.values()), dict(states),
                                                          len(calls), collections.Counter(len(v) for v in notes.values()), len(left)), flush=True)
    _check(len(jobs) == n and all(len(r) == 1 for r in jobs.values()),
           "gw-b has jobs for %d of %d requests (or more than one job for one): %s" % (len(jobs), n, jobs))
    _check(states == {"failed": n}, "gw-b's job states %r, want %d x failed (busy)" % (dict(states), n))
    _check(len(calls) == n, "gw-b's pbx-sim logged %d MakeCalls to 0699999999, want %d" % (len(calls), n))
    _check(not a.pbx.rx("MakeCall", t0, calledDirectoryNumber="0699999999"), "gw-a dialled the requests too")
    _check(all(len(v) == 1 for v in notes.values()),
           "notifications per request on gw-a: %r, want exactly one each" % [len(v) for v in notes.values()])
    _check(not left, "%d requests still in gw-a's queue" % len(left))


def _bounce_for(gw, user, msgid, timeout):
    """A delivery status notification in USER's Maildir that returns MSGID."""
    def pred(msg, raw):
        return (msg.get_content_type() == "multipart/report"
                and "delivery-status" in (msg.get_param("report-type") or "")
                and msgid.encode() in raw)
    return find_mail(gw.stack.maildir(user), pred, timeout)


def test_routing_loop_refused(ctx):
    """A relays 0655 to B, B routes it back to A: B refuses it with 550 5.4.6, the sender gets a
    bounce saying so, nothing is dialled, and the mail crossed once (maillogs)."""
    pair = _get_pair(ctx)
    a, b = pair.a, pair.b
    msgid, t0, res = _send_request(a, "alice", [("Source", "2001"), ("Destination", "0655512345")])
    _check(res.code == 250, "gw-a did not accept (and relay) the request: %d %s" % (res.code, res.text))

    found = _bounce_for(a, "alice", msgid, NOTIFY_TIMEOUT)
    _check(found is not None, "no bounce for %s in alice's Maildir on gw-a after %.0f s"
           % (msgid, NOTIFY_TIMEOUT))
    raw = libmail.read_file(found[0]).decode("utf-8", "replace")
    _check("5.4.6" in raw and "routing loop" in raw,
           "the bounce %s does not carry the 5.4.6 routing-loop text" % found[0])
    _check("gw-a" in raw[raw.find("routing loop"):][:300],
           "the bounce's routing-loop text does not name gw-a")

    time.sleep(2.0)  # would a loop go on, it would show by now
    for gw in (a, b):
        _check(not gw.pbx.rx("MakeCall", t0, calledDirectoryNumber="0655512345"),
               "%s's pbx-sim dialled 0655512345 for a looping request" % gw.name)
    a_ids, b_ids = _queue_ids(a.maillog(), msgid), _queue_ids(b.maillog(), msgid)
    _check(len(a_ids) == 1, "gw-a's Postfix took %s %d times (%s), want once" % (msgid, len(a_ids), a_ids))
    _check(len(b_ids) == 1, "gw-b's Postfix saw %s %d times (%s), want once" % (msgid, len(b_ids), b_ids))
    a_lines = [l for l in a.maillog() if " %s: " % a_ids[0] in l]
    relays = [l for l in a_lines if "to=<%s>" % b.cti_address in l and "status=" in l]
    _check(len(relays) == 1 and "status=bounced" in relays[0],
           "gw-a's relay attempts of %s to gw-b: %r, want one, bounced" % (a_ids[0], relays))
    b_lines = [l for l in b.maillog() if " %s: " % b_ids[0] in l]
    rejects = [l for l in b_lines if "milter-reject" in l and "5.4.6" in l]
    _check(len(rejects) == 1, "gw-b's maillog has %d milter-reject 5.4.6 lines for %s, want 1: %r"
           % (len(rejects), b_ids[0], b_lines))
    _check(not any("status=" in l for l in b_lines), "gw-b queued %s for delivery: %r" % (b_ids[0], b_lines))


def test_routing_no_route_refused(ctx):
    """gw-b (default_route=refuse) answers 550 5.4.4 for a number it has no route for; a route added
    with ctictl is used by the running milter at once, and the same mail then goes through."""
    pair = _get_pair(ctx)
    b = pair.b
    msg = libmail.request_mail(b.stack, "alice", [("Source", "2002"), ("Destination", "0312345678")])
    data = libmail.as_bytes(msg)
    res = libmail.send(b.stack, "alice", b.cti_address, data)
    _check(res.code == 550 and res.text.startswith("5.4.4") and "no route to 0312345678" in res.text,
           "gw-b answered %d %s, want 550 5.4.4 no route to 0312345678" % (res.code, res.text))
    b.ctictl("route", "add", "03", "local", "--note", "test: now served here")
    try:
        t0 = time.time()
        res = libmail.send(b.stack, "alice", b.cti_address, data)
        _check(res.code == 250, "after 'route add 03 local' gw-b answered %d %s, want 250"
               % (res.code, res.text))
        calls = b.pbx.wait(lambda: b.pbx.rx("MakeCall", t0, callingDevice="2002",
                                            calledDirectoryNumber="0312345678"), 30)
        _check(calls, "gw-b's pbx-sim received no MakeCall 2002 -> 0312345678 after the route was added")
        found = find_mail(b.stack.maildir("alice"), in_reply_to(msg["Message-ID"]), NOTIFY_TIMEOUT)
        _check(found is not None, "no notification for the request in alice's Maildir on gw-b")
    finally:
        b.ctictl("route", "del", "03")
        control(b.stack["PBX_CONTROL"], "hangup 0312345678")


TESTS = [
    test_routing_relay_to_peer,
    test_routing_r2_relay_holds_while_ctid_down,
    test_routing_loop_refused,
    test_routing_no_route_refused,
]
