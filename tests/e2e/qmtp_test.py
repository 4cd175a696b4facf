"""qmail-qmtpd, qmail-qmqpd and qmail-qmqpc, end to end, under the real
tcpserver (ucspi-tcp) on 127.0.0.1 and ::1, with QMTP and QMQP clients
written here, checking what lands in the test instance's queue.

Not tested here: a connect timeout of qmail-qmqpc (needs an address that
swallows SYNs; 72 is tested only by its man page), the one-hour limit per
connection, running out of memory, and qmail-qmtpd as the qmaild user
under tcpserver -u (install_test.py covers users and modes).
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import quail  # noqa: E402
from quail import check, check_eq, ROOT, BIN  # noqa: E402

TCPSERVER = shutil.which("tcpserver")
CONTROL = os.path.join(ROOT, "control")
BASEENV = {"PATH": "/usr/bin:/bin", "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
           "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "")}
DATE = rb"\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d -0000"
RH_TEXT = b"Dsorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"
LONG_TEXT = b"Dsorry, I can't handle that recipient (#5.1.3)"


def ns(b):
    return str(len(b)).encode() + b":" + b + b","


def qmtp_message(body, sender, rcpts):
    return ns(body) + ns(sender) + ns(b"".join(ns(r) for r in rcpts))


def qmqp_packet(message, sender, rcpts):
    return ns(ns(message) + ns(sender) + b"".join(ns(r) for r in rcpts))


def parse_netstrings(data):
    """The complete netstrings at the start of data, and what is left."""
    out = []
    while True:
        colon = data.find(b":")
        if colon <= 0 or not data[:colon].isdigit():
            return out, data
        n = int(data[:colon])
        if len(data) < colon + 1 + n + 1:
            return out, data
        if data[colon + 1 + n:colon + 2 + n] != b",":
            raise ValueError("bad netstring %r" % data[:80])
        out.append(data[colon + 1:colon + 1 + n])
        data = data[colon + 2 + n:]


# ---- servers ----

free_port = quail.free_port


class Server(quail.TcpServer):
    """tcpserver running prog on host at a free port; stopped by pid."""

    def __init__(self, prog, env=None, host="127.0.0.1"):
        e = dict(BASEENV)
        e.update(env or {})
        self.prog = prog
        quail.TcpServer.__init__(self, [os.path.join(BIN, prog)], env=e, host=host,
                                 opts=("-q", "-R", "-H", "-l", "mx.test"))
        self.start()

    def connect(self):
        s = quail.TcpServer.connect(self, 10)
        s.settimeout(20)
        return s

    def stop(self):
        """Stops tcpserver; the servers it ran must have said nothing on
        descriptor 2 (a sanitizer report would be there)."""
        logfile, keep = self.logfile, self.tmp
        self.tmp = None    # the log is read after the stop
        quail.TcpServer.stop(self)
        with open(logfile, "rb") as f:
            err = f.read()
        shutil.rmtree(keep, ignore_errors=True)
        check_eq(err, b"", "%s said nothing on descriptor 2" % self.prog)


def session(server, data, nreplies=None, shut=True):
    """Sends data, half-closes if shut, and reads until the server closes
    (or nreplies netstrings arrived). Returns (replies, rest, closed)."""
    s = server.connect()
    try:
        s.sendall(data)
    except OSError:
        pass
    if shut:
        s.shutdown(socket.SHUT_WR)
    got = b""
    closed = False
    while True:
        if nreplies is not None and len(parse_netstrings(got)[0]) >= nreplies:
            break
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        except OSError:
            closed = True
            break
        if not b:
            closed = True
            break
        got += b
    s.close()
    replies, rest = parse_netstrings(got)
    return replies, rest, closed


# ---- the queue ----

def write_controls(controls):
    for f in os.listdir(CONTROL):
        p = os.path.join(CONTROL, f)
        if os.path.isfile(p):
            os.unlink(p)
    base = {"me": "test.example"}
    base.update(controls)
    for k, v in base.items():
        with open(os.path.join(CONTROL, k), "w") as f:
            f.write(v)


def queued():
    """Every queued message as (message, sender, [recipients])."""
    out = []
    for p in quail.queue_files(ROOT, "todo"):
        with open(p, "rb") as f:
            msg, records, _ = quail.parse_queue_file(f.read())
        sender = [r[1:] for r in records if r[:1] == b"F"]
        rcpts = [r[1:] for r in records if r[:1] == b"T"]
        out.append((msg, sender[0] if sender else None, rcpts))
    return out


def strip_received(msg, proto):
    """The message without qmail-queue's and our Received lines; checks ours."""
    lines = msg.split(b"\n", 1)
    if not lines[0].startswith(b"Received: (qmail "):
        return None
    rest = lines[1]
    import re
    m = re.match(rb"Received: from unknown \(127\.0\.0\.1\)\n  by mx\.test with " + proto + rb"; " + DATE + rb"\n",
                 rest)
    if not m:
        m = re.match(rb"Received: from unknown \(::1\)\n  by mx\.test with " + proto + rb"; " + DATE + rb"\n", rest)
    if not m:
        return None
    return rest[m.end():]


