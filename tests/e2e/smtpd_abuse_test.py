"""qmail-smtpd against hostile and careless clients (issue 4, "Bad input"),
under the real tcpserver (ucspi-tcp) on 127.0.0.1 with a tcprules cdb, as
an unprivileged user when the tests run as root (tcpserver -u, as qmaild).

Covered: the SMTP dialogues of ../shared/seeds/EXAMPLES.md that concern
qmail-smtpd (E01-E07, E09, E19/E35/E37, E55, E97); NUL bytes in commands;
a 10 MB line (memory stays bounded: the process's RSS is read from /proc);
pipelined garbage up to control/maxbadcommands; commands out of order;
1,000 recipients and the 1,001st; a client that disconnects in DATA; a
slow-drip client dropped at control/timeoutsession; 200 simultaneous
sessions; the open-relay tricks (each accepted address is followed through
the real qmail-send, with qmail-remote replaced by a sink that must stay
empty); SMTP smuggling with a complete second transaction hidden in DATA.

Messages go through the instance's real qmail-queue and are read back from
queue/todo (no qmail-send runs, except in the relay tests).

Timing: only lower bounds are asserted; every wait is bounded; every
process started here (tcpserver and its children, qmail-send) is killed by
pid at the end.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(__file__))
import quail  # noqa: E402
from quail import check, check_eq, ROOT, BIN, wait_for  # noqa: E402

signal.signal(signal.SIGPIPE, signal.SIG_IGN)

SMTPD = os.path.join(BIN, "qmail-smtpd")
TCPSERVER = shutil.which("tcpserver") or "/usr/bin/tcpserver"
TCPRULES = shutil.which("tcprules") or "/usr/bin/tcprules"
IOTIMEOUT = 60   # seconds any single read from the server may take

NOT_RCPTHOSTS = "553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"
NOT_RCPTHOSTS_Q = "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"
SMUGGLE_451 = "451 4.5.2 See https://cr.yp.to/docs/smtplf.html. (#4.5.2)"
OKDATA_Q = re.compile(r"^250 ok \d+ qp \d+$")
OKDATA = re.compile(r"^250 2\.0\.0 ok \d+ qp \d+$")

CHECKPASSWORD = r"""#!/usr/bin/python3
# checkpassword stand-in: alice/secret is good, anything else is not.
import os, sys
data = b""
while True:
    chunk = os.read(3, 4096)
    if not chunk:
        break
    data += chunk
parts = data.split(b"\0")
if parts[:2] == [b"alice", b"secret"]:
    os.execvp(sys.argv[1], sys.argv[1:])
