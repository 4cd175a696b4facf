"""The POP3 service as people run it: qmail-popup, checkpassword and
qmail-pop3d under the real tcpserver on 127.0.0.1, for real system accounts
(temporary users made with useradd, with shadow passwords), talking to
Python's poplib, raw sockets, fetchmail and getmail.

    tcpserver -H -R 127.0.0.1 PORT qmail-popup HOST checkpassword qmail-pop3d Maildir

Mail reaches the Maildirs two ways: files written directly (with chosen
unique names, so that the order and the UIDLs are known), and messages
injected into the instance's real queue and delivered by a running
qmail-send (users/assign maps the test users to their own uid and home).

Needs root (useradd, and qmail-popup must run checkpassword, which drops to
the user); without root it prints a skip line. Every user it creates is
removed with userdel -r, every process it starts is killed by pid.

Timing: the login delays are asserted as lower bounds only; every wait is
bounded and generous (a slow, loaded machine must pass).

Not tested here: the 1200-second idle timeouts by waiting for them (the
control file that shortens qmail-popup's is); TLS (no STLS yet).
"""

import hashlib
import os
import poplib
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(__file__))
import quail  # noqa: E402
from quail import check, check_eq, ROOT, BIN, wait_for  # noqa: E402

signal.signal(signal.SIGPIPE, signal.SIG_IGN)

TCPSERVER = shutil.which("tcpserver") or "/usr/bin/tcpserver"
HOST = "pop.test.example"       # the name in the APOP timestamp
IOTIMEOUT = 90                  # seconds any single read from the server may take
USERS = ["qtpop%d" % i for i in range(1, 10)]
ROOTALIAS = "qtpop0"            # a second name for uid 0, with a known password
AUTHFAIL = "-ERR [AUTH] authorization failed"
AUTHFIRST = "-ERR authorization first"

poplib._MAXLINE = 1 << 20   # our lines are bounded by the server; the big message has long ones


def prog(name):
    """The instance's program, or the build's if the instance lacks it."""
    p = os.path.join(BIN, name)
    if not os.path.exists(p) and os.path.exists(os.path.join(quail.BUILD, "bin", name)):
        p = os.path.join(quail.BUILD, "bin", name)
    return p


POPUP, CHECKPASSWORD, POP3D, MAILDIRMAKE = (prog(n) for n in ("qmail-popup", "checkpassword", "qmail-pop3d",
                                                              "maildirmake"))


# ---- temporary system users ----

