#!/usr/bin/env python3
"""pbx-sim-bench - CSTA requests per second that pbx-sim sustains (single-threaded).

Usage: python3 bench/pbx-sim-bench.py --binary PATH [--requests N] [--window W] [--no-log]

Starts pbx-sim on a free loopback port (with its JSON-lines log, as in tests,
unless --no-log), then drives it from one pipelining client (W requests in
flight) with three workloads:
  snapshot   SnapshotDevice -> SnapshotDeviceResponse
  monitor    MonitorStart + MonitorStop
  call       MakeCall + ClearCall on a monitored device (each with 6-8 events)
and prints requests/s (wall) and requests per pbx-sim CPU second, which is
the figure to compare with the target of 5,000 req/s on one core.  The
client only reads the frame headers to stay out of the way.  No pass/fail.
"""

import argparse
import os
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "t", "pbxsim"))
from cstaclient import NS3, Sim, frame  # noqa: E402


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


class Pipe:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.inv = 0

    def frames(self):
        """Read what is available (blocking for at least one frame); yield (invoke, body)."""
        while True:
            data = self.sock.recv(1 << 20)
            if not data:
                raise ConnectionError("closed")
            self.buf += data
            out = []
            while len(self.buf) >= 8:
                n = struct.unpack(">H", self.buf[2:4])[0]
                if len(self.buf) < n:
                    break
                out.append((self.buf[4:8], self.buf[8:n]))
                self.buf = self.buf[n:]
            if out:
                return out

    def next_inv(self):
        self.inv = self.inv % 8998 + 1
        return self.inv

    def answer_status(self, inv):
        self.sock.sendall(frame(int(inv), '<SystemStatusResponse xmlns="%s"/>' % NS3))


def run(p, make_bodies, items, window):
    """Keep WINDOW items in flight; make_bodies(i) gives item i's requests."""
    sent = 0
    pending = set()
    t0 = time.monotonic()
    while sent < items or pending:
        batch = []
        while sent < items and len(pending) < window:
            for body in make_bodies(sent):
                inv = p.next_inv()
                pending.add(b"%04d" % inv)
                batch.append(frame(inv, body))
            sent += 1
        if batch:
            p.sock.sendall(b"".join(batch))
        for inv, body in p.frames():
            if body.startswith(b"<SystemStatus "):
                p.answer_status(inv)
            else:
                pending.discard(inv)
    return time.monotonic() - t0


def bench(sim, name, make_bodies, per_item, items, window, setup=None):
    p = Pipe(sim.port)
    if setup is not None:
        setup(p)
    c0 = cpu_seconds(sim.proc.pid)
    wall = run(p, make_bodies, items, window)
    cpu = cpu_seconds(sim.proc.pid) - c0
    reqs = items * per_item
    print("%-9s %7d requests  %8.0f req/s wall  %8.0f req/CPU-s  (pbx-sim CPU %.0f%%)"
          % (name, reqs, reqs / wall, reqs / cpu if cpu > 0 else float("inf"), 100 * cpu / wall))
    p.sock.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--requests", type=int, default=40000)
    ap.add_argument("--window", type=int, default=64)
    ap.add_argument("--no-log", action="store_true")
    args = ap.parse_args()
    sim = Sim(os.path.abspath(args.binary), time_scale=1000, log=not args.no_log)
    try:
        print("pbx-sim-bench: %s, window %d, log %s" % (args.binary, args.window, "off" if args.no_log else "on"))
        snap = '<SnapshotDevice xmlns="%s"><snapshotObject>2001</snapshotObject></SnapshotDevice>' % NS3
        bench(sim, "snapshot", lambda i: [snap], 1, args.requests, args.window)

        def monitor(i):
            # MonitorStop of a cross reference that does not exist yet is an error
            # response: still one request answered, and cheap to generate.
            return ['<MonitorStart xmlns="%s"><monitorObject><deviceObject>2002</deviceObject>'
                    '</monitorObject></MonitorStart>' % NS3,
                    '<MonitorStop xmlns="%s"><monitorCrossRefID>%d</monitorCrossRefID></MonitorStop>'
                    % (NS3, 1001 + i)]
        bench(sim, "monitor", monitor, 2, args.requests // 2, args.window)

        call_no = [0]

        def call(i):
            # Call ids are allocated 1, 2, ... by pbx-sim in request order on this
            # connection alone, so the ClearCall can name the call it follows.
            call_no[0] += 1
            return ['<MakeCall xmlns="%s"><callingDevice>%d</callingDevice><calledDirectoryNumber>'
                    '0388888888</calledDirectoryNumber><autoOriginate>doNotPrompt</autoOriginate></MakeCall>'
                    % (NS3, 2001 + i % 9),
                    '<ClearCall xmlns="%s"><callToBeCleared><callID>%d</callID></callToBeCleared></ClearCall>'
                    % (NS3, call_no[0])]
        def monitors(p):
            # Device monitors on the callers, on the benchmark connection, so that
            # every call also costs its events (which the client reads).
            for d in range(2001, 2010):
                p.sock.sendall(frame(p.next_inv(), '<MonitorStart xmlns="%s"><monitorObject><deviceObject>'
                                     '%d</deviceObject></monitorObject></MonitorStart>' % (NS3, d)))
        bench(sim, "call", call, 2, args.requests // 4, args.window, setup=monitors)
    finally:
        sim.cleanup()


if __name__ == "__main__":
    main()
