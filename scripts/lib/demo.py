#!/usr/bin/env python3
"""demo - send real request mails to a running stack and show what happened.

Usage: scripts/lib/demo.py STACK_DIR   (scripts/demo starts and stops the stack)
As alice with SMTP AUTH, one after the other:
  1. a call 2001 -> 0312345678 (answers), a call to 0399999999 (busy) and a
     malformed request (refused at SMTP time);
  2. a Trigger: user call: delivered to call's mailbox, dialled only when the
     mailbox owner fetches it over IMAP (Python imaplib against Dovecot);
  3. a scenario: the callee hears a <Say> text and a <Play> of an attached WAV;
then prints pbx-sim's view of the calls, the notifications that came back, and
`ctictl jobs list` and `ctictl status`.  Exit status 0 only when every step
did what it should.
"""
import imaplib
import io
import math
import os
import struct
import subprocess
import sys
import time
import wave
from email.mime.application import MIMEApplication
from email.mime.audio import MIMEAudio

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "t", "integration"))

import libmail  # noqa: E402
import libstack  # noqa: E402
from libpbx import PbxLog, control  # noqa: E402

ANSWERS = "0312345678"  # answers after 2 simulated seconds (the stack's pbx.conf)
REQUESTS = [
    ("a call 2001 -> 0312345678 (the far end answers after 2 s)",
     [("Action", "connect"), ("Source", "2001"), ("Destination", ANSWERS), ("Request-Id", "demo-1")]),
    ("a call 2001 -> 0399999999 (busy)",
     [("Source", "2001"), ("Destination", "0399999999"), ("Request-Id", "demo-2")]),
    ("a malformed request (Monitor-Time: abc)",
     [("Source", "2001"), ("Destination", ANSWERS), ("Monitor-Time", "abc")]),
]
SCENARIO = ('<?xml version="1.0"?>\n<Response>\n'
            '  <Say language="en">Hello, this is mailcti. Your order has shipped.</Say>\n'
            '  <Play>cid:chime@client.example</Play>\n</Response>\n')


