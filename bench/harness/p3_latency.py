"""p3_latency - P3: end of DATA to MakeCall arriving at pbx-sim.

2,000 Trigger: system requests, one at a time over one SMTP session: the
client notes the wall time just before it writes the final "."; pbx-sim logs
the wall time of each received MakeCall ("rx" line).  The next request is
sent only after the previous MakeCall arrived, so request i pairs with the
i-th MakeCall and no queueing is measured.  Percentiles are nearest-rank.
Source extensions rotate over 2001-2010 (the stack's numbering plan), so a
device is less likely to be busy from the previous call.  Target: p50 < 5 ms, p99 < 20 ms.  Owns the pipeline it
starts (the stack, or a private one).
"""

import os
import time

from . import util
from .mailcti import request_text, request_mail
from .pbxlog import PbxLog, is_rx
from .pipeline import Pipeline
from .smtp import Session

P50_MS, P99_MS = 5.0, 20.0


def one(session, log, pipe, i, lat, misses):
    src = os.environ.get("BENCH_SOURCE") or str(2001 + i % 10)
    dst = os.environ.get("BENCH_DESTINATION", "0312345678")
    req = request_text(dst, source=src, monitor="30")
    msg = request_mail(pipe.sender, pipe.rcpt, req, "p3-%d-%d@bench.example" % (i, time.time_ns()))
    wall, _dt, code, text = session.send(pipe.sender, [pipe.rcpt], msg)
    if code != 250:
        raise util.NotMeasurable("request %d not accepted: %s" % (i, text))
    rec = log.wait_for(is_rx("MakeCall"), 5.0)
    if rec is None:
        misses.append(i)
        return
    lat.append((float(rec["wall"]) - wall) * 1000.0)


def run(ctx):
    n = ctx.scale(2000, 20)
    table = util.Table("P3 end of DATA -> MakeCall at pbx-sim (%d requests, sequential; milliseconds)" % n,
                       ["path", "n", "p50 ms", "p99 ms", "max ms", "min ms", "target"])
    pipe = Pipeline(ctx, "p3")
    try:
        try:
            pipe.start()
        except util.NotMeasurable as e:
            table.add_nm(("SMTP -> MakeCall",), str(e))
            return table
        log = PbxLog(pipe.pbx_log)
        log.poll()
        lat, misses = [], []
        s = Session(pipe.smtp_port)
        try:
            if pipe.auth:
                s.auth_plain(*pipe.auth)
            for i in range(n):
                one(s, log, pipe, i, lat, misses)
                if len(misses) >= 5 and not lat:
                    break
                if i % 500 == 499:
                    ctx.progress("P3 %d requests sent, p50 so far %.2f ms" % (i + 1, util.median(lat) or 0))
        except util.NotMeasurable as e:
            table.add_nm(("SMTP -> MakeCall",), str(e))
            return table
        finally:
            s.close()
            log.close()
        table.note("path: %s" % pipe.kind)
        if misses:
            table.note("%d request(s) saw no MakeCall within 5 s (first: #%d)" % (len(misses), misses[0]))
        if not lat:
            table.add_nm(("SMTP -> MakeCall",), "no MakeCall reached pbx-sim (ctid did not dial)")
            return table
        p50, p99 = util.percentile(lat, 50), util.percentile(lat, 99)
        ok = p50 < P50_MS and p99 < P99_MS
        table.add("SMTP -> MakeCall", str(len(lat)), p50, p99, max(lat), min(lat),
                  util.verdict(ok, "p50 < %g, p99 < %g" % (P50_MS, P99_MS)))
    finally:
        pipe.stop()
    return table