def reset(controls=None):
    quail.clear_whole_queue()
    write_controls(controls or {})


# ---- QMTP ----

def test_qmtp_basic():
    reset()
    srv = Server("qmail-qmtpd")
    try:
        body = b"Subject: hi\n\nhello\r\nworld\n"
        replies, rest, closed = session(srv, qmtp_message(b"\n" + body, b"a@b.example", [b"c@d.example", b"e@f.example"]))
        check_eq(len(replies), 2, "QMTP: one answer per recipient")
        check(all(r.startswith(b"Kok ") and b" qp " in r for r in replies), "QMTP: both answers are Kok ... qp N",
              repr(replies))
        check_eq(rest, b"", "QMTP: nothing but netstrings comes back")
        check(closed, "QMTP: the server closes after the client did")
        q = queued()
        if check_eq(len(q), 1, "QMTP: one message is queued"):
            msg, sender, rcpts = q[0]
            check_eq(strip_received(msg, b"QMTP"), body, "QMTP LF: the body is stored as sent, below the Received line",
                     repr(msg))
            check_eq(sender, b"a@b.example", "QMTP: envelope sender")
            check_eq(rcpts, [b"c@d.example", b"e@f.example"], "QMTP: envelope recipients")

        # CR LF mode: CR LF becomes LF, a lone CR and a last CR stay
        reset()
        replies, _, _ = session(srv, qmtp_message(b"\rSubject: x\r\n\r\na\rb\r\r\nlast\r", b"", [b"c@d.example"]))
        check(replies and replies[0].startswith(b"K"), "QMTP CRLF: accepted", repr(replies))
        q = queued()
        if check_eq(len(q), 1, "QMTP CRLF: one message queued"):
            check_eq(strip_received(q[0][0], b"QMTP"), b"Subject: x\n\na\rb\r\nlast\r", "QMTP CRLF: converted body")
            check_eq(q[0][1], b"", "QMTP: an empty sender is kept")

        # several messages on one connection, sent before any answer is read
        reset()
        data = b"".join(qmtp_message(b"\nSubject: %d\n\n" % i, b"s@x.example", [b"r%d@y.example" % i] * (i + 1))
                        for i in range(3))
        replies, rest, closed = session(srv, data)
        check_eq(len(replies), 6, "QMTP pipelined: 1 + 2 + 3 answers")
        check(all(r.startswith(b"K") for r in replies), "QMTP pipelined: all K")
        q = sorted(queued(), key=lambda m: len(m[2]))
        check_eq([len(m[2]) for m in q], [1, 2, 3], "QMTP pipelined: three messages, each with its recipients")
        check_eq([strip_received(m[0], b"QMTP") for m in q], [b"Subject: %d\n\n" % i for i in range(3)],
                 "QMTP pipelined: each body")

        # an empty recipient list: nothing queued, no answer
        reset()
        replies, rest, closed = session(srv, qmtp_message(b"\nx\n", b"a@b", []))
        check_eq((replies, queued()), ([], []), "QMTP: no recipients: no answer, nothing queued")
    finally:
        srv.stop()


