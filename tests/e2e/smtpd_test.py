"""qmail-smtpd, end to end, as people run it: under the real tcpserver
(ucspi-tcp) on 127.0.0.1, with tcprules for RELAYCLIENT and SMTPAUTH, as
an unprivileged user when the tests run as root (tcpserver -u, as with
qmaild), talking to Python's smtplib, swaks and raw sockets.

Messages go either through the instance's real qmail-queue (read back from
queue/todo, or delivered by a running qmail-send into a Maildir) or through
a recording QMAILQUEUE script that keeps the message and the envelope it
was given and exits with the code the test asks for.

Timing: nothing asserts that something is fast; delays (the AUTH failure
delay, the timeouts) are asserted as lower bounds only, and every wait is
bounded. Every process a test starts (tcpserver and everything it ran) is
killed by pid at the end.

Not tested here: TLS (a later issue); DNS names of the client (tcpserver
runs with -H, so the remote host is "unknown"); the benchmark (bench/).
"""

import base64
import contextlib
import email.utils
import os
import re
import shutil
import signal
import smtplib
import socket
import stat
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(__file__))
import quail  # noqa: E402
from quail import check, check_eq, ROOT, BIN, wait_for  # noqa: E402

signal.signal(signal.SIGPIPE, signal.SIG_IGN)

SMTPD = os.path.join(BIN, "qmail-smtpd")
if not os.path.exists(SMTPD) and os.path.exists(os.path.join(quail.BUILD, "bin", "qmail-smtpd")):
    SMTPD = os.path.join(quail.BUILD, "bin", "qmail-smtpd")
TCPSERVER = shutil.which("tcpserver") or "/usr/bin/tcpserver"
TCPRULES = shutil.which("tcprules") or "/usr/bin/tcprules"
SWAKS = shutil.which("swaks") or "/usr/bin/swaks"
ME = "test.example"
LOCALNAME = "mx.test.example"   # tcpserver -l: TCPLOCALHOST, the "by" of Received
IOTIMEOUT = 60                  # seconds any single read from the server may take

DATE = r"\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d [-+]\d{4}"
OKDATA = re.compile(r"^250 2\.0\.0 ok \d+ qp \d+$")
SMUGGLE_451 = "451 4.5.2 See https://cr.yp.to/docs/smtplf.html. (#4.5.2)"
NOT_RCPTHOSTS = "553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"
NO_MAILBOX = "550 5.1.1 sorry, no mailbox here by that name (#5.1.1)"
RCPT_OK = "250 2.1.5 ok"
MAIL_OK = "250 2.1.0 ok"
OK = "250 2.0.0 ok"
TOO_BIG = "552 5.3.4 sorry, that message size exceeds my databytes limit (#5.3.4)"

RECORDER = r"""#!/bin/sh
# A QMAILQUEUE stand-in: keeps what it is given (message on 0, envelope on
# 1) and exits with $QQEXIT, writing $QQTEXT on descriptor 6 first.
umask 022
d=@DIR@
t=$d/tmp.$$
cat > "$t.msg" || exit 54
cat 0<&1 > "$t.env" || exit 54
if [ -n "$QQTEXT" ]; then printf '%s' "$QQTEXT" >&6; fi
code=${QQEXIT:-0}
if [ "$code" = 0 ]; then mv "$t.msg" "$d/q.$$.msg" && mv "$t.env" "$d/q.$$.env"; fi
exit "$code"
"""

CHECKPASSWORD = r"""#!/usr/bin/python3
# A checkpassword stand-in: user\0password\0timestamp\0 on descriptor 3.
import os, sys
data = b""
while True:
    chunk = os.read(3, 4096)
    if not chunk:
        break
    data += chunk
with open(os.path.join("@DIR@", "cp.%d" % os.getpid()), "wb") as f:
    f.write(data + b"\n" + b"\0".join(a.encode() for a in sys.argv))
parts = data.split(b"\0")
user, pw = parts[0], (parts[1] if len(parts) > 1 else b"")
if user == b"temp":
    sys.exit(111)
if user == b"crash":
    os.kill(os.getpid(), 9)
if user == b"misuse":
    sys.exit(2)
if (user, pw) == (b"alice", b"secret"):
    os.execvp(sys.argv[1], sys.argv[1:])
sys.exit(1)
"""


def unpriv():
    """(uid, gid) qmail-smtpd runs as: nobody when we are root (as qmaild
    under tcpserver -u), else none (ourselves)."""
    if quail.is_root():
        return quail.delivery_uid(), quail.delivery_gid()
    return None


class Server(quail.TcpServer):
    """tcpserver running qmail-smtpd on a free port of 127.0.0.1."""

    def __init__(self, s, args=(), env=None, rules=None, queue="record", concurrency=40):
        self.sys = s
        self.args = list(args)
        self.queue = queue
        n = 0
        while os.path.exists(os.path.join(s.top, "smtpd%d.log" % n)):
            n += 1
        env = dict(env or {})
        self.qdir = os.path.join(s.top, "recorded%d" % n)
        os.mkdir(self.qdir)
        os.chmod(self.qdir, 0o777)
        if queue == "record":
            rec = os.path.join(s.top, "recorder%d" % n)
            with open(rec, "w") as f:
                f.write(RECORDER.replace("@DIR@", self.qdir))
            os.chmod(rec, 0o755)
            env["QMAILQUEUE"] = rec
        self.cpdir = os.path.join(s.top, "cp%d" % n)
        os.mkdir(self.cpdir)
        os.chmod(self.cpdir, 0o777)
        self.checkpassword = os.path.join(s.top, "checkpassword%d" % n)
        with open(self.checkpassword, "w") as f:
            f.write(CHECKPASSWORD.replace("@DIR@", self.cpdir))
        os.chmod(self.checkpassword, 0o755)
        self.n = n
        fullenv = s.plainenv()
        fullenv.update(env)
        quail.TcpServer.__init__(self, [SMTPD] + self.args, env=fullenv, opts=("-H", "-R", "-l", LOCALNAME),
                                 rules=rules, user=unpriv(), logfile=os.path.join(s.top, "smtpd%d.log" % n),
                                 name="qmail-smtpd", concurrency=concurrency)

    def start(self):
        self.argv = [SMTPD] + self.args   # a test may set args after making the server
        return quail.TcpServer.start(self)

    def recorded(self):
        """Messages the recording queue program accepted completely: a list
        of (message, envelope records), oldest first."""
        out = []
        names = [f for f in os.listdir(self.qdir) if f.startswith("q.") and f.endswith(".env")]
        names.sort(key=lambda f: os.stat(os.path.join(self.qdir, f)).st_mtime_ns)
        for f in names:
            with open(os.path.join(self.qdir, f), "rb") as e:
                env = e.read()
            with open(os.path.join(self.qdir, f[:-4] + ".msg"), "rb") as m:
                msg = m.read()
            if env.endswith(b"\0\0"):
                out.append((msg, env[:-1].split(b"\0")[:-1]))
        return out

    def cp_calls(self):
        out = []
        for f in sorted(os.listdir(self.cpdir)):
            with open(os.path.join(self.cpdir, f), "rb") as c:
                out.append(c.read())
        return out


def queued(root=ROOT):
    """Messages in the real queue's todo/: (message, envelope records)."""
    out = []
    for p in quail.queue_files(root, "todo"):
        with open(p, "rb") as f:
            msg, env, _ = quail.parse_queue_file(f.read())
        out.append((msg, env))
    return out


class Client(quail.SmtpClient):
    """A raw SMTP client: bytes out (str as UTF-8), replies in (as latin-1
    text, lines joined with newlines)."""

    def __init__(self, port, timeout=IOTIMEOUT):
        quail.SmtpClient.__init__(self, port, timeout)

    def closed(self, timeout=IOTIMEOUT):
        return quail.SmtpClient.closed(self, timeout)


def hello(srv, greeting="EHLO client.example"):
    c = Client(srv.port)
    g = c.reply()
    if g is None or not g.startswith("220 "):
        raise RuntimeError("no greeting: %r" % g)
    if greeting:
        r = c.cmd(greeting)
        if r is None or not r.startswith("250"):
            raise RuntimeError("%s: %r" % (greeting, r))
    return c


def expect(got, want, name):
    """want: the exact reply, or a compiled pattern it must match."""
    if isinstance(want, str):
        return check_eq(got, want, name)
    return check(got is not None and want.search(got), name, "got %r, want /%s/" % (got, want.pattern))


ENHANCED = re.compile(r"^(\d{3}[ -])[245]\.\d{1,3}\.\d{1,3} ", re.M)


def plain(reply):
    """The reply without its enhanced status codes: what a client that
    never said EHLO gets from qmail-smtpd (see test_replies_after_helo)."""
    return ENHANCED.sub(r"\1", reply) if reply else reply


def ehlo_keywords(reply):
    lines = reply.split("\n")
    return [l[4:] for l in lines[1:]]


def b64(b):
    if isinstance(b, str):
        b = b.encode()
    return base64.b64encode(b).decode()


def mkcontrols(extra=None):
    c = {"rcpthosts": "test.example\nlocalhost"}
    c.update(extra or {})
    return c


def add_alias(s):
    """What qmail-pw2u writes for the alias user: a users/assign line
    "+:alias:..." that catches every local part no other line takes, with
    the alias home as its home and ext = the whole local part. The alias
    user of a test instance built as root is root, which delivery (and so
    the recipient check) never uses; this one is the delivery user."""
    home = os.path.join(s.top, "alias")
    os.mkdir(home)
    os.chown(home, s.uid, s.gid)
    os.chmod(home, 0o755)
    s.homes["alias"] = home
    name = quail.pwd.getpwuid(s.uid).pw_name
    s.write_assign("+:%s:%d:%d:%s:-::\n" % (name, s.uid, s.gid, home))
    return home


@contextlib.contextmanager
def setup(controls=None, users=("alice", "bob", "postmaster"), send=False, **kw):
    s = quail.System(controls=mkcontrols(controls), users=users)
    add_alias(s)
    srv = None
    try:
        if send:
            s.start()
        srv = Server(s, **kw).start()
        yield s, srv
    finally:
        if srv:
            srv.stop()
        s.cleanup()


def set_control(name, value):
    p = os.path.join(ROOT, "control", name)
    if value is None:
        if os.path.exists(p):
            os.unlink(p)
        return
    with open(p, "w") as f:
        f.write(value if value.endswith("\n") or value == "" else value + "\n")


def transaction(c, sender="sender@remote.example", rcpts=("alice@test.example",), body=b"Subject: t\r\n\r\nhi\r\n"):
    """MAIL, RCPTs, DATA and the body (already in SMTP form, without the
    final dot); returns the list of replies."""
    out = [c.cmd("MAIL FROM:<%s>" % sender)]
    for r in rcpts:
        out.append(c.cmd("RCPT TO:<%s>" % r))
    out.append(c.cmd("DATA"))
    if out[-1] and out[-1].startswith("354"):
        c.send(body + b".\r\n")
        out.append(c.reply())
    return out


