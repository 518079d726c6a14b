"""test_reliability - mailcti under faults and load, against real stacks.

R1 ctid killed (SIGKILL) at random moments while mixed jobs run: every job ends
   in exactly one terminal state, exactly one notification per Notify: yes job
   (a copy sent again after a restart is discarded by cti-milter), no
   attempt dialled twice (MakeCall correlatorData = job id + attempt number).
R2 ctid down: mail gets 451 and stays with the client; all of it is taken and
   executed once ctid is back.
R3 the PBX link cut mid-call (pbx-sim killed and restarted): ctid reconnects
   within a second, resynchronises, and the job ends with a clear cause.
R4 the store fails: DB locked by another writer, or its disk full (a small
   tmpfs under a private stack): 451, never 250; no corruption; mail works
   again once the fault is gone.
R5 load: concurrent SMTP sessions of CTI mail, twice; no errors but rate
   limits, nothing lost, daemon RSS flat (the second run does not grow it; under
   ASan, no LeakSanitizer report when the stack stops).
R6 SIGTERM drains, jobs in flight resume; a schema migration on a store with
   live jobs loses none.
Sizes are reduced by default; the runner's --long runs the full sizes.
Each test prints its figures (lost, duplicated, double-dialled, ...).
"""
import collections
import contextlib
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone

import libmail
import libstack
from libmail import request_mail, send
from libpbx import PbxLog, control

TERMINAL = ("success", "failed", "timeout", "cancelled", "refused", "expired")
TOP = libstack.TOP


def _check(cond, message):
    if not cond:
        raise AssertionError(message)


def _long(ctx):
    return bool(getattr(ctx, "long", False))


def _say(text):
    print("    " + text, flush=True)


# ---------------------------------------------------------------- helpers