class Users:
    """Temporary system accounts qtpop1.. with random passwords, homes
    under one temporary directory, each with a Maildir made by the
    instance's maildirmake, as the user."""

    def __init__(self):
        self.top = tempfile.mkdtemp(prefix="quail-pop3-")
        os.chmod(self.top, 0o755)
        self.info = {}   # name -> (uid, gid, home, password)
        self.made = []

    def add(self, name, uid=None, maildir=True, password=None):
        password = password or "pw-" + secrets.token_hex(8)
        h = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=password.encode(), capture_output=True,
                           timeout=60, check=True).stdout.decode().strip()
        home = os.path.join(self.top, name)
        cmd = ["useradd", "-m", "-d", home, "-s", "/bin/sh", "-p", h]
        if uid is not None:
            cmd += ["-o", "-u", str(uid), "-g", "0", "-M"]
            cmd.remove("-m")
        self.made.append(name)
        p = subprocess.run(cmd + [name], capture_output=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError("useradd %s: %r" % (name, p.stderr))
        pw = pwd.getpwnam(name)
        if uid is not None:
            os.mkdir(home, 0o700)
        os.chmod(home, 0o755)
        if maildir:
            subprocess.run([MAILDIRMAKE, os.path.join(home, "Maildir")], user=pw.pw_uid, group=pw.pw_gid,
                           extra_groups=[], check=True, timeout=60, cwd=home)
        self.info[name] = (pw.pw_uid, pw.pw_gid, home, password)
        return name

    def password(self, name):
        return self.info[name][3]

    def maildir(self, name):
        return os.path.join(self.info[name][2], "Maildir")

    def remove_all(self):
        for name in self.made:
            remove_user(name)
        self.made = []
        shutil.rmtree(self.top, ignore_errors=True)


def remove_user(name):
    try:
        pwd.getpwnam(name)
    except KeyError:
        return
    uid = pwd.getpwnam(name).pw_uid
    # a uid-0 alias shares root's processes: userdel needs -f, and its home
    # is ours to remove
    cmd = ["userdel", "-r"] + (["-f"] if uid == 0 else []) + [name]
    p = subprocess.run(cmd, capture_output=True, timeout=60)
    if p.returncode not in (0, 12):   # 12: the home could not be removed (we remove it)
        print("# userdel %s: %r" % (name, p.stderr))


users = None


# ---- Maildir files ----

_seq = [0]


def put(user, data, t=None, sub="new", info=None, name=None):
    """Delivers data into user's Maildir/sub as the user's file (through
    tmp/, as a delivery agent would); returns the unique name (the UIDL)."""
    uid, gid, home, _ = users.info[user]
    _seq[0] += 1
    uniq = name or "%d.M%dP%dQ%d.quail-test" % (t if t is not None else int(time.time()), _seq[0], os.getpid(),
                                                _seq[0])
    fname = uniq + ((":2," + info) if sub == "cur" and info is not None else (":2," if sub == "cur" else ""))
    tmp = os.path.join(home, "Maildir", "tmp", uniq)
    with open(tmp, "wb") as f:
        f.write(data)
    os.chown(tmp, uid, gid)
    os.chmod(tmp, 0o600)
    os.rename(tmp, os.path.join(home, "Maildir", sub, fname))
    return uniq


def files(user):
    """{unique name: (sub, file name)} of everything in new/ and cur/."""
    out = {}
    for sub in ("new", "cur"):
        d = os.path.join(users.maildir(user), sub)
        for f in os.listdir(d):
            if not f.startswith(".") and os.path.isfile(os.path.join(d, f)):
                out[f.split(":")[0]] = (sub, f)
    return out


def content(user, uniq):
    sub, f = files(user)[uniq]
    with open(os.path.join(users.maildir(user), sub, f), "rb") as fh:
        return fh.read()


def empty_maildir(user):
    for sub in ("new", "cur", "tmp"):
        d = os.path.join(users.maildir(user), sub)
        for f in os.listdir(d):
            p = os.path.join(d, f)
            if os.path.isdir(p):
                shutil.rmtree(p)
            else:
                os.unlink(p)


def msg(subject, body=b"hello\n"):
    return b"From: sender@remote.example\nTo: someone@test.example\nSubject: " + subject.encode() + b"\n\n" + body


# ---- the server ----

class Server(quail.TcpServer):
    """tcpserver running qmail-popup HOST checkpassword qmail-pop3d Maildir
    on a free port of 127.0.0.1, in a session of its own (so that every
    process of every connection can be found and killed by pid)."""

    def __init__(self, maildir="Maildir", checkpassword=None):
        self.maildir = maildir
        self.checkpassword = checkpassword or CHECKPASSWORD
        env = {"PATH": "/usr/bin:/bin", "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
               "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "")}
        quail.TcpServer.__init__(self, [POPUP, HOST, self.checkpassword, POP3D, self.maildir], env=env,
                                 opts=("-v", "-H", "-R"), name="the POP3 programs",
                                 logfile=os.path.join(users.top, "tcpserver%d.log" % len(os.listdir(users.top))))

    def idle(self, timeout=120):
        """Waits until every connection's processes have exited."""
        return quail.TcpServer.idle(self, timeout)

    def pop(self):
        return poplib.POP3("127.0.0.1", self.port, timeout=IOTIMEOUT)

    def login(self, user, password=None):
        p = self.pop()
        p.user(user)
        p.pass_(password if password is not None else users.password(user))
        return p

    def raw(self):
        return Raw(self.port)


def stop_servers(keep=()):
    quail.stop_tcpservers(keep)


class Raw(quail.Pop3Client):
    """A raw POP3 client: bytes out, lines in (without CRLF, as str); the
    greeting is in self.greeting."""

    def __init__(self, port, timeout=IOTIMEOUT):
        quail.Pop3Client.__init__(self, port, timeout)

    def closed(self, timeout=IOTIMEOUT):
        return quail.Pop3Client.closed(self, timeout)


def err(f, *a):
    """The reply of a poplib call that should fail: its -ERR line (str), or
    what it returned instead."""
    try:
        r = f(*a)
        return "no error: %r" % (r,)
    except poplib.error_proto as e:
        x = e.args[0]
        return x.decode("latin-1") if isinstance(x, bytes) else str(x)


def lines_of(data):
    """What poplib's RETR gives for a message file: its lines, the final
    newline (given or added by the server) removed."""
    if data.endswith(b"\n"):
        data = data[:-1]
    return data.split(b"\n")


# ---- the tests ----

def test_greeting():
    srv = Server().start()
    t0 = int(time.time())
    a, b = srv.pop(), srv.pop()
    t1 = int(time.time())
    wa, wb = a.getwelcome(), b.getwelcome()
    m = re.match(rb"^\+OK <(\d+)\.(\d+)@" + re.escape(HOST.encode()) + rb">$", wa)
    if check(m, "the greeting is '+OK <pid.time@HOST>'", repr(wa)):
        check(t0 - 1 <= int(m.group(2)) <= t1 + 1, "its time is now", repr(wa))
    check(wa != wb, "two connections get different timestamps", "%r %r" % (wa, wb))
    check_eq(a.noop(), b"+OK ", "NOOP before login")
    check(a.quit().startswith(b"+OK"), "QUIT before login: +OK")
    b.close()
    check(srv.idle(), "both connections' processes exit")
    srv.stop()


def test_capa():
    u = "qtpop1"
    empty_maildir(u)
    srv = Server().start()
    p = srv.pop()
    c = p.capa()
    # AUTH-RESP-CODE (RFC 3206): qmail-popup's -ERR replies carry [AUTH]
    check_eq(sorted(c), ["AUTH-RESP-CODE", "PIPELINING", "RESP-CODES", "USER"],
             "CAPA before login: USER PIPELINING RESP-CODES AUTH-RESP-CODE")
    p.user(u)
    p.pass_(users.password(u))
    c = p.capa()
    check_eq(sorted(c), ["PIPELINING", "RESP-CODES", "TOP", "UIDL", "USER"],
             "CAPA after login adds TOP and UIDL")
    p.quit()
    srv.stop()


def test_login():
    u = "qtpop1"
    empty_maildir(u)
    put(u, msg("one"))
    srv = Server().start()
    p = srv.pop()
    check(p.user(u).startswith(b"+OK"), "USER: +OK")
    check(p.pass_(users.password(u)).startswith(b"+OK"), "PASS with the right password: +OK")
    check_eq(p.stat()[0], 1, "the session is the user's Maildir")
    check(p.quit().startswith(b"+OK"), "QUIT: +OK")
    # lower case commands
    r = srv.raw()
    check_eq(r.cmd("user " + u), "+OK ", "'user' in lower case")
    check(r.cmd("pass " + users.password(u)).startswith("+OK"), "'pass' in lower case logs in")
    check(r.cmd("stat").startswith("+OK 1 "), "'stat' in lower case")
    check(r.cmd("quit").startswith("+OK"), "'quit'")
    check(r.closed(), "the connection closes after QUIT")
    r.close()
    # another user's password does not work, nor the user's with a change
    # (each in a connection of its own: one delay of 1 s each, all at once)
    cases = ((u, users.password("qtpop2"), "another user's password: " + AUTHFAIL),
             (u, users.password(u) + "x", "the password with one more byte"),
             (u, users.password(u)[:-1], "the password with one byte less"),
             (u, users.password(u).upper(), "the password in capitals"),
             (u, "", "an empty password"),
             (u.upper(), users.password(u), "the user name in capitals"),
             ("qtpop-nosuchuser", "whatever", "an unknown user: the same reply"))
    for r, (_, _, name) in zip(quail.parallel(*[(lambda a=a, b=b: failed_login(srv, a, b)) for a, b, _ in cases]),
                               cases):
        check_eq(r, AUTHFAIL, name)
    srv.stop()


def failed_login(srv, user, password):
    """USER and PASS through poplib in a connection of its own: the
    refusal (see err)."""
    p = srv.pop()
    p.user(user)
    r = err(p.pass_, password)
    p.close()
    return r


def test_apop():
    """System accounts have no clear password: APOP with the right digest
    fails, and the client may go on with USER and PASS."""
    u = "qtpop1"
    srv = Server().start()
    p = srv.pop()
    check_eq(err(p.apop, u, users.password(u)), AUTHFAIL, "APOP with the right digest: " + AUTHFAIL)
    p.user(u)
    check(p.pass_(users.password(u)).startswith(b"+OK"), "then USER and PASS in the same connection work")
    p.quit()
    r = srv.raw()
    check_eq(r.cmd("APOP " + u), "-ERR syntax error", "APOP without a digest: -ERR")
    check_eq(r.cmd("NOOP"), "+OK ", "and the session goes on")
    r.close()
    srv.stop()


def test_bad_passwords():
    """Five wrong passwords in one connection: each -ERR comes later than
    the one before (1, 2, 4, 8 s at least), then the connection closes.
    It runs beside the other tests (quail.Background), as a user of its
    own (qtpop9), whose Maildir no other test touches."""
    u = "qtpop9"
    srv = Server().start()
    r = srv.raw()
    yield
    delays = []
    replies = []
    for i in range(5):
        if r.cmd("USER " + u) != "+OK ":
            break
        t = time.time()
        replies.append(r.cmd("PASS wrong%d" % i))
        delays.append(time.time() - t)
    check_eq(replies, [AUTHFAIL] * 5, "five wrong passwords: five -ERR [AUTH] replies")
    for i, want in enumerate((1, 2, 4, 8, 8)):
        if i < len(delays):
            check(delays[i] >= want - 0.05, "failure %d is answered after %d s at least" % (i + 1, want),
                  "%.2f s" % delays[i])
    check(r.closed(), "after the fifth failure the connection is closed", repr(getattr(r, "extra", b"")))
    check(r.extra.startswith(b"-ERR"), "with an -ERR line first", repr(r.extra))
    r.close()
    # the limit is per connection: a new one logs in at once
    p = srv.login(u)
    check(p.stat()[0] >= 0, "a new connection logs in with the right password")
    p.quit()
    srv.stop()


def transaction_maildir(u):
    """Four messages with known delivery times, in an order the directory
    listing does not give: returns their unique names in delivery order."""
    empty_maildir(u)
    c = put(u, msg("third"), t=1000000300)
    a = put(u, msg("first", b"line 1\nline 2\nline 3\nline 4\n"), t=1000000100, sub="cur", info="S")
    d = put(u, msg("fourth, delivered now"), t=int(time.time()))
    b = put(u, msg("second", b"x\n" * 10), t=1000000200)
    # ignored: dot files, directories, tmp/
    with open(os.path.join(users.maildir(u), "new", ".hidden"), "wb") as f:
        f.write(msg("hidden"))
    os.mkdir(os.path.join(users.maildir(u), "cur", "1000000150.dir.quail-test"))
    with open(os.path.join(users.maildir(u), "tmp", "1000000050.tmp.quail-test"), "wb") as f:
        f.write(msg("in tmp"))
    return [a, b, c, d]


def test_transaction():
    u = "qtpop1"
    order = transaction_maildir(u)
    datas = [content(u, x) for x in order]
    srv = Server().start()
    p = srv.login(u)
    n, size = p.stat()
    check_eq((n, size), (4, sum(len(d) for d in datas)),
             "STAT: 4 messages (dot files, directories and tmp/ not counted; one delivered this second listed), "
             "their size")
    resp, listing, _ = p.list()
    check_eq(listing, [b"%d %d" % (i + 1, len(d)) for i, d in enumerate(datas)],
             "LIST: in delivery order, file sizes")
    check_eq(p.list(2), b"+OK 2 %d" % len(datas[1]), "LIST 2")
    resp, uidls, _ = p.uidl()
    check_eq(uidls, [b"%d %s" % (i + 1, x.encode()) for i, x in enumerate(order)],
             "UIDL: the unique names (up to ':2,'), in delivery order")
    check_eq(p.uidl(1), b"+OK 1 " + order[0].encode(), "UIDL 1")
    for i in range(4):
        resp, lines, octets = p.retr(i + 1)
        check(resp.startswith(b"+OK"), "RETR %d: +OK" % (i + 1), repr(resp))
        check_eq(lines, lines_of(datas[i]), "RETR %d: the message as stored" % (i + 1))
    resp, lines, _ = p.top(1, 0)
    hdr, body = datas[0].split(b"\n\n", 1)
    check_eq(lines, hdr.split(b"\n") + [b""], "TOP 1 0: the header and the blank line")
    resp, lines, _ = p.top(1, 2)
    check_eq(lines, hdr.split(b"\n") + [b"", b"line 1", b"line 2"], "TOP 1 2: and two lines of the body")
    resp, lines, _ = p.top(1, 100)
    check_eq(lines, lines_of(datas[0]), "TOP 1 100: the whole message")
    check_eq(p._shortcmd("LAST"), b"+OK 4", "LAST: the highest message accessed")
    check(p.noop().startswith(b"+OK"), "NOOP: +OK")
    # out of range, garbage
    for bad in ("RETR 0", "RETR 5", "RETR 99999999999999999999999", "RETR x", "RETR", "RETR -1", "TOP 5 0",
                "TOP 1", "TOP 1 x", "LIST 5", "UIDL 0", "DELE 5", "XYZZY"):
        e = err(p._shortcmd, bad)
        check(e.startswith("-ERR"), "%s: -ERR" % bad, e)
    # DELE marks, RSET unmarks
    check(p.dele(2).startswith(b"+OK"), "DELE 2: +OK")
    check(err(p.retr, 2).startswith("-ERR"), "RETR of a deleted message: -ERR")
    check(err(p.dele, 2).startswith("-ERR"), "DELE of a deleted message: -ERR")
    check(err(p.list, 2).startswith("-ERR"), "LIST of a deleted message: -ERR")
    check(err(p.top, 2, 0).startswith("-ERR"), "TOP of a deleted message: -ERR")
    check(err(p.uidl, 2).startswith("-ERR"), "UIDL of a deleted message: -ERR")
    check_eq(p.stat(), (3, size - len(datas[1])), "STAT leaves it out")
    check_eq([l.split()[0] for l in p.list()[1]], [b"1", b"3", b"4"], "LIST leaves it out, numbers unchanged")
    check_eq([l.split()[0] for l in p.uidl()[1]], [b"1", b"3", b"4"], "UIDL leaves it out")
    check(p.rset().startswith(b"+OK"), "RSET: +OK")
    check_eq(p.stat(), (4, size), "after RSET it is back")
    check_eq(p.retr(2)[1], lines_of(datas[1]), "and can be retrieved")
    check_eq(files(u).keys() >= set(order), True, "nothing deleted before QUIT")
    p.dele(2)
    p.dele(4)
    check(p.quit().startswith(b"+OK"), "DELE 2, DELE 4, QUIT: +OK")
    f = files(u)
    check_eq(sorted(f), sorted([order[0], order[2]]), "QUIT deleted messages 2 and 4, kept 1 and 3")
    check_eq(f.get(order[0]), ("cur", order[0] + ":2,S"), "a message in cur/ keeps its name and flags")
    check_eq(f.get(order[2]), ("cur", order[2] + ":2,"), "a message in new/ is moved to cur/ with ':2,'")
    check_eq(content(u, order[2]), datas[2], "unchanged")
    check(os.path.exists(os.path.join(users.maildir(u), "new", ".hidden")), "the dot file is left alone")
    check(os.path.exists(os.path.join(users.maildir(u), "tmp", "1000000050.tmp.quail-test")),
          "tmp/ is left alone")
    # UIDLs after the move
    p = srv.login(u)
    check_eq(p.uidl()[1], [b"1 " + order[0].encode(), b"2 " + order[2].encode()],
             "the next session: the same UIDLs after the new/ -> cur/ move, renumbered")
    check_eq(p._shortcmd("LAST"), b"+OK 0", "LAST is 0 in a new session")
    p.quit()
    srv.stop()


def test_pipelining():
    u = "qtpop1"
    order = transaction_maildir(u)
    srv = Server().start()
    r = srv.raw()
    # everything after PASS in one write: qmail-popup must leave it for the session
    r.send("USER %s\r\nPASS %s\r\nSTAT\r\nLIST\r\nUIDL 1\r\nNOOP\r\nQUIT\r\n" % (u, users.password(u)))
    check_eq(r.line(), "+OK ", "pipelined: USER")
    check(r.line().startswith("+OK"), "pipelined: PASS")
    check(r.line().startswith("+OK 4 "), "pipelined: STAT")
    check(r.line().startswith("+OK"), "pipelined: LIST")
    check_eq(len((r.multi() or b"").split(b"\r\n")) - 1, 4, "pipelined: LIST's four lines")
    check_eq(r.line(), "+OK 1 " + order[0], "pipelined: UIDL 1")
    check(r.line().startswith("+OK"), "pipelined: NOOP")
    check(r.line().startswith("+OK"), "pipelined: QUIT")
    check(r.closed(), "then the connection closes")
    r.close()
    srv.stop()


def test_uidl_stable():
    u = "qtpop2"
    empty_maildir(u)
    names = [put(u, msg("m%d" % i), t=1100000000 + i) for i in range(5)]
    srv = Server().start()
    seen = []
    for i in range(3):
        p = srv.login(u)
        seen.append(p.uidl()[1])
        p.retr(1)
        p.quit()
    check_eq(seen[0], [b"%d %s" % (i + 1, n.encode()) for i, n in enumerate(names)], "UIDLs are the unique names")
    check(seen[0] == seen[1] == seen[2], "and the same in three sessions (new/ moved to cur/ after the first)",
          repr(seen))
    check_eq(sorted(files(u).values()), sorted(("cur", n + ":2,") for n in names), "all in cur/ now")
    srv.stop()


def test_drop_after_dele():
    """A connection dropped after DELE, before QUIT, deletes nothing."""
    u = "qtpop2"
    empty_maildir(u)
    names = [put(u, msg("m%d" % i), t=1200000000 + i) for i in range(3)]
    srv = Server().start()
    p = srv.login(u)
    p.dele(1)
    p.dele(2)
    p.retr(3)
    p.sock.shutdown(socket.SHUT_RDWR)
    p.close()
    check(srv.idle(), "the session ends when the client goes away")
    check_eq(sorted(files(u)), sorted(names), "a connection dropped after DELE deletes nothing")
    # killed in the middle: the same
    p = srv.login(u)
    p.dele(1)
    for pid in srv.children():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    check(srv.idle(), "the killed session is gone")
    p.close()
    check_eq(sorted(files(u)), sorted(names), "a session killed after DELE deletes nothing")
    check_eq(os.listdir(os.path.join(users.maildir(u), "tmp")), [], "and leaves nothing in tmp/")
    srv.stop()


def test_two_sessions():
    """Two clients on one Maildir: what one deletes, the other cannot
    retrieve; neither loses anything else."""
    u = "qtpop2"
    empty_maildir(u)
    names = [put(u, msg("m%d" % i, b"body %d\n" % i), t=1300000000 + i) for i in range(4)]
    datas = [content(u, n) for n in names]
    srv = Server().start()
    a = srv.login(u)
    b = srv.login(u)
    check_eq(a.stat(), b.stat(), "both sessions see the same messages")
    a.dele(1)
    check_eq(b.retr(1)[1], lines_of(datas[0]), "B retrieves message 1 while A has only marked it")
    check(a.quit().startswith(b"+OK"), "A: DELE 1, QUIT")
    check(names[0] not in files(u), "message 1 is gone")
    e = err(b.retr, 1)
    check(e.startswith("-ERR"), "B: RETR 1 after A deleted it: -ERR", e)
    check(b.noop().startswith(b"+OK"), "B's session goes on")
    check_eq(b.retr(2)[1], lines_of(datas[1]), "B: RETR 2 (moved to cur/ by A's QUIT) still works")
    b.dele(1)
    b.dele(3)
    check(b.quit().startswith(b"+OK"), "B: DELE 1 (already gone) and DELE 3, QUIT: +OK")
    check_eq(sorted(files(u)), sorted([names[1], names[3]]), "messages 2 and 4 are left")
    for i in (1, 3):
        check_eq(content(u, names[i]), datas[i], "message %d unchanged" % (i + 1))
    srv.stop()


DOTS = (b"From: a@b\nSubject: dots\n\n.leading dot\n..two dots\n.\n. \n...\nmiddle\n\n\nfrom the end\n"
        b"\n.\nlast line without newline")


def test_dots_and_no_final_newline():
    u = "qtpop3"
    empty_maildir(u)
    n = put(u, DOTS)
    srv = Server().start()
    p = srv.login(u)
    resp, lines, octets = p.retr(1)
    check_eq(b"\n".join(lines), DOTS, "RETR: lines starting with '.', no final newline: byte-exact through poplib")
    check_eq(p.list(1), b"+OK 1 %d" % len(DOTS), "LIST: the file's size")
    p.quit()
    r = srv.raw()
    r.cmd("USER " + u)
    r.cmd("PASS " + users.password(u))
    check(r.cmd("RETR 1").startswith("+OK"), "raw RETR 1: +OK")
    body = r.multi()
    want = DOTS.replace(b"\n", b"\r\n").replace(b"\r\n.", b"\r\n..") + b"\r\n"
    check_eq(body, want, "on the wire: CRLF, dot-stuffed, CRLF added before the final '.'")
    check(r.cmd("TOP 1 1").startswith("+OK"), "raw TOP 1 1: +OK")
    check_eq(r.multi(), b"From: a@b\r\nSubject: dots\r\n\r\n..leading dot\r\n", "TOP 1 1 dot-stuffs too")
    r.cmd("QUIT")
    r.close()
    check_eq(content(u, n), DOTS, "the file is unchanged")
    # a file with CRLF line ends: sent as it is, no CR doubled (lib/pop3)
    empty_maildir(u)
    put(u, b"Subject: crlf\r\n\r\n.line\r\nbare lf\n", t=1400000000)
    r = srv.raw()
    r.cmd("USER " + u)
    r.cmd("PASS " + users.password(u))
    r.cmd("RETR 1")
    check_eq(r.multi(), b"Subject: crlf\r\n\r\n..line\r\nbare lf\r\n", "a CRLF file: its CRLFs are kept, not doubled")
    r.cmd("TOP 1 0")
    check_eq(r.multi(), b"Subject: crlf\r\n\r\n", "TOP 1 0 of a CRLF file: its blank line ends the header")
    r.cmd("QUIT")
    r.close()
    # a message of a header alone, and an empty file
    empty_maildir(u)
    put(u, b"Subject: no body", t=1400000001)
    put(u, b"", t=1400000002)
    put(u, b"\n", t=1400000003)
    p = srv.login(u)
    check_eq(p.retr(1)[1], [b"Subject: no body"], "a header without newline or body")
    check_eq(p.retr(2)[1], [], "an empty file: no lines")
    check_eq(p.retr(3)[1], [b""], "a file of one newline: one empty line")
    check_eq(p.top(1, 0)[1][:1], [b"Subject: no body"], "TOP 1 0 of a header without body")
    check(p.top(2, 0)[0].startswith(b"+OK"), "TOP 2 0 of an empty file")
    p.quit()
    srv.stop()


def test_large():
    u = "qtpop3"
    empty_maildir(u)
    rnd = secrets.token_hex(3 << 20).encode()   # 6 MiB of hex
    lines = [rnd[i:i + 76] for i in range(0, len(rnd), 76)]
    for i in range(0, len(lines), 97):
        lines[i] = b"." + lines[i]          # dots here and there
    lines.append(b"x" * 20000)              # and one long line
    data = b"Subject: large\n\n" + b"\n".join(lines) + b"\n"
    check(len(data) > 5 << 20, "the large message is over 5 MB", str(len(data)))
    n = put(u, data)
    srv = Server().start()
    p = srv.login(u)
    check_eq(p.list(1), b"+OK 1 %d" % len(data), "LIST of a 5 MB message")
    t = time.time()
    resp, got, octets = p.retr(1)
    check(b"\n".join(got) + b"\n" == data, "RETR of a 5 MB message: byte-exact",
          "got %d lines, want %d" % (len(got), data.count(b"\n")))
    print("# 5 MB RETR: %.1f s" % (time.time() - t))
    p.dele(1)
    p.quit()
    check_eq(files(u), {}, "deleted at QUIT")
    srv.stop()


def test_queue_delivery():
    """Mail injected into the real queue, delivered by qmail-send into the
    user's Maildir as the user, retrieved and deleted over POP3."""
    u = "qtpop4"
    empty_maildir(u)
    uid, gid, home, _ = users.info[u]
    s = quail.System(users=("postmaster",))   # its assign is replaced below
    try:
        with open(os.path.join(ROOT, "users", "assign"), "w") as f:
            f.write("=%s:%s:%d:%d:%s:::\n+%s-:%s:%d:%d:%s:-::\n.\n" % (u, u, uid, gid, home, u, u, uid, gid, home))
        subprocess.run([os.path.join(BIN, "qmail-newu")], check=True, env=s.plainenv(), timeout=60)
        s.start()
        bodies = [msg("queued %d" % i, b"queued body %d\n.dot line\n" % i) for i in range(3)]
        for b in bodies:
            check_eq(s.inject(b, "sender@remote.example", [u + "@test.example"]), 0, "qmail-queue accepts it")
        check(wait_for(lambda: len(files(u)) >= 3, 120), "qmail-send delivers three messages", s.logtext())
        check(wait_for(s.queue_empty, 60), "the queue is empty")
        check_eq(s.stop(), 0, "qmail-send stops")
    finally:
        s.cleanup()
    f = files(u)
    owners = {os.stat(os.path.join(users.maildir(u), sub, fn)).st_uid for sub, fn in f.values()}
    check_eq(owners, {uid}, "the files belong to the user")
    stored = {n: content(u, n) for n in f}
    srv = Server().start()
    p = srv.login(u)
    check_eq(p.stat()[0], 3, "STAT: 3 messages")
    got = {}
    for line in p.uidl()[1]:
        num, uniq = line.split()
        got[uniq.decode()] = p.retr(int(num))[1]
        p.dele(int(num))
    check_eq(sorted(got), sorted(stored), "UIDLs are the delivered files' unique names")
    check(all(got[n] == lines_of(stored[n]) for n in stored if n in got), "each message as delivered")
    check(all(b"Delivered-To: %s@test.example" % u.encode() in stored[n] for n in stored),
          "with qmail-local's Delivered-To")
    check_eq(sorted(b"\n".join(got[n]).split(b"\n\n", 1)[1] + b"\n" for n in got),
             sorted(b.split(b"\n\n", 1)[1] for b in bodies), "the bodies as injected")
    p.quit()
    check_eq(files(u), {}, "all deleted at QUIT")
    srv.stop()


def fetched_maildir_messages(d):
    out = []
    for sub in ("new", "cur"):
        for f in sorted(os.listdir(os.path.join(d, sub))):
            with open(os.path.join(d, sub, f), "rb") as fh:
                out.append(fh.read())
    return out


def strip_received(m, marker):
    """m without the first Received: field (with its continuation lines)
    that contains marker: the one fetchmail adds."""
    lines = m.split(b"\n")
    i = 0
    while i < len(lines) and lines[i]:
        j = i + 1
        while j < len(lines) and lines[j][:1] in (b" ", b"\t"):
            j += 1
        if lines[i].startswith(b"Received:") and marker in b"\n".join(lines[i:j]):
            return b"\n".join(lines[:i] + lines[j:])
        i = j
    return m


def client_messages():
    return [msg("client %d" % i, b".dot line\nbody %d\n\n..two\nend\n" % i) for i in range(3)] + \
        [b"From: a@b\nSubject: no final newline\n\nlast"]


def test_fetchmail():
    fm = shutil.which("fetchmail")
    if not fm:
        quail.skip("fetchmail", "not installed (apt-get install fetchmail)")
        return
    u = "qtpop5"
    empty_maildir(u)
    sent = client_messages()
    for i, m in enumerate(sent):
        put(u, m, t=1500000000 + i)
    uid, gid, home, pw = users.info[u]
    out = os.path.join(home, "fetched")
    os.mkdir(out)
    os.chown(out, uid, gid)
    srv = Server().start()
    rc = os.path.join(home, ".fetchmailrc")
    with open(rc, "w") as f:
        f.write('poll 127.0.0.1 protocol pop3 service %d auth password\n'
                '  user "%s" password "%s" is "%s" here\n'
                '  nokeep fetchall no rewrite sslproto ""\n'
                '  mda "/bin/sh -c \'cat > %s/msg.$$\'"\n' % (srv.port, u, pw, u, out))
    os.chown(rc, uid, gid)
    os.chmod(rc, 0o600)
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "USER": u, "LOGNAME": u}
    p = subprocess.run([fm, "-f", rc, "--nosyslog", "--nodetach", "-v", "--pidfile", os.path.join(home, "fm.pid")],
                       user=uid, group=gid, extra_groups=[], env=env, cwd=home, capture_output=True, timeout=300)
    log = (p.stdout + p.stderr).decode("latin-1")
    check_eq(p.returncode, 0, "fetchmail fetches and exits 0", log[-3000:])
    got = []
    for f in sorted(os.listdir(out), key=lambda f: os.stat(os.path.join(out, f)).st_mtime_ns):
        with open(os.path.join(out, f), "rb") as fh:
            got.append(fh.read())
    got = [strip_received(m, b"fetchmail") for m in got]
    want = [m if m.endswith(b"\n") else m + b"\n" for m in sent]
    check_eq(sorted(got), sorted(want), "fetchmail: the messages arrive byte-exact (its Received field aside)",
             log[-2000:])
    check_eq(files(u), {}, "fetchmail --nokeep: they are gone from the server")
    srv.stop()


def test_getmail():
    gm = shutil.which("getmail")
    if not gm:
        quail.skip("getmail", "not installed (apt-get install getmail6)")
        return
    u = "qtpop6"
    empty_maildir(u)
    sent = client_messages()
    for i, m in enumerate(sent):
        put(u, m, t=1600000000 + i)
    uid, gid, home, pw = users.info[u]
    dest = os.path.join(home, "Fetched")
    subprocess.run([MAILDIRMAKE, dest], user=uid, group=gid, extra_groups=[], check=True, timeout=60, cwd=home)
    gdir = os.path.join(home, ".getmail")
    os.mkdir(gdir, 0o700)
    os.chown(gdir, uid, gid)
    srv = Server().start()
    rc = os.path.join(gdir, "getmailrc")
    with open(rc, "w") as f:
        f.write("[retriever]\ntype = SimplePOP3Retriever\nserver = 127.0.0.1\nport = %d\nusername = %s\n"
                "password = %s\n\n[destination]\ntype = Maildir\npath = %s/\n\n"
                "[options]\ndelete = true\nread_all = true\nverbose = 2\ndelivered_to = false\nreceived = false\n"
                "message_log_syslog = false\n" % (srv.port, u, pw, dest))
    os.chown(rc, uid, gid)
    os.chmod(rc, 0o600)
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "USER": u, "LOGNAME": u}
    p = subprocess.run([gm, "--getmaildir", gdir, "--rcfile", "getmailrc"], user=uid, group=gid, extra_groups=[],
                       env=env, cwd=home, capture_output=True, timeout=300)
    log = (p.stdout + p.stderr).decode("latin-1")
    check_eq(p.returncode, 0, "getmail fetches and exits 0", log[-3000:])
    got = fetched_maildir_messages(dest)
    # getmail adds Return-Path when the message has none
    got = [re.sub(rb"^Return-Path: <[^\n]*>\n", b"", m) for m in got]
    want = [m if m.endswith(b"\n") else m + b"\n" for m in sent]
    check_eq(sorted(got), sorted(want), "getmail into a Maildir: the messages arrive byte-exact", log[-2000:])
    check_eq(files(u), {}, "getmail delete = true: they are gone from the server")
    srv.stop()


