#!/usr/bin/env python3
"""ctid-limits - ctid's rate limits and notification budget, end to end.

Starts pbx-sim and ctid (the helpers of ctid-e2e.py: private port, sockets
and a recording sendmail in a temporary directory) with low [limits], SUBMITs
requests over ctid's ipc socket and checks: the request over a limit is
answered TEMPFAIL (or REJECT with over_limit=reject) with Enhanced-Status
4.7.1 (5.7.1) and a Reason naming the limit, and never reaches the PBX; the
account keys the counters ("carol" and "carol@example.test" are one), never
the frame's Identity field; notifications to the null sender and past
the per-address budget are not sent; both kinds of counter survive a restart
of ctid.  Every process started here is stopped.

Usage: ctid-limits.py [BUILD_DIR]   (default: $BUILD_DIR, else ..)
Exit 77 (skip) when ctid or pbx-sim has not been built.
"""
import importlib.util
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("ctid_e2e", os.path.join(HERE, "ctid-e2e.py"))
e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(e2e)

check = e2e.check


def configure(st, limits):
    """replace ctid-e2e's [limits] group (no limits) by LIMITS"""
    path = os.path.join(st.tmp, "mailcti.conf")
    text = open(path).read().split("[limits]")[0]
    with open(path, "w") as f:
        f.write(text + "[limits]\n" + "".join("%s=%s\n" % kv for kv in limits.items()))


def submit(st, source, sender="alice@example.test", identity=None, auth="alice"):
    fields = [("Source", source), ("Destination", "0312345678")]
    msgid = "lim-%d@example.test" % time.time_ns()
    extra = [("Identity", identity)] if identity else []
    extra += [("Auth-Authen", auth)] if auth else []
    return e2e.ipc(st.sock, "SUBMIT",
                   [("Request", e2e.canonical(fields)), ("Sender", sender),
                    ("Recipient", "call@example.test"), ("Message-Id", "<%s>" % msgid)] + extra,
                   body=e2e.request_mail(fields, msgid))


def dialled(st, source):
    return sum(1 for e in st.rx("MakeCall") if e["args"].get("callingDevice") == source)


def ctid_log(st):
    return open(st.ctid_err, encoding="utf-8", errors="replace").read()


def start(st):
    """pbx-sim and ctid up, ctid answering and its link up (a slow sanitizer build
    creates the socket a moment before it accepts)"""
    st.start_pbx()
    st.start_ctid()
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            st.status()
            break
        except OSError:
            time.sleep(0.1)
    check(st.wait_link(timeout=20), "link up")


