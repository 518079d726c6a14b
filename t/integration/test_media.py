"""test_media - scenarios and media parts through the whole stack: mails as a
mail client sends them (multipart/mixed, base64, RFC 2231 file names) go
through Postfix and cti-milter to ctid, which converts the media and has
pbx-sim's voice unit play them (and its fax receiver take a fax); the
pbx-sim log shows what was played and received.
"""
import io
import math
import os
import struct
import subprocess
import tempfile
import time
import wave
from email.mime.application import MIMEApplication
from email.mime.audio import MIMEAudio

import libmail
from libmail import request_mail, send, find_mail, in_reply_to, result_fields

NOTIFY_TIMEOUT = 60.0


def _check(cond, message):
    if not cond:
        raise AssertionError(message)


def _wav_44k_stereo(seconds=3.0, freq=440.0):
    """A 44.1 kHz stereo 16-bit sine, as a recorder would save it."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44100)
        frames = bytearray()
        for i in range(int(seconds * 44100)):
            v = int(12000 * math.sin(2 * math.pi * freq * i / 44100))
            frames += struct.pack("<hh", v, v)
        w.writeframes(bytes(frames))
    return buf.getvalue()


def _reference(ctx, wav):
    """duration and checksum of the reference conversion (t/media_convert from the build)."""
    tool = os.path.join(ctx.stack["BUILD_DIR"], "t", "media_convert")
    _check(os.access(tool, os.X_OK), "%s missing: run 'make -C t media_convert' in the build" % tool)
    with tempfile.TemporaryDirectory() as d:
        src, out = os.path.join(d, "in.wav"), os.path.join(d, "out.wav")
        with open(src, "wb") as f:
            f.write(wav)
        res = subprocess.run([tool, "voice", src, out, "audio/wav"], capture_output=True, text=True, check=True)
    fields = dict(kv.split("=", 1) for kv in res.stdout.split())
    return float(fields["duration"]), fields["checksum"]


def _mail(ctx, fields, attachments):
    msg = request_mail(ctx.stack, "alice", fields)
    for part in attachments:
        msg.attach(part)
    return msg


def _voice_part(wav, filename):
    part = MIMEAudio(wav, "wav")  # base64
    part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", filename))  # RFC 2231
    return part


def _send_ok(ctx, msg):
    t0 = time.time()
    res = send(ctx.stack, "alice", ctx.stack["CTI_ADDRESS"], libmail.as_bytes(msg))
    _check(res.code == 250, "request was not accepted: %d %s" % (res.code, res.text))
    return msg["Message-ID"], t0


def _media_plays(ctx, t0):
    return [e for e in ctx.pbx.entries()
            if e.get("type") == "media" and e.get("event") == "play" and e.get("wall", 0) >= t0]


def _notification(ctx, msgid):
    found = find_mail(ctx.stack.maildir("alice"), in_reply_to(msgid), NOTIFY_TIMEOUT)
    _check(found is not None, "no notification for %s after %.0f s" % (msgid, NOTIFY_TIMEOUT))
    return found[1]


def test_media_wav_played(ctx):
    """A 44.1 kHz stereo WAV (RFC 2231 name, base64) is played as 8 kHz mono, duration +-1 %, checksum = reference."""
    wav = _wav_44k_stereo(3.0)
    ref_dur, ref_sum = _reference(ctx, wav)
    msg = _mail(ctx, [("Source", "2001"), ("Destination", "0312345678"), ("Monitor-Time", "5m")],
                [_voice_part(wav, "Grüße an alle.wav")])
    msgid, t0 = _send_ok(ctx, msg)
    plays = ctx.pbx.wait(lambda: _media_plays(ctx, t0), 60)
    _check(plays, "pbx-sim played nothing for %s" % msgid)
    p = plays[0]
    _check(int(p.get("rate", 0)) == 8000 and int(p.get("channels", 0)) == 1 and int(p.get("bits", 0)) == 16,
           "played format is %r, want 8000 Hz mono 16 bit" % p)
    _check(abs(float(p["duration"]) - 3.0) <= 0.03, "played %.3f s, want 3.0 s +- 1 %%" % float(p["duration"]))
    _check(p.get("checksum") == ref_sum, "played checksum %s != reference %s" % (p.get("checksum"), ref_sum))
    _check(abs(ref_dur - 3.0) <= 0.03, "reference duration %.3f" % ref_dur)
    fields, _ = result_fields(_notification(ctx, msgid))
    _check(fields.get("status") == "success", "Status %r (%r)" % (fields.get("status"), fields))


def test_scenario_say_pause(ctx):
    """<Say> gives audio of duration > 0; <Pause length=2> shows as a gap between the two plays in pbx-sim's log."""
    wav = _wav_44k_stereo(1.0)
    scenario = ('<?xml version="1.0"?>\n<Response>\n  <Say language="en">Hello, this is a test.</Say>\n'
                '  <Pause length="2"/>\n  <Play>cid:tone@client.example</Play>\n</Response>\n')
    spart = MIMEApplication(scenario.encode(), "x-cti-scenario+xml")
    spart["Content-ID"] = "<scen@client.example>"
    vpart = _voice_part(wav, "tone.wav")
    vpart["Content-ID"] = "<tone@client.example>"
    msg = _mail(ctx, [("Source", "2002"), ("Destination", "0312345678"), ("Monitor-Time", "5m"),
                      ("Scenario", "cid:scen@client.example")], [spart, vpart])
    msgid, t0 = _send_ok(ctx, msg)
    plays = ctx.pbx.wait(lambda: _media_plays(ctx, t0)[1:] and _media_plays(ctx, t0), 90)
    _check(len(plays) >= 2, "pbx-sim played %d files, want 2 (%r)" % (len(plays), plays))
    say, tone = plays[0], plays[1]
    _check(float(say["duration"]) > 0.3, "speech lasted %s s" % say.get("duration"))
    gap = float(tone["ts"]) - float(say["ts"])
    want = float(say["duration"]) + 2.0
    _check(gap >= want * 0.95, "the second play came %.2f s (simulated) after the first, want >= %.2f "
                               "(speech %.2f s + pause 2 s)" % (gap, want, float(say["duration"])))
    msg = _notification(ctx, msgid)
    fields, _ = result_fields(msg)
    _check(fields.get("status") == "success", "Status %r (%r)" % (fields.get("status"), fields))
    body = msg.as_string()
    _check("Pause 2 s" in body, "the notification does not list the Pause step")


