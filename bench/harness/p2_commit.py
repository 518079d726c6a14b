"""p2_commit - P2: CTI request mail with a durable job commit, and where the time goes.

Throughput: the same request mail (smtp-source -F, 20 sessions) through a
private Postfix relaying to smtp-sink, bare vs with cti-milter handing every
mail to a private ctid (which writes and fsyncs it before the milter lets
Postfix answer 250).  Cells interleaved per repetition, Postfix restarted,
warmed up and drained per cell.  The requests carry a Not-Before one day
ahead, so ctid commits them and waits: the cell measures the commit path,
not dialling (P3 covers that).  Target: e2e >= 0.80 of bare Postfix.
Breakdown: end-of-DATA->250 one message at a time (bare vs milter), ctid's
SUBMIT round trip over ipc, store_submit() alone and a raw fsync of the disk,
plus the milter's and ctid's CPU per message during the throughput run.
Owns the Postfix instance and the private mailcti processes it starts.
"""

import datetime
import os
import time

from . import util, microbench
from .mailcti import Instance, request_text, request_mail, submit_job, ipc_status
from .postfix import Postfix, smtp_source
from .smtp import Session

SENDER = "alice@bench.example"
RCPT = "call@bench.example"
TARGET = 0.80


def future_request(source):
    nb = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return request_text("0312345678", source=source, extra=["Not-Before: " + nb])


def write_msgfile(path, req):
    # smtp-source -F appends CRLF itself: the file has plain LF lines, and no
    # Message-ID so that Postfix gives every copy its own.
    text = request_mail(SENDER, RCPT, req, "x").replace("\r\n", "\n")
    text = "\n".join(l for l in text.split("\n") if not l.startswith("Message-ID:"))
    with open(path, "w") as f:
        f.write(text)


def cell(pf, milters, n, msgfile, warmup, pids):
    pf.stop()
    pf.configure(milters)
    pf.start()
    smtp_source(pf.port, warmup, min(20, warmup), SENDER, RCPT, msgfile=msgfile)
    pf.drain()
    sent0 = pf.maillog_count("status=sent")
    cpu0 = [util.proc_cpu_seconds(p) for p in pids]
    t0, t1, _ = smtp_source(pf.port, n, 20, SENDER, RCPT, msgfile=msgfile)
    t2 = pf.drain()
    cpu = [((util.proc_cpu_seconds(p) or 0) - (c or 0)) * 1000.0 / n for p, c in zip(pids, cpu0)]
    time.sleep(0.05)
    return n / (t1 - t0), n / (t2 - t0), pf.maillog_count("status=sent") - sent0, cpu


def smtp_latency(session, req, m, out, bad):
    """smtp_latency - append end-of-DATA->250 seconds of M sequential messages to OUT (other replies to BAD)."""
    for i in range(m):
        msg = request_mail(SENDER, RCPT, req, "p2-lat-%d-%d@bench.example" % (i, time.time_ns()))
        _w, dt, code, text = session.send(SENDER, [RCPT], msg)
        if code == 250:
            out.append(dt)
        else:
            bad.append(text)


def ipc_latency(inst, req, m, out):
    for _ in range(m):
        t0 = time.perf_counter()
        verb, fields = submit_job(inst.ctid_socket, req)
        if verb != "OK":
            raise util.NotMeasurable("ctid answered %s to SUBMIT: %s" % (verb, fields.get("reason", "")))
        out.append(time.perf_counter() - t0)


def run(ctx):
    procs = util.Procs(ctx.workdir)
    base = os.path.join(ctx.workdir, "p2")
    os.makedirs(base, exist_ok=True)
    tput = util.Table("P2 CTI request mail with durable commit: e2e throughput (median (min-max) of %d reps, "
                      "20 sessions)" % ctx.reps,
                      ["config", "N", "accept msg/s", "e2e msg/s", "e2e ratio*", "milter CPU ms/msg",
                       "ctid CPU ms/msg", "target"])
    tput.note("* median over repetitions of (cell e2e / bare Postfix e2e of the same repetition)")
    where = util.Table("P2 where the time goes (one message at a time; microseconds)",
                       ["step", "n", "p50 us", "p99 us", "note"])
    source = os.environ.get("BENCH_SOURCE", "2001")
    req = future_request(source)
    msgfile = os.path.join(base, "request.eml")
    write_msgfile(msgfile, req)
    pf = Postfix(os.path.join(base, "pf"), util.free_port(), util.free_port(), ["bench.example"], procs)
    inst = Instance(os.path.join(base, "mailcti"), ctx.build_dir, ctx.src_dir, procs)
    n = ctx.scale(600, 30)
    warmup = ctx.scale(50, 5)
    results = {}
    reason = None
    try:
        try:
            try:
                inst.start_pbx()
            except util.NotMeasurable as e:
                tput.note("without pbx-sim (%s): ctid runs with its PBX link down; the jobs wait anyway" % e)
            inst.start_ctid()
            inst.start_milter()
            verb, fields = submit_job(inst.ctid_socket, req)
            if verb != "OK":
                raise util.NotMeasurable("ctid answered %s to a SUBMIT: %s" % (verb, fields.get("reason", "")))
        except util.NotMeasurable as e:
            reason = str(e)
        configs = [("postfix (base)", "", [])]
        if reason is None:
            configs.append(("cti-milter + ctid", inst.milter_spec(), [inst.milter.pid, inst.ctid.pid]))
        for rep in range(ctx.reps):
            for name, spec, pids in configs:
                try:
                    acc, e2e, sent, cpu = cell(pf, spec, n, msgfile, warmup, pids)
                except util.NotMeasurable as e:
                    reason = reason or "%s: %s" % (name, e)
                    continue
                if sent != n:
                    tput.note("rep %d %s: %d of %d relayed (rejected or deferred: see %s)"
                              % (rep + 1, name, sent, n, pf.deferred_reason()))
                results.setdefault(name, []).append((acc, e2e, cpu, rep))
                ctx.progress("P2 rep %d %-18s accept %.0f e2e %.0f msg/s" % (rep + 1, name, acc, e2e))
        st = ipc_status(inst.ctid_socket) if inst.ctid else {}
        if st:
            tput.note("ctid STATUS after the runs: " + ", ".join("%s=%s" % (k, v) for k, v in sorted(st.items())
                                                                  if k.startswith("jobs-")))
        breakdown(ctx, where, pf, inst, req, reason)
    finally:
        pf.cleanup()
        inst.stop()
        procs.stop_all()
    base_e2e = {r[3]: r[1] for r in results.get("postfix (base)", [])}
    for name in ("postfix (base)", "cti-milter + ctid"):
        rs = results.get(name)
        if not rs:
            tput.add_nm((name, str(n)), reason or "no result")
            continue
        ratio = util.paired_ratio({r[3]: r[1] for r in rs}, base_e2e)
        cpu = [util.median([r[2][i] for r in rs]) for i in range(len(rs[0][2]))]
        tgt = "baseline" if name.startswith("postfix") else util.verdict(ratio is not None and ratio >= TARGET,
                                                                          ">= %.2f" % TARGET)
        tput.add(name, str(n), util.fmt_range([r[0] for r in rs]), util.fmt_range([r[1] for r in rs]),
                 util.fmt(ratio, 2), util.fmt(cpu[0], 2) if cpu else "-", util.fmt(cpu[1], 2) if cpu else "-", tgt)
    return [tput, where]


