#!/usr/bin/env python3
"""stackwait - readiness probes and port picking for scripts/stack.

Subcommands (each exits 0 on success, 1 with one line on stderr on failure):
  free-base START STEP COUNT      print the first base port B >= START (in STEP
                                  steps) such that B .. B+COUNT-1 are all free
  ports-free BASE COUNT           exit 0 if BASE .. BASE+COUNT-1 are all free
  banner PORT PREFIX TIMEOUT      wait until 127.0.0.1:PORT greets with PREFIX
  tcp PORT TIMEOUT [PID]          wait until 127.0.0.1:PORT accepts a connection
  unix PATH TIMEOUT [PID]         wait until the UNIX stream socket PATH accepts
  ping PATH TIMEOUT [PID]         wait until the ipc socket PATH answers PING with OK
                                  (with PID: give up as soon as that process is gone)
  strays DIR [INSTANCE]           print the pids of processes tied to the stack in DIR
"""
import os
import socket
import sys
import time


def port_free(port):
    """Free for TCP and for UDP (the block holds pbx-sim's SIP port too)."""
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def ports_free(base, count):
    return all(port_free(base + i) for i in range(count))


def alive(pid):
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie has exited already
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def until(timeout, probe, pid=None):
    deadline = time.monotonic() + timeout
    last = "timed out"
    while True:
        try:
            if probe():
                return None
        except OSError as e:
            last = str(e)
        if not alive(pid):
            return "process %d exited" % pid
        if time.monotonic() >= deadline:
            return last
        time.sleep(0.05)


def probe_banner(port, prefix):
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.settimeout(2)
        data = b""
        while b"\n" not in data:
            chunk = s.recv(512)
            if not chunk:
                return False
            data += chunk
        return data.startswith(prefix.encode())


def probe_tcp(port):
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


def probe_unix(path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        s.connect(path)
        return True


def probe_ping(path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        s.connect(path)
        s.sendall(b"MCTI/1 PING\n\n")
        data = b""
        while b"\n" not in data:
            chunk = s.recv(512)
            if not chunk:
                break
            data += chunk
        return data.startswith(b"MCTI/1 OK")


def read_proc(pid, name):
    try:
        with open("/proc/%s/%s" % (pid, name), "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def strays(stack_dir, instance):
    """Our daemons or Dovecot's master naming DIR on the command line, the
    private Postfix (MAIL_CONFIG in the environment), Dovecot's children
    (titled INSTANCE/...)."""
    mine = {"ctid", "cti-milter", "pbx-sim", "dovecot"}
    postfix_env = "MAIL_CONFIG=%s/postfix/etc" % stack_dir
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        comm = read_proc(pid, "comm").strip()
        args = read_proc(pid, "cmdline").split("\0")
        if comm in mine and any(a.startswith(stack_dir + "/") for a in args):
            found.append(pid)
        elif postfix_env in read_proc(pid, "environ").split("\0"):
            found.append(pid)
        elif instance and (instance + "/") in args[0]:
            found.append(pid)
    return found


def pid_arg(args, i):
    return int(args[i]) if len(args) > i and args[i] else None


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "free-base":
        start, step, count = (int(a) for a in args)
        for base in range(start, 65000 - count, step):
            if ports_free(base, count):
                print(base)
                return 0
        print("stackwait: no free port range", file=sys.stderr)
        return 1
    if cmd == "strays":
        for pid in strays(args[0], args[1] if len(args) > 1 else ""):
            print(pid)
        return 0
    if cmd == "ports-free":
        return 0 if ports_free(int(args[0]), int(args[1])) else 1
    if cmd == "banner":
        err = until(float(args[2]), lambda: probe_banner(int(args[0]), args[1]))
        what = "127.0.0.1:%s greeting %r" % (args[0], args[1])
    elif cmd == "tcp":
        err = until(float(args[1]), lambda: probe_tcp(int(args[0])), pid_arg(args, 2))
        what = "127.0.0.1:%s" % args[0]
    elif cmd == "unix":
        err = until(float(args[1]), lambda: probe_unix(args[0]), pid_arg(args, 2))
        what = args[0]
    elif cmd == "ping":
        err = until(float(args[1]), lambda: probe_ping(args[0]), pid_arg(args, 2))
        what = "PING on " + args[0]
    else:
        print("stackwait: unknown command " + cmd, file=sys.stderr)
        return 2
    if err is not None:
        print("stackwait: %s not ready: %s" % (what, err), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