def test_scenario_unknown_verb(ctx):
    """An unknown verb is refused at SMTP time with 550 naming its line; nothing is dialled."""
    scenario = '<Response>\n  <Say>hi</Say>\n  <Record maxLength="20"/>\n</Response>\n'
    spart = MIMEApplication(scenario.encode(), "xml")
    spart.add_header("Content-Disposition", "attachment", filename="scenario.xml")
    msg = _mail(ctx, [("Source", "2003"), ("Destination", "0312345678"), ("Scenario", "scenario.xml")], [spart])
    t0 = time.time()
    res = send(ctx.stack, "alice", ctx.stack["CTI_ADDRESS"], libmail.as_bytes(msg))
    _check(res.code == 550, "answered %d %s, want 550" % (res.code, res.text))
    _check("line 3" in res.text and "Record" in res.text, "the 550 text %r does not name line 3 and <Record>" % res.text)
    time.sleep(1)
    _check(not ctx.pbx.rx("MakeCall", t0, callingDevice="2003"), "a call was placed for a refused scenario")


def test_scenario_play_loop(ctx):
    """<Play loop="3"> has pbx-sim play the file three times, and the notification says so."""
    wav = _wav_44k_stereo(1.0, 660.0)
    scenario = '<Response><Play loop="3">loop.wav</Play></Response>'
    spart = MIMEApplication(scenario.encode(), "x-cti-scenario+xml")
    spart.add_header("Content-Disposition", "attachment", filename="loop.xml")
    msg = _mail(ctx, [("Source", "2006"), ("Destination", "0312345678"), ("Monitor-Time", "5m"),
                      ("Scenario", "loop.xml")], [spart, _voice_part(wav, "loop.wav")])
    msgid, t0 = _send_ok(ctx, msg)
    note = _notification(ctx, msgid)
    fields, _ = result_fields(note)
    _check(fields.get("status") == "success", "Status %r (%r)" % (fields.get("status"), fields))
    plays = _media_plays(ctx, t0)
    _check(len(plays) == 3, "pbx-sim played %d files for loop=\"3\", want 3 (%r)" % (len(plays), plays))
    gaps = [float(b["ts"]) - float(a["ts"]) for a, b in zip(plays, plays[1:])]
    _check(all(g >= float(plays[0]["duration"]) * 0.95 for g in gaps),
           "the repetitions overlap: %r s apart, each %.2f s long" % (gaps, float(plays[0]["duration"])))
    _check("played 3 times" in note.as_string(), "the notification does not say 'played 3 times'")


def test_scenario_dial_refused(ctx):
    """<Dial> in a scenario is refused at SMTP time with 550 naming its line; nothing is dialled."""
    scenario = '<Response>\n  <Say>One moment.</Say>\n  <Dial>0312345679</Dial>\n</Response>\n'
    spart = MIMEApplication(scenario.encode(), "x-cti-scenario+xml")
    spart.add_header("Content-Disposition", "attachment", filename="dial.xml")
    msg = _mail(ctx, [("Source", "2003"), ("Destination", "0312345678"), ("Scenario", "dial.xml")], [spart])
    t0 = time.time()
    res = send(ctx.stack, "alice", ctx.stack["CTI_ADDRESS"], libmail.as_bytes(msg))
    _check(res.code == 550, "answered %d %s, want 550" % (res.code, res.text))
    _check("line 3" in res.text and "Dial" in res.text, "the 550 text %r does not name line 3 and <Dial>" % res.text)
    time.sleep(1)
    _check(not ctx.pbx.rx("MakeCall", t0, callingDevice="2003"), "a call was placed for a refused scenario")


