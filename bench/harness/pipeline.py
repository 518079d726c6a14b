"""pipeline - the whole request path to drive end to end: SMTP -> Postfix ->
cti-milter -> ctid -> pbx-sim.

Preferred: the project's stack (scripts/stack start DIR), the path users get.
Fallback when scripts/stack is absent: a private Postfix relaying to
smtp-sink plus a private pbx-sim, ctid and cti-milter (mailcti.Instance).
Owns whatever it started; stop() ends it.  What can fail: a missing or
non-starting component, reported as NotMeasurable.
"""

import json
import os
import subprocess

from . import util
from .mailcti import SOURCES, Instance, Stack, find_program
from .postfix import Postfix


class Pipeline:
    """Pipeline - smtp_port, sender, rcpt, auth, pbx_log, ctid_socket, pids of the milter and ctid."""

    def __init__(self, ctx, name, time_scale=10.0, prefer_stack=True):
        self.ctx = ctx
        self.base = os.path.join(ctx.workdir, name)
        os.makedirs(self.base, exist_ok=True)
        self.procs = util.Procs(ctx.workdir)
        self.stack = Stack(ctx.src_dir, ctx.build_dir, self.base)
        self.pf = self.inst = None
        self.auth = None
        self.milter_pid = self.ctid_pid = None
        self.kind = None
        self.time_scale = time_scale
        self.prefer_stack = prefer_stack
        self.note = None
        self.sources = SOURCES

    def start(self):
        """start - the stack if it is there and starts; else the private set-up (self.note says why)."""
        self.note = None
        if self.prefer_stack and self.stack.available():
            try:
                self._start_stack()
                return self
            except util.NotMeasurable as e:
                self.stack.stop()
                self.note = "scripts/stack unusable (%s); used the private set-up instead" % e
        self._start_private()
        return self

    def _start_stack(self):
        env = self.stack.start(self.time_scale)
        self.kind = "scripts/stack"
        users = env.get("TEST_USERS", "alice").split()
        user = users[0] if users else "alice"
        domain = env.get("MAIL_DOMAIN", "example.test")
        self.smtp_port = int(env["SMTP_PORT"])
        self.sender = "%s@%s" % (user, domain)
        self.rcpt = "call@%s" % domain
        pw = env.get("PASSWORD_" + user)
        self.auth = (self.sender, pw) if pw else None
        self.pbx_log = env["PBX_LOG"]
        self.ctid_socket = env.get("CTID_SOCKET")
        self.sources = self._granted(env.get("CONFIG", ""), user) or SOURCES

    def _granted(self, config, user):
        """_granted - the extensions the stack's policy DB grants USER (ctictl sender list --json)."""
        try:
            ctl = find_program(self.ctx.build_dir, self.ctx.src_dir, "ctictl")
            r = subprocess.run([ctl, "-c", config, "sender", "list", "--json"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, timeout=30)
            for s in json.loads(r.stdout or "[]"):
                if s.get("identity") in (user, self.sender) and s.get("extensions"):
                    return list(s["extensions"])
        except (util.NotMeasurable, ValueError, OSError, subprocess.TimeoutExpired):
            pass
        return None

    def _start_private(self):
        self.kind = "private Postfix + pbx-sim + ctid + cti-milter (no scripts/stack)"
        self.inst = Instance(os.path.join(self.base, "mailcti"), self.ctx.build_dir, self.ctx.src_dir,
                             self.procs, self.time_scale)
        self.inst.start_pbx()
        self.inst.start_ctid()
        self.inst.start_milter()
        self.pf = Postfix(os.path.join(self.base, "pf"), util.free_port(), util.free_port(), ["bench.example"],
                          self.procs)
        self.pf.configure(self.inst.milter_spec())
        self.pf.start()
        self.smtp_port = self.pf.port
        self.sender = "alice@bench.example"
        self.rcpt = "call@bench.example"
        self.sources = SOURCES
        self.pbx_log = self.inst.pbx_log
        self.ctid_socket = self.inst.ctid_socket
        self.milter_pid = self.inst.milter.pid
        self.ctid_pid = self.inst.ctid.pid

    def stop(self):
        if self.pf is not None:
            self.pf.cleanup()
        if self.inst is not None:
            self.inst.stop()
        self.stack.stop()
        self.procs.stop_all()