def test_qmtp_rcpthosts():
    reset({"rcpthosts": "test.example\n.sub.example\n", "morercpthosts": "More.Example\n"})
    subprocess.run([os.path.join(BIN, "qmail-newmrh")], check=True, env=BASEENV)
    rcpts = [b"ok@test.example", b"x@evil.example", b"y@a.sub.example", b"z@more.example", b"postmaster",
             b"w@sub.example", b"v@OK.TEST.EXAMPLE", b"u@Test.Example"]
    want = [b"K", RH_TEXT, b"K", b"K", b"K", RH_TEXT, RH_TEXT, b"K"]
    srv = Server("qmail-qmtpd")
    try:
        replies, _, _ = session(srv, qmtp_message(b"\nx\n", b"a@b", rcpts))
        got = [r[:1] if r.startswith(b"K") else r for r in replies]
        check_eq(got, want, "rcpthosts: answers per recipient (exact, .wildcard, morercpthosts.cdb, no @)")
        q = queued()
        check_eq([m[2] for m in q], [[b"ok@test.example", b"y@a.sub.example", b"z@more.example", b"postmaster",
                                      b"u@Test.Example"]], "rcpthosts: only allowed recipients are queued")
        # every recipient refused: nothing queued, every answer D
        reset({"rcpthosts": "test.example\n"})
        replies, _, _ = session(srv, qmtp_message(b"\nx\n", b"a@b", [b"a@evil.example", b"b@evil.example"]))
        check_eq(replies, [RH_TEXT, RH_TEXT], "rcpthosts: all refused")
        check_eq(queued(), [], "rcpthosts: all refused: nothing queued")
    finally:
        srv.stop()

    # RELAYCLIENT: no check, and its value appended
    reset({"rcpthosts": "test.example\n"})
    for value, want_rcpt in ((b"", b"x@evil.example"), (b"@relay.example", b"x@evil.example@relay.example")):
        quail.clear_whole_queue()
        srv = Server("qmail-qmtpd", {"RELAYCLIENT": value.decode()})
        try:
            replies, _, _ = session(srv, qmtp_message(b"\nx\n", b"a@b", [b"x@evil.example"]))
            check(replies and replies[0].startswith(b"K"), "RELAYCLIENT=%r: accepted" % value, repr(replies))
            check_eq([m[2] for m in queued()], [[want_rcpt]], "RELAYCLIENT=%r: recipient in the queue" % value)
        finally:
            srv.stop()


