#!/usr/bin/env python3
"""Conformance and interop tests for pbx-sim, as an independent CSTA client.

Usage: python3 t/pbxsim/test_pbxsim.py --binary PATH [-k SUBSTRING] [-v]

Each test starts its own pbx-sim on a free loopback port (time scale 20), talks
CSTA XML to it, checks responses and the event sequences of ECMA-323 /
CSTA.md section 5.1, reads its JSON-lines log, and stops it with SIGTERM
(which must exit 0 and leave no control socket).  Prints "N passed, N failed".
"""

import argparse
import hashlib
import os
import re
import socket
import struct
import subprocess
import sys
import time
import traceback
import wave

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cstaclient import (NS2, NS3, NS4, NS6, NS354, Client, Sim, conn, frame, free_port, local)  # noqa: E402

TESTS = []


def test(fn=None, **sim_kw):
    def wrap(f):
        TESTS.append((f.__name__, f, sim_kw))
        return f
    return wrap(fn) if fn else wrap


def eq(a, b, what=""):
    if a != b:
        raise AssertionError("%s: expected %r, got %r" % (what, b, a))


def events_for(msgs, xref):
    return [m for m in msgs if m.invoke == "9999" and m.get("monitorCrossRefID") == xref]


def seq(msgs):
    return [(m.name, m.get("localConnectionInfo"), m.get("cause")) for m in msgs]


def error_of(msg):
    eq(msg.name, "CSTAErrorCode", "root")
    child = msg.root[0]
    return (local(child.tag), (child.text or "").strip())


# ---------------------------------------------------------------- framing --

@test
def framing_length_counts_bytes_and_invoke_echo(sim):
    c = sim.client()
    r = c.request(c.x("MonitorStart", "<monitorObject><deviceObject>2001</deviceObject></monitorObject>"))
    eq(r.invoke, "%04d" % c.invoke, "invoke echoed")
    # A device id with a non-ASCII character: the length must count bytes.
    r = c.request(c.x("SnapshotDevice", "<snapshotObject>20\u00e91</snapshotObject>"))
    eq(error_of(r), ("operation", "invalidDeviceID"), "unknown non-ASCII device")
    raw = frame(42, c.x("SnapshotDevice", "<snapshotObject>2001</snapshotObject>"))
    c.send_raw(raw[:5])
    time.sleep(0.05)
    c.send_raw(raw[5:])
    r = c.wait("SnapshotDeviceResponse")
    eq(r.invoke, "0042", "split frame answered")
    # Two frames in one write.
    c.send_raw(frame(43, c.x("SnapshotDevice", "<snapshotObject>2002</snapshotObject>")) +
               frame(44, c.x("SnapshotDevice", "<snapshotObject>2003</snapshotObject>")))
    eq(c.wait("SnapshotDeviceResponse").invoke, "0043", "first merged")
    eq(c.wait("SnapshotDeviceResponse").invoke, "0044", "second merged")


@test
def framing_header_bytes_of_responses(sim):
    s = socket.create_connection(("127.0.0.1", sim.port), timeout=3)
    body = ('<MonitorStart xmlns="%s"><monitorObject><deviceObject>2001</deviceObject>'
            '</monitorObject></MonitorStart>' % NS3).encode()
    s.sendall(frame(7, body))
    data = b""
    frames = []
    deadline = time.monotonic() + 3
    while len(frames) < 2 and time.monotonic() < deadline:
        data += s.recv(65536)
        while len(data) >= 8 and len(data) >= struct.unpack(">H", data[2:4])[0]:
            n = struct.unpack(">H", data[2:4])[0]
            frames.append(data[:n])
            data = data[n:]
    s.close()
    eq(len(frames), 2, "SystemStatus + response")
    for f in frames:
        eq(f[0:2], b"\x00\x00", "format indicator")
        eq(struct.unpack(">H", f[2:4])[0], len(f), "total length incl. header")
    eq(frames[1][4:8], b"0007", "invoke id of the response")
    assert frames[0][4:8] != b"9999", "SystemStatus is a request with its own invoke id"


@test
def framing_bad_format_indicator_drops_client(sim):
    c = sim.client()
    c.send_raw(b"\x01\x00\x00\x0c0001<a/>")
    assert c.wait_closed(), "connection should be closed"
    drops = [l for l in sim.log_lines("session") if l.get("event") == "drop"]
    assert drops, "drop logged"


