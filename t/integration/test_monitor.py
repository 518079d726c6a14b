"""test_monitor - what an operator's monitoring sees: ctid's job lines in a
real syslog daemon (a private rsyslogd, facility mail), `ctictl metrics` read
by the Prometheus client library's own text-format parser, and retention
(`ctictl jobs purge`).  Each test raises AssertionError with a message a
person can act on.
"""
import os
import shutil
import signal
import smtplib
import subprocess
import tempfile
import time

import libmail
from libpbx import control

RSYSLOGD = "/usr/sbin/rsyslogd"


def _check(cond, message):
    if not cond:
        raise AssertionError(message)


def _bin(ctx, sub, name):
    return os.path.join(ctx.stack["BUILD_DIR"], sub, name)


def _ctictl(ctx, *args):
    cmd = [_bin(ctx, "cli", "ctictl"), "-c", ctx.stack["CONFIG"]] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def _submit(ctx, fields):
    """Send a request mail as alice; Postfix's queue id from the answer to DATA."""
    msg = libmail.request_mail(ctx.stack, "alice", fields)
    with smtplib.SMTP("127.0.0.1", ctx.stack.smtp_port, timeout=60) as smtp:
        smtp.ehlo("client.example")
        smtp.login("alice", ctx.stack.password("alice"))
        smtp.mail(ctx.stack.address("alice"))
        code, text = smtp.rcpt(ctx.stack["CTI_ADDRESS"])
        _check(code == 250, "RCPT refused: %d %r" % (code, text))
        code, text = smtp.data(libmail.as_bytes(msg))
    text = text.decode()
    _check(code == 250 and "queued as " in text, "DATA answered %d %r" % (code, text))
    return text.rsplit("queued as ", 1)[1].strip()


