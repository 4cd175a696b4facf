"""qmail-local (and maildir2mbox), end to end, from the sanitized build.

Each test makes a home directory (mode 0700) in a scratch directory, a
.qmail file, a message file, runs qmail-local with the message on
descriptor 0, and checks exactly what happened: exit code, report text,
files, the environment a program saw, the one injection of forwards
(through tests/bin/fake-queue named by QMAILQUEUE).

Not tested here: qmail-lspawn running qmail-local as another user (that is
qmail-lspawn's test); a real power cut (the strace test checks that the
file, its name and new/ reach the disk in that order, which is what a
crash needs); the 24-hour Maildir timer firing (SIGALRM is sent instead);
NFS.
"""

import fcntl
import os
import re
import resource
import signal
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import quail  # noqa: E402
from quail import check, check_eq  # noqa: E402

QL = os.path.join(quail.BUILD, "bin", "qmail-local")
M2M = os.path.join(quail.BUILD, "bin", "maildir2mbox")
FAKEQ = os.path.join(quail.BUILD, "tests", "bin", "fake-queue")
ASAN = "detect_leaks=0:abort_on_error=0:allocator_may_return_null=1"
BASEENV = {"PATH": "/usr/bin:/bin", "ASAN_OPTIONS": ASAN,
           "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")}
MSG = b"From: a@b.example\nSubject: hi\n\nhello\nFrom here on\n>From there\n"
STATUS = re.compile(rb"\(#[245]\.\d\.\d+\)\.?\n\Z")
UFLINE = re.compile(rb"From (\S+) (Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                    rb"(\d\d) (\d\d):(\d\d):(\d\d) (\d{4})\n")

TOP = tempfile.mkdtemp(prefix="local_test.")
os.chmod(TOP, 0o755)
_count = [0]


class Home:
    """A scratch home directory with a Maildir, and a fake queue."""

    def __init__(self, maildir=True):
        _count[0] += 1
        self.top = os.path.join(TOP, "t%d" % _count[0])
        os.mkdir(self.top, 0o755)
        self.dir = os.path.join(self.top, "home")
        os.mkdir(self.dir, 0o700)
        self.q = os.path.join(self.top, "queue")
        os.mkdir(self.q, 0o700)
        if maildir:
            self.maildir("Maildir")

    def path(self, *p):
        return os.path.join(self.dir, *p)

    def maildir(self, name):
        for sub in ("", "tmp", "new", "cur"):
            os.mkdir(self.path(name, sub), 0o700)

    def qmail(self, name, text, mode=0o600):
        fn = self.path(name)
        with open(fn, "wb") as f:
            f.write(text if isinstance(text, bytes) else text.encode())
        os.chmod(fn, mode)
        return fn

    def new(self, name="Maildir"):
        d = self.path(name, "new")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def tmp(self, name="Maildir"):
        d = self.path(name, "tmp")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def delivered(self, name="Maildir"):
        """The contents of the files in new/, oldest name first."""
        return [open(self.path(name, "new", f), "rb").read() for f in self.new(name)]

    def read(self, name):
        try:
            return open(self.path(name), "rb").read()
        except FileNotFoundError:
            return None

    def injected(self):
        """(message, envelope) the fake queue got, or None."""
        try:
            return (open(os.path.join(self.q, "message"), "rb").read(),
                    open(os.path.join(self.q, "envelope"), "rb").read())
        except FileNotFoundError:
            return None

    def run(self, local="joe", dash="", ext="", host="example.com", sender="a@b.example", dd="./Maildir/",
            msg=MSG, opts=(), env=None, user="joe", homedir=None, preexec=None, prefix=(), stdin=None, timeout=120):
        e = dict(BASEENV)
        e["QMAILQUEUE"] = FAKEQ
        e["FAKEQ_DIR"] = self.q
        if env:
            e.update(env)
        args = list(prefix) + [QL] + list(opts) + [user, homedir if homedir is not None else self.dir,
                                                   local, dash, ext, host, sender, dd]
        mf = os.path.join(self.top, "message")
        with open(mf, "wb") as f:
            f.write(msg)
        with open(mf, "rb") as m:
            p = subprocess.run(args, stdin=stdin if stdin is not None else m, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=e, preexec_fn=preexec, timeout=timeout)
        self.rc, self.out, self.err = p.returncode, p.stdout, p.stderr
        return p.returncode

    def why(self):
        return "exit %r, stdout %r, stderr %r" % (self.rc, self.out, self.err[-2000:])


def head(sender=b"a@b.example", rcpt=b"joe@example.com"):
    return b"Return-Path: <" + sender + b">\nDelivered-To: " + rcpt + b"\n"


def tree(top):
    """Every path under top with its type, mode and size."""
    out = {}
    for dirpath, dirs, files in os.walk(top):
        for n in dirs + files:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            out[os.path.relpath(p, top)] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode),
                                            0 if stat.S_ISDIR(st.st_mode) else st.st_size)
    return out


def check_fail(h, rc, text, name):
    """A failure: the exit code, the reason, and qmail's (#x.y.z) at the end."""
    check_eq(h.rc, rc, name + ": exit %d" % rc, h.why())
    report = h.out + h.err
    check(text.encode() in report, name + ": says " + repr(text), h.why())
    check(STATUS.search(report) is not None, name + ": the report ends in an enhanced status code", h.why())


def have_strace():
    try:
        p = subprocess.run(["strace", "-o", os.devnull, "true"], capture_output=True)
        return p.returncode == 0
    except OSError:
        return False


STRACE = have_strace()

# ---- the basics ----


def test_default_delivery():
    h = Home()
    h.run()
    check_eq(h.rc, 0, "no .qmail: exit 0", h.why())
    check_eq(h.out, b"did 1+0+0\n", "no .qmail: reports did 1+0+0")
    check_eq(h.delivered(), [head() + MSG], "no .qmail: defaultdelivery ./Maildir/, Return-Path and Delivered-To first")
    check_eq(h.tmp(), [], "no .qmail: nothing left in tmp/")
    f = h.new()
    if f:
        st = os.stat(h.path("Maildir", "new", f[0]))
        check_eq(oct(stat.S_IMODE(st.st_mode)), oct(0o600), "the Maildir file has mode 0600")
        check(re.match(r"^\d+\.M\d+P\d+Q\d+\.[^/:]+$", f[0]) is not None, "the Maildir name is time.MusecPpidQn.host",
              f[0])
        check(f[0].endswith("." + os.uname().nodename.replace("/", "\\057").replace(":", "\\072")),
              "the Maildir name ends in the host name", f[0])
    h = Home()
    h.qmail(".qmail", b"")
    h.run()
    check_eq((h.rc, len(h.new())), (0, 1), "an empty .qmail: defaultdelivery", h.why())
    h = Home()
    h.qmail(".qmail", b"./Mailbox\n")
    h.run(dd="./Maildir/\n./Other\n")
    check_eq((h.rc, len(h.new()), h.read("Other")), (0, 0, None), "a .qmail overrides defaultdelivery", h.why())
    h = Home()
    h.run(dd="./Maildir/\n./Mailbox")
    check_eq(h.rc, 0, "defaultdelivery of two lines: exit 0", h.why())
    check_eq(h.out, b"did 2+0+0\n", "defaultdelivery of two lines: both done")
    check(len(h.new()) == 1 and h.read("Mailbox") is not None, "defaultdelivery of two lines: Maildir and mbox")
    h = Home()
    h.qmail(".qmail", b"# comment\n./Maildir/   \t\n\n# another\n")
    h.run()
    check_eq((h.rc, h.out, len(h.new())), (0, b"did 1+0+0\n", 1), "comments, trailing blanks and blank lines", h.why())