RECEIVED_RE = r"Received: from unknown \(HELO %s\) \(%s\)\n  by mx\.test\.example with %s; " + DATE + r"\n"


# --------------------------------------------------------------------------
# the whole flow


def test_flow_smtplib():
    with setup(send=True, queue="real") as (s, srv):
        body = (b"Subject: flow\r\nFrom: sender@remote.example\r\n\r\nline one\r\n.leading dot\r\n"
                b"..two dots\r\ntrailing space \r\n\ttab\r\n\r\n\r\nlast line\r\n")
        c = smtplib.SMTP("127.0.0.1", srv.port, local_hostname="client.example", timeout=IOTIMEOUT)
        refused = c.sendmail("sender@remote.example", ["alice@test.example"], body)
        c.quit()
        check_eq(refused, {}, "smtplib: the recipient is accepted")
        check(s.wait_messages("alice", 1), "smtplib: the message lands in alice's Maildir/new")
        m = s.messages("alice")[0] if s.maildir("alice") else b""
        want_body = body.replace(b"\r\n", b"\n")
        pat = (r"\AReturn-Path: <sender@remote\.example>\nDelivered-To: alice@test\.example\n"
               r"Received: \(qmail \d+ invoked [^)]*\); " + DATE + r"\n" +
               RECEIVED_RE % ("client\\.example", "127\\.0\\.0\\.1", "ESMTP"))
        mt = m.decode("latin-1")
        mm = re.match(pat, mt)
        check(mm, "smtplib: Received line: from unknown (HELO client.example) (127.0.0.1) by ... with ESMTP",
              repr(mt[:400]))
        if mm:
            check_eq(m[mm.end():], want_body, "smtplib: the body arrives byte for byte (CRLF as LF, dots unstuffed)")
        log = srv.logtext()
        tx = [l for l in log.splitlines() if " tx " in l or ": tx" in l]
        check(tx and re.match(r"qmail-smtpd: pid \d+ tx ip=127\.0\.0\.1 ", tx[0]), "log: a tx line", log)
        if tx:
            for field in ("ip=127.0.0.1", "helo=client.example", "auth=-", "from=<sender@remote.example>",
                          "to=<alice@test.example>", "result=250"):
                check(field in tx[0], "log: the tx line has " + field, tx[0])
            check(re.search(r" size=\d+", tx[0]) and re.search(r" qp=\d+", tx[0]), "log: the tx line has size= and qp=",
                  tx[0])


def test_flow_swaks():
    with setup(send=True, queue="real") as (s, srv):
        p = subprocess.run([SWAKS, "--server", "127.0.0.1:%d" % srv.port, "--from", "sw@remote.example",
                            "--to", "bob@test.example", "--ehlo", "swaks.example", "--timeout", "60",
                            "--data", "Subject: via swaks\\n\\nswaks body\\n.dot line"],
                           capture_output=True, timeout=120)
        check_eq(p.returncode, 0, "swaks: exit 0", p.stdout.decode(errors="replace")[-2000:])
        check(s.wait_messages("bob", 1), "swaks: the message lands in bob's Maildir/new")
        m = s.messages("bob")[0].decode("latin-1") if s.maildir("bob") else ""
        check(re.search(RECEIVED_RE % ("swaks\\.example", "127\\.0\\.0\\.1", "ESMTP"), m), "swaks: Received line", m[:400])
        check(m.endswith("Subject: via swaks\n\nswaks body\n.dot line\n"), "swaks: the body", repr(m[-200:]))


def test_flow_helo_and_pipelining():
    with setup(send=True, queue="real") as (s, srv):
        c = Client(srv.port)
        check_eq(c.reply(), "220 test.example ESMTP", "greeting: 220 me ESMTP without smtpgreeting")
        c.send("HELO old.example\r\nMAIL FROM:<p@remote.example>\r\nRCPT TO:<alice@test.example>\r\n"
               "RCPT TO:<nosuch@test.example>\r\nRCPT TO:<bob@test.example>\r\nDATA\r\n")
        r = c.replies(6)
        check_eq([plain(x) for x in r], [plain(x) for x in ("250 test.example", MAIL_OK, RCPT_OK, NO_MAILBOX, RCPT_OK,
                                                           "354 go ahead")],
                 "pipelined: HELO, MAIL, 3 RCPT, DATA answered in order")
        c.send(b"Subject: one\r\n\r\nfirst\r\n.\r\nRSET\r\nMAIL FROM:<p2@remote.example>\r\n"
               b"RCPT TO:<alice@test.example>\r\nDATA\r\n")
        r = c.replies(5)
        check(r[0] and re.match(r"^250 ok \d+ qp \d+$", r[0]), "pipelined: the first message is accepted", repr(r))
        check_eq([plain(x) for x in r[1:]], [plain(x) for x in (OK, MAIL_OK, RCPT_OK, "354 go ahead")],
                 "pipelined: RSET, MAIL, RCPT, DATA after the dot")
        c.send(b"Subject: two\r\n\r\nsecond\r\n.\r\nQUIT\r\n")
        r = c.replies(2)
        check(r[0] and re.match(r"^250 ok \d+ qp \d+$", r[0]), "pipelined: the second message is accepted", repr(r))
        check_eq(plain(r[1]), "221 test.example", "QUIT: 221 me")
        check(c.closed(), "QUIT closes the connection")
        check(s.wait_messages("alice", 2) and s.wait_messages("bob", 1), "pipelined: alice gets 2, bob 1")
        msgs = [m.decode("latin-1") for m in s.messages("alice")] + [m.decode("latin-1") for m in s.messages("bob")]
        check(all(re.search(RECEIVED_RE % ("old\\.example", "127\\.0\\.0\\.1", "SMTP"), m) for m in msgs) and msgs,
              "HELO: the Received line says 'with SMTP'", repr(msgs[:1]))
        check(sorted(m.rsplit("\n\n", 1)[-1] for m in msgs) == ["first\n", "first\n", "second\n"],
              "pipelined: the bodies", repr(msgs))


# --------------------------------------------------------------------------
# commands and replies


def test_commands():
    with setup(controls={"smtpgreeting": "mx.test.example Quail"}) as (s, srv):
        c = Client(srv.port)
        check_eq(c.reply(), "220 mx.test.example Quail ESMTP", "greeting: 220 smtpgreeting ESMTP")
        check_eq(c.cmd("HELO client.example"), "250 test.example", "HELO: 250 me")
        r = c.cmd("EHLO client.example")
        lines = (r or "").split("\n")
        check_eq(lines[0], "250-test.example", "EHLO: the first line is 250-me")
        check(all(l.startswith("250-") for l in lines[:-1]) and lines[-1].startswith("250 "),
              "EHLO: 250- lines, the last 250 ", r)
        kw = ehlo_keywords(r or "")
        check_eq(sorted(kw), sorted(["PIPELINING", "8BITMIME", "SIZE", "ENHANCEDSTATUSCODES", "SMTPUTF8",
                                     "CHUNKING", "HELP"]),
                 "EHLO: the keywords (no AUTH without SMTPAUTH, SIZE alone without databytes)")
        check_eq(c.cmd("NOOP"), OK, "NOOP")
        check_eq(c.cmd("noop with args"), OK, "noop (lowercase, with an argument)")
        check_eq(c.cmd("RSET"), OK, "RSET")
        check_eq(c.cmd("VRFY alice"), "252 2.1.5 send some mail, i'll try my best", "VRFY: 252 without disclosure")
        check_eq(c.cmd("HELP"), "214 2.0.0 qmail home page: https://cr.yp.to/qmail.html", "HELP")
        check_eq(c.cmd("XYZZY"), "502 5.5.1 unimplemented (#5.5.1)", "unknown command: 502")
        check_eq(c.cmd("EXPN staff"), "502 5.5.1 unimplemented (#5.5.1)", "EXPN: 502")
        check_eq(c.cmd("STARTTLS"), "502 5.5.1 unimplemented (#5.5.1)", "STARTTLS: 502 (no TLS yet)")
        check_eq(c.cmd("RCPT TO:<alice@test.example>"), "503 5.5.1 MAIL first (#5.5.1)", "RCPT before MAIL: 503")
        check_eq(c.cmd("MAIL FROM:<a@remote.example>"), MAIL_OK, "MAIL: 250 2.1.0 ok")
        check_eq(c.cmd("DATA"), "503 5.5.1 RCPT first (#5.5.1)", "DATA before RCPT: 503")
        check_eq(c.cmd("MAIL FROM:<b@remote.example>"), "503 5.5.1 nested MAIL command (#5.5.1)", "nested MAIL: 503")
        check_eq(c.cmd("RSET"), OK, "RSET ends the transaction")
        check_eq(c.cmd("MAIL FROM"), "501 5.5.4 syntax error (#5.5.4)", "MAIL without FROM: 501")
        check_eq(c.cmd("MAIL FROM:<a@remote.example> FOO=bar"), "555 5.5.4 unsupported parameter (#5.5.4)",
                 "MAIL with an unknown parameter: 555")
        check_eq(c.cmd("MAIL FROM:<a@remote.example> RET=HDRS"), "555 5.5.4 unsupported parameter (#5.5.4)",
                 "MAIL with DSN's RET (not advertised): 555")
        check_eq(c.cmd("MAIL FROM:a@remote.example"), MAIL_OK, "MAIL FROM:addr without brackets, as qmail")
        check_eq(c.cmd("RCPT TO alice@test.example"), "501 5.5.4 syntax error (#5.5.4)", "RCPT without colon: 501")
        check_eq(c.cmd("RCPT TO:<>"), "501 5.5.4 syntax error (#5.5.4)", "RCPT TO:<>: 501")
        check_eq(c.cmd("RCPT TO:<alice@test.example> NOTIFY=NEVER"), "555 5.5.4 unsupported parameter (#5.5.4)",
                 "RCPT with a parameter: 555")
        check_eq(c.cmd("RCPT TO:<postmaster>"), RCPT_OK, "RCPT TO:<postmaster> without a domain")
        check_eq(c.cmd("RCPT TO:<Postmaster@test.example>"), RCPT_OK, "RCPT TO:<Postmaster@me>")
        check_eq(c.cmd("RSET"), OK, "RSET")
        check_eq(c.cmd("MAIL FROM:<>"), MAIL_OK, "MAIL FROM:<> (bounces)")
        check_eq(c.cmd("RCPT TO:<alice@test.example>"), RCPT_OK, "RCPT after MAIL FROM:<>")
        check_eq(c.cmd("QUIT"), "221 2.0.0 test.example", "QUIT: 221 me")
        check(c.closed(), "QUIT closes")
        c.close()
        c = Client(srv.port)
        c.reply()
        r = c.cmd("EHLO")
        check(r is not None and r.startswith("501 5.5.4 "), "EHLO without a name: 501 5.5.4", repr(r))
        r = c.cmd("EHLO  ")
        check(r is not None and r.startswith("501 5.5.4 "), "EHLO with only blanks: 501 5.5.4", repr(r))
        r = c.cmd(b"EHLO a\x01b")
        check(r is not None and r.startswith("501 5.5.4 "), "EHLO with a control byte: 501 5.5.4", repr(r))
        r = c.cmd("HELO")
        check(r is not None and r.startswith("501 "), "HELO without a name: 501", repr(r))
        c.close()
        c = Client(srv.port)
        c.reply()
        check_eq(plain(c.cmd("MAIL FROM:<a@remote.example>")), plain(MAIL_OK),
                 "MAIL without HELO is accepted (qmail's default)")
        c.close()


