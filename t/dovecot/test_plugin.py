#!/usr/bin/env python3
"""test_plugin - end-to-end tests of the Dovecot cti plugin (lib90_cti_plugin.so).

Starts a private Dovecot on 127.0.0.1 (dovecot-instance, beside this file)
with the plugin from the build dir, and a UNIX-socket listener standing in for
ctid's retrieval socket.  Test mails are delivered with `doveadm save`; real
IMAP and POP3 sessions (imaplib, poplib) then retrieve them, and every case
checks the RETRIEVED frames that reach the listener.

    python3 t/dovecot/test_plugin.py --build-dir BUILD/dovecot

Needs root (Dovecot runs its mail processes as uid 5000).  Prints one line per
case and "N passed, N failed"; exits non-zero on failure; leaves no process.
"""
import argparse
import imaplib
import os
import poplib
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
INSTANCE = os.path.join(HERE, "dovecot-instance")
USERS = {"alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw", "dave": "dave-pw"}


def job_id(n):
    return "%032x" % (0xC71000 + n)


class FakeCtid:
    """A listener on the retrieval socket: records RETRIEVED frames and
    answers per mode: ok, reject, tempfail, silent (no answer), down."""

    def __init__(self, path):
        self.path = path
        self.mode = "ok"
        self.reports = []
        self.unanswered = 0
        self.lock = threading.Lock()
        self.sock = None
        self.thread = None

    def up(self):
        if self.sock is not None:
            return
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)  # the plugin runs as the mail uid
        self.sock.listen(16)
        self.thread = threading.Thread(target=self._accept, args=(self.sock,), daemon=True)
        self.thread.start()

    def down(self):
        if self.sock is None:
            return
        sock, self.sock = self.sock, None
        sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        self.thread.join(2)
        if os.path.exists(self.path):
            os.unlink(self.path)

    def _accept(self, sock):
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _unescape(value):
        out, i = [], 0
        while i < len(value):
            c = value[i]
            if c == "\\" and i + 1 < len(value):
                i += 1
                c = {"n": "\n", "r": "\r", "t": "\t"}.get(value[i], value[i])
            out.append(c)
            i += 1
        return "".join(out)

    def _parse(self, data):
        lines = data.decode("utf-8", "replace").split("\n")
        frame = {"_verb": lines[0]}
        for line in lines[1:]:
            if line == "":
                break
            name, _, value = line.partition(": ")
            frame[name] = self._unescape(value)
        return frame

    def _serve(self, conn):
        with conn:
            conn.settimeout(5)
            data = b""
            try:
                while b"\n\n" not in data and len(data) < 65536:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    data += chunk
            except OSError:
                return
            mode = self.mode
            if mode == "silent":
                with self.lock:
                    self.unanswered += 1
                time.sleep(3)
                return
            with self.lock:
                self.reports.append(self._parse(data))
            reply = {
                "ok": b"MCTI/1 OK\n\n",
                "reject": b"MCTI/1 REJECT\nReason: not the owner\\tof the job\n\n",
                "tempfail": b"MCTI/1 TEMPFAIL\nReason: busy\n\n",
            }[mode]
            try:
                conn.sendall(reply)
            except OSError:
                pass

    def take(self):
        with self.lock:
            reports, self.reports = self.reports, []
        return reports

    def wait_for(self, count, timeout):
        end = time.time() + timeout
        while time.time() < end:
            with self.lock:
                if len(self.reports) >= count:
                    break
            time.sleep(0.05)
        return self.take()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def message(n, header=None, extra=""):
    """A multipart test mail; HEADER is the X-CTI-Job value (None: no header)."""
    hdr = "" if header is None else "X-CTI-Job: %s\n" % header
    return (
        "From: sender@example.org\n"
        "To: someone@example.org\n"
        "Subject: cti test %d%s\n"
        "Message-ID: <cti-test-%d@example.org>\n"
        "%s"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"b1\"\n"
        "\n"
        "--b1\n"
        "Content-Type: text/plain\n"
        "\n"
        "Please call me back (mail %d).\n"
        "--b1\n"
        "Content-Type: application/octet-stream\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        "AAECAwQFBgcICQ==\n"
        "--b1--\n" % (n, extra, n, hdr, n)
    )


