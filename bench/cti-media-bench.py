#!/usr/bin/env python3
"""cti-media-bench - how many concurrent media calls cti-media holds with less
than 1 % late or lost RTP packets, and its memory per call.

Two cti-media processes on 127.0.0.1, registered to a private Kamailio: the
callee ARMs N sessions on its line, the caller places N concurrent CALLs to
that line, each playing a WAV for SECONDS.  Counted per call from the "done"
events: packets the caller sent more than 10 ms late (Packets-Late) and the
packets the callee found missing in the RTP timestamps (Packets-Lost).
Memory: the caller's VmRSS with all calls up, minus before, divided by N.
Nothing here is pass/fail.

usage: bench/cti-media-bench.py [--build-dir DIR] [--calls 10,50,100] [--seconds 20]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SRC, "t", "mediasip"))
from sipmedia import Client, Procs, start_cti_media, start_kamailio, wait_for  # noqa: E402


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(build, work, n, seconds):
    procs = Procs(work)
    try:
        wav = os.path.join(work, "voice.wav")
        subprocess.run(["sox", "-n", "-r", "8000", "-b", "16", "-c", "1", wav, "synth",
                        str(seconds), "sine", "300-2500"], check=True)
        kport, _ = start_kamailio(procs, "bench")
        reg = "127.0.0.1:%d" % kport
        callee = start_cti_media(procs, build, registrar=reg, lines="7002", password="bench",
                                 name="callee", rtp_ports=4 * n + 40)
        caller = start_cti_media(procs, build, registrar=reg, lines="7001", password="bench",
                                 name="caller", rtp_ports=4 * n + 40)
        cc, ce = Client(caller.sock), Client(callee.sock)
        armed = []
        for _ in range(n):
            r = ce.request("ARM", [("Line", "7002"), ("Steps", "pause 3600"),
                                   ("Ring-Timeout", "120")])
            armed.append(r.get("Session"))
        time.sleep(0.5)
        base = rss_kb(caller.pid)
        cpu0, t0 = cpu_seconds(caller.pid), time.time()
        sids = []
        for _ in range(n):
            r = cc.request("CALL", [("To", "sip:7002@127.0.0.1:%d" % callee.sip_port),
                                    ("Steps", "play %s" % wav)])
            assert r.verb == "OK", r
            sids.append(r.get("Session"))
        for s in sids:
            cc.event(s, "answered", 60)
        time.sleep(min(2, seconds / 2))
        per_call = (rss_kb(caller.pid) - base) / n
        sent = late = 0
        for s in sids:
            d = cc.event(s, "done", seconds + 60)
            sent += int(d.get("Packets-Sent"))
            late += int(d.get("Packets-Late"))
        cpu = 100 * (cpu_seconds(caller.pid) - cpu0) / (time.time() - t0)
        received = lost = 0
        for s in armed:
            d = ce.event(s, "done", 30)
            received += int(d.get("Packets-Received"))
            lost += int(d.get("Packets-Lost"))
        return sent, late, received, lost, per_call, cpu
    finally:
        procs.stop_all()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default=os.environ.get("BUILD_DIR", SRC))
    ap.add_argument("--calls", default="10,50,100")
    ap.add_argument("--seconds", type=int, default=20)
    a = ap.parse_args()
    build = os.path.abspath(a.build_dir)
    print("# load average before: %s" % open("/proc/loadavg").read().split()[0])
    print("%6s %9s %7s %9s %7s %8s %10s %8s" % ("calls", "sent", "late", "received", "lost",
                                                "bad %", "KiB/call", "CPU %"))
    for n in [int(x) for x in a.calls.split(",")]:
        work = tempfile.mkdtemp(prefix="cti-media-bench.")
        try:
            sent, late, received, lost, mem, cpu = run(build, work, n, a.seconds)
        finally:
            subprocess.run(["rm", "-rf", work])
        bad = 100.0 * (late + lost) / max(1, sent)
        print("%6d %9d %7d %9d %7d %8.2f %10.0f %8.1f%s" % (n, sent, late, received, lost, bad,
                                                          mem, cpu,
                                                          "" if bad < 1 else "  target missed"))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
