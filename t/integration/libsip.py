"""SIP phones for integration tests: baresip (Debian baresip-core) instances
with a private configuration directory, one account registered to a SIP
registrar on 127.0.0.1, a WAV file as the phone's voice (aufile) and a dump
directory where the sndfile module writes what the phone hears
(dump-<time>-dec.wav) and what it sends (dump-<time>-enc.wav).

Also the audio helpers the tests compare with: a voice WAV made with espeak-ng
and sox at 8 kHz, WAV reading with the wave module, and a normalised
cross-correlation in plain Python.

    phone = Phone(tmpdir, "2001", password, sip_port, voice="hello.wav")
    phone.start(); phone.wait_registered()
    ... place a call ...
    phone.stop(); wav = phone.dump()
"""

import array
import glob
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import time
import wave

BARESIP = shutil.which("baresip") or "/usr/bin/baresip"
MODULE_PATH = "/usr/lib/baresip/modules"
RATE = 8000


def _bindable(kind, port):
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_sip_port():
    """A port for a phone's SIP: baresip binds it for UDP and TCP, and the next one for TLS."""
    for _ in range(50):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port < 65535 and _bindable(socket.SOCK_STREAM, port) and _bindable(socket.SOCK_STREAM, port + 1):
            return port
    raise RuntimeError("no free port for SIP")


def _udp_range_free(lo, hi):
    socks = []
    try:
        for p in range(lo, hi + 1):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            socks.append(s)
            s.bind(("127.0.0.1", p))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


_rtp_taken = set()


def free_rtp_range(width=10):
    """A range of WIDTH free UDP ports for one phone's RTP/RTCP, below the kernel's ephemeral
    ports (where free_sip_port finds its ports) and apart from the other phones' ranges."""
    for _ in range(100):
        lo = random.randrange(30000, 32760 - width, width)
        if lo not in _rtp_taken and _udp_range_free(lo, lo + width - 1):
            _rtp_taken.add(lo)
            return lo, lo + width - 1
    raise RuntimeError("no free UDP port range for RTP")


def write_wav(path, samples, rate=RATE):
    """Write 16-bit mono SAMPLES (a sequence of ints) as a WAV file."""
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(array.array("h", samples).tobytes())


def silence_wav(path, seconds=60.0):
    """A WAV of silence: the voice of a phone that only listens (baresip with no
    source at all busy-loops and writes huge dumps)."""
    write_wav(path, [0] * int(seconds * RATE))
    return path


def voice_wav(path, text, lead=0.5):
    """TEXT spoken by espeak-ng, converted by sox to 8 kHz mono 16 bit, after
    LEAD seconds of silence (the start of a call may lose a few packets)."""
    raw = path + ".espeak.wav"
    subprocess.run(["espeak-ng", "-w", raw, text], check=True, capture_output=True)
    subprocess.run(["sox", raw, "-r", str(RATE), "-c", "1", "-b", "16", path, "pad", str(lead), "0"],
                   check=True, capture_output=True)
    os.unlink(raw)
    return path


def read_wav(path):
    """(samples as array('h'), rate) of a 16-bit mono WAV."""
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise ValueError("%s: not 16-bit mono" % path)
        data = array.array("h", w.readframes(w.getnframes()))
        return data, w.getframerate()


def duration(path):
    with wave.open(path, "rb") as w:
        return w.getnframes() / float(w.getframerate())


def active_span(samples, rate=RATE, threshold=300):
    """Seconds from the first to the last sample louder than THRESHOLD: how long the audio in a
    recording lasts, without the silence before and after it (a phone keeps sending silence
    between the end of its voice and its BYE)."""
    loud = [i for i, v in enumerate(samples) if abs(v) > threshold]
    return (loud[-1] - loud[0] + 1) / float(rate) if loud else 0.0


def _envelope(x, step):
    return [sum(abs(v) for v in x[i:i + step]) / step for i in range(0, len(x) - step + 1, step)]