class Env:
    def __init__(self, build_dir):
        self.plugin = os.path.join(build_dir, ".libs", "lib90_cti_plugin.so")
        self.dir = tempfile.mkdtemp(prefix="mailcti-dovecot-")
        os.chmod(self.dir, 0o755)
        self.conf = os.path.join(self.dir, "etc", "dovecot.conf")
        self.log = os.path.join(self.dir, "log", "dovecot.log")
        self.imap_port = free_port()
        self.pop3_port = free_port()
        sockdir = os.path.join(self.dir, "ctid")
        os.makedirs(sockdir)
        os.chmod(sockdir, 0o755)
        self.ctid = FakeCtid(os.path.join(sockdir, "retrieval.sock"))
        self.started = False

    def start(self):
        self.ctid.up()
        spool = os.path.join(self.dir, "spool")
        os.makedirs(spool)
        os.chown(spool, 5000, 5000)
        extra = {"carol": "userdb_cti_spool=%s" % spool,
                 "dave": "userdb_cti_services=pop3 userdb_cti_header=X-Other-Job"}
        users = ["%s:%s:%s" % (u, pw, extra.get(u, "")) for u, pw in USERS.items()]
        subprocess.run([INSTANCE, "start", self.dir, self.plugin, str(self.imap_port),
                        str(self.pop3_port), self.ctid.path] + users, check=True)
        self.started = True

    def stop(self):
        if self.started:
            subprocess.run([INSTANCE, "stop", self.dir], check=False)
            self.started = False
        self.ctid.down()

    def save(self, user, text, mailbox="INBOX"):
        subprocess.run(["doveadm", "-c", self.conf, "save", "-u", user, "-m", mailbox],
                       input=text.encode(), check=True)

    def doveadm(self, *args):
        subprocess.run(["doveadm", "-c", self.conf] + list(args), check=True,
                       stdout=subprocess.DEVNULL)

    def imap(self, user="alice", mailbox="INBOX", readonly=False):
        c = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=10)
        typ, data = c.login(user, USERS[user])
        text = b" ".join(d for d in data if isinstance(d, bytes))
        expect(typ == "OK" and b"initialization failed" not in text,
               "LOGIN answered %s %r" % (typ, text))
        if mailbox is not None:
            typ, data = c.select('"%s"' % mailbox.replace("\\", "\\\\"), readonly=readonly)
            expect(typ == "OK", "SELECT %s failed: %r" % (mailbox, data))
        return c

    def pop3(self, user="bob"):
        p = poplib.POP3("127.0.0.1", self.pop3_port, timeout=10)
        p.user(user)
        resp = p.pass_(USERS[user])
        expect(b"initialization failed" not in resp, "POP3 PASS: %r" % resp)
        return p

    def spool(self, user):
        if user == "carol":  # cti_spool set: the shared spool directory
            return os.path.join(self.dir, "spool", user)
        return os.path.join(self.dir, "home", user, ".mailcti-pending")

    def spool_lines(self, user):
        try:
            with open(self.spool(user)) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []


