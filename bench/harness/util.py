"""util - processes, statistics and tables for the benchmark harness.

Owns every child process it starts (Procs): each is stopped at the end of the
benchmark that started it, and again at exit, so no process is left behind.
What can fail: a program may be missing or exit early; callers turn that into
a "not measurable" row through the NotMeasurable exception.
"""

import atexit
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time


class NotMeasurable(Exception):
    """A benchmark (or a cell) cannot run: a component is missing or not capable."""


class HarnessError(Exception):
    """The harness itself is broken (not the thing being measured)."""


# ---------------------------------------------------------------- statistics

def median(values):
    return statistics.median(values) if values else None


def percentile(values, p):
    """percentile - nearest-rank percentile P (0-100) of VALUES."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def paired_ratio(cell, base):
    """paired_ratio - median over repetitions of CELL[rep] / BASE[rep] (dicts rep -> value)."""
    ratios = [cell[r] / base[r] for r in cell if r in base and base[r]]
    return median(ratios)


def fmt(value, digits=1):
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if abs(value) >= 100:
        return "%.0f" % value
    return "%.*f" % (digits, value)


def fmt_range(values, digits=1):
    """fmt_range - "median (min-max)" of VALUES."""
    if not values:
        return "-"
    if len(values) == 1:
        return fmt(values[0], digits)
    return "%s (%s-%s)" % (fmt(median(values), digits), fmt(min(values), digits), fmt(max(values), digits))


class Table:
    """Table - a titled text table printed when the benchmark ends."""

    def __init__(self, title, columns):
        self.title = title
        self.columns = columns
        self.rows = []
        self.notes = []

    def add(self, *cells):
        self.rows.append([fmt(c) if not isinstance(c, str) else c for c in cells])

    def add_nm(self, lead, reason):
        """add_nm - a row of LEAD cells then "not measurable: REASON" running past the columns."""
        self.rows.append(("nm", list(lead), "not measurable: " + reason))

    def note(self, text):
        self.notes.append(text)

    def render(self):
        widths = [len(c) for c in self.columns]
        for row in self.rows:
            cells = row[1] if isinstance(row, tuple) else row
            for i, cell in enumerate(cells[:len(widths)]):
                widths[i] = max(widths[i], len(cell))
        lines = ["", "== " + self.title, ""]
        lines.append("  ".join(c.ljust(w) for c, w in zip(self.columns, widths)).rstrip())
        lines.append("  ".join("-" * w for w in widths))
        for row in self.rows:
            if isinstance(row, tuple):
                lead = "  ".join(c.ljust(w) for c, w in zip(row[1], widths))
                lines.append((lead + "  " if lead else "") + row[2])
                continue
            cells = row + [""] * (len(widths) - len(row))
            lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip())
        for n in self.notes:
            lines.append("  " + n)
        return "\n".join(lines)


def verdict(ok, target_text):
    """verdict - the target column: "ok (>= 0.90)" or "target missed (>= 0.90)"."""
    if ok is None:
        return "not measurable"
    return ("ok (%s)" if ok else "target missed (%s)") % target_text


# ---------------------------------------------------------------- processes

_all_procs = []


class Procs:
    """Procs - the child processes of one benchmark; stop_all() ends them."""

    def __init__(self, logdir):
        self.logdir = logdir
        self.procs = []
        _all_procs.append(self)

    def start(self, name, argv, env=None, cwd=None, user_preexec=None):
        """start - run ARGV in its own process group, stderr/stdout to LOGDIR/NAME.log."""
        path = os.path.join(self.logdir, name + ".log")
        out = open(path, "ab")
        try:
            p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 env=env, cwd=cwd, start_new_session=True, preexec_fn=user_preexec)
        except OSError as e:
            out.close()
            raise NotMeasurable("cannot start %s: %s" % (argv[0], e))
        out.close()
        p.mcname = name
        p.mclog = path
        self.procs.append(p)
        return p

    def stop(self, p, grace=6.0):
        """stop - SIGTERM the process, SIGKILL it after GRACE seconds."""
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                try:
                    os.kill(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        for p in list(reversed(self.procs)):
            self.stop(p)


_stoppables = []


def register_stop(obj):
    """register_stop - OBJ.stop() is called by stop_everything() (e.g. a Postfix instance)."""
    _stoppables.append(obj)


def stop_everything():
    """stop_everything - stop every instance and child process this run started."""
    for obj in reversed(_stoppables):
        try:
            obj.stop()
        except Exception:  # keep stopping the others
            pass
    for procs in _all_procs:
        procs.stop_all()


atexit.register(stop_everything)


def log_tail(path, lines=5):
    """log_tail - the last LINES lines of a log file, one string."""
    try:
        with open(path, "rb") as f:
            data = f.read()[-4000:].decode("utf-8", "replace")
    except OSError:
        return ""
    return " | ".join(l.strip() for l in data.strip().splitlines()[-lines:])


def wait_for(predicate, timeout, what, proc=None, step=0.02):
    """wait_for - poll PREDICATE until true; NotMeasurable naming WHAT on timeout or early exit of PROC."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            raise NotMeasurable("%s: %s exited with %s (%s)" % (what, proc.mcname, proc.returncode,
                                                                 log_tail(proc.mclog)))
        time.sleep(step)
    raise NotMeasurable("%s: timed out after %.0f s" % (what, timeout))


def unix_connectable(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def tcp_connectable(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def free_port():
    """free_port - a loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid, key):
    """proc_status - a kB value such as VmRSS or VmHWM from /proc/PID/status, in KiB."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def proc_cpu_seconds(pid):
    """proc_cpu_seconds - user+system CPU seconds of PID (and its reaped children not counted)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def make_workdir(keep=False, parent=None):
    """make_workdir - a private directory for one run (under PARENT or $TMPDIR), traversable by the postfix user."""
    d = tempfile.mkdtemp(prefix="mailcti-bench.", dir=parent)
    os.chmod(d, 0o755)
    if not keep:
        atexit.register(shutil.rmtree, d, True)
    return d


def run(argv, timeout=60, check=True, **kw):
    """run - run a short command, return CompletedProcess (text); HarnessError if CHECK and it fails."""
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL, **kw)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise HarnessError("%s: %s" % (" ".join(argv), e))
    if check and r.returncode != 0:
        raise HarnessError("%s: exit %d: %s" % (" ".join(argv), r.returncode, r.stdout.strip()[-500:]))
    return r