def test_controls_unreadable():
    s = quail.System(controls=mkcontrols())
    try:
        srv = Server(s).start()
        set_control("me", None)
        c = Client(srv.port)
        check_eq(plain(c.reply()), plain("421 4.3.0 unable to read controls (#4.3.0)"), "no control/me: 421")
        check(c.closed(), "no control/me: closed")
        set_control("me", ME)
        set_control("rcpthosts", "test.example")
        os.chmod(os.path.join(ROOT, "control", "rcpthosts"), 0)
        if quail.is_root() and not unpriv():
            quail.skip("unreadable rcpthosts", "qmail-smtpd would run as root")
        else:
            c = Client(srv.port)
            check_eq(plain(c.reply()), plain("421 4.3.0 unable to read controls (#4.3.0)"), "unreadable rcpthosts: 421")
            check(c.closed(), "unreadable rcpthosts: closed")
        os.chmod(os.path.join(ROOT, "control", "rcpthosts"), 0o644)
        c = Client(srv.port)
        check_eq(c.reply(), "220 test.example ESMTP", "readable again: 220")
        srv.stop()
    finally:
        s.cleanup()


def test_requirehelo():
    with setup(controls={"requirehelo": "1"}, rules='127.0.0.1:allow,REQUIREHELO="0"\n') as (s, srv):
        c = hello(srv, None)
        check_eq(plain(c.cmd("MAIL FROM:<a@remote.example>")), plain(MAIL_OK),
                 "REQUIREHELO=0 overrides control/requirehelo 1")
    with setup(controls={"requirehelo": "1"}) as (s, srv):
        c = hello(srv, None)
        check_eq(plain(c.cmd("MAIL FROM:<a@remote.example>")), plain("503 5.5.1 send HELO or EHLO first (#5.5.1)"),
                 "control/requirehelo 1: MAIL before HELO gets 503")
        check_eq(c.cmd("HELO x.example"), "250 test.example", "then HELO")
        check_eq(plain(c.cmd("MAIL FROM:<a@remote.example>")), plain(MAIL_OK), "and MAIL is accepted")
        c = hello(srv, None)
        c.cmd("EHLO x.example")
        c.cmd("RSET")
        check_eq(c.cmd("MAIL FROM:<a@remote.example>"), MAIL_OK, "after EHLO: MAIL is accepted")
    with setup(rules='127.0.0.1:allow,REQUIREHELO="1"\n') as (s, srv):
        c = hello(srv, None)
        check_eq(plain(c.cmd("MAIL FROM:<a@remote.example>")), plain("503 5.5.1 send HELO or EHLO first (#5.5.1)"),
                 "REQUIREHELO=1: MAIL before HELO gets 503")


def test_replies_after_helo():
    """The implementer's decision (see the DECISION in the specification,
    and seed example E01): enhanced status codes go to clients that said
    EHLO; a client that said HELO, or nothing, gets qmail's replies byte for
    byte. After EHLO, the same session gets them again."""
    with setup() as (s, srv):
        c = hello(srv, "HELO client.example")
        check_eq(c.cmd("MAIL FROM:<a@remote.example>"), "250 ok", "after HELO: qmail's MAIL reply")
        check_eq(c.cmd("RCPT TO:<alice@test.example>"), "250 ok", "after HELO: qmail's RCPT reply")
        check_eq(c.cmd("RCPT TO:<x@other.example>"), plain(NOT_RCPTHOSTS), "after HELO: qmail's 553 text")
        check(plain(NOT_RCPTHOSTS) == "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)",
              "qmail's 553 text is what qmail says")
        check_eq(c.cmd("NOOP"), "250 ok", "after HELO: qmail's NOOP reply")
        check_eq(c.cmd("EHLO client.example").split("\n")[-1], "250 HELP", "then EHLO")
        check_eq(c.cmd("NOOP"), OK, "after EHLO: NOOP with its enhanced code")
        c = hello(srv, None)
        check_eq(c.cmd("RSET"), "250 ok", "before HELO: qmail's RSET reply")


def test_badhelo():
    with setup(controls={"badhelo": "bad.helo.example\n.evil-helo.example"}) as (s, srv):
        c = hello(srv, None)
        bad = "553 5.7.1 sorry, your HELO is in my badhelo list (#5.7.1)"
        check_eq(c.cmd("EHLO bad.helo.example"), bad, "badhelo: an exact name")
        check_eq(plain(c.cmd("HELO bad.helo.example")), plain(bad), "badhelo: at HELO too")
        check_eq(c.cmd("EHLO BAD.Helo.Example"), bad, "badhelo: compared without case")
        check_eq(c.cmd("EHLO mx.evil-helo.example"), bad, "badhelo: a .domain line matches a subdomain")
        check_eq(c.cmd("HELO other.helo.example"), "250 test.example", "badhelo: another name is fine")
        check_eq(c.cmd("EHLO other.helo.example").split("\n")[0], "250-test.example", "badhelo: at EHLO too")


# --------------------------------------------------------------------------
# rcpthosts, RELAYCLIENT, localiphost, badmailfrom, badrcptto


def test_rcpthosts():
    with setup(controls={"rcpthosts": "test.example\n.wild.example\nexact.example",
                         "morercpthosts": "more.example\n.morewild.example"}) as (s, srv):
        p = subprocess.run([os.path.join(BIN, "qmail-newmrh")], env=s.plainenv(), capture_output=True, timeout=60)
        check_eq(p.returncode, 0, "qmail-newmrh builds morercpthosts.cdb")
        c = hello(srv)
        c.cmd("MAIL FROM:<a@remote.example>")
        for rcpt, want in (("x@exact.example", RCPT_OK), ("x@EXACT.Example", RCPT_OK),
                           ("x@sub.exact.example", NOT_RCPTHOSTS), ("x@sub.wild.example", RCPT_OK),
                           ("x@a.b.wild.example", RCPT_OK), ("x@wild.example", NOT_RCPTHOSTS),
                           ("x@more.example", RCPT_OK), ("x@s.morewild.example", RCPT_OK),
                           ("x@other.example", NOT_RCPTHOSTS), ("x@notmore.example", NOT_RCPTHOSTS),
                           ("x@[10.1.2.3]", NOT_RCPTHOSTS)):
            check_eq(c.cmd("RCPT TO:<%s>" % rcpt), want, "rcpthosts: " + rcpt)
        # the open-relay tricks: none of them may be accepted for relaying
        tricks = ("x%other.example@exact.example", "other.example!x@exact.example", "@exact.example:x@other.example",
                  "@exact.example,@more.example:x@other.example", "x@other.example.", "x@OTHER.EXAMPLE",
                  "\"x@other.example\"@exact.example", "x@other.example@exact.example",
                  "x@[127.0.0.1]", "x@other.example\\@exact.example")
        c.cmd("RSET")
        c.cmd("MAIL FROM:<a@remote.example>")
        for t in tricks:
            r = c.cmd("RCPT TO:<%s>" % t)
            # accepted only if the address, as qmail-smtpd queues it, stays in an allowed domain
            check(r is not None and r[:1] in "245", "relay trick answered: " + t, repr(r))
        c.send("DATA\r\n")
        r = c.reply()
        if r and r.startswith("354"):
            c.send(b"Subject: trick\r\n\r\nx\r\n.\r\n")
            c.reply()
        c.cmd("QUIT")
        srv.idle()
        for msg, env in srv.recorded():
            for rec in env[1:]:
                dom = rec.rsplit(b"@", 1)[-1].lower().rstrip(b".")
                check(rec.startswith(b"T") and (dom in (b"exact.example", b"test.example", b"more.example")
                                                or dom.endswith(b".wild.example")),
                      "relay trick: queued only for an allowed domain: %r" % rec)
                check(b"other.example" not in dom, "no trick relays to other.example: %r" % rec)


def test_relayclient():
    rules = '127.0.0.1:allow,RELAYCLIENT="-rc"\n'
    with setup(rules=rules) as (s, srv):
        c = hello(srv)
        r = transaction(c, rcpts=("x@other.example", "y@another.example"))
        check_eq(r[:3], [MAIL_OK, RCPT_OK, RCPT_OK], "RELAYCLIENT (from tcprules): relaying allowed")
        expect(r[-1], OKDATA, "RELAYCLIENT: the message is accepted")
        c.cmd("QUIT")
        srv.idle()
        rec = srv.recorded()
        check_eq([e for m, e in rec], [[b"Fsender@remote.example", b"Tx@other.example-rc", b"Ty@another.example-rc"]],
                 "RELAYCLIENT's value is appended to every recipient")
    with setup(rules='127.0.0.1:allow,RELAYCLIENT=""\n') as (s, srv):
        c = hello(srv)
        r = transaction(c, rcpts=("x@other.example",))
        expect(r[-1], OKDATA, "RELAYCLIENT empty: relayed")
        c.cmd("QUIT")
        srv.idle()
        check_eq([e for m, e in srv.recorded()], [[b"Fsender@remote.example", b"Tx@other.example"]],
                 "RELAYCLIENT empty: the recipient unchanged")
    with setup(rules='127.0.0.2:allow,RELAYCLIENT=""\n127.0.0.1:allow\n') as (s, srv):
        c = hello(srv)
        c.cmd("MAIL FROM:<a@remote.example>")
        check_eq(c.cmd("RCPT TO:<x@other.example>"), NOT_RCPTHOSTS, "RELAYCLIENT for another IP: no relaying")


def test_localiphost():
    with setup(controls={"localiphost": "lip.example", "rcpthosts": "lip.example"}) as (s, srv):
        c = hello(srv)
        r = transaction(c, rcpts=("alice@[127.0.0.1]",))
        check_eq(r[1], RCPT_OK, "localiphost: alice@[127.0.0.1] is accepted")
        c.cmd("QUIT")
        srv.idle()
        check_eq([e[1:] for m, e in srv.recorded()], [[b"Talice@lip.example"]],
                 "localiphost: [127.0.0.1] becomes control/localiphost")
        c = hello(srv)
        c.cmd("MAIL FROM:<a@remote.example>")
        check_eq(c.cmd("RCPT TO:<alice@[192.0.2.99]>"), NOT_RCPTHOSTS, "a literal not of this host: 553")