def test_qmtp_limits():
    # databytes: counted after conversion, without the Received line
    reset({"databytes": "10\n"})
    srv = Server("qmail-qmtpd")
    too_big = b"Dsorry, that message size exceeds my databytes limit (#5.3.4)"
    try:
        data = (qmtp_message(b"\n" + b"x" * 11, b"a@b", [b"c@d", b"e@f"])
                + qmtp_message(b"\n" + b"y" * 10, b"a@b", [b"c@d"])
                + qmtp_message(b"\r" + b"abcd\r\n" * 2, b"a@b", [b"c@d"])          # 12 bytes sent, 10 stored
                + qmtp_message(b"\r" + b"abcd\r\n" * 2 + b"\r", b"a@b", [b"c@d"]))  # 11 stored
        replies, _, closed = session(srv, data)
        check_eq([r if r.startswith(b"D") else r[:1] for r in replies], [too_big, too_big, b"K", b"K", too_big],
                 "databytes 10: 11 bytes refused (the session goes on), 10 accepted, CR LF counted as LF")
        check_eq(sorted(strip_received(m[0], b"QMTP") for m in queued()), [b"abcd\nabcd\n", b"y" * 10],
                 "databytes: only the messages within the limit are queued")
    finally:
        srv.stop()
    reset({"databytes": "10\n"})
    srv = Server("qmail-qmtpd", {"DATABYTES": "0"})
    try:
        replies, _, _ = session(srv, qmtp_message(b"\n" + b"x" * 5000, b"a@b", [b"c@d"]))
        check(replies and replies[0].startswith(b"K"), "DATABYTES=0 overrides control/databytes", repr(replies))
    finally:
        srv.stop()

    # address lengths: below 1000 (with RELAYCLIENT) or refused; a NUL refuses
    reset()
    long999 = b"a" * 989 + b"@x.example"
    long1000 = b"a" * 990 + b"@x.example"
    srv = Server("qmail-qmtpd")
    try:
        replies, _, _ = session(srv, qmtp_message(b"\nx\n", b"a@b", [long999, long1000, b"nul\0@x.example", b"ok@x"]))
        check_eq([r[:1] if r.startswith(b"K") else r for r in replies], [b"K", LONG_TEXT, LONG_TEXT, b"K"],
                 "recipients: 999 bytes ok, 1000 bytes or a NUL refused")
        check_eq([m[2] for m in queued()], [[long999, b"ok@x"]], "recipients: the refused ones are not queued")
        reset()
        replies, _, _ = session(srv, qmtp_message(b"\nx\n", b"s" * 1000, [b"a@x", b"b@x"]))
        check_eq(replies, [b"Dunacceptable sender (#5.1.7)"] * 2, "a sender of 1000 bytes refuses the message")
        replies, _, _ = session(srv, qmtp_message(b"\nx\n", b"s\0s", [b"a@x"]))
        check_eq(replies, [b"Dunacceptable sender (#5.1.7)"], "a sender with a NUL refuses the message")
        check_eq(queued(), [], "bad senders: nothing queued")
    finally:
        srv.stop()
    reset()
    srv = Server("qmail-qmtpd", {"RELAYCLIENT": "12345"})
    try:
        replies, _, _ = session(srv, qmtp_message(b"\nx\n", b"a@b", [b"a" * 994, b"a" * 995]))
        check_eq([r[:1] if r.startswith(b"K") else r for r in replies], [b"K", LONG_TEXT],
                 "RELAYCLIENT counts toward the 1000 bytes")
    finally:
        srv.stop()


def test_qmtp_bad_input():
    reset()
    srv = Server("qmail-qmtpd")
    good = qmtp_message(b"\nfirst\n", b"a@b", [b"c@d"])
    msg = qmtp_message(b"\nx\n", b"a@b", [b"c@d"])
    cases = [
        ("not a netstring", b"hello\r\n"),
        ("a huge length", b"99999999999999999999:"),
        ("a length past the limit", b"2000000001:\nx"),
        ("a leading zero", b"05:\nabcd,1:a,4:1:c,,"),
        ("an empty message netstring", b"0:,3:a@b,4:1:c,,"),
        ("a bad first byte", b"5:Xabcd,3:a@b,4:1:c,,"),
        ("a space as first byte", b"5: abcd,3:a@b,4:1:c,,"),
        ("end of file in the body", b"100:\nabc"),
        ("end of file before the sender", ns(b"\nx\n")),
        ("end of file in the sender", ns(b"\nx\n") + b"10:a@b"),
        ("end of file in the recipient list", ns(b"\nx\n") + ns(b"a@b") + b"20:3:c@d,"),
        ("end of file before the last comma", msg[:-1]),
        ("no comma after the body", b"3:\nx\n;3:a@b,4:1:c,,"),
        ("no comma after a recipient", ns(b"\nx\n") + ns(b"a@b") + b"4:1:c;,"),
        ("a recipient running past the list", ns(b"\nx\n") + ns(b"a@b") + b"4:5:cdefg,,"),
        ("a recipient length with a leading zero", ns(b"\nx\n") + ns(b"a@b") + b"5:01:c,,"),
        ("garbage in the recipient list", ns(b"\nx\n") + ns(b"a@b") + b"4:x:c,,"),
        ("a recipient list length that is garbage", ns(b"\nx\n") + ns(b"a@b") + b"x:,"),
        ("a sender length past the limit", ns(b"\nx\n") + b"9999999999:"),
    ]
    try:
        for name, data in cases:
            quail.clear_whole_queue()
            replies, rest, closed = session(srv, good + data)
            check_eq((len(replies), rest), (1, b""), "QMTP %s: the good message before it is answered, nothing more" % name)
            check(closed, "QMTP %s: the connection is closed" % name)
            q = queued()
            check_eq([strip_received(m[0], b"QMTP") for m in q], [b"first\n"],
                     "QMTP %s: only the good message is queued" % name)
    finally:
        srv.stop()


