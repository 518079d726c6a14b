"""test_sip - pbx-sim's SIP side against real SIP phones: two baresip instances
(Debian baresip-core) register to the stack's pbx-sim (SIP_PORT, SIP_PASSWORD)
as extensions and answer automatically; a CSTA client (t/pbxsim/cstaclient.py)
places MakeCall between them and watches the events.  The caller's voice is a
WAV spoken by espeak-ng; the callee's sndfile dump must hold it.
"""
import os
import re
import sys
import tempfile
import time

import libsip

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pbxsim"))
from cstaclient import NS3, NS4, NS6, NS354, Client  # noqa: E402

CALLER, CALLEE, STRANGER = "2081", "2082", "2083"  # [2081-2089] in the stack's pbx.conf
SHORT_TALKER = "0311111111"  # external, talk_time=10 (simulated) in the stack's pbx.conf
VOICE_TEXT = "This is the calling phone. One, two, three, four, five. The relay carries my voice."
NS_BY_EDITION = {"ed3": NS3, "ed4": NS4, "ed6": NS6}


def _check(cond, message):
    if not cond:
        raise AssertionError(message)


def _scale(ctx):
    return float(ctx.stack["TIME_SCALE"] or 1)


def _csta(ctx):
    """A CSTA client of the stack's pbx-sim, with an ECMA-354 session when the stack wants one."""
    ns = NS_BY_EDITION.get(ctx.stack["NAMESPACE"] or "ed3", NS3)
    c = Client(int(ctx.stack["CSTA_PORT"]), ns=ns, timeout=10.0)
    if (ctx.stack["SESSION_STYLE"] or "ecma354") == "ecma354":
        r = c.request('<StartApplicationSession xmlns="%s"><applicationInfo><applicationID>test_sip'
                      '</applicationID></applicationInfo><requestedProtocolVersions><protocolVersion>%s'
                      '</protocolVersion></requestedProtocolVersions></StartApplicationSession>' % (NS354, ns))
        _check(r.name == "StartApplicationSessionPosResponse", "no CSTA session: %r" % r)
    return c


def _sip_log(ctx, since, event, device):
    return [e for e in ctx.pbx.entries() if e.get("type") == "sip" and e.get("wall", 0) >= since
            and e.get("event") == event and e.get("device") == device]


