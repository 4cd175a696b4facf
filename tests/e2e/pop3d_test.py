"""qmail-pop3d end to end: run directly on pipes and socketpairs with
scripted POP3 dialogues, and under the real tcpserver with Python's
poplib. As root, qmail-pop3d (which refuses uid 0) runs as nobody through
setpriv, on Maildirs owned by nobody.

Not tested here: the 1200-second idle timeout (too long to wait for; the
buffer's timeouts are tested in buffer_test), read errors in the middle of
a message file, running out of memory, qmail-popup and checkpassword in
front of it (the popup suite does that).
"""

import os
import poplib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import quail  # noqa: E402
from quail import check, check_eq, BIN, BUILD  # noqa: E402

POP3D = os.path.join(BIN, "qmail-pop3d")
if not os.path.exists(POP3D):
    POP3D = os.path.join(BUILD, "bin", "qmail-pop3d")
TCPSERVER = shutil.which("tcpserver")
ENV = {"PATH": "/usr/bin:/bin", "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
       "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "")}
ROOT = quail.is_root()
WRAP = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] if ROOT else []
CAPA = b"+OK capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\nPIPELINING\r\nRESP-CODES\r\n.\r\n"

MSGS = [
    ("cur", "1700000000.M0P1Q1.test", ":2,S", b"Subject: zero\r\n\r\nCRLF body\r\n"),
    ("new", "1700000001.M1P1Q1.test", "", b"Subject: one\n\nline1\n.dotline\n..two\n\nlast line without LF"),
    ("new", "1700000002.M2P1Q1.test", "", b"Subject: two\nX: y\n\nb1\nb2\nb3\n"),
]

BASE = tempfile.mkdtemp(prefix="pop3d_test.")
os.chmod(BASE, 0o755)


def own(path):
    """Gives path (recursively) to the user qmail-pop3d runs as."""
    if not ROOT:
        return
    for d, dirs, files in os.walk(path):
        os.lchown(d, 65534, 65534)
        for f in files:
            os.lchown(os.path.join(d, f), 65534, 65534)


_homes = 0


def home(msgs=MSGS):
    """A new home directory with a Maildir holding msgs."""
    global _homes
    _homes += 1
    h = os.path.join(BASE, "home%d" % _homes)
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(h, "Maildir", sub))
    for sub, uniq, info, data in msgs:
        with open(os.path.join(h, "Maildir", sub, uniq + info), "wb") as f:
            f.write(data)
    own(h)
    return h


def files(h):
    """The Maildir's files, as sorted "sub/name" strings."""
    out = []
    for sub in ("new", "cur", "tmp"):
        d = os.path.join(h, "Maildir", sub)
        if os.path.isdir(d):
            out += [sub + "/" + n for n in os.listdir(d)]
    return sorted(out)


def text(data, k=None):
    """The POP3 text of a message file (RETR, or TOP with k lines)."""
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    out, inbody = [], False
    for ln in lines:
        if inbody and k is not None:
            if k == 0:
                break
            k -= 1
        if ln.endswith(b"\r"):
            ln = ln[:-1]
        if not inbody and ln == b"":
            inbody = True
        out.append((b"." if ln.startswith(b".") else b"") + ln + b"\r\n")
    return b"".join(out) + b".\r\n"


def run(h, data, args=("Maildir",), timeout=30, wrap=None):
    """A whole scripted session on pipes: (output, exit code, stderr)."""
    p = subprocess.run((WRAP if wrap is None else wrap) + [POP3D] + list(args), cwd=h, input=data,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, timeout=timeout)
    return p.stdout, p.returncode, p.stderr