@test
def client_that_never_reads_is_dropped(sim):
    s = socket.create_connection(("127.0.0.1", sim.port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(5)
    body = '<SnapshotDevice xmlns="%s"><snapshotObject>2001</snapshotObject></SnapshotDevice>' % NS3
    batch = b"".join(frame(i % 8999 + 1, body) for i in range(1000))
    try:
        for _ in range(200):
            s.sendall(batch)
    except OSError:
        pass
    time.sleep(0.5)
    drops = [l["reason"] for l in sim.log_lines("session") if l.get("event") == "drop"]
    assert any("backlog" in r for r in drops), drops
    c = sim.client()
    eq(c.request(c.x("RequestSystemStatus")).name, "RequestSystemStatusResponse", "others still served")
    s.close()


# ---------------------------------------------------------------- session --

@test
def session_system_status_on_accept_and_register(sim):
    c = sim.client(auto_status=False)
    st = c.wait("SystemStatus")
    assert st.invoke != "9999", "switch request, own invoke id"
    eq(st.get("systemStatus"), "normal", "systemStatus")
    c.send('<SystemStatusResponse xmlns="%s"/>' % NS3, int(st.invoke))
    r = c.request(c.x("SystemRegister", "<requestTypes><systemStatus>true</systemStatus>"
                                        "<requestSystemStatus>false</requestSystemStatus></requestTypes>"))
    eq(r.name, "SystemRegisterResponse", "root")
    assert r.get("sysStatRegisterID"), "sysStatRegisterID"
    r = c.request(c.x("RequestSystemStatus"))
    eq((r.name, r.get("systemStatus")), ("RequestSystemStatusResponse", "normal"), "poll")
    r = c.request(c.x("SystemStatus", "<systemStatus>normal</systemStatus>"))
    eq(r.name, "SystemStatusResponse", "client SystemStatus answered")


@test
def session_ecma354_start_reset_stop(sim):
    c = sim.client()
    r = c.request('<StartApplicationSession xmlns="%s"><applicationInfo><applicationID>t</applicationID>'
                  '<applicationSpecificInfo><user>u</user><password>p</password></applicationSpecificInfo>'
                  '</applicationInfo><requestedProtocolVersions><protocolVersion>%s</protocolVersion>'
                  '</requestedProtocolVersions><requestedSessionDuration>120</requestedSessionDuration>'
                  '</StartApplicationSession>' % (NS354, NS4))
    eq(r.name, "StartApplicationSessionPosResponse", "root")
    eq(r.ns, NS354, "namespace")
    sid = r.get("sessionID")
    assert sid, "sessionID"
    eq(r.get("actualProtocolVersion"), NS4, "version")
    eq(r.get("actualSessionDuration"), "120", "duration")
    # A request without a namespace is answered in the negotiated edition.
    r = c.request("<MonitorStart><monitorObject><deviceObject>2001</deviceObject></monitorObject></MonitorStart>")
    eq(r.ns, NS4, "answer namespace")
    r = c.request('<ResetApplicationSessionTimer xmlns="%s"><sessionID>%s</sessionID>'
                  '<requestedSessionDuration>60</requestedSessionDuration></ResetApplicationSessionTimer>' % (NS354, sid))
    eq((r.name, r.get("actualSessionDuration")), ("ResetApplicationSessionTimerPosResponse", "60"), "reset")
    r = c.request('<ResetApplicationSessionTimer xmlns="%s"><sessionID>nope</sessionID>'
                  '</ResetApplicationSessionTimer>' % NS354)
    eq((r.name, r.get("errorCode/definedError")),
       ("ResetApplicationSessionTimerNegResponse", "invalidSessionID"), "bad session")
    r = c.request('<StopApplicationSession xmlns="%s"><sessionID>%s</sessionID><sessionEndReason>'
                  '<definedEndReason>normal</definedEndReason></sessionEndReason></StopApplicationSession>'
                  % (NS354, sid))
    eq(r.name, "StopApplicationSessionPosResponse", "stop")


@test
def session_unsupported_version_rejected(sim):
    c = sim.client()
    r = c.request('<StartApplicationSession xmlns="%s"><applicationInfo><applicationID>t</applicationID>'
                  '</applicationInfo><requestedProtocolVersions><protocolVersion>urn:nope</protocolVersion>'
                  '</requestedProtocolVersions></StartApplicationSession>' % NS354)
    eq((r.name, r.get("errorCode/definedError")),
       ("StartApplicationSessionNegResponse", "requestedProtocolVersionNotSupported"), "neg")


def start_session(c, spec_info):
    return c.request('<StartApplicationSession xmlns="%s"><applicationInfo><applicationID>t</applicationID>'
                     '<applicationSpecificInfo>%s</applicationSpecificInfo></applicationInfo>'
                     '<requestedProtocolVersions><protocolVersion>%s</protocolVersion></requestedProtocolVersions>'
                     '</StartApplicationSession>' % (NS354, spec_info, NS3))


@test(sim_extra="user=cti\npassword=secret")
def session_login_checked_when_configured(sim):
    c = sim.client()
    r = start_session(c, "<user>cti</user><password>wrong</password>")
    eq((r.name, r.get("errorCode/definedError")),
       ("StartApplicationSessionNegResponse", "invalidApplicationInfo"), "wrong password")
    r = c.request('<StartApplicationSession xmlns="%s"><requestedProtocolVersions><protocolVersion>%s'
                  '</protocolVersion></requestedProtocolVersions></StartApplicationSession>' % (NS354, NS3))
    eq(r.get("errorCode/definedError"), "invalidApplicationInfo", "no applicationInfo")
    r = start_session(c, "<user>cti</user><password>secret</password>")
    eq(r.name, "StartApplicationSessionPosResponse", "OpenScape-style login")
    r = start_session(c, '<acx:SessionLoginInfo xmlns:acx="http://www.avaya.com/csta"><acx:userName>cti'
                         '</acx:userName><acx:password>secret</acx:password></acx:SessionLoginInfo>')
    eq(r.name, "StartApplicationSessionPosResponse", "Avaya-style login")


@test
def session_version_ed2_and_ed6_accepted(sim):
    for ns in (NS2, NS6):
        c = sim.client()
        r = c.request('<StartApplicationSession xmlns="%s"><applicationInfo><applicationID>t</applicationID>'
                      '</applicationInfo><requestedProtocolVersions><protocolVersion>urn:x</protocolVersion>'
                      '<protocolVersion>%s</protocolVersion></requestedProtocolVersions>'
                      '</StartApplicationSession>' % (NS354, ns))
        eq(r.get("actualProtocolVersion"), ns, "first supported version chosen")
        c.close()


@test
def session_timer_expiry_terminates(sim):
    c = sim.client()
    r = c.request('<StartApplicationSession xmlns="%s"><applicationInfo><applicationID>t</applicationID>'
                  '</applicationInfo><requestedProtocolVersions><protocolVersion>%s</protocolVersion>'
                  '</requestedProtocolVersions><requestedSessionDuration>1</requestedSessionDuration>'
                  '</StartApplicationSession>' % (NS354, NS3))
    sid = r.get("sessionID")
    t = c.wait("ApplicationSessionTerminated", timeout=4)
    eq(t.get("sessionID"), sid, "session id")
    eq(t.get("sessionTermReason/definedTermReason"), "sessionTimerExpired", "reason")
    eq(t.invoke, "9999", "unsolicited")
    assert c.wait_closed(), "connection closed after termination"


@test(hb=0.3)
def session_heartbeat_drop_after_missed(sim):
    silent = sim.client(auto_status=False)
    polite = sim.client()
    t_end = time.monotonic() + 1.5
    while time.monotonic() < t_end:
        polite.drain(0.1)
    assert silent.wait_closed(timeout=1.5), "client not answering SystemStatus dropped"
    polite.request(polite.x("RequestSystemStatus"))
    statuses = [l for l in sim.log_lines("tx") if l["msg"] == "SystemStatus"]
    assert len(statuses) >= 4, "periodic SystemStatus sent"
    missed = [l for l in sim.log_lines("session") if l.get("event") == "heartbeat-missed"]
    eq(len(missed), 1, "one client dropped for missed heartbeats")


@test(style="ecma354")
def session_style_ecma354_only(sim):
    c = sim.client(auto_status=False)
    try:
        m = c.wait("SystemStatus", timeout=0.4)
        raise AssertionError("unexpected %r" % m)
    except TimeoutError:
        pass
    r = c.request(c.x("MonitorStart", "<monitorObject><deviceObject>2001</deviceObject></monitorObject>"))
    eq(error_of(r), ("operation", "securityViolation"), "request before session")
    r = c.request('<StartApplicationSession xmlns="%s"><applicationInfo><applicationID>t</applicationID>'
                  '</applicationInfo><requestedProtocolVersions><protocolVersion>%s</protocolVersion>'
                  '</requestedProtocolVersions></StartApplicationSession>' % (NS354, NS3))
    eq(r.name, "StartApplicationSessionPosResponse", "start")
    r = c.request(c.x("MonitorStart", "<monitorObject><deviceObject>2001</deviceObject></monitorObject>"))
    eq(r.name, "MonitorStartResponse", "after session")


@test(style="system-status", namespace="ed4")
def session_style_system_status_only(sim):
    c = sim.client(ns=NS4)
    st = c.wait("SystemStatus")
    eq(st.ns, NS4, "--namespace default")
    r = c.request('<StartApplicationSession xmlns="%s"><applicationInfo><applicationID>t</applicationID>'
                  '</applicationInfo></StartApplicationSession>' % NS354)
    eq(error_of(r), ("operation", "serviceNotSupported"), "no ECMA-354 in system-status style")


# -------------------------------------------------------------- namespaces --

@test
def namespace_forms_accepted_and_echoed(sim):
    c = sim.client()
    forms = [
        ('<?xml version="1.0" encoding="UTF-8"?><MonitorStart xmlns="%s"><monitorObject>'
         '<deviceObject>2001</deviceObject></monitorObject></MonitorStart>' % NS4, NS4),
        ('<ns3:MonitorStart xmlns:ns3="%s"><ns3:monitorObject><ns3:deviceObject>2001</ns3:deviceObject>'
         '</ns3:monitorObject></ns3:MonitorStart>' % NS6, NS6),
        ('<MonitorStart xmlns:aps="%s"><monitorObject><deviceObject typeOfNumber="dialingNumber">2001'
         '</deviceObject></monitorObject></MonitorStart>' % NS354, NS6),
        ('<MonitorStart xmlns="%s"><monitorObject><deviceObject>2001</deviceObject></monitorObject>'
         '<monitorType>device</monitorType></MonitorStart>' % NS2, NS2),
    ]
    for body, ns in forms:
        r = c.request(body)
        eq(r.name, "MonitorStartResponse", body)
        eq(r.ns, ns, "answer namespace for " + body)


@test
def connection_id_either_child_order(sim):
    c = sim.client()
    call = c.make_call("2001", "2002")
    time.sleep(0.2)
    r = c.request(c.x("ClearConnection", "<connectionToBeCleared><deviceID>2001</deviceID>"
                                        "<callID>%s</callID></connectionToBeCleared>" % call))
    eq(r.name, "ClearConnectionResponse", "deviceID first accepted")


TAG = re.compile(r"<(/?)([A-Za-z_][\w.:-]*)")


def assert_prefixed(msg, prefix, ns):
    """Every element of MSG on the wire is PREFIX:name, bound to NS on the root."""
    tags = [t for _, t in TAG.findall(msg.text)]
    bad = [t for t in tags if not t.startswith(prefix + ":")]
    eq(bad, [], "unprefixed elements in " + msg.text)
    assert msg.text.startswith('<%s:%s xmlns:%s="%s"' % (prefix, msg.name, prefix, ns)), msg.text
    assert 'xmlns="' not in msg.text, "no default namespace: " + msg.text
    for el in msg.root.iter():
        eq(el.tag.split("}")[0], "{" + ns, "namespace of " + el.tag)


@test(style="both", namespace="ed4", extra_args=("--prefix", "csta"))
def prefixed_elements_on_the_wire(sim):
    c = sim.client(auto_status=False)
    st = c.wait("SystemStatus")
    assert_prefixed(st, "csta", NS4)
    c.send('<SystemStatusResponse xmlns="%s"/>' % NS4, int(st.invoke))
    # Before a session the answer follows the client's edition, under the prefix.
    r = c.request('<MonitorStart xmlns="%s"><monitorObject><deviceObject>2002</deviceObject>'
                  '</monitorObject></MonitorStart>' % NS6)
    assert_prefixed(r, "csta", NS6)
    c.ns = NS4
    xref = c.monitor("2001")
    r = c.request(c.x("MakeCall", "<callingDevice>2001</callingDevice>"
                      "<calledDirectoryNumber>2002</calledDirectoryNumber>"))
    eq(r.name, "MakeCallResponse", "MakeCall")
    assert_prefixed(r, "csta", NS4)
    eq(r.get("callingDevice/deviceID"), "2001", "callingDevice read through the prefix")
    ev = c.wait("EstablishedEvent", lambda m: m.get("monitorCrossRefID") == xref)
    assert_prefixed(ev, "csta", NS4)
    r = c.request(c.x("MonitorStop", "<monitorCrossRefID>4711</monitorCrossRefID>"))
    eq(error_of(r), ("operation", "invalidMonitorCrossRefID"), "error")
    assert_prefixed(r, "csta", NS4)
    # ECMA-354 answers carry the same prefix bound to their own namespace.
    r = c.request('<StartApplicationSession xmlns="%s"><applicationInfo><applicationID>t</applicationID>'
                  '</applicationInfo><requestedProtocolVersions><protocolVersion>%s</protocolVersion>'
                  '</requestedProtocolVersions></StartApplicationSession>' % (NS354, NS4))
    eq(r.name, "StartApplicationSessionPosResponse", "session")
    assert_prefixed(r, "csta", NS354)
    tx = [e["msg"] for e in sim.log_lines("tx")]
    assert "MakeCallResponse" in tx and "EstablishedEvent" in tx, "log names are local names: %r" % tx


@test(style="system-status", namespace="ed4", sim_extra="prefix=px")
def prefix_from_config_file(sim):
    c = sim.client(ns=NS4)
    st = c.wait("SystemStatus")
    assert_prefixed(st, "px", NS4)
    r = c.request(c.x("MakeCall", "<callingDevice>2001</callingDevice>"))
    assert_prefixed(r, "px", NS4)


@test
def bad_prefix_refused(sim):
    p = subprocess.run([sim.binary, "--config", sim.config, "--listen", "127.0.0.1:%d" % free_port(),
                        "--prefix", "1bad"], stderr=subprocess.PIPE, timeout=10)
    eq(p.returncode, 1, "exit status")
    assert b"prefix" in p.stderr, p.stderr


# -------------------------------------------------------------- MakeCall --

@test
def make_call_answered_sequence_both_monitors(sim):
    c = sim.client()
    xa, xb = c.monitor("2001"), c.monitor("2002")
    call = c.make_call("2001", "2002")
    c.wait("EstablishedEvent", lambda m: m.get("monitorCrossRefID") == xb)
    msgs = c.drain()
    a = events_for(msgs + c.queue, xa)
    eq(seq(a), [("ServiceInitiatedEvent", "initiated", "makeCall"),
                ("OriginatedEvent", "connected", "newCall"),
                ("DeliveredEvent", "connected", "newCall"),
                ("EstablishedEvent", "connected", "normal")], "A's monitor")
    b = events_for(msgs, xb)
    eq(seq(b), [("DeliveredEvent", "alerting", "newCall")], "B's monitor before answer")
    for m in a + b:
        if m.find("connection") is not None:
            eq(m.get("connection/callID"), call, "same callID")
    d = a[2]
    eq(d.children(), ["monitorCrossRefID", "connection", "alertingDevice", "callingDevice",
                      "calledDevice", "lastRedirectionDevice", "localConnectionInfo", "cause"], "Delivered order")
    eq(d.get("alertingDevice/deviceIdentifier"), "2002", "alerting")
    eq(d.get("callingDevice/deviceIdentifier"), "2001", "calling")
    assert d.find("lastRedirectionDevice/notRequired") is not None, "notRequired"
    e = a[3]
    eq(e.children()[:6], ["monitorCrossRefID", "establishedConnection", "answeringDevice", "callingDevice",
                          "calledDevice", "lastRedirectionDevice"], "Established order")
    si = a[0]
    eq(si.children(), ["monitorCrossRefID", "initiatedConnection", "initiatingDevice",
                       "localConnectionInfo", "cause"], "ServiceInitiated order")
    # A hangs up.
    r = c.request(c.x("ClearConnection", conn("connectionToBeCleared", call, "2001")))
    eq(r.name, "ClearConnectionResponse", "clear")
    msgs = c.drain()
    a = events_for(msgs, xa)
    b = events_for(msgs, xb)
    eq([(m.name, m.get("droppedConnection/deviceID") or m.get("clearedCall/callID")) for m in b],
       [("ConnectionClearedEvent", "2001"), ("ConnectionClearedEvent", "2002"), ("CallClearedEvent", call)],
       "B sees both legs cleared then the call")
    eq(a[0].get("cause"), "normalClearing", "cause")
    eq(a[0].get("releasingDevice/deviceIdentifier"), "2001", "releasing")
    eq(c.request(c.x("SnapshotDevice", "<snapshotObject>2002</snapshotObject>")).find(
        "crossRefIDorSnapshotData/snapshotData") is not None, True, "idle snapshot")


@test
def make_call_prompt_waits_for_the_caller(sim):
    c = sim.client()
    xa, xn = c.monitor("2001"), c.monitor("2011")

    def mk(a, b, auto=None):
        opt = "<autoOriginate>%s</autoOriginate>" % auto if auto else ""
        r = c.request(c.x("MakeCall", "<callingDevice>%s</callingDevice><calledDirectoryNumber>%s"
                                      "</calledDirectoryNumber>%s" % (a, b, opt)))
        eq(r.name, "MakeCallResponse", "MakeCall %s" % auto)
        return r.get("callingDevice/callID")

    mk("2001", "2002")  # default: prompt; 2001 answers after 1 s
    msgs = events_for(c.drain(0.02), xa)
    eq([m.name for m in msgs], ["ServiceInitiatedEvent"], "only initiated while prompted")
    o = c.wait("OriginatedEvent", lambda m: m.get("monitorCrossRefID") == xa, timeout=2)
    eq(o.get("cause"), "newCall", "then originated")
    call = mk("2011", "2003", "prompt")  # 2011 never answers the prompt
    sim.sim_wait(5)
    eq([m.name for m in events_for(c.drain(0.05), xn)], ["ServiceInitiatedEvent"], "never off-hook")
    eq([x["state"] for d in sim.ctl("dump")["calls"] if d["id"] == call for x in d["connections"]],
       ["initiated"], "still prompting")
    c.request(c.x("ClearCall", "<callToBeCleared><callID>%s</callID></callToBeCleared>" % call))
    c.monitor("0399999999")
    mk("0399999999", "2004", "prompt")
    f = c.wait("FailedEvent")
    eq((f.get("failedConnection/deviceID"), f.get("cause")), ("0399999999", "busy"), "caller busy")
    r = c.request(c.x("MakeCall", "<callingDevice>2001</callingDevice><calledDirectoryNumber>2002"
                                  "</calledDirectoryNumber><autoOriginate>sometimes</autoOriginate>"))
    eq(error_of(r), ("operation", "invalidParameterValue"), "bad autoOriginate")


def failure_case(sim, dest, cause, delivered=False):
    c = sim.client()
    xa = c.monitor("2001")
    call = c.make_call("2001", dest)
    f = c.wait("FailedEvent")
    msgs = events_for(c.drain(0.1) + [f], xa)
    names = [m.name for m in msgs]
    eq(f.get("cause"), cause, "Failed cause for " + dest)
    eq(f.get("failedConnection/callID"), call, "call")
    eq(f.get("failedConnection/deviceID"), dest, "failed device")
    eq(f.get("failingDevice/deviceIdentifier"), dest, "failing device")
    eq(f.get("localConnectionInfo"), "connected", "A's local state")
    eq("DeliveredEvent" in [m.name for m in c.queue] or delivered is False, True, "delivered?")
    states = [l for l in sim.log_lines("state") if l["device"] == dest]
    eq(states[-1]["state"], "fail", "log state fail")
    eq(states[-1]["cause"], cause, "log cause")
    return c, call, names


@test
def make_call_busy_fails_with_busy(sim):
    failure_case(sim, "0399999999", "busy")


@test
def make_call_unreachable_external(sim):
    failure_case(sim, "0377777777", "networkNotObtainable")


@test
def make_call_unreachable_extension(sim):
    failure_case(sim, "2020", "destNotObtainable")


@test
def make_call_invalid_number(sim):
    failure_case(sim, "0333333333", "invalidNumberFormat")


@test
def make_call_dnd(sim):
    failure_case(sim, "2021", "doNotDisturb")


@test
def make_call_unconfigured_number(sim):
    failure_case(sim, "0999", "numberUnallocated")


@test
def make_call_decline_after_ringing(sim):
    c = sim.client()
    xa = c.monitor("2001")
    c.make_call("2001", "0366666666")
    f = c.wait("FailedEvent")
    eq(f.get("cause"), "callCancelled", "decline cause")
    names = [m.name for m in events_for(c.queue, xa)]
    assert "DeliveredEvent" in names, "rang before declining"


@test(fail_release=2)
def failed_leg_released_after_fail_release(sim):
    c = sim.client()
    c.monitor("2001")
    call = c.make_call("2001", "0399999999")
    c.wait("FailedEvent")
    cc = c.wait("CallClearedEvent", timeout=3)
    eq(cc.get("clearedCall/callID"), call, "call cleared after fail_release")


@test
def make_call_never_answer_then_clear_call(sim):
    c = sim.client()
    xa = c.monitor("2001")
    call = c.make_call("2001", "0388888888")
    c.wait("DeliveredEvent")
    sim.sim_wait(10)
    assert not any(m.name == "EstablishedEvent" for m in c.drain(0.1)), "never answers"
    r = c.request(c.x("ClearCall", "<callToBeCleared><callID>%s</callID></callToBeCleared>" % call))
    eq(r.name, "ClearCallResponse", "ClearCall")
    msgs = events_for(c.drain(), xa)
    eq([m.name for m in msgs], ["ConnectionClearedEvent", "ConnectionClearedEvent", "CallClearedEvent"], "clear seq")


@test(busy_for=6)
def busy_for_then_answers(sim):
    c = sim.client()
    c.monitor("2001")
    c.make_call("2001", "0355555555")
    eq(c.wait("FailedEvent").get("cause"), "busy", "busy during the window")
    sim.sim_wait(7)
    c.drain(0.05)
    c.make_call("2001", "0355555555")
    e = c.wait("EstablishedEvent", timeout=2)
    eq(e.get("answeringDevice/deviceIdentifier"), "0355555555", "answers later")


@test
def make_call_answer_delay_is_simulated_time(sim):
    c = sim.client()
    c.monitor("2001")
    c.make_call("2001", "0312345678")  # answer-after 2 (simulated): 0.1 s wall at scale 20
    t0 = time.monotonic()
    c.wait("EstablishedEvent")
    dt = time.monotonic() - t0
    assert 0.05 <= dt < 1.0, "answer after %.3f s wall" % dt
    st = [l for l in sim.log_lines("state") if l["device"] == "0312345678"]
    eq([s["state"] for s in st], ["alerting", "connected"], "states")
    assert 1.8 <= st[1]["ts"] - st[0]["ts"] <= 3.0, "2 simulated seconds between"


@test(sim_extra="talk_time=10")
def answered_external_hangs_up_after_talk_time(sim):
    c = sim.client()
    c.monitor("2001")
    for attempt in (1, 2):  # the same number can be called again once it hung up
        c.make_call("2001", "0312345678")  # answer-after 2, talk_time 10 (simulated; scale 20)
        c.wait("EstablishedEvent", timeout=2)
        t0 = time.monotonic()
        cl = c.wait("ConnectionClearedEvent", timeout=3)
        dt = time.monotonic() - t0
        eq(cl.get("droppedConnection/deviceID"), "0312345678", "attempt %d: the external party hangs up" % attempt)
        eq(cl.get("cause"), "normalClearing", "cause")
        assert dt >= 0.4, "attempt %d: hung up after %.3f s wall, want 10 simulated s = 0.5 s" % (attempt, dt)
        eq([m.get("droppedConnection/deviceID") for m in c.drain() if m.name == "ConnectionClearedEvent"],
           ["2001"], "then the caller's connection ends with the call")
    ends = [l for l in sim.log_lines("call") if l.get("event") == "talk-time"]
    eq(len(ends), 2, "talk-time log lines")


@test(sim_extra="talk_time=10", extra_args=("--talk-time", "0"))
def talk_time_option_overrides_and_zero_keeps_the_call(sim):
    c = sim.client()
    c.monitor("2001")
    c.make_call("2001", "0312345678")
    c.wait("EstablishedEvent", timeout=2)
    time.sleep(1.0)  # 20 simulated seconds, twice the configured talk_time
    eq([m.name for m in c.drain() if m.name.endswith("ClearedEvent")], [], "the call stays up")


@test
def fax_behaviour_answers(sim):
    c = sim.client()
    c.monitor("2001")
    c.make_call("2001", "0344444444")
    eq(c.wait("EstablishedEvent").get("answeringDevice/deviceIdentifier"), "0344444444", "fax answers")


# ---------------------------------------------------------------- errors --

@test
def errors_for_misuse(sim):
    c = sim.client()
    cases = [
        (c.x("MakeCall", "<callingDevice>9999999</callingDevice><calledDirectoryNumber>2002</calledDirectoryNumber>"),
         ("operation", "invalidDeviceID")),
        (c.x("MakeCall", "<callingDevice>2001</callingDevice>"), ("operation", "invalidParameterValue")),
        (c.x("ClearConnection", conn("connectionToBeCleared", "4711", "2001")), ("operation", "invalidCallID")),
        (c.x("ClearCall", "<callToBeCleared><callID>4711</callID></callToBeCleared>"), ("operation", "invalidCallID")),
        (c.x("MonitorStop", "<monitorCrossRefID>4711</monitorCrossRefID>"), ("operation", "invalidMonitorCrossRefID")),
        (c.x("MonitorStart", "<monitorObject><deviceObject>123456789</deviceObject></monitorObject>"),
         ("operation", "invalidDeviceID")),
        (c.x("SynthesizeMessage", "<textToBeSynthesized>hi</textToBeSynthesized>"), ("operation", "serviceNotSupported")),
        (c.x("NoSuchService"), ("operation", "serviceNotSupported")),
        ("<MakeCall><callingDevice>2001</callingDevice", ("operation", "invalidParameterValue")),
        (c.x("SetForwarding", "<device>2001</device><forwardingType>forwardSometimes</forwardingType>"
                              "<activateForward>true</activateForward><forwardDN>2002</forwardDN>"),
         ("operation", "invalidForwardingType")),
        (c.x("RouteRegisterCancel", "<routeRegisterReqID>77</routeRegisterReqID>"),
         ("operation", "invalidRouteRegistrationCrossRefID")),
    ]
    for body, want in cases:
        r = c.request(body)
        eq(error_of(r), want, body)
    call = c.make_call("2001", "0388888888")
    c.wait("DeliveredEvent") if False else time.sleep(0.1)
    r = c.request(c.x("HoldCall", conn("callToBeHeld", call, "0388888888")))
    eq(error_of(r), ("stateIncompatibility", "invalidConnectionState"), "hold an alerting connection")
    r = c.request(c.x("RetrieveCall", conn("callToBeRetrieved", call, "2001")))
    eq(error_of(r), ("stateIncompatibility", "invalidConnectionState"), "retrieve a connected one")
    r = c.request(c.x("ClearConnection", conn("connectionToBeCleared", call, "2999")))
    eq(error_of(r), ("operation", "invalidConnectionID"), "device not in call")


@test
def monitor_stop_stops_events(sim):
    c = sim.client()
    x = c.monitor("2001")
    r = c.request(c.x("MonitorStop", "<monitorCrossRefID>%s</monitorCrossRefID>" % x))
    eq(r.name, "MonitorStopResponse", "stop")
    c.make_call("2001", "2002")
    assert not [m for m in c.drain(0.4) if m.invoke == "9999"], "no events after MonitorStop"


@test
def call_monitor_receives_call_events(sim):
    c = sim.client()
    call = c.make_call("2001", "0388888888")
    time.sleep(0.1)
    r = c.request(c.x("MonitorStart", "<monitorObject><callObject><callID>%s</callID></callObject></monitorObject>"
                      "<monitorType>call</monitorType>" % call))
    x = r.get("monitorCrossRefID")
    c.request(c.x("ClearCall", "<callToBeCleared><callID>%s</callID></callToBeCleared>" % call))
    eq([m.name for m in events_for(c.drain(), x)][-1], "CallClearedEvent", "call monitor")


@test
def monitor_filter_suppresses_events(sim):
    c = sim.client()
    r = c.request(c.x("MonitorStart", "<monitorObject><deviceObject>2001</deviceObject></monitorObject>"
                                     "<requestedMonitorFilter><callcontrol><delivered>true</delivered>"
                                     "<originated>true</originated><established>false</established>"
                                     "</callcontrol></requestedMonitorFilter>"))
    x = r.get("monitorCrossRefID")
    c.make_call("2001", "2002")
    c.wait("EstablishedEvent")
    names = [m.name for m in events_for(c.drain() + c.queue, x)] + ["EstablishedEvent"]
    eq(names, ["ServiceInitiatedEvent", "EstablishedEvent"], "filtered (true = filtered out)")


@test
def hostile_input_survives(sim):
    import random
    rnd = random.Random(1)
    c = sim.client()
    bodies = ["<a>" * 200 + "</a>" * 200, "<MakeCall>\xff</MakeCall>", "<MakeCall><callingDevice>2001",
              "<" * 1000, "<MakeCall xmlns:p='x'><p:callingDevice/></MakeCall>",
              "<ClearConnection><connectionToBeCleared/></ClearConnection>",
              "<MonitorStart><monitorObject/></MonitorStart>", "<RouteSelect/>", "<PlayMessage/>",
              "<SetForwarding><device>2001</device><activateForward>maybe</activateForward></SetForwarding>"]
    for _ in range(200):
        bodies.append("".join(rnd.choice("<>/ab=\"'&;x:") for _ in range(rnd.randint(1, 80))))
    for b in bodies:
        c.send_raw(frame(3000, b.encode("latin-1")))
    c.send_raw(frame(3001, b"<Stop><connection><callID>\xc3\x28</callID></connection></Stop>"))
    r = c.request(c.x("RequestSystemStatus"))
    eq(r.name, "RequestSystemStatusResponse", "still serving")
    errs = [m for m in c.drain(0.3) if m.name == "CSTAErrorCode"]
    assert len(errs) >= 150, "errors answered (%d)" % len(errs)
    sim.log_lines()  # every line is valid JSON


# ----------------------------------------------------------- hold/retrieve --

def connected_call(sim, c, a="2001", b="2002"):
    call = c.make_call(a, b)
    c.wait("EstablishedEvent", lambda m: m.get("establishedConnection/deviceID") == b)
    c.drain(0.1)
    return call


@test
def hold_and_retrieve(sim):
    c = sim.client()
    xa, xb = c.monitor("2001"), c.monitor("2002")
    call = connected_call(sim, c)
    r = c.request(c.x("HoldCall", conn("callToBeHeld", call, "2001")))
    eq(r.name, "HoldCallResponse", "hold")
    msgs = c.drain()
    h = events_for(msgs, xa)[0]
    eq((h.name, h.get("heldConnection/deviceID"), h.get("holdingDevice/deviceIdentifier"),
        h.get("localConnectionInfo"), h.get("cause")), ("HeldEvent", "2001", "2001", "hold", "normal"), "held A")
    eq(events_for(msgs, xb)[0].get("localConnectionInfo"), "connected", "B's view")
    r = c.request(c.x("RetrieveCall", conn("callToBeRetrieved", call, "2001")))
    eq(r.name, "RetrieveCallResponse", "retrieve")
    rt = events_for(c.drain(), xa)[0]
    eq((rt.name, rt.get("localConnectionInfo")), ("RetrievedEvent", "connected"), "retrieved")


# ------------------------------------------------ consult/conference/transfer --

def consult(sim, c, call):
    r = c.request(c.x("ConsultationCall", conn("existingCall", call, "2001") +
                      "<consultedDevice>2003</consultedDevice>"))
    eq(r.name, "ConsultationCallResponse", "consult")
    call2 = r.get("initiatedCall/callID")
    eq(r.get("initiatedCall/deviceID"), "2001", "initiated at A")
    assert call2 != call, "new call"
    c.wait("EstablishedEvent", lambda m: m.get("establishedConnection/deviceID") == "2003")
    return call2


@test
def consultation_then_transfer(sim):
    c = sim.client()
    xa, xb, xc = c.monitor("2001"), c.monitor("2002"), c.monitor("2003")
    call = connected_call(sim, c)
    call2 = consult(sim, c, call)
    msgs = c.drain()
    a = events_for(msgs, xa)
    eq([(m.name, m.get("cause")) for m in a[:3]],
       [("HeldEvent", "consultation"), ("ServiceInitiatedEvent", "consultation"),
        ("OriginatedEvent", "consultation")], "consultation events")
    r = c.request(c.x("TransferCall", conn("heldCall", call, "2001") + conn("activeCall", call2, "2001")))
    eq(r.name, "TransferCallResponse", "transfer")
    eq(r.get("transferredCall/callID"), call2, "surviving call")
    msgs = c.drain()
    for x, local_state in ((xa, "null"), (xb, "connected"), (xc, "connected")):
        t = events_for(msgs, x)
        eq([m.name for m in t], ["TransferedEvent"], "Transfered for %s" % x)
        t = t[0]
        eq(t.get("cause"), "transfer", "cause")
        eq(t.get("localConnectionInfo"), local_state, "local state")
        eq(t.get("primaryOldCall/callID"), call, "primary")
        eq(t.get("secondaryOldCall/callID"), call2, "secondary")
        eq(t.get("transferringDevice/deviceIdentifier"), "2001", "transferring")
        eq(t.get("transferredToDevice/deviceIdentifier"), "2003", "transferred to")
        items = t.find("transferredConnections")
        eq(sorted(i.find("{*}endpoint/{*}deviceID").text for i in items), ["2002", "2003"], "parties")
    dump = sim.ctl("dump")
    eq(len(dump["calls"]), 1, "one call left")
    eq(sorted(x["device"] for x in dump["calls"][0]["connections"]), ["2002", "2003"], "B-C connected")


@test
def consultation_then_conference(sim):
    c = sim.client()
    xa, xb = c.monitor("2001"), c.monitor("2002")
    call = connected_call(sim, c)
    call2 = consult(sim, c, call)
    c.drain()
    r = c.request(c.x("ConferenceCall", conn("heldCall", call, "2001") + conn("activeCall", call2, "2001")))
    eq(r.name, "ConferenceCallResponse", "conference")
    eq(r.get("conferenceCall/callID"), call, "conference call")
    msgs = c.drain()
    ev = events_for(msgs, xb)
    eq([m.name for m in ev], ["ConferencedEvent"], "B sees Conferenced")
    e = ev[0]
    eq((e.get("cause"), e.get("conferencingDevice/deviceIdentifier"), e.get("addedParty/deviceIdentifier")),
       ("conference", "2001", "2003"), "conferenced fields")
    eq(events_for(msgs, xa)[0].get("localConnectionInfo"), "connected", "A connected again")
    dump = sim.ctl("dump")
    eq(sorted(x["device"] for x in dump["calls"][0]["connections"]), ["2001", "2002", "2003"], "3 parties")
    c.request(c.x("ClearConnection", conn("connectionToBeCleared", call, "2001")))
    dump = sim.ctl("dump")
    eq(sorted(x["device"] for x in dump["calls"][0]["connections"]), ["2002", "2003"], "B and C stay")


@test
def conference_errors(sim):
    c = sim.client()
    c.monitor("2002")
    call = connected_call(sim, c)
    r = c.request(c.x("ConferenceCall", conn("heldCall", call, "2001") + conn("activeCall", call, "2002")))
    eq(error_of(r), ("stateIncompatibility", "invalidConnectionState"), "held call not held")


@test
def single_step_conference(sim):
    c = sim.client()
    xa, xd = c.monitor("2001"), c.monitor("2004")
    call = connected_call(sim, c)
    r = c.request(c.x("SingleStepConferenceCall", conn("activeCall", call, "2001") +
                      "<deviceToJoin>2004</deviceToJoin><participationType>silent</participationType>"))
    eq(r.name, "SingleStepConferenceCallResponse", "ssc")
    eq((r.get("conferencedCall/callID"), r.get("conferencedCall/deviceID")), (call, "2004"), "conferencedCall")
    e = c.wait("ConferencedEvent", lambda m: m.get("monitorCrossRefID") == xa)
    eq(e.get("cause"), "singleStepConference", "cause")
    eq(e.get("addedParty/deviceIdentifier"), "2004", "added")
    d = events_for(c.drain() + c.queue, xd)
    eq([m.name for m in d], ["DeliveredEvent", "ConferencedEvent"], "joining device rings then joins")
    r = c.request(c.x("SingleStepConferenceCall", conn("activeCall", call, "2001") +
                      "<deviceToJoin>2005</deviceToJoin><participationType>loud</participationType>"))
    eq(error_of(r), ("operation", "invalidParticipationType"), "bad participationType")


@test
def single_step_transfer(sim):
    c = sim.client()
    xa, xb, xc = c.monitor("2001"), c.monitor("2002"), c.monitor("2003")
    call = connected_call(sim, c)
    r = c.request(c.x("SingleStepTransferCall", conn("activeCall", call, "2001") + "<transferredTo>2003</transferredTo>"))
    eq(r.name, "SingleStepTransferCallResponse", "sst")
    eq(r.get("transferredCall/deviceID"), "2003", "transferredCall")
    c.wait("EstablishedEvent", lambda m: m.get("monitorCrossRefID") == xc)
    msgs = c.drain() + c.queue
    t = events_for(msgs, xa)
    eq((t[0].name, t[0].get("cause"), t[0].get("localConnectionInfo")),
       ("TransferedEvent", "singleStepTransfer", "null"), "A transfered away")
    cx = [m.name for m in events_for(msgs, xc)]
    eq(cx[:2], ["TransferedEvent", "DeliveredEvent"], "C sees transfer then rings")
    d = [m for m in events_for(msgs, xc) if m.name == "DeliveredEvent"][0]
    eq(d.get("lastRedirectionDevice/numberDialed"), "2001", "redirection")
    eq(d.get("callingDevice/deviceIdentifier"), "2001", "original calling device kept")


@test
def deflect_call(sim):
    c = sim.client()
    xa, xn, xb = c.monitor("2001"), c.monitor("2011"), c.monitor("2002")
    call = c.make_call("2001", "2011")
    c.wait("DeliveredEvent", lambda m: m.get("monitorCrossRefID") == xn)
    r = c.request(c.x("DeflectCall", conn("callToBeDiverted", call, "2011") + "<newDestination>2002</newDestination>"))
    eq(r.name, "DeflectCallResponse", "deflect")
    c.wait("EstablishedEvent", lambda m: m.get("monitorCrossRefID") == xb)
    msgs = c.drain() + c.queue
    dv = [m for m in events_for(msgs, xn) if m.name == "DivertedEvent"][0]
    eq((dv.get("divertingDevice/deviceIdentifier"), dv.get("newDestination/deviceIdentifier"), dv.get("cause"),
        dv.get("localConnectionInfo")), ("2011", "2002", "redirected", "null"), "Diverted")
    d = [m for m in events_for(msgs, xb) if m.name == "DeliveredEvent"][0]
    eq(d.get("lastRedirectionDevice/numberDialed"), "2011", "lastRedirectionDevice")
    r = c.request(c.x("DeflectCall", conn("callToBeDiverted", call, "2002") + "<newDestination>2003</newDestination>"))
    eq(error_of(r), ("stateIncompatibility", "invalidConnectionState"), "deflect a connected call")


@test
def answer_call_service(sim):
    c = sim.client()
    xn = c.monitor("2011")
    call = c.make_call("2001", "2011")
    c.wait("DeliveredEvent", lambda m: m.get("monitorCrossRefID") == xn)
    r = c.request(c.x("AnswerCall", conn("callToBeAnswered", call, "2011")))
    eq(r.name, "AnswerCallResponse", "answer")
    e = c.wait("EstablishedEvent", lambda m: m.get("monitorCrossRefID") == xn)
    eq(e.get("answeringDevice/deviceIdentifier"), "2011", "answered")
    r = c.request(c.x("AnswerCall", conn("callToBeAnswered", call, "2011")))
    eq(error_of(r), ("stateIncompatibility", "invalidConnectionState"), "already connected")


# -------------------------------------------------------------- forwarding --

@test
def forwarding_immediate(sim):
    c = sim.client()
    x5, x6 = c.monitor("2005"), c.monitor("2006")
    r = c.request(c.x("SetForwarding", "<device>2005</device><forwardingType>forwardImmediate</forwardingType>"
                                      "<activateForward>true</activateForward><forwardDN>2006</forwardDN>"))
    eq(r.name, "SetForwardingResponse", "set")
    f = c.wait("ForwardingEvent")
    eq((f.get("forwardingType"), f.get("forwardStatus"), f.get("forwardTo/deviceIdentifier")),
       ("forwardImmediate", "true", "2006"), "ForwardingEvent")
    eq(sim.ctl("dump")["forwardings"], [{"device": "2005", "forwardingType": "forwardImmediate",
                                         "forwardDN": "2006"}], "dump forwardings")
    c.make_call("2001", "2005")
    c.wait("EstablishedEvent", lambda m: m.get("monitorCrossRefID") == x6)
    dv = [m for m in events_for(c.drain() + c.queue, x5) if m.name == "DivertedEvent"]
    eq(dv[0].get("cause"), "callForwardImmediate", "diverted cause")
    c.request(c.x("SetForwarding", "<device>2005</device><forwardingType>forwardImmediate</forwardingType>"
                                  "<activateForward>false</activateForward>"))
    eq(sim.ctl("dump")["forwardings"], [], "forwarding off")


@test
def forwarding_busy_and_no_answer(sim):
    c = sim.client()
    c.request(c.x("SetForwarding", "<device>0399999999</device><forwardingType>forwardBusy</forwardingType>"
                                  "<activateForward>true</activateForward><forwardDN>2007</forwardDN>"))
    x7 = c.monitor("2007")
    c.make_call("2001", "0399999999")
    d = c.wait("DeliveredEvent", lambda m: m.get("monitorCrossRefID") == x7)
    eq(d.get("cause"), "callForwardBusy", "busy forwarding")
    c.request(c.x("SetForwarding", "<device>2011</device><forwardingType>forwardNoAns</forwardingType>"
                                  "<activateForward>true</activateForward><forwardDN>2008</forwardDN>"
                                  "<ringCount>1</ringCount>"))
    x8 = c.monitor("2008")
    c.make_call("2002", "2011")
    d = c.wait("DeliveredEvent", lambda m: m.get("monitorCrossRefID") == x8, timeout=3)
    eq(d.get("cause"), "callForwardNoAnswer", "no-answer forwarding")
    eq(d.get("lastRedirectionDevice/numberDialed"), "2011", "redirection")


# --------------------------------------------------------------- snapshot --

@test
def snapshot_device(sim):
    c = sim.client()
    r = c.request(c.x("SnapshotDevice", "<snapshotObject>2001</snapshotObject>"))
    sd = r.find("crossRefIDorSnapshotData/snapshotData")
    eq(len(list(sd)), 0, "idle")
    c.monitor("2002")
    call = connected_call(sim, c)
    r = c.request(c.x("SnapshotDevice", "<snapshotObject>2001</snapshotObject>"))
    info = r.find("crossRefIDorSnapshotData/snapshotData/snapshotDeviceResponseInfo")
    assert info is not None, r
    eq(info.find("{*}connectionIdentifier/{*}callID").text, call, "call")
    eq(info.find("{*}localCallState/{*}compoundCallState/{*}localConnectionState").text, "connected", "state")


@test
def snapshot_call(sim):
    c = sim.client()
    c.monitor("2002")
    call = connected_call(sim, c)
    c.request(c.x("HoldCall", conn("callToBeHeld", call, "2001")))
    r = c.request(c.x("SnapshotCall", "<snapshotObject><callID>%s</callID></snapshotObject>" % call))
    eq(r.name, "SnapshotCallResponse", "root")
    sd = r.find("crossRefIDorSnapshotData/snapshotData")
    parties = sorted((i.find("{*}deviceOnCall/{*}deviceIdentifier").text,
                      i.find("{*}callIdentifier/{*}callID").text,
                      i.find("{*}localConnectionState").text) for i in sd)
    eq(parties, [("2001", call, "hold"), ("2002", call, "connected")], "parties")
    r = c.request(c.x("SnapshotCall", "<snapshotObject><callID>nosuch</callID></snapshotObject>"))
    eq(error_of(r), ("operation", "invalidCallID"), "unknown call")


# ----------------------------------------------------------------- routing --

@test
def route_register_request_select(sim):
    c = sim.client()
    r = c.request(c.x("RouteRegister", "<routeingDevice>5000</routeingDevice>"))
    eq(r.name, "RouteRegisterResponse", "register")
    reg = r.get("routeRegisterReqID")
    x2 = c.monitor("2002")
    reply = sim.ctl("call 0312345678 5000")
    assert reply["ok"], reply
    rq = c.wait("RouteRequest")
    assert rq.invoke != "9999", "RouteRequest uses a switch invoke id"
    eq(rq.get("routeRegisterReqID"), reg, "reg id")
    eq(rq.get("currentRoute/deviceIdentifier"), "5000", "currentRoute")
    eq(rq.get("callingDevice/deviceIdentifier"), "0312345678", "calling")
    eq(rq.get("routedCall/callID"), reply["call"], "routedCall")
    xref = rq.get("crossRefIdentifier")
    c.send(c.x("RouteSelect", "<crossRefIdentifier>%s</crossRefIdentifier><routeRegisterReqID>%s"
                              "</routeRegisterReqID><routeSelected>2002</routeSelected>"
                              "<routeUsedReq>true</routeUsedReq>" % (xref, reg)))
    used = c.wait("RouteUsed")
    eq((used.get("crossRefIdentifier"), used.get("routeUsed")), (xref, "2002"), "RouteUsed")
    end = c.wait("RouteEnd")
    eq(end.get("crossRefIdentifier"), xref, "dialogue ended")
    d = c.wait("DeliveredEvent", lambda m: m.get("monitorCrossRefID") == x2)
    eq(d.get("lastRedirectionDevice/numberDialed"), "5000", "routed from the route point")
    r = c.request(c.x("RouteRegisterCancel", "<routeRegisterReqID>%s</routeRegisterReqID>" % reg))
    eq(r.name, "RouteRegisterCancelResponse", "cancel")
    eq(sim.ctl("dump")["routeRegistrations"], [], "no registrations")


@test(route_timeout=4)
def route_timeout_falls_back(sim):
    c = sim.client()
    c.request(c.x("RouteRegister", "<routeingDevice>5000</routeingDevice>"))
    x = c.monitor("5000")
    sim.ctl("call 0312345678 5000")
    rq = c.wait("RouteRequest")
    end = c.wait("RouteEnd", timeout=3)
    eq(end.get("crossRefIdentifier"), rq.get("crossRefIdentifier"), "ended by the switch")
    eq(end.get("errorValue/operation"), "routeingTimerExpired", "timer expired")
    c.wait("EstablishedEvent", lambda m: m.get("monitorCrossRefID") == x, timeout=3)


@test
def route_end_from_application_uses_default(sim):
    c = sim.client()
    c.request(c.x("RouteRegister", "<routeingDevice>5000</routeingDevice>"))
    x = c.monitor("5000")
    sim.ctl("call 0312345678 5000")
    rq = c.wait("RouteRequest")
    c.send(c.x("RouteEnd", "<crossRefIdentifier>%s</crossRefIdentifier>" % rq.get("crossRefIdentifier")))
    c.wait("EstablishedEvent", lambda m: m.get("monitorCrossRefID") == x, timeout=3)
    c.send(c.x("RouteSelect", "<crossRefIdentifier>424242</crossRefIdentifier><routeSelected>2002</routeSelected>"))
    e = c.wait("RouteEnd")
    eq(e.get("errorValue/operation"), "invalidRouteingCrossRefID", "unknown crossRef")


# ------------------------------------------------------------------ voice --

def write_wav(path, seconds, rate=8000):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x01\x00" * int(rate * seconds))
    with open(path, "rb") as f:
        return "sha256:" + hashlib.sha256(f.read()).hexdigest()


@test
def play_message_and_stop(sim):
    checksum = write_wav(os.path.join(sim.media, "welcome.wav"), 2.0)
    write_wav(os.path.join(sim.media, "long.wav"), 60.0)
    with open(os.path.join(sim.media, "junk.wav"), "wb") as f:
        f.write(b"not a wav file at all")
    c = sim.client()
    xa = c.monitor("2001")
    call = connected_call(sim, c)
    r = c.request(c.x("PlayMessage", "<messageToBePlayed>welcome</messageToBePlayed>" +
                      conn("overConnection", call, "2002")))
    eq(r.name, "PlayMessageResponse", "play")
    p = c.wait("PlayEvent")
    eq(p.get("monitorCrossRefID"), xa, "to the monitor")
    s = c.wait("StopEvent", timeout=2)
    eq(s.get("cause"), "endOfMessageDetected", "played to the end")
    media = [l for l in sim.log_lines("media") if l.get("event") == "play"]
    eq((media[0]["file"], media[0]["format"], media[0]["rate"], media[0]["channels"], media[0]["bits"]),
       ("welcome.wav", "pcm", 8000, 1, 16), "media format")
    eq(media[0]["duration"], 2.0, "duration")
    eq(media[0]["checksum"], checksum, "checksum")
    ends = [l for l in sim.log_lines("media") if l.get("event") == "end"]
    assert 1.5 <= ends[0]["ts"] - media[0]["ts"] <= 3.0, "played for 2 simulated seconds"
    r = c.request(c.x("PlayMessage", "<messageToBePlayed>long.wav</messageToBePlayed>" +
                      conn("overConnection", call, "2002")))
    c.wait("PlayEvent")
    r = c.request(c.x("Stop", conn("connection", call, "2002")))
    eq(r.name, "StopResponse", "stop")
    eq(c.wait("StopEvent").get("cause"), "normal", "stopped")
    r = c.request(c.x("Stop", conn("connection", call, "2002")))
    eq(error_of(r), ("stateIncompatibility", "incorrectMsgState"), "nothing playing")
    r = c.request(c.x("PlayMessage", "<messageToBePlayed>missing</messageToBePlayed>" +
                      conn("overConnection", call, "2002")))
    eq(error_of(r), ("operation", "invalidMsgID"), "missing file")
    r = c.request(c.x("PlayMessage", "<messageToBePlayed>junk</messageToBePlayed>" +
                      conn("overConnection", call, "2002")))
    eq(error_of(r), ("operation", "invalidFile"), "not a WAV")
    for bad in ("../pbx.conf", "/etc/passwd", "sub/../welcome", "sub//x"):
        r = c.request(c.x("PlayMessage", "<messageToBePlayed>%s</messageToBePlayed>" % bad +
                          conn("overConnection", call, "2002")))
        eq(error_of(r), ("operation", "invalidFile"), "no path escape: " + bad)
    os.mkdir(os.path.join(sim.media, "sub"))
    write_wav(os.path.join(sim.media, "sub", "hello.wav"), 0.5)
    r = c.request(c.x("PlayMessage", "<messageToBePlayed>sub/hello</messageToBePlayed>" +
                      conn("overConnection", call, "2002")))
    eq(r.name, "PlayMessageResponse", "file in a subdirectory")


@test(extra_args=("--media-dir", "/nonexistent-media"))
def media_dir_option_overrides_config(sim):
    write_wav(os.path.join(sim.media, "welcome.wav"), 1.0)
    c = sim.client()
    c.monitor("2002")
    call = connected_call(sim, c)
    r = c.request(c.x("PlayMessage", "<messageToBePlayed>welcome</messageToBePlayed>" +
                      conn("overConnection", call, "2002")))
    eq(error_of(r), ("operation", "invalidMsgID"), "looked in --media-dir, not [sim] media_dir")


# -------------------------------------------------------------------- fax --

def write_tiff(path, pages, width=1728, compression=3, yres=196, big=False, loop=False):
    """A TIFF whose IFDs describe PAGES pages (strips are filler: pbx-sim reads only the IFDs)."""
    e = ">" if big else "<"
    out = bytearray(b"MM" if big else b"II") + struct.pack(e + "HI", 42, 8)
    n = 9
    for i in range(pages):
        ifd = len(out)
        rat = ifd + 2 + n * 12 + 4
        strip = rat + 16
        nxt = 8 if loop and i == pages - 1 else (0 if i == pages - 1 else strip + 64)
        entries = [(256, 4, 1, width), (257, 4, 1, 2200), (259, 3, 1, compression), (262, 3, 1, 0),
                   (273, 4, 1, strip), (279, 4, 1, 64), (282, 5, 1, rat), (283, 5, 1, rat + 8),
                   (292, 4, 1, 0)]
        out += struct.pack(e + "H", n)
        for tag, typ, cnt, val in entries:
            if typ == 3:
                out += struct.pack(e + "HHIHH", tag, typ, cnt, val, 0)
            else:
                out += struct.pack(e + "HHII", tag, typ, cnt, val)
        out += struct.pack(e + "I", nxt)
        out += struct.pack(e + "IIII", 204, 1, yres, 1) + bytes(64)
    with open(path, "wb") as f:
        f.write(out)
    return "sha256:" + hashlib.sha256(bytes(out)).hexdigest()


def fax_call(c):
    c.monitor("2001")
    call = c.make_call("2001", "0344444444")
    c.wait("EstablishedEvent", lambda m: m.get("establishedConnection/deviceID") == "0344444444")
    c.drain(0.1)
    return call


@test
def fax_receiver_reads_class_f_pages(sim):
    checksum = write_tiff(os.path.join(sim.media, "doc.tif"), 3)
    write_tiff(os.path.join(sim.media, "std.TIFF"), 1, yres=98, big=True)
    c = sim.client()
    call = fax_call(c)
    r = c.request(c.x("PlayMessage", "<messageToBePlayed>doc.tif</messageToBePlayed>" +
                      conn("overConnection", call, "0344444444")))
    eq(r.name, "PlayMessageResponse", "fax accepted")
    c.wait("PlayEvent")
    eq(c.wait("StopEvent", timeout=3).get("cause"), "endOfMessageDetected", "fax sent to the end")
    fax = sim.log_lines("fax")
    eq((fax[0]["file"], fax[0]["pages"], fax[0]["width"], fax[0]["compression"], fax[0]["resolution"],
        fax[0]["device"]), ("doc.tif", 3, 1728, "g3", "fine", "0344444444"), "fax log line")
    eq(fax[0]["checksum"], checksum, "checksum")
    assert fax[0]["duration"] >= 5 + 3 * 1.5, "transmission time %r" % fax[0]["duration"]
    r = c.request(c.x("PlayMessage", "<messageToBePlayed>std.TIFF</messageToBePlayed>" +
                      conn("overConnection", call, "0344444444")))
    eq(r.name, "PlayMessageResponse", "big-endian fax accepted")
    fax = sim.log_lines("fax")
    eq((fax[1]["pages"], fax[1]["resolution"]), (1, "standard"), "standard resolution, one page")


@test
def fax_receiver_rejects_non_class_f(sim):
    bad = {"raw.tif": dict(compression=1), "wide.tif": dict(width=2000),
           "loop.tif": dict(loop=True), "lowres.tif": dict(yres=72)}
    for name, kw in bad.items():
        write_tiff(os.path.join(sim.media, name), 2, **kw)
    with open(os.path.join(sim.media, "text.tif"), "wb") as f:
        f.write(b"this is no TIFF")
    write_tiff(os.path.join(sim.media, "ok.tif"), 1)
    c = sim.client()
    call = fax_call(c)
    for name in sorted(bad) + ["text.tif"]:
        r = c.request(c.x("PlayMessage", "<messageToBePlayed>%s</messageToBePlayed>" % name +
                          conn("overConnection", call, "0344444444")))
        eq(error_of(r), ("operation", "invalidFile"), "not Class F: " + name)
    eq(sim.log_lines("fax"), [], "nothing received")
    c2 = sim.client()
    c2.monitor("2003")
    voice = connected_call(sim, c2, "2003", "2004")
    r = c2.request(c2.x("PlayMessage", "<messageToBePlayed>ok.tif</messageToBePlayed>" +
                        conn("overConnection", voice, "2004")))
    eq(error_of(r), ("operation", "requestIncompatibleWithObject"), "a fax to a phone")


# ------------------------------------------------------------- line board --

@test
def line_board_path_logged(sim):
    owner, other = sim.client(), sim.client()
    owner.monitor("2001")
    # Server lines belong to the client that monitors them first.
    r = other.request(other.x("MakeCall", "<callingDevice>7002</callingDevice>"
                                          "<calledDirectoryNumber>2002</calledDirectoryNumber>"))
    eq(error_of(r), ("operation", "privilegeViolationCallingDevice"), "unowned line")
    owner.make_call("2001", "7001")
    eq(owner.wait("FailedEvent").get("cause"), "destOutOfOrder", "a line nobody owns")
    owner.monitor("7001")
    owner.monitor("7002")
    r = other.request(other.x("MakeCall", "<callingDevice>7002</callingDevice>"
                                          "<calledDirectoryNumber>2002</calledDirectoryNumber>"))
    eq(error_of(r), ("operation", "privilegeViolationCallingDevice"), "line owned by another client")
    owner.make_call("2001", "7001")
    owner.make_call("7002", "2002")
    time.sleep(0.3)
    paths = sim.log_lines("path")
    eq([p["path"] for p in paths], ["2001 <-> 7001 <-> 7002 <-> 2002"], "audio path")
    lines = [d for d in sim.ctl("dump")["devices"] if d["kind"] == "line"]
    assert all(d["owner"] for d in lines), lines


@test
def line_board_path_skips_held_party(sim):
    # Intrude through server lines: the other party is held, a line joins the
    # call, the other line dials; the path names the party that still talks.
    c = sim.client()
    c.monitor("7001")
    c.monitor("7002")
    c.monitor("2002")
    call = connected_call(sim, c, "2001", "2002")
    eq(c.request(c.x("HoldCall", conn("callToBeHeld", call, "2001"))).name, "HoldCallResponse", "hold")
    r = c.request(c.x("SingleStepConferenceCall", conn("activeCall", call, "2002") +
                      "<deviceToJoin>7001</deviceToJoin><participationType>active</participationType>"))
    eq(r.name, "SingleStepConferenceCallResponse", "line joins")
    c.make_call("7002", "2003")
    deadline = time.time() + 3
    while time.time() < deadline and not sim.log_lines("path"):
        time.sleep(0.05)
    eq([p["path"] for p in sim.log_lines("path")], ["2002 <-> 7001 <-> 7002 <-> 2003"], "audio path")


# -------------------------------------------------------------------- sip --

def _udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


SIP_PORT = _udp_port()


def _register(sock, ext, auth="", cseq=1, contact=None):
    """Send one REGISTER for EXT to pbx-sim's SIP port; the reply's status line and headers."""
    lport = sock.getsockname()[1]
    uri = "sip:127.0.0.1:%d" % SIP_PORT
    msg = ("REGISTER %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bK%d%s\r\n"
           "From: <sip:%s@127.0.0.1>;tag=t%d\r\nTo: <sip:%s@127.0.0.1>\r\nCall-ID: reg-%s-%d\r\n"
           "CSeq: %d REGISTER\r\nMax-Forwards: 70\r\nContact: <%s>\r\nExpires: 60\r\n%s"
           "Content-Length: 0\r\n\r\n" % (uri, lport, cseq, ext, ext, cseq, ext, ext, lport, cseq,
                                            contact or "sip:%s@127.0.0.1:%d" % (ext, lport), auth))
    sock.sendto(msg.encode(), ("127.0.0.1", SIP_PORT))
    reply = sock.recv(4096).decode()
    return reply.split("\r\n")[0], reply


def _digest(ext, password, challenge, uri):
    fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    md5 = lambda t: hashlib.md5(t.encode()).hexdigest()  # noqa: E731
    ha1 = md5("%s:%s:%s" % (ext, fields["realm"], password))
    ha2 = md5("REGISTER:%s" % uri)
    resp = md5("%s:%s:00000001:c0ffee:auth:%s" % (ha1, fields["nonce"], ha2))
    return ('Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", '
            'qop=auth, nc=00000001, cnonce="c0ffee", algorithm=MD5\r\n'
            % (ext, fields["realm"], fields["nonce"], uri, resp))


@test(sim_extra="sip_password=s3cret", extra_args=("--sip", "127.0.0.1:%d" % SIP_PORT))
def sip_registrar_digest(sim):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2)
    uri = "sip:127.0.0.1:%d" % SIP_PORT
    status, reply = _register(sock, "2001")
    eq(status, "SIP/2.0 401 Unauthorized", "no credentials")
    chall = re.search(r"(?im)^WWW-Authenticate: (.*)$", reply).group(1)
    status, _ = _register(sock, "2001", _digest("2001", "wrong", chall, uri), 2)
    eq(status, "SIP/2.0 403 Forbidden", "wrong password")
    status, reply = _register(sock, "2001", _digest("2001", "s3cret", chall, uri), 3)
    eq(status, "SIP/2.0 200 OK", "right password")
    assert re.search(r"(?im)^Contact: <sip:2001@127\.0\.0\.1:\d+>;expires=60", reply), reply
    status, _ = _register(sock, "2002", _digest("2001", "s3cret", chall, uri), 4)
    eq(status, "SIP/2.0 403 Forbidden", "2001's credentials for 2002")
    status, _ = _register(sock, "0312345678", "", 5)
    eq(status, "SIP/2.0 404 Not Found", "an external number cannot register")
    status, _ = _register(sock, "4999", "", 6)
    eq(status, "SIP/2.0 404 Not Found", "an unknown number cannot register")
    time.sleep(0.2)
    events = [(l["event"], l.get("device"), l.get("scode")) for l in sim.log_lines("sip")]
    assert ("registered", "2001", 200) in events, events
    assert ("refused", "2001", 403) in events, events


@test(sim_extra="sip_password=s3cret", extra_args=("--sip", "127.0.0.1:%d" % SIP_PORT))
def sip_registered_device_is_rung_and_busy_answer_fails(sim):
    """A registered device gets a real INVITE on MakeCall; its 486 is Failed(busy)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(3)
    uri = "sip:127.0.0.1:%d" % SIP_PORT
    _, reply = _register(sock, "2002")
    chall = re.search(r"(?im)^WWW-Authenticate: (.*)$", reply).group(1)
    status, _ = _register(sock, "2002", _digest("2002", "s3cret", chall, uri), 2)
    eq(status, "SIP/2.0 200 OK", "registered")
    c = sim.client()
    c.monitor("2001")
    c.make_call("2001", "2002")
    invite = sock.recv(8192).decode()
    assert invite.startswith("INVITE sip:2002@127.0.0.1:"), invite
    assert "m=audio " in invite and "RTP/AVP 0 101" in invite, invite
    head = invite.split("\r\n\r\n")[0]
    keep = [l for l in head.split("\r\n")[1:] if l.split(":")[0].lower() in ("via", "from", "to", "call-id", "cseq")]
    sock.sendto(("SIP/2.0 486 Busy Here\r\n%s\r\nContent-Length: 0\r\n\r\n"
                 % "\r\n".join(l + (";tag=busy" if l.lower().startswith("to:") else "") for l in keep)).encode(),
                ("127.0.0.1", SIP_PORT))
    f = c.wait("FailedEvent", timeout=3)
    eq(f.get("failedConnection/deviceID"), "2002", "failed leg")
    eq(f.get("cause"), "busy", "486 is busy")


# ---------------------------------------------------------------- control --

@test
def control_commands(sim):
    c = sim.client()
    x = c.monitor("2011")
    r = sim.ctl("call 0312345678 2011")
    assert r["ok"] and r["call"], r
    d = c.wait("DeliveredEvent")
    eq(d.get("callingDevice/deviceIdentifier"), "0312345678", "inbound caller")
    eq(sim.ctl("answer 2011")["ok"], True, "answer")
    e = c.wait("EstablishedEvent")
    eq(e.get("answeringDevice/deviceIdentifier"), "2011", "answered by control")
    eq(sim.ctl("answer 2011")["ok"], False, "nothing to answer")
    eq(sim.ctl("hangup 2011")["ok"], True, "hangup")
    c.wait("CallClearedEvent")
    eq(sim.ctl("busy 2011")["ok"], True, "busy")
    eq(c.wait("ServiceInitiatedEvent").get("monitorCrossRefID"), x, "off-hook")
    c.make_call("2001", "2011")
    eq(c.wait("FailedEvent").get("cause"), "busy", "busy device")
    eq(sim.ctl("free 2011")["ok"], True, "free")
    c.wait("CallClearedEvent", lambda m: m.get("monitorCrossRefID") == x)
    eq(sim.ctl("set 2011 busy")["ok"], True, "set behaviour")
    c.drain(0.1)
    c.make_call("2002", "2011")
    eq(c.wait("FailedEvent").get("cause"), "busy", "behaviour changed")
    eq(sim.ctl("set 2011 sometimes")["ok"], False, "bad behaviour")
    x3 = c.monitor("2003")
    c.drain(0.1)
    eq(sim.ctl("call 2003 2004")["ok"], True, "an extension dials by hand")
    c.wait("EstablishedEvent", lambda m: m.get("monitorCrossRefID") == x3)
    eq([(m.name, m.get("cause")) for m in events_for(c.queue, x3)][:2],
       [("ServiceInitiatedEvent", "newCall"), ("OriginatedEvent", "newCall")], "manual origination")
    eq(sim.ctl("answer 99999")["ok"], False, "unknown device")
    eq(sim.ctl("frobnicate")["ok"], False, "unknown command")
    dump = sim.ctl("dump")
    for key in ("calls", "monitors", "routeRegistrations", "forwardings"):
        assert key in dump, key
    eq(sorted(m["device"] for m in dump["monitors"]), ["2003", "2011"], "monitors in dump")
    out = subprocess.run([sim.binary, "--ctl", sim.control, "dump"], capture_output=True, text=True, timeout=5)
    eq(out.returncode, 0, "--ctl exit status")
    assert out.stdout.startswith('{"ok":true'), out.stdout
    out = subprocess.run([sim.binary, "--ctl", sim.control, "answer", "2001"], capture_output=True, text=True,
                         timeout=5)
    eq(out.returncode, 1, "--ctl failure status")


# -------------------------------------------------------------------- log --

@test
def log_schema(sim):
    c = sim.client()
    call = c.make_call("2001", "2002")
    time.sleep(0.2)
    c.request(c.x("ClearConnection", "<connectionToBeCleared><callID>%s</callID><deviceID>2001</deviceID>"
                                    "</connectionToBeCleared>" % call))
    time.sleep(0.1)
    lines = sim.log_lines()
    for l in lines:
        assert isinstance(l["ts"], float) and isinstance(l["wall"], float), l
    rx = [l for l in lines if l["type"] == "rx" and l["service"] == "MakeCall"][0]
    eq(rx["args"]["callingDevice"], "2001", "args")
    eq(rx["args"]["calledDirectoryNumber"], "2002", "args")
    assert rx["xml"].startswith("<MakeCall"), "xml"
    rx = [l for l in lines if l["type"] == "rx" and l["service"] == "ClearConnection"][0]
    eq((rx["args"]["connectionToBeCleared.callID"], rx["args"]["connectionToBeCleared.deviceID"]),
       (call, "2001"), "flattened ConnectionID")
    tx = [l for l in lines if l["type"] == "tx" and l["msg"] == "MakeCallResponse"][0]
    eq(tx["invoke"], rx["invoke"][:0] + tx["invoke"], "invoke present")
    states = [(l["device"], l["state"]) for l in lines if l["type"] == "state" and l["call"] == call]
    eq(states, [("2001", "initiated"), ("2001", "connected"), ("2002", "alerting"), ("2002", "connected"),
                ("2001", "null"), ("2002", "null")], "state changes")
    errs = [l for l in lines if l["type"] == "tx" and l["msg"] == "CSTAErrorCode"]
    eq(errs, [], "no errors")


@test
def sigterm_exits_cleanly(sim):
    c = sim.client()
    c.monitor("2001")
    rc = sim.stop()
    eq(rc, 0, "exit status")
    assert not os.path.exists(sim.control), "control socket removed"
    assert c.wait_closed(), "clients closed"


# ---------------------------------------------------------------- interop --

@test(namespace="ed4", style="both")
def interop_osv_style_client(sim):
    """An OpenScape-Voice-like client: answers SystemStatus, SystemRegister,
    prefixed ed4 requests, 32-hex-looking IDs are opaque, events parsed by local name."""
    c = sim.client(ns=NS4, auto_status=False)
    st = c.wait("SystemStatus")
    c.send('<SystemStatusResponse xmlns="%s"/>' % NS4, int(st.invoke))
    r = c.request('<?xml version="1.0" encoding="UTF-8"?><SystemRegister xmlns="%s"><requestTypes>'
                  '<systemStatus>true</systemStatus></requestTypes></SystemRegister>' % NS4)
    eq(r.name, "SystemRegisterResponse", "register")
    r = c.request('<ns3:MonitorStart xmlns:ns3="%s"><ns3:monitorObject><ns3:deviceObject typeOfNumber='
                  '"dialingNumber">2001</ns3:deviceObject></ns3:monitorObject><ns3:monitorType>device'
                  '</ns3:monitorType></ns3:MonitorStart>' % NS4)
    x = r.get("monitorCrossRefID")
    call = c.make_call("2001", "0312345678")
    e = c.wait("EstablishedEvent")
    eq((e.ns, e.get("monitorCrossRefID"), e.get("establishedConnection/callID")), (NS4, x, call), "event")
    r = c.request('<ClearConnection xmlns="%s"><connectionToBeCleared><deviceID>2001</deviceID><callID>%s'
                  '</callID></connectionToBeCleared></ClearConnection>' % (NS4, call))
    eq(r.name, "ClearConnectionResponse", "clear")
    c.wait("CallClearedEvent")


@test
def interop_avaya_style_client(sim):
    """An AES/DMCC-like client: ECMA-354 session first with login info in xsd:any,
    ed3, keepalive by ResetApplicationSessionTimer, deviceID before callID."""
    c = sim.client(ns=NS3)
    r = c.request('<StartApplicationSession xmlns="%s"><applicationInfo><applicationID>dmcc</applicationID>'
                  '<applicationSpecificInfo><acx:SessionLoginInfo xmlns:acx="http://www.avaya.com/csta">'
                  '<acx:userName>u</acx:userName><acx:password>p</acx:password><acx:sessionCleanupDelay>60'
                  '</acx:sessionCleanupDelay></acx:SessionLoginInfo></applicationSpecificInfo></applicationInfo>'
                  '<requestedProtocolVersions><protocolVersion>%s</protocolVersion></requestedProtocolVersions>'
                  '<requestedSessionDuration>2</requestedSessionDuration></StartApplicationSession>' % (NS354, NS3))
    sid = r.get("sessionID")
    x = c.monitor("2003")
    for _ in range(3):
        time.sleep(1.0)
        r = c.request('<ResetApplicationSessionTimer xmlns="%s"><sessionID>%s</sessionID>'
                      '<requestedSessionDuration>2</requestedSessionDuration></ResetApplicationSessionTimer>'
                      % (NS354, sid))
        eq(r.name, "ResetApplicationSessionTimerPosResponse", "keepalive")
    call = c.make_call("2003", "2004")
    e = c.wait("EstablishedEvent", lambda m: m.get("monitorCrossRefID") == x)
    r = c.request(c.x("HoldCall", "<callToBeHeld><deviceID>2003</deviceID><callID>%s</callID></callToBeHeld>" % call))
    eq(r.name, "HoldCallResponse", "hold, deviceID first")
    eq(c.wait("HeldEvent").get("localConnectionInfo"), "hold", "held")
    assert e is not None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("-k", default="")
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()
    passed = failed = 0
    for name, fn, kw in TESTS:
        if args.k not in name:
            continue
        sim = Sim(os.path.abspath(args.binary), **kw)
        t0 = time.monotonic()
        try:
            fn(sim)
            rc = sim.stop()
            if rc != 0:
                raise AssertionError("pbx-sim exit status %s: %s" % (rc, sim.stderr[-3000:]))
            passed += 1
            if args.v:
                print("ok   %s (%.2fs)" % (name, time.monotonic() - t0))
        except Exception:
            failed += 1
            print("FAIL %s" % name)
            traceback.print_exc()
        finally:
            sim.cleanup()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
