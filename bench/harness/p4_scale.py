"""p4_scale - P4: ctid at scale.

ctid's spool and DB are on tmpfs (/dev/shm) here: P4 is about memory and
dispatch at scale, P2 measures the fsync'd commit.
(a) Live jobs: a private ctid (with a private pbx-sim) gets 10,000 jobs
SUBMITted straight over its ipc socket (4 parallel clients), half of them
waiting on a timer (Not-Before a day ahead) and half waiting for the mailbox
owner (Trigger: user).  Reported: submit rate, ctid's RSS and peak RSS once
all are live (STATUS counts checked).  Target: RSS <= 40 MiB.
(b) CSTA rate: jobs due at one common second (Not-Before a few seconds
ahead) fire together; the rate of requests pbx-sim logs ("rx" lines) during
that burst is what ctid drove.  Target >= 2,000 requests/s.  pbx-sim's own
ceiling comes from pbxsim's bench/pbx-sim-bench.py when present.
Owns the processes it starts.
"""

import concurrent.futures
import datetime
import json
import os
import re
import subprocess
import sys
import time

from . import util
from .mailcti import Instance, find_program, request_text, submit_job, ipc_status

RSS_MIB = 40.0
RATE = 2000.0


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def submit_many(inst, reqs, workers=4):
    """submit_many - SUBMIT every (request, mailbox); (seconds, ok count, first error)."""
    errors = []

    def one(item):
        req, mailbox = item
        try:
            verb, fields = submit_job(inst.ctid_socket, req, mailbox=mailbox)
        except (OSError, util.NotMeasurable) as e:
            return str(e)
        return None if verb == "OK" else "%s %s" % (verb, fields.get("reason", ""))

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        for r in ex.map(one, reqs, chunksize=64):
            if r:
                errors.append(r)
    return time.monotonic() - t0, len(reqs) - len(errors), errors[:1]


def live_jobs(ctx, table, inst):
    n = ctx.scale(10000, 200)
    nb = iso(time.time() + 86400)
    reqs = []
    for i in range(n):
        src = str(2001 + i % 999)
        if i % 2:
            reqs.append((request_text("0312345678", source=src, trigger="user"), "alice@bench.example"))
        else:
            reqs.append((request_text("0312345678", source=src, extra=["Not-Before: " + nb]), None))
    rss0 = util.proc_status(inst.ctid.pid, "VmRSS")
    secs, ok, err = submit_many(inst, reqs)
    time.sleep(0.5)
    rss = util.proc_status(inst.ctid.pid, "VmRSS")
    hwm = util.proc_status(inst.ctid.pid, "VmHWM")
    st = ipc_status(inst.ctid_socket)
    live = sum(int(v) for k, v in st.items() if k in ("jobs-queued", "jobs-waiting-user", "jobs-retry-wait",
                                                       "jobs-running") and v.isdigit())
    if err:
        table.note("%d of %d submits failed, first: %s" % (n - ok, n, err[0]))
    if ok == 0:
        table.add_nm(("live jobs: ctid RSS",), "no job accepted: %s" % (err[0] if err else "?"))
        return
    table.add("submit %d jobs over ipc (4 clients)" % n, "%.0f jobs/s" % (ok / secs), "", "")
    ctx.submit_rate = ok / secs
    table.add("ctid RSS with %d live jobs (STATUS: %s live)" % (ok, live if st else "?"),
              "%.1f MiB (idle %.1f)" % (rss / 1024.0, (rss0 or 0) / 1024.0),
              "peak %.1f MiB" % (hwm / 1024.0),
              util.verdict(rss / 1024.0 <= RSS_MIB and ok >= n, "<= %g MiB at %d jobs" % (RSS_MIB, n)))