sys.exit(1)
"""

FAKE_REMOTE = r"""#!/bin/sh
# qmail-remote sink: host sender recip; records and accepts.
d=@DIR@
cat > "$d/remote.$$.msg"
printf '%s\n%s\n%s\n' "$1" "$2" "$3" > "$d/remote.$$.args"
printf 'r%s accepted\n\0Kdone\n\0' "$3"
"""


# ---- processes ----

def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read()
    except OSError:
        return b""


def proc_status(pid, field):
    """A field of /proc/pid/status in kB (VmRSS, VmHWM), or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def proc_rchar(pid):
    try:
        with open("/proc/%d/io" % pid) as f:
            for line in f:
                if line.startswith("rchar:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Server(quail.TcpServer):
    """tcpserver running qmail-smtpd on a free port of 127.0.0.1."""

    def __init__(self, s, rules=":allow\n", env=None, args=(), concurrency=40):
        self.sys, self.args = s, list(args)
        fullenv = s.plainenv()
        fullenv.update(env or {})
        user = (quail.delivery_uid(), quail.delivery_gid()) if quail.is_root() else None
        quail.TcpServer.__init__(self, [SMTPD] + self.args, env=fullenv, opts=("-H", "-R", "-l", "mx.test.example"),
                                 rules=rules, user=user, concurrency=concurrency, name="qmail-smtpd",
                                 logfile=os.path.join(s.top, "smtpd.%d.log" % len(os.listdir(s.top))))

    def smtpd_pids(self):
        return [p for p in self.children() if b"qmail-smtpd" in cmdline(p)]


class Client(quail.SmtpClient):
    """A raw SMTP client: bytes out (str as latin-1), replies in (latin-1
    text, the lines of a multi-line reply joined with newlines)."""

    def __init__(self, port, timeout=IOTIMEOUT):
        quail.SmtpClient.__init__(self, port, timeout, encoding="latin-1")

    def closed(self, timeout=IOTIMEOUT):
        """True if the server closes the connection without sending
        anything more within timeout seconds."""
        return quail.SmtpClient.closed(self, timeout)


def connect(srv, greeting="EHLO client.example"):
    c = Client(srv.port)
    g = c.reply()
    if g is None or not g.startswith("220 "):
        raise RuntimeError("no greeting: %r" % g)
    if greeting:
        r = c.cmd(greeting)
        if r is None or not r.startswith("250"):
            raise RuntimeError("%s: %r" % (greeting, r))
    return c


def queued():
    """The real queue's todo/: (message, its F and T envelope records),
    oldest first."""
    out = []
    files = quail.queue_files(ROOT, "todo")
    files.sort(key=lambda p: os.stat(p).st_mtime_ns)
    for p in files:
        with open(p, "rb") as f:
            msg, env, _ = quail.parse_queue_file(f.read())
        out.append((msg, [e for e in env if e[:1] in (b"F", b"T")]))
    return out


def queue_clean():
    """Nothing in todo/, mess/ or pid/: no message and no leftover."""
    return not quail.queue_files(ROOT, "todo") and not quail.queue_files(ROOT, "mess") \
        and not quail.queue_files(ROOT, "pid")


class Setup:
    """A test instance (no qmail-send unless asked) and one server."""

    def __init__(self, controls=None, send_env=None, **kw):
        c = {"rcpthosts": "test.example\nlocalhost"}
        c.update(controls or {})
        self.sys = quail.System(controls=c, env=send_env)
        self.kw = kw
        self.srv = None

    def __enter__(self):
        try:
            self.srv = Server(self.sys, **self.kw).start()
        except Exception:
            self.sys.cleanup()
            raise
        return self.sys, self.srv

    def __exit__(self, *a):
        if self.srv:
            self.srv.stop()
        self.sys.stop()
        self.sys.cleanup()
        return False


def transaction(c, sender, rcpts, body="Subject: t\r\n\r\nhi\r\n"):
    """MAIL, RCPTs, DATA, body; the list of replies."""
    out = [c.cmd("MAIL FROM:<%s>" % sender)]
    for r in rcpts:
        out.append(c.cmd("RCPT TO:<%s>" % r))
    out.append(c.cmd("DATA"))
    if out[-1] and out[-1].startswith("354"):
        c.send(body + ".\r\n")
        out.append(c.reply())
    return out


# ---- the seed examples ----

def test_e01_qmail_session():
    """E01: a session without HELO gets qmail's replies byte for byte."""
    with Setup({"smtpgreeting": "mail.hebweb.ch", "me": "mail.hebweb.ch",
                "locals": "hebweb.ch", "rcpthosts": "hebweb.ch"}) as (s, srv):
        s.add_user("francois")
        s.write_assign()
        c = Client(srv.port)
        check_eq(c.reply(), "220 mail.hebweb.ch ESMTP", "E01: greeting")
        check_eq(c.cmd("MAIL FROM:<francois@ctrlaltdel.ch>"), "250 ok", "E01: MAIL without HELO: 250 ok")
        check_eq(c.cmd("RCPT TO:<francois@hebweb.ch>"), "250 ok", "E01: RCPT: 250 ok")
        check_eq(c.cmd("DATA"), "354 go ahead", "E01: DATA: 354 go ahead")
        c.send("Subject: essai\r\n\r\nCeci est un essai\r\n.\r\n")
        r = c.reply()
        check(r and OKDATA_Q.match(r), "E01: after the dot: 250 ok <unixtime> qp <pid>", repr(r))
        if r and OKDATA_Q.match(r):
            t = int(r.split()[2])
            check(abs(t - time.time()) < 600, "E01: the time in it is now", r)
        check_eq(c.cmd("quit"), "221 mail.hebweb.ch", "E01: quit: 221 mail.hebweb.ch")
        check(c.closed(), "E01: then the connection is closed")
        q = queued()
        check_eq(len(q), 1, "E01: one message queued")
        if q:
            msg, env = q[0]
            check_eq(env, [b"Ffrancois@ctrlaltdel.ch", b"Tfrancois@hebweb.ch"], "E01: its envelope")
            check(msg.endswith(b"Subject: essai\n\nCeci est un essai\n"), "E01: its text, CRLF made LF", repr(msg))


def test_e02_e03_banners():
    for greeting in ("cyrus.nain-t.net", "smtp.beauvelo.fr TP ISRI"):
        with Setup({"smtpgreeting": greeting, "me": "cyrus.nain-t.net"}) as (s, srv):
            c = Client(srv.port)
            g = c.reply()
            check_eq(g, "220 %s ESMTP" % greeting, "E02/E03: smtpgreeting %r gives exactly that banner" % greeting)
            e = c.cmd("EHLO client.example")
            q = c.cmd("QUIT")
            for what, text in (("220", g), ("EHLO", e), ("221", q)):
                # each line without its code and enhanced code
                bare = re.sub(r"(?m)^\d{3}[ -](\d\.\d{1,3}\.\d{1,3} )?", "", text or "")
                check(text is not None and not re.search(r"(?i)qmail|quail|postfix|\d+\.\d+", bare),
                      "E02: no product or version in the %s reply" % what, repr(text))
            check_eq(q, "221 2.0.0 cyrus.nain-t.net", "E02: 221 names me only")


def test_e04_vrfy():
    with Setup() as (s, srv):
        c = Client(srv.port)
        c.reply()
        a, b = c.cmd("vrfy alice"), c.cmd("vrfy truc")
        check_eq(a, "252 send some mail, i'll try my best", "E04: VRFY of an existing user (no EHLO): qmail's 252")
        check_eq(b, a, "E04: VRFY of a non-existent user: the very same reply")
        c.cmd("EHLO x")
        a, b = c.cmd("VRFY alice@test.example"), c.cmd("VRFY nobody-here@test.example")
        check_eq((a, b), ("252 2.1.5 send some mail, i'll try my best",) * 2, "E04: after EHLO, the same for both")
        for i in range(30):
            r = c.cmd("VRFY u%d" % i)
        check_eq(r, "252 2.1.5 send some mail, i'll try my best", "E04: VRFY is not a bad command (30 in a row)")


def test_e05_requirehelo():
    with Setup({"requirehelo": "1"}) as (s, srv):
        c = Client(srv.port)
        c.reply()
        check_eq(c.cmd("MAIL FROM: <machin@truc.com>"), "503 send HELO or EHLO first (#5.5.1)",
                 "E05: requirehelo 1: MAIL before HELO gets qmail-style 503")
        check_eq(c.cmd("HELO client.example"), "250 test.example", "E05: HELO")
        check_eq(c.cmd("MAIL FROM: <machin@truc.com>"), "250 ok", "E05: then MAIL is accepted")
    with Setup() as (s, srv):
        c = Client(srv.port)
        c.reply()
        check_eq(c.cmd("MAIL FROM: <machin@truc.com>"), "250 ok", "E05: by default (qmail's) MAIL before HELO: 250")


def test_e06_rcpthosts():
    with Setup({"rcpthosts": "test.example"}) as (s, srv):
        c = Client(srv.port)
        c.reply()
        c.cmd("MAIL FROM:<prof@nain-t.net>")
        check_eq(c.cmd("RCPT TO:<lambda@nain-t.net>"), NOT_RCPTHOSTS_Q, "E06: relay denied, qmail's exact 553")
        check(re.search(r"reject ip=127\.0\.0\.1 .*from=<prof@nain-t.net> to=<lambda@nain-t.net> code=553",
                        srv.logtext()), "E06: the rejection is logged with sender, recipient, code", srv.logtext())
    with Setup({"rcpthosts": "test.example\nnain-t.net", "locals": "test.example\nnain-t.net"}) as (s, srv):
        s.add_user("lambda")
        s.write_assign()
        c = Client(srv.port)
        c.reply()
        r = transaction(c, "prof@nain-t.net", ["lambda@nain-t.net"])
        check_eq(r[:3], ["250 ok", "250 ok", "354 go ahead"], "E06: with nain-t.net in rcpthosts and locals: 250")
        check_eq(len(queued()), 1, "E06: and the message is queued")


def test_e07_tcprules():
    """E07/E97: the tcprules cdb decides who relays."""
    lan = '127.0.0.1:allow,RELAYCLIENT=""\n:allow\n'
    with Setup(rules=lan) as (s, srv):
        c = connect(srv)
        r = transaction(c, "alice@test.example", ["someone@world.example"])
        check_eq(r[1], "250 2.1.5 ok", "E07: a client with RELAYCLIENT (from tcprules) relays to any domain")
        check(OKDATA.match(r[-1] or ""), "E07: and its message is queued", repr(r))
        q = queued()
        check(q and q[0][1] == [b"Falice@test.example", b"Tsomeone@world.example"], "E07: envelope as given", repr(q))
    world = '192.168.0.:allow,RELAYCLIENT=""\n:allow\n'
    with Setup(rules=world) as (s, srv):
        c = connect(srv)
        c.cmd("MAIL FROM:<x@world.example>")
        check_eq(c.cmd("RCPT TO:<someone@world.example>"), NOT_RCPTHOSTS,
                 "E07: an address the rules do not give RELAYCLIENT: 553 #5.7.1")
        check_eq(c.cmd("RCPT TO:<alice@test.example>"), "250 2.1.5 ok", "E97: world to local: 250")
    deny = '127.0.0.1:deny\n:allow\n'
    with Setup(rules=deny) as (s, srv):
        c = Client(srv.port)
        check_eq(c.reply(), None, "tcprules deny: the connection is closed without a greeting")
        check_eq(srv.smtpd_pids(), [], "and qmail-smtpd was never run for it")


def test_e09_sender_not_checked():
    with Setup() as (s, srv):
        c = Client(srv.port)
        c.reply()
        check_eq(c.cmd("MAIL FROM:<machin@chose>"), "250 ok", "E09: a non-FQDN sender is accepted (stock qmail)")
        c.cmd("RSET")
        check_eq(c.cmd("MAIL FROM:<machin@truc.tld>"), "250 ok", "E09: an unresolvable sender domain too (no DNS)")


def test_e19_badmailfrom():
    with Setup({"badmailfrom": "spammeur@aol.com\n@microsoft.com\ncontact-info@pub.fr\n@Site1.com"}) as (s, srv):
        c = Client(srv.port)
        c.reply()
        bmf = "553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)"
        for sender, want, name in (("spammeur@aol.com", bmf, "E19c: a listed address"),
                                   ("anyone@microsoft.com", bmf, "E19c: an @domain line"),
                                   ("anyone@MICROSOFT.COM", bmf, "E35: @domain matches in any case"),
                                   ("x@site1.com", bmf, "E35: @Site1.com matches site1.com"),
                                   ("contact-info@pub.fr", bmf, "E37: the listed address at pub.fr"),
                                   ("other@pub.fr", "250 ok", "E37: other senders at pub.fr are accepted"),
                                   ("x@site3.com", "250 ok", "E35: an unlisted domain is accepted"),
                                   ("other@aol.com", "250 ok", "E19c: another address at aol.com is accepted")):
            m = c.cmd("MAIL FROM:<%s>" % sender)
            r = c.cmd("RCPT TO:<alice@test.example>")
            check_eq((m, r), ("250 ok", want), name + ": MAIL 250, RCPT " + want[:3])
            c.cmd("RSET")


def test_e55_e97_auth():
    """E55: a submission service requires AUTH before MAIL; E97: an
    authenticated roaming user relays, nobody else does."""
    with Setup() as (s, srv0):
        cp = os.path.join(s.top, "checkpassword")
        with open(cp, "w") as f:
            f.write(CHECKPASSWORD)
        os.chmod(cp, 0o755)
        for mode in ("!", ""):
            srv = Server(s, env={"SMTPAUTH": mode}, args=["test.example", cp, "/bin/true"]).start()
            try:
                c = connect(srv)
                if mode == "!":
                    check_eq(c.cmd("MAIL FROM:<alice@test.example>"), "530 5.7.0 authentication required (#5.7.0)",
                             "E55: SMTPAUTH=!: MAIL before AUTH gets 530")
                else:
                    c.cmd("MAIL FROM:<alice@test.example>")
                    check_eq(c.cmd("RCPT TO:<x@world.example>"), NOT_RCPTHOSTS,
                             "E97: not authenticated: world to world is 553")
                    c.cmd("RSET")
                bad = c.cmd("AUTH PLAIN " + __import__("base64").b64encode(b"\0alice\0wrong").decode())
                check_eq(bad, "535 5.7.8 authentication failed (#5.7.8)", "E55: wrong password: 535 (mode %r)" % mode)
                c.cmd("RSET")
                good = c.cmd("AUTH PLAIN " + __import__("base64").b64encode(b"\0alice\0secret").decode())
                check_eq(good, "235 2.7.0 ok, go ahead (#2.0.0)", "E55: right password: 235 (mode %r)" % mode)
                r = transaction(c, "alice@test.example", ["x@world.example"])
                check_eq(r[1], "250 2.1.5 ok", "E97: authenticated roaming user to world: 250 (mode %r)" % mode)
                check(OKDATA.match(r[-1] or ""), "E97: and the message is accepted", repr(r))
            finally:
                srv.stop()
        check(re.search(r"auth=alice .*to=<x@world.example>", srv.logtext()), "E56: the log names the user",
              srv.logtext())


# ---- bad input ----

def test_nul_in_command():
    with Setup({"maxbadcommands": "5"}) as (s, srv):
        c = connect(srv)
        check_eq(c.cmd(b"NOOP\0"), "500 5.5.2 NUL in command (#5.5.2)", "NUL at the end of a command: 500")
        check_eq(c.cmd(b"MAIL FROM:<a\0b@test.example>"), "500 5.5.2 NUL in command (#5.5.2)",
                 "NUL inside a MAIL address: 500, not taken")
        check_eq(c.cmd("RCPT TO:<alice@test.example>"), "503 5.5.1 MAIL first (#5.5.1)",
                 "the MAIL with a NUL opened no transaction")
        check_eq(c.cmd(b"\0QUIT"), "500 5.5.2 NUL in command (#5.5.2)", "NUL before QUIT: not a QUIT")
        check_eq(c.cmd(b"RCPT TO:<alice@test.example>\0>"), "500 5.5.2 NUL in command (#5.5.2)",
                 "NUL after a RCPT address: 500 (bad command number 5 with the RCPT above)")
        check_eq(c.reply(), "421 4.7.0 too many bad commands, closing connection (#4.7.0)",
                 "NUL commands count as bad commands: 421 at maxbadcommands")
        check(c.closed(), "and the connection is closed")
        c = Client(srv.port)
        c.reply()
        check_eq(c.cmd(b"HELO a\0b"), "500 NUL in command (#5.5.2)", "NUL in HELO, no EHLO: qmail-style 500")
        check_eq(c.cmd("NOOP"), "250 ok", "the connection is still usable")
        c.close()
        check_eq(queued(), [], "nothing queued")


def wait_rchar(pid, n, timeout=120):
    return wait_for(lambda: proc_rchar(pid) >= n, timeout, 0.1)


def test_ten_megabyte_line():
    big = 10 * 1024 * 1024
    with Setup() as (s, srv):
        c = connect(srv)
        check(wait_for(lambda: len(srv.smtpd_pids()) == 1, 30), "one qmail-smtpd runs")
        pid = (srv.smtpd_pids() or [0])[0]
        base = proc_status(pid, "VmRSS") or 0
        chunk = b"A" * (1024 * 1024)
        ok = all(c.send(chunk) for _ in range(10))
        check(ok, "a 10 MB line without a newline is read (the client can send it all)")
        check(wait_rchar(pid, big), "qmail-smtpd reads all of it", "rchar %d" % proc_rchar(pid))
        rss, hwm = proc_status(pid, "VmRSS"), proc_status(pid, "VmHWM")
        check(rss is not None and rss - base < 4096 and hwm - base < 4096,
              "its memory stays bounded (RSS grows by less than 4 MB)", "base %s kB, rss %s kB, peak %s kB" %
              (base, rss, hwm))
        check_eq(c.cmd(""), "500 5.5.2 line too long (#5.5.2)", "the newline at last: 500 line too long")
        check_eq(c.cmd("NOOP"), "250 2.0.0 ok", "the connection is still usable")
        # a 10 MB MAIL command: refused, no transaction opened
        c.send(b"MAIL FROM:<" + b"a" * big + b"@test.example>\r\n")
        check_eq(c.reply(), "500 5.5.2 line too long (#5.5.2)", "a 10 MB MAIL command: 500 line too long")
        check_eq(c.cmd("RCPT TO:<alice@test.example>"), "503 5.5.1 MAIL first (#5.5.1)", "and it opened nothing")
        # a 10 MB line in DATA: read to the end, then 554, nothing queued
        c.cmd("MAIL FROM:<bob@test.example>")
        c.cmd("RCPT TO:<alice@test.example>")
        check_eq(c.cmd("DATA"), "354 go ahead", "DATA")
        c.send(b"Subject: long\r\n\r\n")
        ok = all(c.send(chunk) for _ in range(10))
        c.send(b"\r\nafter\r\n.\r\n")
        check_eq(c.reply(), "554 5.6.0 sorry, a line of the message is too long (#5.6.0)",
                 "a 10 MB line in DATA: 554 after the final dot")
        hwm = proc_status(pid, "VmHWM")
        check(hwm is not None and hwm - base < 4096, "memory still bounded after it", "base %s, peak %s" % (base, hwm))
        check_eq(c.cmd("NOOP"), "250 2.0.0 ok", "the connection is still usable after it")
        check_eq(c.cmd("QUIT"), "221 2.0.0 test.example", "QUIT")
        check(srv.idle(), "the process has exited")
        check_eq(queued(), [], "nothing was queued")
        check(queue_clean(), "and nothing is left in the queue")


def test_pipelined_garbage():
    with Setup() as (s, srv):
        c = Client(srv.port)
        c.reply()
        c.send(b"".join(b"JUNK %d\r\n" % i for i in range(1000)))
        replies = []
        while True:
            r = c.reply()
            if r is None:
                break
            replies.append(r)
            if len(replies) > 1000:
                break
        check_eq(replies.count("502 unimplemented (#5.5.1)"), 20,
                 "1000 junk lines: 20 answered as unimplemented (control/maxbadcommands default 20)")
        check_eq(replies[-1:], ["421 too many bad commands, closing connection (#4.7.0)"],
                 "then 421 and nothing more")
        check(c.eof, "and the connection is closed")
        check(srv.idle(), "the process has exited")
    with Setup({"maxbadcommands": "50"}) as (s, srv):
        c = connect(srv)
        junk = [b"", b" ", b"\x01\x02\x03", b"\xff\xfe", b"MAIL", b"MAIL TO:<a@b>", b"RCPT", b"DATA x",
                b"HELO", b"EHLO \x07", b"AUTH", b"STARTTLS", b"EXPN root", b"QUITX", b"\t"]
        lines = [junk[i % len(junk)] for i in range(1000)]
        c.send(b"".join(l + b"\r\n" for l in lines))
        replies = []
        while len(replies) <= 1000:
            r = c.reply()
            if r is None:
                break
            replies.append(r)
        codes = [r[:3] for r in replies]
        check(all(x[0] == "5" for x in codes[:-1]), "mixed garbage: every reply before the last is a 5xx",
              repr(replies[:60]))
        check_eq(replies[-1:], ["421 4.7.0 too many bad commands, closing connection (#4.7.0)"],
                 "mixed garbage: the session ends with 421 (maxbadcommands 50)")
        check(len(replies) <= 51, "and no more than 50 commands were answered before it", str(len(replies)))
        check(c.eof, "the connection is closed")
        check_eq(queued(), [], "nothing queued")


def test_out_of_order():
    with Setup() as (s, srv):
        c = Client(srv.port)
        c.reply()
        c.cmd("HELO client.example")
        steps = [
            ("RCPT TO:<alice@test.example>", "503 MAIL first (#5.5.1)", "RCPT before MAIL"),
            ("DATA", "503 MAIL first (#5.5.1)", "DATA before MAIL"),
            ("MAIL FROM:<bob@test.example>", "250 ok", "MAIL"),
            ("MAIL FROM:<bob@test.example>", "503 nested MAIL command (#5.5.1)", "MAIL twice"),
            ("DATA", "503 RCPT first (#5.5.1)", "DATA before RCPT"),
            ("RSET", "250 ok", "RSET"),
            ("RCPT TO:<alice@test.example>", "503 MAIL first (#5.5.1)", "RCPT after RSET"),
            ("MAIL FROM:<bob@test.example>", "250 ok", "MAIL again"),
            ("HELO again.example", "250 test.example", "HELO inside a transaction"),
            ("RCPT TO:<alice@test.example>", "503 MAIL first (#5.5.1)", "HELO ended the transaction (RFC 5321)"),
            ("AUTH PLAIN AGFsaWNlAHNlY3JldA==", "502 unimplemented (#5.5.1)", "AUTH when not offered"),
        ]
        for cmd, want, name in steps:
            check_eq(c.cmd(cmd), want, "out of order (HELO client, qmail's texts): " + name)
        r = transaction(c, "bob@test.example", ["alice@test.example"])
        check(OKDATA_Q.match(r[-1] or ""), "and a transaction in order still succeeds", repr(r))
        c = connect(srv)
        c.cmd("MAIL FROM:<bob@test.example>")
        c.send("BDAT 5 LAST\r\nhello")
        check_eq(c.reply(), "503 5.5.1 RCPT first (#5.5.1)", "BDAT before RCPT: 503 (EHLO client)")
        check_eq(c.cmd("NOOP"), "250 2.0.0 ok", "and its chunk was skipped: the next command is read as one")
        c.cmd("RCPT TO:<alice@test.example>")
        c.send("BDAT 9\r\nSubject: ")
        check_eq(c.reply(), "250 2.0.0 9 octets received", "BDAT chunk")
        check_eq(c.cmd("DATA"), "503 5.5.1 BDAT expected (#5.5.1)", "DATA in the middle of BDAT: 503")
        check_eq(c.cmd("MAIL FROM:<x@test.example>"), "503 5.5.1 BDAT expected (#5.5.1)", "MAIL in BDAT: 503")
        c.send("BDAT 7 LAST\r\nb\r\n\r\nx\n")
        r = c.reply()
        check(r is not None and r.startswith("451 "), "last chunk with a bare LF: 451", repr(r))
        check_eq(c.cmd("QUIT"), "221 2.0.0 test.example", "QUIT")
        check_eq(len(queued()), 1, "exactly one message queued (the one in order)")


def test_many_recipients():
    for maxrcpt in ("1000", None):
        with Setup({"maxrcpt": maxrcpt} if maxrcpt else {}) as (s, srv):
            s.dotqmail("alice", "default", "./Maildir/\n")
            what = "control/maxrcpt 1000" if maxrcpt else "default maxrcpt"
            c = connect(srv)
            c.cmd("MAIL FROM:<bob@test.example>")
            n = 1001 if maxrcpt is None else 1000
            c.send("".join("RCPT TO:<alice-%d@test.example>\r\n" % i for i in range(n)))
            replies = [c.reply() for _ in range(n)]
            check_eq(replies[:1000].count("250 2.1.5 ok"), 1000, "%s: 1000 recipients accepted" % what)
            if maxrcpt is None:
                check_eq(replies[1000], "452 4.5.3 too many recipients (#4.5.3)", "%s: the 1001st gets 452" % what)
            check_eq(c.cmd("DATA"), "354 go ahead", "%s: DATA" % what)
            c.send("Subject: many\r\n\r\nhi\r\n.\r\n")
            r = c.reply()
            check(OKDATA.match(r or ""), "%s: the message is accepted" % what, repr(r))
            q = queued()
            env = q[0][1] if q else []
            check_eq(len(env), 1001, "%s: queued with its 1000 recipients (plus the sender)" % what)
            check_eq(env[1:], [b"Talice-%d@test.example" % i for i in range(1000)],
                     "%s: in order, none lost or repeated" % what)


def test_disconnect_in_data():
    with Setup() as (s, srv):
        for i, tail in enumerate((b"", b"Subject: half\r\n\r\npart of a body\r\n", b"body\r\n.",
                                  b"body\r\n.\r", b"x" * 200000)):
            c = connect(srv)
            c.cmd("MAIL FROM:<bob@test.example>")
            c.cmd("RCPT TO:<alice@test.example>")
            check_eq(c.cmd("DATA"), "354 go ahead", "disconnect %d: DATA" % i)
            c.send(tail)
            c.close()
            check(srv.idle(), "disconnect %d in DATA (%d bytes sent): qmail-smtpd and qmail-queue exit" %
                  (i, len(tail)))
            check(queue_clean(), "disconnect %d: nothing queued, nothing left in the queue" % i,
                  repr(quail.queue_files(ROOT, "todo") + quail.queue_files(ROOT, "mess")))
        check(not re.search(r" tx .*result=250", srv.logtext()), "no transaction is logged as accepted",
              srv.logtext())


def slow_drip(srv, prefix=b"", limit=60):
    """Sends NOOP lines one byte a second until the server closes the
    connection; (replies, seconds from connect to close)."""
    t0 = time.time()
    c = Client(srv.port)
    c.reply()
    c.first = c.cmd(prefix) if prefix else None
    c.sock.settimeout(0.05)
    data = b"NOOP\r\n" * 100
    replies = []
    i = 0
    while time.time() - t0 < limit and not c.eof:
        c.send(data[i:i + 1])
        i += 1
        end = time.time() + 1
        while time.time() < end and not c.eof:
            l = c.line()
            if l is not None:
                replies.append(l)
    return replies, time.time() - t0, c


def test_slow_drip():
    with Setup({"timeoutsession": "5"}) as (s, srv):
        # both wait for the same limit: together, in two connections
        (replies, took, c), after_ehlo = quail.parallel(lambda: slow_drip(srv, b"NOOP"),
                                                        lambda: slow_drip(srv, b"EHLO drip.example"))
        check(c.eof, "a client dripping one byte a second is dropped", "%r after %.1f s" % (replies, took))
        check(took >= 4.5, "not before control/timeoutsession (5 s)", "%.1f s" % took)
        check(replies and replies[-1].startswith("421 "), "it gets 421 before the close", repr(replies[-2:]))
        check_eq(replies[-1:], ["421 session time limit exceeded, closing connection (#4.4.2)"],
                 "a client that never said EHLO gets the 421 without an enhanced code (the DECISION)")
        check_eq(c.first, "250 ok", "a whole NOOP before the drip was answered (no EHLO: qmail's text)")
        replies, took, c = after_ehlo
        check_eq(replies[-1:], ["421 4.4.2 session time limit exceeded, closing connection (#4.4.2)"],
                 "after EHLO: 421 4.4.2 session time limit exceeded")
        check(c.eof and took >= 4.5, "and closed, not before 5 s", "%.1f s" % took)
        check(srv.idle(), "the processes have exited")


def test_two_hundred_sessions():
    n = 200
    with Setup(concurrency=250) as (s, srv):
        t0 = time.time()
        clients = []
        for i in range(n):
            try:
                clients.append(Client(srv.port, timeout=120))
            except OSError as e:
                check(False, "connection %d" % i, str(e))
                return
        greets = [c.reply() for c in clients]
        check_eq(sum(1 for g in greets if g == "220 test.example ESMTP"), n,
                 "%d simultaneous connections all get a greeting" % n)
        alive = len(srv.smtpd_pids())
        check_eq(alive, n, "%d qmail-smtpd processes run at once" % n)
        for i, c in enumerate(clients):
            c.send("EHLO c%d.example\r\nMAIL FROM:<bob@test.example>\r\nRCPT TO:<alice@test.example>\r\nDATA\r\n" % i)
        ok = 0
        for c in clients:
            r = [c.reply() for _ in range(4)]
            if r[1:] == ["250 2.1.0 ok", "250 2.1.5 ok", "354 go ahead"]:
                ok += 1
        check_eq(ok, n, "each pipelines EHLO, MAIL, RCPT, DATA and gets 250, 250, 250, 354")
        for i, c in enumerate(clients):
            c.send("Subject: session %d\r\n\r\nbody %d\r\n.\r\nQUIT\r\n" % (i, i))
        done = 0
        for c in clients:
            r = [c.reply(), c.reply()]
            if r[0] and OKDATA.match(r[0]) and r[1] == "221 2.0.0 test.example":
                done += 1
            c.close()
        check_eq(done, n, "all %d messages are accepted (250 ok ... qp) and QUIT answered" % n)
        q = queued()
        check_eq(len(q), n, "all %d messages are in the queue" % n)
        subjects = sorted(int(re.search(rb"Subject: session (\d+)", m).group(1)) for m, _ in q
                          if re.search(rb"Subject: session (\d+)", m))
        check_eq(subjects, list(range(n)), "one of each, none mixed up")
        check(srv.idle(120), "every qmail-smtpd has exited")
        print("# 200 sessions took %.1f s" % (time.time() - t0))


# ---- open-relay tricks ----

def remote_deliveries(s):
    out = []
    for f in sorted(os.listdir(s.top)):
        if f.startswith("remote.") and f.endswith(".args"):
            with open(os.path.join(s.top, f)) as a:
                out.append(a.read().split("\n")[:3])
    return out


# (RCPT argument, marker, expected reply, name). Expected "250" means the
# address is accepted as local mail; the queued envelope and qmail-send's
# routing are then checked.
RELAY_TRICKS = [
    ("<t01%other.test@test.example>", "t01", "250", "percent hack, no control/percenthack"),
    ("<t02%other.test>", "t02", "250", "percent hack without a domain"),
    ("<other.test!t03@test.example>", "t03", "250", "bang path at our domain"),
    ("<other.test!t04>", "t04", "250", "bang path without a domain"),
    ("<@test.example:t05@other.test>", "t05", "553", "source route through our domain"),
    ("<@test.example,@localhost:t06@other.test>", "t06", "553", "source route with two hops"),
    ('<"t07@other.test"@test.example>', "t07", "250", "quoted local part holding an address"),
    ('<"t08@other.test">', "t08", "553", "quoted whole address"),
    ("<t09\\@other.test@test.example>", "t09", "250", "escaped @ in the local part"),
    ("<t10@other.test@test.example>", "t10", "250", "two @ signs"),
    ("<t11@other.test.>", "t11", "553", "trailing dot on a foreign domain"),
    ("<t12@test.example.>", "t12", "553", "trailing dot on our domain"),
    ("<t13@test.example..>", "t13", "553", "two trailing dots"),
    ("<t14@[192.0.2.1]>", "t14", "553", "IPv4 literal of another host"),
    ("<t15@[IPv6:2001:db8::1]>", "t15", "553", "IPv6 literal of another host"),
    ("<t16@[127.0.0.1]>", "t16", "250", "IPv4 literal of this host (localiphost)"),
    ("<t17@OTHER.test>", "t17", "553", "upper-case foreign domain"),
    ("<t18@TEST.EXAMPLE>", "t18", "250", "upper-case own domain"),
    ("<t19@Test.Example.>", "t19", "553", "mixed case own domain with a trailing dot"),
    ("<t20@test.example.other.test>", "t20", "553", "our domain as a prefix of a foreign one"),
    ("<t21@other.test%test.example>", "t21", "553", "percent in the domain part"),
    ("<t22%other.test@localhost>", "t22", "250", "percent hack at another local name"),
    ("t23@other.test", "t23", "553", "no angle brackets"),
    ("<t24@other.test >", None, "501", "space before the bracket"),
    ("<t25@[127.0.0.1].other.test>", "t25", "553", "a literal followed by a foreign domain"),
]

PERCENT_TRICKS = [
    ("<p01%other.test@test.example>", "p01", "percent hack with control/percenthack"),
    ("<p02%other.test>", "p02", "percent hack without a domain, with control/percenthack"),
    ("<p03%other.test@TEST.EXAMPLE>", "p03", "percent hack, upper-case domain, with control/percenthack"),
    ("<p04%x%other.test@test.example>", "p04", "double percent hack with control/percenthack"),
    ("<p05%other.test%test.example@test.example>", "p05", "percent chain back to us, then out"),
]


def relay_system(controls):
    base = {"rcpthosts": "test.example\nlocalhost", "rcptcheck": "0", "doublebounceto": "postmaster"}
    base.update(controls)
    st = Setup(base)
    remote = os.path.join(st.sys.top, "qmail-remote")
    with open(remote, "w") as f:
        f.write(FAKE_REMOTE.replace("@DIR@", st.sys.top))
    os.chmod(remote, 0o755)
    os.chmod(st.sys.top, 0o777)
    st.sys.env["QMAILREMOTE"] = remote
    return st


STARTING = re.compile(r"^starting delivery \d+: msg \d+ to (local|remote) ", re.M)


def routed(s, n):
    """Starts qmail-send and waits until it has routed n deliveries (the
    unknown local parts may then defer or bounce: only the route counts),
    and a little longer, for a remote delivery that might still follow."""
    s.start()
    check(wait_for(lambda: len(STARTING.findall(s.logtext())) >= n, 120),
          "qmail-send routes all %d accepted messages" % n, s.logtext()[-2000:])
    wait_for(lambda: s.queue_empty(), 3)


def run_tricks(s, srv, tricks, label):
    """Sends one message per trick; returns {marker: (reply, envelope
    recipients of its message or None)}."""
    results = {}
    c = connect(srv)
    for i, (arg, marker, _, name) in enumerate(tricks):
        m = c.cmd("MAIL FROM:<postmaster@test.example>")
        r = c.cmd("RCPT TO:" + arg)
        if r is not None and r.startswith("250"):
            c.cmd("DATA")
            c.send("Subject: trick %s\r\n\r\n%s\r\n.\r\n" % (marker, name))
            d = c.reply()
            if not OKDATA.match(d or ""):
                r = "%s (DATA: %s)" % (r, d)
        else:
            c.cmd("RSET")
        results[marker] = [m, r, None]
    c.cmd("QUIT")
    for msg, env in queued():
        mk = re.search(rb"Subject: trick (\w+)", msg)
        if mk and mk.group(1).decode() in results:
            results[mk.group(1).decode()][2] = [e[1:].decode("latin-1") for e in env if e[:1] == b"T"]
    return results


def test_relay_tricks():
    st = relay_system({})
    with st as (s, srv):
        res = run_tricks(s, srv, RELAY_TRICKS, "")
        routed(s, sum(1 for v in res.values() if v[2]))
        remote = remote_deliveries(s)
        for arg, marker, want, name in RELAY_TRICKS:
            m, r, env = res[marker]
            full = "open relay: %s, RCPT TO:%s" % (name, arg)
            if want == "553":
                check_eq(r, NOT_RCPTHOSTS, full + ": 553 not in rcpthosts")
            elif want == "501":
                check(r is not None and r.startswith("501 "), full + ": 501", repr(r))
            else:
                check_eq(r, "250 2.1.5 ok", full + ": accepted as our own mail")
                check(env is not None and len(env) == 1, full + ": its message is queued", repr(env))
                if env:
                    dom = env[0].rsplit("@", 1)[-1] if "@" in env[0] else "test.example"
                    check(dom.lower() in ("test.example", "localhost"), full + ": the envelope stays at a local "
                          "domain (%s)" % env[0])
            hits = [a for a in remote if marker and a[2].startswith(marker)]
            check_eq(hits, [], full + ": qmail-send hands nothing of it to qmail-remote")
        check_eq(remote, [], "open relay: the qmail-remote sink got nothing at all")
        check(not re.search(r"to remote", s.logtext()), "open relay: qmail-send started no remote delivery",
              "\n".join(l for l in s.logtext().splitlines() if "remote" in l))
        t16 = res["t16"][2]
        check_eq(t16, ["t16@test.example"], "the literal [127.0.0.1] becomes localiphost (default me)")


def test_relay_percenthack():
    st = relay_system({"percenthack": "test.example"})
    with st as (s, srv):
        tricks = [(a, m, "553", n) for a, m, n in PERCENT_TRICKS]
        tricks.append(("<alice%test.example@test.example>", "ok1", "250", "percent hack to a local user"))
        res = run_tricks(s, srv, tricks, "")
        routed(s, sum(1 for v in res.values() if v[2]))
        remote = remote_deliveries(s)
        for arg, marker, name in PERCENT_TRICKS:
            m, r, env = res[marker]
            full = "open relay: %s, RCPT TO:%s" % (name, arg)
            hits = [a for a in remote if a[2].startswith(marker)]
            check_eq(hits, [], full + ": never relayed (got %r at RCPT)" % r)
            check(r is not None and (r == NOT_RCPTHOSTS or r.startswith("250")),
                  full + ": refused with 553 at RCPT, or accepted and kept local", repr(r))
        check_eq(res["ok1"][1], "250 2.1.5 ok", "percent hack to one of our own domains is accepted")
        check(s.wait_messages("alice", 1), "and delivered to alice")


# ---- SMTP smuggling ----

# Each is followed by a complete second transaction in the same DATA.
SMUGGLE_ENDS = [b"\n.\n", b"\n.\r\n", b"\r\n.\n", b"\r.\r\n", b"\r\n.\r", b"\r\n.\r\r\n", b"\n.\r",
                b"\r\r\n.\r\n", b"\r\n.\n\r\n", b"\n..\n", b"\r\n\r.\r\n"]
# These hold no bare CR or LF but a NUL next to the dot: qmail-smtpd sees
# no end there and reads on to the real end, but a server downstream that
# reads lines as C strings might see one. No message may hold a NUL (RFC
# 5322, 8BITMIME): the whole DATA is refused with 554 after its real end,
# nothing is queued, and the session goes on (its framing was never in
# doubt).
SMUGGLE_NUL_ENDS = [b"\r\n\x00.\r\n", b"\r\n.\x00\r\n"]
NUL_554 = "554 5.6.0 sorry, the message contains a NUL byte (#5.6.0)"


def test_smuggling():
    with Setup({"rcpthosts": "test.example\nvictim.test"}) as (s, srv):
        for end in SMUGGLE_ENDS:
            name = "smuggling %r" % end
            c = connect(srv)
            r = transaction_start(c)
            if r != ["250 2.1.0 ok", "250 2.1.5 ok", "354 go ahead"]:
                check(False, name + ": transaction start", repr(r))
                continue
            second = (b"MAIL FROM:<admin@test.example>\r\nRCPT TO:<bob@test.example>\r\nDATA\r\n"
                      b"From: admin@test.example\r\nSubject: smuggled\r\n\r\nsmuggled\r\n.\r\n")
            c.send(b"Subject: first\r\n\r\nfirst" + end + second + b"\r\n.\r\nQUIT\r\n")
            got = c.reply()
            check_eq(got, SMUGGLE_451, name + ": 451 See smtplf")
            check(c.closed(), name + ": and the connection is closed right after", repr(getattr(c, "extra", b"")))
            check(srv.idle(), name + ": the processes exit")
            q = queued()
            check_eq(len(q), 0, name + ": zero messages queued", repr([m[-300:] for m, _ in q]))
            check(not any(b"\nSubject: smuggled\n" in m and b"\nSubject: first\n" not in m for m, _ in q),
                  name + ": above all, the smuggled message is never queued on its own")
            quail.clear_whole_queue()
        for end in SMUGGLE_NUL_ENDS:
            name = "smuggling with a NUL %r" % end
            c = connect(srv)
            r = transaction_start(c)
            if r != ["250 2.1.0 ok", "250 2.1.5 ok", "354 go ahead"]:
                check(False, name + ": transaction start", repr(r))
                continue
            second = (b"MAIL FROM:<admin@test.example>\r\nRCPT TO:<bob@test.example>\r\nDATA\r\n"
                      b"From: admin@test.example\r\nSubject: smuggled\r\n\r\nsmuggled\r\n.\r\n")
            c.send(b"Subject: first\r\n\r\nfirst" + end + second)
            check_eq(c.reply(), NUL_554, name + ": 554 after the real end of the data")
            check_eq(c.cmd("NOOP"), "250 2.0.0 ok", name + ": the session goes on")
            check_eq(len(queued()), 0, name + ": zero messages queued")
            c.cmd("QUIT")
            quail.clear_whole_queue()
        # a client that said HELO gets qmail's text
        c = Client(srv.port)
        c.reply()
        c.cmd("HELO x")
        c.cmd("MAIL FROM:<bob@test.example>")
        c.cmd("RCPT TO:<alice@test.example>")
        c.cmd("DATA")
        c.send(b"Subject: x\r\n\r\nx\n.\nMAIL FROM:<a@b>\r\n.\r\n")
        check_eq(c.reply(), "451 See https://cr.yp.to/docs/smtplf.html. (#4.5.2)",
                 "smuggling after HELO: qmail's 451 text")
        check(c.closed(), "and the connection is closed")
        check(queue_clean(), "nothing queued")


def transaction_start(c):
    return [c.cmd("MAIL FROM:<bob@test.example>"), c.cmd("RCPT TO:<alice@test.example>"), c.cmd("DATA")]


TESTS = [test_e01_qmail_session, test_e02_e03_banners, test_e04_vrfy, test_e05_requirehelo, test_e06_rcpthosts,
         test_e07_tcprules, test_e09_sender_not_checked, test_e19_badmailfrom, test_e55_e97_auth,
         test_nul_in_command, test_ten_megabyte_line, test_pipelined_garbage, test_out_of_order,
         test_many_recipients, test_disconnect_in_data, test_slow_drip, test_two_hundred_sessions,
         test_relay_tricks, test_relay_percenthack, test_smuggling]


def main():
    if not os.path.exists(TCPSERVER) or not os.path.exists(TCPRULES):
        quail.skip("smtpd_abuse", "no tcpserver/tcprules (ucspi-tcp)")
        quail.done()
    only = sys.argv[1:]
    for t in TESTS:
        if only and t.__name__ not in only:
            continue
        t0 = time.time()
        try:
            t()
        except Exception:
            check(False, t.__name__ + " ran to the end", traceback.format_exc())
        print("# %s: %.1f s" % (t.__name__, time.time() - t0))
        sys.stdout.flush()
    quail.done()


if __name__ == "__main__":
    main()