def test_badmailfrom_badrcptto():
    bmf = "553 5.7.1 sorry, your envelope sender is in my badmailfrom list (#5.7.1)"
    brt = "553 5.7.1 sorry, that address is in my badrcptto list (#5.7.1)"
    with setup(controls={"badmailfrom": "bad@evil.example\n@spam.example", "rcpthosts": "test.example\nblocked.example",
                         "badrcptto": "bob@test.example\n@blocked.example"}) as (s, srv):
        c = hello(srv)
        check_eq(c.cmd("MAIL FROM:<bad@evil.example>"), MAIL_OK, "badmailfrom: MAIL itself is accepted")
        check_eq(c.cmd("RCPT TO:<alice@test.example>"), bmf, "badmailfrom: each RCPT gets 553")
        check_eq(c.cmd("RCPT TO:<postmaster@test.example>"), bmf, "badmailfrom: even to postmaster")
        check_eq(c.cmd("DATA"), "503 5.5.1 RCPT first (#5.5.1)", "badmailfrom: no DATA")
        c.cmd("RSET")
        c.cmd("MAIL FROM:<anyone@spam.example>")
        check_eq(c.cmd("RCPT TO:<alice@test.example>"), bmf, "badmailfrom: an @domain line")
        c.cmd("RSET")
        c.cmd("MAIL FROM:<good@evil.example>")
        check_eq(c.cmd("RCPT TO:<alice@test.example>"), RCPT_OK, "badmailfrom: another sender of that domain is fine")
        check_eq(c.cmd("RCPT TO:<bob@test.example>"), brt, "badrcptto: an exact address")
        check_eq(c.cmd("RCPT TO:<x@blocked.example>"), brt, "badrcptto: an @domain line")
        check_eq(c.cmd("RCPT TO:<postmaster@test.example>"), RCPT_OK, "badrcptto: others are fine")
        c.close()
        srv.idle()
        log = srv.logtext()
        rej = [l for l in log.splitlines() if "reject" in l]
        check(any("code=553" in l and "from=<bad@evil.example>" in l and "to=<alice@test.example>" in l for l in rej),
              "log: a reject line with code=553, from= and to=", log)


# --------------------------------------------------------------------------
# sizes, hops, limits


def test_databytes():
    with setup(controls={"databytes": "1000"}) as (s, srv):
        c = hello(srv, None)
        r = c.cmd("EHLO client.example")
        check("SIZE 1000" in ehlo_keywords(r or ""), "EHLO: SIZE 1000 from control/databytes", r)
        check_eq(c.cmd("MAIL FROM:<a@remote.example> SIZE=1001"), TOO_BIG, "MAIL SIZE=1001 over databytes: 552")
        check_eq(c.cmd("MAIL FROM:<a@remote.example> SIZE=999999999999999999999999"), TOO_BIG,
                 "MAIL with an enormous SIZE: 552")
        check_eq(c.cmd("MAIL FROM:<a@remote.example> SIZE=500"), MAIL_OK, "MAIL SIZE=500: accepted")
        c.cmd("RCPT TO:<alice@test.example>")
        check_eq(c.cmd("DATA"), "354 go ahead", "DATA")
        c.send(b"Subject: big\r\n\r\n" + (b"x" * 70 + b"\r\n") * 40 + b".\r\n")
        check_eq(c.reply(), TOO_BIG, "a 2900-byte message over databytes: 552 after the dot")
        check_eq(c.cmd("NOOP"), OK, "the connection goes on after 552 (the whole message was read)")
        r = transaction(c, body=b"Subject: small\r\n\r\n" + b"y" * 500 + b"\r\n")
        expect(r[-1], OKDATA, "a small message is accepted")
        r = transaction(c, body=b"Subject: b\r\n\r\n" + b"z" * 1000 + b"\r\n")
        check_eq(r[-1], TOO_BIG, "just over: 552")
        c.close()
        srv.idle()
        check_eq(len(srv.recorded()), 1, "only the small message is queued")
    with setup(controls={"databytes": "1000"}, rules='127.0.0.1:allow,DATABYTES="5000"\n') as (s, srv):
        c = hello(srv, None)
        r = c.cmd("EHLO client.example")
        check("SIZE 5000" in ehlo_keywords(r or ""), "DATABYTES=5000 overrides the control file: SIZE 5000", r)
        check_eq(c.cmd("MAIL FROM:<a@remote.example> SIZE=2000"), MAIL_OK, "DATABYTES: SIZE=2000 accepted")
        c.cmd("RCPT TO:<alice@test.example>")
        c.cmd("DATA")
        c.send(b"Subject: mid\r\n\r\n" + (b"m" * 70 + b"\r\n") * 30 + b".\r\n")
        expect(c.reply(), OKDATA, "DATABYTES: a 2000-byte message accepted")
    with setup(controls={"databytes": "0"}) as (s, srv):
        c = hello(srv, None)
        r = c.cmd("EHLO client.example")
        check("SIZE" in ehlo_keywords(r or ""), "databytes 0: SIZE alone", r)


def hop_message(received, delivered=0, body_received=0):
    h = b"".join(b"Received: from hop%d.example by x; 1 Jan 2020 00:00:00 -0000\r\n" % i for i in range(received))
    h += b"".join(b"Delivered-To: d%d@example\r\n" % i for i in range(delivered))
    return h + b"Subject: hops\r\n\r\n" + b"Received: in the body\r\n" * body_received + b"end\r\n"


def test_hops():
    loop = "554 5.4.6 too many hops, this message is looping (#5.4.6)"
    with setup() as (s, srv):
        c = hello(srv)
        check_eq(transaction(c, body=hop_message(100))[-1], loop, "100 Received lines: 554")
        expect(transaction(c, body=hop_message(99))[-1], OKDATA, "99 Received lines: accepted")
        check_eq(transaction(c, body=hop_message(50, 50))[-1], loop, "50 Received + 50 Delivered-To: 554")
        expect(transaction(c, body=hop_message(1, 0, 150))[-1], OKDATA, "Received lines in the body do not count")
        check_eq(c.cmd("NOOP"), OK, "the connection goes on")
        c.close()
        srv.idle()
        check_eq(len(srv.recorded()), 2, "only the two accepted messages are queued")


def test_maxrcpt():
    with setup(controls={"maxrcpt": "3"}) as (s, srv):
        c = hello(srv)
        c.cmd("MAIL FROM:<a@remote.example>")
        r = [c.cmd("RCPT TO:<%s@test.example>" % u) for u in ("alice", "bob", "postmaster", "alice")]
        check_eq(r, [RCPT_OK] * 3 + ["452 4.5.3 too many recipients (#4.5.3)"], "maxrcpt 3: the 4th RCPT gets 452")
        c.cmd("DATA")
        c.send(b"Subject: m\r\n\r\nm\r\n.\r\n")
        expect(c.reply(), OKDATA, "maxrcpt: the message goes to the 3 accepted")
        c.close()
        srv.idle()
        check_eq([len(e) - 1 for m, e in srv.recorded()], [3], "maxrcpt: 3 recipients queued")
    with setup(rules='127.0.0.1:allow,RELAYCLIENT=""\n') as (s, srv):
        c = hello(srv)
        c.send("MAIL FROM:<a@remote.example>\r\n" + "".join("RCPT TO:<r%d@other.example>\r\n" % i for i in range(1001)))
        r = c.replies(1002)
        check_eq(r[0], MAIL_OK, "1000 recipients: MAIL")
        check_eq(r[1:1001], [RCPT_OK] * 1000, "1000 recipients (pipelined) are accepted by default")
        check_eq(r[1001], "452 4.5.3 too many recipients (#4.5.3)", "the 1001st gets 452")
        c.cmd("DATA")
        c.send(b"Subject: many\r\n\r\nmany\r\n.\r\n")
        expect(c.reply(), OKDATA, "the message to 1000 recipients is accepted")
        c.close()
        srv.idle()
        rec = srv.recorded()
        check_eq([len(e) - 1 for m, e in rec], [1000], "1000 recipients queued")


def test_maxbadcommands():
    bad = "421 4.7.0 too many bad commands, closing connection (#4.7.0)"
    with setup(controls={"maxbadcommands": "3"}) as (s, srv):
        c = hello(srv)
        c.send("XYZZY\r\nFOO\r\nBAR\r\nBAZ\r\nNOOP\r\n")
        r = [c.reply() for _ in range(5)]
        check_eq(r[:2], ["502 5.5.1 unimplemented (#5.5.1)"] * 2, "maxbadcommands 3: the first bad commands get 502")
        check(bad in r[2:4], "maxbadcommands 3: then 421", repr(r))
        check(r[r.index(bad) + 1] is None if bad in r else False, "and the connection is closed", repr(r))
    with setup() as (s, srv):
        c = hello(srv)
        c.send("XYZZY\r\n" * 25)
        r = [c.reply() for _ in range(26)]
        check_eq(r[:19], ["502 5.5.1 unimplemented (#5.5.1)"] * 19, "default maxbadcommands: 19 get 502")
        check(bad in r[19:21], "default maxbadcommands 20: 421 after 20", repr(r[17:]))
        check(r[-1] is None, "and closed", repr(r[-3:]))
    with setup() as (s, srv):
        c = hello(srv)
        r = [c.cmd("RCPT TO:<alice@test.example>") for _ in range(25)]
        check(bad in r, "commands out of sequence count as bad commands too", repr(r[-6:]))


def test_pipelined_garbage():
    with setup() as (s, srv):
        c = hello(srv)
        junk = [bytes((i * 37 + j * 11) % 256 for j in range(60)).replace(b"\n", b"x") for i in range(8)]
        c.send(b"\r\n".join(junk) + b"\r\nNOOP\r\n")
        r = c.replies(len(junk) + 1)
        check(all(x is not None and x[:1] == "5" for x in r[:-1]), "pipelined garbage: each line refused with 5xx",
              repr(r))
        check_eq(r[-1], OK, "pipelined garbage: then NOOP is answered")
        check_eq(c.cmd("MAIL FROM:<a@remote.example>"), MAIL_OK, "and the session still works")