def test_qmtp_timeout():
    reset({"timeoutsmtpd": "1\n"})
    srv = Server("qmail-qmtpd")
    try:
        s = srv.connect()
        s.sendall(b"100:\nabc")
        start = time.time()
        s.settimeout(30)
        got = s.recv(100)
        elapsed = time.time() - start
        s.close()
        check_eq(got, b"", "timeoutsmtpd: a stalled client is disconnected without an answer")
        check(elapsed < 10, "timeoutsmtpd: within about a second", "%.1f s" % elapsed)
        check_eq(queued(), [], "timeoutsmtpd: nothing queued")
    finally:
        srv.stop()


def recorder(top, code, text=None):
    """A QMAILQUEUE program that records message and envelope, then exits code
    (writing text on descriptor 6 first, if given)."""
    p = os.path.join(top, "qq-%d" % code)
    with open(p, "w") as f:
        f.write("#!/bin/sh\ncat > %s/msg.$$ || exit 54\ncat <&1 > %s/env.$$ || exit 54\n" % (top, top))
        if text is not None:
            f.write("printf '%%s' '%s' >&6\n" % text)
        f.write("exit %d\n" % code)
    os.chmod(p, 0o755)
    return p


def recorded(top):
    out = []
    for f in sorted(os.listdir(top)):
        if f.startswith("env."):
            pid = f[4:]
            with open(os.path.join(top, "msg." + pid), "rb") as m, open(os.path.join(top, f), "rb") as e:
                out.append((m.read(), e.read()))
    return out


def test_qmailqueue():
    top = tempfile.mkdtemp(prefix="quail-qmtp-")
    try:
        reset()
        for code, text, want in ((0, None, b"K"), (31, None, b"Dmail server permanently rejected message (#5.3.0)"),
                                 (71, None, b"Zmail server temporarily rejected message (#4.3.0)"),
                                 (82, "Dno thanks (#5.7.1)", b"Dno thanks (#5.7.1)"),
                                 (82, "Zlater (#4.3.0)", b"Zlater (#4.3.0)")):
            for f in os.listdir(top):
                os.unlink(os.path.join(top, f))
            prog = recorder(top, code, text)
            for server, data, proto in (("qmail-qmtpd", qmtp_message(b"\r\nbody\r\n", b"a@b", [b"c@d", b"e@f"]), b"QMTP"),
                                        ("qmail-qmqpd", qmqp_packet(b"\nbody\r\n", b"a@b", [b"c@d", b"e@f"]), b"QMQP")):
                for f in os.listdir(top):
                    if not f.startswith("qq-"):
                        os.unlink(os.path.join(top, f))
                srv = Server(server, {"QMAILQUEUE": prog})
                try:
                    replies, _, _ = session(srv, data)
                finally:
                    srv.stop()
                n = 2 if server == "qmail-qmtpd" else 1
                got = [r[:1] if r.startswith(b"K") else r for r in replies]
                check_eq(got, [want] * n, "%s QMAILQUEUE exit %d: answer" % (server, code))
                rec = recorded(top)
                if check_eq(len(rec), 1, "%s QMAILQUEUE exit %d: the program ran once" % (server, code)):
                    check_eq(strip_received(b"Received: (qmail 1 invoked by alias); x\n" + rec[0][0], proto),
                             b"\nbody\n" if proto == b"QMTP" else b"\nbody\r\n",
                             "%s QMAILQUEUE: it got the Received line and the body" % server)
                    check_eq(rec[0][1], b"Fa@b\0Tc@d\0Te@f\0\0", "%s QMAILQUEUE: it got the envelope" % server)
        check_eq(queued(), [], "QMAILQUEUE: nothing reached the real queue")
    finally:
        shutil.rmtree(top, ignore_errors=True)


