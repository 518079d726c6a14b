#!/usr/bin/env python3
"""run - the integration test runner.

  t/integration/run.py --stack DIR            use the stack already running in DIR
  t/integration/run.py --build BUILD_DIR      start a private stack from BUILD_DIR's
                                              binaries in a temporary directory, run,
                                              stop it and remove it (--keep keeps it)
Options: -k SUBSTRING (run only matching tests), --exclude SUBSTRING (skip
matching tests), --time-scale X, --list,
--session-style ecma354|system-status, --namespace ed3|ed4|ed6, --prefix NAME
(pbx-sim answers with NAME:-prefixed elements) and
--set GROUP.KEY=VALUE (repeatable) for the private stack, --long (full-size
reliability tests; the default runs reduced sizes), --only MODULE (run one
module's tests, e.g. test_callctl).
Prints PASS/FAIL per test, and as its last line "N passed, N failed".
Exit status 0 only when every selected test passed.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the source tree (it would go into the dist)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import libstack  # noqa: E402
from libpbx import PbxLog, control  # noqa: E402
import test_skeleton  # noqa: E402
import test_callctl  # noqa: E402
import test_routing  # noqa: E402  (starts a pair of stacks of its own)
import test_media  # noqa: E402
import test_ops  # noqa: E402
import test_reliability  # noqa: E402  (kills and restarts services; private stacks for R4/R6)
import test_trigger_user  # noqa: E402  (stops and starts ctid; doveadm save)
import test_abuse  # noqa: E402  (restarts ctid with a low rate limit)
import test_security  # noqa: E402  (restarts ctid with low rate limits; writes to ctid's socket)
import test_corpus  # noqa: E402  (mutt, neomutt, s-nail, swaks write the mails)
import test_sip  # noqa: E402  (baresip phones on pbx-sim's SIP side)
import test_monitor  # noqa: E402  (replaces the stack's ctid by one that logs to a private rsyslogd)
import test_tls  # noqa: E402  (starts a TLS stack of its own)

MODULES = [test_skeleton, test_callctl, test_routing, test_media, test_ops, test_reliability,
           test_trigger_user, test_abuse, test_security, test_corpus, test_sip, test_monitor, test_tls]


class Context:
    def __init__(self, stack):
        self.stack = stack
        self.pbx = PbxLog(stack["PBX_LOG"])


def all_tests(only=None):
    return [t for m in MODULES if only in (None, m.__name__) for t in m.TESTS]


def start_stack(args):
    base = tempfile.mkdtemp(prefix="mailcti-it.")
    os.chmod(base, 0o755)  # Dovecot's users and Postfix need to traverse it
    stack_dir = os.path.join(base, "stack")
    cmd = [libstack.STACK_SCRIPT, "start", stack_dir, "--build", args.build,
           "--time-scale", str(args.time_scale)]
    if args.ports:
        cmd += ["--ports", str(args.ports)]
    if args.session_style:
        cmd += ["--session-style", args.session_style]
    if args.namespace:
        cmd += ["--namespace", args.namespace]
    if args.prefix:
        cmd += ["--prefix", args.prefix]
    for kv in args.set or []:
        cmd += ["--set", kv]
    subprocess.run(cmd, check=True)
    return base, stack_dir


def free_phones(ctx):
    """Put down any phone a previous test (or a person) left off the hook, so every test
    starts with idle numbers; an idle number just answers with an error, ignored here."""
    for number in ("0312345678",):
        try:
            control(ctx.stack["PBX_CONTROL"], "hangup " + number)
        except OSError:
            pass


def run_tests(ctx, tests):
    passed = failed = 0
    for test in tests:
        free_phones(ctx)
        t0 = time.monotonic()
        try:
            test(ctx)
        except AssertionError as e:
            failed += 1
            print("FAIL %s (%.1f s): %s" % (test.__name__, time.monotonic() - t0, e), flush=True)
        except Exception:  # a crash in a test is a failure too, with its traceback
            failed += 1
            print("FAIL %s (%.1f s): exception" % (test.__name__, time.monotonic() - t0), flush=True)
            traceback.print_exc(file=sys.stdout)
        else:
            passed += 1
            print("PASS %s (%.1f s)" % (test.__name__, time.monotonic() - t0), flush=True)
    return passed, failed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stack", help="directory of a running stack")
    ap.add_argument("--build", help="build directory to start a private stack from")
    ap.add_argument("--time-scale", type=float, default=5.0)
    ap.add_argument("--ports", type=int, help="base port for the private stack")
    ap.add_argument("--session-style", choices=("ecma354", "system-status"),
                    help="session style of pbx-sim and ctid in the private stack")
    ap.add_argument("--namespace", choices=("ed3", "ed4", "ed6"), help="CSTA edition of the private stack")
    ap.add_argument("--prefix", metavar="NAME", help="element prefix pbx-sim answers with in the private stack")
    ap.add_argument("--only", choices=[m.__name__ for m in MODULES], metavar="MODULE",
                    help="run only this module's tests (e.g. test_callctl)")
    ap.add_argument("--set", action="append", metavar="GROUP.KEY=VALUE",
                    help="a mailcti.conf setting for the private stack, e.g. pbx.method=server-lines")
    ap.add_argument("--keep", action="store_true", help="keep the private stack running and its directory")
    ap.add_argument("--long", action="store_true", help="full-size load and fault tests (test_reliability)")
    ap.add_argument("-k", dest="select", help="run only tests whose name contains this")
    ap.add_argument("--exclude", action="append", default=[], metavar="SUBSTRING",
                    help="skip tests whose name contains this (repeatable)")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()

    tests = [t for t in all_tests(args.only) if not args.select or args.select in t.__name__]
    tests = [t for t in tests if not any(x in t.__name__ for x in args.exclude)]
    if args.list:
        for t in tests:
            print("%-34s %s" % (t.__name__, (t.__doc__ or "").strip()))
        return 0
    if bool(args.stack) == bool(args.build):
        ap.error("give exactly one of --stack DIR or --build BUILD_DIR")

    base = None
    stack_dir = args.stack
    if args.build:
        args.build = os.path.abspath(args.build)
        try:
            base, stack_dir = start_stack(args)
        except subprocess.CalledProcessError:
            print("FAIL stack start")
            print("0 passed, %d failed" % len(tests))
            return 1
    reports = []
    try:
        ctx = Context(libstack.Stack(stack_dir))
        ctx.long = args.long
        passed, failed = run_tests(ctx, tests)
    finally:
        # the routing pair goes before the main stack, whose log dir takes any sanitizer report of the pair
        reports = test_routing.stop_pair(libstack.Stack(stack_dir)["LOG_DIR"])
        reports += test_tls.stop_stack(libstack.Stack(stack_dir)["LOG_DIR"])
        if base and not args.keep:
            subprocess.run([libstack.STACK_SCRIPT, "stop", stack_dir], check=False)
            shutil.rmtree(base, ignore_errors=True)
        elif base:
            print("stack kept running in %s" % stack_dir)
    if reports:
        failed += 1
        print("FAIL routing pair: sanitizer reports in %s" % ", ".join(reports), flush=True)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
