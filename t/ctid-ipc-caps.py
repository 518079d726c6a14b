#!/usr/bin/env python3
"""ctid-ipc-caps - ctid's caps on its ipc sockets, against the built ctid.

Starts pbx-sim and ctid (the helpers of ctid-e2e.py) with
[ctid] max_connections=3 and checks: three idle connections are kept, the
fourth is closed at once without an answer and ctid logs "ipc connection cap
hit" once (not once per refused connection); after one closes a new
connection is served again (PING -> OK) and ctid logs that it is below the
cap; a frame announcing a body over 4096 bytes on the retrieval socket, and
one over [milter] max_message_size on the control socket, is answered
REJECT and logged "bad frame, closing".  Every process started here is
stopped.

Usage: ctid-ipc-caps.py [BUILD_DIR]   (default: $BUILD_DIR, else ..)
Exit 77 (skip) when ctid or pbx-sim has not been built.
"""
import importlib.util
import os
import socket
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("ctid_e2e", os.path.join(HERE, "ctid-e2e.py"))
e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(e2e)

check = e2e.check


def ctid_log(st):
    with open(st.ctid_err, encoding="utf-8", errors="replace") as f:
        return f.read()


def wait_for(cond, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    return s


def closed_by_peer(s):
    """True when the peer closed S without sending anything"""
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, socket.timeout):
        return False


def head_only(path, verb, body_length):
    """send a frame header announcing BODY_LENGTH bytes; ctid's reply verb and Reason"""
    s = connect(path)
    s.sendall(("MCTI/1 %s\nBody-Length: %d\n\n" % (verb, body_length)).encode())
    buf = e2e.read_head(s)
    s.close()
    return buf.decode(errors="replace")


def scenario(tmp):
    st = e2e.Stack(tmp, "ecma354")
    conf = os.path.join(tmp, "mailcti.conf")
    text = open(conf).read().replace("[ctid]\n", "[ctid]\nmax_connections=3\n", 1)
    open(conf, "w").write(text)
    retrieval = os.path.join(tmp, "retrieval.sock")
    held = []
    try:
        st.start_pbx()
        st.start_ctid()
        check(os.path.exists(st.sock), "ctid listens")
        held = [connect(st.sock) for _ in range(3)]
        for s in held:
            s.settimeout(0.3)
            try:
                gone = s.recv(1) == b""
            except socket.timeout:
                gone = False
            check(not gone, "a connection within the cap stays open")
            s.settimeout(5)
        extra = [connect(st.sock), connect(retrieval)]
        check(all(closed_by_peer(s) for s in extra), "connections over the cap are closed at once")
        for s in extra:
            s.close()
        check(wait_for(lambda: "ipc connection cap hit: 3 open" in ctid_log(st)),
              "ctid logs the cap with its value")
        check(ctid_log(st).count("ipc connection cap hit") == 1, "the cap is logged once, not per connection")
        held.pop().close()
        r = None
        for _ in range(50):  # ctid sees the close on its next loop turn
            try:
                r = e2e.ipc(st.sock, "PING", timeout=2)
                if r.get("verb") == "OK":
                    break
            except (ConnectionResetError, socket.timeout, IndexError):
                pass
            time.sleep(0.05)
        check(r is not None and r.get("verb") == "OK", "below the cap a new connection is served")
        check(wait_for(lambda: "below [ctid] max_connections=3 again" in ctid_log(st)),
              "ctid logs that it is below the cap again")
        for s in held:
            s.close()
        held = []
        time.sleep(0.2)
        reply = head_only(retrieval, "RETRIEVED", 4097)
        check(reply.startswith("MCTI/1 REJECT") and "oversized Body-Length" in reply,
              "a retrieval frame over 4096 body bytes is refused: %r" % reply[:80])
        reply = head_only(st.sock, "SUBMIT", 52428800 + 65536 + 1)
        check(reply.startswith("MCTI/1 REJECT") and "oversized Body-Length" in reply,
              "a control frame over max_message_size is refused: %r" % reply[:80])
        check(wait_for(lambda: ctid_log(st).count("bad frame, closing") >= 2),
              "both refusals are logged")
        check(st.stop(st.ctid) == 0, "ctid exits 0 (no sanitizer report)")
    finally:
        for s in held:
            s.close()
        st.stop_all()


def main():
    if not os.access(e2e.PBXSIM, os.X_OK) or not os.access(e2e.CTID, os.X_OK):
        print("skip: %s or %s not built" % (e2e.CTID, e2e.PBXSIM))
        return 77
    with tempfile.TemporaryDirectory(prefix="ctid-ipc-caps-") as tmp:
        scenario(tmp)
        if e2e.FAILURES:
            sys.stdout.write(ctid_log_tail(tmp))
    print("%d failure(s)" % len(e2e.FAILURES))
    return 1 if e2e.FAILURES else 0


def ctid_log_tail(tmp):
    path = os.path.join(tmp, "ctid.stderr")
    return open(path).read()[-4000:] if os.path.exists(path) else ""


if __name__ == "__main__":
    sys.exit(main())
