"""p5_bigmail - P5: a 25 MB mail with attachments through cti-milter.

A private Postfix (message_size_limit 50 MB) with cti-milter; the milter first
handles small warm-up mails, then its VmHWM (peak RSS, /proc) is read before
and after each 25 MB mail: a plain multipart mail with three base64
attachments (no request: the milter only scans part headers), and, when ctid
runs, the same attachments in a request mail (the milter spools it, parses it
with GMime from the spool file and hands it to ctid).  Target: peak RSS
growth < 4 MiB per mail.  Owns the processes it starts.
"""

import base64
import os
import threading
import time

from . import util
from .mailcti import Instance, request_text, request_mail
from .postfix import Postfix
from .smtp import Session

TARGET_MIB = 4.0
SENDER = "alice@bench.example"
RCPT = "call@bench.example"


def attachments_text(total_bytes):
    """attachments_text - three base64 attachment bodies (76-char lines) of TOTAL_BYTES encoded size."""
    raw_each = total_bytes * 3 // 4 // 3
    out = []
    for _ in range(3):
        b64 = base64.b64encode(os.urandom(raw_each)).decode()
        out.append("\r\n".join(b64[i:i + 76] for i in range(0, len(b64), 76)))
    return out


def plain_mail(attachments, msgid):
    b = "=-p5-boundary-="
    lines = ["From: <%s>" % SENDER, "To: <bob@bench.example>", "Subject: big attachments",
             "Message-ID: <%s>" % msgid, "MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="%s"' % b,
             "", "--" + b, "Content-Type: text/plain", "", "Three attachments.", ""]
    for i, a in enumerate(attachments):
        lines += ["--" + b, "Content-Type: application/octet-stream", "Content-Transfer-Encoding: base64",
                  'Content-Disposition: attachment; filename="part%d.bin"' % i, "", a]
    lines += ["--%s--" % b, ""]
    return "\r\n".join(lines)


def cti_mail(attachments, msgid):
    nb = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
    req = request_text("0312345678", extra=["Not-Before: " + nb])
    return request_mail(SENDER, RCPT, req, msgid, attachment="\r\n".join(attachments))


class Sampler(threading.Thread):
    """Sampler - peak RssAnon / RssFile of PID while a mail passes (what kind of memory grew)."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.stop_flag = threading.Event()
        self.peak = {"RssAnon": 0, "RssFile": 0}

    def run(self):
        while not self.stop_flag.is_set():
            for k in self.peak:
                self.peak[k] = max(self.peak[k], util.proc_status(self.pid, k) or 0)
            time.sleep(0.005)


def measure(session, pid, rcpt, msg):
    base = {k: util.proc_status(pid, k) or 0 for k in ("RssAnon", "RssFile")}
    before = util.proc_status(pid, "VmHWM")
    sampler = Sampler(pid)
    sampler.start()
    _w, dt, code, text = session.send(SENDER, [rcpt], msg)
    time.sleep(0.2)
    sampler.stop_flag.set()
    sampler.join()
    after = util.proc_status(pid, "VmHWM")
    kinds = ", ".join("%s +%.1f MiB" % (k, (sampler.peak[k] - base[k]) / 1024.0) for k in ("RssAnon", "RssFile"))
    return before, after, dt, code, text, kinds


def run(ctx):
    size = ctx.scale(25, 5) * 1000 * 1000
    table = util.Table("P5 a %d MB mail through cti-milter: peak RSS growth (VmHWM after - before)" % (size // 10**6),
                       ["mail", "size MB", "HWM before MiB", "HWM after MiB", "growth MiB", "DATA->250 s",
                        "reply", "target"])
    procs = util.Procs(ctx.workdir)
    base = os.path.join(ctx.workdir, "p5")
    os.makedirs(base, exist_ok=True)
    inst = Instance(os.path.join(base, "mailcti"), ctx.build_dir, ctx.src_dir, procs)
    pf = Postfix(os.path.join(base, "pf"), util.free_port(), util.free_port(), ["bench.example"], procs)
    try:
        try:
            inst.start_milter()
        except util.NotMeasurable as e:
            table.add_nm(("25 MB mails",), str(e))
            return table
        have_ctid = True
        try:
            inst.start_ctid(wait_link=False)
        except util.NotMeasurable as e:
            have_ctid = False
            ctid_reason = str(e)
        pf.configure(inst.milter_spec())
        pf.start()
        hwm_start = util.proc_status(inst.milter.pid, "VmHWM") or 0
        att = attachments_text(size)
        small = attachments_text(30000)
        s = Session(pf.port, timeout=300)
        try:
            for i in range(3):
                s.send(SENDER, ["bob@bench.example"], plain_mail(small, "p5-warm-%d@bench.example" % i))
                if have_ctid:
                    s.send(SENDER, [RCPT], cti_mail(small, "p5-warmc-%d@bench.example" % i))
            table.note("milter VmHWM: %.1f MiB at start, %.1f MiB after the warm-up mails" % (
                hwm_start / 1024.0, (util.proc_status(inst.milter.pid, "VmHWM") or 0) / 1024.0))
            cases = [("multipart, 3 attachments, no request", "bob@bench.example",
                      plain_mail(att, "p5-plain@bench.example"))]
            if have_ctid:
                cases.append(("request + 3 attachments (to ctid)", RCPT, cti_mail(att, "p5-cti@bench.example")))
            for label, rcpt, msg in cases:
                h0, h1, dt, code, text, kinds = measure(s, inst.milter.pid, rcpt, msg)
                growth = (h1 - h0) / 1024.0
                table.add(label, "%.1f" % (len(msg) / 1e6), h0 / 1024.0, h1 / 1024.0, "%.2f" % growth, dt,
                          str(code), util.verdict(growth < TARGET_MIB and code == 250, "< %g MiB" % TARGET_MIB))
                table.note("%s: sampled peaks over the mail: %s (RssFile = mapped files, e.g. an mmap'd spool)"
                           % (label, kinds))
                if code != 250:
                    table.note("%s: %s" % (label, text))
                ctx.progress("P5 %s: growth %.2f MiB" % (label, growth))
        finally:
            s.close()
        if not have_ctid:
            table.add_nm(("request + 3 attachments (to ctid)",), ctid_reason)
        pf.drain(120)
    finally:
        pf.cleanup()
        inst.stop()
        procs.stop_all()
    return table
