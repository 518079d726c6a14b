"""p6_route - P6: routing lookup over 1,000,000 prefixes.

The benchmark program is the route owner's: cli/route-bench [PREFIXES
[LOOKUPS]] in the build dir (built by make).  It fills a temporary routes DB
and prints "NAME median X us   p99 Y us ..." per lookup method; the target
applies to route_lookup() as the milter calls it, cache off (the line named
"lookup"; "in-list" in earlier versions), and the other methods are shown
beside it.  Target: median < 20 us (p99 shown).
Owns nothing but the run.  Missing program: a "not measurable" row.
"""

import os
import re
import subprocess

from . import util

TARGET_US = 20.0
MAIN_NAMES = ("lookup", "in-list")
LINE = re.compile(r"^(\S+)\s+median\s+([0-9.]+)\s*us\s+p99\s+([0-9.]+)\s*us(.*)$")


def run(ctx):
    n = ctx.scale(1000000, 20000)
    lookups = ctx.scale(100000, 5000)
    table = util.Table("P6 routing lookup over %d prefixes (cli/route-bench, %d lookups)" % (n, lookups),
                       ["method", "median us", "p99 us", "detail", "target"])
    prog = os.path.join(ctx.build_dir, "cli", "route-bench")
    if not os.access(prog, os.X_OK):
        table.add_nm(("lookup",), "cli/route-bench (route owner's) not built in the build dir")
        return table
    try:
        r = subprocess.run([prog, str(n), str(lookups)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, cwd=ctx.workdir, timeout=ctx.scale(300, 60), stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        table.add_nm(("lookup",), "route-bench timed out")
        return table
    lines = [l.rstrip() for l in r.stdout.splitlines() if l.strip()]
    if r.returncode != 0:
        table.add_nm(("lookup",), "route-bench exit %d: %s" % (r.returncode, " | ".join(lines[-2:])))
        return table
    names = [m.group(1) for m in (LINE.match(l) for l in lines) if m]
    main = next((n for n in MAIN_NAMES if n in names), None)
    found = False
    for l in lines:
        m = LINE.match(l)
        if not m:
            table.note("route-bench: " + l)
            continue
        name, med, p99, rest = m.group(1), float(m.group(2)), float(m.group(3)), m.group(4).strip()
        tgt = util.verdict(med < TARGET_US, "median < %g us" % TARGET_US) if name == main else \
            "(alternative)"
        if name == main:
            found = True
            name = "%s (route_lookup, cache off)" % name
        table.add(name, med, p99, rest, tgt)
    if not found:
        table.add_nm(("route_lookup",), "route-bench printed no '%s' line" % "' or '".join(MAIN_NAMES))
    return table