def test_bad_input():
    u = "qtpop1"
    transaction_maildir(u)
    srv = Server().start()
    r = srv.raw()
    for c in ("STAT", "LIST", "LIST 1", "UIDL", "RETR 1", "TOP 1 0", "DELE 1", "RSET", "LAST", "XYZZY", "",
              "USERX qtpop1", "STLS", "AUTH PLAIN"):
        check_eq(r.cmd(c), AUTHFIRST, "%r before login: %s" % (c, AUTHFIRST))
    check(r.cmd("PASS " + users.password(u)).startswith("-ERR"), "PASS before USER: -ERR")
    check_eq(r.cmd("USER"), "-ERR syntax error", "USER without a name: -ERR")
    check(r.cmd("PASS " + users.password(u)).startswith("-ERR"), "PASS after a refused USER: -ERR")
    # too long: the whole line is refused, the session goes on
    e = r.cmd("USER " + u + "x" * 600)
    check(e in ("-ERR line too long", "-ERR bad command"), "a 600-byte USER line: -ERR", e)
    check(r.cmd("PASS " + users.password(u)).startswith("-ERR"), "and did not set the user name")
    check_eq(r.cmd("NOOP"), "+OK ", "the session goes on")
    check_eq(r.cmd("N" * 510), AUTHFIRST, "a line of 512 bytes with its CRLF is a command")
    e = r.cmd("N" * 511)
    check(e in ("-ERR line too long", "-ERR bad command"), "one of 513 bytes with its CRLF is too long", e)
    # NUL bytes
    e = r.cmd(b"NO\0OP")
    check(e in ("-ERR bad command", "-ERR line too long"), "a NUL in a command: -ERR", e)
    e = r.cmd(b"USER " + u.encode() + b"\0junk")
    check(e is not None and e.startswith("-ERR"), "USER with a NUL: -ERR", e)
    check(r.cmd("PASS " + users.password(u)).startswith("-ERR"), "and the name was not kept")
    check_eq(r.cmd("NOOP"), "+OK ", "the session goes on")
    # a megabyte without a newline, then a newline
    r.send(b"A" * (1 << 20))
    e = r.cmd(b"")
    check(e in ("-ERR line too long", "-ERR bad command"), "a 1 MB line: -ERR", e)
    check_eq(r.cmd("NOOP"), "+OK ", "and the session goes on")
    check(r.cmd("QUIT").startswith("+OK"), "QUIT")
    r.close()
    # the same in the session (qmail-pop3d)
    r = srv.raw()
    r.cmd("USER " + u)
    check(r.cmd("PASS " + users.password(u)).startswith("+OK"), "logged in")
    check_eq(r.cmd("NOOP " + "x" * 505), "+OK ", "in the session: a line of 512 bytes with its CRLF is a command")
    check_eq(r.cmd("NOOP " + "x" * 600), "-ERR line too long", "in the session: a longer one is refused")
    check_eq(r.cmd("STAT"), "+OK 4 %d" % sum(len(content(u, n)) for n in files(u)), "the session goes on")
    check_eq(r.cmd(b"ST\0AT"), "-ERR bad command", "in the session: a NUL in a command")
    check_eq(r.cmd(b"DELE 1\0"), "-ERR bad command", "DELE 1 with a NUL")
    r.send(b"B" * (1 << 20))
    check_eq(r.cmd(b""), "-ERR line too long", "in the session: a 1 MB line")
    check(r.cmd("XYZZY").startswith("-ERR"), "an unknown command: -ERR")
    check(r.cmd("USER " + u).startswith("-ERR"), "USER in the session: -ERR")
    check(r.cmd("PASS x").startswith("-ERR"), "PASS in the session: -ERR")
    check_eq(r.cmd("NOOP"), "+OK ", "the session goes on")
    r.send(b"DELE 1\r\nDELE 2\r\n")
    r.line(), r.line()
    r.close()   # dropped without QUIT
    check(srv.idle(), "the session ends when the client goes away")
    # bare LF ends a line too (as in qmail)
    r = srv.raw()
    r.send("USER %s\nPASS %s\nSTAT\n" % (u, users.password(u)))
    r.line()
    r.line()
    check(r.line().startswith("+OK 4 "), "commands ended by a bare LF work")
    r.close()
    # user names with '/' or '..', root and a uid-0 alias; each in its own
    # connection (one failure each, so one second of delay each, all at once)
    cases = [(name, pw, "login as %r refused" % (name if len(pw) < 100 else name + " with a 490-byte password (over 512 bytes on descriptor 3)"))
             for name, pw in (("../" + u, users.password(u)), (u + "/", users.password(u)),
                              ("a/../" + u, users.password(u)), ("..", users.password(u)), ("root", "root"),
                              (ROOTALIAS, users.password(ROOTALIAS)), (u, "x" * 490))]
    # a user whose account is locked; a user without a Maildir
    cases.append(("qtpop7", users.password("qtpop7"), "a locked account ('!' before the hash) is refused"))
    cases.append(("qtpop8", users.password("qtpop8"), "a user without a Maildir: -ERR"))

    def raw_login(name, pw):
        r = srv.raw()
        r.cmd("USER " + name)
        e = r.cmd("PASS " + pw)
        r.close()
        return e

    got = quail.parallel(*[(lambda a=a, b=b: raw_login(a, b)) for a, b, _ in cases])
    for e, (_, _, name) in zip(got[:-1], cases):
        check_eq(e, AUTHFAIL, name)
    check(got[-1] is not None and got[-1].startswith("-ERR"), cases[-1][2], repr(got[-1]))
    check(srv.idle(), "every session has ended")
    check_eq(sorted(files(u)).__len__(), 4, "nothing was deleted")
    srv.stop()


