"""The .qmail helpers and the tools around the queue, end to end: forward,
preline, condredirect, bouncesaying, except, qreceipt, splogger and
qmail-pw2u, run from the sanitized build with the environment qmail-local
gives a |program line. The programs that queue mail run against
tests/bin/fake-queue through $QMAILQUEUE, and what it recorded (message and
envelope) is compared byte for byte.

splogger is checked against a real syslog socket: in a private mount
namespace (unshare -m as root, unshare -rm otherwise) a tmpfs covers /dev,
this script binds /dev/log there as a datagram socket and reads what
libc's syslog(3) sends.

Not tested here: qmail-local running these programs from a .qmail file
(qmail-local's own tests); the real qmail-queue without $QMAILQUEUE
(lib/qq's and qmail-queue's tests); read errors on descriptor 0 other
than a pipe where a file is needed (tests/requeue_test.c has one for
forward and condredirect); and qmail-pw2u on a home it may not stat
(EACCES needs a non-root run, and TEST runs as root).
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import quail  # noqa: E402
from quail import check, check_eq, ROOT  # noqa: E402

BIN = os.path.join(quail.BUILD, "bin")
FAKEQ = os.path.join(quail.BUILD, "tests", "bin", "fake-queue")
BASE = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""), "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", ""),
        "PATH": "/usr/bin:/bin"}

# What qmail-local exports to a |program line (qmail-command(8)) for a
# message from alice@example.org to joe-list@example.com.
QLENV = {
    "SENDER": "alice@example.org",
    "NEWSENDER": "joe-list-owner@example.com",
    "RECIPIENT": "joe-list@example.com",
    "USER": "joe",
    "HOME": "/home/joe",
    "HOST": "example.com",
    "LOCAL": "joe-list",
    "EXT": "list",
    "DTLINE": "Delivered-To: joe-list@example.com\n",
    "RPLINE": "Return-Path: <alice@example.org>\n",
    "UFLINE": "From alice@example.org Sun Nov 22 01:53:00 2026\n",
}

MSG = b"From: alice@example.org\nTo: joe-list@example.com\nSubject: hello\n\nbody line\n"

# Programs for the children: exit codes and crashes.
SH_EXIT = lambda code: ["sh", "-c", "cat >/dev/null; exit %d" % code]  # noqa: E731
SH_CRASH = ["sh", "-c", "kill -SEGV $$"]


def conf(name):
    with open(os.path.join(quail.BUILD, "conf", name)) as f:
        return f.readline().rstrip("\n")


class FakeQueue:
    """A directory for fake-queue's records and the environment that sends
    the programs there."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tools3-fakeq.")

    def env(self, **extra):
        e = {"QMAILQUEUE": FAKEQ, "FAKEQ_DIR": self.dir}
        e.update(extra)
        return e

    def clear(self):
        for n in ("message", "envelope"):
            p = os.path.join(self.dir, n)
            if os.path.exists(p):
                os.unlink(p)

    def queued(self):
        """(message, envelope), or None if the queue program never ran."""
        m = os.path.join(self.dir, "message")
        if not os.path.exists(m):
            return None
        with open(m, "rb") as f:
            msg = f.read()
        with open(os.path.join(self.dir, "envelope"), "rb") as f:
            env = f.read()
        return msg, env

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


FQ = None  # made in main: the splogger helper re-runs this file and needs none


def run(prog, args, stdin=MSG, env=None, seekable=True, timeout=60):
    """Runs prog from the build with stdin as a file (as qmail-local gives
    it) or a pipe. env is added to BASE. Returns the CompletedProcess."""
    e = dict(BASE)
    if env:
        e.update(env)
    argv = [os.path.join(BIN, prog)] + list(args)
    if seekable:
        with tempfile.TemporaryFile() as f:
            f.write(stdin)
            f.seek(0)
            return subprocess.run(argv, stdin=f, env=e, capture_output=True, timeout=timeout)
    return subprocess.run(argv, input=stdin, env=e, capture_output=True, timeout=timeout)


def qrun(prog, args, stdin=MSG, env=None, **kw):
    """run() with the fake queue; returns (process, what was queued)."""
    FQ.clear()
    e = dict(QLENV)
    e.update(FQ.env())
    if env:
        e.update(env)
    for k in [k for k, v in e.items() if v is None]:
        del e[k]
    p = run(prog, args, stdin=stdin, env=e, **kw)
    return p, FQ.queued()


def envelope(sender, *rcpts):
    return b"F" + sender + b"\0" + b"".join(b"T" + r + b"\0" for r in rcpts) + b"\0"


def errtext(p):
    return p.stderr.decode(errors="replace")


# ---------------------------------------------------------------- forward