def breakdown(ctx, where, pf, inst, req, reason):
    """breakdown - the where-the-time-goes rows, every step measured in turn in ROUNDS interleaved rounds
    (bare Postfix and Postfix + milter run side by side as two instances)."""
    rounds, m = ctx.scale(5, 1), ctx.scale(40, 10)
    size = len(request_mail(SENDER, RCPT, req, "x"))
    procs = pf.procs
    pf.stop()
    pf.configure("")
    pf.start()
    pfm = None
    if reason is None:
        pfm = Postfix(os.path.join(ctx.workdir, "p2", "pf-milter"), util.free_port(), util.free_port(),
                      ["bench.example"], procs)
        pfm.configure(inst.milter_spec())
        pfm.start()
    bare, with_m, ipc, bad = [], [], [], []
    c_rows = {}
    c_errors = {}
    sessions = [Session(pf.port)] + ([Session(pfm.port)] if pfm else [])
    try:
        for _ in range(rounds):
            smtp_latency(sessions[0], req, m, bare, bad)
            if pfm:
                smtp_latency(sessions[1], req, m, with_m, bad)
                ipc_latency(inst, req, m, ipc)
            for name, fn, args in (("store", microbench.store_bench, (os.path.join(ctx.workdir, "p2", "store"),)),
                                   ("fsync", microbench.fsync_bench, (ctx.workdir,))):
                if name in c_errors:
                    continue
                try:
                    for k, v in fn(ctx, *args, m, size).items():
                        c_rows.setdefault(k, []).append(v)
                except util.NotMeasurable as e:
                    c_errors[name] = str(e)
    finally:
        for sess in sessions:
            sess.close()
        pf.drain()
        if pfm:
            pfm.drain()
            pfm.cleanup()
    where.note("%d rounds of %d per step, steps interleaved; C steps: median over rounds of each round's "
               "p50 / p99" % (rounds, m))
    us = lambda v: v * 1e6  # noqa: E731
    where.add("Postfix alone: end of DATA -> 250", str(len(bare)), us(util.median(bare)),
              us(util.percentile(bare, 99)), "baseline")
    if pfm is None:
        where.add_nm(("Postfix + cti-milter + ctid",), reason)
    else:
        if with_m:
            extra = us(util.median(with_m) - util.median(bare))
            where.add("Postfix + cti-milter + ctid: end of DATA -> 250", str(len(with_m)), us(util.median(with_m)),
                      us(util.percentile(with_m, 99)), "+%.0f us over Postfix" % extra)
        where.add("ctid SUBMIT over ipc (incl. commit)", str(len(ipc)), us(util.median(ipc)),
                  us(util.percentile(ipc, 99)), "python client, 1 connection per job")
        if bad:
            where.note("%d requests were not accepted: %s" % (len(bad), bad[0]))
    c_row(where, c_rows, "store_submit", "store_submit() alone (lib)", c_errors.get("store"),
          lambda rs: "%.0f commits/s" % util.median([r["per_s"] for r in rs]))
    for key, label in (("fsync-file", "fsync of a %d-byte file" % size), ("fsync-dir", "fsync of its directory"),
                       ("total", "create+write+fsync+dir fsync")):
        c_row(where, c_rows, key, label, c_errors.get("fsync"), lambda rs: "disk, no mailcti")


def c_row(where, c_rows, key, label, error, note):
    rs = c_rows.get(key)
    if not rs:
        where.add_nm((label,), error or "no result")
        return
    where.add(label, "%d" % sum(r["n"] for r in rs), util.median([r["p50_us"] for r in rs]),
              util.median([r["p99_us"] for r in rs]), note(rs))