class Demo:
    def __init__(self, stack_dir):
        self.stack = libstack.Stack(stack_dir)
        self.pbx = PbxLog(self.stack["PBX_LOG"])
        self.t0 = time.time()
        self.waiting = []  # (label, Message-ID) of accepted requests
        self.ok = True

    def fail(self, text):
        print("   !! " + text)
        self.ok = False

    def send(self, label, msg, fields):
        print("   " + libmail.request_text(fields).replace("\r\n", "\n   ").rstrip())
        res = libmail.send(self.stack, "alice", self.stack["CTI_ADDRESS"], libmail.as_bytes(msg))
        print("   SMTP answer: %d %s" % (res.code, res.text or "accepted"))
        if res.code == 250:
            self.waiting.append((label, msg["Message-ID"]))
        return res

    def notification(self, msgid, timeout=30):
        hit = libmail.find_mail(self.stack.maildir("alice"), libmail.in_reply_to(msgid), timeout)
        return hit[1] if hit else None

    def hang_up(self):
        """The far end puts the phone down, so that the next call finds it free."""
        control(self.stack["PBX_CONTROL"], "hangup " + ANSWERS)

    def plain_requests(self):
        for n, (what, fields) in enumerate(REQUESTS, 1):
            print("\n== 1.%d alice mails %s: %s" % (n, self.stack["CTI_ADDRESS"], what))
            msg = libmail.request_mail(self.stack, "alice", fields, subject="demo 1.%d: %s" % (n, what))
            res = self.send("1.%d" % n, msg, fields)
            if (res.code == 250) != (n < 3):
                self.fail("unexpected SMTP answer")
        for label, msgid in self.waiting:
            if self.notification(msgid) is None:
                self.fail("no notification for request %s" % label)
        self.hang_up()

    def trigger_user(self):
        print("\n== 2. a Trigger: user call 2003 -> %s: dialled when the mailbox owner reads it" % ANSWERS)
        fields = [("Source", "2003"), ("Destination", ANSWERS), ("Trigger", "user"), ("Request-Id", "demo-user")]
        msg = libmail.request_mail(self.stack, "alice", fields, subject="demo 2: call me when you read this")
        t0 = time.time()
        if self.send("2", msg, fields).code != 250:
            return self.fail("the Trigger: user request was refused")
        kept = libmail.find_mail(self.stack.maildir("call"), libmail.header_is("Message-ID", msg["Message-ID"]), 20)
        if kept is None:
            return self.fail("the request was not delivered to call's mailbox")
        job = (kept[1].get("X-CTI-Job") or "").strip()
        print("   delivered to call's mailbox with X-CTI-Job: %s; waiting 1 s: %s" % (
            job, "no call yet" if not self._wait_call("2003", t0, 1.0) else "CALLED TOO EARLY"))
        imap = imaplib.IMAP4("127.0.0.1", int(self.stack["IMAP_PORT"]))
        try:
            imap.login("call", self.stack.password("call"))
            imap.select("INBOX")
            _typ, nums = imap.search(None, "HEADER", "X-CTI-Job", job)
            num = nums[0].split()[-1]
            print("   IMAP (imaplib, Dovecot port %s): LOGIN call, SEARCH finds message %s, FETCH BODY.PEEK[]"
                  % (self.stack["IMAP_PORT"], num.decode()))
            imap.fetch(num, "(BODY.PEEK[])")
            fetched = time.time()
        finally:
            imap.logout()
        calls = self._wait_call("2003", t0, 20)
        if not calls:
            return self.fail("the IMAP fetch placed no call")
        print("   pbx-sim: MakeCall %s -> %s, %.2f s after the fetch" % (
            calls[0]["args"].get("callingDevice"), calls[0]["args"].get("calledDirectoryNumber"),
            calls[0]["wall"] - fetched))
        if self.notification(msg["Message-ID"]) is None:
            self.fail("no notification for the Trigger: user call")
        self.hang_up()

    def _wait_call(self, source, since, timeout):
        deadline = time.monotonic() + timeout
        while True:
            calls = self.pbx.rx("MakeCall", since, callingDevice=source)
            if calls or time.monotonic() >= deadline:
                return calls
            time.sleep(0.2)

    def scenario(self):
        print("\n== 3. a scenario for 2004 -> %s: <Say> a text, then <Play> the attached chime.wav" % ANSWERS)
        fields = [("Source", "2004"), ("Destination", ANSWERS), ("Scenario", "cid:scen@client.example"),
                  ("Request-Id", "demo-scenario")]
        msg = libmail.request_mail(self.stack, "alice", fields, subject="demo 3: a scenario")
        spart = MIMEApplication(SCENARIO.encode(), "x-cti-scenario+xml")
        spart["Content-ID"] = "<scen@client.example>"
        vpart = MIMEAudio(_chime(), "wav")
        vpart.add_header("Content-Disposition", "attachment", filename="chime.wav")
        vpart["Content-ID"] = "<chime@client.example>"
        msg.attach(spart)
        msg.attach(vpart)
        print("   " + SCENARIO.replace("\n", "\n   ").rstrip())
        t0 = time.time()
        if self.send("3", msg, fields).code != 250:
            return self.fail("the scenario request was refused")
        deadline = time.monotonic() + 60
        plays = []
        while len(plays) < 2 and time.monotonic() < deadline:
            plays = [e for e in self.pbx.entries() if e.get("type") == "media" and e.get("event") == "play"
                     and e.get("wall", 0) >= t0]
            time.sleep(0.3)
        print("   pbx-sim's voice unit (its log lines):")
        for step, p in zip(("the <Say> speech", "the <Play> of chime.wav"), plays):
            print("     %8.2f  play %s (%s): %s Hz, %s channel(s), %.2f s, %s..." % (
                p.get("ts", 0), os.path.basename(p.get("file", "")), step, p.get("rate"), p.get("channels"),
                float(p.get("duration", 0)), p.get("checksum", "")[:19]))
        if len(plays) < 2:
            self.fail("pbx-sim played %d file(s), want 2 (the speech and the chime)" % len(plays))
        if self.notification(msg["Message-ID"], 60) is None:
            self.fail("no notification for the scenario")
        self.hang_up()

    def show_pbx(self):
        print("\n== what pbx-sim saw (simulated seconds; <- request from ctid, then each party's connection state)")
        for line in self.pbx.call_lines(self.t0, brief=True):
            print("   " + line)

    def show_notifications(self):
        print("\n== notifications in alice's Maildir")
        for label, msgid in self.waiting:
            msg = self.notification(msgid, 0)
            if msg is None:
                print("   %s. none arrived for %s" % (label, msgid))
                continue
            fields, attempts = libmail.result_fields(msg)
            print("   %s. Subject: %s" % (label, msg.get("Subject")))
            for key in ("request-id", "job-id", "status", "reason", "attempts", "answered-at"):
                if fields and key in fields:
                    print("      %s: %s" % (key.title(), fields[key]))
            for a in attempts or []:
                print("      Attempt: %s" % a)

    def ctictl(self, *args):
        cmd = [os.path.join(self.stack["BUILD_DIR"], "cli", "ctictl"), "-c", self.stack["CONFIG"]] + list(args)
        print("\n== ctictl %s" % " ".join(args))
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        for line in (res.stdout + res.stderr).rstrip().splitlines():
            print("   " + line)
        if res.returncode != 0:
            self.fail("ctictl %s exited %d" % (" ".join(args), res.returncode))


def _chime(seconds=1.0, rate=8000):
    """A short two-tone chime as a 8 kHz mono 16-bit WAV."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = bytearray()
        for i in range(int(seconds * rate)):
            freq = 880.0 if i < rate * seconds / 2 else 660.0
            frames += struct.pack("<h", int(9000 * math.sin(2 * math.pi * freq * i / rate)))
        w.writeframes(bytes(frames))
    return buf.getvalue()


def main():
    demo = Demo(sys.argv[1])
    demo.plain_requests()
    demo.trigger_user()
    demo.scenario()
    demo.show_pbx()
    demo.show_notifications()
    demo.ctictl("jobs", "list")
    demo.ctictl("status")
    print("\n== demo %s" % ("done" if demo.ok else "FAILED (see !! above)"))
    return 0 if demo.ok else 1


if __name__ == "__main__":
    sys.exit(main())