def test_usage():
    h = Home()
    p = subprocess.run([QL, "joe", h.dir, "joe", "", ""], capture_output=True, env=BASEENV)
    check_eq(p.returncode, 100, "too few arguments: exit 100")
    p = subprocess.run([QL, "joe", h.dir, "joe", "", "", "x", "s", "./Maildir/", "extra"], capture_output=True,
                       env=BASEENV)
    check_eq(p.returncode, 100, "too many arguments: exit 100")
    h.run(homedir="relative/home")
    check_eq(h.rc, 100, "a relative home directory: exit 100")
    h.run(opts=["-x"])
    check_eq(h.rc, 100, "an unknown option: exit 100")
    check_eq(h.new(), [], "usage errors deliver nothing")
    h.run(opts=["--"])
    check_eq(h.rc, 0, "-- ends the options", h.why())


def test_mbox():
    h = Home()
    h.qmail(".qmail", b"./Mailbox\n")
    msg = b"Subject: x\n\nFrom the start\n>From quoted\n>>From twice\nFrom\nFrom:x\n no From \nlast line"
    t0 = time.time()
    h.run(msg=msg)
    check_eq((h.rc, h.out), (0, b"did 1+0+0\n"), "mbox: exit 0, did 1+0+0", h.why())
    data = h.read("Mailbox") or b""
    m = UFLINE.match(data)
    check(m is not None, "mbox: the message starts with a From_ line", repr(data[:80]))
    if m:
        check_eq(m.group(1), b"a@b.example", "mbox: From_ line has the envelope sender")
        t = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(int(t0))).encode()
        t1 = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(int(t0) + 1)).encode()
        check(data[5 + len(m.group(1)) + 1:m.end() - 1] in (t, t1), "mbox: the From_ date is now, in UTC",
              repr(data[:m.end()]))
        want = (head() + b"Subject: x\n\n>From the start\n>>From quoted\n>>>From twice\nFrom\nFrom:x\n no From \n"
                b"last line\n\n")
        check_eq(data[m.end():], want, "mbox: Return-Path, Delivered-To, >From quoting, newline added, blank line")
    st = os.stat(h.path("Mailbox"))
    check_eq(oct(stat.S_IMODE(st.st_mode)), oct(0o600), "mbox: created with mode 0600")
    h.run(msg=b"second\n", sender="")
    data2 = h.read("Mailbox") or b""
    check(data2.startswith(data), "mbox: a second message is appended")
    m = UFLINE.match(data2[len(data):])
    check(m is not None and m.group(1) == b"MAILER-DAEMON", "mbox: empty sender is MAILER-DAEMON",
          repr(data2[len(data):][:60]))
    check(data2.endswith(head(b"") + b"second\n\n"), "mbox: Return-Path <> and one blank line after a full line")
    h = Home()
    h.qmail(".qmail", b"/nonexistent/dir/Mailbox\n")
    h.run()
    check_fail(h, 111, "Unable to open /nonexistent/dir/Mailbox", "mbox in a missing directory")
    h = Home()
    h.qmail(".qmail", b".\n")
    h.run()
    check_fail(h, 111, "Unable to open .:", "mbox line '.' (a directory)")


def test_mbox_truncate():
    h = Home()
    h.qmail(".qmail", b"./Mailbox\n")
    old = b"From x Thu Jan 01 00:00:00 1970\nold\n\n"
    with open(h.path("Mailbox"), "wb") as f:
        f.write(old)

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20000, resource.RLIM_INFINITY))
    h.run(msg=b"Subject: big\n\n" + b"From x\n" * 10000, preexec=limit)
    check_fail(h, 111, "Unable to write ./Mailbox", "mbox write error (file size limit)")
    check_eq(h.read("Mailbox"), old, "mbox write error: truncated back to the old size")
    if STRACE:
        h.run(prefix=["strace", "-f", "-qq", "-o", os.devnull, "-e", "inject=fsync:error=EIO"])
        check_fail(h, 111, "Unable to write ./Mailbox: input/output error", "mbox fsync error")
        check_eq(h.read("Mailbox"), old, "mbox fsync error: truncated back")
        h.run(prefix=["strace", "-f", "-qq", "-o", os.devnull, "-e", "inject=write:error=ENOSPC:when=1"])
        check_fail(h, 111, "out of disk space", "mbox disk full")
        check_eq(h.read("Mailbox"), old, "mbox disk full: truncated back")


def start_locked_mbox():
    """An mbox locked for longer than 30 seconds: qmail-local gives up after
    30 seconds with a temporary failure. Started early, checked at the end."""
    h = Home()
    h.qmail(".qmail", b"./Mailbox\n")
    with open(h.path("Mailbox"), "wb") as f:
        f.write(b"old\n")
    lock = open(h.path("Mailbox"), "rb")
    fcntl.flock(lock, fcntl.LOCK_EX)
    e = dict(BASEENV)
    mf = os.path.join(h.top, "message")
    with open(mf, "wb") as f:
        f.write(MSG)
    m = open(mf, "rb")
    p = subprocess.Popen([QL, "joe", h.dir, "joe", "", "", "example.com", "a@b.example", "./Maildir/"], stdin=m,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e)
    return (h, lock, m, p, time.time())


def finish_locked_mbox(state):
    h, lock, m, p, t0 = state
    out, err = p.communicate(timeout=120)
    t = time.time() - t0
    h.rc, h.out, h.err = p.returncode, out, err
    check_fail(h, 111, "File has been locked for 30 seconds straight.", "mbox locked by another process")
    check(29 <= t < 60, "mbox locked: qmail-local waited 30 seconds", "%.1f s" % t)
    check_eq(h.read("Mailbox"), b"old\n", "mbox locked: the mbox is untouched")
    lock.close()
    m.close()