# ---- QMQP ----

def test_qmqpd():
    reset({"rcpthosts": "test.example\n"})
    srv = Server("qmail-qmqpd")
    try:
        message = b"Subject: q\r\n\r\nbody\r\n"
        replies, rest, closed = session(srv, qmqp_packet(message, b"a@b.example", [b"c@evil.example", b"d@test.example"]))
        check(len(replies) == 1 and replies[0].startswith(b"Kok ") and b" qp " in replies[0],
              "QMQP: one answer, Kok ... qp N", repr(replies))
        check(closed and rest == b"", "QMQP: then the connection ends")
        q = queued()
        if check_eq(len(q), 1, "QMQP: one message queued"):
            check_eq(strip_received(q[0][0], b"QMQP"), message, "QMQP: the message as sent (no conversion), "
                     "below a Received line with QMQP", repr(q[0][0][:200]))
            check_eq((q[0][1], q[0][2]), (b"a@b.example", [b"c@evil.example", b"d@test.example"]),
                     "QMQP: the envelope, rcpthosts not consulted")

        reset()
        bad = b"Dsorry, I can't accept addresses like that (#5.1.3)"
        for name, pkt in (("a recipient of 1000 bytes", qmqp_packet(b"m", b"a@b", [b"c@d", b"x" * 1000])),
                          ("a sender of 1000 bytes", qmqp_packet(b"m", b"x" * 1000, [b"c@d"])),
                          ("a NUL in a recipient", qmqp_packet(b"m", b"a@b", [b"c\0d"]))):
            replies, _, _ = session(srv, pkt)
            check_eq(replies, [bad], "QMQP %s: refused" % name)
        replies, _, _ = session(srv, qmqp_packet(b"m", b"a@b", [b"x" * 999]))
        check(replies and replies[0].startswith(b"K"), "QMQP: a recipient of 999 bytes is accepted", repr(replies))
        check_eq([m[2] for m in queued()], [[b"x" * 999]], "QMQP: only the good message is queued")

        body = ns(b"m") + ns(b"a@b") + ns(b"c@d")
        cases = [
            ("not a netstring", b"hello"),
            ("a huge length", b"99999999999999999999:"),
            ("an inner netstring running past the packet", ns(b"5:abc,")),
            ("the message running past the packet", b"10:" + b"100:" + b"xxxxx,"),
            ("end of file in the message", b"100:50:abc"),
            ("end of file before the final comma", ns(body)[:-1]),
            ("no final comma", ns(body)[:-1] + b";"),
            ("garbage between fields", ns(ns(b"m") + b"x" + ns(b"a@b"))),
            ("no comma after the message", ns(b"1:m;3:a@b,")),
            ("a leading zero", ns(b"01:m,3:a@b,")),
            ("a packet without a sender", ns(ns(b"m"))),
        ]
        for name, pkt in cases:
            quail.clear_whole_queue()
            replies, rest, closed = session(srv, pkt)
            check_eq((replies, rest, closed), ([], b"", True), "QMQP %s: closed without an answer" % name)
            check_eq(queued(), [], "QMQP %s: nothing queued" % name)
    finally:
        srv.stop()


class FakeQMQP:
    """A QMQP server in a thread: records the packet, answers reply (or
    closes, or stays silent)."""

    def __init__(self, reply, family=socket.AF_INET, host="127.0.0.1"):
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.reply = reply
        self.packets = []
        self.closing = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        # accept in short steps, so that close() of a server nobody
        # connected to need not wait for the whole 30 s (or join's 10)
        self.sock.settimeout(0.05)
        deadline = time.time() + 30
        while True:
            try:
                c, _ = self.sock.accept()
                break
            except socket.timeout:
                if self.closing or time.time() > deadline:
                    return
            except OSError:
                return
        c.settimeout(10)
        data = b""
        try:
            while True:
                got, rest = parse_netstrings(data)
                if got:
                    break
                b = c.recv(65536)
                if not b:
                    break
                data += b
        except OSError:
            pass
        self.packets.append(data)
        if self.reply == "silent":
            # silent until the test is done with it (at most 5 s)
            quail.wait_for(lambda: self.closing, 5)
        elif self.reply is not None:
            c.sendall(self.reply)
        c.close()

    def close(self):
        self.closing = True
        self.thread.join(10)
        self.sock.close()