def test_forward():
    dt = QLENV["DTLINE"].encode()
    p, q = qrun("forward", ["a@example.net", "b@example.org"])
    check_eq(p.returncode, 0, "forward: exit 0 when queued")
    check(re.fullmatch(rb"forward: qp \d+\n", p.stderr), "forward: reports the qp", errtext(p))
    check_eq(q and q[0], dt + MSG, "forward: queues $DTLINE and the message, byte for byte")
    check_eq(q and q[1], envelope(b"joe-list-owner@example.com", b"a@example.net", b"b@example.org"),
             "forward: envelope from $NEWSENDER (not $SENDER) to each address, in order")

    p, q = qrun("forward", ["a@example.net"], env={"NEWSENDER": ""})
    check_eq(q and q[1], envelope(b"", b"a@example.net"), "forward: an empty $NEWSENDER gives the empty sender")
    p, q = qrun("forward", ["a@example.net"], env={"NEWSENDER": "#@[]"})
    check_eq(q and q[1], envelope(b"#@[]", b"a@example.net"), "forward: #@[] is passed on as it is")

    big = b"Subject: big\n\n" + bytes(range(256)) * 8192 + b"no final newline"
    p, q = qrun("forward", ["a@example.net"], stdin=big)
    check_eq(p.returncode, 0, "forward: a 2 MB message with every byte value")
    check(q and q[0] == dt + big, "forward: ... arrives byte for byte (NULs, no final newline)")
    p, q = qrun("forward", ["a@example.net"], seekable=False)
    check(p.returncode == 0 and q and q[0] == dt + MSG, "forward: the message may come through a pipe",
          errtext(p))
    p, q = qrun("forward", ["a@example.net"], stdin=b"")
    check(p.returncode == 0 and q and q[0] == dt, "forward: an empty message is still forwarded")
    p, q = qrun("forward", ["a@example.net"], env={"DTLINE": ""})
    check(q and q[0] == MSG, "forward: an empty $DTLINE adds nothing")

    for var in ("NEWSENDER", "DTLINE"):
        p, q = qrun("forward", ["a@example.net"], env={var: None})
        check_eq(p.returncode, 100, "forward: $%s not set: exit 100" % var)
        check(var in errtext(p) and q is None, "forward: ... says so and queues nothing", errtext(p))
    p, q = qrun("forward", [])
    check(p.returncode == 100 and q is None and "usage" in errtext(p), "forward: no address: usage, exit 100",
          errtext(p))

    cases = [
        ({"FAKEQ_EXIT": "31"}, 100, "permanently rejected"),
        ({"FAKEQ_EXIT": "11"}, 100, "too long"),
        ({"FAKEQ_EXIT": "53"}, 111, "disk full"),
        ({"FAKEQ_EXIT": "71"}, 111, "temporarily rejected"),
        ({"FAKEQ_EXIT": "82", "FAKEQ_FD6": "Dgo away (#5.7.1)"}, 100, "go away (#5.7.1)"),
        ({"FAKEQ_EXIT": "82", "FAKEQ_FD6": "Zlater (#4.3.0)"}, 111, "later (#4.3.0)"),
        ({"FAKEQ_SIGNAL": "9"}, 111, "crashed"),
    ]
    for extra, code, text in cases:
        p, q = qrun("forward", ["a@example.net"], env=extra)
        check_eq(p.returncode, code, "forward: queue program %r: exit %d" % (extra, code))
        check(text in errtext(p), "forward: ... with its reason (%s)" % text, errtext(p))
    p, q = qrun("forward", ["a@example.net"], env={"QMAILQUEUE": "/nonexistent/qq"})
    check_eq(p.returncode, 111, "forward: a queue program that cannot run: exit 111")


# ------------------------------------------------------------ condredirect

def test_condredirect():
    dt = QLENV["DTLINE"].encode()
    # The program reads the whole message; condredirect rewinds before
    # forwarding it.
    p, q = qrun("condredirect", ["boss@example.net"] + SH_EXIT(0))
    check_eq(p.returncode, 99, "condredirect: program exits 0: exit 99 (ignore the rest of .qmail)")
    check(re.fullmatch(rb"condredirect: qp \d+\n", p.stderr), "condredirect: reports the qp", errtext(p))
    check_eq(q and q[0], dt + MSG, "condredirect: forwards $DTLINE and the whole message (rewound)")
    check_eq(q and q[1], envelope(b"alice@example.org", b"boss@example.net"),
             "condredirect: envelope from $SENDER, as qmail's condredirect, to newaddress")
    p, q = qrun("condredirect", ["boss@example.net", "grep", "-q", "^Subject: hello"])
    check(p.returncode == 99 and q, "condredirect: the program sees the message on descriptor 0 (grep matches)")
    p, q = qrun("condredirect", ["boss@example.net", "grep", "-q", "^Subject: other"])
    check(p.returncode == 0 and q is None, "condredirect: grep does not match (exit 1): exit 0, nothing forwarded")

    for code, want in ((1, 0), (99, 0), (100, 0), (112, 0), (64, 0), (111, 111)):
        p, q = qrun("condredirect", ["boss@example.net"] + SH_EXIT(code))
        check_eq(p.returncode, want, "condredirect: program exits %d: exit %d" % (code, want))
        check(q is None, "condredirect: ... and nothing is forwarded (exit %d)" % code)
    p, q = qrun("condredirect", ["boss@example.net"] + SH_CRASH)
    check(p.returncode == 111 and q is None and "crashed" in errtext(p), "condredirect: program crashes: exit 111",
          errtext(p))
    p, q = qrun("condredirect", ["boss@example.net", "/nonexistent/program"])
    check(p.returncode == 0 and q is None, "condredirect: program does not exist: exit 0", errtext(p))
    p, q = qrun("condredirect", ["boss@example.net", "/etc"])
    check(p.returncode == 0 and q is None, "condredirect: program may not be run: exit 0", errtext(p))

    for var in ("SENDER", "DTLINE"):
        p, q = qrun("condredirect", ["boss@example.net", "true"], env={var: None})
        check(p.returncode == 100 and q is None and var in errtext(p),
              "condredirect: $%s not set, program exits 0: exit 100" % var, errtext(p))
        p, q = qrun("condredirect", ["boss@example.net", "false"], env={var: None})
        check_eq(p.returncode, 0, "condredirect: $%s not set, program exits 1: exit 0 (never needed)" % var)
    p, q = qrun("condredirect", ["boss@example.net", "true"], seekable=False)
    check(p.returncode == 111 and q is None and "rewind" in errtext(p),
          "condredirect: a message it cannot rewind (a pipe): exit 111", errtext(p))
    for args in ([], ["boss@example.net"]):
        p, q = qrun("condredirect", args)
        check(p.returncode == 100 and "usage" in errtext(p), "condredirect %s: usage, exit 100" % args)
    p, q = qrun("condredirect", ["boss@example.net", "true"], env={"FAKEQ_EXIT": "31"})
    check_eq(p.returncode, 100, "condredirect: queue refuses permanently: exit 100")
    p, q = qrun("condredirect", ["boss@example.net", "true"], env={"FAKEQ_EXIT": "53"})
    check_eq(p.returncode, 111, "condredirect: queue fails temporarily: exit 111")


# ----------------------------------------------------- bouncesaying, except