def test_mbox_lock_released():
    h = Home()
    h.qmail(".qmail", b"./Mailbox\n")
    with open(h.path("Mailbox"), "wb") as f:
        f.write(b"old\n")
    lock = open(h.path("Mailbox"), "rb")
    fcntl.flock(lock, fcntl.LOCK_EX)
    mf = os.path.join(h.top, "message")
    with open(mf, "wb") as f:
        f.write(MSG)
    with open(mf, "rb") as m:
        p = subprocess.Popen([QL, "joe", h.dir, "joe", "", "", "example.com", "a@b.example", "./Maildir/"],
                             stdin=m, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BASEENV)
        time.sleep(1.5)
        check_eq(p.poll(), None, "mbox locked: qmail-local waits for the lock")
        fcntl.flock(lock, fcntl.LOCK_UN)
        out, err = p.communicate(timeout=60)
    lock.close()
    check_eq((p.returncode, out), (0, b"did 1+0+0\n"), "mbox lock released: delivered", repr(err))
    data = h.read("Mailbox") or b""
    check(data.startswith(b"old\nFrom a@b.example ") and data.endswith(MSG.replace(b"\nFrom here", b"\n>From here")
                                                                       .replace(b"\n>From there", b"\n>>From there")
                                                                       + b"\n"),
          "mbox lock released: appended after the old content", repr(data[-80:]))


# ---- programs ----


def test_program_env():
    h = Home()
    h.qmail(".qmail-list-default", b"|env -0 > env.out\n|pwd > pwd.out\n")
    h.qmail(".qmail-list-sub:x-y-z-owner", b"")
    h.run(local="joe-list-Sub.X-y-z", dash="-", ext="list-Sub.X-y-z", host="mail.example.co.uk", sender="s@x.example",
          env={"INHERITED": "yes", "DEFAULT": "from-outside"})
    check_eq((h.rc, h.out), (0, b"did 0+0+2\n"), "program lines: exit 0, did 0+0+2", h.why())
    raw = h.read("env.out") or b""
    env = dict(kv.split(b"=", 1) for kv in raw.split(b"\0") if b"=" in kv)
    want = {
        b"SENDER": b"s@x.example",
        b"NEWSENDER": b"joe-list-Sub.X-y-z-owner@mail.example.co.uk",
        b"RECIPIENT": b"joe-list-Sub.X-y-z@mail.example.co.uk",
        b"USER": b"joe",
        b"HOME": h.dir.encode(),
        b"HOST": b"mail.example.co.uk",
        b"HOST2": b"mail.example.co",
        b"HOST3": b"mail.example",
        b"HOST4": b"mail",
        b"LOCAL": b"joe-list-Sub.X-y-z",
        b"EXT": b"list-Sub.X-y-z",
        b"EXT2": b"Sub.X-y-z",
        b"EXT3": b"y-z",
        b"EXT4": b"z",
        b"DEFAULT": b"Sub.X-y-z",
        b"DTLINE": b"Delivered-To: joe-list-Sub.X-y-z@mail.example.co.uk\n",
        b"RPLINE": b"Return-Path: <s@x.example>\n",
    }
    for k, v in sorted(want.items()):
        check_eq(env.get(k), v, "program environment: " + k.decode())
    m = UFLINE.match(env.get(b"UFLINE", b""))
    check(m is not None and m.group(1) == b"s@x.example" and m.end() == len(env[b"UFLINE"]),
          "program environment: UFLINE is the From_ line", repr(env.get(b"UFLINE")))
    check_eq(env.get(b"INHERITED"), b"yes", "program environment: inherited variables are kept")
    check_eq(env.get(b"PATH"), b"/usr/bin:/bin", "program environment: PATH inherited")
    shell = {b"PWD", b"SHLVL", b"_", b"OLDPWD"}
    extra = set(env) - set(want) - {b"UFLINE"} - set(k.encode() for k in BASEENV) - {b"QMAILQUEUE", b"FAKEQ_DIR",
                                                                                       b"INHERITED"} - shell
    check_eq(sorted(extra), [], "program environment: nothing else")
    check_eq(h.read("pwd.out"), h.dir.encode() + b"\n", "program runs in the home directory")

    h = Home()
    h.qmail(".qmail", b"|env -0 > env.out\n")
    h.run(env={"DEFAULT": "from-outside"})
    raw = h.read("env.out") or b""
    env = dict(kv.split(b"=", 1) for kv in raw.split(b"\0") if b"=" in kv)
    check_eq(env.get(b"DEFAULT"), None, "program environment: no DEFAULT without a -default file")
    check_eq((env.get(b"EXT"), env.get(b"EXT2"), env.get(b"HOST2")), (b"", b"", b"example"),
             "program environment: empty EXT, EXT2, HOST2 of a two-part host")
    check_eq(env.get(b"NEWSENDER"), b"a@b.example", "program environment: NEWSENDER is SENDER without -owner")


def test_program_stdin():
    h = Home()
    h.qmail(".qmail", b"|cat > in1.out\n|head -c 5 > /dev/null; cat > in2.out\n|cat > in3.out\n")
    msg = b"Subject: x\n\nno final newline"
    h.run(msg=msg)
    check_eq(h.rc, 0, "program stdin: exit 0", h.why())
    check_eq(h.read("in1.out"), msg, "program stdin: the message, without Return-Path or Delivered-To")
    check_eq(h.read("in3.out"), msg, "program stdin: rewound before each program line")
    check_eq(h.read("in2.out"), msg[5:], "program stdin: one shared descriptor (read from where the seek left it)")
    h = Home()
    # exec: the shell's own status is no good, as dash blocks every signal
    # for a moment while it forks a command; cat's is what it inherited.
    h.qmail(".qmail", b"|exec cat /proc/self/status > status.out\n")
    h.run()
    status = dict(ln.split(b":", 1) for ln in (h.read("status.out") or b"").splitlines() if b":" in ln)
    ign = int(status.get(b"SigIgn", b"0").strip(), 16)
    blk = int(status.get(b"SigBlk", b"0").strip(), 16)
    check_eq(ign & (1 << (signal.SIGPIPE - 1)), 0, "program: SIGPIPE is not ignored in the program", h.why())
    check_eq(blk, 0, "program: no signal is blocked in the program")


def test_program_exit_codes():
    cases = [(0, 0, "success"), (99, 0, "success, skip the rest"), (100, 100, "permanent"), (111, 111, "temporary")]
    cases += [(c, 100, "hard error") for c in (64, 65, 70, 76, 77, 78, 112)]
    cases += [(c, 111, "soft error") for c in (1, 2, 63, 66, 75, 98, 101, 110, 113, 126, 127, 255)]
    for code, want, what in cases:
        h = Home()
        h.qmail(".qmail", "|echo program says hi; exit %d\n./Maildir/\n" % code)
        h.run()
        check_eq(h.rc, want, "program exit %d (%s): qmail-local exits %d" % (code, what, want), h.why())
        check(b"program says hi" in h.out, "program exit %d: its output is in the report" % code)
        delivered = len(h.new())
        check_eq(delivered, 1 if code == 0 else 0, "program exit %d: the next line %s" %
                 (code, "runs" if code == 0 else "does not run"))
    h = Home()
    h.qmail(".qmail", b"|kill -SEGV $$\n./Maildir/\n")
    h.run()
    check_fail(h, 111, "Aack, child crashed.", "program killed by a signal")
    check_eq(h.new(), [], "program killed: the next line does not run")
    h = Home()
    h.qmail(".qmail", b"./Maildir/\n|exit 99\n./Other/\n|touch not-run\n&x@y.example\n")
    h.maildir("Other")
    h.run()
    check_eq((h.rc, h.out), (0, b"did 1+0+1\n"), "exit 99: lines after it are not even counted", h.why())
    check_eq((len(h.new()), len(h.new("Other")), h.read("not-run"), h.injected()), (1, 0, None, None),
             "exit 99: earlier lines done, later ones skipped")
    h = Home()
    h.qmail(".qmail", b"|\n")
    h.run()
    check_eq((h.rc, h.out), (0, b"did 0+0+1\n"), "an empty program line runs sh -c ''", h.why())