def qmqpc(message, envelope, args=(), timeout=30):
    """Runs qmail-qmqpc as qmail-queue is run; returns its exit code."""
    with tempfile.TemporaryFile() as m, tempfile.TemporaryFile() as e:
        m.write(message)
        m.seek(0)
        e.write(envelope)
        e.seek(0)
        p = subprocess.run([os.path.join(BIN, "qmail-qmqpc")] + list(args), stdin=m, stdout=e,
                           stderr=subprocess.PIPE, env=BASEENV, timeout=timeout)
        return p.returncode


def test_qmqpc_wire():
    reset()
    msg = b"Subject: x\n\nhello\n"
    env = b"Fa@b.example\0Tc@d.example\0Te@f.example\0\0"
    for reply, want in ((b"5:Kok 1,", 0), (b"3:Zno,", 71), (b"3:Dno,", 31), (b"1:X,", 74), (b"garbage", 74),
                        (b"0:,", 74), (None, 74)):
        srv = FakeQMQP(reply)
        write_controls({"qmqpservers": "127.0.0.1:%d\n" % srv.port})
        rc = qmqpc(msg, env)
        srv.close()
        check_eq(rc, want, "qmqpc: answer %r exits %d" % (reply, want))
    check_eq(srv.packets[0], qmqp_packet(msg, b"a@b.example", [b"c@d.example", b"e@f.example"]),
             "qmqpc: the QMQP packet, byte for byte")

    # timeoutremote: a server that never answers
    srv = FakeQMQP("silent")
    write_controls({"qmqpservers": "127.0.0.1:%d\n" % srv.port, "timeoutremote": "1\n"})
    start = time.time()
    rc = qmqpc(msg, env)
    check_eq(rc, 74, "qmqpc: a silent server times out (74)")
    check(time.time() - start < 4.5, "qmqpc: after timeoutremote seconds")
    srv.close()

    # IPv6
    try:
        srv = FakeQMQP(b"2:Ky,", socket.AF_INET6, "::1")
    except OSError as e:
        quail.skip("qmqpc IPv6", str(e))
    else:
        write_controls({"qmqpservers": "# comment\n\n[::1]:%d\n" % srv.port})
        check_eq(qmqpc(msg, env), 0, "qmqpc: an IPv6 server with a port")
        srv.close()


