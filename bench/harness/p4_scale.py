"""p4_scale - P4: ctid at scale.

ctid's spool and DB are on tmpfs (/dev/shm) here: P4 is about memory and
dispatch at scale, P2 measures the fsync'd commit.
(a) Live jobs: a private ctid (with a private pbx-sim) gets 10,000 jobs
SUBMITted straight over its ipc socket (4 parallel clients): 500 calls to a
never-answering number with Monitor-Time 1 h (a live call and monitors
each), the rest half waiting on a timer (Not-Before a day ahead) and half
waiting for the mailbox owner (Trigger: user).  Reported: submit rate (also
per 2,000 jobs), ctid's RSS and peak RSS once all are live (STATUS counts).
Target: RSS <= 40 MiB.  Runs after (b).
(b) CSTA rate: 4,000 jobs, each from its own extension to its own number,
due at one common second (Not-Before a few seconds ahead), fire together; the
rate of requests pbx-sim logs ("rx" lines) during that burst is what ctid
drove (the busiest second is the figure).  Target >= 2,000 requests/s.  pbx-sim's own
ceiling comes from pbxsim's bench/pbx-sim-bench.py when present.
(c) SUBMIT rate and RSS at scale: bench/submit-bench.c (C, 8 clients, one
connection per job as cti-milter does) fills a fresh private ctid with jobs due
a day ahead, stopping at 1,000 / 10,000 / 100,000 live jobs; at each the rate
over the last tenth of the jobs, and ctid's RSS.  Targets: >= 3,000 SUBMITs/s
and RSS <= 200 MiB at 100,000.
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
from .pbxlog import PbxLog
from . import microbench

RSS_MIB = 40.0
RATE = 2000.0
SCALE_RATE = 3000.0
SCALE_RSS_MIB = 200.0


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
    calls = ctx.scale(500, 20)
    nb = iso(time.time() + 86400)
    reqs = []
    # ringing calls that never answer, watched for an hour: a live call and monitors each
    for i in range(calls):
        reqs.append((request_text("03888%05d" % i, source=str(2001 + i), monitor="3600"), None))
    for i in range(n - calls):
        src = str(2001 + i % 999)
        if i % 2:
            reqs.append((request_text("0312345678", source=src, trigger="user"), "alice@bench.example"))
        else:
            reqs.append((request_text("0312345678", source=src, extra=["Not-Before: " + nb]), None))
    rss0 = ctx.ctid_idle_rss
    # in five chunks: the submit rate as the number of live jobs grows
    secs, ok, err, rates = 0.0, 0, [], []
    step = (len(reqs) + 4) // 5
    for c in range(0, len(reqs), step):
        s_, ok_, err_ = submit_many(inst, reqs[c:c + step])
        secs, ok, err = secs + s_, ok + ok_, err or err_
        rates.append("%d-%d: %.0f/s" % (c, c + len(reqs[c:c + step]), ok_ / s_))
    # let the ringing calls get placed
    end = time.monotonic() + ctx.scale(20, 5)
    st = {}
    while time.monotonic() < end:
        st = ipc_status(inst.ctid_socket)
        if int(st.get("jobs-running", "0") or 0) >= calls:
            break
        time.sleep(0.2)
    rss = util.proc_status(inst.ctid.pid, "VmRSS")
    hwm = util.proc_status(inst.ctid.pid, "VmHWM")
    counts = {k[5:]: v for k, v in st.items() if k.startswith("jobs-") and v not in ("0", "")}
    live = sum(int(v) for k, v in counts.items() if k in ("queued", "waiting-user", "retry-wait", "running"))
    if err:
        table.note("%d of %d submits failed, first: %s" % (n - ok, n, err[0]))
    if ok == 0:
        table.add_nm(("live jobs: ctid RSS",), "no job accepted: %s" % (err[0] if err else "?"))
        return
    table.add("submit %d jobs over ipc (4 clients)" % n, "%.0f jobs/s" % (ok / secs), "", "")
    table.note("submit rate by jobs already submitted: " + ", ".join(rates))
    table.add("ctid RSS with %d live jobs" % live, "%.1f MiB (idle %.1f)" % (rss / 1024.0, (rss0 or 0) / 1024.0),
              "peak %.1f MiB" % (hwm / 1024.0),
              util.verdict(rss / 1024.0 <= RSS_MIB and live >= n, "<= %g MiB at %d jobs" % (RSS_MIB, n)))
    table.note("live jobs by state (STATUS): " + ", ".join("%s=%s" % kv for kv in sorted(counts.items())) +
               "; %d are never-answer calls ringing with Monitor-Time 1 h" % calls)


def collect_burst(ctx, log, due, jobs):
    """collect_burst - wall times and per-service counts of the rx lines from DUE on, read until every job's
    MakeCall is in, or nothing new came for 3 s, or the time limit."""
    walls, services = [], {}
    end = due + ctx.scale(45, 10)
    last_new = time.time()
    while time.time() < end:
        recs = log.poll()
        for rec in recs:
            if rec.get("type") == "rx" and float(rec.get("wall", 0)) >= due - 1:
                walls.append(float(rec["wall"]))
                services[rec.get("service")] = services.get(rec.get("service"), 0) + 1
        if recs:
            last_new = time.time()
        if services.get("MakeCall", 0) >= jobs or (time.time() > due + 1 and time.time() - last_new > 3):
            break
        time.sleep(0.2)
    return walls, services


def csta_rate(ctx, table, inst):
    n = ctx.scale(4000, 100)
    # due once every job is surely in: the rate of a small probe, with a margin
    probe = [(request_text("0312345678", source="2001", extra=["Not-Before: " + iso(time.time() + 86400)]), None)]
    psecs, pok, _ = submit_many(inst, probe * 100)
    rate = pok / psecs if pok else 200.0
    due = int(time.time() + 2 * n / rate) + 2
    reqs = [(request_text("03123%05d" % (i % 5000), source=str(3000 + i % 5000), monitor="30",
                          extra=["Not-Before: " + iso(due)]), None) for i in range(n)]
    secs, ok, err = submit_many(inst, reqs)
    if time.time() >= due:
        table.note("CSTA burst: submitting took %.1f s, past the common due time" % secs)
    log = PbxLog(inst.pbx_log, from_end=False)
    walls, services = collect_burst(ctx, log, due, ok)
    log.close()
    st = ipc_status(inst.ctid_socket)
    table.note("burst jobs by state when the burst ended (STATUS): " +
               ", ".join("%s=%s" % (k[5:], v) for k, v in sorted(st.items()) if k.startswith("jobs-") and v != "0"))
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
    table.note("requests in the burst: " + ", ".join("%s=%d" % kv for kv in sorted(services.items())) +
               " (for %d jobs)" % ok)


def submit_scale(ctx, table, base, procs):
    """submit_scale - (c): submit-bench against a fresh ctid; a row per level of live jobs, measured
    over the last tenth of the jobs before it (at least 500): SUBMITs/s (wall), ctid's CPU per SUBMIT
    (what a busy machine cannot blur), RSS."""
    levels = [ctx.scale(1000, 200), ctx.scale(10000, 600), ctx.scale(100000, 1200)]
    marks = []
    for n in levels:
        marks += [n - max(n // 10, ctx.scale(500, 100)), n]
    try:
        prog = microbench.build(ctx, "submit-bench")
    except util.NotMeasurable as e:
        table.add_nm(("SUBMIT rate at scale",), str(e))
        return
    inst = Instance(os.path.join(base, "scale"), ctx.build_dir, ctx.src_dir, procs, time_scale=10.0)
    try:
        inst.start_pbx()
        inst.start_ctid()
        idle = util.proc_status(inst.ctid.pid, "VmRSS")
        p = subprocess.Popen([prog, inst.ctid_socket, "8"] + [str(m) for m in marks], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seen = []
        for i, _ in enumerate(marks):
            line = p.stdout.readline()
            if not line.startswith("mark "):
                break
            _, vals = microbench.parse(line)
            seen.append((vals, util.proc_cpu_seconds(inst.ctid.pid), util.proc_status(inst.ctid.pid, "VmRSS"),
                         ipc_status(inst.ctid_socket)))
            if i + 1 < len(marks):
                p.stdin.write("\n")
                p.stdin.flush()
        _, err = p.communicate(timeout=60)
        if len(seen) < 2:
            table.add_nm(("SUBMIT rate at scale",), "submit-bench: %s" % (err.strip()[-300:] or "no output"))
            return
        for (v0, cpu0, _, _), (vals, cpu1, rss, st) in zip(seen[0::2], seen[1::2]):
            n, window = int(vals["n"]), int(vals["n"] - v0["n"])
            live = int(st.get("jobs-queued", "0") or 0)
            cpu_ms = 1000.0 * (cpu1 - cpu0) / window if cpu0 is not None and cpu1 is not None else float("nan")
            last = n == levels[-1]
            table.add("SUBMIT rate / ctid RSS at %d live jobs" % n,
                      "%.0f /s, %.1f MiB" % (vals["rate"], rss / 1024.0),
                      "ctid %.3f ms CPU/SUBMIT; over the last %d; queued=%d, errors=%d" %
                      (cpu_ms, window, live, vals["errors"]),
                      util.verdict(vals["rate"] >= SCALE_RATE and rss / 1024.0 <= SCALE_RSS_MIB and live >= n,
                                   ">= %g /s, <= %g MiB" % (SCALE_RATE, SCALE_RSS_MIB)) if last else "")
        table.note("SUBMIT at scale: submit-bench, 8 clients, one connection per job, jobs due a day ahead; "
                   "ctid idle RSS %.1f MiB" % ((idle or 0) / 1024.0))
        if err.strip():
            table.note(err.strip().splitlines()[-1])
    except util.NotMeasurable as e:
        table.add_nm(("SUBMIT rate at scale",), str(e))
    finally:
        inst.stop()


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
            # the burst first, on an almost empty ctid; then the live jobs
            ctx.ctid_idle_rss = util.proc_status(inst.ctid.pid, "VmRSS")
            csta_rate(ctx, table, inst)
            ctx.progress("P4 CSTA burst done")
            live_jobs(ctx, table, inst)
            ctx.progress("P4 live jobs done")
        inst.stop()
        submit_scale(ctx, table, base, procs)
        ctx.progress("P4 SUBMIT at scale done")
    finally:
        inst.stop()
        procs.stop_all()
    pbxsim_ceiling(ctx, table)
    return table