class Phones:
    """Phones in a private directory; stopped (and the directory removed) on exit."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.dir = tempfile.mkdtemp(prefix="mailcti-sip.")
        self.phones = []

    def add(self, user, password=None, voice=None):
        p = libsip.Phone(self.dir, user, password or self.ctx.stack["SIP_PASSWORD"],
                         int(self.ctx.stack["SIP_PORT"]), voice=voice)
        self.phones.append(p.start())
        return p

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for p in self.phones:
            p.stop()
        if exc[0] is None:
            libsip.shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print("    phones kept in %s" % self.dir)


def _wait_sip_log(ctx, since, event, device, timeout=5.0):
    """The "sip" log lines of EVENT for DEVICE since SINCE, waiting up to TIMEOUT for the first."""
    deadline = time.time() + timeout
    while True:
        found = _sip_log(ctx, since, event, device)
        if found or time.time() > deadline:
            return found
        time.sleep(0.1)


def test_sip_call_carries_audio(ctx):
    """MakeCall 2081 -> 2082, both baresip: INVITEs to both, Established; the caller hangs up (BYE) at the end
    of its voice: ConnectionCleared, BYE to the callee; the callee's dump holds the caller's espeak-ng voice
    (duration +-5 %, NCC > 0.9)."""
    with Phones(ctx) as ph:
        voice = libsip.voice_wav(os.path.join(ph.dir, "voice.wav"), VOICE_TEXT, lead=1.0)
        a = ph.add(CALLER, voice=voice)
        b = ph.add(CALLEE)
        _check(a.wait_registered() and b.wait_registered(), "the phones did not register: %s / %s"
               % (a.log()[-400:], b.log()[-400:]))
        c = _csta(ctx)
        c.monitor(CALLER)
        c.monitor(CALLEE)
        t0 = time.time()
        c.make_call(CALLER, CALLEE)
        est = c.wait("EstablishedEvent", timeout=15)
        _check(est.get("answeringDevice/deviceIdentifier") == CALLEE, "Established for %r"
               % est.get("answeringDevice/deviceIdentifier"))
        for dev in (CALLER, CALLEE):
            _check(_wait_sip_log(ctx, t0, "invite", dev), "pbx-sim sent no INVITE to %s" % dev)
            _check(_wait_sip_log(ctx, t0, "answered", dev), "%s's phone did not answer" % dev)
        for p in (a, b):
            _check(p.wait_log(r"answering call on line \d+ from sip:", 2),
                   "phone %s answered no call: %s" % (p.user, p.log()[-600:]))
        # baresip hangs up when its voice file ends (menu: "audio error (0,end of file)"): a BYE from the
        # calling phone, which must clear its connection and end the call with BYE to the other phone
        cl = c.wait("ConnectionClearedEvent", timeout=libsip.duration(voice) + 10,
                    pred=lambda m: m.get("droppedConnection/deviceID") == CALLER)
        _check(cl.get("cause") == "normalClearing", "cause %r" % cl.get("cause"))
        c.wait("CallClearedEvent", timeout=5)
        byes = _wait_sip_log(ctx, t0, "bye", CALLER)
        _check(byes and byes[0].get("detail") == "from the phone", "the caller's BYE was not seen: %r" % byes)
        byes = _wait_sip_log(ctx, t0, "bye", CALLEE)
        _check(byes and byes[0].get("detail") == "from pbx-sim", "pbx-sim sent the callee no BYE: %r" % byes)
        _check(b.wait_log(r"Call with sip:%s@\S+ terminated" % CALLER, 5), "the callee's call did not end")
        for p in (a, b):
            p.stop()
        dump = b.dump()
        _check(dump, "the callee wrote no dump in %s" % b.dumps)
        ref, _ = libsip.read_wav(voice)
        rec, rate = libsip.read_wav(dump)
        _check(rate == libsip.RATE, "dump rate %d" % rate)
        want, got = libsip.active_span(ref), libsip.active_span(rec)
        _check(abs(got - want) <= 0.05 * want, "the callee heard %.2f s of audio, the caller's voice lasts %.2f s"
               % (got, want))
        ncc, lag = libsip.best_ncc(ref, rec)
        _check(ncc > 0.9, "normalised cross-correlation %.3f (lag %d samples), want > 0.9" % (ncc, lag))
        c.close()


def test_sip_events_follow_the_phones(ctx):
    """ServiceInitiated, Originated when the calling phone answers, Delivered, Established; ClearConnection of
    the callee sends it BYE and ends the call (ConnectionCleared, CallCleared)."""
    with Phones(ctx) as ph:
        a = ph.add(CALLER)
        b = ph.add(CALLEE)
        _check(a.wait_registered() and b.wait_registered(), "the phones did not register")
        c = _csta(ctx)
        c.monitor(CALLER)
        t0 = time.time()
        call = c.make_call(CALLER, CALLEE)
        seq = [c.wait(n, timeout=15).name for n in ("ServiceInitiatedEvent", "OriginatedEvent", "DeliveredEvent",
                                                     "EstablishedEvent")]
        _check(len(seq) == 4, "events %r" % seq)
        r = c.request(c.x("ClearConnection", "<connectionToBeCleared><callID>%s</callID><deviceID>%s</deviceID>"
                                             "</connectionToBeCleared>" % (call, CALLEE)))
        _check(r.name == "ClearConnectionResponse", "ClearConnection: %r" % r)
        c.wait("CallClearedEvent", timeout=5)
        _check(_wait_sip_log(ctx, t0, "bye", CALLEE), "no BYE to the callee after ClearConnection")
        _check(_wait_sip_log(ctx, t0, "bye", CALLER), "no BYE to the caller once the call ended")
        order = [e["event"] for e in ctx.pbx.entries() if e.get("type") == "sip" and e.get("wall", 0) >= t0
                 and e.get("event") in ("invite", "answered")]
        _check(order[:4] == ["invite", "answered", "invite", "answered"],
               "the calling phone must answer before the called one rings: %r" % order)
        _check(b.wait_log(r"(?i)(terminated|closed)", 5), "the callee's phone saw no end of call")
        c.close()


def test_sip_wrong_password_refused(ctx):
    """A phone registering with a wrong password is challenged, then refused with 403, and stays unregistered."""
    with Phones(ctx) as ph:
        t0 = time.time()
        p = ph.add(STRANGER, password="not-the-password")
        _check(p.wait_log(r"403 Forbidden", 10), "the phone was not refused with 403: %s" % p.log()[-600:])
        _check(not p.wait_registered(0.5), "the phone registered with a wrong password")
        refused = _sip_log(ctx, t0, "refused", STRANGER)
        _check(refused and refused[0].get("scode") == 403, "pbx-sim logged no 403 refusal: %r" % refused)
        _check(not _sip_log(ctx, t0, "registered", STRANGER), "pbx-sim registered it anyway")


def test_sip_talk_time_hang_up(ctx):
    """A phone calls 0311111111 (talk_time 10 s simulated): it hangs up on its own, the phone gets BYE,
    and the same number can be called again at once."""
    with Phones(ctx) as ph:
        a = ph.add(CALLER)
        _check(a.wait_registered(), "the phone did not register")
        c = _csta(ctx)
        c.monitor(CALLER)
        for attempt in (1, 2):
            t0 = time.time()
            c.make_call(CALLER, SHORT_TALKER)
            est = c.wait("EstablishedEvent", timeout=15)
            _check(est.get("answeringDevice/deviceIdentifier") == SHORT_TALKER, "attempt %d: Established %r"
                   % (attempt, est.get("answeringDevice/deviceIdentifier")))
            t_est = time.time()
            cl = c.wait("ConnectionClearedEvent", timeout=10.0 / _scale(ctx) + 10,
                        pred=lambda m: m.get("droppedConnection/deviceID") == SHORT_TALKER)
            _check(time.time() - t_est >= 0.8 * 10.0 / _scale(ctx),
                   "attempt %d: hung up after %.2f s, before its talk time" % (attempt, time.time() - t_est))
            _check(cl.get("cause") == "normalClearing", "cause %r" % cl.get("cause"))
            c.wait("CallClearedEvent", timeout=5)
            _check(_wait_sip_log(ctx, t0, "bye", CALLER), "attempt %d: the phone got no BYE" % attempt)
            c.drain(0.3)
        c.close()


TESTS = [test_sip_call_carries_audio, test_sip_events_follow_the_phones, test_sip_wrong_password_refused,
         test_sip_talk_time_hang_up]