def test_bouncesaying():
    text = "This address no longer accepts mail."
    p = run("bouncesaying", [text])
    check_eq(p.returncode, 100, "bouncesaying without a program: exit 100")
    check_eq(p.stderr, text.encode() + b"\n", "bouncesaying: prints exactly the error")
    p = run("bouncesaying", [text] + SH_EXIT(0))
    check(p.returncode == 100 and p.stderr == text.encode() + b"\n", "bouncesaying: program exits 0: bounce (100)")
    p = run("bouncesaying", ["spam", "grep", "-q", "^Subject: hello"])
    check_eq(p.returncode, 100, "bouncesaying: the program sees the message (grep matches: bounce)")
    for code, want in ((1, 0), (99, 0), (100, 0), (112, 0), (111, 111)):
        p = run("bouncesaying", [text] + SH_EXIT(code))
        check_eq(p.returncode, want, "bouncesaying: program exits %d: exit %d" % (code, want))
        if want == 0:
            check_eq(p.stderr, b"", "bouncesaying: ... silently (exit %d)" % code)
    p = run("bouncesaying", [text] + SH_CRASH)
    check(p.returncode == 111 and "crashed" in errtext(p), "bouncesaying: program crashes: exit 111")
    p = run("bouncesaying", [text, "/nonexistent/program"])
    check_eq(p.returncode, 0, "bouncesaying: program does not exist: exit 0")
    p = run("bouncesaying", [])
    check(p.returncode == 100 and "usage" in errtext(p), "bouncesaying with no arguments: usage, exit 100")
    p = run("bouncesaying", [""])
    check_eq((p.returncode, p.stderr), (100, b"\n"), "bouncesaying '': an empty error still bounces")


def test_except():
    for code, want in ((0, 100), (1, 0), (99, 0), (100, 0), (112, 0), (111, 111)):
        p = run("except", SH_EXIT(code))
        check_eq(p.returncode, want, "except: program exits %d: exit %d" % (code, want))
    p = run("except", ["true"])
    check_eq(p.stderr, b"", "except: inverting 0 to 100 says nothing")
    p = run("except", SH_CRASH)
    check(p.returncode == 111 and "crashed" in errtext(p), "except: program crashes: exit 111")
    p = run("except", ["/nonexistent/program"])
    check_eq(p.returncode, 0, "except: program does not exist: exit 0")
    p = run("except", ["grep", "-q", "^Subject: hello"])
    check_eq(p.returncode, 100, "except: the program sees descriptor 0 (grep matches: 100)")
    p = run("except", [])
    check(p.returncode == 100 and "usage" in errtext(p), "except with no arguments: usage, exit 100")
    p = run("except", ["sh", "-c", "echo out; echo err >&2; exit 3"])
    check_eq((p.returncode, p.stdout, p.stderr), (0, b"out\n", b"err\n"),
             "except: the program's output goes where except's goes")


# ---------------------------------------------------------------- preline

def test_preline():
    uf, rp, dt = (QLENV[k].encode() for k in ("UFLINE", "RPLINE", "DTLINE"))
    cases = [
        ([], uf + rp + dt),
        (["-f"], rp + dt),
        (["-r"], uf + dt),
        (["-d"], uf + rp),
        (["-fr"], dt),
        (["-f", "-r", "-d"], b""),
        (["-frd"], b""),
        (["-fF"], uf + rp + dt),
        (["-rR", "-dD"], uf + rp + dt),
        (["-f", "--"], rp + dt),
    ]
    for opts, head in cases:
        p = run("preline", opts + ["cat"], env=QLENV)
        check_eq(p.stdout, head + MSG, "preline %s: the command gets the lines, then the message" % " ".join(opts))
        check_eq(p.returncode, 0, "preline %s: exit 0" % " ".join(opts))
    p = run("preline", ["sh", "-c", 'for a; do echo "[$a]"; done; cat >/dev/null', "x", "-d", "-f"], env=QLENV)
    check_eq(p.stdout, b"[-d]\n[-f]\n", "preline: options after the command are the command's")
    for code in (0, 1, 64, 99, 100, 111, 112):
        p = run("preline", ["-frd"] + SH_EXIT(code), env=QLENV)
        check_eq(p.returncode, code, "preline: exits with the command's exit code %d" % code)
    p = run("preline", SH_CRASH, env=QLENV)
    check(p.returncode == 111 and "crashed" in errtext(p), "preline: the command crashes: exit 111")
    big = b"Subject: big\n\n" + bytes(range(256)) * 16384
    p = run("preline", ["sh", "-c", "exit 100"], stdin=big, env=QLENV)
    check_eq(p.returncode, 100, "preline: a command that reads nothing of 4 MB and exits 100: exit 100, not 111")
    p = run("preline", ["sh", "-c", "head -c 10 >/dev/null"], stdin=big, env=QLENV)
    check_eq(p.returncode, 0, "preline: a command that reads part and exits 0: exit 0")
    p = run("preline", ["-frd", "cat"], stdin=big, env=QLENV, seekable=False)
    check(p.returncode == 0 and p.stdout == big, "preline: 4 MB of every byte value through a pipe, unchanged")
    p = run("preline", ["/nonexistent/program"], env=QLENV)
    check(p.returncode == 100 and "unable to run" in errtext(p), "preline: the command does not exist: exit 100",
          errtext(p))
    p = run("preline", ["/etc"], env=QLENV)
    check_eq(p.returncode, 100, "preline: the command may not be run: exit 100")

    for var, opt in (("UFLINE", "-f"), ("RPLINE", "-r"), ("DTLINE", "-d")):
        e = dict(QLENV)
        del e[var]
        p = run("preline", ["cat"], env=e)
        check(p.returncode == 100 and var in errtext(p) and p.stdout == b"",
              "preline: $%s not set: exit 100, the command never runs" % var, errtext(p))
        p = run("preline", [opt, "cat"], env=e)
        check_eq(p.returncode, 0, "preline %s: $%s is not needed" % (opt, var))
    for args in ([], ["-f"], ["-x", "cat"]):
        p = run("preline", args, env=QLENV)
        check(p.returncode == 100 and "usage" in errtext(p), "preline %s: usage, exit 100" % args)