def _ncc_at(a, b, lag):
    """Normalised cross-correlation of A and B shifted by LAG (b[i] ~ a[i + lag]), over the overlap."""
    if lag >= 0:
        x, y = a[lag:], b
    else:
        x, y = a, b[-lag:]
    n = min(len(x), len(y))
    if n == 0:
        return 0.0
    sxy = sxx = syy = 0
    for i in range(n):
        xi, yi = x[i], y[i]
        sxy += xi * yi
        sxx += xi * xi
        syy += yi * yi
    return sxy / math.sqrt(sxx * syy) if sxx and syy else 0.0


def best_ncc(reference, recording, max_lag_s=2.0, rate=RATE):
    """(best normalised cross-correlation, lag in samples) of RECORDING against
    REFERENCE: the lag is found on a 10 ms envelope, then refined sample by
    sample around it.  The recording may start late or early by up to MAX_LAG_S."""
    step = rate // 100
    ea, eb = _envelope(reference, step), _envelope(recording, step)
    max_lag = int(max_lag_s * 100)
    best_env = max(range(-max_lag, max_lag + 1), key=lambda l: _ncc_at(ea, eb, l))
    centre = best_env * step
    best = max(range(centre - step, centre + step + 1, 2), key=lambda l: _ncc_at(reference, recording, l))
    best = max(range(best - 2, best + 3), key=lambda l: _ncc_at(reference, recording, l))
    return _ncc_at(reference, recording, best), best


class Phone:
    """One baresip instance registered as USER with PASSWORD to the registrar
    on 127.0.0.1:REGISTRAR_PORT.  VOICE: the WAV it sends as its microphone
    (default: silence).  It answers every call at once (answermode=auto)."""

    def __init__(self, workdir, user, password, registrar_port, voice=None, name=None):
        self.user = user
        self.name = name or "phone-%s" % user
        self.dir = os.path.join(workdir, self.name)
        self.conf = os.path.join(self.dir, "conf")
        self.dumps = os.path.join(self.dir, "dumps")
        for d in (self.conf, self.dumps):
            os.makedirs(d, exist_ok=True)
        self.voice = voice or silence_wav(os.path.join(self.dir, "silence.wav"))
        self.log_path = os.path.join(self.dir, "baresip.log")
        self.sip_port = free_sip_port()
        self.rtp = free_rtp_range()
        self.proc = None
        self._write_config(password, registrar_port)

    def _write_config(self, password, registrar_port):
        with open(os.path.join(self.conf, "config"), "w") as f:
            f.write("\n".join([
                "module_path %s" % MODULE_PATH,
                "sip_listen 127.0.0.1:%d" % self.sip_port,
                "net_interface 127.0.0.1",
                "rtp_ports %d-%d" % self.rtp,
                "audio_player alsa,null",
                "audio_source aufile,%s" % self.voice,
                "audio_alert alsa,null",
                "snd_path %s" % self.dumps,
                "module g711.so",
                "module aufile.so",
                "module sndfile.so",
                "module_app account.so",
                "module_app menu.so",
                ""]))
        with open(os.path.join(self.conf, "accounts"), "w") as f:
            f.write("<sip:%s@127.0.0.1:%d;transport=udp>;auth_pass=%s;answermode=auto;"
                    "audio_codecs=PCMU;regint=600\n" % (self.user, registrar_port, password))
        open(os.path.join(self.conf, "contacts"), "w").close()

    def start(self):
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([BARESIP, "-f", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_log(self, pattern, timeout=10.0):
        """The first match of the regular expression PATTERN in the phone's output, or None."""
        end = time.time() + timeout
        while True:
            m = re.search(pattern, self.log())
            if m or time.time() > end or self.proc.poll() is not None:
                return m
            time.sleep(0.1)

    def wait_registered(self, timeout=10.0):
        """TRUE once the registrar answered 200 OK to the phone's REGISTER."""
        return self.wait_log(r"%s@127\.0\.0\.1: \{0/UDP/v4\} 200 OK" % re.escape(self.user), timeout) is not None

    def stop(self, timeout=5.0):
        """Quit baresip (SIGTERM: it hangs up and unregisters), kill it if it does not exit."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.logf.close()
        self.proc = None

    def dump(self, kind="dec"):
        """The newest sndfile dump of what the phone heard (KIND dec) or sent (enc), or None."""
        files = sorted(glob.glob(os.path.join(self.dumps, "dump-*-%s.wav" % kind)), key=os.path.getmtime)
        return files[-1] if files else None