def test_maildir_vanishes():
    """The Maildir disappears mid-session (removed, not renamed: the session
    sits in it and would follow a rename): -ERR replies, no crash, and
    nothing deleted when it comes back."""
    u = "qtpop3"
    uid, gid, home, _ = users.info[u]
    empty_maildir(u)
    names = [put(u, msg("m%d" % i), t=1700000000 + i) for i in range(3)]
    srv = Server().start()
    p = srv.login(u)
    md = users.maildir(u)
    away = os.path.join(home, "away")
    os.mkdir(away)
    saved = {}
    for n, (sub, f) in files(u).items():
        saved[n] = (sub, f)
        os.rename(os.path.join(md, sub, f), os.path.join(away, f))
    shutil.rmtree(md)
    try:
        e = err(p.retr, 1)
        check(e.startswith("-ERR"), "RETR after the Maildir vanished: -ERR", e)
        check(p.noop().startswith(b"+OK"), "the session goes on")
        p.dele(2)
        try:
            r = p.quit()
        except poplib.error_proto as x:
            r = x.args[0]
        check(r.startswith(b"+OK") or r.startswith(b"-ERR"), "QUIT gets a reply", repr(r))
    finally:
        p.close()
        check(srv.idle(), "the session ends")
        subprocess.run([MAILDIRMAKE, md], user=uid, group=gid, extra_groups=[], check=True, timeout=60, cwd=home)
        for n, (sub, f) in saved.items():
            os.rename(os.path.join(away, f), os.path.join(md, sub, f))
        os.rmdir(away)
    check_eq(sorted(files(u)), sorted(names), "nothing lost")
    srv.stop()