# ---------------------------------------------------------------- qreceipt

NOTICE_BODY = (b"Subject: success notice\n\nHi! This is the qreceipt program. Your message was delivered to the\n"
               b"following address: %s. Thanks for asking.\n")


def notice(sender_hdr, target, msgid=None):
    m = b"From: DELIVERY NOTICE SYSTEM <" + sender_hdr + b">\nTo: <" + sender_hdr + b">\n" + NOTICE_BODY % target
    if msgid is not None:
        m += b"Your " + msgid
    return m


def test_qreceipt():
    hdr = b"From: alice@example.org\nMessage-ID: <42@example.org>\n"
    target = b"joe@example.com"
    msg = hdr + b"Notice-Requested-Upon-Delivery-To: joe@example.com\n\nbody\n"
    p, q = qrun("qreceipt", ["joe@example.com"], stdin=msg)
    check_eq(p.returncode, 0, "qreceipt: exit 0 after sending a notice")
    check_eq(q and q[0], notice(b"alice@example.org", target, b"Message-ID: <42@example.org>\n"),
             "qreceipt: the notice, with the original Message-ID line")
    check_eq(q and q[1], envelope(b"", b"alice@example.org"), "qreceipt: from <> to $SENDER")

    def sends(message, tgt="joe@example.com", env=None):
        p, q = qrun("qreceipt", [tgt], stdin=message, env=env)
        return p.returncode, q is not None

    yes = [
        b"Notice-Requested-Upon-Delivery-To: Joe Q. Public <joe@example.com>\n\n",
        b"Notice-Requested-Upon-Delivery-To: a@b, joe@example.com (Joe), c@d\n\n",
        b"notice-requested-upon-delivery-to: joe@example.com\n\n",
        b"NOTICE-REQUESTED-UPON-DELIVERY-TO  :joe@example.com\n\n",
        b"Notice-Requested-Upon-Delivery-To: friends: a@b, joe@example.com;, x@y\n\n",
        b"Notice-Requested-Upon-Delivery-To: a@b,\n  joe@example.com\n\n",
        b"Notice-Requested-Upon-Delivery-To: joe @ example . com\n\n",
        b"Notice-Requested-Upon-Delivery-To: <@relay.example:joe@example.com>, joe@example.com\n\n",
        b"Subject: x\nNotice-Requested-Upon-Delivery-To: x@y\nNotice-Requested-Upon-Delivery-To: joe@example.com\n\n",
        b"From joe@example.com Sun Nov 22 01:53:00 2026\nNotice-Requested-Upon-Delivery-To: joe@example.com\n",
        b"Notice-Requested-Upon-Delivery-To: joe@example.com",
    ]
    for i, m in enumerate(yes):
        check_eq(sends(m), (0, True), "qreceipt: a notice is sent (case %d: %r)" % (i, m[:60]))
    check_eq(sends(b'Notice-Requested-Upon-Delivery-To: "joe smith"@example.com\n\n', "joe smith@example.com"),
             (0, True), "qreceipt: quoting is removed before comparing")
    check_eq(sends(b'Notice-Requested-Upon-Delivery-To: <>\n\n', ""), (0, True),
             "qreceipt '': <> is the empty address")
    no = [
        b"Subject: no request\n\nNotice-Requested-Upon-Delivery-To: joe@example.com\n",
        b"Notice-Requested-Upon-Delivery-To: other@example.com\n\n",
        b"Notice-Requested-Upon-Delivery-To: Joe@example.com\n\n",            # compared exactly
        b"Notice-Requested-Upon-Delivery-To: joe@example.com.\n\n",
        b"Notice-Requested-Upon-Delivery-To: (joe@example.com) x@y\n\n",      # only a comment
        b"Notice-Requested-Upon-Delivery: joe@example.com\n\n",
        b"X-Notice-Requested-Upon-Delivery-To: joe@example.com\n\n",
        b"Subject: x\nnot a header line\nNotice-Requested-Upon-Delivery-To: joe@example.com\n\n",
        b"\nNotice-Requested-Upon-Delivery-To: joe@example.com\n",
        b"",
    ]
    for i, m in enumerate(no):
        check_eq(sends(m), (0, False), "qreceipt: no notice (case %d: %r)" % (i, m[:60]))

    # The Message-ID line, folded; none at all.
    m = b"Message-Id: <1@x>\nMessage-ID:\n  <2@x>\nNotice-Requested-Upon-Delivery-To: joe@example.com\n\n"
    p, q = qrun("qreceipt", ["joe@example.com"], stdin=m)
    check_eq(q and q[0], notice(b"alice@example.org", target, b"Message-ID:\n  <2@x>\n"),
             "qreceipt: the last Message-ID field, folded as it was")
    p, q = qrun("qreceipt", ["joe@example.com"], stdin=b"Notice-Requested-Upon-Delivery-To: joe@example.com\n\n")
    check_eq(q and q[0], notice(b"alice@example.org", target), "qreceipt: no Message-ID: no \"Your\" line")

    # The return path is quoted in the header as qmail quotes it.
    for sender, hdrform in ((b"joe smith@example.org", b'"joe smith"@example.org'),
                            (b"a.b@example.org", b"a.b@example.org"),
                            (b".a@example.org", b'".a"@example.org'),
                            (b'x"y@example.org', b'"x\\"y"@example.org'),
                            (b"nobody", b"nobody"),
                            (b"a@b@example.org", b'"a@b"@example.org')):
        p, q = qrun("qreceipt", ["joe@example.com"], stdin=msg, env={"SENDER": sender.decode()})
        check(q and q[0].startswith(b"From: DELIVERY NOTICE SYSTEM <" + hdrform + b">\nTo: <" + hdrform + b">\n")
              and q[1] == envelope(b"", sender), "qreceipt: sender %r is written %r" % (sender, hdrform))

    for sender in ("", "#@[]", "a\nBcc: victim@example.net@x"):
        check_eq(sends(msg, env={"SENDER": sender}), (0, False), "qreceipt: no notice to sender %r" % sender)
    p, q = qrun("qreceipt", ["joe@example.com"], stdin=msg, env={"SENDER": None})
    check(p.returncode == 100 and "SENDER" in errtext(p) and q is None, "qreceipt: $SENDER not set: exit 100")
    p, q = qrun("qreceipt", [], stdin=msg)
    check(p.returncode == 100 and "usage" in errtext(p), "qreceipt with no address: usage, exit 100")
    for bad in (b'Notice-Requested-Upon-Delivery-To: "joe@example.com\n\n',
                b"Notice-Requested-Upon-Delivery-To: (joe@example.com\n\n",
                b"Notice-Requested-Upon-Delivery-To: joe@example.com>\n\n",
                b"Notice-Requested-Upon-Delivery-To: a@b: joe@example.com\n\n",
                b"Notice-Requested-Upon-Delivery-To: g: a@b;; joe@example.com\n\n",
                b"Notice-Requested-Upon-Delivery-To: ) joe@example.com\n\n"):
        p, q = qrun("qreceipt", ["joe@example.com"], stdin=bad)
        check(p.returncode == 100 and "unable to parse" in errtext(p) and q is None,
              "qreceipt: a field it cannot parse bounces, as qmail's (%r)" % bad[35:60], errtext(p))
    p, q = qrun("qreceipt", ["joe@example.com"], stdin=msg, env={"FAKEQ_EXIT": "31"})
    check_eq(p.returncode, 100, "qreceipt: the queue refuses the notice permanently: exit 100")
    p, q = qrun("qreceipt", ["joe@example.com"], stdin=msg, env={"FAKEQ_EXIT": "53"})
    check_eq(p.returncode, 111, "qreceipt: the queue fails temporarily: exit 111")

    # Bounded input: reading stops at a field over 64 kB, acting on the
    # fields before it; NULs change nothing.
    huge = b"Notice-Requested-Upon-Delivery-To: joe@example.com," + b" x@y," * 20000 + b" z@y\n\n"
    check_eq(sends(huge), (0, False), "qreceipt: a Notice field over 64 kB is not read")
    huge = b"Notice-Requested-Upon-Delivery-To: joe@example.com,\n" + b" x@y,\n" * 20000 + b" z@y\n\n"
    check_eq(sends(huge), (0, False), "qreceipt: ... nor one that grows past 64 kB in continuation lines")
    m = b"X-Nul: a\0b\nNotice-Requested-Upon-Delivery-To: joe@example.com\nX-Long: " + b"a" * 200000 + b"\n\n"
    check_eq(sends(m), (0, True), "qreceipt: a NUL before the request and a 200 kB field after it")
    m = b"X-Long: " + b"a" * 200000 + b"\nNotice-Requested-Upon-Delivery-To: joe@example.com\n\n"
    check_eq(sends(m), (0, False), "qreceipt: a 200 kB field ends the reading: a request after it is not seen")
    m = (b"Message-ID: <1@x>\nNotice-Requested-Upon-Delivery-To: joe@example.com\nX-Long: a\n"
         + b" b\n" * 30000 + b"\n")
    p, q = qrun("qreceipt", ["joe@example.com"], stdin=m)
    check_eq(q and q[0], notice(b"alice@example.org", target, b"Message-ID: <1@x>\n"),
             "qreceipt: ... but the fields before it count")
    m = b"Notice-Requested-Upon-Delivery-To: joe@example.com\n\n" + b"x" * 3000000
    p, q = qrun("qreceipt", ["joe@example.com"], stdin=m, seekable=False)
    check(p.returncode == 0 and q is not None, "qreceipt: reads only the header of a 3 MB message (a pipe)")