def test_long_lines():
    with setup() as (s, srv):
        c = hello(srv)
        check_eq(c.cmd("NOOP " + "x" * 505), OK, "a 512-byte command line (with CRLF) is fine")
        check_eq(c.cmd("NOOP " + "x" * 506), "500 5.5.2 line too long (#5.5.2)", "a 513-byte line: 500")
        check_eq(c.cmd("NOOP"), OK, "the rest of the long line was discarded")
        c.send(b"NOOP " + b"y" * (10 * 1024 * 1024) + b"\r\n")
        check_eq(c.reply(), "500 5.5.2 line too long (#5.5.2)", "a 10 MB line: 500")
        check_eq(c.cmd("NOOP"), OK, "and the session goes on after it")
        r = c.cmd(b"NO\x00OP")
        check(r is not None and r.startswith("500 5.5.2 ") or r is not None and r.startswith("502 "),
              "NUL in a command: 500 (or 502)", repr(r))
        check_eq(c.cmd("NOOP"), OK, "the session goes on after NUL")
        # text lines in DATA: maxlinelength 1000 including CRLF
        expect(transaction(c, body=b"Subject: l\r\n\r\n" + b"a" * 998 + b"\r\n")[-1], OKDATA,
               "a 1000-byte text line is accepted")
        check_eq(transaction(c, body=b"Subject: l\r\n\r\n" + b"a" * 999 + b"\r\n")[-1],
                 "554 5.6.0 sorry, a line of the message is too long (#5.6.0)", "a 1001-byte text line: 554")
        check_eq(c.cmd("NOOP"), OK, "after it the session goes on")
        c.close()
        srv.idle()
        check_eq(len(srv.recorded()), 1, "only the message with short lines is queued")
    with setup(controls={"maxlinelength": "0"}) as (s, srv):
        c = hello(srv)
        expect(transaction(c, body=b"Subject: l\r\n\r\n" + b"a" * 5000 + b"\r\n")[-1], OKDATA,
               "maxlinelength 0: a 5000-byte line is accepted")


def test_timeouts():
    # the cases of each setup wait for the same limit: they wait together,
    # each in its own connection, and are checked in order afterwards
    with setup(controls={"timeoutsmtpd": "2"}) as (s, srv):
        def silent():
            c = hello(srv)
            t0 = time.time()
            r = c.reply()
            return r, time.time() - t0, c.closed()

        def in_data():
            c = hello(srv)
            c.cmd("MAIL FROM:<a@remote.example>")
            c.cmd("RCPT TO:<alice@test.example>")
            c.cmd("DATA")
            c.send(b"Subject: half\r\n\r\nhalf a mess")
            return c.reply(), c.closed()

        (r, el, closed), (r2, closed2) = quail.parallel(silent, in_data)
        check_eq(r, "451 4.4.2 timeout (#4.4.2)", "timeoutsmtpd 2: 451 after a silent client")
        check(el >= 1.5, "timeoutsmtpd 2: not before about 2 seconds", "%.2f s" % el)
        check(closed, "and closed")
        check_eq(r2, "451 4.4.2 timeout (#4.4.2)", "a timeout inside DATA: 451")
        check(closed2, "and closed")
        srv.idle()
        check_eq(srv.recorded(), [], "nothing is queued from a timed-out DATA")
    with setup(controls={"timeoutsession": "3", "timeoutsmtpd": "30"}) as (s, srv):
        def busy():
            c = hello(srv)
            t0 = time.time()
            r = None
            while time.time() - t0 < 90:
                r = c.cmd("NOOP")
                if r != OK:
                    break
                time.sleep(0.3)
            return r, time.time() - t0, c.closed()

        def slow_drip():
            # one byte at a time, never a whole line
            c = hello(srv)
            t0 = time.time()
            c.send("NOOP ")
            while time.time() - t0 < 90 and c.send("x"):
                c.sock.settimeout(0.4)
                if c._fill() or c.eof:
                    break
                c.sock.settimeout(IOTIMEOUT)
            c.sock.settimeout(IOTIMEOUT)
            r = c.reply()
            return r, time.time() - t0

        (r, el, closed), (r2, el2) = quail.parallel(busy, slow_drip)
        check_eq(r, "421 4.4.2 session time limit exceeded, closing connection (#4.4.2)",
                 "timeoutsession 3: a busy client is cut off with 421")
        check(el >= 2.0, "timeoutsession: not before the limit", "%.2f s" % el)
        check(closed, "and closed")
        check_eq(r2, "421 4.4.2 session time limit exceeded, closing connection (#4.4.2)",
                 "a slow-drip client is dropped at the session limit")
        check(el2 >= 2.0, "slow drip: not before the limit", "%.2f s" % el2)


def test_disconnect_in_data():
    with setup(queue="real") as (s, srv):
        c = hello(srv)
        c.cmd("MAIL FROM:<a@remote.example>")
        c.cmd("RCPT TO:<alice@test.example>")
        check_eq(c.cmd("DATA"), "354 go ahead", "DATA")
        c.send(b"Subject: cut\r\n\r\nhalf a message\r\n")
        c.close()
        check(srv.idle(), "qmail-smtpd exits when the client disconnects in DATA")
        check_eq(queued(), [], "nothing is queued from a broken-off DATA")


def queue_programs(srv):
    """Pids of the qmail-queue processes the server's sessions run."""
    out = []
    for pid in srv.children():
        try:
            with open("/proc/%d/comm" % pid) as f:
                if f.read().strip() == "qmail-queue":
                    out.append(pid)
        except OSError:
            continue
    return out


def received_time(message):
    """qmail-queue's Received line's time, in seconds since the epoch."""
    m = re.match(rb"Received: \(qmail \d+ invoked [^)]*\); ([^\n]+)\n", message)
    return email.utils.parsedate_to_datetime(m.group(1).decode()).timestamp() if m else None


def test_queue_started_early():
    """The built-in qmail-queue is started ahead of DATA (after EHLO, and
    at a transaction's first accepted recipient), kept across RSET, used
    by the next message, dated by that message, and queues nothing when
    the session ends without one. A QMAILQUEUE program starts at DATA."""
    with setup(queue="real") as (s, srv):
        c = Client(srv.port)
        check_eq(c.reply(), "220 test.example ESMTP", "greeting")
        check_eq(c.cmd("NOOP"), "250 ok", "NOOP before EHLO")
        check_eq(queue_programs(srv), [], "no qmail-queue before HELO or EHLO")
        check_eq(c.cmd("EHLO client.example")[:3], "250", "EHLO")
        check_eq(c.cmd("NOOP"), OK, "NOOP after it")
        early = queue_programs(srv)
        check_eq(len(early), 1, "qmail-queue runs once the reply to EHLO is out")
        check_eq(c.cmd("RSET"), OK, "RSET")
        check_eq(c.cmd("EHLO client.example")[:3], "250", "a second EHLO")
        check_eq(c.cmd("NOOP"), OK, "NOOP after it")
        check_eq(queue_programs(srv), early, "the same one still waits (RSET and EHLO do not stop it)")
        time.sleep(2.2)
        before = time.time()
        r = transaction(c, rcpts=("alice@test.example", "bob@test.example"))
        check(plain(r[-1]).startswith("250 ok "), "a message is queued", repr(r))
        check_eq(plain(r[-1]).split(" qp ")[-1], str(early[0]) if early else None,
                 "by the qmail-queue started after EHLO (the qp in the reply)")
        q = queued()
        check_eq(len(q), 1, "one message in the queue")
        when = received_time(q[0][0]) if q else None
        check(when is not None and when >= int(before),
              "its Received line is dated when the message came, not when qmail-queue started",
              "%r against %r" % (when, before))
        check_eq(q[0][1][-2:] if q else None, [b"Talice@test.example", b"Tbob@test.example"], "its recipients")
        check_eq(queue_programs(srv), [], "after the message, no qmail-queue runs")

        c.cmd("MAIL FROM:<b@remote.example>")
        check_eq(plain(c.cmd("RCPT TO:<x@elsewhere.example>"))[:3], "553", "a refused recipient")
        check_eq(c.cmd("NOOP"), OK, "NOOP after it")
        check_eq(queue_programs(srv), [], "a refused recipient starts none")
        check_eq(c.cmd("RCPT TO:<alice@test.example>"), "250 2.1.5 ok", "an accepted one")
        check_eq(c.cmd("NOOP"), OK, "NOOP after it")
        check_eq(len(queue_programs(srv)), 1, "the first accepted recipient starts one")
        check_eq(plain(c.cmd("QUIT"))[:3], "221", "QUIT with it unused")
        check(srv.idle(), "qmail-smtpd and its unused qmail-queue are gone after QUIT")
        check_eq(len(queued()), 1, "and it queued nothing")

    with setup() as (s, srv):
        c = hello(srv)
        c.cmd("MAIL FROM:<a@remote.example>")
        check_eq(c.cmd("RCPT TO:<alice@test.example>"), "250 2.1.5 ok", "QMAILQUEUE: a recipient")
        check_eq(c.cmd("NOOP"), OK, "NOOP after it")
        check_eq(len(srv.children()), 1, "QMAILQUEUE: before DATA, only qmail-smtpd runs")
        check_eq(c.cmd("RSET"), OK, "QMAILQUEUE: RSET")
        r = transaction(c)
        check(plain(r[-1]).startswith("250 ok "), "QMAILQUEUE: the message is queued", repr(r))
        check_eq(len(srv.recorded()), 1, "QMAILQUEUE: by the queue program")


def test_concurrent_sessions():
    with setup(concurrency=250) as (s, srv):
        clients = []
        for i in range(200):
            clients.append(Client(srv.port, timeout=120))
        greeted = sum(1 for c in clients if c.reply() == "220 test.example ESMTP")
        check_eq(greeted, 200, "200 simultaneous sessions are all greeted")
        for c in clients:
            c.send("NOOP\r\nQUIT\r\n")
        served = sum(1 for c in clients if [plain(r) for r in c.replies(2)] == ["250 ok", "221 test.example"])
        check_eq(served, 200, "200 simultaneous sessions are all served")
        for c in clients:
            c.close()


# --------------------------------------------------------------------------
# recipient validation


def rcpt_table(srv, table, prefix):
    c = hello(srv)
    c.cmd("MAIL FROM:<a@remote.example>")
    for rcpt, want in table:
        check_eq(c.cmd("RCPT TO:<%s>" % rcpt), want, "%s: %s" % (prefix, rcpt))
    c.close()