# ---- forwards ----


def test_forward():
    h = Home()
    h.qmail(".qmail", b"&a@x.example\nb@y.example\n# c@z.example\n9c@z.example\n")
    h.run()
    check_eq(h.rc, 0, "forward: exit 0", h.why())
    m = re.match(rb"did 0\+3\+0\nqp (\d+)\n\Z", h.out)
    check(m is not None, "forward: reports did 0+3+0 and the queue pid", repr(h.out))
    inj = h.injected()
    if check(inj is not None, "forward: one injection through $QMAILQUEUE"):
        check_eq(inj[1], b"Fa@b.example\0Ta@x.example\0Tb@y.example\0T9c@z.example\0\0",
                 "forward: one envelope, sender kept, all recipients")
        check_eq(inj[0], b"Delivered-To: joe@example.com\n" + MSG,
                 "forward: Delivered-To prepended, no Return-Path")
    check_eq(h.new(), [], "forward: nothing delivered locally")

    h = Home()
    h.qmail(".qmail", b"&a@x.example\n./Maildir/\n|exit 111\n")
    h.run()
    check_eq(h.rc, 111, "forward after a failing line: exit 111", h.why())
    check_eq(h.injected(), None, "forward after a failing line: nothing injected")
    check_eq(len(h.new()), 1, "forward after a failing line: the earlier Maildir line was done")

    for code, rc, text in ((31, 100, "mail server permanently rejected message (#5.3.0)."),
                           (71, 111, "mail server temporarily rejected message (#4.3.0)."),
                           (53, 111, "qq write error or disk full (#4.3.0).")):
        h = Home()
        h.qmail(".qmail", b"&a@x.example\n")
        h.run(env={"FAKEQ_EXIT": str(code)})
        check_fail(h, rc, "Unable to forward message: " + text, "forward refused by qmail-queue (exit %d)" % code)
    h = Home()
    h.qmail(".qmail", b"&a@x.example\n")
    h.run(env={"QMAILQUEUE": "/nonexistent/qmail-queue"})
    check_eq(h.rc, 111, "forward with an unrunnable qmail-queue: exit 111", h.why())
    h = Home()
    h.qmail(".qmail", b"&" + b"x" * 1001 + b"@y\n")
    h.run(env={"FAKEQ_EXIT": "11"})
    check_fail(h, 100, "envelope address too long", "forward to a too long address")

    h = Home()
    h.qmail(".qmail", b"&a@x.example\n")
    h.run(msg=b"Subject: x\n\nno newline at the end")
    inj = h.injected()
    check(inj is not None and inj[0] == b"Delivered-To: joe@example.com\nSubject: x\n\nno newline at the end",
          "forward: a message without a final newline is forwarded as it is")


def test_newsender():
    cases = [
        ((), "a@b.example", b"Fa@b.example\0", "no owner file: the sender is kept"),
        ((".qmail-list-owner",), "a@b.example", b"Fjoe-list-owner@example.com\0", ".qmail-list-owner: list-owner"),
        ((".qmail-list-owner", ".qmail-list-owner-default"), "a@b.example",
         b"Fjoe-list-owner-@example.com-@[]\0", "owner and owner-default: VERP sender"),
        ((".qmail-list-owner-default",), "a@b.example", b"Fa@b.example\0", "owner-default alone: no change"),
        ((".qmail-list-owner",), "", b"F\0", "owner file, bounce: <> kept"),
        ((".qmail-list-owner", ".qmail-list-owner-default"), "#@[]", b"F#@[]\0",
         "owner files, double bounce: #@[] kept"),
    ]
    for files, sender, want, name in cases:
        h = Home()
        h.qmail(".qmail-list", b"&sub@x.example\n")
        for f in files:
            h.qmail(f, b"")
        h.run(local="joe-list", dash="-", ext="list", sender=sender)
        inj = h.injected()
        check_eq(inj[1][:len(want)] if inj else None, want, "NEWSENDER: " + name, h.why())
    h = Home()
    h.qmail(".qmail-list-default", b"&sub@x.example\n")
    h.qmail(".qmail-list-foo-owner", b"")
    h.qmail(".qmail-list-owner", b"")
    h.run(local="joe-list-foo", dash="-", ext="list-foo")
    inj = h.injected()
    check_eq(inj[1][:len(b"Fjoe-list-foo-owner@example.com\0")] if inj else None,
             b"Fjoe-list-foo-owner@example.com\0", "NEWSENDER: the owner file of the whole extension, not the default's")


# ---- the .qmail lookup ----


def test_lookup():
    h = Home()
    h.qmail(".qmail-default", b"|echo default:$DEFAULT\n")
    h.qmail(".qmail-foo-default", b"|echo foo-default:$DEFAULT\n")
    h.qmail(".qmail-foo-bar-default", b"|echo foo-bar-default:$DEFAULT\n")
    h.qmail(".qmail-foo-bar-baz", b"|echo exact:${DEFAULT-unset}\n")
    for ext, want in (("foo-bar-baz", b"exact:unset"), ("foo-bar-qux", b"foo-bar-default:qux"),
                      ("foo-bar-qux-quux", b"foo-bar-default:qux-quux"), ("foo-bar", b"foo-default:bar"),
                      ("foo-x", b"foo-default:x"), ("foox", b"default:foox"), ("other", b"default:other"),
                      ("Foo-Bar-QUX", b"foo-bar-default:QUX"), ("foo-bar-", b"foo-bar-default:"),
                      ("", b"default:")):
        h.run(local="joe-" + ext, dash="-", ext=ext)
        check_eq(h.out.split(b"\n")[0] if h.rc == 0 else h.why(), want, "lookup: extension %r" % ext)
    h = Home()
    h.qmail(".qmail-foo:bar", b"|echo dots\n")
    h.run(local="joe-Foo.Bar", dash="-", ext="Foo.Bar")
    check_eq(h.out.split(b"\n")[0], b"dots", "lookup: dots become colons, uppercase lowercase", h.why())
    h.qmail(".qmail-foo.bar", b"|echo wrong\n")
    h.run(local="joe-foo.bar", dash="-", ext="foo.bar")
    check_eq(h.out.split(b"\n")[0], b"dots", "lookup: a file named with a dot is never used", h.why())
    h = Home()
    h.run(local="joe-nothing", dash="-", ext="nothing")
    check_fail(h, 100, "Sorry, no mailbox here by that name. (#5.1.1)", "lookup: no file for an extension")
    check_eq(h.new(), [], "lookup: no file: nothing delivered")
    h = Home()
    h.qmail(".qmail-empty", b"")
    h.run(local="joe-empty", dash="-", ext="empty")
    check_eq((h.rc, len(h.new())), (0, 1), "lookup: an empty .qmail-ext means defaultdelivery", h.why())
    h = Home()
    h.qmail(".qmail-default", b"")
    h.run(local="joe-x", dash="-", ext="x")
    check_eq((h.rc, len(h.new())), (0, 1), "lookup: an empty .qmail-default means defaultdelivery", h.why())


