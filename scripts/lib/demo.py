#!/usr/bin/env python3
"""demo - send a few real request mails to a running stack and show what happened.

Usage: scripts/lib/demo.py STACK_DIR   (scripts/demo starts and stops the stack)
Sends, as alice with SMTP AUTH: a call 2001 -> 0312345678 (answers), a call to
0399999999 (busy) and a malformed request; then prints pbx-sim's view of the
calls and the key parts of the notifications that came back.
"""
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "t", "integration"))

import libmail  # noqa: E402
import libstack  # noqa: E402
from libpbx import PbxLog  # noqa: E402

REQUESTS = [
    ("a call 2001 -> 0312345678 (the far end answers after 2 s)",
     [("Action", "connect"), ("Source", "2001"), ("Destination", "0312345678"), ("Request-Id", "demo-1")]),
    ("a call 2001 -> 0399999999 (busy)",
     [("Source", "2001"), ("Destination", "0399999999"), ("Request-Id", "demo-2")]),
    ("a malformed request (Monitor-Time: abc)",
     [("Source", "2001"), ("Destination", "0312345678"), ("Monitor-Time", "abc")]),
]


def main():
    stack = libstack.Stack(sys.argv[1])
    pbx = PbxLog(stack["PBX_LOG"])
    t0 = time.time()
    waiting = []
    for n, (what, fields) in enumerate(REQUESTS, 1):
        msg = libmail.request_mail(stack, "alice", fields, subject="demo %d: %s" % (n, what))
        print("\n== %d. alice mails %s: %s" % (n, stack["CTI_ADDRESS"], what))
        print("   " + libmail.request_text(fields).replace("\r\n", "\n   ").rstrip())
        res = libmail.send(stack, "alice", stack["CTI_ADDRESS"], libmail.as_bytes(msg))
        print("   SMTP answer: %d %s" % (res.code, res.text or "accepted"))
        if res.code == 250:
            waiting.append((n, msg["Message-ID"]))

    print("\n== waiting for the notifications (up to 30 s)")
    found = {}
    deadline = time.monotonic() + 30
    while len(found) < len(waiting) and time.monotonic() < deadline:
        for n, msgid in waiting:
            if n not in found:
                hit = libmail.find_mail(stack.maildir("alice"), libmail.in_reply_to(msgid), 0)
                if hit:
                    found[n] = hit[1]
        time.sleep(0.3)

    print("\n== what pbx-sim saw (simulated seconds; <- request from ctid, then each party's connection state)")
    for line in pbx.call_lines(t0, brief=True):
        print("   " + line)

    print("\n== notifications in alice's Maildir")
    for n, msgid in waiting:
        msg = found.get(n)
        if msg is None:
            print("   %d. none arrived for %s" % (n, msgid))
            continue
        fields, attempts = libmail.result_fields(msg)
        print("   %d. Subject: %s" % (n, msg.get("Subject")))
        print("      From: %s   Auto-Submitted: %s" % (msg.get("From"), msg.get("Auto-Submitted")))
        for key in ("request-id", "job-id", "status", "reason", "attempts", "answered-at"):
            if fields and key in fields:
                print("      %s: %s" % (key.title(), fields[key]))
        for a in attempts or []:
            print("      Attempt: %s" % a)
    return 0 if len(found) == len(waiting) else 1


if __name__ == "__main__":
    sys.exit(main())