def test_rcptcheck():
    controls = {"rcpthosts": "test.example\nlocalhost\nvirt.example\nvirt2.example\nremote.example",
                "virtualdomains": "virt.example:alice\nvirt2.example:bob"}
    with setup(controls=controls, users=("alice", "bob", "postmaster", "carol")) as (s, srv):
        alias = s.homes["alias"]
        s.dotqmail("alice", "ext", "./Maildir/\n")
        s.dotqmail("bob", "list-default", "./Maildir/\n")
        try:
            with open(os.path.join(alias, ".qmail-fred"), "w") as f:
                f.write("&alice@test.example\n")
            rcpt_table(srv, [
                ("nosuch@test.example", NO_MAILBOX),
                ("alice@test.example", RCPT_OK),
                ("ALICE@test.example", RCPT_OK),
                ("alice@localhost", RCPT_OK),
                ("alice-ext@test.example", RCPT_OK),
                ("alice-other@test.example", NO_MAILBOX),
                ("bob-list-x@test.example", RCPT_OK),
                ("bob-list@test.example", NO_MAILBOX),
                ("bob-other@test.example", NO_MAILBOX),
                ("fred@test.example", RCPT_OK),
                ("postmaster@test.example", RCPT_OK),
                ("anyone@virt.example", NO_MAILBOX),
                ("x@remote.example", RCPT_OK),
            ], "rcptcheck")
            s.dotqmail("alice", "default", "./Maildir/\n")
            s.dotqmail("bob", "default", "./Maildir/\n")
            rcpt_table(srv, [
                ("alice-other@test.example", RCPT_OK),
                ("anyone@virt.example", RCPT_OK),
                ("any-thing@virt2.example", RCPT_OK),
                ("nosuch@test.example", NO_MAILBOX),
            ], "rcptcheck with .qmail-default")
            with open(os.path.join(alias, ".qmail-default"), "w") as f:
                f.write("&alice@test.example\n")
            rcpt_table(srv, [("nosuch@test.example", RCPT_OK), ("what.ever@test.example", RCPT_OK)],
                       "rcptcheck with ~alias/.qmail-default")
        finally:
            for f in (".qmail-fred", ".qmail-default"):
                if os.path.exists(os.path.join(alias, f)):
                    os.unlink(os.path.join(alias, f))
        set_control("rcptcheck", "0")
        rcpt_table(srv, [("nosuch@test.example", RCPT_OK)], "control/rcptcheck 0")
        set_control("rcptcheck", None)
        rcpt_table(srv, [("nosuch@test.example", NO_MAILBOX)], "control/rcptcheck removed")
        # a home qmail-smtpd cannot read: it cannot know, so it accepts
        rcpt_table(srv, [("carol-zzz@test.example", NO_MAILBOX)], "a readable home without .qmail-zzz")
        home = s.homes["carol"]
        os.chmod(home, 0)
        try:
            if quail.is_root() and not unpriv():
                quail.skip("unreadable home", "qmail-smtpd would run as root")
            else:
                rcpt_table(srv, [("carol-zzz@test.example", RCPT_OK)], "a home qmail-smtpd cannot read: accepted")
        finally:
            os.chmod(home, 0o755)
    with setup(users=("alice", "bob")) as (s, srv):
        rcpt_table(srv, [("postmaster@test.example", RCPT_OK), ("PostMaster@localhost", RCPT_OK),
                         ("postmaster", RCPT_OK), ("nosuch@test.example", NO_MAILBOX)],
                   "no postmaster user: postmaster is still accepted")
    with setup(rules='127.0.0.1:allow,RCPTCHECK="0"\n') as (s, srv):
        rcpt_table(srv, [("nosuch@test.example", RCPT_OK)], "RCPTCHECK=0 for this client")
    with setup(queue="real", send=True) as (s, srv):
        c = hello(srv)
        r = transaction(c, rcpts=("nosuch@test.example", "alice@test.example"))
        check_eq(r[1:3], [NO_MAILBOX, RCPT_OK], "a message to a known and an unknown user")
        expect(r[-1], OKDATA, "goes to the known one")
        check(s.wait_messages("alice", 1), "and is delivered")
        time.sleep(0.5)
        check(not any("nosuch" in l for l in s.logtext().splitlines() if "delivery" in l),
              "no delivery (and so no bounce) for the unknown user", s.logtext())


# --------------------------------------------------------------------------
# SMTPUTF8 and 8BITMIME


def test_smtputf8():
    with setup(send=True, queue="real") as (s, srv):
        s.dotqmail("alice", "default", "./Maildir/\n")
        c = hello(srv)
        need = "553 5.6.7 SMTPUTF8 required for this address (#5.6.7)"
        check_eq(c.cmd("MAIL FROM:<jörg@remote.example>"), need, "a UTF-8 sender without SMTPUTF8: 553 5.6.7")
        check_eq(c.cmd("MAIL FROM:<a@remote.example>"), MAIL_OK, "MAIL")
        check_eq(c.cmd("RCPT TO:<alice-jörg@test.example>"), need, "a UTF-8 recipient without SMTPUTF8: 553 5.6.7")
        c.cmd("RSET")
        check_eq(c.cmd(b"MAIL FROM:<j\xff@remote.example> SMTPUTF8"),
                 "553 5.1.7 bad sender address syntax (#5.1.7)", "invalid UTF-8 in the sender: 553 5.1.7")
        check_eq(c.cmd(b"MAIL FROM:<j\x01x@remote.example>"), "553 5.1.7 bad sender address syntax (#5.1.7)",
                 "a control byte in the sender: 553 5.1.7")
        check_eq(c.cmd("MAIL FROM:<jörg@rémote.example> SMTPUTF8"), MAIL_OK, "SMTPUTF8: the UTF-8 sender accepted")
        check_eq(c.cmd(b"RCPT TO:<alice-\xc3@test.example>"), "553 5.1.3 bad recipient address syntax (#5.1.3)",
                 "invalid UTF-8 in a recipient: 553 5.1.3")
        check_eq(c.cmd("RCPT TO:<alice-jörg@test.example>"), RCPT_OK, "SMTPUTF8: the UTF-8 recipient accepted")
        check_eq(c.cmd("DATA"), "354 go ahead", "DATA")
        body = "Subject: Grüße\r\nFrom: jörg@rémote.example\r\n\r\nGrüße, 日本語\r\n".encode()
        c.send(body + b".\r\n")
        expect(c.reply(), OKDATA, "SMTPUTF8: accepted")
        check(s.wait_messages("alice", 1), "SMTPUTF8: delivered")
        m = s.messages("alice")[0] if s.maildir("alice") else b""
        # qmail-local quotes a local part with 8-bit bytes in Return-Path
        check(re.match('Return-Path: <("jörg"|jörg)@rémote.example>\nDelivered-To: alice-jörg@test.example\n'.encode(),
                       m), "SMTPUTF8: the UTF-8 envelope reaches delivery", repr(m[:200]))
        check(re.search(RECEIVED_RE % ("client\\.example", "127\\.0\\.0\\.1", "UTF8SMTP"), m.decode("utf-8", "replace")),
              "SMTPUTF8: Received says with UTF8SMTP", repr(m[:400]))
        check(m.endswith(body.replace(b"\r\n", b"\n")), "SMTPUTF8: the body unchanged")
        # 8BITMIME: every byte value but CR, LF and NUL
        raw = bytes(b for b in range(1, 256) if b not in (10, 13))
        body = b"Subject: 8bit\r\n\r\n" + raw + b"\r\n" + b"\xe4\xf6\xfc latin-1\r\n"
        c.cmd("MAIL FROM:<b@remote.example> BODY=8BITMIME")
        c.cmd("RCPT TO:<bob@test.example>")
        c.cmd("DATA")
        c.send(body + b".\r\n")
        expect(c.reply(), OKDATA, "8BITMIME: accepted")
        check(s.wait_messages("bob", 1), "8BITMIME: delivered")
        m = s.messages("bob")[0] if s.maildir("bob") else b""
        check(m.endswith(body.replace(b"\r\n", b"\n")), "8BITMIME: all 8-bit bytes arrive unchanged", repr(m[-300:]))
        check(re.search(RECEIVED_RE % ("client\\.example", "127\\.0\\.0\\.1", "ESMTP"), m.decode("latin-1")),
              "8BITMIME without SMTPUTF8: Received says ESMTP", repr(m[:400]))
        check_eq(c.cmd("MAIL FROM:<b@remote.example> BODY=BINARYMIME"), "555 5.5.4 unsupported parameter (#5.5.4)",
                 "BODY=BINARYMIME (not advertised): 555")


# --------------------------------------------------------------------------
# DATA framing: SMTP smuggling, dot-unstuffing, buffer boundaries


SMUGGLE_CASES = [b"\n.\n", b"\n.\r\n", b"\r\n.\n", b"\r.\r\n", b"\r\n.\r", b"\r\n.\rX\r\n", b"\n..\n"]


def test_smuggling():
    with setup(queue="real") as (s, srv):
        for case in SMUGGLE_CASES:
            quail.clear_queue()
            c = hello(srv)
            c.send("MAIL FROM:<a@remote.example>\r\nRCPT TO:<alice@test.example>\r\nDATA\r\n")
            r = c.replies(3)
            body = (b"Subject: first\r\n\r\nfirst part" + case +
                    b"MAIL FROM:<smuggler@remote.example>\r\nRCPT TO:<bob@test.example>\r\nDATA\r\n"
                    b"Subject: smuggled\r\n\r\nevil\r\n.\r\nQUIT\r\n")
            c.send(body)
            replies = []
            while True:
                x = c.reply()
                if x is None:
                    break
                replies.append(x)
            check_eq(r[2], "354 go ahead", "smuggling %r: DATA" % case)
            check_eq(replies, [SMUGGLE_451], "smuggling %r: one 451 4.5.2, then the connection is closed" % case)
            srv.idle()
            check_eq(queued(), [], "smuggling %r: nothing queued (neither message)" % case)
            c.close()
        # the control: the same bytes with a real end of data give two messages
        quail.clear_queue()
        c = hello(srv)
        c.send("MAIL FROM:<a@remote.example>\r\nRCPT TO:<alice@test.example>\r\nDATA\r\n")
        c.replies(3)
        c.send(b"Subject: first\r\n\r\nfirst part\r\n.\r\nMAIL FROM:<b@remote.example>\r\nRCPT TO:<bob@test.example>\r\n"
               b"DATA\r\nSubject: second\r\n\r\nsecond\r\n.\r\nQUIT\r\n")
        r = [c.reply() for _ in range(5)]
        check(OKDATA.match(r[0] or "") and OKDATA.match(r[4] or ""), "a real CRLF.CRLF then a pipelined second: both ok",
              repr(r))
        srv.idle()
        check_eq(len(queued()), 2, "and both are queued (so the smuggling test can see a second message)")


def test_bare_lf_in_headers():
    with setup(queue="real") as (s, srv):
        c = hello(srv)
        c.cmd("MAIL FROM:<a@remote.example>")
        c.cmd("RCPT TO:<alice@test.example>")
        c.cmd("DATA")
        c.send(b"Subject: lf\nX: y\r\n\r\nbody\r\n.\r\n")
        check_eq(c.reply(), SMUGGLE_451, "a bare LF in the header: 451")
        check(c.closed(), "and closed at once")
        srv.idle()
        check_eq(queued(), [], "nothing queued")


def test_dot_unstuffing():
    with setup(queue="real") as (s, srv):
        c = hello(srv)
        body = b"Subject: dots\r\n\r\n..\r\n..x\r\n...\r\n.x\r\nx.\r\n. \r\n\r\n..\r\n"
        r = transaction(c, body=body)
        expect(r[-1], OKDATA, "dots: accepted")
        r = transaction(c, body=b"")
        expect(r[-1], OKDATA, "an empty message (DATA then the dot) is accepted")
        # byte by byte: CRLF.CRLF split over every read boundary
        c.cmd("MAIL FROM:<a@remote.example>")
        c.cmd("RCPT TO:<alice@test.example>")
        c.cmd("DATA")
        for b in b"Subject: drip\r\n\r\nA\r\n..\r\nB\r\n.\r\n":
            c.send(bytes([b]))
            time.sleep(0.005)
        expect(c.reply(), OKDATA, "byte by byte: accepted at the final dot")
        check_eq(c.cmd("NOOP"), OK, "byte by byte: the session goes on")
        c.close()
        srv.idle()
        q = queued()
        check_eq(len(q), 3, "three messages queued")
        bodies = sorted(m for m, e in q)
        want = [b"Subject: dots\n\n.\n.x\n..\nx\nx.\n \n\n.\n", b"Subject: drip\n\nA\n.\nB\n"]
        for w in want:
            check(any(m.endswith(b"\n" + w) for m in bodies),
                  "dot-unstuffing exact: %r" % w, repr(bodies))
        empty = [m for m in bodies if re.fullmatch(rb"(Received: [^\n]*\n(  [^\n]*\n)*)+", m)]
        check_eq(len(empty), 1, "the empty message is only the Received lines", repr(bodies))


