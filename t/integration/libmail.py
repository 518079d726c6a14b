"""libmail - compose and send request mails, and find mails in Maildirs.

Requests are real MIME mails (email package) sent with smtplib and SMTP AUTH
through the stack's Postfix; notifications are read back from the sender's
Maildir (new/ and cur/), matched by In-Reply-To.
"""
import email
import email.policy
import os
import smtplib
import time
import uuid
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid


class SendResult:
    """What the SMTP server said at the end of DATA (code 250 when accepted)."""

    def __init__(self, code, text, refused=None):
        self.code = code
        self.text = text
        self.refused = refused or {}

    def __repr__(self):
        return "SendResult(%d, %r)" % (self.code, self.text)


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


def request_text(fields):
    """The application/x-cti content: one "Name: value" line per (name, value)."""
    return "".join("%s: %s\r\n" % (n, v) for n, v in fields)


def request_mail(stack, sender, fields, subject="call request", msgid=None):
    """A multipart/mixed mail from SENDER to the CTI address carrying FIELDS; bytes with CRLF."""
    msg = MIMEMultipart("mixed")
    msg["From"] = stack.address(sender)
    msg["To"] = stack["CTI_ADDRESS"]
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = msgid or make_msgid(domain="client.example")
    msg.attach(MIMEText("Please place this call.\n", "plain"))
    part = MIMEApplication(request_text(fields).encode("ascii"), "x-cti", _encoder=_encode_7bit)
    msg.attach(part)
    return msg


def _encode_7bit(part):
    part["Content-Transfer-Encoding"] = "7bit"


def as_bytes(msg):
    return msg.as_bytes(policy=email.policy.SMTP)


def send(stack, sender, recipients, data, auth=True, timeout=60):
    """Send DATA (bytes) as SENDER (a user name) with SMTP AUTH; the server's final answer."""
    if isinstance(recipients, str):
        recipients = [recipients]
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=timeout) as smtp:
        smtp.ehlo("client.example")
        if auth:
            smtp.login(sender, stack.password(sender))
        try:
            refused = smtp.sendmail(stack.address(sender), recipients, data)
        except smtplib.SMTPDataError as e:
            return SendResult(e.smtp_code, _text(e.smtp_error))
        except smtplib.SMTPRecipientsRefused as e:
            code, text = list(e.recipients.values())[0]
            return SendResult(code, _text(text), e.recipients)
        except smtplib.SMTPSenderRefused as e:
            return SendResult(e.smtp_code, _text(e.smtp_error))
        return SendResult(250, "", refused)


def _text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def maildir_files(maildir):
    files = []
    for sub in ("new", "cur"):
        d = os.path.join(maildir, sub)
        try:
            files.extend(os.path.join(d, f) for f in os.listdir(d))
        except FileNotFoundError:
            pass
    return files


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def parse(data):
    return email.message_from_bytes(data, policy=email.policy.compat32)


def find_mail(maildir, predicate, timeout=30.0):
    """Poll MAILDIR until a mail satisfies PREDICATE(message, raw bytes); (path, message) or None."""
    deadline = time.monotonic() + timeout
    while True:
        for path in maildir_files(maildir):
            try:
                raw = read_file(path)
            except FileNotFoundError:
                continue  # moved from new/ to cur/ meanwhile
            msg = parse(raw)
            if predicate(msg, raw):
                return path, msg
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.2)


def find_all(maildir, predicate):
    """The paths of every mail in MAILDIR that satisfies PREDICATE(message, raw bytes), now."""
    found = []
    for path in maildir_files(maildir):
        try:
            raw = read_file(path)
        except FileNotFoundError:
            continue  # moved from new/ to cur/ meanwhile
        if predicate(parse(raw), raw):
            found.append(path)
    return found


def in_reply_to(msgid):
    def pred(msg, _raw):
        return (msg.get("In-Reply-To") or "").strip() == msgid
    return pred


def header_is(name, value):
    def pred(msg, _raw):
        return (msg.get(name) or "").strip() == value
    return pred


def result_fields(msg):
    """The application/x-cti-result part as {name: value} (the last value wins) and a list of Attempt lines."""
    for part in msg.walk():
        if part.get_content_type() == "application/x-cti-result":
            text = part.get_payload(decode=True).decode("utf-8", "replace")
            fields, attempts = {}, []
            for line in text.splitlines():
                if ":" not in line:
                    continue
                name, value = line.split(":", 1)
                if name.strip().lower() == "attempt":
                    attempts.append(value.strip())
                else:
                    fields[name.strip().lower()] = value.strip()
            return fields, attempts
    return None, None


def message_body(raw):
    """Everything after the header block, with line ends normalised to LF."""
    data = raw.replace(b"\r\n", b"\n")
    idx = data.find(b"\n\n")
    return data[idx + 2:] if idx >= 0 else b""
