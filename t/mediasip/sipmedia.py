"""sipmedia - helpers for the cti-media tests: private Kamailio and baresip
instances, cti-media itself, a client of its control socket (the MCTI/1
framing of lib/ipc.h, written here independently), and audio similarity in
plain Python (the wave module).  Every process started here is stopped by
Procs.stop_all()."""
import math
import os
import signal
import socket
import struct
import subprocess
import time
import wave

KAMAILIO_MODULES = ["tm", "sl", "pv", "kex", "textops", "siputils", "usrloc", "registrar", "auth",
                    "ctl"]


def free_port(kind=socket.SOCK_DGRAM, pair=False):
    """A free UDP port on 127.0.0.1 (and port+1 too when PAIR)."""
    for _ in range(50):
        s = socket.socket(socket.AF_INET, kind)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if not pair or port % 2 == 0 and port < 65000:
            return port
    raise RuntimeError("no free port")


def free_sip_port():
    """A port free on 127.0.0.1 for UDP and TCP, and port+1 for TCP (a SIP UA binds all
    three: UDP, TCP and TLS)."""
    for _ in range(50):
        port = free_port()
        socks = []
        try:
            for kind, p in ((socket.SOCK_DGRAM, port), (socket.SOCK_STREAM, port),
                            (socket.SOCK_STREAM, port + 1)):
                s = socket.socket(socket.AF_INET, kind)
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return port
        except OSError:
            pass
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free SIP port")


def free_range(n):
    """N consecutive free UDP ports (best effort: probed now)."""
    for _ in range(50):
        base = free_port() & ~1
        if base + n > 65535 or base < 1024:
            continue
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind(("127.0.0.1", p))
                socks.append(s)
            return base, base + n - 1
        except OSError:
            pass
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port range")


class Procs:
    def __init__(self, workdir):
        self.workdir = workdir
        self.procs = []
        self.exits = {}  # name -> exit status once stopped (negative: killed by that signal)

    def start(self, name, argv, stdin=None, env=None):
        log = open(os.path.join(self.workdir, name + ".log"), "wb")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=stdin,
                             cwd=self.workdir, env=env, start_new_session=True)
        p.name = name
        p.logpath = log.name
        self.procs.append(p)
        return p

    def stop(self, p):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.exits[p.name] = p.returncode
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        for p in list(reversed(self.procs)):
            self.stop(p)


def unclean_exits(procs, prefix="cti-media"):
    """Programs named PREFIX* that did not exit 0 on SIGTERM (a crash, a sanitizer report)."""
    return {n: rc for n, rc in procs.exits.items() if n.startswith(prefix) and rc != 0}


def log_text(p):
    with open(p.logpath, "rb") as f:
        return f.read().decode("utf-8", "replace")