def test_bad_media_refused(ctx):
    """A WAV attachment that is no audio is refused at SMTP time, naming the file."""
    part = MIMEApplication(b"this is not audio at all\n" * 20, "octet-stream")
    part.add_header("Content-Disposition", "attachment", filename="message.wav")
    msg = _mail(ctx, [("Source", "2004"), ("Destination", "0312345678")], [part])
    res = send(ctx.stack, "alice", ctx.stack["CTI_ADDRESS"], libmail.as_bytes(msg))
    _check(res.code == 550 and "message.wav" in res.text, "answered %d %s, want 550 naming message.wav"
           % (res.code, res.text))


def _pdf(pages):
    """A PDF of PAGES pages rendered by Ghostscript from PostScript text."""
    ps = "%!PS\n/Helvetica findfont 30 scalefont setfont\n" + "".join(
        "72 700 moveto (Fax page %d) show showpage\n" % (i + 1) for i in range(pages))
    res = subprocess.run(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite", "-sOutputFile=-", "-"],
                         input=ps.encode(), capture_output=True, check=True)
    return res.stdout


FAX_NUMBER = "0322222222"  # behaviour=fax in the stack's pbx.conf


def _faxes(ctx, t0):
    return [e for e in ctx.pbx.entries() if e.get("type") == "fax" and e.get("wall", 0) >= t0]


def test_scenario_pdf_fax(ctx):
    """A 3-page PDF named by <Fax> reaches pbx-sim's fax receiver as 3 pages of G3 TIFF, 1728 wide; the notification says sent."""
    scenario = '<Response><Say>A fax follows.</Say><Fax>cid:doc@client.example</Fax></Response>'
    spart = MIMEApplication(scenario.encode(), "x-cti-scenario+xml")
    spart["Content-ID"] = "<scen2@client.example>"
    dpart = MIMEApplication(_pdf(3), "pdf")
    dpart["Content-ID"] = "<doc@client.example>"
    dpart.add_header("Content-Disposition", "attachment", filename=("utf-8", "", "Rechnung März.pdf"))
    msg = _mail(ctx, [("Source", "2005"), ("Destination", FAX_NUMBER), ("Monitor-Time", "5m"),
                      ("Scenario", "cid:scen2@client.example")], [spart, dpart])
    msgid, t0 = _send_ok(ctx, msg)
    faxes = ctx.pbx.wait(lambda: _faxes(ctx, t0), 90)
    _check(faxes, "pbx-sim's fax receiver got nothing for %s" % msgid)
    fax = faxes[0]
    _check(int(fax.get("pages", 0)) == 3, "the fax has %r pages, want 3 (%r)" % (fax.get("pages"), fax))
    _check(int(fax.get("width", 0)) == 1728 and fax.get("compression") == "g3",
           "the fax is %r wide, compression %r; want 1728, g3" % (fax.get("width"), fax.get("compression")))
    _check(fax.get("resolution") == "fine", "the fax resolution is %r, want fine" % fax.get("resolution"))
    _check(fax.get("device") == FAX_NUMBER, "the fax went to %r, want %s" % (fax.get("device"), FAX_NUMBER))
    note = _notification(ctx, msgid)
    fields, _ = result_fields(note)
    body = note.as_string()
    _check(fields.get("status") == "success", "Status %r (%r)" % (fields.get("status"), fields))
    _check("3 pages sent" in body and "not sent" not in body,
           "the notification does not report the 3-page fax as sent:\n%s" % body[:2000])


def test_fax_to_phone_not_sent(ctx):
    """A <Fax> to a number that is no fax machine is refused by the exchange: the step reads "not sent", the job fails."""
    scenario = '<Response><Fax resolution="standard">cid:doc3@client.example</Fax></Response>'
    spart = MIMEApplication(scenario.encode(), "x-cti-scenario+xml")
    spart["Content-ID"] = "<scen3@client.example>"
    dpart = MIMEApplication(_pdf(1), "pdf")
    dpart["Content-ID"] = "<doc3@client.example>"
    dpart.add_header("Content-Disposition", "attachment", filename="memo.pdf")
    msg = _mail(ctx, [("Source", "2006"), ("Destination", "0312345678"), ("Monitor-Time", "5m"),
                      ("Scenario", "cid:scen3@client.example")], [spart, dpart])
    msgid, t0 = _send_ok(ctx, msg)
    note = _notification(ctx, msgid)
    fields, _ = result_fields(note)
    body = note.as_string()
    _check(fields.get("status") == "failed", "Status %r, want failed (%r)" % (fields.get("status"), fields))
    _check("not sent: refused by the PBX" in body, "the notification does not say the fax was refused:\n%s"
           % body[:2000])
    _check(not _faxes(ctx, t0), "pbx-sim's log shows a fax received by a phone")


TESTS = [test_media_wav_played, test_scenario_pdf_fax, test_fax_to_phone_not_sent, test_scenario_say_pause, test_scenario_unknown_verb, test_bad_media_refused,
         test_scenario_play_loop, test_scenario_dial_refused]
