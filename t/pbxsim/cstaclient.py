"""cstaclient - a small, independent CSTA XML (ECMA-323 Annex J.2) client for tests.

Written from the wire facts only (8-byte header: 0x0000, big-endian total
length, 4 ASCII digits of invoke id; 9999 = event), with the standard library.
It shares nothing with pbx-sim or ctid.  Also: a harness that starts pbx-sim on
a free loopback port and stops it, a control-socket helper and a log reader.
"""

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET

NS3 = "http://www.ecma-international.org/standards/ecma-323/csta/ed3"
NS4 = "http://www.ecma-international.org/standards/ecma-323/csta/ed4"
NS6 = "http://www.ecma-international.org/standards/ecma-323/csta/ed6"
NS2 = "http://www.ecma.ch/standards/ecma-323/csta/ed2"
NS354 = "http://www.ecma-international.org/standards/ecma-354/appl_session"


def local(tag):
    """Local name of an ElementTree tag ('{ns}Name' -> 'Name')."""
    return tag.rsplit("}", 1)[-1]


def ns_of(tag):
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else None


class Msg:
    """A received frame: invoke id, root element, raw text."""

    def __init__(self, invoke, text):
        self.invoke = invoke
        self.text = text
        self.root = ET.fromstring(text)
        self.name = local(self.root.tag)
        self.ns = ns_of(self.root.tag)

    def find(self, path):
        """Element at a '/'-separated path of local names, or None."""
        node = self.root
        for part in path.split("/"):
            node = next((c for c in node if local(c.tag) == part), None)
            if node is None:
                return None
        return node

    def get(self, path):
        node = self.find(path)
        return None if node is None else (node.text or "").strip()

    def children(self):
        return [local(c.tag) for c in self.root]

    def __repr__(self):
        return "<%s %s %s>" % (self.invoke, self.name, self.text[:300])


def frame(invoke, body):
    data = body.encode("utf-8") if isinstance(body, str) else body
    return b"\x00\x00" + struct.pack(">H", len(data) + 8) + ("%04d" % invoke).encode() + data


class Client:
    """One CSTA connection.  Responses are matched by invoke id; everything else
    (events, switch-originated requests) is queued.  SystemStatus from the
    switch is answered automatically unless auto_status is False."""

    def __init__(self, port, ns=NS3, auto_status=True, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.ns = ns
        self.auto_status = auto_status
        self.buf = b""
        self.queue = []
        self.invoke = 0
        self.timeout = timeout
        self.closed = False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, body, invoke=None):
        if invoke is None:
            self.invoke = self.invoke % 8999 + 1
            invoke = self.invoke
        self.sock.sendall(frame(invoke, body))
        return "%04d" % invoke

    def _read_frame(self, deadline):
        while True:
            if len(self.buf) >= 8:
                total = struct.unpack(">H", self.buf[2:4])[0]
                if len(self.buf) >= total:
                    assert self.buf[0:2] == b"\x00\x00", "bad format indicator"
                    invoke = self.buf[4:8].decode()
                    body = self.buf[8:total].decode("utf-8")
                    self.buf = self.buf[total:]
                    return Msg(invoke, body)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no frame")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise TimeoutError("no frame")
            if not data:
                self.closed = True
                raise ConnectionError("closed by peer")
            self.buf += data

    def _pump(self, deadline):
        msg = self._read_frame(deadline)
        if self.auto_status and msg.name == "SystemStatus" and msg.invoke != "9999":
            self.send('<SystemStatusResponse xmlns="%s"/>' % (msg.ns or self.ns), int(msg.invoke))
        return msg

    def request(self, body, timeout=None):
        """Send BODY and return the frame carrying the same invoke id."""
        inv = self.send(body)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            msg = self._pump(deadline)
            if msg.invoke == inv and msg.name != "SystemStatus":
                return msg
            self.queue.append(msg)

    def wait(self, name, pred=None, timeout=None):
        """First queued or future frame named NAME (and matching PRED)."""
        for i, msg in enumerate(self.queue):
            if msg.name == name and (pred is None or pred(msg)):
                return self.queue.pop(i)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            msg = self._pump(deadline)
            if msg.name == name and (pred is None or pred(msg)):
                return msg
            self.queue.append(msg)

    def drain(self, quiet=0.3):
        """Collect frames until QUIET seconds pass without one; returns them all."""
        out = list(self.queue)
        self.queue = []
        while True:
            try:
                out.append(self._pump(time.monotonic() + quiet))
            except TimeoutError:
                return out

    def wait_closed(self, timeout=3.0):
        deadline = time.monotonic() + timeout
        try:
            while True:
                self.queue.append(self._pump(deadline))
        except ConnectionError:
            return True
        except TimeoutError:
            return False

    # request helpers -------------------------------------------------------
    def x(self, root, inner=""):
        if not inner:
            return '<%s xmlns="%s"/>' % (root, self.ns)
        return '<%s xmlns="%s">%s</%s>' % (root, self.ns, inner, root)

    def monitor(self, device):
        r = self.request(self.x("MonitorStart",
                                "<monitorObject><deviceObject>%s</deviceObject></monitorObject>" % device))
        assert r.name == "MonitorStartResponse", r
        return r.get("monitorCrossRefID")

    def make_call(self, a, b):
        r = self.request(self.x("MakeCall", "<callingDevice>%s</callingDevice>"
                                "<calledDirectoryNumber>%s</calledDirectoryNumber>"
                                "<autoOriginate>doNotPrompt</autoOriginate>" % (a, b)))
        assert r.name == "MakeCallResponse", r
        return r.get("callingDevice/callID")


