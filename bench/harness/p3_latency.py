"""p3_latency - P3: end of DATA to MakeCall arriving at pbx-sim.

2,000 Trigger: system requests, one at a time over one SMTP session: the
client notes the wall time just before it writes the final "."; pbx-sim logs
the wall time of each received request ("rx" lines).  The next request is
sent only after the previous MakeCall (matched by its calling device)
arrived, so no queueing is measured.  Percentiles are nearest-rank.  Source
extensions rotate over those the sender is granted.  Breakdown
rows: end of DATA -> 250 (milter + ctid's durable commit), end of DATA ->
the job's MonitorStart on its calling device, and that MonitorStart ->
MakeCall.  Target: p50 < 5 ms, p99 < 20 ms.  Owns the pipeline it starts
(the stack, or a private one).
"""

import os
import time

from . import util
from .mailcti import request_text, request_mail
from .pbxlog import PbxLog, is_rx
from .pipeline import Pipeline
from .smtp import Session

P50_MS, P99_MS = 5.0, 20.0


class Samples:
    """Samples - milliseconds per request: total, 250 reply, MonitorStart split; requests with no MakeCall."""

    def __init__(self):
        self.total, self.acks, self.to_monitor, self.monitor_to_call, self.misses = [], [], [], [], []


def one(session, log, pipe, i, sm):
    src = os.environ.get("BENCH_SOURCE") or pipe.sources[i % len(pipe.sources)]
    dst = os.environ.get("BENCH_DESTINATION", "0312345678")
    req = request_text(dst, source=src, monitor="30")
    msg = request_mail(pipe.sender, pipe.rcpt, req, "p3-%d-%d@bench.example" % (i, time.time_ns()))
    wall, dt, code, text = session.send(pipe.sender, [pipe.rcpt], msg)
    if code != 250:
        raise util.NotMeasurable("request %d not accepted: %s" % (i, text))
    sm.acks.append(dt * 1000.0)
    seen = []

    def pred(r):
        # this job's first request: the MonitorStart on its calling device
        if is_rx("MonitorStart")(r) and r.get("args", {}).get("monitorObject.deviceObject") == src:
            seen.append(float(r["wall"]))
        return is_rx("MakeCall")(r) and r.get("args", {}).get("callingDevice") == src

    rec = log.wait_for(pred, 5.0)
    if rec is None:
        sm.misses.append(i)
        return
    sm.total.append((float(rec["wall"]) - wall) * 1000.0)
    if seen:
        sm.to_monitor.append((seen[0] - wall) * 1000.0)
        sm.monitor_to_call.append((float(rec["wall"]) - seen[0]) * 1000.0)


def row(table, label, values, target):
    if values:
        table.add(label, str(len(values)), util.percentile(values, 50), util.percentile(values, 99), max(values),
                  min(values), target)


def drive(ctx, pipe, n, sm):
    log = PbxLog(pipe.pbx_log)
    log.poll()
    s = Session(pipe.smtp_port)
    try:
        if pipe.auth:
            s.auth_plain(*pipe.auth)
        for i in range(n):
            one(s, log, pipe, i, sm)
            if len(sm.misses) >= 5 and not sm.total:
                break
            if i % 500 == 499:
                ctx.progress("P3 %d requests sent, p50 so far %.2f ms" % (i + 1, util.median(sm.total) or 0))
    finally:
        s.close()
        log.close()


def run(ctx):
    n = ctx.scale(2000, 20)
    table = util.Table("P3 end of DATA -> MakeCall at pbx-sim (%d requests, sequential; milliseconds)" % n,
                       ["path", "n", "p50 ms", "p99 ms", "max ms", "min ms", "target"])
    pipe = Pipeline(ctx, "p3")
    sm = Samples()
    try:
        pipe.start()
        drive(ctx, pipe, n, sm)
    except util.NotMeasurable as e:
        table.add_nm(("SMTP -> MakeCall",), str(e))
        return table
    finally:
        pipe.stop()
    table.note("path: %s; sources %s" % (pipe.kind, ",".join(pipe.sources)))
    if pipe.note:
        table.note(pipe.note)
    if sm.misses:
        table.note("%d request(s) saw no MakeCall within 5 s (first: #%d)" % (len(sm.misses), sm.misses[0]))
    if not sm.total:
        table.add_nm(("SMTP -> MakeCall",), "no MakeCall reached pbx-sim (ctid did not dial)")
        return table
    ok = util.percentile(sm.total, 50) < P50_MS and util.percentile(sm.total, 99) < P99_MS
    row(table, "SMTP -> MakeCall", sm.total, util.verdict(ok, "p50 < %g, p99 < %g" % (P50_MS, P99_MS)))
    row(table, "  end of DATA -> 250 (milter + ctid commit)", sm.acks, "(breakdown)")
    row(table, "  end of DATA -> MonitorStart on the caller", sm.to_monitor, "(breakdown)")
    row(table, "  that MonitorStart -> MakeCall", sm.monitor_to_call, "(breakdown)")
    return table