# --------------------------------------------------------------------------
# CHUNKING


def test_bdat():
    with setup(queue="real") as (s, srv):
        c = hello(srv)
        c.cmd("MAIL FROM:<a@remote.example>")
        c.cmd("RCPT TO:<alice@test.example>")
        part1 = b"Subject: bdat\r\n\r\nline\r\n.\r\n..x\r"
        part2 = b"\nend\r\n"
        c.send(b"BDAT %d\r\n" % len(part1) + part1)
        check_eq(c.reply(), "250 2.0.0 %d octets received" % len(part1), "BDAT: a chunk")
        c.send(b"BDAT %d\r\n" % len(part2) + part2)
        check_eq(c.reply(), "250 2.0.0 %d octets received" % len(part2), "BDAT: a second chunk")
        expect(c.cmd("BDAT 0 LAST"), OKDATA, "BDAT 0 LAST ends the message")
        # pipelined: everything in one write
        c.send(b"MAIL FROM:<b@remote.example>\r\nRCPT TO:<bob@test.example>\r\nBDAT 6\r\nSubjecBDAT 14 LAST\r\n"
               b"t: p\r\n\r\npipe\r\n")
        r = c.replies(4)
        check_eq(r[:3], [MAIL_OK, RCPT_OK, "250 2.0.0 6 octets received"], "pipelined BDAT: replies in order")
        expect(r[3], OKDATA, "pipelined BDAT LAST: accepted")
        # DATA cannot follow BDAT
        c.cmd("MAIL FROM:<c@remote.example>")
        c.cmd("RCPT TO:<alice@test.example>")
        c.send(b"BDAT 4\r\nabcd")
        c.reply()
        r = c.cmd("DATA")
        check(r is not None and r.startswith("503 5.5.1 "), "DATA after BDAT: 503 5.5.1", repr(r))
        c.cmd("RSET")
        # BDAT before RCPT: refused, and its chunk is still read (not taken as commands)
        c.cmd("MAIL FROM:<c@remote.example>")
        c.send(b"BDAT 8\r\nVRFY x\r\n")
        check_eq(c.reply(), "503 5.5.1 RCPT first (#5.5.1)", "BDAT before RCPT: 503")
        check_eq(c.cmd("NOOP"), OK, "the refused chunk was read and dropped, not run as a command")
        c.cmd("RSET")
        # a bare LF in a chunk: 451 at LAST, the connection kept
        c.cmd("MAIL FROM:<c@remote.example>")
        c.cmd("RCPT TO:<alice@test.example>")
        chunk = b"Subject: bad\r\n\r\nbare\nlf\r\n"
        c.send(b"BDAT %d LAST\r\n" % len(chunk) + chunk)
        check_eq(c.reply(), SMUGGLE_451, "BDAT: a bare LF gives 451 4.5.2")
        check_eq(c.cmd("NOOP"), OK, "BDAT: the connection is kept (framing by count)")
        c.cmd("QUIT")
        c.close()
        srv.idle()
        q = sorted(m for m, e in queued())
        check_eq(len(q), 2, "BDAT: two messages queued")
        check(any(m.endswith(b"\nSubject: bdat\n\nline\n.\n..x\nend\n") for m in q),
              "BDAT: no dot-unstuffing, CR LF across chunks is a CRLF", repr(q))
        check(any(m.endswith(b"\nSubject: p\n\npipe\n") for m in q), "pipelined BDAT: the message", repr(q))
    with setup(controls={"databytes": "100"}) as (s, srv):
        c = hello(srv)
        c.cmd("MAIL FROM:<a@remote.example>")
        c.cmd("RCPT TO:<alice@test.example>")
        chunk = b"Subject: big\r\n\r\n" + b"x" * 300 + b"\r\n"
        c.send(b"BDAT %d LAST\r\n" % len(chunk) + chunk)
        check_eq(c.reply(), TOO_BIG, "BDAT over databytes: 552")
        check_eq(c.cmd("NOOP"), OK, "and the session goes on")


# --------------------------------------------------------------------------
# AUTH


def auth_server(s, value="", args=True, **kw):
    rules = "127.0.0.1:allow,SMTPAUTH=\"%s\"\n" % value if value is not None else None
    srv = Server(s, rules=rules, **kw)
    if args:
        srv.args = [ME, srv.checkpassword, "/bin/true"]
    return srv.start()


AUTH_OK = "235 2.7.0 ok, go ahead (#2.0.0)"
AUTH_FAIL = "535 5.7.8 authentication failed (#5.7.8)"
AUTH_TEMP = "454 4.7.0 temporary authentication failure (#4.7.0)"


def test_auth_offered():
    s = quail.System(controls=mkcontrols())
    try:
        for value, args, offered, name in ((None, True, False, "SMTPAUTH unset"),
                                           ("", True, True, "SMTPAUTH empty"),
                                           ("!", True, True, "SMTPAUTH=!"),
                                           ("-", True, False, "SMTPAUTH=-"),
                                           ("", False, False, "SMTPAUTH without the checkpassword arguments")):
            srv = auth_server(s, value, args)
            c = hello(srv, None)
            kw = ehlo_keywords(c.cmd("EHLO client.example") or "")
            check_eq("AUTH PLAIN LOGIN" in kw, offered, "%s: AUTH %s" % (name, "offered" if offered else "not offered"))
            if not offered:
                r = c.cmd("AUTH PLAIN " + b64("\0alice\0secret"))
                check(r is not None and r.startswith("5"), "%s: AUTH refused" % name, repr(r))
                c.cmd("MAIL FROM:<a@remote.example>")
                check_eq(c.cmd("RCPT TO:<x@other.example>"), NOT_RCPTHOSTS, "%s: no relaying" % name)
            srv.stop()
    finally:
        s.cleanup()