def conn(name, call, dev):
    return "<%s><callID>%s</callID><deviceID>%s</deviceID></%s>" % (name, call, dev, name)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


DEFAULT_CONFIG = """
[sim]
heartbeat_interval=%(hb)s
heartbeat_max_missed=2
fail_release=%(fail_release)s
ring_time=2
route_timeout=%(route_timeout)s
media_dir=media
%(sim_extra)s

[2001-2009]
kind=extension
behaviour=answer-after 1

[2011]
kind=extension
behaviour=never-answer

[2020]
kind=extension
behaviour=unreachable

[2021]
kind=extension
behaviour=dnd

[5000]
kind=extension
behaviour=answer-after 1

[7001]
kind=line
behaviour=answer-after 0
peer=7002

[7002]
kind=line
behaviour=answer-after 0
peer=7001

[0312345678]
kind=external
behaviour=answer-after 2

[0399999999]
kind=external
behaviour=busy

[0388888888]
kind=external
behaviour=never-answer

[0377777777]
kind=external
behaviour=unreachable

[0366666666]
kind=external
behaviour=decline

[0355555555]
kind=external
behaviour=busy-for %(busy_for)s

[0344444444]
kind=external
behaviour=fax

[0333333333]
kind=external
behaviour=invalid
"""


class Sim:
    """A pbx-sim process on a free loopback port, in its own temporary directory."""

    def __init__(self, binary, time_scale=20, style=None, namespace=None, hb=0,
                 fail_release=60, route_timeout=20, busy_for=40, extra_args=(), log=True, sim_extra=""):
        self.binary = binary
        self.dir = tempfile.mkdtemp(prefix="pbxsim-test-")
        self.port = free_port()
        self.log = os.path.join(self.dir, "pbx.log")
        self.control = os.path.join(self.dir, "control.sock")
        self.config = os.path.join(self.dir, "pbx.conf")
        self.media = os.path.join(self.dir, "media")
        os.mkdir(self.media)
        self.time_scale = time_scale
        with open(self.config, "w") as f:
            f.write(DEFAULT_CONFIG % {"hb": hb, "fail_release": fail_release,
                                      "route_timeout": route_timeout, "busy_for": busy_for,
                                      "sim_extra": sim_extra})
        args = [binary, "--config", self.config, "--listen", "127.0.0.1:%d" % self.port,
                "--control", self.control, "--time-scale", str(time_scale)]
        if log:
            args += ["--log", self.log]
        if style:
            args += ["--session-style", style]
        if namespace:
            args += ["--namespace", namespace]
        args += list(extra_args)
        self.proc = subprocess.Popen(args, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("pbx-sim exited: %s" % self.proc.stderr.read().decode())
                time.sleep(0.02)
        while not os.path.exists(self.control) and time.monotonic() < deadline:
            time.sleep(0.02)

    def sim_wait(self, sim_seconds):
        """Sleep for SIM_SECONDS of simulated time."""
        time.sleep(sim_seconds / self.time_scale)

    def client(self, **kw):
        return Client(self.port, **kw)

    def ctl(self, command):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(self.control)
        s.sendall(command.encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        return json.loads(data.decode())

    def log_lines(self, type_=None):
        out = []
        with open(self.log) as f:
            for line in f:
                obj = json.loads(line)
                if type_ is None or obj["type"] == type_:
                    out.append(obj)
        return out

    def stop(self):
        """SIGTERM, wait; returns the exit status (stderr text in self.stderr)."""
        if self.proc.stderr.closed:
            return self.proc.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr = self.proc.stderr.read().decode(errors="replace")
        self.proc.stderr.close()
        return self.proc.returncode

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