# ---------------------------------------------------------------- splogger

def splog_helper(argv):
    """Runs inside the private mount namespace: covers /dev with a tmpfs
    that has null, zero and urandom bound in, binds /dev/log, runs splogger
    and prints what it sent as JSON."""
    work, data_file = argv[0], argv[1]
    args = argv[2:]
    olddev = os.path.join(work, "olddev")
    os.mkdir(olddev)
    subprocess.run(["mount", "--rbind", "/dev", olddev], check=True)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/dev"], check=True)
    for n in ("null", "zero", "urandom", "random"):
        open("/dev/" + n, "w").close()
        subprocess.run(["mount", "--bind", os.path.join(olddev, n), "/dev/" + n], check=True)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("/dev/log")
    s.settimeout(0.2)
    msgs = []
    # Read while splogger runs: a datagram socket's queue is short, and
    # syslog(3) blocks when it is full.
    with open(data_file, "rb") as f:
        p = subprocess.Popen([os.path.join(BIN, "splogger")] + args, stdin=f, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=BASE)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                msgs.append(s.recv(65536).decode("latin-1"))
                continue
            except socket.timeout:
                pass
            if p.poll() is not None:
                break
        else:
            p.kill()
        err = p.stderr.read()
        p.wait()
    s.setblocking(False)
    while True:
        try:
            msgs.append(s.recv(65536).decode("latin-1"))
        except BlockingIOError:
            break
    print(json.dumps({"rc": p.returncode, "stderr": err.decode("latin-1"), "msgs": msgs}))


UNSHARE = None


def splog(data, *args):
    """(exit code, stderr, [(pri, tag, text)]) or None if no namespace."""
    global UNSHARE
    work = tempfile.mkdtemp(prefix="tools3-splog.")
    try:
        fn = os.path.join(work, "in")
        with open(fn, "wb") as f:
            f.write(data)
        tries = [UNSHARE] if UNSHARE else [["unshare", "-m", "--propagation", "private"],
                                           ["unshare", "-rm", "--propagation", "private"]]
        for u in tries:
            p = subprocess.run(u + [sys.executable, os.path.abspath(__file__), "--splog", work, fn] + list(args),
                               capture_output=True, timeout=120)
            if p.returncode == 0:
                UNSHARE = u
                break
        else:
            if UNSHARE:  # it worked before: this is a failure, not a missing feature
                return -1, p.stderr.decode(errors="replace"), []
            return None
        r = json.loads(p.stdout)
        out = []
        for m in r["msgs"]:
            mm = re.fullmatch(r"<(\d+)>\w{3} [ \d]\d \d\d:\d\d:\d\d ([^:]*): (.*)", m, re.S)
            out.append((int(mm.group(1)), mm.group(2), mm.group(3)) if mm else (-1, "", m))
        return r["rc"], r["stderr"], out
    finally:
        shutil.rmtree(work, ignore_errors=True)