def test_symlink():
    h = Home()
    target = os.path.join(h.top, "listdir")
    os.mkdir(target)
    with open(os.path.join(target, "editor"), "wb") as f:
        f.write(b"|echo from the list dir\n")
    os.chmod(os.path.join(target, "editor"), 0o600)
    os.symlink(os.path.join(target, "editor"), h.path(".qmail-list"))
    h.run(local="joe-list", dash="-", ext="list")
    check_eq((h.rc, h.out), (0, b"from the list dir\ndid 0+0+1\n"), "a symlinked .qmail outside home is followed",
             h.why())
    os.symlink("nowhere", h.path(".qmail-dangling"))
    h.run(local="joe-dangling", dash="-", ext="dangling")
    check_eq(h.rc, 100, "a dangling .qmail symlink is a missing file", h.why())
    os.chmod(os.path.join(target, "editor"), 0o602)
    h.run(local="joe-list", dash="-", ext="list")
    check_eq(h.rc, 111, "the target's mode is checked (world-writable target)", h.why())


def test_modes():
    h = Home()
    h.qmail(".qmail", b"./Maildir/\n", mode=0o602)
    h.run()
    check_fail(h, 111, "Uh-oh: .qmail file is writable. (#4.7.0)", "world-writable .qmail")
    check_eq(h.new(), [], "world-writable .qmail: nothing delivered")
    h = Home()
    h.qmail(".qmail", b"./Maildir/\n", mode=0o660)
    h.run()
    check_eq(h.rc, 0, "group-writable .qmail is allowed (conf-patrn 002)", h.why())
    h = Home()
    os.chmod(h.dir, 0o777)
    h.run()
    check_fail(h, 111, "Uh-oh: home directory is writable. (#4.7.0)", "world-writable home")
    check_eq(h.new(), [], "world-writable home: nothing delivered")
    h = Home()
    os.chmod(h.dir, 0o1700)
    h.run()
    check_fail(h, 111, "Home directory is sticky: user is editing his .qmail file. (#4.2.1)", "sticky home")
    check_eq(h.new(), [], "sticky home: nothing delivered")
    h.run(opts=["-n"])
    check_eq((h.rc, h.out), (0, b"maildir ./Maildir/\ndid 1+0+0\n"), "sticky home with -n: only a warning", h.why())
    check(b"Warning: home directory is sticky." in h.err, "sticky home with -n: the warning", h.why())
    h = Home()
    h.run(homedir=os.path.join(h.top, "nonexistent"))
    check_fail(h, 111, "Unable to switch to " + os.path.join(h.top, "nonexistent"), "missing home directory")
    if not quail.is_root():
        h = Home()
        h.qmail(".qmail", b"./Maildir/\n", mode=0o000)
        h.run()
        check_fail(h, 111, "Unable to open .qmail", "unreadable .qmail is a temporary failure")
    else:
        quail.skip("unreadable .qmail", "root reads everything")


def test_xbit():
    h = Home()
    h.qmail(".qmail", b"&a@x.example\nb@y.example\n# comment\n", mode=0o700)
    h.run()
    check_eq(h.rc, 0, "x bit: forwards only are fine", h.why())
    for line, what in ((b"./Maildir/\n", "file"), (b"./Mailbox\n", "file"), (b"|true\n", "prog")):
        h = Home()
        h.qmail(".qmail", b"&a@x.example\n" + line, mode=0o700)
        h.run()
        check_fail(h, 111, "Uh-oh: .qmail has %s delivery but has x bit set. (#4.7.0)" % what,
                   "x bit with a %r line" % line.strip())
        check_eq((h.new(), h.injected(), h.read("Mailbox")), ([], None, None), "x bit: nothing done")
    h = Home()
    h.qmail(".qmail", b"./Maildir/\n+list\n|true\n")
    h.run()
    check_fail(h, 111, "has prog delivery but has x bit set", "+list: later program lines refused")
    check_eq(len(h.new()), 1, "+list: lines before it were done")
    h = Home()
    h.qmail(".qmail", b"+list\n&a@x.example\n")
    h.run()
    check_eq(h.rc, 0, "+list with forwards only", h.why())
    h = Home()
    h.qmail(".qmail", b"+lists\n./Maildir/\n")
    h.run()
    check_eq(h.rc, 0, "+lists is not +list (ignored)", h.why())
    h = Home()
    h.qmail(".qmail", b"", mode=0o700)
    h.run()
    check_eq((h.rc, len(h.new())), (0, 1), "x bit on an empty .qmail: defaultdelivery still allowed", h.why())


def test_loop():
    h = Home()
    h.run(msg=b"Received: x\nDelivered-To: joe@example.com\nSubject: x\n\nbody\n")
    check_fail(h, 100, "This message is looping: it already has my Delivered-To line. (#5.4.6)", "loop detection")
    check_eq(h.new(), [], "loop: nothing delivered")
    for msg, name in ((b"Subject: x\n\nDelivered-To: joe@example.com\n", "in the body"),
                      (b"Delivered-To: Joe@example.com\n\nx\n", "in another case"),
                      (b"Delivered-To: joe@example.com.au\n\nx\n", "for a longer address"),
                      (b"Delivered-To: other@example.com\n\nx\n", "for another address")):
        h = Home()
        h.run(msg=msg)
        check_eq(h.rc, 0, "not a loop: Delivered-To " + name, h.why())
    h = Home()
    h.qmail(".qmail", b"&a@x.example\n")
    h.run(msg=b"Delivered-To: joe@example.com\n\nx\n", opts=["-n"])
    check_eq(h.rc, 0, "-n does not read the message (no loop check)", h.why())


