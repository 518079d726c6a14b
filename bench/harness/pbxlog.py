"""pbxlog - read pbx-sim's JSON-lines log as it grows.

Owns an open file handle on the log; it never writes to it.  Lines that are
not complete yet are kept until their newline arrives; a line that is not
JSON is skipped and counted (bad).
"""

import json
import time


class PbxLog:
    """PbxLog - incremental reader: poll() returns the new complete records."""

    def __init__(self, path, from_end=True):
        self.path = path
        self.f = None
        self.partial = b""
        self.bad = 0
        self.from_end = from_end

    def _open(self):
        if self.f is None:
            try:
                self.f = open(self.path, "rb")
            except OSError:
                return False
            if self.from_end:
                self.f.seek(0, 2)
        return True

    def poll(self):
        if not self._open():
            return []
        data = self.partial + self.f.read()
        lines = data.split(b"\n")
        self.partial = lines.pop()
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                self.bad += 1
        return out

    def wait_for(self, pred, timeout):
        """wait_for - the first new record matching PRED within TIMEOUT seconds, or None."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for rec in self.poll():
                if pred(rec):
                    return rec
            time.sleep(0.0005)
        return None

    def close(self):
        if self.f is not None:
            self.f.close()
            self.f = None


def is_rx(service):
    return lambda rec: rec.get("type") == "rx" and rec.get("service") == service
