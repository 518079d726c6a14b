"""libpbx - queries over pbx-sim's JSON-lines log (one object per line).

Lines have "ts" (simulated seconds), "wall" (unix seconds) and "type"
(rx, tx, state, session, media).  The log is read afresh on every query, so a
test can poll it while the simulator is writing.
"""
import json
import socket
import time


def control(path, line, timeout=5.0):
    """Send one command to pbx-sim's control socket (e.g. "hangup 0312345678"); its JSON reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(line.encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return json.loads(data.decode() or "{}")


class PbxLog:
    def __init__(self, path):
        self.path = path

    def entries(self):
        out = []
        try:
            with open(self.path, encoding="utf-8") as f:
                for line in f:
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass  # a line being written right now
        except FileNotFoundError:
            pass
        return out

    def rx(self, service, since=0.0, **args):
        """Requests of SERVICE received at wall time >= SINCE whose args match ARGS."""
        found = []
        for e in self.entries():
            if e.get("type") != "rx" or e.get("service") != service:
                continue
            if e.get("wall", 0) < since:
                continue
            a = e.get("args") or {}
            if all(a.get(k) == v for k, v in args.items()):
                found.append(e)
        return found

    def tx(self, msg, since=0.0):
        return [e for e in self.entries()
                if e.get("type") == "tx" and e.get("msg") == msg and e.get("wall", 0) >= since]

    def wait(self, query, timeout=30.0):
        """Poll QUERY() (a list) until it is non-empty; the list, or [] after TIMEOUT."""
        deadline = time.monotonic() + timeout
        while True:
            found = query()
            if found or time.monotonic() >= deadline:
                return found
            time.sleep(0.1)

    def call_lines(self, since=0.0, brief=False):
        """Human-readable lines for requests, events and state changes since SINCE;
        BRIEF keeps call-control requests and state changes only (no monitors, no events)."""
        lines = []
        for e in self.entries():
            if e.get("wall", 0) < since:
                continue
            kind = e.get("type")
            if kind == "rx":
                service = e.get("service", "")
                if brief and (service.startswith("Monitor") or "ApplicationSession" in service):
                    continue
                args = " ".join("%s=%s" % kv for kv in sorted((e.get("args") or {}).items()))
                lines.append("%8.2f  <- %s %s" % (e.get("ts", 0), service, args))
            elif kind == "tx" and e.get("invoke") == "9999" and not brief:
                lines.append("%8.2f  -> %s" % (e.get("ts", 0), e.get("msg")))
            elif kind == "state":
                lines.append("%8.2f     call %s, %s: %s (%s)" % (
                    e.get("ts", 0), e.get("call"), e.get("device"), e.get("state"), e.get("cause", "")))
        return lines