class Client:
    """qmail-pop3d on one end of a socketpair, for dialogues that change
    the Maildir between commands."""

    def __init__(self, h, args=("Maildir",)):
        a, b = socket.socketpair()
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(WRAP + [POP3D] + list(args), cwd=h, stdin=b, stdout=b, stderr=self.err,
                                     env=ENV)
        b.close()
        self.s = a
        self.s.settimeout(20)
        self.buf = b""

    def _fill(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError("connection closed")
        self.buf += d

    def line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln + b"\r\n"

    def multi(self):
        """A reply and, if it is +OK, its text up to ".\r\n"."""
        first = self.line()
        if not first.startswith(b"+OK"):
            return first
        out = first
        while True:
            ln = self.line()
            out += ln
            if ln == b".\r\n":
                return out

    def cmd(self, c, multi=False):
        self.s.sendall(c + b"\r\n")
        return self.multi() if multi else self.line()

    def end(self, close=True):
        """Closes the connection (if close) and returns (exit code, stderr)."""
        if close:
            self.s.close()
        rc = self.proc.wait(20)
        if not close:
            self.s.close()
        self.err.seek(0)
        e = self.err.read()
        self.err.close()
        return rc, e


def ok_session(name, out, rc, err, want):
    check_eq(out, want, name + ": dialogue")
    check_eq(rc, 0, name + ": exit code")
    check_eq(err, b"", name + ": nothing on descriptor 2")


# ---- scripted sessions ----

def test_listing():
    h = home()
    out, rc, err = run(h, b"CAPA\r\nSTAT\r\nLIST\r\nUIDL\r\nLIST 2\r\nUIDL 3\r\nLAST\r\nNOOP\r\nQUIT\r\n")
    sizes = [len(m[3]) for m in MSGS]
    want = (b"+OK \r\n" + CAPA
            + b"+OK 3 %d\r\n" % sum(sizes)
            + b"+OK \r\n" + b"".join(b"%d %d\r\n" % (i + 1, s) for i, s in enumerate(sizes)) + b".\r\n"
            + b"+OK \r\n" + b"".join(b"%d %s\r\n" % (i + 1, m[1].encode()) for i, m in enumerate(MSGS)) + b".\r\n"
            + b"+OK 2 %d\r\n" % sizes[1] + b"+OK 3 %s\r\n" % MSGS[2][1].encode()
            + b"+OK 0\r\n+OK \r\n+OK \r\n")
    ok_session("listing", out, rc, err, want)
    # QUIT without DELE: new/ moved to cur/ with :2, and cur/ left alone
    check_eq(files(h), ["cur/1700000000.M0P1Q1.test:2,S", "cur/1700000001.M1P1Q1.test:2,",
                        "cur/1700000002.M2P1Q1.test:2,"], "listing: QUIT moved new/ to cur/")
    # the UIDLs do not change when the files move
    out, rc, err = run(h, b"UIDL\r\nQUIT\r\n")
    check_eq(out.split(b"\r\n")[2:5], [b"%d %s" % (i + 1, m[1].encode()) for i, m in enumerate(MSGS)],
             "UIDLs stable after the move to cur/")


def test_retr_top():
    h = home()
    cmds = b"RETR 1\r\nRETR 2\r\nRETR 3\r\nTOP 2 0\r\nTOP 2 2\r\nTOP 3 1\r\nTOP 3 99\r\nTOP 1 0\r\nLAST\r\nQUIT\r\n"
    out, rc, err = run(h, cmds)
    d = [m[3] for m in MSGS]
    want = (b"+OK \r\n"
            + b"+OK \r\n" + text(d[0]) + b"+OK \r\n" + text(d[1]) + b"+OK \r\n" + text(d[2])
            + b"+OK \r\n" + text(d[1], 0) + b"+OK \r\n" + text(d[1], 2) + b"+OK \r\n" + text(d[2], 1)
            + b"+OK \r\n" + text(d[2], 99) + b"+OK \r\n" + text(d[0], 0)
            + b"+OK 3\r\n+OK \r\n")
    ok_session("RETR and TOP", out, rc, err, want)
    # spot checks of the conversion, independent of text()
    check(b"\r\n..dotline\r\n...two\r\n\r\nlast line without LF\r\n.\r\n" in out, "RETR: dot stuffing, last line ended")
    check(b"CRLF body\r\n.\r\n" in out and b"\r\r\n" not in out, "RETR: a CRLF file stays CRLF")
    check(b"+OK \r\nSubject: two\r\nX: y\r\n\r\nb1\r\n.\r\n" in out, "TOP 3 1: header, blank line, one line")


def test_dele():
    h = home()
    out, rc, err = run(h, b"DELE 2\r\nSTAT\r\nLIST\r\nLIST 2\r\nRETR 2\r\nDELE 2\r\nTOP 2 1\r\nUIDL 2\r\n"
                          b"LAST\r\nQUIT\r\n")
    sizes = [len(m[3]) for m in MSGS]
    want = (b"+OK \r\n+OK \r\n" + b"+OK 2 %d\r\n" % (sizes[0] + sizes[2])
            + b"+OK \r\n1 %d\r\n3 %d\r\n.\r\n" % (sizes[0], sizes[2])
            + b"-ERR already deleted\r\n" * 5 + b"+OK 2\r\n+OK \r\n")
    ok_session("DELE", out, rc, err, want)
    check_eq(files(h), ["cur/1700000000.M0P1Q1.test:2,S", "cur/1700000002.M2P1Q1.test:2,"],
             "DELE: removed at QUIT, the rest in cur/")

    h = home()
    out, rc, err = run(h, b"DELE 1\r\nDELE 3\r\nRSET\r\nLAST\r\nSTAT\r\nQUIT\r\n")
    ok_session("RSET", out, rc, err, b"+OK \r\n+OK \r\n+OK \r\n+OK \r\n+OK 0\r\n+OK 3 %d\r\n+OK \r\n"
               % sum(len(m[3]) for m in MSGS))
    check_eq(len(files(h)), 3, "RSET: nothing deleted")


def test_bad_input():
    h = home()
    before = files(h)
    cases = [
        (b"RETR 0", b"-ERR messages are counted from 1"),
        (b"RETR 4", b"-ERR not that many messages"),
        (b"RETR 18446744073709551616", b"-ERR syntax error"),
        (b"RETR 99999999999999999999999999999", b"-ERR syntax error"),
        (b"DELE 4", b"-ERR not that many messages"),
        (b"TOP 4 1", b"-ERR not that many messages"),
        (b"TOP 1", b"-ERR syntax error"),
        (b"TOP 1 x", b"-ERR syntax error"),
        (b"TOP 1 -1", b"-ERR syntax error"),
        (b"RETR", b"-ERR syntax error"),
        (b"RETR x", b"-ERR syntax error"),
        (b"RETR 1 2", b"-ERR syntax error"),
        (b"RETR +1", b"-ERR syntax error"),
        (b"RETR\t1", b"-ERR unimplemented"),
        (b"LIST x", b"-ERR syntax error"),
        (b"LIST 0", b"-ERR messages are counted from 1"),
        (b"UIDL 9", b"-ERR not that many messages"),
        (b"USER joe", b"-ERR unimplemented"),
        (b"PASS secret", b"-ERR unimplemented"),
        (b"STLS", b"-ERR unimplemented"),
        (b"AUTH PLAIN", b"-ERR unimplemented"),
        (b"", b"-ERR unimplemented"),
        (b"RETR 1\0", b"-ERR bad command"),
        (b"\0", b"-ERR bad command"),
        (b"QUIT\0", b"-ERR bad command"),
        (b"NOOP" + b" " * 506, b"+OK "),          # 512 bytes with CRLF: allowed
        (b"NOOP" + b" " * 507, b"-ERR line too long"),
        (b"RETR 1" + b"x" * 100000, b"-ERR line too long"),
        (b"QUIT" + b" " * 600, b"-ERR line too long"),  # a long QUIT is no QUIT
        (b"\xff\xfe", b"-ERR unimplemented"),
        (b"rEtR 1", b"+OK "),
    ]
    data = b"".join(c + b"\r\n" for c, _ in cases)
    out, rc, err = run(h, data + b"STAT\r\n")  # no QUIT: the end of input
    lines = out.split(b"\r\n")
    check_eq(lines[0], b"+OK ", "bad input: greeting")
    i = 1
    for c, want in cases:
        check_eq(lines[i], want, "bad input: %r" % c[:40])
        i += 1
        if want == b"+OK " and c.lower().startswith(b"retr"):
            while lines[i] != b".":
                i += 1
            i += 1
    check_eq(lines[i], b"+OK 3 %d" % sum(len(m[3]) for m in MSGS), "bad input: the session goes on")
    check_eq(rc, 0, "bad input: exit code at end of input")
    check_eq(err, b"", "bad input: nothing on descriptor 2")
    check_eq(files(h), before, "bad input: end of input without QUIT changes nothing")

    # LF alone ends a command as well
    out, rc, err = run(h, b"STAT\nQUIT\n")
    check(out.startswith(b"+OK \r\n+OK 3 ") and out.endswith(b"+OK \r\n"), "bare LF line ends", repr(out))
    # a partial last line is not a command
    h2 = home()
    out, rc, err = run(h2, b"DELE 1\r\nQUIT")
    check_eq(out, b"+OK \r\n+OK \r\n", "partial QUIT: no reply")
    check_eq(len(files(h2)), 3, "partial QUIT: nothing deleted")


def test_start():
    h = home([])
    out, rc, err = run(h, b"STAT\r\nLIST\r\nUIDL\r\nLAST\r\nRETR 1\r\nQUIT\r\n")
    ok_session("empty Maildir", out, rc, err,
               b"+OK \r\n+OK 0 0\r\n+OK \r\n.\r\n+OK \r\n.\r\n+OK 0\r\n-ERR not that many messages\r\n+OK \r\n")

    out, rc, err = run(h, b"QUIT\r\n", args=())
    check(out.startswith(b"-ERR ") and b"no $HOME/Maildir" in out and rc == 0, "no argument: -ERR, exit 0",
          repr((out, rc)))
    out, rc, err = run(h, b"QUIT\r\n", args=("NoSuchMaildir",))
    check(out.startswith(b"-ERR [SYS/PERM] ") and rc == 0, "missing Maildir: -ERR, exit 0", repr((out, rc)))
    shutil.rmtree(os.path.join(h, "Maildir", "cur"))
    out, rc, err = run(h, b"QUIT\r\n")
    check(out.startswith(b"-ERR [SYS/TEMP] unable to scan") and rc == 0, "Maildir without cur/: -ERR", repr((out, rc)))

    # odd files: dot files, directories, a symbolic link to nowhere are not messages;
    # a message of this very second is listed
    now = int(time.time())
    h = home([("new", "%d.M1P2Q3.test" % now, "", b"x\n"), ("new", ".hidden", "", b"h\n"),
              ("cur", ".x:2,", "", b"h\n")])
    os.mkdir(os.path.join(h, "Maildir", "new", "1.dir.test"))
    os.symlink("/nonexistent", os.path.join(h, "Maildir", "new", "2.link.test"))
    # tmp/: a file abandoned 37 hours ago goes, a fresh one stays
    for n, age in (("old", 37 * 3600), ("fresh", 60)):
        p = os.path.join(h, "Maildir", "tmp", n)
        with open(p, "wb") as f:
            f.write(b"t")
        os.utime(p, (now - age, now - age))
    own(h)
    out, rc, err = run(h, b"UIDL\r\nQUIT\r\n")
    ok_session("odd files", out, rc, err, b"+OK \r\n+OK \r\n1 %d.M1P2Q3.test\r\n.\r\n+OK \r\n" % now)
    check_eq([f for f in files(h) if f.startswith("tmp/")], ["tmp/fresh"], "tmp/: the abandoned file removed")
    check("new/.hidden" in files(h), "dot files left alone")

    # a file name outside RFC 1939's UIDL characters
    h = home([("new", "1700000000.a b\x01.test", "", b"x\n")])
    out, rc, err = run(h, b"UIDL\r\nQUIT\r\n")
    ok_session("UIDL escapes", out, rc, err, b"+OK \r\n+OK \r\n1 1700000000.a\\040b\\001.test\r\n.\r\n+OK \r\n")

    if ROOT:
        out, rc, err = run(h, b"QUIT\r\n", wrap=[])
        check_eq((out, rc), (b"", 1), "as root: exit 1, nothing said")
        check(b"uid 0" in err, "as root: why, on descriptor 2", repr(err))
    else:
        quail.skip("root refused", "not running as root")


def test_pipelining():
    h = home()
    n = 200
    data = b"".join(b"RETR %d\r\n" % (i % 3 + 1) for i in range(n)) + b"QUIT\r\n"
    out, rc, err = run(h, data)
    want = b"+OK \r\n" + b"".join(b"+OK \r\n" + text(MSGS[i % 3][3]) for i in range(n)) + b"+OK \r\n"
    check_eq(out == want, True, "pipelined RETRs: every reply, in order")
    check_eq(rc, 0, "pipelined: exit code")
    # a burst of commands in one write, answered whole (replies wait for the input to run dry)
    c = Client(h)
    c.line()
    c.s.sendall(b"NOOP\r\n" * 300)
    time.sleep(0.5)
    got = b""
    c.s.setblocking(False)
    try:
        while True:
            d = c.s.recv(65536)
            if not d:
                break
            got += d
    except BlockingIOError:
        pass
    c.s.setblocking(True)
    check_eq(got, b"+OK \r\n" * 300, "pipelined NOOPs answered")
    rc, err = c.end()
    check_eq((rc, err), (0, b""), "pipelined NOOPs: clean end")


def test_big():
    body = b"".join(b"%06d .line with a dot\n" % i if i % 7 == 0 else b"%06d line\n" % i for i in range(100000))
    data = b"Subject: big\n\n" + body
    h = home([("new", "1700000000.big.test", "", data)])
    out, rc, err = run(h, b"RETR 1\r\nTOP 1 10\r\nQUIT\r\n", timeout=60)
    check_eq(out == b"+OK \r\n+OK \r\n" + text(data) + b"+OK \r\n" + text(data, 10) + b"+OK \r\n", True,
             "a 1.7 MB message, RETR and TOP")


# ---- the Maildir changing under a session ----

def test_removed_between_list_and_retr():
    h = home()
    c = Client(h)
    check_eq(c.line(), b"+OK \r\n", "removed: greeting")
    c.cmd(b"LIST", True)
    os.unlink(os.path.join(h, "Maildir", "new", MSGS[1][1]))
    r = c.cmd(b"RETR 2")
    check(r.startswith(b"-ERR ") and b"gone" in r, "removed by another client: RETR -ERR", repr(r))
    check_eq(c.cmd(b"TOP 2 0"), r, "removed: TOP -ERR")
    check_eq(c.cmd(b"RETR 3", True), b"+OK \r\n" + text(MSGS[2][3]), "removed: the others still there")
    check_eq(c.cmd(b"DELE 2"), b"+OK \r\n", "removed: DELE of it accepted")
    check_eq(c.cmd(b"QUIT"), b"+OK \r\n", "removed: QUIT +OK (ENOENT is fine)")
    rc, err = c.end()
    check_eq((rc, err), (0, b""), "removed: clean end")
    check_eq(files(h), ["cur/1700000000.M0P1Q1.test:2,S", "cur/1700000002.M2P1Q1.test:2,"], "removed: Maildir after")


def test_moved_by_another_client():
    h = home()
    c = Client(h)
    c.line()
    c.cmd(b"UIDL", True)
    md = os.path.join(h, "Maildir")
    # another reader marks message 2 seen and message 1 answered
    os.rename(os.path.join(md, "new", MSGS[1][1]), os.path.join(md, "cur", MSGS[1][1] + ":2,S"))
    os.rename(os.path.join(md, "cur", MSGS[0][1] + ":2,S"), os.path.join(md, "cur", MSGS[0][1] + ":2,RS"))
    check_eq(c.cmd(b"RETR 2", True), b"+OK \r\n" + text(MSGS[1][3]), "moved: RETR finds it by unique name")
    check_eq(c.cmd(b"DELE 1"), b"+OK \r\n", "moved: DELE")
    check_eq(c.cmd(b"QUIT"), b"+OK \r\n", "moved: QUIT")
    c.end()
    check_eq(files(h), ["cur/1700000001.M1P1Q1.test:2,S", "cur/1700000002.M2P1Q1.test:2,"],
             "moved: the DELE'd message removed where it went, the other kept")


def test_maildir_disappears():
    h = home()
    c = Client(h)
    c.line()
    check(c.cmd(b"LIST", True).startswith(b"+OK"), "disappears: LIST before")
    check_eq(c.cmd(b"DELE 1"), b"+OK \r\n", "disappears: DELE")
    shutil.rmtree(os.path.join(h, "Maildir"))
    r = c.cmd(b"RETR 2")
    check(r.startswith(b"-ERR "), "disappears: RETR -ERR", repr(r))
    check(c.cmd(b"STAT").startswith(b"+OK 2 "), "disappears: STAT from the snapshot")
    check(c.cmd(b"UIDL", True).startswith(b"+OK"), "disappears: UIDL from the snapshot")
    check_eq(c.cmd(b"QUIT"), b"+OK \r\n", "disappears: QUIT")
    rc, err = c.end()
    check_eq((rc, err), (0, b""), "disappears: exit 0, no crash")


def test_two_clients():
    h = home()
    a, b = Client(h), Client(h)
    a.line(), b.line()
    check_eq(a.cmd(b"STAT"), b.cmd(b"STAT"), "two clients: the same snapshot")
    check_eq(a.cmd(b"DELE 1"), b"+OK \r\n", "two clients: A DELE 1")
    check_eq(b.cmd(b"DELE 3"), b"+OK \r\n", "two clients: B DELE 3")
    check_eq(a.cmd(b"QUIT"), b"+OK \r\n", "two clients: A QUIT")
    a.end()
    check_eq(files(h), ["cur/1700000001.M1P1Q1.test:2,", "cur/1700000002.M2P1Q1.test:2,"], "two clients: after A")
    r = b.cmd(b"RETR 1")
    check(r.startswith(b"-ERR "), "two clients: B RETR of what A deleted: -ERR", repr(r))
    check_eq(b.cmd(b"RETR 2", True), b"+OK \r\n" + text(MSGS[1][3]), "two clients: B RETR 2 after A moved it")
    check_eq(b.cmd(b"DELE 1"), b"+OK \r\n", "two clients: B DELE 1")
    check_eq(b.cmd(b"QUIT"), b"+OK \r\n", "two clients: B QUIT")
    rc, err = b.end()
    check_eq((rc, err), (0, b""), "two clients: B clean end")
    check_eq(files(h), ["cur/1700000001.M1P1Q1.test:2,"], "two clients: after B")

    # one client's new file, delivered after the other listed, is not its
    h = home()
    a = Client(h)
    a.line()
    with open(os.path.join(h, "Maildir", "new", "1800000000.late.test"), "wb") as f:
        f.write(b"late\n")
    own(h)
    check(a.cmd(b"STAT").startswith(b"+OK 3 "), "late delivery: not in the snapshot")
    a.cmd(b"QUIT")
    a.end()
    check("new/1800000000.late.test" in files(h), "late delivery: left in new/ at QUIT")


def test_dropped():
    h = home()
    before = files(h)
    c = Client(h)
    c.line()
    check_eq(c.cmd(b"DELE 1"), b"+OK \r\n", "dropped: DELE 1")
    check_eq(c.cmd(b"DELE 2"), b"+OK \r\n", "dropped: DELE 2")
    c.s.sendall(b"RETR 3\r\nQU")
    rc, err = c.end()
    check_eq((rc, err), (0, b""), "dropped after DELE: exit 0")
    check_eq(files(h), before, "dropped after DELE: nothing deleted, nothing moved")
    # killed in the middle (a crash): the same
    c = Client(h)
    c.line()
    c.cmd(b"DELE 3")
    c.proc.send_signal(signal.SIGKILL)
    c.end()
    check_eq(files(h), before, "killed after DELE: nothing deleted")


# ---- under tcpserver, with poplib ----

def test_tcpserver():
    if not TCPSERVER:
        quail.skip("tcpserver", "no tcpserver")
        return
    h = home()
    srv = quail.TcpServer(WRAP + ["sh", "-c", 'cd "$0" && exec "$1" Maildir', h, POP3D], env=ENV,
                          opts=("-q", "-R", "-H"))
    logfile, logdir = srv.logfile, srv.tmp
    srv.tmp = None   # the log is read after the stop
    try:
        srv.start()
    except RuntimeError as e:
        check(False, "tcpserver started", str(e))
        return
    port = srv.port
    try:
        p = poplib.POP3("127.0.0.1", port, timeout=20)
        check_eq(p.getwelcome(), b"+OK ", "poplib: welcome")
        caps = p.capa()
        check_eq(sorted(caps), ["PIPELINING", "RESP-CODES", "TOP", "UIDL", "USER"], "poplib: capa")
        check_eq(p.stat(), (3, sum(len(m[3]) for m in MSGS)), "poplib: stat")
        resp, listing, _ = p.list()
        check_eq(listing, [b"%d %d" % (i + 1, len(m[3])) for i, m in enumerate(MSGS)], "poplib: list")
        resp, uidls, _ = p.uidl()
        check_eq(uidls, [b"%d %s" % (i + 1, m[1].encode()) for i, m in enumerate(MSGS)], "poplib: uidl")
        for i, m in enumerate(MSGS):
            resp, lines, octets = p.retr(i + 1)
            want = m[3].replace(b"\r\n", b"\n").split(b"\n")
            if want[-1] == b"":
                want.pop()
            check_eq(lines, want, "poplib: retr %d" % (i + 1))
        resp, lines, _ = p.top(3, 1)
        check_eq(lines, [b"Subject: two", b"X: y", b"", b"b1"], "poplib: top 3 1")
        # a second client at the same time
        q = poplib.POP3("127.0.0.1", port, timeout=20)
        check_eq(q.stat()[0], 3, "poplib: a second client")
        check_eq(p.dele(2), b"+OK ", "poplib: dele")
        try:
            p.retr(2)
            check(False, "poplib: retr of a deleted message fails")
        except poplib.error_proto as e:
            check_eq(str(e), "b'-ERR already deleted'", "poplib: retr of a deleted message fails")
        check_eq(p.quit(), b"+OK ", "poplib: quit")
        q.dele(2)
        resp, lines, _ = q.retr(3)
        check_eq(lines[-1], b"b3", "poplib: the second client reads after the first quit")
        check_eq(q.quit(), b"+OK ", "poplib: second quit")
        check_eq(files(h), ["cur/1700000000.M0P1Q1.test:2,S", "cur/1700000002.M2P1Q1.test:2,"],
                 "poplib: the Maildir after both")
        # a client that drops the connection
        r = poplib.POP3("127.0.0.1", port, timeout=20)
        r.dele(1)
        r.close()   # socket and poplib's file of it: the connection really ends, without QUIT
        check(srv.idle(20), "poplib: the dropped connection's qmail-pop3d exits")
        check_eq(len(files(h)), 2, "poplib: dropped connection deletes nothing")
    finally:
        srv.stop()
        with open(logfile, "rb") as f:
            check_eq(f.read(), b"", "tcpserver: nothing on descriptor 2")
        shutil.rmtree(logdir, ignore_errors=True)


def main():
    if not os.path.exists(POP3D):
        quail.skip("pop3d", "no qmail-pop3d at " + POP3D)
        quail.done()
    try:
        for t in (test_listing, test_retr_top, test_dele, test_bad_input, test_start, test_pipelining, test_big,
                  test_removed_between_list_and_retr, test_moved_by_another_client, test_maildir_disappears,
                  test_two_clients, test_dropped, test_tcpserver):
            t0 = time.time()
            t()
            print("# %s: %.1f s" % (t.__name__, time.time() - t0))
    finally:
        shutil.rmtree(BASE, ignore_errors=True)
    quail.done()


if __name__ == "__main__":
    main()