def wait_for(pred, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return False


def tempfail_scenario(tmp):
    st = e2e.Stack(tmp, "ecma354")
    configure(st, {"per_sender_per_minute": 2, "per_sender_notifications_per_hour": 1,
                   "global_per_minute": 4, "over_limit": "tempfail"})
    try:
        start(st)
        r1, r2 = submit(st, "2001"), submit(st, "2002")
        check(r1["verb"] == "OK" and r2["verb"] == "OK", "two requests a minute accepted")
        r3 = submit(st, "2003")
        check(r3["verb"] == "TEMPFAIL", "the third in a minute: TEMPFAIL (%s)" % r3["verb"])
        check(r3.get("Enhanced-Status") == "4.7.1", "Enhanced-Status 4.7.1")
        check("at most 2 requests per minute per sender" in r3.get("Reason", ""),
              "Reason names the limit: %s" % r3.get("Reason"))
        # the frame's Identity field keys nothing: alice claiming to be carol is still alice
        r3b = submit(st, "2003", identity="carol@example.test")
        check(r3b["verb"] == "TEMPFAIL", "a claimed Identity does not escape alice's limit (%s)"
              % r3b["verb"])
        # another account has its own counter, whichever spelling of it logs in
        r4 = submit(st, "2004", sender="carol@example.test", auth="carol")
        check(r4["verb"] == "OK", "another account is not limited by alice's count")
        r5 = submit(st, "2005", sender="bob@example.test", auth="bob@example.test")
        check(r5["verb"] == "OK", "an AUTH login is a key of its own")
        r6 = submit(st, "2006", sender="dave@example.test", auth="dave")
        check(r6["verb"] == "TEMPFAIL" and "on this gateway" in r6.get("Reason", ""),
              "the global limit (4 a minute) names itself: %s" % r6.get("Reason"))
        wait_for(lambda: dialled(st, "2002") and dialled(st, "2005"))
        time.sleep(1)
        check(dialled(st, "2003") == 0 and dialled(st, "2006") == 0,
              "no MakeCall for a request over a limit")
        # budget of one notification an hour for alice: one mail, one suppressed
        check(st.wait_mail(r1["Job-Id"]) is not None or st.wait_mail(r2["Job-Id"]) is not None,
              "the first notification to alice is sent")
        check(wait_for(lambda: "notification budget" in ctid_log(st)),
              "the second to alice is suppressed by the budget")
        n = sum(1 for name in os.listdir(st.outbox) if name.endswith(".eml") and
                "To: alice@example.test" in open(os.path.join(st.outbox, name)).read())
        check(n == 1, "exactly one notification mail to alice (%d)" % n)
        check(st.stop(st.ctid) == 0, "ctid exits 0 (no sanitizer report)")
    finally:
        st.stop_all()


def reject_scenario(tmp):
    st = e2e.Stack(tmp, "ecma354")
    configure(st, {"per_sender_per_minute": 1, "over_limit": "reject"})
    try:
        start(st)
        r0 = submit(st, "2007", sender="")
        check(r0["verb"] == "OK", "a null-sender request (direct SUBMIT) is taken")
        r1 = submit(st, "2008", sender="erin@example.test", auth="erin")
        r2 = submit(st, "2009", sender="erin@example.test", auth="Erin@example.test")
        check(r1["verb"] == "OK", "first request of the minute accepted")
        check(r2["verb"] == "REJECT" and r2.get("Enhanced-Status") == "5.7.1",
              "over_limit=reject: REJECT with 5.7.1 (%s %s)" % (r2["verb"], r2.get("Enhanced-Status")))
        check(wait_for(lambda: "came from the null sender" in ctid_log(st)),
              "no notification to the null sender")
        check(dialled(st, "2009") == 0, "no MakeCall for the rejected request")
        check(st.stop(st.ctid) == 0, "ctid exits 0 (no sanitizer report)")
    finally:
        st.stop_all()


def restart_scenario(tmp):
    """the counters survive a restart: ctid counts the last hour again from its store"""
    st = e2e.Stack(tmp, "ecma354")
    configure(st, {"per_sender_per_hour": 2, "per_sender_notifications_per_hour": 1,
                   "over_limit": "tempfail"})
    try:
        start(st)
        r1 = submit(st, "2001")
        check(r1["verb"] == "OK", "the first request of the hour is accepted (%s)" % r1["verb"])
        check(st.wait_mail(r1["Job-Id"]) is not None, "the first notification to alice is sent")
        check(st.stop(st.ctid) == 0, "ctid exits 0 (no sanitizer report)")
        st.start_ctid()
        check(wait_for(lambda: "counted again from the store" in ctid_log(st)), "ctid counted the hour again")
        check(st.wait_link(timeout=20), "link up after the restart")
        r2 = submit(st, "2002")
        check(r2["verb"] == "OK", "the second request of the hour is accepted (%s)" % r2["verb"])
        r3 = submit(st, "2003")
        check(r3["verb"] == "TEMPFAIL" and "2 requests per hour per sender" in r3.get("Reason", ""),
              "after the restart the third of the hour is over the limit: %s %s" % (r3["verb"], r3.get("Reason")))
        check(wait_for(lambda: "notification budget" in ctid_log(st)),
              "after the restart the second notification to alice is over the budget")
        n = sum(1 for name in os.listdir(st.outbox) if name.endswith(".eml") and
                "To: alice@example.test" in open(os.path.join(st.outbox, name)).read())
        check(n == 1, "exactly one notification mail to alice across the restart (%d)" % n)
        check(dialled(st, "2003") == 0, "no MakeCall for the request over the limit")
        check(st.stop(st.ctid) == 0, "ctid exits 0 (no sanitizer report)")
    finally:
        st.stop_all()


def main():
    if not os.access(e2e.PBXSIM, os.X_OK) or not os.access(e2e.CTID, os.X_OK):
        print("skip: %s or %s not built" % (e2e.CTID, e2e.PBXSIM))
        return 77
    for scenario in (tempfail_scenario, reject_scenario, restart_scenario):
        with tempfile.TemporaryDirectory(prefix="ctid-limits-") as tmp:
            scenario(tmp)
            if e2e.FAILURES:
                sys.stdout.write(open(os.path.join(tmp, "ctid.stderr")).read()[-4000:])
    print("%d failure(s)" % len(e2e.FAILURES))
    return 1 if e2e.FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