def test_dash_n():
    h = Home()
    h.qmail(".qmail", b"# c\n./Maildir/\n./Mailbox\n|touch ran\n&a@x.example\nb@y.example\n")
    h.run(opts=["-n"])
    check_eq(h.rc, 0, "-n: exit 0", h.why())
    check_eq(h.out, b"maildir ./Maildir/\nmbox ./Mailbox\nprogram touch ran\nforward a@x.example\nforward b@y.example\n"
             b"did 2+2+1\n", "-n: prints the instructions and the counts")
    check_eq((h.new(), h.read("Mailbox"), h.read("ran"), h.injected()), ([], None, None, None), "-n: does nothing")
    h.run(opts=["-nN"])
    check_eq((h.rc, len(h.new()), h.read("ran") is not None), (0, 1, True), "-nN: -N (deliver) wins", h.why())
    h = Home()
    h.run(opts=["-n"], stdin=subprocess.PIPE)
    check_eq(h.rc, 0, "-n: the message need not be seekable", h.why())


def test_first_line_blank():
    h = Home()
    h.qmail(".qmail", b"\n./Maildir/\n")
    h.run()
    check_fail(h, 111, "Uh-oh: first line of .qmail file is blank. (#4.2.1)", "blank first line")
    h = Home()
    h.qmail(".qmail", b"  \t\n./Maildir/\n")
    h.run()
    check_fail(h, 111, "first line of .qmail file is blank", "first line of blanks only")


# ---- bad input ----


def test_bad_input():
    h = Home()
    h.run(msg=b"Subject: x\n\nno final newline")
    check_eq(h.delivered(), [head() + b"Subject: x\n\nno final newline"], "a message without a final newline: "
             "the Maildir file is exactly it")
    h = Home()
    h.run(msg=b"")
    check_eq(h.delivered(), [head()], "an empty message: just the two lines")

    h = Home()
    h.qmail(".qmail", b"./Maildir/\n./Mailbox\n|env -0 > env.out\n")
    h.run(sender="a\rb@c.example")
    d = h.delivered()
    want = b"Return-Path: <\"a\\\rb\"@c.example>\nDelivered-To: joe@example.com\n"
    check_eq(d[0][:len(want)] if d else None, want, "a sender with CR: quoted in Return-Path, one line")
    mb = h.read("Mailbox") or b""
    check(mb.startswith(b"From a\rb@c.example "), "a sender with CR: From_ line keeps it", repr(mb[:40]))
    check(mb.split(b"\n")[1] == want.split(b"\n")[0], "a sender with CR: mbox Return-Path")
    h = Home()
    h.run(sender="a\nb@c.example")
    d = h.delivered()
    check(d and d[0].startswith(b"Return-Path: <\"a\\_b\"@c.example>\nDelivered-To:"),
          "a sender with LF: no header injection", repr(d[0][:60]) if d else h.why())

    long = "x" * 10000
    h = Home()
    h.qmail(".qmail-default", b"./Maildir/\n")
    h.run(local="joe-" + long, dash="-", ext=long)
    check_eq(h.rc, 0, "a local part of 10,000 characters: delivered through .qmail-default", h.why())
    d = h.delivered()
    check(d and d[0].startswith(head(rcpt=b"joe-" + long.encode() + b"@example.com")),
          "a local part of 10,000 characters: the whole Delivered-To line")
    h = Home()
    h.run(local="joe-" + long, dash="-", ext=long)
    check_fail(h, 100, "Sorry, no mailbox here by that name.", "a local part of 10,000 characters, no default")
    h = Home()
    h.run(local="j" * 10000, msg=b"Delivered-To: " + b"j" * 10000 + b"@example.com\n\nx\n")
    check_eq(h.rc, 100, "a 10,000-character Delivered-To loop is still found", h.why())

    for ext in ("../../../../../etc/passwd", "../x", "a/../../b", "/etc/passwd", "..", "x/y/z",
                "../Maildir/new/../../../escape"):
        h = Home()
        h.qmail(".qmail-default", b"./Maildir/\n")
        before = tree(TOP)
        h.run(local="joe-" + ext, dash="-", ext=ext)
        after = tree(TOP)
        added = sorted(p for p in set(after) - set(before) if p != os.path.relpath(os.path.join(h.top, "message"), TOP))
        newfile = [p for p in added if os.path.dirname(p) == os.path.relpath(h.path("Maildir", "new"), TOP)]
        check_eq(h.rc, 0, "extension %r: delivered by .qmail-default" % ext, h.why())
        check_eq((len(added), len(newfile)), (1, 1), "extension %r: the only new file is in the home's Maildir/new"
                 % ext, repr(added))
        changed = [p for p in before if p in after and before[p] != after[p] and not p.endswith("/new")]
        check_eq(changed, [], "extension %r: nothing else changed" % ext)
    h = Home()
    os.mkdir(h.path(".qmail-sub"), 0o700)
    h.qmail(".qmail-sub/x", b"|echo inside\n")
    h.run(local="joe-sub/x", dash="-", ext="sub/x")
    check_eq(h.out.split(b"\n")[0], b"inside", "a '/' in the extension reaches only below the home directory",
             h.why())

    h = Home()
    r, w = os.pipe()
    os.write(w, MSG)
    os.close(w)
    h.run(stdin=r)
    os.close(r)
    check_fail(h, 111, "Unable to rewind message. (#4.3.0)", "an unseekable message")


def test_maildir_errors():
    h = Home(maildir=False)
    h.run()
    check_fail(h, 111, "Unable to create a file in ./Maildir/tmp/: file does not exist. (#4.2.1)", "missing Maildir")
    h = Home(maildir=False)
    os.mkdir(h.path("Maildir"))
    os.mkdir(h.path("Maildir", "tmp"))
    h.run()
    check_fail(h, 111, "Unable to link into ./Maildir/new/", "Maildir without new/")
    check_eq(h.tmp(), [], "Maildir without new/: nothing left in tmp/")


def test_maildir_full():
    big = b"Subject: big\n\n" + (b"y" * 99 + b"\n") * 3000
    if quail.is_root():
        h = Home(maildir=False)
        os.mkdir(h.path("Maildir"), 0o700)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", h.path("Maildir")], check=True)
        try:
            for sub in ("tmp", "new", "cur"):
                os.mkdir(h.path("Maildir", sub), 0o700)
            h.run(msg=big)
            check_fail(h, 111, "Unable to write ./Maildir/: out of disk space. (#4.3.0)",
                       "Maildir on a full tmpfs")
            check_eq((h.new(), h.tmp()), ([], []), "Maildir on a full tmpfs: nothing in new/ or tmp/")
            h.run()
            check_eq((h.rc, len(h.new())), (0, 1), "Maildir on a full tmpfs: a small message still fits", h.why())
        finally:
            subprocess.run(["umount", h.path("Maildir")], check=True)
    else:
        quail.skip("Maildir on a full tmpfs", "needs root to mount a tmpfs")
    if not STRACE:
        quail.skip("disk full through strace", "strace cannot trace here")
        return
    for inject, text, name in (("write:error=ENOSPC:when=1", "out of disk space", "write fails with ENOSPC"),
                               ("write:error=EDQUOT:when=1", "disk quota exceeded", "write fails with EDQUOT"),
                               ("fsync:error=EIO:when=1", "input/output error", "fsync of the file fails")):
        h = Home()
        h.run(msg=big, prefix=["strace", "-f", "-qq", "-o", os.devnull, "-e", "inject=" + inject])
        check_fail(h, 111, text, "Maildir: " + name)
        check_eq((h.new(), h.tmp()), ([], []), "Maildir: %s: nothing in new/ or tmp/" % name)
    h = Home()
    h.run(prefix=["strace", "-f", "-qq", "-o", os.devnull, "-e", "inject=fsync:error=EIO:when=2"])
    check_fail(h, 111, "Unable to link into ./Maildir/new/", "Maildir: fsync of new/ fails")
    check(len(h.new()) <= 1 and h.tmp() == [], "Maildir: fsync of new/ fails: at most the whole message in new/")
    for f in h.delivered():
        check_eq(f, head() + MSG, "Maildir: fsync of new/ fails: a file in new/ is complete")


