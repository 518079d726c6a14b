"""smtp - a minimal SMTP client that timestamps the end of DATA.

Only for measuring: it sends pre-built messages (CRLF, dot-stuffed here) over
one persistent session and records the wall/monotonic time just before the
final "." is written and when the reply arrives.  Owns its socket.  What can
fail: connection errors and unexpected replies raise NotMeasurable with the
server's text.
"""

import base64
import socket
import time

from . import util


class Session:
    """Session - one SMTP session to 127.0.0.1:PORT."""

    def __init__(self, port, helo="client.bench.example", timeout=60.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.expect(220)
        self.cmd("EHLO " + helo, 250)

    def auth_plain(self, user, password):
        """auth_plain - AUTH PLAIN as USER; NotMeasurable if refused."""
        token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()
        self.cmd("AUTH PLAIN " + token, 235)

    def reply(self):
        """reply - (code, text) of the next complete reply."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise util.NotMeasurable("SMTP server closed the connection")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode("utf-8", "replace"))
            if len(line) < 4 or line[3:4] != b"-":
                return int(lines[-1][:3]), " / ".join(lines)

    def expect(self, code):
        got, text = self.reply()
        if got != code:
            raise util.NotMeasurable("SMTP: expected %d, got %s" % (code, text))
        return text

    def cmd(self, line, code):
        self.sock.sendall(line.encode() + b"\r\n")
        return self.expect(code)

    def send(self, sender, rcpts, message):
        """send - one transaction; (wall time at '.', seconds '.'->reply, code, text)."""
        self.cmd("MAIL FROM:<%s>" % sender, 250)
        for r in rcpts:
            self.cmd("RCPT TO:<%s>" % r, 250)
        self.cmd("DATA", 354)
        data = message.replace("\r\n.", "\r\n..")
        if data.startswith("."):
            data = "." + data
        if not data.endswith("\r\n"):
            data += "\r\n"
        self.sock.sendall(data.encode())
        wall = time.time()
        t0 = time.perf_counter()
        self.sock.sendall(b".\r\n")
        code, text = self.reply()
        t1 = time.perf_counter()
        if code != 250:
            self.cmd("RSET", 250)
        return wall, t1 - t0, code, text

    def close(self):
        try:
            self.sock.sendall(b"QUIT\r\n")
            self.reply()
        except (OSError, util.NotMeasurable):
            pass
        self.sock.close()