def test_pop3d_as_root():
    """qmail-pop3d run as root (no checkpassword in front) refuses to work."""
    u = "qtpop3"
    empty_maildir(u)
    put(u, msg("m"))
    p = subprocess.run([POP3D, "Maildir"], cwd=users.info[u][2], input=b"STAT\r\nQUIT\r\n", capture_output=True,
                       timeout=60, env={"PATH": "/usr/bin:/bin"})
    check(p.returncode != 0, "qmail-pop3d as root exits non-zero", "rc %d" % p.returncode)
    check(b"+OK" not in p.stdout, "and serves nothing", repr(p.stdout))
    check_eq(len(files(u)), 1, "the Maildir is untouched")
    check_eq(files(u)[list(files(u))[0]][0], "new", "nothing moved to cur/")


FAKE_CHECKPASSWORD = r"""#!/usr/bin/python3
# A checkpassword stand-in: exits as the user name says; "show" writes what
# it got on descriptor 3 to the client (descriptor 1) and ends the session.
import os, sys
data = b""
while True:
    chunk = os.read(3, 4096)
    if not chunk:
        break
    data += chunk
user = data.split(b"\0")[0]
if user == b"temp":
    sys.exit(111)
if user == b"crash":
    os.kill(os.getpid(), 9)
if user == b"misuse":
    sys.exit(2)
if user == b"show":
    os.write(1, b"+OK " + data.replace(b"\0", b"|") + b" " + " ".join(sys.argv[1:]).encode() + b"\r\n")
    sys.exit(0)
sys.exit(1)
"""