class Failure(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise Failure(msg)


def fetch_ok(c, uid, items):
    typ, data = c.uid("FETCH", str(uid), items)
    expect(typ == "OK", "UID FETCH %s %s: %s %r" % (uid, items, typ, data))
    return data


def expect_reports(reports, want, what):
    """WANT: list of (job, uid, trigger[, user, mailbox])."""
    got = [(r.get("Job"), r.get("Uid"), r.get("Trigger")) for r in reports]
    exp = [(w[0], str(w[1]), w[2]) for w in want]
    expect(got == exp, "%s: expected %r, got %r" % (what, exp, got))
    for r, w in zip(reports, want):
        user = w[3] if len(w) > 3 else "alice"
        box = w[4] if len(w) > 4 else "INBOX"
        expect(r["_verb"] == "MCTI/1 RETRIEVED", "verb %r" % r["_verb"])
        expect(r.get("User") == user and r.get("Mailbox") == box,
               "%s: user/mailbox %r/%r" % (what, r.get("User"), r.get("Mailbox")))


# ---- the cases; see setup_mail for the mails --------------------------------

def case_header_only(env):
    """ENVELOPE, BODY.PEEK[HEADER], HEADER.FIELDS, BODYSTRUCTURE, RFC822.SIZE, SEARCH: nothing"""
    c = env.imap()
    for items in ("(ENVELOPE)", "(BODY.PEEK[HEADER])", "(BODY.PEEK[HEADER.FIELDS (X-CTI-JOB SUBJECT)])",
                  "(BODYSTRUCTURE)", "(RFC822.SIZE FLAGS INTERNALDATE)", "(RFC822.HEADER)", "(BODY)"):
        fetch_ok(c, "1:*", items)
    for crit in ("BODY callback", "TEXT mail", "HEADER X-CTI-Job %s" % job_id(1)):
        typ, _ = c.uid("SEARCH", None, crit)
        expect(typ == "OK", "SEARCH %s" % crit)
    c.logout()
    expect_reports(env.ctid.take(), [], "header-only fetches")


def case_peek_full(env):
    """BODY.PEEK[] reports once; again in the same session: nothing; bytes unchanged"""
    c = env.imap()
    data = fetch_ok(c, 1, "(BODY.PEEK[])")
    expect_reports(env.ctid.take(), [(job_id(1), 1, "fetch:full mail")], "first BODY.PEEK[]")
    body = data[0][1]
    expect(body == message(1, job_id(1)).replace("\n", "\r\n").encode(),
           "BODY.PEEK[] bytes differ from the delivered mail")
    fetch_ok(c, 1, "(BODY.PEEK[])")
    fetch_ok(c, 1, "(BODY.PEEK[TEXT])")
    typ, data = c.uid("FETCH", "1", "(FLAGS)")
    expect(b"\\Seen" not in data[0], "PEEK set \\Seen: %r" % data)
    c.logout()
    expect_reports(env.ctid.take(), [], "same-session repeat")


def case_new_session(env):
    """a second BODY.PEEK[] in a new session reports again (ctid dedups)"""
    c = env.imap()
    fetch_ok(c, 1, "(BODY.PEEK[])")
    c.logout()
    expect_reports(env.ctid.take(), [(job_id(1), 1, "fetch:full mail")], "new session")


def case_nonpeek_body(env):
    """non-PEEK BODY[] of an unseen mail: exactly one report (\\Seen first)"""
    c = env.imap()
    fetch_ok(c, 2, "(BODY[])")
    typ, data = c.uid("FETCH", "2", "(FLAGS)")
    expect(b"\\Seen" in data[0], "BODY[] did not set \\Seen: %r" % data)
    c.logout()
    expect_reports(env.ctid.take(), [(job_id(2), 2, "seen")], "BODY[]")


def case_store_seen(env):
    """STORE +FLAGS (\\Seen) reports once; again when already seen: nothing"""
    c = env.imap()
    typ, _ = c.uid("STORE", "3", "+FLAGS", "(\\Seen)")
    expect(typ == "OK", "STORE")
    c.logout()
    expect_reports(env.ctid.take(), [(job_id(3), 3, "seen")], "STORE +\\Seen")
    c = env.imap()
    c.uid("STORE", "3", "+FLAGS", "(\\Seen)")
    c.logout()
    expect_reports(env.ctid.take(), [], "STORE on an already seen mail")


def case_body_text_part(env):
    """BODY.PEEK[TEXT] -> fetch:mail body; BODY.PEEK[1] -> fetch:MIME part"""
    c = env.imap()
    fetch_ok(c, 4, "(BODY.PEEK[TEXT])")
    fetch_ok(c, 5, "(BODY.PEEK[1])")
    c.logout()
    expect_reports(env.ctid.take(), [(job_id(4), 4, "fetch:mail body"),
                                     (job_id(5), 5, "fetch:MIME part")], "TEXT / part")


def case_binary(env):
    """BINARY.SIZE[2]: nothing; BINARY.PEEK[2]: fetch:binary"""
    c = env.imap()
    fetch_ok(c, 6, "(BINARY.SIZE[2])")
    expect_reports(env.ctid.take(), [], "BINARY.SIZE")
    data = fetch_ok(c, 6, "(BINARY.PEEK[2])")
    expect(bytes(range(10)) in data[0][1], "BINARY content %r" % (data,))
    c.logout()
    expect_reports(env.ctid.take(), [(job_id(6), 6, "fetch:binary")], "BINARY.PEEK")


def case_no_or_bad_header(env):
    """no header, upper-case and short job ids: never reported"""
    c = env.imap()
    for uid in (7, 8, 9):
        fetch_ok(c, uid, "(BODY.PEEK[])")
        c.uid("STORE", str(uid), "+FLAGS", "(\\Seen)")
    c.logout()
    expect_reports(env.ctid.take(), [], "mails without a valid job header")


def case_escaped_mailbox(env):
    """a mailbox name with a backslash arrives escaped and decodes intact"""
    c = env.imap(mailbox="Calls\\Later")
    fetch_ok(c, 1, "(BODY.PEEK[])")
    c.logout()
    expect_reports(env.ctid.take(), [(job_id(50), 1, "fetch:full mail", "alice", "Calls\\Later")],
                   "escaped mailbox")


def case_reject(env):
    """ctid answers REJECT: the fetch succeeds, nothing is queued"""
    env.ctid.mode = "reject"
    try:
        c = env.imap()
        fetch_ok(c, 10, "(BODY.PEEK[])")
        c.logout()
    finally:
        env.ctid.mode = "ok"
    expect_reports(env.ctid.take(), [(job_id(10), 10, "fetch:full mail")], "REJECT")
    expect(not os.path.exists(env.spool("alice")), "a REJECTed report was queued")


def case_down_same_session(env):
    """ctid down during two fetches: FETCHes OK, both queued; the session's timer resends them in order"""
    env.ctid.down()
    c = env.imap()
    t0 = time.time()
    fetch_ok(c, 11, "(BODY.PEEK[])")
    fetch_ok(c, 15, "(BODY.PEEK[])")
    expect(time.time() - t0 < 2, "FETCHes took %.1f s with ctid down" % (time.time() - t0))
    expect(len(env.spool_lines("alice")) == 2, "spool: %r" % env.spool_lines("alice"))
    env.ctid.up()
    reports = env.ctid.wait_for(2, 5)
    c.logout()
    expect_reports(reports, [(job_id(11), 11, "fetch:full mail"), (job_id(15), 15, "fetch:full mail")],
                   "resent by the timer")
    time.sleep(0.2)
    expect(not os.path.exists(env.spool("alice")), "spool file left after delivery")


def case_down_next_login(env):
    """ctid down through a whole session: the next login resends the report"""
    env.ctid.down()
    c = env.imap()
    fetch_ok(c, 12, "(BODY.PEEK[])")
    c.logout()
    time.sleep(0.3)
    expect(os.path.exists(env.spool("alice")), "no spool file after the session")
    env.ctid.up()
    expect_reports(env.ctid.take(), [], "nothing before the next login")
    c = env.imap(mailbox=None)
    reports = env.ctid.wait_for(1, 5)
    c.logout()
    expect_reports(reports, [(job_id(12), 12, "fetch:full mail")], "resent at login")


def case_silent_ctid(env):
    """ctid accepts but never answers: the FETCH is held up at most cti_timeout"""
    env.ctid.mode = "silent"
    c = env.imap()
    t0 = time.time()
    fetch_ok(c, 13, "(BODY.PEEK[])")
    took = time.time() - t0
    env.ctid.mode = "ok"
    expect(took < 2.5, "FETCH took %.1f s with a silent ctid" % took)
    expect(env.ctid.unanswered >= 1, "the silent listener got no frame")
    reports = env.ctid.wait_for(1, 5)
    c.logout()
    expect_reports(reports, [(job_id(13), 13, "fetch:full mail")], "resent after a timeout")


def case_tempfail(env):
    """ctid answers TEMPFAIL: queued, then resent by the timer once ctid says OK"""
    env.ctid.mode = "tempfail"
    c = env.imap()
    fetch_ok(c, 14, "(BODY.PEEK[])")
    expect(len(env.spool_lines("alice")) == 1, "TEMPFAIL not queued")
    env.ctid.take()
    env.ctid.mode = "ok"
    reports = env.ctid.wait_for(1, 5)
    c.logout()
    expect_reports(reports, [(job_id(14), 14, "fetch:full mail")], "resent after TEMPFAIL")


def case_concurrent_queue(env):
    """four sessions queue at once while ctid is down: nothing lost, each sent once"""
    env.ctid.down()
    errors = []

    def session(uid):
        try:
            c = env.imap(user="carol")
            fetch_ok(c, uid, "(BODY.PEEK[])")
            c.logout()
        except Exception as e:  # reported below
            errors.append("uid %d: %s" % (uid, e))

    threads = [threading.Thread(target=session, args=(uid,)) for uid in (1, 2, 3, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    expect(not errors, "sessions failed: %r" % errors)
    time.sleep(0.3)
    lines = env.spool_lines("carol")
    expect(len(lines) == 4, "spool %s holds %d lines: %r" % (env.spool("carol"), len(lines), lines))
    env.ctid.up()
    c = env.imap(user="carol", mailbox=None)
    reports = env.ctid.wait_for(4, 5)
    time.sleep(0.5)
    reports += env.ctid.take()
    c.logout()
    got = sorted((r["Job"], r["Uid"], r["User"]) for r in reports)
    want = sorted((job_id(30 + uid), str(uid), "carol") for uid in (1, 2, 3, 4))
    expect(got == want, "expected %r, got %r" % (want, got))
    expect(not os.path.exists(env.spool("carol")), "spool left after delivery")


def case_pop3(env):
    """POP3 TOP: nothing; RETR: fetch:RETR once (QUIT's \\Seen is deduped); no header: nothing"""
    p = env.pop3()
    p.top(1, 0)
    p.top(1, 5)
    p.uidl()
    expect_reports(env.ctid.take(), [], "POP3 TOP")
    resp, lines, _ = p.retr(1)
    expect(b"X-CTI-Job: " + job_id(20).encode() in lines, "RETR content")
    p.retr(2)
    p.quit()
    expect_reports(env.ctid.take(), [(job_id(20), 1, "fetch:RETR", "bob")], "POP3 RETR")
    p = env.pop3()
    p.retr(1)
    p.quit()
    expect_reports(env.ctid.take(), [(job_id(20), 1, "fetch:RETR", "bob")], "POP3 RETR again")


def case_user_settings(env):
    """per-user cti_services=pop3 and cti_header=X-Other-Job: IMAP silent, POP3 RETR reports"""
    c = env.imap(user="dave")
    fetch_ok(c, 1, "(BODY.PEEK[])")
    c.logout()
    expect_reports(env.ctid.take(), [], "IMAP with cti_services=pop3")
    p = env.pop3(user="dave")
    p.retr(1)
    p.quit()
    expect_reports(env.ctid.take(), [(job_id(40), 1, "fetch:RETR", "dave")], "POP3 with X-Other-Job")


def case_doveadm_silent(env):
    """doveadm (not in cti_services) fetching bodies reports nothing"""
    env.doveadm("fetch", "-u", "alice", "text", "mailbox", "INBOX")
    env.doveadm("flags", "add", "-u", "alice", "\\Seen", "mailbox", "INBOX", "uid", "1")
    expect_reports(env.ctid.take(), [], "doveadm")


def case_log_clean(env):
    """the Dovecot log has no Error/Fatal/Panic lines and the plugin was active"""
    with open(env.log, errors="replace") as f:
        log = f.read()
    bad = [l for l in log.splitlines() if any(k in l for k in (" Error: ", " Fatal: ", " Panic: "))]
    expect(not bad, "log errors: %r" % bad[:5])
    expect("cti: retrieved user=alice" in log, "no plugin Info lines in the log")
    expect("cti: ctid not reached" in log, "no warning for the unreachable ctid")


CASES = [case_header_only, case_peek_full, case_new_session, case_nonpeek_body,
         case_store_seen, case_body_text_part, case_binary, case_no_or_bad_header,
         case_escaped_mailbox, case_reject, case_down_same_session, case_down_next_login,
         case_silent_ctid, case_tempfail, case_concurrent_queue, case_pop3,
         case_user_settings, case_doveadm_silent, case_log_clean]


def setup_mail(env):
    for n in range(1, 16):
        if n == 7:
            text = message(n)
        elif n == 8:
            text = message(n, job_id(n).upper())
        elif n == 9:
            text = message(n, job_id(n)[:31])
        else:
            text = message(n, job_id(n))
        env.save("alice", text)
    env.doveadm("mailbox", "create", "-u", "alice", "Calls\\Later")
    env.save("alice", message(50, job_id(50)), "Calls\\Later")
    env.save("bob", message(20, job_id(20)))
    env.save("bob", message(21))
    for uid in (1, 2, 3, 4):
        env.save("carol", message(30 + uid, job_id(30 + uid)))
    env.save("dave", message(40, extra="\nX-Other-Job: %s" % job_id(40)))
    expect_reports(env.ctid.take(), [], "doveadm save")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", required=True, help="the build's dovecot/ directory")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("test_plugin: needs root (a private Dovecot); skipped")
        return 77
    env = Env(os.path.abspath(args.build_dir))
    passed = failed = 0
    try:
        env.start()
        setup_mail(env)
        for case in CASES:
            env.ctid.take()
            try:
                case(env)
                print("PASS %s: %s" % (case.__name__, case.__doc__.splitlines()[0]))
                passed += 1
            except (Failure, imaplib.IMAP4.error, poplib.error_proto, OSError) as e:
                print("FAIL %s: %s" % (case.__name__, e))
                failed += 1
    except (Failure, subprocess.CalledProcessError, OSError) as e:
        print("FAIL setup: %s" % e)
        failed += 1
    finally:
        env.stop()
    if failed and os.path.exists(env.log):
        with open(env.log, errors="replace") as f:
            print("---- dovecot.log (tail) ----\n" + "".join(f.readlines()[-40:]))
    if args.keep or failed:
        print("test_plugin: files kept in %s" % env.dir)
    else:
        shutil.rmtree(env.dir, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
