"""pipeline - the whole request path to drive end to end: SMTP -> Postfix ->
cti-milter -> ctid -> pbx-sim.

Preferred: the project's stack (scripts/stack start DIR), the path users get.
Fallback when scripts/stack is absent: a private Postfix relaying to
smtp-sink plus a private pbx-sim, ctid and cti-milter (mailcti.Instance).
Owns whatever it started; stop() ends it.  What can fail: a missing or
non-starting component, reported as NotMeasurable.
"""

import os

from . import util
from .mailcti import Instance, Stack
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

    def start(self):
        if self.prefer_stack and self.stack.available():
            self._start_stack()
        else:
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