def test_subprogram():
    """qmail-popup with a stand-in checkpassword: what it hands over on
    descriptor 3, and its replies to each kind of exit."""
    path = os.path.join(users.top, "fake-checkpassword")
    with open(path, "w") as f:
        f.write(FAKE_CHECKPASSWORD)
    os.chmod(path, 0o755)
    srv = Server(checkpassword=path).start()
    r = srv.raw()
    ts = r.greeting.split(" ", 1)[1]
    r.cmd("USER show")
    check_eq(r.cmd("PASS pass word"), "+OK show|pass word|%s| %s Maildir" % (ts, POP3D),
             "descriptor 3: user NUL password NUL timestamp NUL; the client on 1; the subprogram's arguments")
    check(r.closed(), "the session over, qmail-popup ends the connection")
    r.close()
    r = srv.raw()
    ts = r.greeting.split(" ", 1)[1]
    digest = hashlib.md5((ts + "secret").encode()).hexdigest()
    check_eq(r.cmd("APOP show " + digest), "+OK show|%s|%s| %s Maildir" % (digest, ts, POP3D),
             "APOP: the digest in the password's place")
    r.close()
    cases = (("temp", "-ERR [SYS/TEMP] temporary failure", "exit 111"),
             ("crash", "-ERR [SYS/TEMP] temporary failure", "killed by a signal"),
             ("misuse", AUTHFAIL, "exit 2"), ("other", AUTHFAIL, "exit 1"))

    def refused(user):
        # each refusal waits a second: the four connections wait together
        r = srv.raw()
        r.cmd("USER " + user)
        got = (r.cmd("PASS x"), r.cmd("NOOP"))
        r.close()
        return got

    for (p, n), (user, want, name) in zip(quail.parallel(*[(lambda u=c[0]: refused(u)) for c in cases]), cases):
        check_eq(p, want, "checkpassword %s: %s" % (name, want))
        check_eq(n, "+OK ", "and the client may go on (%s)" % name)
    srv.stop()