def csta_rate(ctx, table, inst):
    n = ctx.scale(4000, 100)
    # due once every job is surely in: the submit rate seen in the live-jobs phase, with a margin
    rate = getattr(ctx, "submit_rate", 0) or 200.0
    due = int(time.time() + 2 * n / rate) + 2
    reqs = [(request_text("0312345678", source=str(2001 + i % 999), monitor="30",
                          extra=["Not-Before: " + iso(due)]), None) for i in range(n)]
    secs, ok, err = submit_many(inst, reqs)
    if time.time() >= due:
        table.note("CSTA burst: submitting took %.1f s, past the common due time" % secs)
    log_path = inst.pbx_log
    start = os.path.getsize(log_path) if os.path.exists(log_path) else 0
    time.sleep(max(0.0, due - time.time()) + ctx.scale(12, 4))
    walls = []
    services = {}
    with open(log_path, "rb") as f:
        f.seek(start)
        for line in f:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("type") == "rx" and float(rec.get("wall", 0)) >= due - 1:
                walls.append(float(rec["wall"]))
                services[rec.get("service")] = services.get(rec.get("service"), 0) + 1
    if len(walls) < 2:
        table.add_nm(("CSTA requests/s ctid drove",), "pbx-sim logged %d requests after the due time (%d jobs "
                     "accepted%s)" % (len(walls), ok, ", " + err[0] if err else ""))
        return
    walls.sort()
    # the densest second of the burst and the whole burst's average
    best, j = 0, 0
    for i, w in enumerate(walls):
        while walls[j] < w - 1.0:
            j += 1
        best = max(best, i - j + 1)
    span = walls[-1] - walls[0]
    rate = len(walls) / span if span > 0 else float(len(walls))
    table.add("CSTA requests/s ctid drove (%d jobs due at once)" % ok, "%.0f req/s over %.2f s" % (rate, span),
              "busiest 1 s: %d" % best, util.verdict(best >= RATE, ">= %g req/s" % RATE))
    table.note("requests in the burst: " + ", ".join("%s=%d" % kv for kv in sorted(services.items())))


CEILING_LINE = re.compile(r"^(\S+)\s+(\d+) requests\s+([0-9.]+) req/s wall\s+([0-9.]+|inf) req/CPU-s(.*)$")


def pbxsim_ceiling(ctx, table):
    """pbxsim_ceiling - pbxsim's bench/pbx-sim-bench.py against the built pbx-sim, one row per workload."""
    script = os.path.join(ctx.src_dir, "bench", "pbx-sim-bench.py")
    if not os.path.exists(script):
        table.add_nm(("pbx-sim's own ceiling",), "bench/pbx-sim-bench.py (pbxsim's) not present")
        return
    try:
        binary = find_program(ctx.build_dir, ctx.src_dir, "pbx-sim")
    except util.NotMeasurable as e:
        table.add_nm(("pbx-sim's own ceiling",), str(e))
        return
    argv = [sys.executable, script, "--binary", binary, "--requests", str(ctx.scale(20000, 1000))]
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=ctx.scale(180, 30), stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        table.add_nm(("pbx-sim's own ceiling",), "pbx-sim-bench.py timed out")
        return
    lines = [l.strip() for l in r.stdout.strip().splitlines() if l.strip()]
    if r.returncode != 0:
        table.add_nm(("pbx-sim's own ceiling",), "pbx-sim-bench.py exit %d: %s" % (r.returncode,
                                                                                  " | ".join(lines[-2:])))
        return
    rows = 0
    for l in lines:
        m = CEILING_LINE.match(l)
        if m:
            rows += 1
            table.add("pbx-sim's own ceiling: %s (pbx-sim-bench)" % m.group(1), "%s req/s wall" % m.group(3),
                      "%s req/CPU-s%s" % (m.group(4), m.group(5)), "(reference)")
    if not rows:
        table.add_nm(("pbx-sim's own ceiling",), "no result line in: " + " | ".join(lines[-2:]))


def run(ctx):
    table = util.Table("P4 ctid at scale", ["measure", "value", "detail", "target"])
    procs = util.Procs(ctx.workdir)
    # ctid's spool and DB on tmpfs: P4 is about memory and dispatch at scale;
    # the cost of each fsync'd commit is P2's subject, and 10,000 of them on
    # a shared disk would take minutes.
    base = util.make_workdir(keep=False, parent="/dev/shm" if os.path.isdir("/dev/shm") else None)
    table.note("ctid's spool and jobs DB on %s (tmpfs: commits are P2's subject)" % base)
    inst = Instance(os.path.join(base, "mailcti"), ctx.build_dir, ctx.src_dir, procs, time_scale=10.0)
    try:
        try:
            inst.start_pbx()
            inst.start_ctid()
        except util.NotMeasurable as e:
            table.add_nm(("live jobs / CSTA rate",), str(e))
        else:
            live_jobs(ctx, table, inst)
            ctx.progress("P4 live jobs done")
            csta_rate(ctx, table, inst)
            ctx.progress("P4 CSTA burst done")
    finally:
        inst.stop()
        procs.stop_all()
    pbxsim_ceiling(ctx, table)
    return table
