"""p1_mail - P1: non-CTI mail through Postfix, bare vs cti-milter vs OpenDKIM.

Method (shared Postfix notes, section 4): a private Postfix relays every
message to smtp-sink; per cell Postfix is restarted with that cell's
smtpd_milters, warmed up, drained, then N messages are sent by smtp-source in
20 parallel sessions.  accept = N / smtp-source wall time, e2e = N / time until
the queue is empty.  Cells are interleaved: rep -> size -> config.  Sizes:
1 KB and 100 KB plain text (smtp-source -l), and a 100 KB multipart mail
with a base64 attachment (smtp-source -F), which makes the milter scan the
body for part headers.
OpenDKIM runs as the peer milter over a unix socket (its best set-up), signing
RSA-2048 relaxed/simple.  Owns: the Postfix instance, smtp-sinks, opendkim and
cti-milter it starts.  Two cti-milter cells: inbound mail from a client that
no method identifies (accepted at DATA unread: target e2e >= 0.95 of bare
Postfix), and mail from an identified sender, the submission case (target
>= 0.90).
"""

import base64
import glob
import os
import pwd
import subprocess
import time

from . import util
from .postfix import Postfix, smtp_source
from .mailcti import Instance

SENDER = "bench@client.bench.example"
RCPT = "bench@sink.bench.example"
TARGET = 0.90
TARGET_INBOUND = 0.95
# the two cti-milter cells: mail from a client no method can identify (inbound
# mail, accepted at DATA unread), and from an identified one (trusted network:
# the same conversation as an SMTP AUTH login, i.e. submission)
INBOUND = "cti-milter inbound"
IDENTIFIED = "cti-milter identified"


def setup_opendkim(base, procs):
    """setup_opendkim - key + config + foreground opendkim on a unix socket; its milter spec."""
    d = os.path.join(base, "dkim")
    run = os.path.join(d, "run")
    os.makedirs(run, exist_ok=True)
    pw = pwd.getpwnam("opendkim")
    util.run(["opendkim-genkey", "-b", "2048", "-d", "client.bench.example", "-s", "bench", "-D", d])
    key = os.path.join(d, "bench.private")
    os.chown(key, pw.pw_uid, pw.pw_gid)
    os.chmod(key, 0o600)
    os.chown(run, pw.pw_uid, pw.pw_gid)
    sock = os.path.join(run, "opendkim.sock")
    conf = os.path.join(d, "opendkim.conf")
    with open(conf, "w") as f:
        f.write("Mode s\nDomain client.bench.example\nSelector bench\nKeyFile %s\n"
                "Socket local:%s\nUMask 000\nUserID opendkim:opendkim\nSyslog no\n"
                "RequireSafeKeys false\nCanonicalization relaxed/simple\n" % (key, sock))
    p = procs.start("opendkim", ["opendkim", "-f", "-x", conf])
    util.wait_for(lambda: util.unix_connectable(sock), 15, "opendkim socket", p)
    return p, "unix:" + sock


def check_dump(pf, procs, base, milters, needle):
    """check_dump - send one mail through MILTERS to a dumping smtp-sink; TRUE if NEEDLE is in it."""
    dump = os.path.join(base, "dump")
    os.makedirs(dump, exist_ok=True)
    pw = pwd.getpwnam("postfix")
    os.chown(dump, pw.pw_uid, pw.pw_gid)
    for f in glob.glob(os.path.join(dump, "*")):
        os.unlink(f)
    port = pf.dump_port
    sink = procs.start("smtp-sink-dump", ["smtp-sink", "-u", "postfix", "-d", os.path.join(dump, "%H%M%S."),
                                          "127.0.0.1:%d" % port, "64"])
    try:
        util.wait_for(lambda: util.tcp_connectable(port), 10, "dump smtp-sink", sink)
        pf.stop()
        pf.configure(milters)
        pf.start()
        smtp_source(pf.port, 1, 1, SENDER, "check@dump.bench.example", size=1024)
        pf.drain(30)
        util.wait_for(lambda: glob.glob(os.path.join(dump, "*")), 10, "dumped mail")
        time.sleep(0.2)
        data = b"".join(open(f, "rb").read() for f in glob.glob(os.path.join(dump, "*")))
        return needle.encode() in data
    finally:
        procs.stop(sink)