def test_popup_timeout_control():
    """control/timeoutpop3 shortens qmail-popup's idle timeout (the spec:
    read if present, default 1200 s)."""
    path = os.path.join(ROOT, "control", "timeoutpop3")
    with open(path, "w") as f:
        f.write("3\n")
    try:
        srv = Server().start()
        r = srv.raw()
        t = time.time()
        closed = r.closed(60)
        took = time.time() - t
        check(closed, "an idle client is disconnected (control/timeoutpop3 = 3)", "%.1f s" % took)
        check(took >= 2.9, "not before 3 s", "%.1f s" % took)
        r.close()
        srv.stop()
    finally:
        os.unlink(path)


TESTS = [
    test_greeting, test_capa, test_login, test_apop, test_transaction, test_pipelining, test_uidl_stable,
    test_drop_after_dele, test_two_sessions, test_dots_and_no_final_newline, test_large, test_queue_delivery,
    test_fetchmail, test_getmail, test_subprogram, test_bad_input, test_maildir_vanishes, test_pop3d_as_root,
    test_popup_timeout_control,
]
# Tests that mostly wait on their own server: started first, they run
# beside the others (quail.Background).
BACKGROUND = [test_bad_passwords]


def main():
    global users
    if not quail.is_root():
        quail.skip("pop3_test", "needs root (useradd, checkpassword)")
        quail.done()
    for p in (POPUP, CHECKPASSWORD, POP3D):
        if not check(os.access(p, os.X_OK), "%s is built" % os.path.basename(p), p):
            quail.done()
    if not check(os.access(TCPSERVER, os.X_OK), "tcpserver exists"):
        quail.done()
    for name in USERS + [ROOTALIAS]:   # left over from a run that was killed
        remove_user(name)
    users = Users()
    only = sys.argv[1:]
    try:
        for name in USERS:
            users.add(name, maildir=name != "qtpop8")
        users.add(ROOTALIAS, uid=0, maildir=False)
        subprocess.run(["usermod", "-L", "qtpop7"], check=True, timeout=60, capture_output=True)
        background = [quail.Background(t) for t in BACKGROUND if not only or t.__name__ in only]
        keep = [srv for b in background for srv in b.servers]
        for t in TESTS:
            if only and t.__name__ not in only:
                continue
            started = time.time()
            try:
                t()
            except Exception as e:  # one broken test must not hide the others
                check(False, "%s ran to the end" % t.__name__, "%r\n%s" % (e, traceback.format_exc()))
            finally:
                stop_servers(keep)
                print("# %s: %.1f s" % (t.__name__, time.time() - started))
        for b in background:
            b.finish()
    finally:
        stop_servers()
        users.remove_all()
    quail.done()


main()
