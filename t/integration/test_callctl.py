"""test_callctl - call control end to end: every action and policy of the
request format, through the private Postfix, ctid and pbx-sim.

Retries (busy -> retry -> answered, decline -> no retry, an interval of one
simulated hour that survives a ctid restart), Not-Before / Not-After,
Wait-For-Idle, conference, intrude, forward-set / forward-clear.  The
[pbx] method the stack's ctid runs with (native or server-lines) decides how
conference, intrude and forwarding are done; the tests check the CSTA the PBX saw for
that method.  Each test says in its AssertionError what a person would see.
"""
import re
import time
from email.utils import formatdate

import libmail
from libmail import find_mail, in_reply_to, result_fields
from libpbx import control

NOTIFY_TIMEOUT = 40.0


def _check(cond, message):
    if not cond:
        raise AssertionError(message)


def _conf_value(ctx, group, key, default):
    """A key of the stack's mailcti.conf (a GKeyFile), or DEFAULT."""
    current = None
    with open(ctx.stack["CONFIG"], encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                current = line.strip("[]")
            elif current == group and line.startswith(key + "="):
                return line.split("=", 1)[1].strip()
    return default


def _method(ctx):
    return _conf_value(ctx, "pbx", "method", "native")


def _lines(ctx):
    return [x.strip() for x in _conf_value(ctx, "pbx", "server_lines", "").split(",") if x.strip()]


def _ctl(ctx, line):
    reply = control(ctx.stack["PBX_CONTROL"], line)
    _check(reply.get("ok"), "pbx-sim control %r failed: %r" % (line, reply))
    return reply


def _quiet(ctx, *numbers):
    """Hang up whatever NUMBERS still have (ignoring 'nothing to hang up')."""
    for n in numbers:
        try:
            for _ in range(3):
                if not control(ctx.stack["PBX_CONTROL"], "hangup " + n).get("ok"):
                    break
        except OSError:
            pass


def _submit(ctx, fields, sender="alice"):
    msg = libmail.request_mail(ctx.stack, sender, fields)
    msgid = msg["Message-ID"]
    t0 = time.time()
    res = libmail.send(ctx.stack, sender, ctx.stack["CTI_ADDRESS"], libmail.as_bytes(msg))
    _check(res.code == 250, "request %s was not accepted: %d %s" % (msgid, res.code, res.text))
    return msgid, t0


def _notification(ctx, msgid, user="alice", timeout=NOTIFY_TIMEOUT):
    found = find_mail(ctx.stack.maildir(user), in_reply_to(msgid), timeout)
    _check(found is not None, "no notification for %s in %s's Maildir after %.0f s" % (msgid, user, timeout))
    fields, attempts = result_fields(found[1])
    _check(fields is not None, "notification %s has no application/x-cti-result part" % found[0])
    return fields, attempts


def _status(fields, want):
    _check(fields.get("status") == want,
           "Status is %r, want %s (Reason: %r)" % (fields.get("status"), want, fields.get("reason")))


def _state(ctx, device, state, since):
    return [e for e in ctx.pbx.entries()
            if e.get("type") == "state" and e.get("device") == device and e.get("state") == state
            and e.get("wall", 0) >= since]


def _connected_call(ctx, caller, callee):
    """A call CALLER -> CALLEE dialled by hand and answered; its call id."""
    t0 = time.time()
    call = _ctl(ctx, "call %s %s" % (caller, callee))["call"]
    up = ctx.pbx.wait(lambda: [e for e in _state(ctx, callee, "connected", t0) if e.get("call") == call], 15)
    _check(up, "set-up: %s did not answer the call from %s" % (callee, caller))
    return call


# ---- connect: retries ----

def test_retry_busy_then_answered(ctx):
    """Retry: 4; interval=2s to a number busy for a while: MakeCall again after each busy, then success with the attempt history."""
    _ctl(ctx, "set 0366666666 busy-for 15")
    msgid, t0 = _submit(ctx, [("Source", "2001"), ("Destination", "0366666666"),
                              ("Retry", "4; interval=2s"), ("Monitor-Time", "20")])
    fields, attempts = _notification(ctx, msgid, timeout=60)
    _quiet(ctx, "0366666666", "2001")
    calls = ctx.pbx.rx("MakeCall", t0, calledDirectoryNumber="0366666666")
    _status(fields, "success")
    _check(len(calls) >= 2, "only %d MakeCall(s) to the busy number, want a retry" % len(calls))
    _check(int(fields.get("attempts", "0")) == len(calls),
           "Attempts: %s but the PBX saw %d MakeCalls" % (fields.get("attempts"), len(calls)))
    _check(len(attempts) == len(calls), "%d Attempt lines for %d MakeCalls: %r" % (len(attempts), len(calls), attempts))
    _check(all(" busy" in a for a in attempts[:-1]), "earlier attempts do not say busy: %r" % attempts)
    _check(" answered" in attempts[-1], "the last attempt is not 'answered': %r" % attempts)
    gaps = [b["wall"] - a["wall"] for a, b in zip(calls, calls[1:])]
    _check(all(g >= 1.5 for g in gaps), "MakeCalls closer than the 2 s retry interval: %r" % gaps)


def test_decline_not_retried(ctx):
    """Retry: 3 to a number that declines: one MakeCall only, Status failed, Reason says declined and why no retry."""
    msgid, t0 = _submit(ctx, [("Source", "2002"), ("Destination", "0355555555"), ("Retry", "3; interval=1s")])
    fields, attempts = _notification(ctx, msgid)
    calls = ctx.pbx.rx("MakeCall", t0, calledDirectoryNumber="0355555555")
    _status(fields, "failed")
    _check(len(calls) == 1, "%d MakeCalls to a number that declined, want exactly 1" % len(calls))
    reason = fields.get("reason", "").lower()
    _check("declined" in reason and "not retried" in reason, "Reason %r does not say declined / not retried" % reason)
    _check(len(attempts) == 1 and "declined" in attempts[0], "attempt history %r" % attempts)


def test_retry_one_hour_interval(ctx):
    """Retry interval of one simulated hour ([ctid] time_scale=720: 5 s), due time kept across a ctid restart."""
    conf = ctx.stack["CONFIG"]
    with open(conf, encoding="utf-8") as f:
        original = f.read()
    scaled = re.sub(r"(?m)^time_scale=.*\n", "", original).replace("[ctid]\n", "[ctid]\ntime_scale=720\n", 1)
    try:
        with open(conf, "w", encoding="utf-8") as f:
            f.write(scaled)
        ctx.stack.service("stop", "ctid")
        ctx.stack.service("start", "ctid")
        _ctl(ctx, "set 0366666666 busy-for 4")
        msgid, t0 = _submit(ctx, [("Source", "2003"), ("Destination", "0366666666"),
                                  ("Retry", "2; interval=1h")])
        first = ctx.pbx.wait(lambda: ctx.pbx.rx("MakeCall", t0, calledDirectoryNumber="0366666666"), 15)
        _check(first, "no first MakeCall")
        busy = ctx.pbx.wait(lambda: [e for e in ctx.pbx.tx("FailedEvent", first[0]["wall"])], 10)
        _check(busy, "the first attempt did not fail busy")
        time.sleep(1.0)
        ctx.stack.service("stop", "ctid")   # the retry is due in the store, not in memory
        ctx.stack.service("start", "ctid")
        second = ctx.pbx.wait(lambda: ctx.pbx.rx("MakeCall", first[0]["wall"] + 0.5,
                                                calledDirectoryNumber="0366666666"), 20)
        _check(second, "no second MakeCall within 20 s of the first (interval 1 h / 720 = 5 s)")
        gap = second[0]["wall"] - first[0]["wall"]
        _check(4.0 <= gap <= 12.0, "second attempt %.1f s after the first, want about 5 s" % gap)
        fields, attempts = _notification(ctx, msgid)
        _status(fields, "success")
        _check(len(attempts) == 2, "attempt history %r, want two attempts" % attempts)
    finally:
        with open(conf, "w", encoding="utf-8") as f:
            f.write(original)
        ctx.stack.service("stop", "ctid")
        ctx.stack.service("start", "ctid")
        _quiet(ctx, "0366666666", "2003")


def test_restart_while_ringing_not_redialled(ctx):
    """ctid restarts while its call rings: after the restart it asks SnapshotDevice, follows the same call, never dials again."""
    _ctl(ctx, "set 2002 answer-after 25")
    try:
        msgid, t0 = _submit(ctx, [("Source", "2001"), ("Destination", "2002"), ("Monitor-Time", "60")])
        first = ctx.pbx.wait(lambda: ctx.pbx.rx("MakeCall", t0, calledDirectoryNumber="2002"), 15)
        _check(first, "no MakeCall to 2002")
        ctx.stack.service("stop", "ctid")
        back = time.time()
        ctx.stack.service("start", "ctid")
        snap = ctx.pbx.wait(lambda: ctx.pbx.rx("SnapshotDevice", back, snapshotObject="2002"), 15)
        _check(snap, "ctid did not look for its call (SnapshotDevice 2002) after the restart")
        fields, attempts = _notification(ctx, msgid)
        calls = ctx.pbx.rx("MakeCall", t0, calledDirectoryNumber="2002")
        _check(len(calls) == 1, "%d MakeCalls for one attempt across a restart, want 1" % len(calls))
        _status(fields, "success")
        _check(len(attempts) == 1, "attempt history %r, want one attempt" % attempts)
    finally:
        _ctl(ctx, "set 2002 answer-after 1")
        _quiet(ctx, "2001", "2002")


# ---- Not-Before / Not-After ----

def test_not_before_future(ctx):
    """Not-Before 6 s ahead: no MakeCall before that time, then the call, Status success."""
    nb = time.time() + 6
    msgid, t0 = _submit(ctx, [("Source", "2004"), ("Destination", "0312345678"),
                              ("Not-Before", formatdate(nb, localtime=False))])
    calls = ctx.pbx.wait(lambda: ctx.pbx.rx("MakeCall", t0, callingDevice="2004"), 20)
    _check(calls, "no MakeCall within 20 s")
    _check(calls[0]["wall"] >= int(nb) - 0.05, "MakeCall %.1f s before Not-Before" % (int(nb) - calls[0]["wall"]))
    fields, _ = _notification(ctx, msgid)
    _quiet(ctx, "0312345678")
    _status(fields, "success")


def test_closed_window_expired(ctx):
    """Not-After already past: nothing dialled, Status expired with a notification."""
    na = time.time() - 3600
    msgid, t0 = _submit(ctx, [("Source", "2005"), ("Destination", "0312345678"),
                              ("Not-Before", formatdate(na - 3600, localtime=False)),
                              ("Not-After", formatdate(na, localtime=False))])
    fields, attempts = _notification(ctx, msgid)
    _status(fields, "expired")
    _check(not ctx.pbx.rx("MakeCall", t0, callingDevice="2005"), "a call was placed outside its window")
    _check(not attempts, "attempts recorded for an expired job: %r" % attempts)


# ---- Wait-For-Idle ----

def test_wait_for_idle(ctx):
    """Destination busy, Wait-For-Idle: yes: no failure; the call is placed once the destination hangs up."""
    _ctl(ctx, "busy 2007")
    msgid, t0 = _submit(ctx, [("Source", "2006"), ("Destination", "2007"), ("Wait-For-Idle", "yes"),
                              ("Monitor-Time", "30")])
    first = ctx.pbx.wait(lambda: ctx.pbx.rx("MakeCall", t0, calledDirectoryNumber="2007"), 15)
    _check(first, "no first MakeCall to 2007")
    failed = ctx.pbx.wait(lambda: ctx.pbx.tx("FailedEvent", first[0]["wall"]), 10)
    _check(failed, "the busy destination did not fail the first call")
    time.sleep(2.0)
    _check(len(ctx.pbx.rx("MakeCall", t0, calledDirectoryNumber="2007")) == 1,
           "ctid dialled again while 2007 was still busy")
    freed = time.time()
    _ctl(ctx, "free 2007")
    second = ctx.pbx.wait(lambda: ctx.pbx.rx("MakeCall", freed, calledDirectoryNumber="2007"), 10)
    _check(second, "no MakeCall after 2007 became idle")
    _check(ctx.pbx.rx("SnapshotDevice", freed, snapshotObject="2007"), "no SnapshotDevice of 2007 before redialling")
    fields, _ = _notification(ctx, msgid)
    _quiet(ctx, "2006", "2007")
    _status(fields, "success")


# ---- conference / intrude ----

def test_conference(ctx):
    """0312345678 talks with 2001; conference adds 2002: native ConsultationCall+ConferenceCall, or a server line joins and the other dials."""
    call = _connected_call(ctx, "0312345678", "2001")
    msgid, t0 = _submit(ctx, [("Action", "conference"), ("Source", "2001"), ("Destination", "2002")])
    fields, _ = _notification(ctx, msgid)
    try:
        _status(fields, "success")
        if _method(ctx) == "server-lines":
            l1, l2 = _lines(ctx)[:2]
            _check(ctx.pbx.rx("SingleStepConferenceCall", t0, deviceToJoin=l1),
                   "no SingleStepConferenceCall of line %s" % l1)
            _check(ctx.pbx.rx("MakeCall", t0, callingDevice=l2, calledDirectoryNumber="2002"),
                   "line %s did not dial 2002" % l2)
            paths = ctx.pbx.wait(lambda: [e for e in ctx.pbx.entries()
                                          if e.get("type") == "path" and e.get("wall", 0) >= t0], 10)
            _check(paths, "pbx-sim's line board logged no path between the lines")
            gone = time.time()
            _ctl(ctx, "hangup 2002")
            freed = ctx.pbx.wait(lambda: ctx.pbx.rx("ClearConnection", gone, **{"connectionToBeCleared.deviceID": l1}), 10)
            _check(freed, "line %s stayed in the call after 2002 hung up" % l1)
        else:
            _check(ctx.pbx.rx("ConsultationCall", t0, consultedDevice="2002"), "no ConsultationCall to 2002")
            conf = ctx.pbx.rx("ConferenceCall", t0)
            _check(conf, "no ConferenceCall")
            _check(conf[0]["args"].get("heldCall.callID") == call,
                   "ConferenceCall heldCall %r is not the call in progress %r" % (conf[0]["args"], call))
            _check(ctx.pbx.tx("ConferencedEvent", t0), "pbx-sim sent no ConferencedEvent")
    finally:
        _quiet(ctx, "2001", "2002", "0312345678")


def _intrude_with_lines(ctx):
    """Server lines: the other party (found by SnapshotCall) is held, line 1 joins
    2003's call, line 2 dials 2004, the line board carries 2003 <-> 2004; when 2004
    hangs up line 1 leaves and 0312345678 is retrieved."""
    l1, l2 = _lines(ctx)[:2]
    call = _connected_call(ctx, "0312345678", "2003")
    msgid, t0 = _submit(ctx, [("Action", "intrude"), ("Source", "2003"), ("Destination", "2004")])
    try:
        up = ctx.pbx.wait(lambda: _state(ctx, "2004", "connected", t0), 15)
        _check(up, "2004 was never connected")
        _check(ctx.pbx.rx("SnapshotCall", t0, **{"snapshotObject.callID": call}),
               "ctid did not ask the PBX who is in the call %s" % call)
        _check(ctx.pbx.rx("HoldCall", t0, **{"callToBeHeld.callID": call, "callToBeHeld.deviceID": "0312345678"}),
               "no HoldCall of 0312345678's connection")
        held = [e for e in _state(ctx, "0312345678", "hold", t0) if e.get("call") == call]
        _check(held, "the other party 0312345678 was not held")
        _check(ctx.pbx.rx("SingleStepConferenceCall", t0, deviceToJoin=l1), "line %s did not join the call" % l1)
        _check(ctx.pbx.rx("MakeCall", t0, callingDevice=l2, calledDirectoryNumber="2004"),
               "line %s did not dial 2004" % l2)
        want = "2003 <-> %s <-> %s <-> 2004" % tuple(sorted((l1, l2)))
        paths = ctx.pbx.wait(lambda: [e for e in ctx.pbx.entries()
                                      if e.get("type") == "path" and e.get("wall", 0) >= t0], 10)
        _check(paths and paths[0].get("path") == want,
               "pbx-sim's line board path is %r, want %r" % ([e.get("path") for e in paths or []], want))
        time.sleep(1.0)
        _check(find_mail(ctx.stack.maildir("alice"), in_reply_to(msgid), 0) is None,
               "the intrude job finished while the intrusion leg was still up")
        gone = time.time()
        _ctl(ctx, "hangup 2004")
        freed = ctx.pbx.wait(lambda: ctx.pbx.rx("ClearConnection", gone, **{"connectionToBeCleared.deviceID": l1}), 10)
        _check(freed, "line %s stayed in the call after 2004 hung up" % l1)
        ret = ctx.pbx.wait(lambda: ctx.pbx.rx("RetrieveCall", gone), 10)
        _check(ret, "no RetrieveCall after 2004 hung up")
        _check(ret[0]["args"].get("callToBeRetrieved.callID") == call and
               ret[0]["args"].get("callToBeRetrieved.deviceID") == "0312345678",
               "RetrieveCall of the wrong connection: %r" % ret[0]["args"])
        back = ctx.pbx.wait(lambda: [e for e in _state(ctx, "0312345678", "connected", gone)
                                     if e.get("call") == call], 10)
        _check(back, "0312345678 is not connected with 2003 again")
        fields, _ = _notification(ctx, msgid)
        _status(fields, "success")
        _check("retrieved" in fields.get("reason", ""), "Reason %r does not say the party was retrieved"
               % fields.get("reason"))
    finally:
        _quiet(ctx, "2003", "2004", "0312345678", *_lines(ctx))


def test_intrude(ctx):
    """0312345678 talks with 2003; intrude 2004: the other party is held while 2003 talks with 2004, retrieved when 2004 hangs up."""
    if _method(ctx) == "server-lines":
        _intrude_with_lines(ctx)
        return
    call = _connected_call(ctx, "0312345678", "2003")
    msgid, t0 = _submit(ctx, [("Action", "intrude"), ("Source", "2003"), ("Destination", "2004")])
    try:
        up = ctx.pbx.wait(lambda: _state(ctx, "2004", "connected", t0), 15)
        _check(up, "2004 was never connected")
        _check(ctx.pbx.rx("ConsultationCall", t0, **{"existingCall.callID": call, "consultedDevice": "2004"}),
               "no ConsultationCall from the call in progress to 2004")
        held = [e for e in _state(ctx, "2003", "hold", t0) if e.get("call") == call]
        _check(held, "the call with 0312345678 was not held")
        time.sleep(1.0)
        _check(find_mail(ctx.stack.maildir("alice"), in_reply_to(msgid), 0) is None,
               "the intrude job finished while the intrusion leg was still up")
        gone = time.time()
        _ctl(ctx, "hangup 2004")
        ret = ctx.pbx.wait(lambda: ctx.pbx.rx("RetrieveCall", gone), 10)
        _check(ret, "no RetrieveCall after 2004 hung up")
        _check(ret[0]["args"].get("callToBeRetrieved.callID") == call, "RetrieveCall of the wrong call: %r" % ret[0]["args"])
        back = ctx.pbx.wait(lambda: [e for e in _state(ctx, "2003", "connected", gone) if e.get("call") == call], 10)
        _check(back, "2003 is not connected with 0312345678 again")
        fields, _ = _notification(ctx, msgid)
        _status(fields, "success")
    finally:
        _quiet(ctx, "2003", "2004", "0312345678")


# ---- forwarding ----

def test_forward_set_and_clear(ctx):
    """forward-set 2006 -> 2009: an inbound call to 2006 reaches 2009; forward-clear: the next call rings 2006."""
    msgid, t0 = _submit(ctx, [("Action", "forward-set"), ("Source", "2006"), ("Destination", "2006"),
                              ("Forward-To", "2009")])
    fields, _ = _notification(ctx, msgid)
    _status(fields, "success")
    _check(ctx.pbx.rx("RouteRegister", t0, routeingDevice="2006"), "no RouteRegister for 2006")
    t1 = time.time()
    _ctl(ctx, "call 0312345678 2006")
    try:
        if _method(ctx) == "server-lines":
            l1, l2 = _lines(ctx)[:2]
            sel = ctx.pbx.wait(lambda: ctx.pbx.rx("RouteSelect", t1, routeSelected=l1), 10)
            _check(sel, "the RouteRequest for 2006 was not routed to line %s" % l1)
            out = ctx.pbx.wait(lambda: ctx.pbx.rx("MakeCall", t1, callingDevice=l2, calledDirectoryNumber="2009"), 10)
            _check(out, "line %s did not dial 2009" % l2)
        else:
            sel = ctx.pbx.wait(lambda: ctx.pbx.rx("RouteSelect", t1, routeSelected="2009"), 10)
            _check(sel, "the RouteRequest for 2006 was not answered with RouteSelect 2009")
        up = ctx.pbx.wait(lambda: _state(ctx, "2009", "connected", t1), 10)
        _check(up, "the diverted call did not reach 2009")
        _check(not _state(ctx, "2006", "connected", t1), "2006 answered although it is forwarded")
    finally:
        _quiet(ctx, "2009", "0312345678", "2006", *_lines(ctx))
    msgid, t2 = _submit(ctx, [("Action", "forward-clear"), ("Source", "2006"), ("Destination", "2006")])
    fields, _ = _notification(ctx, msgid)
    _status(fields, "success")
    _check(ctx.pbx.rx("RouteRegisterCancel", t2), "no RouteRegisterCancel")
    t3 = time.time()
    _ctl(ctx, "call 0312345678 2006")
    try:
        up = ctx.pbx.wait(lambda: _state(ctx, "2006", "connected", t3), 10)
        _check(up, "after forward-clear 2006 did not get the call")
        _check(not ctx.pbx.rx("RouteSelect", t3), "a call was still routed after forward-clear")
    finally:
        _quiet(ctx, "2006", "0312345678")


def test_forward_survives_ctid_restart(ctx):
    """A stored forwarding is registered again when ctid restarts, and cleared for good."""
    msgid, _ = _submit(ctx, [("Action", "forward-set"), ("Source", "2005"), ("Destination", "2005"),
                             ("Forward-To", "2009")])
    fields, _ = _notification(ctx, msgid)
    _status(fields, "success")
    t0 = time.time()
    ctx.stack.service("stop", "ctid")
    ctx.stack.service("start", "ctid")
    again = ctx.pbx.wait(lambda: ctx.pbx.rx("RouteRegister", t0, routeingDevice="2005"), 15)
    _check(again, "ctid did not register the stored forwarding of 2005 after its restart")
    msgid, _ = _submit(ctx, [("Action", "forward-clear"), ("Source", "2005"), ("Destination", "2005")])
    fields, _ = _notification(ctx, msgid)
    _status(fields, "success")


TESTS = [
    test_retry_busy_then_answered,
    test_decline_not_retried,
    test_not_before_future,
    test_closed_window_expired,
    test_wait_for_idle,
    test_conference,
    test_intrude,
    test_forward_set_and_clear,
    test_forward_survives_ctid_restart,
    test_restart_while_ringing_not_redialled,
    test_retry_one_hour_interval,
]
