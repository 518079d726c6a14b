"""libstack - the integration tests' view of a running stack (scripts/stack).

Stack: the variables of DIR/stack.env, helpers to stop and start single
services, and the Postfix queue.  Nothing here fakes a server: every helper
talks to the real Postfix, Dovecot, pbx-sim and ctid of the stack.
"""
import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
STACK_SCRIPT = os.path.join(TOP, "scripts", "stack")
# what AddressSanitizer, LeakSanitizer and UBSan write when they find something
# (scripts/check looks for the same lines in the main stack's logs)
SANITIZER_REPORT = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|"
                              r"SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer)")


def read_env(path):
    """The shell assignments of stack.env as a dict (values are single-quoted or bare)."""
    env = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            name, value = line.split("=", 1)
            parts = shlex.split(value)
            env[name] = parts[0] if parts else ""
    return env


class Stack:
    """A started stack under DIR."""

    def __init__(self, stack_dir):
        self.dir = os.path.abspath(stack_dir)
        self.env = read_env(os.path.join(self.dir, "stack.env"))

    def __getitem__(self, name):
        return self.env[name]

    @property
    def smtp_port(self):
        return int(self.env["SMTP_PORT"])

    @property
    def domain(self):
        return self.env["MAIL_DOMAIN"]

    def address(self, user):
        return "%s@%s" % (user, self.domain)

    def password(self, user):
        return self.env["PASSWORD_" + user]

    def maildir(self, user):
        return os.path.join(self.env["MAILDIR_ROOT"], user)

    def log_path(self, name):
        return os.path.join(self.env["LOG_DIR"], name)

    def jobs_db(self):
        """A read-only connection to ctid's job store (close it; contextlib.closing)."""
        return sqlite3.connect("file:%s?mode=ro" % self.env["JOBS_DB"], uri=True, timeout=10)

    def ctictl_json(self, *args):
        """ctictl ARGS --json against this stack, parsed; AssertionError when it fails.
        `ctictl status` exits 3 when the PBX link is down and still prints the status."""
        ctictl = os.path.join(self.env["BUILD_DIR"], "cli", "ctictl")
        res = subprocess.run([ctictl, "-c", self.env["CONFIG"]] + list(args) + ["--json"],
                             capture_output=True, text=True, timeout=60)
        ok = (0, 3) if args and args[0] == "status" else (0,)
        if res.returncode not in ok:
            raise AssertionError("ctictl %s failed (%d): %s" % (" ".join(args), res.returncode, res.stderr))
        return json.loads(res.stdout)

    def service(self, action, name):
        """Stop or start one of ctid, milter, pbx-sim through scripts/stack."""
        subprocess.run([STACK_SCRIPT, "svc-" + action, self.dir, name], check=True)

    def queue_files(self):
        """Files in the private Postfix's message queues (incoming, active, deferred, hold, maildrop)."""
        found = []
        root = self.env["POSTFIX_QUEUE"]
        for sub in ("maildrop", "incoming", "active", "deferred", "hold"):
            for base, _dirs, files in os.walk(os.path.join(root, sub)):
                found.extend(os.path.join(base, f) for f in files)
        return found

    def spool_files(self):
        """Files in ctid's spool dir (accepted messages)."""
        found = []
        for base, _dirs, files in os.walk(self.env["SPOOL_DIR"]):
            found.extend(os.path.join(base, f) for f in files)
        return found

    def wait_queue_empty(self, timeout=10):
        deadline = time.monotonic() + timeout
        while self.queue_files() and time.monotonic() < deadline:
            time.sleep(0.1)
        return not self.queue_files()


def sanitizer_reports(stack_dir):
    """The logs of the (stopped) stack in STACK_DIR that hold a sanitizer report."""
    found = []
    log_dir = os.path.join(stack_dir, "log")
    for name in sorted(os.listdir(log_dir)) if os.path.isdir(log_dir) else []:
        path = os.path.join(log_dir, name)
        with open(path, "rb") as f:
            if SANITIZER_REPORT.search(f.read().decode("utf-8", "replace")):
                found.append(path)
    return found


def keep_sanitizer_reports(stack_dir, into_log_dir, tag):
    """Copy the logs of a private stack that hold a sanitizer report into INTO_LOG_DIR
    as TAG-NAME, before the private stack's directory is removed, so that the run's
    sanitizer scan of the main stack sees and prints them.  Returns the copies."""
    copies = []
    if not os.path.isdir(into_log_dir):
        return copies
    for path in sanitizer_reports(stack_dir):
        dest = os.path.join(into_log_dir, "%s-%s" % (tag, os.path.basename(path)))
        shutil.copyfile(path, dest)
        copies.append(dest)
    return copies
