#!/usr/bin/env python3
"""cti-media-fax - cti-media sends a PDF as a fax (T.30 over G.711 RTP) to a
SIP fax receiver (fax_rx_sip, built here on libre and spandsp: both ends
share spandsp's T.30, as no other SIP fax peer is packaged in Debian).
Checked with tiffinfo on what the receiver wrote: pages received, 1728
pixels wide, as many pages as the PDF has (counted by Ghostscript).
About 40 s.

Usage: cti-media-fax.py [BUILD_DIR]   (default: $BUILD_DIR, else ..)
Exit 77 (skip) when cti-media has not been built.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "mediasip"))
from sipmedia import (Client, Procs, free_port, free_range, log_text,  # noqa: E402
                      start_cti_media, start_kamailio, unclean_exits, wait_for)

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BUILD_DIR", ".."))
PAGES = 2

PS = """%!PS
/Helvetica findfont 28 scalefont setfont
1 1 {pages} {{
  /n exch def
  72 700 moveto (mailcti fax test, page ) show n 3 string cvs show
  72 650 moveto (The quick brown fox jumps over the lazy dog.) show
  72 100 moveto 450 600 rlineto 8 setlinewidth stroke
  showpage
}} for
"""


def pdf_pages(path):
    out = subprocess.run(["gs", "-q", "-dNODISPLAY", "-dNOSAFER", "-c",
                          "(%s) (r) file runpdfbegin pdfpagecount = quit" % path],
                         capture_output=True, text=True, check=True).stdout
    return int(out.split()[-1])


def main():
    if not os.path.exists(os.path.join(BUILD, "media", "cti-media")):
        print("cti-media not built")
        return 77
    work = tempfile.mkdtemp(prefix="cti-media-fax.")
    procs = Procs(work)
    ok = False
    try:
        ps = os.path.join(work, "doc.ps")
        pdf = os.path.join(work, "doc.pdf")
        tif = os.path.join(work, "received.tif")
        with open(ps, "w") as f:
            f.write(PS.format(pages=PAGES))
        subprocess.run(["gs", "-q", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite",
                        "-sOutputFile=" + pdf, ps], check=True, capture_output=True)
        want = pdf_pages(pdf)
        assert want == PAGES, want
        kport, _ = start_kamailio(procs, "fax-s3cret")
        media = start_cti_media(procs, BUILD, registrar="127.0.0.1:%d" % kport, lines="7001",
                                password="fax-s3cret")
        sip_port = free_port()
        rtp_lo, _ = free_range(2)
        rx = procs.start("fax_rx_sip", [os.path.join(BUILD, "t", "fax_rx_sip"), str(sip_port),
                                         str(rtp_lo), tif])
        wait_for(lambda: "ready" in log_text(rx) or rx.poll() is not None, 10, "fax_rx_sip")
        c = Client(media.sock)
        r = c.request("CALL", [("To", "sip:fax@127.0.0.1:%d" % sip_port),
                               ("Steps", "fax %s" % pdf)])
        assert r.verb == "OK", r
        sid = r.get("Session")
        c.event(sid, "answered", 30)
        ev = c.event(sid, "fax", 150)
        print("# cti-media:", ev)
        assert ev.get("Result") == "ok" and ev.get("Pages") == str(want), ev
        done = c.event(sid, "done", 10)
        assert done.all("Result")[0].startswith("1 fax ok %d pages" % want), done
        rx.wait(20)
        print("# fax_rx_sip:", log_text(rx).strip().replace("\n", " | "))
        assert rx.returncode == 0, log_text(rx)
        info = subprocess.run(["tiffinfo", tif], capture_output=True, text=True).stdout
        widths = re.findall(r"Image Width: (\d+)", info)
        assert len(widths) == want, info
        assert all(w == "1728" for w in widths), widths
        assert "Compression Scheme: CCITT Group 3" in info or "CCITT" in info, info
        print("# received %d pages, widths %s" % (len(widths), widths))
        assert c.request("STATUS").get("Sessions") == "0"
        ok = True
        print("1..1\nok 1 - fax %d pages of a PDF to a SIP fax receiver" % want)
    except Exception as e:
        print("1..1\nnot ok 1 - fax: %s" % e)
        for name in sorted(os.listdir(work)):
            if name.endswith(".log"):
                print("# --- %s" % name)
                print(open(os.path.join(work, name), errors="replace").read()[-3000:])
    finally:
        procs.stop_all()
    if unclean_exits(procs) or unclean_exits(procs, "fax_rx_sip"):
        print("not ok - did not exit cleanly: %r %r" % (unclean_exits(procs),
                                                       unclean_exits(procs, "fax_rx_sip")))
        ok = False
    if ok:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
