"""postfix - a private, loopback-only Postfix instance that relays to smtp-sink.

Owns its directory (BASE/pf) and the master process it starts; stop() ends
it.  The instance relays every domain in RELAY_DOMAINS to an smtp-sink on
SINK_PORT, so that "bare Postfix" and "Postfix + milter" cells differ in
nothing but smtpd_milters.  Method and pitfalls: shared notes on Postfix
(chroot n everywhere, maillog_file_prefixes, back-dated config files).
What can fail: postfix start/stop (HarnessError with the log tail).
"""

import os
import pwd
import subprocess
import time

from . import util

MASTER_CF = """\
{listen} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
local     unix  - n n - - local
virtual   unix  - n n - - virtual
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""

QUEUE_DIRS = ("incoming", "active", "deferred", "hold", "maildrop")


class Postfix:
    """Postfix - one private instance; configure(), start(), drain(), stop()."""

    def __init__(self, base, port, sink_port, relay_domains, procs, extra_routes=None):
        self.base = base
        self.port = port
        self.sink_port = sink_port
        self.relay_domains = list(relay_domains)
        self.routes = {d: sink_port for d in self.relay_domains}
        self.routes.update(extra_routes or {})
        self.procs = procs
        self.etc = os.path.join(base, "etc")
        self.queue = os.path.join(base, "queue")
        self.data = os.path.join(base, "data")
        self.logdir = os.path.join(base, "log")
        self.sink = None
        self.running = False
        self.pid = None
        util.register_stop(self)
        pw = pwd.getpwnam("postfix")
        for d, uid, mode in ((base, 0, 0o755), (self.etc, 0, 0o755), (self.queue, 0, 0o755),
                             (self.data, pw.pw_uid, 0o700), (self.logdir, 0, 0o755)):
            os.makedirs(d, exist_ok=True)
            os.chown(d, uid, pw.pw_gid if uid else 0)
            os.chmod(d, mode)

    def configure(self, milters="", extra=None):
        """configure - write main.cf/master.cf with smtpd_milters=MILTERS."""
        transports = ", ".join("%s=smtp:[127.0.0.1]:%d" % (d, p) for d, p in sorted(self.routes.items()))
        main = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue,
            "data_directory": self.data,
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "maillog_file": os.path.join(self.logdir, "maillog"),
            "maillog_file_prefixes": "/var, /dev/stdout, " + self.logdir,
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "myhostname": "mx.bench.example",
            "mydomain": "bench.example",
            "mydestination": "",
            "smtp_dns_support_level": "disabled",
            "default_transport": "error:private benchmark instance delivers nowhere else",
            "relay_domains": ", ".join(sorted(self.routes)),
            "transport_maps": "inline:{ %s }" % transports,
            "local_transport": "error:no local delivery",
            "local_recipient_maps": "",
            "message_size_limit": "52428800",
            "smtpd_milters": milters,
            "non_smtpd_milters": "",
            "milter_protocol": "6",
            "milter_default_action": "tempfail",
            "milter_connect_macros": "j {daemon_name} {daemon_addr} v _ {client_addr}",
            "milter_mail_macros": "i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}",
            "biff": "no",
        }
        main.update(extra or {})
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            for k, v in main.items():
                f.write("%s = %s\n" % (k, v))
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(listen="127.0.0.1:%d" % self.port))
        # Postfix waits until a config file is ~2 s old; back-date ours.
        old = time.time() - 10
        for name in ("main.cf", "master.cf"):
            os.utime(os.path.join(self.etc, name), (old, old))

    def start_sink(self):
        """start_sink - smtp-sink on SINK_PORT (it stays up across Postfix restarts)."""
        if self.sink is not None and self.sink.poll() is None:
            return
        self.sink = self.procs.start("smtp-sink", ["smtp-sink", "-u", "postfix",
                                                   "127.0.0.1:%d" % self.sink_port, "1024"])
        util.wait_for(lambda: util.tcp_connectable(self.sink_port), 10, "smtp-sink", self.sink)

    def _postfix(self, verb, timeout=30):
        r = subprocess.run(["postfix", "-c", self.etc, verb], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=timeout)
        if r.returncode != 0:
            tail = util.log_tail(os.path.join(self.logdir, "maillog"))
            raise util.HarnessError("postfix %s: exit %d: %s %s" % (verb, r.returncode, r.stdout.strip(), tail))

    def master_pid(self):
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                pid = int(f.read().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def start(self):
        """start - start the master and wait for the 220 banner."""
        self.start_sink()
        self._postfix("start")
        self.running = True
        self.pid = self.master_pid()
        util.wait_for(lambda: util.tcp_connectable(self.port), 15, "postfix smtpd")

    def stop(self):
        """stop - stop the master and wait until it has exited.  "abort" is "stop"
        without postfix-script's one-second polling; callers drain the queue first."""
        if not self.running:
            return
        # the pid noted at start: the pid file may be gone by now
        pid = self.pid or self.master_pid()
        try:
            self._postfix("abort")
        except (util.HarnessError, OSError, subprocess.TimeoutExpired):
            if pid:
                try:
                    os.kill(pid, 15)
                except ProcessLookupError:
                    pass
        end = time.monotonic() + 15
        while pid and time.monotonic() < end:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            if pid:
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
        self.running = False
        self.pid = None

    def queued(self):
        """queued - number of queue files in incoming/active/deferred/hold/maildrop."""
        n = 0
        for d in QUEUE_DIRS:
            for _root, _dirs, files in os.walk(os.path.join(self.queue, d)):
                n += len(files)
        return n

    def drain(self, timeout=120, step=0.01):
        """drain - wait until the queue is empty; returns monotonic time when it was seen empty."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.queued() == 0:
                return time.monotonic()
            time.sleep(step)
        raise util.NotMeasurable("postfix queue not empty after %d s (%d files; deferred: %s)" %
                                 (timeout, self.queued(), self.deferred_reason()))

    def deferred_reason(self):
        return util.log_tail(os.path.join(self.logdir, "maillog"), 2)

    def maillog_count(self, needle):
        try:
            with open(os.path.join(self.logdir, "maillog"), errors="replace") as f:
                return sum(1 for line in f if needle in line)
        except OSError:
            return 0

    def cleanup(self):
        self.stop()
        if self.sink is not None:
            self.procs.stop(self.sink)
            self.sink = None


def smtp_source(port, n, sessions, sender, rcpt, size=None, msgfile=None, timeout=300):
    """smtp_source - send N messages in SESSIONS parallel sessions; wall seconds it took."""
    argv = ["smtp-source", "-s", str(sessions), "-m", str(n), "-f", sender, "-t", rcpt,
            "-M", "client.bench.example"]
    if msgfile:
        argv += ["-F", msgfile]
    else:
        argv += ["-l", str(size)]
    argv.append("127.0.0.1:%d" % port)
    t0 = time.monotonic()
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    t1 = time.monotonic()
    if r.returncode != 0:
        raise util.NotMeasurable("smtp-source: exit %d: %s" % (r.returncode, r.stdout.strip()[-300:]))
    return t0, t1, r.stdout