class Rsyslog:
    """A private rsyslogd: its own socket, mail.* to mail.log, everything else to other.log."""

    def __init__(self, base):
        self.dir = base
        self.socket = os.path.join(base, "log.sock")
        self.mail_log = os.path.join(base, "mail.log")
        self.other_log = os.path.join(base, "other.log")
        conf = os.path.join(base, "rsyslog.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write('global(workDirectory="%s")\n' % base)
            f.write('module(load="imuxsock" SysSock.Use="off")\n')
            f.write('input(type="imuxsock" Socket="%s" RateLimit.Interval="0")\n' % self.socket)
            f.write('mail.* action(type="omfile" file="%s" template="RSYSLOG_TraditionalFileFormat")\n'
                    % self.mail_log)
            f.write('*.*;mail.none action(type="omfile" file="%s")\n' % self.other_log)
        self.proc = subprocess.Popen([RSYSLOGD, "-n", "-f", conf, "-i", os.path.join(base, "rsyslogd.pid")],
                                     stdout=subprocess.DEVNULL, stderr=open(os.path.join(base, "rsyslogd.err"), "w"))
        deadline = time.monotonic() + 10
        while not os.path.exists(self.socket):
            _check(self.proc.poll() is None and time.monotonic() < deadline,
                   "rsyslogd did not create %s: %s" % (self.socket, self._err()))
            time.sleep(0.05)

    def _err(self):
        with open(os.path.join(self.dir, "rsyslogd.err"), encoding="utf-8", errors="replace") as f:
            return f.read()

    def lines(self, path):
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def wait_mail_line(self, predicate, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [l for l in self.lines(self.mail_log) if predicate(l)]
            if found:
                return found[0]
            time.sleep(0.1)
        return None

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)


def _start_syslog_ctid(ctx, syslog_socket, stderr_path):
    """The stack's ctid binary and config, plus [log] syslog_socket, not in the foreground."""
    conf = os.path.join(os.path.dirname(syslog_socket), "mailcti.conf")
    with open(ctx.stack["CONFIG"], encoding="utf-8") as f:
        text = f.read()
    _check("\n[log]\n" not in text, "the stack's config already has a [log] group")
    with open(conf, "w", encoding="utf-8") as f:
        f.write(text + "\n[log]\nsyslog_socket=%s\n" % syslog_socket)
    err = open(stderr_path, "a")
    proc = subprocess.Popen([_bin(ctx, "daemon", "ctid"), "-c", conf], stdout=err, stderr=err)
    deadline = time.monotonic() + 15
    while True:
        st = _ctictl(ctx, "status")
        if st.returncode == 0 and "Link: up" in st.stdout:
            return proc
        _check(proc.poll() is None and time.monotonic() < deadline,
               "ctid with [log] syslog_socket did not come up: %s" % st.stderr)
        time.sleep(0.1)


def test_syslog_job_lines(ctx):
    """Without -f ctid logs to syslog, facility mail: the job's lines are found by its Postfix queue id."""
    base = tempfile.mkdtemp(prefix="mailcti-syslog.")
    os.chmod(base, 0o755)
    syslog = Rsyslog(base)
    stderr_path = ctx.stack.log_path("ctid-syslog.log")  # beside the stack's logs: sanitizer reports
    proc = None
    ctx.stack.service("stop", "ctid")
    try:
        proc = _start_syslog_ctid(ctx, syslog.socket, stderr_path)
        queue_id = _submit(ctx, [("Source", "2001"), ("Destination", "0399999999")])  # busy: ends failed
        prefix = "%s: job " % queue_id
        queued = syslog.wait_mail_line(lambda l: prefix in l and ": state=queued" in l)
        _check(queued is not None, "no '%sJOB: state=queued' line in rsyslog's mail.log: %r"
               % (prefix, syslog.lines(syslog.mail_log)[-5:]))
        job = queued.split(prefix, 1)[1].split(":", 1)[0]
        _check(len(job) == 32, "no job id after the queue id: %r" % queued)
        _check(" ctid[%d]: " % proc.pid in queued, "not ctid's line (ident[pid]): %r" % queued)
        ended = syslog.wait_mail_line(lambda l: "%s%s: " % (prefix, job) in l and
                                      any("state=%s " % s in l for s in ("failed", "timeout", "success")))
        _check(ended is not None, "no line for the end of job %s in mail.log: %r"
               % (job, [l for l in syslog.lines(syslog.mail_log) if queue_id in l]))
        shown = _ctictl(ctx, "jobs", "show", job)
        _check("Queue-Id: %s" % queue_id in shown.stdout, "ctictl jobs show %s: %r" % (job, shown.stdout))
        _check(not [l for l in syslog.lines(syslog.other_log) if queue_id in l],
               "job lines outside facility mail: %r" % syslog.lines(syslog.other_log)[-3:])
        with open(stderr_path, encoding="utf-8", errors="replace") as f:
            _check(queue_id not in f.read(), "ctid wrote its job lines to stderr too, not a terminal")
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
        ctx.stack.service("start", "ctid")
        syslog.stop()
        shutil.rmtree(base, ignore_errors=True)


def _job_by_queue_id(ctx, queue_id, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for job in ctx.stack.ctictl_json("jobs", "list", "--limit", "20"):
            if job.get("Queue-Id") == queue_id:
                return job["Job-Id"]
        time.sleep(0.1)
    raise AssertionError("no job with Queue-Id %s in ctictl jobs list" % queue_id)


def _wait_settled(ctx, job, timeout=60):
    """Wait until JOB is finished and its notification confirmed; its JOB record."""
    deadline = time.monotonic() + timeout
    while True:
        shown = ctx.stack.ctictl_json("jobs", "show", job)
        if shown.get("Notified") == "yes" and shown.get("Finished"):
            return shown
        _check(time.monotonic() < deadline, "job %s not finished and notified in %d s: %r" % (job, timeout, shown))
        time.sleep(0.2)


def _metrics(ctx, *args, config=None):
    """ctictl metrics parsed by the Prometheus client library: {(sample name, labels): value}."""
    res = subprocess.run([_bin(ctx, "cli", "ctictl"), "-c", config or ctx.stack["CONFIG"], "metrics"] + list(args),
                         capture_output=True, text=True, timeout=60)
    return res, _parse(res.stdout)


def _parse(text):
    try:  # imported here: without the package only the metrics test fails, not the module
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError as e:
        raise AssertionError("python3-prometheus-client is not installed (scripts/setup): %s" % e)
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def _get(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))


def _wait_state(ctx, job, states, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        shown = ctx.stack.ctictl_json("jobs", "show", job)
        if shown.get("State") in states:
            return shown
        _check(time.monotonic() < deadline, "job %s is %r after %d s, want one of %r"
               % (job, shown.get("State"), timeout, states))
        time.sleep(0.2)


def _wait_link(ctx, up, timeout=30):
    """Wait for the PBX link to be UP or down (ctictl status exits 3 while it is down)."""
    deadline = time.monotonic() + timeout
    while ("Link: %s\n" % ("up" if up else "down")) not in _ctictl(ctx, "status").stdout:
        _check(time.monotonic() < deadline, "the PBX link is not %s after %d s" % ("up" if up else "down", timeout))
        time.sleep(0.1)


def test_metrics_match_stats(ctx):
    """ctictl metrics, read by prometheus_client's parser, agrees with ctictl stats and status;
    an answered call, a refusal and a PBX reconnect move their counters by one."""
    res, before = _metrics(ctx)
    _check(res.returncode == 0 and _get(before, "mailcti_ctid_up") == 1, "metrics: %d %r" % (res.returncode, res.stderr))
    queue_id = _submit(ctx, [("Source", "2004"), ("Destination", "0312345678")])
    try:
        _wait_state(ctx, _job_by_queue_id(ctx, queue_id), ("success",))
    finally:
        control(ctx.stack["PBX_CONTROL"], "hangup 2004")
    refused = libmail.send(ctx.stack, "alice", ctx.stack["CTI_ADDRESS"],
                           libmail.as_bytes(libmail.request_mail(ctx.stack, "alice", [("Source", "2009"),
                                                                                    ("Destination", "0312345678")])))
    _check(refused.code == 550, "extension 2009 (not granted) answered %r" % refused)
    ctx.stack.service("stop", "pbx-sim")
    try:
        _wait_link(ctx, False)
        down = _ctictl(ctx, "status")
        _check(down.returncode == 3 and "Link: down" in down.stdout,
               "ctictl status with the PBX link down: exit %d, want 3: %r" % (down.returncode, down.stdout))
    finally:
        ctx.stack.service("start", "pbx-sim")
    _wait_link(ctx, True)

    for _ in range(5):  # a job of an earlier test may change state between the calls: take a quiet moment
        stats, status = ctx.stack.ctictl_json("stats"), ctx.stack.ctictl_json("status")
        res, after = _metrics(ctx)
        if ctx.stack.ctictl_json("stats") == stats:
            break
        time.sleep(0.5)
    _check(res.returncode == 0, "metrics: %d %r" % (res.returncode, res.stderr))
    for state in ("queued", "waiting-user", "running", "retry-wait", "success", "failed", "timeout",
                  "cancelled", "refused", "expired"):
        _check(_get(after, "mailcti_jobs", state=state) == int(stats["Jobs-" + state]),
               "mailcti_jobs{state=%s} %r, stats says %r" % (state, _get(after, "mailcti_jobs", state=state),
                                                               stats["Jobs-" + state]))
    for state in ("queued", "waiting-user", "running", "retry-wait"):
        _check(_get(after, "mailcti_queue_jobs", state=state) == int(status["Jobs-" + state]),
               "mailcti_queue_jobs{state=%s} differs from status: %r" % (state, status))
    outcomes = {k[len("Outcome-"):]: int(v) for k, v in stats.items() if k.startswith("Outcome-")}
    got = {dict(k[1])["outcome"]: v for k, v in after.items() if k[0] == "mailcti_attempts"}
    _check(got == outcomes, "mailcti_attempts %r, stats says %r" % (got, outcomes))
    _check(int(stats["Outcome-answered"]) == int(stats["Answered"]), "stats: %r" % stats)
    count = _get(after, "mailcti_answer_seconds_count")
    _check(count - (_get(before, "mailcti_answer_seconds_count") or 0) == 1,
           "one answered call, answer histogram count %r -> %r" % (_get(before, "mailcti_answer_seconds_count"), count))
    _check(_get(after, "mailcti_answer_seconds_bucket", le="+Inf") == count, "the +Inf bucket is not the count")
    _check(0 < _get(after, "mailcti_answer_seconds_sum") < 120 * count, "answer sum %r" % _get(after, "mailcti_answer_seconds_sum"))
    _check(_get(after, "mailcti_pbx_link_up") == 1 and status["Link"] == "up", "link: %r" % status)
    _check(_get(after, "mailcti_pbx_link_reconnects_total") == int(status["Link-Reconnects"]) ==
           (_get(before, "mailcti_pbx_link_reconnects_total") or 0) + 1,
           "reconnects %r -> %r, status %r" % (_get(before, "mailcti_pbx_link_reconnects_total"),
                                                _get(after, "mailcti_pbx_link_reconnects_total"), status.get("Link-Reconnects")))
    _check(_get(after, "mailcti_notifications_unconfirmed") == int(status.get("Notify-Unconfirmed", 0)),
           "unconfirmed notifications differ from status: %r" % status)
    _check((_get(after, "mailcti_refusals_total", reason="unauthorized") or 0) -
           (_get(before, "mailcti_refusals_total", reason="unauthorized") or 0) == 1,
           "refusals{reason=unauthorized} did not grow by one: %r" % {k: v for k, v in after.items() if "refusal" in k[0]})

    out_dir = tempfile.mkdtemp(prefix="mailcti-metrics.")
    try:
        path = os.path.join(out_dir, "mailcti.prom")
        res, _ = _metrics(ctx, "--output", path)
        _check(res.returncode == 0 and res.stdout == "", "metrics --output: %d %r %r" % (res.returncode, res.stdout, res.stderr))
        with open(path, encoding="utf-8") as f:
            written = _parse(f.read())
        _check(_get(written, "mailcti_jobs", state="success") == _get(after, "mailcti_jobs", state="success"),
               "the --output file differs: %r" % written)
        _check(os.listdir(out_dir) == ["mailcti.prom"], "files left beside the output: %r" % os.listdir(out_dir))
        _check(os.stat(path).st_mode & 0o777 == 0o644, "mode %o, the collector must read it" % os.stat(path).st_mode)
        conf = os.path.join(out_dir, "down.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write("[ctid]\nsocket=%s\n" % os.path.join(out_dir, "no-ctid.sock"))
        res, down = _metrics(ctx, config=conf)
        _check(res.returncode == 1 and _get(down, "mailcti_ctid_up") == 0 and len(down) == 1,
               "ctid unreachable: %d %r" % (res.returncode, res.stdout))
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)


def test_jobs_purge(ctx):
    """ctictl jobs purge --older-than: a finished, notified job younger than the age stays, older goes with its spool file.
    (Runs last: it removes every job of the stack that ended more than a second before.)"""
    res = _ctictl(ctx, "jobs", "purge", "--older-than", "soon")
    _check(res.returncode == 2 and "not a duration" in res.stderr, "bad --older-than: %d %r" % (res.returncode, res.stderr))
    queue_id = _submit(ctx, [("Source", "2002"), ("Destination", "0399999999")])
    job = _job_by_queue_id(ctx, queue_id)
    _wait_settled(ctx, job)
    spool = os.path.join(ctx.stack["SPOOL_DIR"], job + ".eml")
    res = _ctictl(ctx, "jobs", "purge", "--older-than", "1h")
    _check(res.returncode == 0 and "finished jobs removed" in res.stdout, "purge --older-than 1h: %d %r %r"
           % (res.returncode, res.stdout, res.stderr))
    _check(_ctictl(ctx, "jobs", "show", job).returncode == 0, "job %s (ended seconds ago) purged by --older-than 1h" % job)
    time.sleep(2.1)
    res = _ctictl(ctx, "jobs", "purge", "--older-than", "1s")
    _check(res.returncode == 0, "purge --older-than 1s: %d %r" % (res.returncode, res.stderr))
    removed = int(res.stdout.split()[0])
    _check(removed >= 1, "purge --older-than 1s removed %d jobs: %r" % (removed, res.stdout))
    gone = _ctictl(ctx, "jobs", "show", job)
    _check(gone.returncode == 1 and "no job %s" % job in gone.stderr,
           "job %s still shown after the purge: %d %r %r" % (job, gone.returncode, gone.stdout, gone.stderr))
    _check(not os.path.exists(spool), "spool file %s left after the purge" % spool)
    listed = [j["Job-Id"] for j in ctx.stack.ctictl_json("jobs", "list", "--limit", "1000")]
    _check(job not in listed, "purged job %s still listed" % job)


TESTS = [test_syslog_job_lines, test_metrics_match_stats, test_jobs_purge]