def strace_calls(h, extra=(), **kw):
    log = os.path.join(h.top, "strace.log")
    h.run(prefix=["strace", "-f", "-qq", "-o", log] + list(extra), **kw)
    lines = open(log).read().splitlines()
    os.unlink(log)
    return [re.sub(r"^\d+ +", "", ln) for ln in lines]


def test_maildir_syscalls():
    if not STRACE:
        quail.skip("Maildir system calls", "strace cannot trace here")
        return
    h = Home()
    calls = strace_calls(h, ["-e", "trace=openat,open,creat,write,fsync,fdatasync,linkat,link,rename,renameat,"
                             "renameat2,unlink,unlinkat,clone,clone3,fork,vfork,execve"])
    check_eq(h.rc, 0, "Maildir under strace: exit 0", h.why())
    tmp = [i for i, c in enumerate(calls) if "O_TMPFILE" in c and re.search(r"= \d+$", c)]
    if not check_eq(len(tmp), 1, "Maildir: one O_TMPFILE file in tmp/", "\n".join(calls)):
        return
    check('"./Maildir/tmp"' in calls[tmp[0]], "Maildir: the unnamed file is in ./Maildir/tmp", calls[tmp[0]])
    fd = calls[tmp[0]].rsplit("= ", 1)[1]
    fsync_file = [i for i, c in enumerate(calls) if c.startswith("fsync(%s)" % fd)]
    link = [i for i, c in enumerate(calls) if c.startswith("linkat(") and '"./Maildir/new/' in c and "= 0" in c]
    check_eq(len(link), 1, "Maildir: named once, directly in new/")
    check(fsync_file and link and fsync_file[0] < link[0], "Maildir: the file is fsynced before it is named")
    dirs = [i for i, c in enumerate(calls) if re.match(r'openat\(AT_FDCWD, "./Maildir/new", O_RDONLY\|O_DIRECTORY', c)]
    if dirs and link:
        dfd = calls[dirs[0]].rsplit("= ", 1)[1]
        check(dirs[0] > link[0] and any(c.startswith("fsync(%s)" % dfd) for c in calls[dirs[0]:]),
              "Maildir: new/ is fsynced after the name")
    else:
        check(False, "Maildir: new/ is fsynced after the name", "\n".join(calls))
    creations = [c for c in calls if re.match(r"(openat|open|creat)\(", c) and ("O_CREAT" in c or "O_TMPFILE" in c)]
    check_eq(len(creations), 1, "Maildir: exactly one file created")
    check_eq([c for c in calls if re.match(r"(rename|unlink)", c)], [], "Maildir: no rename, no unlink")
    check_eq([c for c in calls if re.match(r"(clone|fork|vfork)", c)], [], "Maildir: no fork")
    writes = [c for c in calls if c.startswith("write(%s," % fd)]
    check_eq(len(writes), 1, "Maildir: a small message is one write")
    qm = [c for c in calls if ".qmail" in c]
    check_eq(len(qm), 2, "Maildir: the lookup opens .qmail and .qmaildefault, nothing else", "\n".join(qm))
    check_eq([c for c in calls if "localtime" in c or "/etc/" in c and "ld.so" not in c and ".so" not in c], [],
             "no configuration file is read")

    h = Home()
    h.qmail(".qmail", b"./Mailbox\n")
    calls = strace_calls(h, ["-e", "trace=clone,clone3,fork,vfork,flock,fsync"])
    check_eq(h.rc, 0, "mbox under strace: exit 0", h.why())
    check_eq([c for c in calls if re.match(r"(clone|fork|vfork)", c)], [], "mbox: no fork")
    check(any(c.startswith("flock(") and "LOCK_EX" in c for c in calls), "mbox: flock LOCK_EX")
    check(any(c.startswith("fsync(") for c in calls), "mbox: fsync")


def test_maildir_fallbacks():
    if not STRACE:
        quail.skip("Maildir fallbacks", "strace cannot trace here")
        return
    big = b"Subject: fallback\n\n" + b"z" * 200000 + b"\n"
    h = Home()
    calls = strace_calls(h, ["-e", "trace=openat"], msg=big)
    idx = [i + 1 for i, c in enumerate(calls) if c.startswith("openat(") and "O_TMPFILE" in c]
    if not check_eq(len(idx), 1, "fallbacks: the O_TMPFILE open found"):
        return
    cases = [("openat:error=EOPNOTSUPP:when=%d" % idx[0], "no O_TMPFILE on the filesystem"),
             ("openat:error=EISDIR:when=%d" % idx[0], "an old kernel without O_TMPFILE"),
             ("linkat:error=ENOENT:when=1", "AT_EMPTY_PATH refused: through /proc/self/fd"),
             ("linkat:error=ENOENT:when=1..2", "the unnamed file cannot be named: the classic way")]
    for inject, name in cases:
        h = Home()
        calls = strace_calls(h, ["-e", "trace=openat,link,linkat,unlink,fsync", "-e", "inject=" + inject], msg=big)
        check_eq(h.rc, 0, "fallback, %s: exit 0" % name, h.why())
        check_eq(h.delivered(), [head() + big], "fallback, %s: the message is in new/" % name)
        check_eq(h.tmp(), [], "fallback, %s: nothing left in tmp/" % name)
        if "classic" in name or "O_TMPFILE" in name:
            ex = [c for c in calls if c.startswith("openat(") and "O_EXCL" in c and "/tmp/" in c]
            check_eq(len(ex), 1, "fallback, %s: one tmp/ file created O_EXCL" % name)
            check(any(c.startswith("unlink(") and "/tmp/" in c for c in calls),
                  "fallback, %s: the tmp/ name is removed" % name)