def multipart_file(path, size):
    """multipart_file - a non-CTI multipart mail with a base64 attachment, ~SIZE bytes, for smtp-source -F."""
    b = "=-p1-boundary-="
    raw = os.urandom(size * 3 // 4)
    b64 = base64.b64encode(raw).decode()
    lines = ["From: <%s>" % SENDER, "To: <%s>" % RCPT, "Subject: report attached", "MIME-Version: 1.0",
             'Content-Type: multipart/mixed; boundary="%s"' % b, "", "--" + b,
             "Content-Type: text/plain; charset=us-ascii", "", "The report is attached.", "", "--" + b,
             "Content-Type: application/pdf", "Content-Transfer-Encoding: base64",
             'Content-Disposition: attachment; filename="report.pdf"', ""]
    lines += [b64[i:i + 76] for i in range(0, len(b64), 76)]
    lines += ["--%s--" % b, ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return path


def one_cell(pf, milters, n, size, warmup, pid=None):
    """one_cell - restart Postfix with MILTERS, warm up, drain, timed run: (accept/s, e2e/s, sent ok).
    SIZE is a body length for smtp-source -l, or a message file for -F."""
    kw = {"msgfile": size} if isinstance(size, str) else {"size": size}
    pf.stop()
    pf.configure(milters)
    pf.start()
    smtp_source(pf.port, warmup, min(20, warmup), SENDER, RCPT, **kw)
    pf.drain()
    sent_before = pf.maillog_count("status=sent")
    cpu0 = util.proc_cpu_seconds(pid) if pid else None
    t0, t1, _out = smtp_source(pf.port, n, 20, SENDER, RCPT, **kw)
    t2 = pf.drain()
    cpu = (util.proc_cpu_seconds(pid) - cpu0) * 1000.0 / n if cpu0 is not None else None
    time.sleep(0.05)
    sent = pf.maillog_count("status=sent") - sent_before
    return n / (t1 - t0), n / (t2 - t0), sent, cpu


def run(ctx):
    table = util.Table("P1 non-CTI mail: Postfix e2e throughput, bare vs cti-milter vs OpenDKIM "
                       "(median (min-max) of %d interleaved reps, 20 sessions)" % ctx.reps,
                       ["size", "config", "N", "accept msg/s", "e2e msg/s", "e2e ratio*", "milter CPU ms/msg",
                        "target"])
    table.note("* median over repetitions of (cell e2e / bare Postfix e2e of the same repetition)")
    base = os.path.join(ctx.workdir, "p1")
    os.makedirs(base, exist_ok=True)
    os.chmod(base, 0o755)
    procs = util.Procs(ctx.workdir)
    dump_port = util.free_port()
    pf = Postfix(os.path.join(base, "pf"), util.free_port(), util.free_port(), ["sink.bench.example"], procs,
                 {"dump.bench.example": dump_port})
    pf.dump_port = dump_port
    configs = [("postfix (base)", None)]
    unavailable = {}
    pids = {}
    insts = []
    for name, trusted in ((INBOUND, "127.0.0.2/32"), (IDENTIFIED, "127.0.0.0/8")):
        inst = Instance(os.path.join(base, "mailcti-" + name.split()[1]), ctx.build_dir, ctx.src_dir, procs,
                        trusted=trusted)
        insts.append(inst)
        try:
            inst.start_milter()
            configs.append((name, inst.milter_spec()))
            pids[name] = inst.milter.pid
        except util.NotMeasurable as e:
            unavailable[name] = str(e)
    try:
        dk, dkim_spec = setup_opendkim(base, procs)
        configs.append(("opendkim (peer)", dkim_spec))
        pids["opendkim (peer)"] = dk.pid
    except (util.NotMeasurable, util.HarnessError) as e:
        unavailable["opendkim (peer)"] = str(e)
    sizes = [("1 KB", 1024, ctx.scale(1000, 40)), ("100 KB", 102400, ctx.scale(500, 20)),
             ("100 KB multipart", multipart_file(os.path.join(base, "multipart.eml"), 102400), ctx.scale(500, 20))]
    if ctx.smoke:
        sizes = sizes[:1]
    warmup = ctx.scale(100, 10)
    results = {}
    try:
        for name, spec in (configs[1:] if not ctx.smoke else []):
            needle = "DKIM-Signature:" if name.startswith("opendkim") else "From: <%s>" % SENDER
            try:
                if not check_dump(pf, procs, base, spec, needle):
                    table.note("check: %s: a mail relayed through it lacks %r" % (name, needle))
                elif name.startswith("opendkim"):
                    table.note("check: OpenDKIM signed the relayed test mail (DKIM-Signature present)")
                else:
                    table.note("check: a test mail relayed through %s arrived at the sink" % name)
            except util.NotMeasurable as e:
                unavailable[name] = "check mail failed: %s" % e
        configs = [c for c in configs if c[0] not in unavailable]
        for rep in range(ctx.reps):
            for label, size, n in sizes:
                for name, spec in configs:
                    try:
                        acc, e2e, sent, cpu = one_cell(pf, spec or "", n, size, warmup, pids.get(name))
                    except util.NotMeasurable as e:
                        unavailable.setdefault(name, str(e))
                        continue
                    if sent != n:
                        table.note("rep %d %s %s: %d of %d reached the sink" % (rep + 1, label, name, sent, n))
                    results.setdefault((label, name), []).append((acc, e2e, rep, cpu))
                    ctx.progress("P1 rep %d %s %-16s accept %.0f e2e %.0f msg/s" % (rep + 1, label, name, acc, e2e))
    finally:
        pf.cleanup()
        for inst in insts:
            inst.stop()
        procs.stop_all()
    for label, _size, n in sizes:
        base_e2e = {r[2]: r[1] for r in results.get((label, "postfix (base)"), [])}
        for name in ["postfix (base)", INBOUND, IDENTIFIED, "opendkim (peer)"]:
            rs = results.get((label, name))
            if not rs:
                table.add_nm((label, name, str(n)), unavailable.get(name, "no result"))
                continue
            ratio = util.paired_ratio({r[2]: r[1] for r in rs}, base_e2e)
            if name == INBOUND:
                tgt = util.verdict(ratio is not None and ratio >= TARGET_INBOUND, ">= %.2f" % TARGET_INBOUND)
            elif name == IDENTIFIED:
                tgt = util.verdict(ratio is not None and ratio >= TARGET, ">= %.2f" % TARGET)
            elif name.startswith("opendkim"):
                tgt = "peer"
            else:
                tgt = "baseline"
            table.add(label, name, str(n), util.fmt_range([r[0] for r in rs]), util.fmt_range([r[1] for r in rs]),
                      util.fmt(ratio, 2), util.fmt(util.median([r[3] for r in rs if r[3] is not None]), 2), tgt)
    return table