def _pid(stack, name):
    try:
        with open(os.path.join(stack.dir, "run", name + ".pid")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def _kill9(stack, name):
    """SIGKILL the service NAME of STACK and wait until it is gone."""
    pid = _pid(stack, name)
    _check(pid is not None and _alive(pid), "%s is not running" % name)
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    _check(not _alive(pid), "%s (pid %d) survived SIGKILL" % (name, pid))


def _rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _sanitized(pid):
    """TRUE when PID runs an AddressSanitizer build (its quarantine makes RSS grow by design)."""
    try:
        with open("/proc/%d/exe" % pid, "rb") as f:
            if b"__asan_init" in f.read():
                return True
        with open("/proc/%d/maps" % pid) as f:
            return "libasan" in f.read()
    except OSError:
        return False


def _db(stack, readonly=True):
    if readonly:
        return stack.jobs_db()
    return sqlite3.connect(stack["JOBS_DB"], timeout=10, isolation_level=None)


def _jobs_by_msgid(stack, msgids):
    """{message-id: [(id, state, notified, attempts, reason)]} for MSGIDS, read-only;
    notified is None for a Notify: no job."""
    out = collections.defaultdict(list)
    want = set(msgids)
    with contextlib.closing(_db(stack)) as db:
        rows = db.execute("SELECT message_id, id, state, notified, attempts, reason, request FROM jobs").fetchall()
    for mid, jid, state, notified, attempts, reason, request in rows:
        if "\nnotify: no" in "\n" + request.lower():
            notified = None  # no notification wanted
        key = mid if mid in want else ("<%s>" % mid if "<%s>" % mid in want else None)
        if key is not None:
            out[key].append((jid, state, notified, attempts, reason))
    return out


def _wait_terminal(stack, msgids, timeout):
    deadline = time.monotonic() + timeout
    while True:
        jobs = _jobs_by_msgid(stack, msgids)
        pending = [m for m in msgids if not jobs.get(m) or
                   any(j[1] not in TERMINAL or j[2] == 0 for j in jobs[m])]
        if not pending or time.monotonic() >= deadline:
            return jobs, pending
        time.sleep(0.5)


def _notifications(stack, users, ids=None):
    """{job id: count} of x-cti-result notifications in the Maildirs of USERS; IDS, when
    given (a dict), gets {job id: [Message-ID of each copy]}."""
    counts = collections.Counter()
    for user in users:
        for path in libmail.maildir_files(stack.maildir(user)):
            try:
                raw = libmail.read_file(path)
            except FileNotFoundError:
                continue
            if b"x-cti-result" not in raw:
                continue
            fields, _ = libmail.result_fields(libmail.parse(raw))
            if fields and fields.get("job-id"):
                counts[fields["job-id"]] += 1
                if ids is not None:
                    ids.setdefault(fields["job-id"], []).append(libmail.parse(raw).get("Message-ID"))
    return counts


def _makecalls(stack, since=0.0):
    """{correlatorData: count} of MakeCalls pbx-sim received since SINCE."""
    counts = collections.Counter()
    for e in PbxLog(stack["PBX_LOG"]).rx("MakeCall", since):
        tag = (e.get("args") or {}).get("correlatorData")
        if tag:
            counts[tag] += 1
    return counts


def _overlapping_redials(stack, since=0.0):
    """Tags (job + attempt) whose MakeCall was sent while the previous call of that same
    tag was still alive on pbx-sim (no fail/null state yet): a second call, not a redial."""
    live = {}      # tag -> call id of its latest MakeCall
    ended = set()  # call ids that failed or were cleared
    waiting = {}   # invoke -> tag, until its MakeCallResponse names the call
    bad = []
    for e in PbxLog(stack["PBX_LOG"]).entries():
        if e.get("wall", 0) < since:
            continue
        kind = e.get("type")
        if kind == "rx" and e.get("service") == "MakeCall":
            tag = (e.get("args") or {}).get("correlatorData")
            if tag and tag in live and live[tag] not in ended:
                bad.append(tag)
            if tag:
                waiting[e.get("invoke")] = tag
        elif kind == "tx" and e.get("msg") == "MakeCallResponse" and e.get("invoke") in waiting:
            found = re.search(r"<callID>([^<]+)</callID>", e.get("xml", ""))
            live[waiting.pop(e.get("invoke"))] = found.group(1) if found else None
        elif kind == "state" and e.get("state") in ("fail", "null"):
            ended.add(e.get("call"))
    return bad


def _ipc(path, verb, fields, timeout=10.0):
    """One MCTI/1 request on the UNIX socket PATH; (verb, {field: value}) of the reply."""
    text = "MCTI/1 %s\n%s\n" % (verb, "".join("%s: %s\n" % kv for kv in fields))
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(text.encode())
        data = b""
        while b"\n\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    lines = data.decode("utf-8", "replace").split("\n")
    verb = lines[0].split(" ", 1)[1] if " " in lines[0] else lines[0]
    out = {}
    for line in lines[1:]:
        if not line:
            break
        name, _, value = line.partition(": ")
        out[name] = value
    return verb, out


def _send_until_accepted(stack, sender, data, deadline, stats):
    """Send like an MTA: retry 4xx answers (and lost connections) until 250 or a 5xx."""
    while True:
        try:
            res = send(stack, sender, stack["CTI_ADDRESS"], data, timeout=30)
        except (OSError, libmail.smtplib.SMTPException) as e:
            res = libmail.SendResult(421, "connection: %s" % e)
        stats[res.code] += 1
        if res.code == 250 or res.code >= 500 or time.monotonic() >= deadline:
            return res
        time.sleep(0.3 + random.random() * 0.5)


SENDERS = {"alice": ["2001", "2002", "2003", "2004", "2005", "2006"],
           "bob": ["2007", "2008"], "carol": ["2009", "2010"]}


def _iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _r1_fields(stack, i, sender):
    """The request fields of job I of the mix; (kind, fields)."""
    source = SENDERS[sender][i % len(SENDERS[sender])]
    kinds = [
        ("answer", [("Destination", "0312345678"), ("Monitor-Time", "8")]),
        ("busy", [("Destination", "0399999999")]),
        ("no-answer", [("Destination", "0388888888"), ("Monitor-Time", "3")]),
        ("retry", [("Destination", "0377777777"), ("Retry", "2; interval=2s"), ("Monitor-Time", "10")]),
        ("wait-for-idle", [("Destination", "0399999999"), ("Wait-For-Idle", "yes"), ("Monitor-Time", "5")]),
        ("user", [("Destination", "0355555555"), ("Trigger", "user"), ("Mailbox", stack.address(sender))]),
        ("not-before", [("Destination", "0344444444"),
                        ("Not-Before", _iso(datetime.now(timezone.utc) + timedelta(seconds=6)))]),
        ("retry-busy", [("Destination", "0399999999"), ("Retry", "2; interval=1s")]),
    ]
    kind, fields = kinds[i % len(kinds)]
    notify = "no" if i % 5 == 4 else "yes"
    return kind, [("Source", source)] + fields + [("Notify", notify), ("Request-Id", "r1-%d" % i)]


def _fire_user_jobs(stack, user_jobs, fired):
    """RETRIEVED for every Trigger: user job found in the DB and not yet fired."""
    jobs = _jobs_by_msgid(stack, list(user_jobs))
    for mid, sender in user_jobs.items():
        for jid, state, _n, _a, _r in jobs.get(mid, []):
            if jid in fired or state != "waiting-user":
                continue
            try:
                verb, _ = _ipc(stack["RETRIEVAL_SOCKET"], "RETRIEVED",
                               [("User", sender), ("Job", jid), ("Mailbox", "INBOX"), ("Uid", "1"),
                                ("Trigger", "fetch:RETR")])
            except OSError:
                continue  # ctid is being restarted; the next round fires it
            if verb == "OK":
                fired.add(jid)


class _Phones(threading.Thread):
    """Puts down answered phones every half second, as people do, so answering numbers stay callable."""

    def __init__(self, stack):
        super().__init__(daemon=True)
        self.stack = stack
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(0.5):
            for number in ("0312345678", "0366666666"):
                try:
                    control(self.stack["PBX_CONTROL"], "hangup " + number, timeout=2)
                except (OSError, ValueError):
                    pass


# ---------------------------------------------------------------- R1

def test_r1_kill_ctid_at_random(ctx):
    """R1: mixed jobs while ctid is SIGKILLed and restarted at random moments: 0 lost, 0 duplicated, 0 double-dialled."""
    stack = ctx.stack
    n_jobs, n_kills = (1000, 20) if _long(ctx) else (100, 5)
    rng = random.Random(os.getpid())
    t0 = time.time()
    phones = _Phones(stack)
    phones.start()
    sent = {}        # msgid -> (sender, kind, notify)
    user_jobs = {}   # msgid -> sender
    stats = collections.Counter()
    lock = threading.Lock()
    order = list(range(n_jobs))
    send_deadline = time.monotonic() + (900 if _long(ctx) else 240)

    def sender_thread(k):
        while True:
            with lock:
                if not order:
                    return
                i = order.pop(0)
            sender = ("alice", "bob", "carol")[i % 3]
            kind, fields = _r1_fields(stack, i, sender)
            msg = request_mail(stack, sender, fields, subject="r1 %d" % i)
            res = _send_until_accepted(stack, sender, libmail.as_bytes(msg), send_deadline, stats)
            with lock:
                if res.code == 250:
                    sent[msg["Message-ID"]] = (sender, kind, dict(fields)["Notify"] == "yes")
                    if kind == "user":
                        user_jobs[msg["Message-ID"]] = sender
                else:
                    stats["final %d %s" % (res.code, res.text[:90])] += 1

    threads = [threading.Thread(target=sender_thread, args=(k,), daemon=True) for k in range(6)]
    for t in threads:
        t.start()
    fired = set()
    kills = 0
    try:
        while kills < n_kills:
            time.sleep(rng.uniform(0.5, 3.0))
            _kill9(stack, "ctid")
            kills += 1
            time.sleep(rng.uniform(0.0, 0.5))
            stack.service("start", "ctid")
            with lock:
                uj = dict(user_jobs)
            _fire_user_jobs(stack, uj, fired)
        for t in threads:
            t.join(timeout=max(1.0, send_deadline - time.monotonic()))
        deadline = time.monotonic() + (600 if _long(ctx) else 120)
        while time.monotonic() < deadline:
            _fire_user_jobs(stack, user_jobs, fired)
            _jobs, pending = _wait_terminal(stack, list(sent), 0)
            if not pending:
                break
            time.sleep(1.0)
        jobs, pending = _wait_terminal(stack, list(sent), 0)
    finally:
        phones.stop.set()
        if _pid(stack, "ctid") is None or not _alive(_pid(stack, "ctid")):
            stack.service("start", "ctid")
    _check(not any(t.is_alive() for t in threads), "the senders did not finish in time")
    # the last notifications on their way through Postfix: a copy whose confirmation
    # was cut by a kill waits in maildrop for pickup's next run (up to 60 s)
    due = [j[0] for m, (_s, _k, notify) in sent.items() if notify for j in jobs.get(m, [])]
    note_deadline = time.monotonic() + 75
    while True:
        time.sleep(2.0)
        note_ids = {}
        notes = _notifications(stack, ("alice", "bob", "carol"), note_ids)
        if all(notes.get(jid) for jid in due) or time.monotonic() >= note_deadline:
            break
    calls = _makecalls(stack, t0)
    lost = [m for m in sent if not jobs.get(m)]
    multiple = [m for m in sent if len(jobs.get(m, [])) > 1]
    hanging = [(m, [j[1] for j in jobs[m]]) for m in pending if jobs.get(m)]
    missing_note = dup_note = extra_note = 0
    double = []
    for m, (sender, kind, notify) in sent.items():
        for jid, state, _n, attempts, _r in jobs.get(m, []):
            c = notes.get(jid, 0)
            if notify and c == 0 and state in TERMINAL:
                missing_note += 1
            if c > 1:
                dup_note += 1
            if not notify and c:
                extra_note += 1
            if kind == "wait-for-idle":
                continue  # redialling a busy number within its attempt is what Wait-For-Idle does:
                # checked below for overlapping calls instead
            for a in range(1, attempts + 1):
                if calls.get("%s%04x" % (jid, a), 0) > 1:
                    double.append((jid, a, calls["%s%04x" % (jid, a)]))
    overlapping = _overlapping_redials(stack, t0)
    double += [(tag[:32], int(tag[32:], 16), "overlapping") for tag in overlapping]
    states = collections.Counter(j[1] for js in jobs.values() for j in js)
    _say("R1: %d jobs accepted, %d kills; SMTP answers %s; states %s" %
         (len(sent), kills, dict(stats), dict(states)))
    _say("R1: lost %d, duplicated jobs %d, not terminal %d, notifications missing %d, duplicated %d, "
         "unwanted %d, double-dialled attempts %d; %d MakeCalls tagged" %
         (len(lost), len(multiple), len(hanging), missing_note, dup_note, extra_note, len(double),
          sum(calls.values())))
    _check(len(sent) == n_jobs, "only %d of %d requests were accepted (%r)" % (len(sent), n_jobs, dict(stats)))
    _check(not lost, "%d accepted requests have no job: %s" % (len(lost), lost[:5]))
    _check(not multiple, "%d requests have more than one job: %s" % (len(multiple), multiple[:5]))
    _check(not hanging, "%d jobs not terminal and notified: %s" % (len(hanging), hanging[:5]))
    _check(missing_note == 0 and dup_note == 0 and extra_note == 0,
           "notifications: %d missing, %d duplicated, %d for Notify: no (duplicates: %s)" %
           (missing_note, dup_note, extra_note,
            [(j, note_ids[j]) for j, n in notes.items() if n > 1][:5]))
    _check(not double, "attempts dialled more than once (job, attempt, MakeCalls): %s" % double[:5])
    _check(sum(calls.values()) > 0, "pbx-sim logged no MakeCall with correlatorData")


def test_r1_unconfirmed_notification_shown(ctx):
    """R1's confirmation made visible: a notification that cti-milter cannot confirm (milter down on
    Postfix's local path) stays in Postfix and shows in ctictl status as Notify-Unconfirmed; once the
    milter is back it is confirmed, delivered once, and the count returns to 0."""
    stack = ctx.stack
    msg = request_mail(stack, "bob", [("Source", "2007"), ("Destination", "0388888888"),
                                      ("Monitor-Time", "3"), ("Request-Id", "r1-unconfirmed")])
    res = send(stack, "bob", stack["CTI_ADDRESS"], libmail.as_bytes(msg))
    _check(res.code == 250, "request not accepted: %d %s" % (res.code, res.text))
    before = int(stack.ctictl_json("status").get("Notify-Unconfirmed", "-1"))
    stack.service("stop", "milter")
    try:
        deadline = time.monotonic() + 30
        while True:  # terminal, its notification handed to sendmail but not confirmed
            jobs = _jobs_by_msgid(stack, [msg["Message-ID"]]).get(msg["Message-ID"], [])
            if (jobs and jobs[0][1] in TERMINAL) or time.monotonic() >= deadline:
                break
            time.sleep(0.5)
        _check(jobs and jobs[0][1] in TERMINAL, "the job did not end: %r" % jobs)
        job_id = jobs[0][0]
        held = {}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            held = stack.ctictl_json("status")
            if int(held.get("Notify-Unconfirmed", "0")) > before:
                break
            time.sleep(0.5)
        delivered_early = _notifications(stack, ("bob",)).get(job_id, 0)
    finally:
        stack.service("start", "milter")
    subprocess.run(["postqueue", "-c", stack["POSTFIX_CONFIG"], "-f"], check=True)
    deadline = time.monotonic() + 90
    count, after = 0, {}
    while time.monotonic() < deadline:
        count = _notifications(stack, ("bob",)).get(job_id, 0)
        after = stack.ctictl_json("status")
        if count and int(after.get("Notify-Unconfirmed", "1")) == before:
            break
        time.sleep(1.0)
    _say("R1 unconfirmed: milter down: status Notify-Unconfirmed %s (age %s s), %d delivered; milter back: "
         "%d delivered, Notify-Unconfirmed %s" % (held.get("Notify-Unconfirmed"), held.get("Notify-Unconfirmed-Age"),
                                                   delivered_early, count, after.get("Notify-Unconfirmed")))
    _check(before >= 0, "ctictl status has no Notify-Unconfirmed field")
    _check(int(held.get("Notify-Unconfirmed", "0")) == before + 1 and "Notify-Unconfirmed-Age" in held,
           "with the milter down ctictl status showed %r, want Notify-Unconfirmed %d and an age" % (held, before + 1))
    _check(delivered_early == 0, "the notification was delivered without cti-milter's confirmation")
    _check(count == 1, "%d notifications delivered after the milter came back, want 1" % count)
    _check(int(after.get("Notify-Unconfirmed", "-1")) == before,
           "Notify-Unconfirmed is %r after the confirmation, want %d" % (after.get("Notify-Unconfirmed"), before))


# ---------------------------------------------------------------- R2

def test_r2_ctid_down_mail_waits(ctx):
    """R2: with ctid down every CTI mail gets 451 and stays at the client; after ctid returns all are taken and run."""
    stack = ctx.stack
    n = 30 if _long(ctx) else 8
    mails = []
    for i in range(n):
        msg = request_mail(stack, "alice", [("Source", "2001"), ("Destination", "0399999999"),
                                            ("Request-Id", "r2-%d" % i)])
        mails.append((msg["Message-ID"], libmail.as_bytes(msg)))
    stack.service("stop", "ctid")
    try:
        codes = collections.Counter(send(stack, "alice", stack["CTI_ADDRESS"], data).code for _m, data in mails)
        time.sleep(0.5)
        queued = [m for m, _d in mails for p in stack.queue_files()
                  if os.path.exists(p) and m.encode() in libmail.read_file(p)]
    finally:
        stack.service("start", "ctid")
    t0 = time.time()
    after = collections.Counter(send(stack, "alice", stack["CTI_ADDRESS"], data).code for _m, data in mails)
    jobs, pending = _wait_terminal(stack, [m for m, _d in mails], 60)
    calls = PbxLog(stack["PBX_LOG"]).rx("MakeCall", t0, calledDirectoryNumber="0399999999")
    done = sum(1 for m, _d in mails if jobs.get(m) and all(j[1] in TERMINAL for j in jobs[m]))
    _say("R2: ctid down: %d mails answered %s, %d in the Postfix queue; ctid back: answered %s, "
         "%d jobs terminal, %d MakeCalls" % (n, dict(codes), len(queued), dict(after), done, len(calls)))
    _check(codes == {451: n}, "with ctid down the answers were %r, want %d x 451" % (dict(codes), n))
    _check(not queued, "tempfailed mails are in the Postfix queue: %s" % queued[:3])
    _check(after == {250: n}, "after ctid returned the answers were %r, want %d x 250" % (dict(after), n))
    _check(not pending and done == n, "%d of %d jobs not terminal: %s" % (n - done, n, pending[:3]))
    _check(len(calls) >= n, "only %d MakeCalls for %d jobs" % (len(calls), n))


# ---------------------------------------------------------------- R3

def _session_lines(stack, since):
    return [e for e in PbxLog(stack["PBX_LOG"]).entries()
            if e.get("type") == "session" and e.get("wall", 0) >= since]


def test_r3_pbx_cut_mid_call(ctx):
    """R3: pbx-sim killed mid-call and restarted: ctid reconnects within 1 s, resyncs, the job ends with a clear cause."""
    stack = ctx.stack
    rounds = 5 if _long(ctx) else 1
    for r in range(rounds):
        msg = request_mail(stack, "alice", [("Source", "2002"), ("Destination", "0388888888"),
                                            ("Monitor-Time", "30"), ("Request-Id", "r3-%d" % r)])
        mid = msg["Message-ID"]
        t0 = time.time()
        res = send(stack, "alice", stack["CTI_ADDRESS"], libmail.as_bytes(msg))
        _check(res.code == 250, "request not accepted: %d %s" % (res.code, res.text))
        pbx = PbxLog(stack["PBX_LOG"])
        calls = pbx.wait(lambda: pbx.rx("MakeCall", t0, calledDirectoryNumber="0388888888"), 15)
        _check(calls, "no MakeCall to 0388888888")
        ringing = pbx.wait(lambda: [e for e in pbx.entries() if e.get("type") == "state"
                                    and e.get("wall", 0) >= t0 and e.get("state") == "alerting"], 10)
        _check(ringing, "the call never alerted")
        _kill9(stack, "pbx-sim")
        cut = time.time()
        time.sleep(2.0)
        stack.service("start", "pbx-sim")
        started = pbx.wait(lambda: [e for e in _session_lines(stack, cut) if e.get("event") == "start"], 10)
        _check(started, "pbx-sim logged no start line after its restart")
        back = started[0]["wall"]
        # the session is up at ECMA-354 StartApplicationSession, or SystemRegister (system-status style)
        sessions = pbx.wait(lambda: [e for e in _session_lines(stack, back) if e.get("event") == "session-start"]
                            + pbx.rx("SystemRegister", back), 10)
        _check(sessions, "ctid started no session within 10 s of pbx-sim's restart")
        delay = sessions[0]["wall"] - back
        snaps = pbx.wait(lambda: pbx.rx("SnapshotDevice", back), 10)
        jobs, pending = _wait_terminal(stack, [mid], 45)
        job = jobs.get(mid, [None])[0]
        _say("R3: reconnected %.2f s after pbx-sim listened again (%s); SnapshotDevice %d; job %s: %s" %
             (delay, sessions[0].get("event", sessions[0].get("service")), len(snaps),
              job[1] if job else None, job[4] if job else None))
        _check(delay <= 1.0, "ctid reconnected %.2f s after pbx-sim was back, want <= 1 s" % delay)
        _check(snaps, "ctid sent no SnapshotDevice after the reconnect")
        _check(not pending and job, "job %s still not terminal 45 s after the cut" % mid)
        _check(job[1] in ("failed", "timeout"), "job ended %s, want failed or timeout" % job[1])
        _check(job[4] and ("link" in job[4].lower() or "lost" in job[4].lower()),
               "the reason %r does not say the PBX link was lost" % job[4])


# ---------------------------------------------------------------- R4

def _integrity(path):
    with contextlib.closing(sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0]


def test_r4_db_locked(ctx):
    """R4: the jobs DB held by another writer: 451 (never 250); integrity ok; new mail works after the lock is gone."""
    stack = ctx.stack
    db = _db(stack, readonly=False)
    db.execute("BEGIN EXCLUSIVE")
    try:
        msg = request_mail(stack, "alice", [("Source", "2003"), ("Destination", "0399999999")])
        t = time.monotonic()
        res = send(stack, "alice", stack["CTI_ADDRESS"], libmail.as_bytes(msg))
        took = time.monotonic() - t
    finally:
        db.execute("ROLLBACK")
        db.close()
    ok = _integrity(stack["JOBS_DB"])
    jobs = _jobs_by_msgid(stack, [msg["Message-ID"]])
    msg2 = request_mail(stack, "alice", [("Source", "2003"), ("Destination", "0399999999")])
    res2 = send(stack, "alice", stack["CTI_ADDRESS"], libmail.as_bytes(msg2))
    _say("R4 locked: answered %d %s after %.1f s; integrity %s; afterwards %d" %
         (res.code, res.text[:60], took, ok, res2.code))
    _check(res.code == 451, "with the DB locked the mail got %d %s, want 451" % (res.code, res.text))
    _check(not jobs, "a job was stored for the tempfailed mail")
    _check(ok == "ok", "integrity_check: %s" % ok)
    _check(res2.code == 250, "after the lock the mail got %d %s" % (res2.code, res2.text))


class _PrivateStack:
    """A stack of its own under a temporary directory, from the running stack's build."""

    def __init__(self, ctx, *extra):
        self.base = tempfile.mkdtemp(prefix="mailcti-rel.")
        os.chmod(self.base, 0o755)
        self.extra = list(extra)
        self.ctx = ctx
        self.dir = os.path.join(self.base, "stack")
        self.stack = None

    def start(self):
        cmd = [libstack.STACK_SCRIPT, "start", self.dir, "--build", self.ctx.stack["BUILD_DIR"],
               "--time-scale", self.ctx.stack["TIME_SCALE"], "--name", "rel"] + self.extra
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        self.stack = libstack.Stack(self.dir)
        return self.stack

    def stop(self):
        """Stop the stack; a sanitizer report in its logs (ASan build) fails the test, and a
        copy of that log goes to the main stack's log dir for the run's own scan."""
        subprocess.run([libstack.STACK_SCRIPT, "stop", self.dir], check=False, stdout=subprocess.DEVNULL)
        copies = libstack.keep_sanitizer_reports(self.dir, self.ctx.stack["LOG_DIR"],
                                                 os.path.basename(self.base))
        _check(not copies, "sanitizer reports in the private stack's logs: %s" % copies)


def test_r4_disk_full(ctx):
    """R4: the store's disk (a small tmpfs) full: 451, never 250; integrity ok; mail works once space is back."""
    priv = _PrivateStack(ctx)
    mnt = os.path.join(priv.base, "store")
    os.makedirs(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", mnt], check=True)
    try:
        priv.extra = ["--set", "ctid.jobs_db=%s/jobs.db" % mnt, "--set", "ctid.spool_dir=%s/spool" % mnt]
        stack = priv.start()
        stack.env["JOBS_DB"] = os.path.join(mnt, "jobs.db")
        fields = [("Source", "2001"), ("Destination", "0399999999"), ("Notify", "no")]
        first = send(stack, "alice", stack["CTI_ADDRESS"], libmail.as_bytes(request_mail(stack, "alice", fields)))
        _check(first.code == 250, "before the fault the mail got %d %s" % (first.code, first.text))
        filler = os.path.join(mnt, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * 65536)
        except OSError:
            pass  # the disk is full
        finally:
            os.close(fd)
        codes = collections.Counter()
        msgids = []
        for i in range(5):
            msg = request_mail(stack, "alice", fields + [("Request-Id", "r4-%d" % i)])
            msgids.append(msg["Message-ID"])
            codes[send(stack, "alice", stack["CTI_ADDRESS"], libmail.as_bytes(msg)).code] += 1
        os.unlink(filler)
        ok = _integrity(stack["JOBS_DB"])
        stored = _jobs_by_msgid(stack, msgids)
        after = send(stack, "alice", stack["CTI_ADDRESS"], libmail.as_bytes(request_mail(stack, "alice", fields)))
        _say("R4 disk full: answers %s; integrity %s; afterwards %d" % (dict(codes), ok, after.code))
        _check(set(codes) == {451}, "with the disk full the answers were %r, want only 451" % dict(codes))
        _check(not stored, "jobs were stored for tempfailed mails: %s" % list(stored)[:3])
        _check(ok == "ok", "integrity_check: %s" % ok)
        _check(after.code == 250, "after the fault the mail got %d %s" % (after.code, after.text))
    finally:
        try:
            priv.stop()
        finally:
            _unmount(mnt)
            shutil.rmtree(priv.base, ignore_errors=True)


def _unmount(mnt):
    for _ in range(50):  # a process of the stack may take a moment to let go of the mount
        if not _mounted(mnt):
            return
        subprocess.run(["umount", mnt], stderr=subprocess.DEVNULL)
        time.sleep(0.1)
    if _mounted(mnt):
        subprocess.run(["umount", "-l", mnt], stderr=subprocess.DEVNULL)
        raise AssertionError("the tmpfs at %s was still busy after the stack stopped (lazily unmounted)" % mnt)


def _mounted(path):
    with open("/proc/self/mounts") as f:
        return any(line.split()[1] == path for line in f)


# ---------------------------------------------------------------- R5

LOAD_LIMITS = ["--set", "limits.per_sender_per_minute=1000000", "--set", "limits.per_sender_per_hour=1000000",
               "--set", "limits.global_per_minute=1000000", "--set", "limits.global_per_hour=1000000",
               "--set", "limits.per_sender_concurrent=100000", "--set", "limits.global_concurrent=100000"]


def test_r5_load(ctx):
    """R5: concurrent SMTP sessions of CTI mail (private stack, rate limits lifted): 0 errors, 0 lost, RSS flat."""
    priv = _PrivateStack(ctx, *LOAD_LIMITS)
    try:
        _r5_load(ctx, priv.start())
    finally:
        try:
            priv.stop()
        finally:
            shutil.rmtree(priv.base, ignore_errors=True)


def _r5_load(ctx, stack):
    sessions, seconds = (100, 60) if _long(ctx) else (20, 15)
    users = ("alice", "bob", "carol")

    def burst(duration, n):
        stats, sent, lock = collections.Counter(), [], threading.Lock()
        stop_at = time.monotonic() + duration

        def worker(k):
            user = users[k % 3]
            i = 0
            while time.monotonic() < stop_at:
                src = SENDERS[user][i % len(SENDERS[user])]
                msg = request_mail(stack, user, [("Source", src), ("Destination", "0399999999"),
                                                 ("Notify", "no"), ("Request-Id", "r5-%d-%d" % (k, i))])
                i += 1
                try:
                    res = send(stack, user, stack["CTI_ADDRESS"], libmail.as_bytes(msg), timeout=60)
                except (OSError, libmail.smtplib.SMTPException) as e:
                    res = libmail.SendResult(421, str(e))
                with lock:
                    stats[res.code] += 1
                    if res.code == 250:
                        sent.append(msg["Message-ID"])
                    elif res.code not in (450,):
                        stats["text:%s" % res.text[:60]] += 1

        threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(duration + 120)
        return stats, sent

    # warm up with the same load (at most 15 s of it): caches, SQLite's page caches of the
    # jobs and policy DBs, prepared statements, malloc arenas; a short warm-up left the
    # reduced run still filling them in its second run, while the full-size runs are flat
    _wait_terminal(stack, burst(min(seconds, 15), sessions)[1], 120)
    pids = {name: _pid(stack, name) for name in ("ctid", "milter")}
    rss = [{name: _rss_kb(pid) for name, pid in pids.items()}]
    # two runs of the same load: the first may still fill caches and malloc arenas, the
    # second must leave the memory where the first left it (flat, not growing per job)
    for run in (1, 2):
        stats, sent = burst(seconds, sessions)
        jobs, pending = _wait_terminal(stack, sent, 120)
        time.sleep(1.0)
        rss.append({name: _rss_kb(pid) for name, pid in pids.items()})
        errors = {k: v for k, v in stats.items() if k not in (250, 450)}
        lost = [m for m in sent if not jobs.get(m)]
        _say("R5 run %d: %d sessions x %d s: %d accepted (%.1f/s), answers %s; lost %d, not terminal %d; "
             "RSS kB %s" % (run, sessions, seconds, len(sent), len(sent) / seconds, dict(stats), len(lost),
                            len(pending), rss[-1]))
        _check(not errors, "SMTP errors other than rate limits: %r" % errors)
        _check(sent, "no mail was accepted")
        _check(not lost, "%d accepted mails have no job" % len(lost))
        _check(not pending, "%d jobs not terminal 120 s after the load" % len(pending))
    for name in pids:
        if _sanitized(pids[name]):
            _say("R5: %s is an ASan build: RSS not compared (the quarantine grows it by design); "
                 "instead any leak LeakSanitizer finds when the stack stops fails this test" % name)
            continue
        first, second = rss[1][name] - rss[0][name], rss[2][name] - rss[1][name]
        _say("R5: %s RSS %d -> %d kB in the first run (%+d), -> %d kB in the second (%+d)" %
             (name, rss[0][name], rss[1][name], first, rss[2][name], second))
        _check(second < max(4096, rss[1][name] // 10),
               "%s RSS grew by %d kB in the second run of the same load (%d -> %d kB): memory is not flat" %
               (name, second, rss[1][name], rss[2][name]))


# ---------------------------------------------------------------- R6

def test_r6_sigterm_drains_and_resumes(ctx):
    """R6: SIGTERM with jobs in flight: ctid exits 0 promptly; after the start every job ends, once notified."""
    stack = ctx.stack
    n = 12 if _long(ctx) else 4
    mids = []
    t0 = time.time()
    for i in range(n):
        fields = [("Source", "2004"), ("Destination", "0388888888"), ("Monitor-Time", "6"),
                  ("Request-Id", "r6-%d" % i)] if i % 2 == 0 else \
                 [("Source", "2005"), ("Destination", "0399999999"),
                  ("Not-Before", _iso(datetime.now(timezone.utc) + timedelta(seconds=4))),
                  ("Request-Id", "r6-%d" % i)]
        msg = request_mail(stack, "alice", fields)
        res = send(stack, "alice", stack["CTI_ADDRESS"], libmail.as_bytes(msg))
        _check(res.code == 250, "request not accepted: %d %s" % (res.code, res.text))
        mids.append(msg["Message-ID"])
    pbx = PbxLog(stack["PBX_LOG"])
    pbx.wait(lambda: pbx.rx("MakeCall", t0, calledDirectoryNumber="0388888888"), 10)
    pid = _pid(stack, "ctid")
    log = stack.log_path("ctid.log")
    log_size = os.path.getsize(log)
    t = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    while _alive(pid) and time.monotonic() - t < 6:
        time.sleep(0.02)
    took = time.monotonic() - t
    _check(not _alive(pid), "ctid did not exit within 6 s of SIGTERM")
    with open(log, "rb") as f:
        f.seek(log_size)
        tail = f.read().decode("utf-8", "replace")
    mid_state = _jobs_by_msgid(stack, mids)
    live = sum(1 for js in mid_state.values() for j in js if j[1] not in TERMINAL)
    stack.service("start", "ctid")
    jobs, pending = _wait_terminal(stack, mids, 60)
    time.sleep(2.0)
    notes = _notifications(stack, ("alice",))
    counts = [notes.get(jobs[m][0][0], 0) for m in mids if jobs.get(m)]
    _say("R6: SIGTERM exit after %.2f s with %d live jobs; after the start: states %s, notifications %s" %
         (took, live, [jobs[m][0][1] for m in mids if jobs.get(m)], counts))
    _check("fatal" not in tail.lower() and "critical" not in tail.lower(), "ctid logged at shutdown: %s" % tail)
    _check(live > 0, "no job was in flight at the SIGTERM (the test proves nothing)")
    _check(not pending, "jobs not terminal after the restart: %s" % pending)
    _check(counts == [1] * n, "notifications per job %s, want one each" % counts)


def _schema_sql(name):
    with open(os.path.join(TOP, "schema", name), encoding="utf-8") as f:
        return f.read()


def test_r6_migration_with_live_jobs(ctx):
    """R6: a store at schema 1 holding live jobs is migrated by ctid at start; no job is lost, all run."""
    priv = _PrivateStack(ctx)
    try:
        stack = priv.start()
        # real jobs first, to copy their canonical request text and spool files
        mids = []
        for i in range(4):
            msg = request_mail(stack, "alice", [("Source", "2001"), ("Destination", "0399999999"),
                                                ("Not-Before", _iso(datetime.now(timezone.utc) + timedelta(hours=1))),
                                                ("Request-Id", "r6m-%d" % i)])
            res = send(stack, "alice", stack["CTI_ADDRESS"], libmail.as_bytes(msg))
            _check(res.code == 250, "request not accepted: %d %s" % (res.code, res.text))
            mids.append(msg["Message-ID"])
        stack.service("stop", "ctid")
        path = stack["JOBS_DB"]
        with contextlib.closing(sqlite3.connect(path)) as db:
            rows = db.execute("SELECT id, state, request, sender, recipient, auth_authen, client_addr, queue_id, "
                              "message_id, mailbox, created FROM jobs").fetchall()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.unlink(path + suffix)
        db = sqlite3.connect(path, isolation_level=None)
        db.executescript(_schema_sql("jobs-001.sql"))
        db.execute("PRAGMA user_version = 1")
        now = int(time.time())
        for i, row in enumerate(rows):
            row = list(row)
            row[1] = "queued"
            db.execute("INSERT INTO jobs (id, state, request, sender, recipient, auth_authen, client_addr, "
                       "queue_id, message_id, mailbox, created, due_at) "
                       "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", row + [now + i])
        db.close()
        os.chown(path, os.stat(os.path.dirname(path)).st_uid, os.stat(os.path.dirname(path)).st_gid)
        t0 = time.time()
        stack.service("start", "ctid")
        with contextlib.closing(sqlite3.connect("file:%s?mode=ro" % path, uri=True)) as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        jobs, pending = _wait_terminal(stack, mids, 60)
        calls = PbxLog(stack["PBX_LOG"]).rx("MakeCall", t0, calledDirectoryNumber="0399999999")
        _say("R6 migration: %d live jobs at schema 1 -> user_version %d; states %s; %d MakeCalls" %
             (len(rows), version, [jobs[m][0][1] for m in mids if jobs.get(m)], len(calls)))
        _check(len(rows) == 4, "expected 4 jobs to copy, found %d" % len(rows))
        _check(version >= 2 and "forwardings" in tables, "the store was not migrated (user_version %d)" % version)
        _check(all(jobs.get(m) for m in mids), "jobs lost in the migration")
        _check(not pending, "jobs not terminal after the migration: %s" % pending)
        _check(len(calls) >= 4, "only %d MakeCalls for the 4 migrated jobs" % len(calls))
        _check(_integrity(path) == "ok", "integrity_check failed after the migration")
    finally:
        try:
            priv.stop()
        finally:
            shutil.rmtree(priv.base, ignore_errors=True)


TESTS = [test_r1_unconfirmed_notification_shown, test_r2_ctid_down_mail_waits, test_r3_pbx_cut_mid_call, test_r4_db_locked, test_r4_disk_full,
         test_r6_sigterm_drains_and_resumes, test_r6_migration_with_live_jobs, test_r5_load,
         test_r1_kill_ctid_at_random]