def test_auth():
    s = quail.System(controls=mkcontrols())
    try:
        srv = auth_server(s, "")
        c = hello(srv)
        check_eq(c.cmd("AUTH CRAM-MD5"), "504 5.5.4 unrecognized authentication type (#5.5.4)", "AUTH unknown mechanism")
        check_eq(c.cmd("AUTH PLAIN !!!notbase64"), "501 5.5.2 malformed auth input (#5.5.2)", "AUTH bad base64: 501")
        check_eq(c.cmd("AUTH PLAIN"), "334 ", "AUTH PLAIN without initial response: 334")
        check_eq(c.cmd("*"), "501 5.0.0 auth exchange cancelled (#5.0.0)", "* cancels")
        check_eq(c.cmd("AUTH LOGIN"), "334 VXNlcm5hbWU6", "AUTH LOGIN: Username:")
        check_eq(c.cmd("*"), "501 5.0.0 auth exchange cancelled (#5.0.0)", "* cancels LOGIN")
        c.cmd("MAIL FROM:<a@remote.example>")
        check_eq(c.cmd("RCPT TO:<x@other.example>"), NOT_RCPTHOSTS, "before AUTH: no relaying")
        check_eq(c.cmd("AUTH PLAIN " + b64("\0alice\0secret")), "503 5.5.1 no auth during mail transaction (#5.5.1)",
                 "AUTH during a transaction: 503")
        c.cmd("RSET")
        check_eq(c.cmd("AUTH PLAIN " + b64("\0alice\0secret")), AUTH_OK, "AUTH PLAIN with initial response: 235")
        check_eq(c.cmd("AUTH PLAIN " + b64("\0alice\0secret")), "503 5.5.1 you're already authenticated (#5.5.1)",
                 "AUTH twice: 503")
        calls = srv.cp_calls()
        check_eq(len(calls), 1, "checkpassword ran once")
        if calls:
            fd3, argv = calls[0].split(b"\n", 1)
            check(re.fullmatch(rb"alice\0secret\0<\d+\.\d+@test\.example>\0", fd3),
                  "checkpassword got user\\0password\\0<pid.time@me>\\0 on fd 3", repr(fd3))
            check_eq(argv.split(b"\0")[1:], [b"/bin/true"], "checkpassword is run with the subprogram")
        r = transaction(c, rcpts=("x@other.example",))
        check_eq(r[1], RCPT_OK, "authenticated: relaying allowed")
        expect(r[-1], OKDATA, "authenticated: the message is accepted")
        c.close()
        srv.idle()
        rec = srv.recorded()
        check_eq([e for m, e in rec], [[b"Fsender@remote.example", b"Tx@other.example"]], "AUTH: the envelope")
        if rec:
            check(re.match(RECEIVED_RE % ("client\\.example", "alice@127\\.0\\.0\\.1", "ESMTPA"),
                           rec[0][0].decode("latin-1")),
                  "AUTH: Received says (alice@127.0.0.1) and with ESMTPA", repr(rec[0][0][:300]))
        tx = [l for l in srv.logtext().splitlines() if " tx " in l]
        check(any("auth=alice" in l for l in tx), "AUTH: the log's tx line has auth=alice", srv.logtext())

        c = hello(srv)
        check_eq(c.cmd("AUTH PLAIN"), "334 ", "AUTH PLAIN: 334")
        check_eq(c.cmd(b64("\0alice\0secret")), AUTH_OK, "AUTH PLAIN after the 334 continuation: 235")
        c.close()
        c = hello(srv)
        check_eq(c.cmd("AUTH PLAIN " + b64("alice\0alice\0secret")), AUTH_OK, "AUTH PLAIN with authzid = the user")
        c.close()
        c = hello(srv)
        check_eq(c.cmd("AUTH LOGIN"), "334 VXNlcm5hbWU6", "AUTH LOGIN: Username:")
        check_eq(c.cmd(b64("alice")), "334 UGFzc3dvcmQ6", "AUTH LOGIN: Password:")
        check_eq(c.cmd(b64("secret")), AUTH_OK, "AUTH LOGIN: 235")
        c.close()
        c = hello(srv)
        check_eq(c.cmd("AUTH LOGIN " + b64("alice")), "334 UGFzc3dvcmQ6", "AUTH LOGIN with initial response: Password:")
        check_eq(c.cmd(b64("secret")), AUTH_OK, "AUTH LOGIN with initial response: 235")
        c.close()
        # the refusals: each waits a second before its reply, each in a
        # connection of its own, so they wait together
        refusals = (("AUTH PLAIN " + b64("bob\0alice\0secret"), AUTH_FAIL,
                     "AUTH PLAIN acting for another identity: 535"),
                    ("AUTH PLAIN " + b64("\0alice\0wrong"), AUTH_FAIL, "wrong password: 535"),
                    ("AUTH PLAIN " + b64("\0temp\0x"), AUTH_TEMP, "checkpassword exit 111: 454"),
                    ("AUTH PLAIN " + b64("\0crash\0x"), AUTH_TEMP, "checkpassword killed: 454"),
                    ("AUTH PLAIN " + b64("\0misuse\0x"), AUTH_FAIL, "checkpassword exit 2: 535"))

        def refused(command):
            c = hello(srv)
            r = c.cmd(command)
            c.close()
            return r

        def long_lines():
            c = hello(srv)
            r = (c.cmd("AUTH PLAIN " + "A" * 20000),
                 c.cmd("AUTH PLAIN " + b64(b"a" * 200 + b"\0" + b"a" * 200 + b"\0" + b"s" * 100)))
            c.close()
            return r

        got = quail.parallel(*[(lambda cmd=cmd: refused(cmd)) for cmd, _, _ in refusals], long_lines)
        for r, (_, want, name) in zip(got, refusals):
            check_eq(r, want, name)
        check_eq(got[-1][0], "500 5.5.2 line too long (#5.5.2)", "an AUTH line over 12288 bytes: 500")
        check_eq(got[-1][1], AUTH_FAIL, "an AUTH line over 512 bytes (under 12288) is read: 535")
        # smtplib
        m = smtplib.SMTP("127.0.0.1", srv.port, local_hostname="client.example", timeout=IOTIMEOUT)
        try:
            m.login("alice", "secret")
            ok = True
        except smtplib.SMTPException as e:
            ok = repr(e)
        check_eq(ok, True, "smtplib login() works")
        refused = m.sendmail("alice@test.example", ["far@other.example"], b"Subject: smtplib auth\r\n\r\nx\r\n")
        check_eq(refused, {}, "smtplib: relaying after login()")
        m.quit()
        m = smtplib.SMTP("127.0.0.1", srv.port, local_hostname="client.example", timeout=IOTIMEOUT)
        m.ehlo()
        m.user, m.password = "alice", "secret"
        code, _ = m.auth("LOGIN", m.auth_login, initial_response_ok=False)
        check_eq(code, 235, "smtplib auth LOGIN works")
        m.quit()
        # swaks, as people test a submission server
        for mech in ("PLAIN", "LOGIN"):
            p = subprocess.run([SWAKS, "--server", "127.0.0.1:%d" % srv.port, "--from", "alice@test.example",
                                "--to", "far-%s@other.example" % mech.lower(), "--ehlo", "swaks.example",
                                "--auth", mech, "--auth-user", "alice", "--auth-password", "secret",
                                "--timeout", "60"], capture_output=True, timeout=120)
            check_eq(p.returncode, 0, "swaks --auth %s: relayed" % mech, p.stdout.decode(errors="replace")[-1500:])
        p = subprocess.run([SWAKS, "--server", "127.0.0.1:%d" % srv.port, "--from", "alice@test.example",
                            "--to", "far@other.example", "--auth", "PLAIN", "--auth-user", "alice",
                            "--auth-password", "nope", "--timeout", "60"], capture_output=True, timeout=120)
        check(p.returncode != 0 and b"535 5.7.8" in p.stdout, "swaks with a wrong password: 535",
              p.stdout.decode(errors="replace")[-1500:])
        # authenticated and SMTPUTF8: UTF8SMTPA
        c = hello(srv)
        c.cmd("AUTH PLAIN " + b64("\0alice\0secret"))
        c.cmd("MAIL FROM:<jörg@test.example> SMTPUTF8")
        c.cmd("RCPT TO:<fär@other.example>")
        c.cmd("DATA")
        c.send(b"Subject: utf8 auth\r\n\r\nx\r\n.\r\n")
        expect(c.reply(), OKDATA, "authenticated SMTPUTF8 message accepted")
        c.close()
        srv.idle()
        rec = [m for m, e in srv.recorded() if "Tfär@other.example".encode() in e]
        check(rec and re.match(RECEIVED_RE % ("client\\.example", "alice@127\\.0\\.0\\.1", "UTF8SMTPA"),
                               rec[0].decode("latin-1")),
              "authenticated SMTPUTF8: Received says with UTF8SMTPA", repr(rec[:1]))
        srv.stop()
        srv = auth_server(s, "!")
        c = hello(srv)
        check_eq(c.cmd("MAIL FROM:<a@remote.example>"), "530 5.7.0 authentication required (#5.7.0)",
                 "SMTPAUTH=!: MAIL before AUTH: 530")
        check_eq(c.cmd("AUTH PLAIN " + b64("\0alice\0secret")), AUTH_OK, "SMTPAUTH=!: AUTH")
        check_eq(c.cmd("MAIL FROM:<a@remote.example>"), MAIL_OK, "SMTPAUTH=!: MAIL after AUTH")
        srv.stop()
    finally:
        s.cleanup()


def test_auth_failures():
    """Five failed AUTHs in one connection: 1+2+4+8 s of delays, then 421.
    It runs beside the other tests (quail.Background): after the greeting
    it only talks to its own server."""
    s = quail.System(controls=mkcontrols())
    srv = auth_server(s, "")
    c = hello(srv)
    yield
    replies, times = [], []
    t0 = time.time()
    for i in range(7):
        t = time.time()
        r = c.cmd("AUTH PLAIN " + b64("\0alice\0wrong%d" % i))
        times.append(time.time() - t)
        replies.append(r)
        if r is None or r.startswith("421"):
            break
    total = time.time() - t0
    too_many = "421 4.7.0 too many authentication failures (#4.7.0)"
    check_eq(replies[:4], [AUTH_FAIL] * 4, "AUTH failures: 535 each", repr(replies))
    check(too_many in replies[4:6], "after 5 failures: 421", repr(replies))
    check(c.closed(), "and the connection is closed")
    check(len(times) > 2 and times[1] >= 0.9, "the AUTH after the 1st failure waits about 1 s", repr(times))
    check(len(times) > 3 and times[2] >= 1.9, "the AUTH after the 2nd failure waits about 2 s", repr(times))
    check(total >= 1 + 2 + 4 - 0.5, "the delays grow (1+2+4 s at least)", "%.2f s" % total)
    srv.stop()
    yield
    s.cleanup()


# --------------------------------------------------------------------------
# logging


def test_log_sanitized():
    with setup() as (s, srv):
        c = hello(srv, None)
        c.cmd(b"HELO evil\xff\xfe\rqmail-smtpd: pid 1 from 6.6.6.6: tx forged")
        c.cmd(b"EHLO odd\xc3\xa9name to=<forged@x> result=250")
        c.cmd(b"MAIL FROM:<x\xc3\xa9@remote.example> SMTPUTF8")
        c.cmd("RCPT TO:<nosuch@test.example>")
        c.cmd("RCPT TO:<x@other.example>")
        c.cmd("QUIT")
        c.close()
        srv.idle()
        log = srv.logbytes()
        check(log and all(b == 10 or 32 <= b < 127 for b in log), "log: only printable ASCII and newlines",
              repr(log[:2000]))
        lines = log.decode("latin-1").splitlines()
        check(lines and all(re.match(r"qmail-smtpd: pid \d+ (tx|reject|auth|fatal) ", l) for l in lines),
              "log: every line is 'qmail-smtpd: pid P tx|reject|auth|fatal ...' (none forged from the HELO)",
              repr(lines))
        check(b" to=<forged@x>" not in log and b"6.6.6.6: tx" not in log,
              "log: client text cannot add fields or lines", repr(lines))
        check(any("helo=odd" in l and "\\x" in l for l in lines), "log: the odd HELO is logged escaped", repr(lines))
        rej = [l for l in lines if "reject" in l]
        check(any("code=550" in l and "nosuch@test.example" in l for l in rej), "log: a reject line for the 550",
              repr(lines))
        check(any("code=553" in l and "x@other.example" in l for l in rej), "log: a reject line for the 553",
              repr(lines))


# --------------------------------------------------------------------------
# the queue program's failures


def test_queue_failures():
    s = quail.System(controls=mkcontrols())
    try:
        for env, want, name in (({"QQEXIT": "71"}, re.compile(r"^451 4\.3\.0 mail server temporarily rejected message"),
                                 "exit 71: 451 4.3.0"),
                                ({"QQEXIT": "31"}, re.compile(r"^554 5\.\d\.\d+ mail server permanently rejected"),
                                 "exit 31: 554"),
                                ({"QQEXIT": "82", "QQTEXT": "Dno spam here (#5.7.1)"},
                                 re.compile(r"^554 5\.\d\.\d+ no spam here"), "exit 82 with D text: 554 and the text"),
                                ({"QQEXIT": "82", "QQTEXT": "Zcome back later (#4.3.0)"},
                                 re.compile(r"^451 4\.3\.0 come back later"), "exit 82 with Z text: 451 and the text"),
                                ({"QQEXIT": "53"}, re.compile(r"^451 4\.3\.0 qq write error or disk full"),
                                 "exit 53: 451")):
            srv = Server(s, env=env).start()
            c = hello(srv)
            r = transaction(c)
            expect(r[-1], want, "queue program " + name)
            check_eq(c.cmd("NOOP"), OK, "queue program %s: the session goes on" % name)
            c.close()
            srv.idle()
            check_eq(srv.recorded(), [], "queue program %s: nothing recorded" % name)
            srv.stop()
    finally:
        s.cleanup()


TESTS = [
    test_commands, test_flow_smtplib, test_flow_swaks, test_flow_helo_and_pipelining, test_controls_unreadable,
    test_requirehelo, test_replies_after_helo, test_badhelo, test_rcpthosts, test_relayclient, test_localiphost, test_badmailfrom_badrcptto,
    test_databytes, test_hops, test_maxrcpt, test_maxbadcommands, test_pipelined_garbage, test_long_lines, test_timeouts,
    test_disconnect_in_data, test_queue_started_early, test_concurrent_sessions, test_rcptcheck, test_smtputf8, test_smuggling,
    test_bare_lf_in_headers, test_dot_unstuffing, test_bdat, test_auth_offered, test_auth,
    test_log_sanitized, test_queue_failures,
]
# Tests that mostly wait on their own server: started first, they run
# beside the others (quail.Background).
BACKGROUND = [test_auth_failures]


def main():
    if not check(os.access(SMTPD, os.X_OK), "qmail-smtpd is installed in the instance", SMTPD):
        quail.done()
    if not check(os.access(TCPSERVER, os.X_OK) and os.access(TCPRULES, os.X_OK), "tcpserver and tcprules exist"):
        quail.done()
    only = sys.argv[1:]
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
            quail.stop_tcpservers(keep=keep)
            print("# %s: %.1f s" % (t.__name__, time.time() - started))
    for b in background:
        b.finish()
    quail.done()


main()