def test_qmqpc_errors():
    msg = b"m\n"
    env = b"Fa@b\0Tc@d\0\0"
    closed_port = free_port()
    reset()
    check_eq(qmqpc(msg, env), 55, "qmqpc: no qmqpservers: 55")
    write_controls({"qmqpservers": ""})
    check_eq(qmqpc(msg, env), 55, "qmqpc: an empty qmqpservers: 55")
    write_controls({"qmqpservers": "not.an.address\n"})
    check_eq(qmqpc(msg, env), 55, "qmqpc: only unusable lines: 55")
    write_controls({"qmqpservers": "127.0.0.1:%d\n" % closed_port})
    check_eq(qmqpc(msg, env), 73, "qmqpc: connection refused: 73")
    write_controls({"qmqpservers": "127.0.0.1:%d\n" % closed_port, "timeoutconnect": "x\n"})
    check_eq(qmqpc(msg, env), 55, "qmqpc: a garbage timeoutconnect: 55")
    write_controls({"qmqpservers": "127.0.0.1:%d\n" % closed_port})
    check_eq(qmqpc(msg, b"Fa@b\0Tc@d\0"), 54, "qmqpc: end of file before the final NUL: 54")
    check_eq(qmqpc(msg, b"Xa@b\0\0"), 91, "qmqpc: a bad envelope: 91")
    check_eq(qmqpc(msg, b"Fa@b\0T" + b"x" * 1001 + b"\0\0"), 11, "qmqpc: an address over 1000 bytes: 11")
    check_eq(qmqpc(msg, b""), 54, "qmqpc: an empty envelope: 54")

    # failover: refused servers are skipped, the first that answers decides
    srv = FakeQMQP(b"3:Dno,")
    srv2 = FakeQMQP(b"2:Ky,")
    write_controls({"qmqpservers": "garbage\n127.0.0.1:%d\n127.0.0.1:%d\n127.0.0.1:%d\n" % (closed_port, srv.port,
                                                                                        srv2.port)})
    check_eq(qmqpc(msg, env), 31, "qmqpc: skips refused servers; the first answer (D) is final")
    check_eq(len(srv2.packets), 0, "qmqpc: the server after an answer is not tried")
    srv.close()
    srv2.close()
    # arguments replace control/qmqpservers
    srv = FakeQMQP(b"2:Ky,")
    write_controls({"qmqpservers": "127.0.0.1:%d\n" % closed_port})
    check_eq(qmqpc(msg, env, ["127.0.0.1:%d" % closed_port, "127.0.0.1:%d" % srv.port]), 0,
             "qmqpc: servers given as arguments (ezmlm's qmail-qmqpc)")
    srv.close()
    reset()
    srv = FakeQMQP(b"2:Ky,")
    check_eq(qmqpc(msg, env, ["127.0.0.1:%d" % srv.port]), 0, "qmqpc: arguments need no qmqpservers file")
    srv.close()


def test_qmqpc_to_qmqpd():
    """Our client against our server under tcpserver: the message reaches
    the queue, also over IPv6."""
    for host in ("127.0.0.1", "::1"):
        reset()
        try:
            srv = Server("qmail-qmqpd", host=host)
        except (RuntimeError, OSError) as e:
            quail.skip("qmqpc to qmqpd on %s" % host, str(e))
            continue
        try:
            addr = ("[%s]:%d" if ":" in host else "%s:%d") % (host, srv.port)
            write_controls({"qmqpservers": addr + "\n"})
            msg = b"Subject: mini\r\n\r\nvia QMQP\n"
            rc = qmqpc(msg, b"Fme@here.example\0Tyou@there.example\0Tthem@x.example\0\0")
            check_eq(rc, 0, "qmqpc -> qmqpd on %s: exit 0" % host)
            q = queued()
            if check_eq(len(q), 1, "qmqpc -> qmqpd on %s: one message queued" % host):
                check_eq(strip_received(q[0][0], b"QMQP"), msg, "qmqpc -> qmqpd on %s: the message intact" % host)
                check_eq((q[0][1], q[0][2]), (b"me@here.example", [b"you@there.example", b"them@x.example"]),
                         "qmqpc -> qmqpd on %s: the envelope intact" % host)
            # a refusal travels back as the exit code
            rc = qmqpc(b"m", b"Fa@b\0T" + b"x" * 1000 + b"\0\0")
            check_eq(rc, 31, "qmqpc -> qmqpd on %s: qmqpd's D is exit 31" % host)
        finally:
            srv.stop()


def main():
    if not TCPSERVER:
        quail.skip("qmtp_test", "tcpserver is not installed")
        quail.done()
    saved = {f: open(os.path.join(CONTROL, f), "rb").read() for f in os.listdir(CONTROL)
             if os.path.isfile(os.path.join(CONTROL, f))}
    try:
        test_qmtp_basic()
        test_qmtp_rcpthosts()
        test_qmtp_limits()
        test_qmtp_bad_input()
        test_qmtp_timeout()
        test_qmailqueue()
        test_qmqpd()
        test_qmqpc_wire()
        test_qmqpc_errors()
        test_qmqpc_to_qmqpd()
    finally:
        quail.clear_whole_queue()
        for f in os.listdir(CONTROL):
            p = os.path.join(CONTROL, f)
            if os.path.isfile(p):
                os.unlink(p)
        for f, data in saved.items():
            with open(os.path.join(CONTROL, f), "wb") as out:
                out.write(data)
    quail.done()


main()