def test_maildir_timeout():
    """The 24-hour timer firing: SIGALRM sent while the Maildir file is
    being written (strace slows each read of the message down)."""
    if not STRACE:
        quail.skip("Maildir timeout", "strace cannot trace here")
        return
    h = Home()
    big = b"Subject: slow\n\n" + b"s" * 3000000 + b"\n"
    mf = os.path.join(h.top, "message")
    with open(mf, "wb") as f:
        f.write(big)
    with open(mf, "rb") as m:
        p = subprocess.Popen(["strace", "-f", "-qq", "-o", os.devnull, "-e", "inject=pread64:delay_exit=200000", QL,
                              "joe", h.dir, "joe", "", "", "example.com", "a@b.example", "./Maildir/"],
                             stdin=m, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BASEENV)
        time.sleep(1.5)
        for pid in subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True).stdout.split():
            os.kill(int(pid), signal.SIGALRM)
        out, err = p.communicate(timeout=120)
    h.rc, h.out, h.err = p.returncode, out, err
    check_fail(h, 111, "Timeout on maildir delivery. (#4.3.0)", "Maildir timer fires")
    check_eq((h.new(), h.tmp()), ([], []), "Maildir timer: nothing in new/ or tmp/")


# ---- maildir2mbox ----


def test_maildir2mbox():
    h = Home()
    md = h.path("Maildir")
    msgs = [("new", "1000.1.host", b"Return-Path: <a@b.example>\nSubject: one\n\nFrom x\n", 1000000000),
            ("cur", "900.2.host:2,S", b"Return-Path: <>\nSubject: two\n\nbody", 900000000),
            ("new", "1100.3.host", b"Subject: three\n\n>From y\n", 1100000000),
            ("new", "1100.4.host", b"Return-Path: <a b\tc@d>\n\n", 1100000000)]
    for sub, name, data, mtime in msgs:
        fn = os.path.join(md, sub, name)
        with open(fn, "wb") as f:
            f.write(data)
        os.utime(fn, (mtime, mtime))
    old = os.path.join(md, "tmp", "stale")
    with open(old, "wb") as f:
        f.write(b"x")
    os.utime(old, (time.time() - 200000, time.time() - 200000))
    fresh = os.path.join(md, "tmp", "fresh")
    with open(fresh, "wb") as f:
        f.write(b"x")
    mbox = h.path("mbox")
    with open(mbox, "wb") as f:
        f.write(b"From old Thu Jan 01 00:00:00 1970\nold\n\n")
    env = dict(BASEENV, MAILDIR=md, MAIL=mbox, MAILTMP=h.path("mbox.tmp"))
    p = subprocess.run([M2M], env=env, capture_output=True)
    check_eq(p.returncode, 0, "maildir2mbox: exit 0", repr(p.stderr))
    want = (b"From old Thu Jan 01 00:00:00 1970\nold\n\n"
            b"From MAILER-DAEMON Thu Jul 09 16:00:00 1998\nReturn-Path: <>\nSubject: two\n\nbody\n\n"
            b"From a@b.example Sun Sep 09 01:46:40 2001\nReturn-Path: <a@b.example>\nSubject: one\n\n>From x\n\n"
            b"From XXX Tue Nov 09 11:33:20 2004\nSubject: three\n\n>>From y\n\n"
            b"From a-b-c@d Tue Nov 09 11:33:20 2004\nReturn-Path: <a b\tc@d>\n\n\n")
    check_eq(h.read("mbox"), want, "maildir2mbox: old mbox, then the messages oldest first, From_ lines, quoting")
    check_eq((sorted(os.listdir(os.path.join(md, "new"))), sorted(os.listdir(os.path.join(md, "cur")))), ([], []),
             "maildir2mbox: the messages are removed from the Maildir")
    check_eq(sorted(os.listdir(os.path.join(md, "tmp"))), ["fresh"], "maildir2mbox: stale tmp/ files cleaned")
    check_eq(os.path.exists(h.path("mbox.tmp")), False, "maildir2mbox: MAILTMP renamed over MAIL")
    st = os.stat(mbox)
    check_eq(oct(stat.S_IMODE(st.st_mode)), oct(0o600), "maildir2mbox: mbox mode 0600")
    p = subprocess.run([M2M], env=env, capture_output=True)
    check_eq((p.returncode, h.read("mbox")), (0, want), "maildir2mbox: nothing new, nothing changes")
    os.unlink(mbox)
    p = subprocess.run([M2M], env=env, capture_output=True)
    check_eq((p.returncode, os.path.exists(mbox)), (0, False), "maildir2mbox: nothing new, no mbox created")
    for var in ("MAIL", "MAILTMP", "MAILDIR"):
        e = dict(env)
        del e[var]
        p = subprocess.run([M2M], env=e, capture_output=True)
        check_eq((p.returncode, p.stderr), (111, b"maildir2mbox: fatal: %s not set\n" % var.encode()),
                 "maildir2mbox: %s not set" % var)
    p = subprocess.run([M2M], env=dict(env, MAILDIR=h.path("none")), capture_output=True)
    check_eq(p.returncode, 111, "maildir2mbox: missing Maildir")
    # then qmail-local into that mbox, and maildir2mbox again: both under the lock
    h.qmail(".qmail", b"./mbox\n")
    h.run()
    fn = os.path.join(md, "new", "1.2.host")
    with open(fn, "wb") as f:
        f.write(b"Return-Path: <z@z>\n\nnew\n")
    os.utime(fn, (1000000000, 1000000000))
    p = subprocess.run([M2M], env=env, capture_output=True)
    data = h.read("mbox") or b""
    check(p.returncode == 0 and data.count(b"\nFrom ") + data.startswith(b"From ") == 2 and
          data.endswith(b"From z@z Sun Sep 09 01:46:40 2001\nReturn-Path: <z@z>\n\nnew\n\n"),
          "maildir2mbox: appends to an mbox qmail-local wrote", repr(data[-100:]))
    with open(fn, "wb") as f:
        f.write(b"x\n")
    os.utime(fn, (1000000000, 1000000000))
    os.chmod(fn, 0)
    if not quail.is_root():
        before = h.read("mbox")
        p = subprocess.run([M2M], env=env, capture_output=True)
        check_eq((p.returncode, h.read("mbox")), (111, before), "maildir2mbox: an unreadable message changes nothing")
    os.chmod(fn, 0o600)


def main():
    if not os.access(QL, os.X_OK):
        check(False, "qmail-local is built", QL)
        quail.done()
    locked = start_locked_mbox()
    try:
        test_default_delivery()
        test_usage()
        test_mbox()
        test_mbox_truncate()
        test_mbox_lock_released()
        test_program_env()
        test_program_stdin()
        test_program_exit_codes()
        test_forward()
        test_newsender()
        test_lookup()
        test_symlink()
        test_modes()
        test_xbit()
        test_loop()
        test_dash_n()
        test_first_line_blank()
        test_bad_input()
        test_maildir_errors()
        test_maildir_full()
        test_maildir_syscalls()
        test_maildir_fallbacks()
        test_maildir_timeout()
        test_maildir2mbox()
        finish_locked_mbox(locked)
    finally:
        subprocess.run(["rm", "-rf", TOP])
    quail.done()


main()
