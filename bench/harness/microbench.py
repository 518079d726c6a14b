"""microbench - build and run the C micro-benchmarks in bench/ (fsync, store_submit).

They are compiled here, into the work directory, with the same warning flags
as the tree; store-bench and submit-bench link the built lib
(BUILD/lib/.libs/libmailcti.a).
Owns only the binaries and scratch files in its work directory.  What can
fail: the lib is not built or store_submit is not implemented yet, which is
NotMeasurable with the compiler's or program's reason.
"""

import os
import subprocess

from . import util

CFLAGS = ["-O2", "-g", "-std=gnu11", "-Wall", "-Wextra", "-Wformat=2", "-Wno-unused-parameter",
          "-Wno-missing-field-initializers", "-Wswitch-enum", "-Wshadow=local", "-Werror"]


def _pkg(*mods):
    r = util.run(["pkg-config", "--cflags", "--libs"] + list(mods))
    return r.stdout.split()


def build(ctx, name):
    """build - compile bench/NAME.c; the binary's path or NotMeasurable."""
    out = os.path.join(ctx.workdir, name)
    if os.path.exists(out):
        return out
    src = os.path.join(ctx.src_dir, "bench", name + ".c")
    argv = [os.environ.get("CC", "cc")] + CFLAGS + ["-o", out, src]
    if name in ("store-bench", "submit-bench"):
        lib = os.path.join(ctx.build_dir, "lib", ".libs", "libmailcti.a")
        if not os.path.exists(lib):
            raise util.NotMeasurable("lib not built (%s missing)" % os.path.relpath(lib, ctx.build_dir))
        argv = argv[:1] + ["-I" + os.path.join(ctx.src_dir, "lib")] + argv[1:] + [lib] + \
            _pkg("glib-2.0", "gio-2.0", "gio-unix-2.0", "gmime-3.0", "sqlite3") + ["-lm"]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        undefined = sorted({w.strip("'`") for line in r.stdout.splitlines() if "undefined reference" in line
                            for w in line.split()[-1:]})
        if undefined:
            raise util.NotMeasurable("%s: lib lacks %s" % (name, ", ".join(undefined[:4])))
        raise util.NotMeasurable("%s does not compile: %s" % (name, r.stdout.strip().splitlines()[-1:]))
    return out


def parse(line):
    """parse - "name k=v k=v" to (name, {k: float})."""
    words = line.split()
    return words[0], {k: float(v) for k, v in (w.split("=", 1) for w in words[1:])}


def run_prog(argv, timeout=120):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if r.returncode != 0:
        raise util.NotMeasurable("%s: exit %d: %s" % (os.path.basename(argv[0]), r.returncode,
                                                      r.stderr.strip()[-300:]))
    return dict(parse(line) for line in r.stdout.splitlines() if line.strip())


def fsync_bench(ctx, directory, rounds, size):
    return run_prog([build(ctx, "fsync-bench"), directory, str(rounds), str(size)])


def store_bench(ctx, directory, rounds, size):
    os.makedirs(os.path.join(directory, "spool"), exist_ok=True)
    return run_prog([build(ctx, "store-bench"), os.path.join(directory, "jobs.db"),
                     os.path.join(directory, "spool"), str(rounds), str(size)])