STAMP = r"\d+\.\d{6}"


def test_splogger():
    r = splog(b"hello world\n")
    if r is None:
        quail.skip("splogger", "no private mount namespace (unshare -m / -rm) to bind a /dev/log in")
        return
    rc, err, msgs = r
    check_eq(rc, 0, "splogger: exit 0 at the end of input")
    check(len(msgs) == 1 and msgs[0][:2] == (2 * 8 + 6, "splogger")
          and re.fullmatch(STAMP + " hello world", msgs[0][2]),
          "splogger: default tag splogger, facility 2 (mail), LOG_INFO, a seconds.microseconds stamp", repr(msgs))

    rc, err, msgs = splog(b"one\n", "qmail")
    check_eq([m[:2] for m in msgs], [(2 * 8 + 6, "qmail")], "splogger tag: facility still 2")
    for fac in ("0", "3", "16", "23"):
        rc, err, msgs = splog(b"x\n", "qmail", fac)
        check_eq([m[0] for m in msgs], [int(fac) * 8 + 6], "splogger qmail %s: facility %s" % (fac, fac))
    for fac in ("x", "24", "-1", "3x", ""):
        rc, err, msgs = splog(b"x\n", "qmail", fac)
        check(rc == 100 and not msgs and "usage" in err, "splogger qmail %r: not a facility: exit 100" % fac)

    data = (b"alert: a\nwarning: w\ninfo\nAlert: not\n alert: not\nwarning:\nalert:x\n\n\n"
            b"tab\there\x01\x7f\x80\xff\0end\n")
    rc, err, msgs = splog(data, "t", "2")
    pri = [m[0] - 16 for m in msgs]
    check_eq(pri, [1, 4, 6, 6, 6, 4, 1, 6], "splogger: alert: -> LOG_ALERT, warning: -> LOG_WARNING, else LOG_INFO;"
             " blank lines are not logged")
    check_eq(msgs[-1][2].split(" ", 1)[1] if msgs else None, "tab?here?????end",
             "splogger: unprintable bytes (tab, controls, DEL, 8-bit, NUL) become '?'")

    for n, parts in ((799, [799]), (800, [799, 1]), (1598, [799, 799]), (1700, [799, 799, 102])):
        rc, err, msgs = splog(b"alert: " + b"x" * (n - 7) + b"\nnext\n")
        texts = [m[2] for m in msgs]
        stamps = [re.match(STAMP, t).group(0) for t in texts]
        body = [t[len(s):] for t, s in zip(texts, stamps)]
        check_eq([len(b) - 1 for b in body[:-1]], parts, "splogger: a line of %d bytes is logged in parts %s" %
                 (n, parts))
        check(all(b[0] == "+" for b in body[1:-1]) and body[0][0] == " " and body[-1] == " next",
              "splogger: ... the later parts marked with '+' after the stamp (%d)" % n)
        check(len(set(stamps[:-1])) == 1 and all(m[0] == 16 + 1 for m in msgs[:-1]) and msgs[-1][0] == 16 + 6,
              "splogger: ... all with the first part's stamp and priority (%d)" % n)
    rc, err, msgs = splog(b"first\nno newline at the end")
    check_eq([m[2].split(" ", 1)[1] for m in msgs], ["first", "no newline at the end"],
             "splogger: a last line without its newline is logged too")
    rc, err, msgs = splog(b"")
    check_eq((rc, msgs), (0, []), "splogger: no input, no messages, exit 0")
    rc, err, msgs = splog(b"a" * 100000 + b"\n")
    check_eq(len(msgs), 126, "splogger: a 100 kB line becomes 126 messages, none longer than 799 bytes")


# ---------------------------------------------------------------- qmail-pw2u

USERS = os.path.join(ROOT, "users")
HELPERS = ("include", "exclude", "mailnames", "subusers", "append")


def write_helpers(files):
    for n in HELPERS:
        path = os.path.join(USERS, n)
        if n in files:
            with open(path, "wb") as f:
                f.write(files[n])
        elif os.path.exists(path):
            os.unlink(path)