def wait_for(cond, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


# --- Kamailio: registrar with digest auth against one fixed password ---------

KAMAILIO_CFG = """#!KAMAILIO
debug=2
log_stderror=yes
children=1
listen=udp:127.0.0.1:{port}
{loads}
modparam("usrloc", "db_mode", 0)
modparam("ctl", "binrpc", "unix:{ctl}")
request_route {{
	if (is_method("REGISTER")) {{
		if (!pv_auth_check("$fd", "{password}", "0", "1")) {{
			auth_challenge("$fd", "0");
			exit;
		}}
		consume_credentials();
		if (!save("location")) sl_reply_error();
		exit;
	}}
	sl_send_reply("403", "Forbidden");
}}
"""


def start_kamailio(procs, password):
    port = free_port()
    ctl = os.path.join(procs.workdir, "kamailio-ctl.sock")
    loads = "\n".join('loadmodule "%s.so"' % m for m in KAMAILIO_MODULES)
    cfg = os.path.join(procs.workdir, "kamailio.cfg")
    with open(cfg, "w") as f:
        f.write(KAMAILIO_CFG.format(port=port, loads=loads, ctl=ctl, password=password))
    p = procs.start("kamailio", ["kamailio", "-f", cfg, "-DD", "-E", "-Y", procs.workdir,
                                 "-w", procs.workdir, "-m", "16", "-M", "4"])
    wait_for(lambda: os.path.exists(ctl) or p.poll() is not None, 15, "kamailio")
    if p.poll() is not None:
        raise AssertionError("kamailio exited:\n" + log_text(p))
    return port, ctl


def kamailio_aors(ctl):
    """The AoRs Kamailio's usrloc holds now, asked through its own kamcmd."""
    out = subprocess.run(["kamcmd", "-s", "unix:" + ctl, "ul.dump"], capture_output=True,
                         text=True, timeout=10).stdout
    return [line.split(":", 1)[1].strip() for line in out.splitlines()
            if line.strip().startswith("AoR:")]


# --- cti-media and its control socket ---------------------------------------

def start_cti_media(procs, build, *, registrar, lines, password, name="cti-media", rtp_ports=40,
                    user=""):
    sip_port = free_port()
    lo, hi = free_range(rtp_ports)
    sock = os.path.join(procs.workdir, name + ".sock")
    spool = os.path.join(procs.workdir, name + "-spool")
    conf = os.path.join(procs.workdir, name + ".conf")
    with open(conf, "w") as f:
        f.write("[media]\nsocket = %s\nregistrar = %s\nlines = %s\npassword = %s\n"
                "local_address = 127.0.0.1\nsip_port = %d\nrtp_ports = %d-%d\nspool_dir = %s\n"
                "user = %s\n" % (sock, registrar, lines, password, sip_port, lo, hi, spool, user))
    p = procs.start(name, [os.path.join(build, "media", "cti-media"), "-c", conf])
    # the socket file appears at bind(), before listen(): wait for the "started" line
    wait_for(lambda: "info: started," in log_text(p) or p.poll() is not None, 15,
             "cti-media to start")
    if p.poll() is not None:
        raise AssertionError("cti-media exited:\n" + log_text(p))
    p.sock = sock
    p.spool = spool
    p.sip_port = sip_port
    return p


def _escape(v):
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def _unescape(v):
    out, i = [], 0
    while i < len(v):
        c = v[i]
        if c == "\\" and i + 1 < len(v):
            out.append({"n": "\n", "r": "\r", "t": "\t", "\\": "\\"}.get(v[i + 1], v[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


class Frame:
    def __init__(self, verb, fields):
        self.verb = verb
        self.fields = fields  # [(name, value)]

    def get(self, name):
        for n, v in self.fields:
            if n.lower() == name.lower():
                return v
        return None

    def all(self, name):
        return [v for n, v in self.fields if n.lower() == name.lower()]

    def __repr__(self):
        return "%s %r" % (self.verb, self.fields)


class Client:
    """One connection to cti-media: requests, replies and the events of its sessions."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""
        self.events = []

    def close(self):
        self.s.close()

    def _read_frame(self, timeout):
        self.s.settimeout(timeout)
        while b"\n\n" not in self.buf:
            data = self.s.recv(65536)
            if not data:
                raise AssertionError("cti-media closed the connection")
            self.buf += data
        head, self.buf = self.buf.split(b"\n\n", 1)
        lines = head.decode().split("\n")
        version, verb = lines[0].split(" ", 1)
        assert version == "MCTI/1", lines[0]
        fields = []
        for line in lines[1:]:
            n, v = line.split(": ", 1) if ": " in line else (line.rstrip(":"), "")
            fields.append((n, _unescape(v)))
        return Frame(verb, fields)

    def request(self, verb, fields=(), timeout=10):
        out = "MCTI/1 %s\n" % verb + "".join("%s: %s\n" % (n, _escape(v)) for n, v in fields)
        self.s.sendall((out + "\n").encode())
        while True:
            f = self._read_frame(timeout)
            if f.verb == "EVENT":
                self.events.append(f)
                continue
            return f

    def event(self, session, name, timeout=30):
        """The next event NAME of SESSION (earlier events are kept for inspection)."""
        end = time.time() + timeout
        seen = 0
        while True:
            for i, f in enumerate(self.events[seen:], seen):
                if f.get("Session") == session and f.get("Event") == name:
                    del self.events[i]
                    return f
            seen = len(self.events)
            left = end - time.time()
            if left <= 0:
                raise AssertionError("no %s event for %s; events: %r" % (name, session,
                                                                         self.events))
            try:
                f = self._read_frame(left)
            except socket.timeout:
                continue
            self.events.append(f)


# --- baresip: a real SIP phone -------------------------------------------------

def start_baresip(procs, name, voice_wav, extra_modules=(), answermode="auto"):
    """An auto-answering baresip on a port of its own; VOICE_WAV is what it says, its dumps of
    what it hears go to DIR/<name>-dump/. Its UDP console (cons) takes key presses."""
    home = os.path.join(procs.workdir, name)
    dump = os.path.join(home, "dump")
    os.makedirs(dump, exist_ok=True)
    # a port found free can be taken before baresip binds it: try again with new ones
    for attempt in range(5):
        port = free_sip_port()
        cons = free_port()
        lo, hi = free_range(20)
        modules = ["g711", "aufile", "sndfile", "cons"] + list(extra_modules)
        with open(os.path.join(home, "config"), "w") as f:
            f.write("module_path /usr/lib/baresip/modules\n")
            f.write("sip_listen 127.0.0.1:%d\nnet_interface 127.0.0.1\nrtp_ports %d-%d\n"
                    "audio_player alsa,null\naudio_source aufile,%s\naudio_alert alsa,null\n"
                    "snd_path %s\ncons_listen 127.0.0.1:%d\n" % (port, lo, hi, voice_wav, dump, cons))
            for m in modules:
                f.write("module %s.so\n" % m)
            f.write("module_app account.so\nmodule_app menu.so\n")
        with open(os.path.join(home, "accounts"), "w") as f:
            f.write("<sip:%s@127.0.0.1:%d;transport=udp>;regint=0;answermode=%s;"
                    "audio_codecs=PCMU,PCMA\n" % (name, port, answermode))
        p = procs.start(name, ["baresip", "-f", home], stdin=subprocess.DEVNULL)
        wait_for(lambda: "baresip is ready" in log_text(p) or p.poll() is not None, 15,
                 "baresip " + name)
        if p.poll() is None:
            break
        if "Address already in use" not in log_text(p) or attempt == 4:
            raise AssertionError("baresip exited:\n" + log_text(p))
        procs.stop(p)
    p.uri = "sip:%s@127.0.0.1:%d" % (name, port)
    p.dump = dump
    p.cons = cons
    return p


def baresip_key(p, keys):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(keys.encode(), ("127.0.0.1", p.cons))
    s.close()


def baresip_dumps(p, kind="dec"):
    return sorted(os.path.join(p.dump, n) for n in os.listdir(p.dump)
                  if n.endswith("-%s.wav" % kind))


# --- audio checks --------------------------------------------------------------

def read_wav(path):
    with wave.open(path, "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2, path
        rate = w.getframerate()
        data = w.readframes(w.getnframes())
    return rate, list(struct.unpack("<%dh" % (len(data) // 2), data))


def write_wav(path, samples, rate=8000):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(struct.pack("<%dh" % len(samples), *samples))


def active_span(samples, threshold=300):
    """First and last index whose 20 ms block is louder than THRESHOLD (RMS)."""
    block = 160
    loud = [i for i in range(0, len(samples) - block + 1, block)
            if math.sqrt(sum(x * x for x in samples[i:i + block]) / block) > threshold]
    if not loud:
        return None
    return loud[0], loud[-1] + block


def rms(samples):
    return math.sqrt(sum(x * x for x in samples) / max(1, len(samples)))


def ncc(ref, got, lag, step=1):
    """Normalised cross-correlation of REF with GOT shifted by LAG samples."""
    lo = max(0, -lag)
    n = min(len(ref), len(got) - lag)
    if n - lo <= 0:
        return 0.0
    a = ref[lo:n:step]
    b = got[lo + lag:n + lag:step]
    sab = sum(x * y for x, y in zip(a, b))
    saa = sum(x * x for x in a)
    sbb = sum(y * y for y in b)
    return sab / math.sqrt(saa * sbb) if saa and sbb else 0.0


def best_correlation(ref, got, radius=800):
    """The best normalised cross-correlation of REF within GOT, and its lag: the onsets of
    sound align the two, then lags within RADIUS samples around that are tried."""
    r, g = active_span(ref), active_span(got)
    if r is None or g is None:
        return 0.0, 0
    center = g[0] - r[0]
    coarse = max(range(center - radius, center + radius + 1, 4), key=lambda l: ncc(ref, got, l, 4))
    best = max(range(coarse - 4, coarse + 5), key=lambda l: ncc(ref, got, l))
    return ncc(ref, got, best), best
