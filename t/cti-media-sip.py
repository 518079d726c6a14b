#!/usr/bin/env python3
"""cti-media-sip - cti-media against real SIP software no one here wrote.

(a) registration with digest authentication to Kamailio (Debian kamailio,
    started here on 127.0.0.1 with a private kamailio.cfg: registrar/usrloc
    and auth against one fixed password); Kamailio's own usrloc (kamcmd
    ul.dump) must hold the line, and a wrong password must be refused;
(b) calls to real baresip phones (auto-answer; the sndfile module dumps what
    they hear, aufile plays a WAV as their voice): play, record, gather by
    RFC 4733 and by in-band tones (made with sox, decoded by spandsp), say,
    a refused call, an unanswered call, an armed line answering an INVITE;
    after each, STATUS shows no session left open;
(c) fax: see cti-media-fax.py.
Audio is compared in plain Python (wave): duration within 5 %, normalised
cross-correlation above 0.9.  Every process started here is stopped.

Usage: cti-media-sip.py [BUILD_DIR]   (default: $BUILD_DIR, else ..)
Exit 77 (skip) when cti-media has not been built.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "mediasip"))
from sipmedia import (Client, Procs, active_span, baresip_dumps, baresip_key,  # noqa: E402
                      best_correlation, kamailio_aors, read_wav, rms, start_baresip,
                      start_cti_media, start_kamailio, unclean_exits, wait_for)

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BUILD_DIR", ".."))
PASSWORD = "line-s3cret"
LINE = "7001"


def sox(*args):
    subprocess.run(["sox"] + list(args), check=True, capture_output=True)


def make_audio(d):
    """ref.wav: a 3 s sweep with tremolo (no two lags alike); voice.wav: ref + silence (baresip
    hangs up when its aufile source ends); dtmf.wav: the tones of digit 1, then silence."""
    a = {k: os.path.join(d, k + ".wav") for k in ("ref", "silence", "voice", "tone", "dtmf", "sil1")}
    sox("-n", "-r", "8000", "-b", "16", "-c", "1", a["ref"], "synth", "3", "sine", "300-2500",
        "tremolo", "2.7", "70", "gain", "-6")
    sox("-n", "-r", "8000", "-b", "16", "-c", "1", a["silence"], "trim", "0", "30")
    sox(a["ref"], a["silence"], a["voice"])
    sox("-n", "-r", "8000", "-b", "16", "-c", "1", a["tone"], "synth", "0.25", "sine", "697",
        "synth", "0.25", "sine", "mix", "1209", "gain", "-3")
    sox("-n", "-r", "8000", "-b", "16", "-c", "1", a["sil1"], "trim", "0", "1")
    sox(a["sil1"], a["tone"], a["silence"], a["dtmf"])
    return a


def status(c):
    return c.request("STATUS")


def assert_no_session(c):
    wait_for(lambda: status(c).get("Sessions") == "0", 5, "no session left")


def registered(c):
    line = status(c).get("Line") or ""
    return line.split()[1:2] == ["registered"]


class Env:
    def __init__(self, work):
        self.work = work
        self.procs = Procs(work)
        self.audio = make_audio(work)
        self.kport, self.kctl = start_kamailio(self.procs, PASSWORD)
        self.media = start_cti_media(self.procs, BUILD, registrar="127.0.0.1:%d" % self.kport,
                                     lines=LINE, password=PASSWORD)
        self.c = Client(self.media.sock)
        self.phones = {}

    def phone(self, name, voice, **kw):
        if name not in self.phones:
            self.phones[name] = start_baresip(self.procs, name, self.audio[voice], **kw)
        return self.phones[name]

    def call(self, phone_uri, steps, **fields):
        r = self.c.request("CALL", [("To", phone_uri), ("Steps", steps)] +
                           [(k.replace("_", "-"), v) for k, v in fields.items()])
        assert r.verb == "OK", r
        return r.get("Session")


def test_register(env):
    wait_for(lambda: registered(env.c), 15, "line %s registered" % LINE)
    wait_for(lambda: LINE in kamailio_aors(env.kctl), 5, "Kamailio's usrloc to hold " + LINE)
    bad = start_cti_media(env.procs, BUILD, registrar="127.0.0.1:%d" % env.kport, lines="7002",
                          password="not-the-password", name="cti-media-bad")
    cb = Client(bad.sock)
    wait_for(lambda: "401" in (status(cb).get("Line") or ""), 15, "the refusal")
    assert status(cb).get("Line").split()[1] == "unregistered", status(cb)
    assert "7002" not in kamailio_aors(env.kctl), kamailio_aors(env.kctl)
    cb.close()
    env.procs.stop(bad)


def check_similar(ref, got, what):
    r, g = active_span(ref), active_span(got)
    assert g is not None, what + ": silent"
    dr, dg = (r[1] - r[0]) / 8000, (g[1] - g[0]) / 8000
    assert abs(dg - dr) <= 0.05 * dr, "%s: %.2f s of sound, want %.2f s" % (what, dg, dr)
    score, lag = best_correlation(ref, got)
    assert score > 0.9, "%s: correlation %.3f" % (what, score)
    print("#   %s: %.2f s (ref %.2f s), correlation %.4f at lag %d" % (what, dg, dr, score, lag))


def test_play(env):
    bob = env.phone("bob", "silence")
    sid = env.call(bob.uri, "play %s\npause 0.5" % env.audio["ref"])
    env.c.event(sid, "answered", 15)
    done = env.c.event(sid, "done", 30)
    assert done.all("Result")[0].startswith("1 play ok"), done
    assert env.c.event(sid, "hangup", 1).get("Cause") == "completed"
    assert int(done.get("Packets-Sent")) >= 170, done
    wait_for(lambda: baresip_dumps(bob), 5, "baresip's dump")
    time.sleep(0.5)
    _, ref = read_wav(env.audio["ref"])
    _, got = read_wav(baresip_dumps(bob)[-1])
    check_similar(ref, got, "play")
    assert_no_session(env.c)


def test_record(env):
    carol = env.phone("carol", "voice")
    sid = env.call(carol.uri, "record 5")
    rec = env.c.event(sid, "recorded", 20)
    assert abs(float(rec.get("Seconds")) - 5) < 0.1, rec
    env.c.event(sid, "done", 10)
    _, ref = read_wav(env.audio["ref"])
    _, got = read_wav(rec.get("File"))
    check_similar(ref, got, "record")
    assert_no_session(env.c)


def test_gather_rfc4733(env):
    bob = env.phone("bob", "silence")
    sid = env.call(bob.uri, "gather 1 10\n  say Press 1 to confirm.\n  play %s" % env.audio["ref"])
    env.c.event(sid, "answered", 15)
    time.sleep(1)
    baresip_key(bob, "1")
    ev = env.c.event(sid, "digits", 15)
    assert ev.get("Digits") == "1" and ev.get("Reason") == "complete", ev
    done = env.c.event(sid, "done", 10)
    assert done.all("Result") == ["1 gather 1 (complete)"], done
    assert_no_session(env.c)


def test_gather_inband(env):
    dan = env.phone("dan", "dtmf")
    sid = env.call(dan.uri, "gather 1 10")
    ev = env.c.event(sid, "digits", 20)
    assert ev.get("Digits") == "1", ev
    log = open(os.path.join(env.work, "cti-media.log")).read()
    assert "session %s: digit 1 (inband)" % sid in log, "not decoded in-band"
    env.c.event(sid, "done", 10)
    assert_no_session(env.c)


def test_gather_timeout(env):
    bob = env.phone("bob", "silence")
    t0 = time.time()
    sid = env.call(bob.uri, "gather 2 1.5")
    ev = env.c.event(sid, "digits", 20)
    assert ev.get("Digits") == "" and ev.get("Reason") == "timeout", ev
    assert time.time() - t0 >= 1.4  # 75 packets of 20 ms, the first sent on answer
    env.c.event(sid, "done", 10)


def test_say(env):
    text = "This is the mail gateway. Your call was placed as requested."
    erin = env.phone("erin", "silence")
    ref = os.path.join(env.work, "espeak.wav")
    subprocess.run(["espeak-ng", "-w", ref, text], check=True, capture_output=True)
    rate, samples = read_wav(ref)
    span = active_span(samples, 300)
    want = (span[1] - span[0]) / rate
    sid = env.call(erin.uri, "say %s" % text)
    env.c.event(sid, "done", 30)
    time.sleep(0.5)
    _, got = read_wav(baresip_dumps(erin)[-1])
    g = active_span(got)
    assert g is not None and rms(got[g[0]:g[1]]) > 500, "the dump is silent"
    heard = (g[1] - g[0]) / 8000
    assert abs(heard - want) <= 0.1 * want, "said %.2f s, espeak-ng alone %.2f s" % (heard, want)
    print("#   say: %.2f s heard, espeak-ng %.2f s" % (heard, want))
    assert_no_session(env.c)


def test_refused(env):
    bob = env.phone("bob", "silence")
    nobody = bob.uri.replace("sip:bob@", "sip:nobody@")
    sid = env.call(nobody, "play %s" % env.audio["ref"])
    ev = env.c.event(sid, "hangup", 15)
    assert ev.get("Cause") == "rejected" and ev.get("Code") == "404", ev
    done = env.c.event(sid, "done", 5)
    assert done.all("Result") == ["1 play not-run"], done
    assert_no_session(env.c)


def test_not_answered(env):
    frank = env.phone("frank", "silence", answermode="manual")
    sid = env.call(frank.uri, "play %s" % env.audio["ref"], ring_timeout="3")
    t0 = time.time()
    ev = env.c.event(sid, "hangup", 15)
    assert ev.get("Cause") == "no-answer", ev
    assert time.time() - t0 >= 2.5
    env.c.event(sid, "done", 5)
    assert_no_session(env.c)
    wait_for(lambda: "session closed" in open(frank.logpath).read(), 5,
             "baresip to see the CANCEL")


def test_armed(env):
    r = env.c.request("ARM", [("Line", LINE), ("Steps", "play %s" % env.audio["ref"])])
    assert r.verb == "OK", r
    sid = r.get("Session")
    bob = env.phone("bob", "silence")
    before = len(baresip_dumps(bob))
    baresip_key(bob, "/dial sip:%s@127.0.0.1:%d\n" % (LINE, env.media.sip_port))
    env.c.event(sid, "answered", 15)
    assert env.c.request("START", [("Session", sid)]).verb == "OK"
    done = env.c.event(sid, "done", 30)
    assert done.all("Result")[0].startswith("1 play ok"), done
    time.sleep(0.5)
    assert len(baresip_dumps(bob)) > before
    _, ref = read_wav(env.audio["ref"])
    _, got = read_wav(baresip_dumps(bob)[-1])
    check_similar(ref, got, "armed play")
    # no session armed: the INVITE is refused, nothing is left open
    baresip_key(bob, "/dial sip:%s@127.0.0.1:%d\n" % (LINE, env.media.sip_port))
    wait_for(lambda: "480" in open(os.path.join(env.work, "cti-media.log")).read(), 10, "480")
    r = env.c.request("ARM", [("Line", LINE), ("Steps", "pause 1"), ("Ring-Timeout", "1")])
    ev = env.c.event(r.get("Session"), "hangup", 10)
    assert ev.get("Cause") == "no-call", ev
    assert_no_session(env.c)


def test_hangup_and_disconnect(env):
    bob = env.phone("bob", "silence")
    sid = env.call(bob.uri, "pause 30")
    env.c.event(sid, "answered", 15)
    assert env.c.request("HANGUP", [("Session", sid)]).verb == "OK"
    assert env.c.event(sid, "hangup", 5).get("Cause") == "hangup"
    assert env.c.event(sid, "done", 5).all("Result") == ["1 pause interrupted (hangup)"]
    assert_no_session(env.c)
    # a session never outlives the connection that asked for it
    other = Client(env.media.sock)
    r = other.request("CALL", [("To", bob.uri), ("Steps", "pause 30")])
    other.event(r.get("Session"), "answered", 15)
    assert status(env.c).get("Sessions") == "1"
    other.close()
    assert_no_session(env.c)


def test_bad_requests(env):
    for verb, fields, want in [
            ("CALL", [("To", "mailto:x@y"), ("Steps", "pause 1")], "SIP URI"),
            ("CALL", [("To", "sip:x@127.0.0.1"), ("Steps", "jump 3")], "unknown step"),
            ("CALL", [("To", "sip:x@127.0.0.1"), ("Steps", "play relative.wav")], "absolute"),
            ("ARM", [("Line", "9999"), ("Steps", "pause 1")], "Line"),
            ("START", [("Session", "nope")], "no such session"),
            ("FROB", [], "unknown verb")]:
        r = env.c.request(verb, fields)
        assert r.verb == "REJECT" and want in r.get("Reason"), (verb, r)
    sid = env.call("sip:x@127.0.0.1:9", "play /nonexistent.wav")
    ev = env.c.event(sid, "hangup", 10)
    assert ev.get("Cause") == "error" and "nonexistent" in ev.get("Reason"), ev
    assert_no_session(env.c)


def test_privileges(env):
    """Started as root, cti-media runs as [media] user (here: nobody) once bound."""
    if os.geteuid() != 0:
        print("#   not root: privilege drop not exercised")
        return
    p = start_cti_media(env.procs, BUILD, registrar="127.0.0.1:%d" % env.kport, lines="7003",
                        password=PASSWORD, name="cti-media-nobody", user="nobody")
    c = Client(p.sock)
    wait_for(lambda: registered(c), 15, "line 7003 registered")
    with open("/proc/%d/status" % p.pid) as f:
        ids = {line.split(":")[0]: line.split()[1:] for line in f}
    import pwd
    nobody = pwd.getpwnam("nobody")
    assert ids["Uid"] == [str(nobody.pw_uid)] * 4, ids["Uid"]
    assert ids["Gid"] == [str(nobody.pw_gid)] * 4, ids["Gid"]
    assert os.stat(p.spool).st_uid == nobody.pw_uid
    c.close()
    env.procs.stop(p)


TESTS = [test_register, test_privileges, test_play, test_record, test_gather_rfc4733, test_gather_inband,
         test_gather_timeout, test_say, test_refused, test_not_answered, test_armed,
         test_hangup_and_disconnect, test_bad_requests]


def main():
    if not os.path.exists(os.path.join(BUILD, "media", "cti-media")):
        print("cti-media not built")
        return 77
    work = tempfile.mkdtemp(prefix="cti-media-sip.")
    env = None
    failed = 0
    try:
        env = Env(work)
        print("1..%d" % len(TESTS))
        for i, t in enumerate(TESTS, 1):
            t0 = time.time()
            try:
                t(env)
                print("ok %d - %s (%.1f s)" % (i, t.__name__, time.time() - t0))
            except Exception:
                failed += 1
                print("not ok %d - %s" % (i, t.__name__))
                traceback.print_exc(file=sys.stdout)
    finally:
        if env:
            env.procs.stop_all()
            bad = unclean_exits(env.procs)
            if bad:
                failed += 1
                print("not ok - cti-media did not exit cleanly: %r" % bad)
    if failed:
        for name in sorted(os.listdir(work)):
            if name.endswith(".log"):
                print("# --- %s" % name)
                print(open(os.path.join(work, name), errors="replace").read()[-3000:])
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