def test_pw2u():
    alias = conf("conf-users")
    brk = conf("conf-break")
    uid = os.getuid() or 4242   # users with uid 0 are never listed
    other = uid + 1
    tmp = tempfile.mkdtemp(prefix="tools3-pw2u.")
    homes = {}
    for n in ("alias", "joe", "bob", "sub", "upper"):
        homes[n] = os.path.join(tmp, n)
        os.mkdir(homes[n])
        if os.getuid() == 0:
            os.chown(homes[n], uid, -1)
    missing = os.path.join(tmp, "missing")
    h = {k: v.encode() for k, v in homes.items()}
    U, V, A, B = str(uid).encode(), str(other).encode(), alias.encode(), brk.encode()

    passwd = b"".join([
        b"root:x:0:0:root:/root:/bin/sh\n",
        A + b":x:" + U + b":7:alias:" + h["alias"] + b":/bin/false\n",
        b"joe:x:" + U + b":100:Joe:" + h["joe"] + b":/bin/sh\n",
        b"Upper:x:" + U + b":100::" + h["upper"] + b":/bin/sh\n",
        b"gone:x:" + U + b":100::" + missing.encode() + b":/bin/sh\n",
        b"stranger:x:" + V + b":100::" + h["joe"] + b":/bin/sh\n",
        b"bob:x:" + U + b":101:Bob:" + h["bob"] + b":/bin/sh",   # no final newline
    ])

    def user(name, u, g, home, dash=b"-", brkc=B):
        lines = b"=" + name + b":" + name + b":" + u + b":" + g + b":" + home + b":::\n"
        if brkc:
            lines += b"+" + name + brkc + b":" + name + b":" + u + b":" + g + b":" + home + b":" + dash + b"::\n"
        return lines

    def aliasline(dash=b"-"):
        return b"+:" + A + b":" + U + b":7:" + h["alias"] + b":" + dash + b"::\n"

    def std(dash=b"-", brkc=B, names=(b"joe", b"bob")):
        out = aliasline(dash) + user(A, U, b"7", h["alias"], dash, brkc)
        for n in names:
            out += user(n, U, {b"joe": b"100", b"bob": b"101", b"Upper": b"100", b"gone": b"100",
                               b"stranger": b"100"}[n], {b"joe": h["joe"], b"bob": h["bob"], b"Upper": h["upper"],
                                                          b"gone": missing.encode(), b"stranger": h["joe"]}[n],
                        dash, brkc)
        return out

    def stranger_user(dash=b"-", brkc=B):
        return user(b"stranger", V, b"100", h["joe"], dash, brkc)

    cases = [
        ("default rules (-o -U): skip uid 0, uppercase, missing home, home owned by another uid",
         [], {}, 0, std() + b".\n"),
        ("-u allows uppercase", ["-u"], {}, 0,
         aliasline() + user(A, U, b"7", h["alias"]) + user(b"joe", U, b"100", h["joe"])
         + user(b"Upper", U, b"100", h["upper"]) + user(b"bob", U, b"101", h["bob"]) + b".\n"),
        ("-u -U: the last one wins", ["-u", "-U"], {}, 0, std() + b".\n"),
        ("-H does not look at homes", ["-H"], {}, 0,
         aliasline() + user(A, U, b"7", h["alias"]) + user(b"joe", U, b"100", h["joe"])
         + user(b"gone", U, b"100", missing.encode()) + stranger_user() + user(b"bob", U, b"101", h["bob"]) + b".\n"),
        ("-H -o: back to the default", ["-H", "-o"], {}, 0, std() + b".\n"),
        ("-C: no extension addresses", ["-C"], {}, 0, std(brkc=b"") + b".\n"),
        ("-c+: '+' as the extension delimiter", ["-c+"], {}, 0, std(brkc=b"+") + b".\n"),
        ("-c '': like -C", ["-c", ""], {}, 0, std(brkc=b"") + b".\n"),
        ("-/: .qmail-/ files", ["-/"], {}, 0, std(dash=b"-/") + b".\n"),
        ("include: only the users listed (case-insensitively)",
         [], {"include": A + b"\n# a comment\nJOE  \n"}, 0, std(names=(b"joe",)) + b".\n"),
        ("exclude: not the users listed", [], {"exclude": b"bob\n"}, 0, std(names=(b"joe",)) + b".\n"),
        ("include and exclude together", [], {"include": A + b"\njoe\nbob\n", "exclude": b"joe\n"}, 0,
         std(names=(b"bob",)) + b".\n"),
        ("mailnames: replacement names, empty names skipped, unknown users ignored, the last line wins",
         [], {"mailnames": b"Joe:old\njoe:jdoe::joe.doe:\nnobody:x\nnocolon\n"}, 0,
         aliasline() + user(A, U, b"7", h["alias"])
         + user(b"jdoe", U, b"100", h["joe"]).replace(b"=jdoe:jdoe:", b"=jdoe:joe:").replace(b"+jdoe" + B + b":jdoe:",
                                                                                             b"+jdoe" + B + b":joe:")
         + user(b"joe.doe", U, b"100", h["joe"]).replace(b":joe.doe:" + U, b":joe:" + U)
         + user(b"bob", U, b"101", h["bob"]) + b".\n"),
        ("mailnames with no names: the user gets no address", [], {"mailnames": b"bob:\n"}, 0,
         std(names=(b"joe",)) + b".\n"),
        ("subusers: sub:user:pre:, lines without three colons skipped",
         [], {"subusers": b"sub:joe:pre:\nhalf:joe:pre\nx:bob:p:ignored\n\n"}, 0,
         std() + b"=sub:joe:" + U + b":100:" + h["joe"] + b":-:pre:\n"
         + b"+sub" + B + b":joe:" + U + b":100:" + h["joe"] + b":-:pre-:\n"
         + b"=x:bob:" + U + b":101:" + h["bob"] + b":-:p:\n"
         + b"+x" + B + b":bob:" + U + b":101:" + h["bob"] + b":-:p-:\n.\n"),
        ("subusers with -/ and -C", ["-/", "-C"], {"subusers": b"sub:joe:pre:\n"}, 0,
         std(dash=b"-/", brkc=b"") + b"=sub:joe:" + U + b":100:" + h["joe"] + b":-/:pre:\n.\n"),
        ("subusers for an unknown (or skipped) user: exit 111", [], {"subusers": b"sub:Upper:pre:\n"}, 111,
         b"unable to find Upper user for subuser"),
        ("append: copied before the dot, a missing final newline added",
         [], {"append": b"=extra:joe:1:1:/x:::\n+more:joe:1:1:/x:-::"}, 0,
         std() + b"=extra:joe:1:1:/x:::\n+more:joe:1:1:/x:-::\n.\n"),
        ("every helper at once, in order: users, subusers, append",
         [], {"include": A + b"\njoe\n", "subusers": b"s:joe:p:\n", "append": b"=z:joe:1:1:/z:::\n"}, 0,
         std(names=(b"joe",)) + b"=s:joe:" + U + b":100:" + h["joe"] + b":-:p:\n"
         + b"+s" + B + b":joe:" + U + b":100:" + h["joe"] + b":-:p-:\n=z:joe:1:1:/z:::\n.\n"),
        ("empty exclude, mailnames, subusers and append files change nothing", [],
         {"exclude": b"", "mailnames": b"", "subusers": b"", "append": b""}, 0, std() + b".\n"),
        ("an empty include file admits nobody: exit 111", [], {"include": b""}, 111,
         b"unable to find " + A + b" user"),
        ("include without the alias user: exit 111", [], {"include": b"joe\n"}, 111,
         b"unable to find " + A + b" user"),
        ("-h: a missing home stops it", ["-h"], {}, 111, b"unable to stat " + missing.encode()),
        ("a bad option: exit 100", ["-x"], {}, 100, b"usage"),
        ("an operand: exit 100", ["extra"], {}, 100, b"usage"),
    ]
    saved = {}
    try:
        for name, args, files, code, want in cases:
            write_helpers(files)
            p = run("qmail-pw2u", args, stdin=passwd)
            check_eq(p.returncode, code, "qmail-pw2u: %s: exit %d" % (name, code), errtext(p))
            if code == 0:
                check_eq(p.stdout, want, "qmail-pw2u: %s: output" % name)
            else:
                check(want in p.stderr and not p.stdout.endswith(b"\n.\n"),
                      "qmail-pw2u: %s: says why, and no final dot" % name, errtext(p))
        write_helpers({})

        # Malformed passwd lines are skipped; a long one with a warning.
        junk = b"".join([
            b"\n", b"# comment\n", b"short:x:1:1\n", b"nonnum:x:12a:1::" + h["joe"] + b":/bin/sh\n",
            b"+nis::::::\n", b"-nis::::::\n", b"nul\0:x:" + U + b":1::" + h["joe"] + b":/bin/sh\n",
            b"eight:x:" + U + b":1::" + h["joe"] + b":/bin/sh:extra\n",
            b"big:x:" + U + b":1:" + b"g" * 70000 + b":" + h["joe"] + b":/bin/sh\n",
            b"huge:x:" + U + b":99999999999:x:" + h["joe"] + b":/bin/sh\n",
            b"crlf:x:" + U + b":5::" + h["joe"] + b":/bin/sh\r\n",
        ])
        p = run("qmail-pw2u", ["-H"], stdin=junk + passwd)
        want_tail = user(b"crlf", U, b"5", h["joe"])
        check_eq(p.returncode, 0, "qmail-pw2u: malformed lines among good ones: exit 0", errtext(p))
        check(p.stdout.startswith(want_tail) and b"short" not in p.stdout and b"nonnum" not in p.stdout
              and b"nis" not in p.stdout and b"nul" not in p.stdout and b"eight" not in p.stdout
              and b"big" not in p.stdout and b"huge" not in p.stdout,
              "qmail-pw2u: only well-formed passwd lines count (pwfile's parser)", repr(p.stdout[:300]))
        check(b"longer than 65536" in p.stderr, "qmail-pw2u: a line over 64 kB is skipped with a warning",
              errtext(p))
        p = run("qmail-pw2u", [], stdin=b"")
        check(p.returncode == 111 and (b"unable to find " + A) in p.stderr, "qmail-pw2u: empty input: no alias, 111")
        p = run("qmail-pw2u", [], stdin=b"x" * 200000)
        check_eq(p.returncode, 111, "qmail-pw2u: 200 kB without a newline: skipped, no alias, 111")

        # A helper file it cannot read is a temporary error.
        os.mkdir(os.path.join(USERS, "subusers"))
        p = run("qmail-pw2u", [], stdin=passwd)
        check(p.returncode == 111 and b"users/subusers" in p.stderr, "qmail-pw2u: unreadable users/subusers: 111",
              errtext(p))
        os.rmdir(os.path.join(USERS, "subusers"))
        write_helpers({"subusers": b"a:joe:p:\nb\0:joe:p:\n"})
        p = run("qmail-pw2u", [], stdin=passwd)
        check(p.returncode == 111 and b"NUL" in p.stderr, "qmail-pw2u: a NUL in users/subusers: 111")
        write_helpers({"exclude": b"a\0b\n"})
        p = run("qmail-pw2u", [], stdin=passwd)
        check_eq(p.returncode, 111, "qmail-pw2u: a NUL in users/exclude: 111 (control files refuse garbage)")
        write_helpers({})

        # What it writes, qmail-newu compiles (users/assign and users/cdb are
        # put back as they were afterwards).
        p = run("qmail-pw2u", [], stdin=passwd)
        assign = os.path.join(USERS, "assign")
        for fn in (assign, os.path.join(USERS, "cdb")):
            if os.path.exists(fn):
                with open(fn, "rb") as f:
                    saved[fn] = f.read()
        with open(assign, "wb") as f:
            f.write(p.stdout)
        n = subprocess.run([os.path.join(quail.BIN, "qmail-newu")], env=BASE, capture_output=True)
        check_eq(n.returncode, 0, "qmail-pw2u's output is a users/assign qmail-newu accepts", n.stderr.decode())
        if n.returncode == 0:
            records, lookup = quail.cdb_read(os.path.join(USERS, "cdb"))
            check_eq(lookup(b"!joe\0"), [b"joe\0" + U + b"\0" + b"100\0" + h["joe"] + b"\0\0"],
                     "qmail-newu finds joe as qmail-pw2u assigned him")
    finally:
        for fn in (os.path.join(USERS, "assign"), os.path.join(USERS, "cdb")):
            if fn in saved:
                with open(fn, "wb") as f:
                    f.write(saved[fn])
            elif os.path.exists(fn):
                os.unlink(fn)
        write_helpers({})
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--splog":
        splog_helper(sys.argv[2:])
        sys.exit(0)
    # Python ignores SIGPIPE; quail.py may turn it into an exit, which would
    # end this script silently when a program stops reading its input early
    # (qreceipt reads only the header). A write to such a pipe is no error here.
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    FQ = FakeQueue()
    try:
        test_forward()
        test_condredirect()
        test_bouncesaying()
        test_except()
        test_preline()
        test_qreceipt()
        test_splogger()
        test_pw2u()
    finally:
        FQ.remove()
    quail.done()
