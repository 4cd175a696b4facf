"""qmail-remote, end to end: the real program run directly against a
scriptable SMTP sink on 127.0.0.1 (and ::1) behind control/smtproutes,
and once through the queue (qmail-send, qmail-rspawn, qmail-remote).

For every case it checks the per-recipient r/h/s reports, the final
K/Z/D, that K is never reported unless the sink answered 2xx after the
final dot, time bounds (lower bounds, plus a generous upper bound that
proves there is no hang), and for the framing cases exactly what the
sink received, byte for byte.

Outcomes are judged as qmail-rspawn judges them (Result.outcome): an h is
permanent and an s temporary whatever the message-level letter says
(qmail's "DGiving up" after every recipient was refused), an r takes the
message's letter. Report texts are qmail's (lines ending in '\n', which
qmail-send turns into '/'); only their content and bound are checked.

Not tested here: DNS (MX and A/AAAA lookups; lib/dns has unit tests with
recorded answers), and the "I'm the best MX" check of an MX lookup, which
needs DNS (smtproutes relays skip it, as in qmail). Skipped as a whole
when the instance has no bin/qmail-remote.
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import quail  # noqa: E402
from quail import check, check_eq, ROOT, BIN, wait_for  # noqa: E402

CONTROL = os.path.join(ROOT, "control")
REMOTE = os.path.join(BIN, "qmail-remote")
BASEENV = {"PATH": "/usr/bin:/bin", "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
           "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "")}
ME = "test.example"
SENDER = "bob@test.example"
# Upper bound on one run of qmail-remote: far above every timeout set
# here (2-3 s), so only a hang exceeds it, even on a loaded machine.
HANG = 90
MAXTEXT = 65536 + 1024  # qmail-rspawn keeps 64 KiB of a report


# ---- the sink ----

def positive(reply):
    """True if reply (lines without their final line end) is a complete,
    well-formed 2xx reply."""
    if isinstance(reply, str):
        reply = reply.encode("utf-8")
    return bool(re.fullmatch(rb"(2\d\d-[^\r\n]*\r?\n)*2\d\d( [^\r\n]*)?", reply))


class Conn:
    """One connection to the sink and what happened on it."""

    def __init__(self, sink, sock):
        self.sink = sink
        self.sock = sock
        self.raw = bytearray()       # every byte received, in order
        self.buf = b""               # received, not yet consumed
        self.events = []             # ("c", command line) / ("s", reply) in order
        self.messages = []           # DATA contents as received, without the final ".\r\n"
        self.accepted = 0            # 2xx replies sent after a final dot
        self.eof = False

    def recv(self):
        """Reads more into buf; False at EOF, reset or stop."""
        if self.eof:
            return False
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            raise
        except OSError:
            d = b""
        if not d:
            self.eof = True
            return False
        self.raw += d
        self.buf += d
        return True

    def readline(self):
        """A command line up to LF (None at EOF), with its line end."""
        while b"\n" not in self.buf:
            if not self.recv():
                return None
        i = self.buf.index(b"\n") + 1
        line, self.buf = self.buf[:i], self.buf[i:]
        self.events.append(("c", line))
        return line

    def input_within(self, seconds):
        """True if a complete line arrives (or is already here) within
        seconds; used to see whether the client pipelines."""
        if b"\n" in self.buf:
            return True
        self.sock.settimeout(seconds)
        try:
            while b"\n" not in self.buf:
                if not self.recv():
                    return False
            return True
        except socket.timeout:
            return False
        finally:
            self.sock.settimeout(None)

    def send(self, data):
        self.events.append(("s", data))
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def reply(self, text):
        eol = self.sink.opt["eol"]
        if isinstance(text, str):
            text = text.encode()
        return self.send(text.replace(b"\r\n", b"\n").replace(b"\n", eol) + eol)

    def read_data(self, drop_after=None):
        """DATA content up to CRLF.CRLF (the strict end, RFC 5321 4.1.1.4),
        without it; or None if the client went away, or once drop_after
        bytes arrived (then the sink drops the connection)."""
        data = bytearray(b"\r\n")
        data += self.buf
        self.buf = b""
        start = 0
        while True:
            i = data.find(b"\r\n.\r\n", start)
            if i != -1:
                self.buf = bytes(data[i + 5:])
                return bytes(data[2:i + 2])
            start = max(0, len(data) - 4)
            if drop_after is not None and len(data) - 2 >= drop_after:
                self.events.append(("drop", len(data) - 2))
                self.abort()
                return None
            if not self.recv():
                self.events.append(("eof-in-data", bytes(data[2:])))
                return None
            data += self.buf
            self.buf = b""

    def drain(self):
        """Says nothing; reads until the client closes (or the sink stops)."""
        while self.recv():
            pass

    def abort(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.eof = True

    def commands(self, verb):
        return [l for k, l in self.events if k == "c" and l[:len(verb)].upper() == verb]


DEFAULTS = dict(
    greeting=b"220 sink.example ESMTP sink\r\n",  # raw bytes; None: never say anything
    ehlo=True,                                  # False: 502 to EHLO
    name="sink.example",
    ext=("PIPELINING", "8BITMIME", "SIZE 50000000", "SMTPUTF8", "ENHANCEDSTATUSCODES"),
    mail=lambda arg: "250 2.1.0 sender ok",
    rcpt=lambda addr: "250 2.1.5 recipient ok",
    data="354 go ahead",
    final="250 2.0.0 ok: queued as 4711",       # None: never answer after the dot
    drop_data=None,                             # drop after this many DATA bytes
    drop_after_dot=False,                       # close without answering the dot
    eol=b"\r\n",
    hold_mail=None,                             # seconds to wait for RCPT before answering MAIL
    custom=None,                                # fn(conn): a whole dialogue of its own
)


class Sink:
    """An SMTP server for tests on host at a free port, one thread per
    connection, each recorded. Stopped by stop(): every thread joined."""

    def __init__(self, host="127.0.0.1", **opt):
        self.opt = dict(DEFAULTS)
        for k in opt:
            if k not in DEFAULTS:
                raise TypeError("unknown sink option " + k)
        self.opt.update(opt)
        self.host = host
        self.family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.lsock = socket.socket(self.family, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((host, 0))
        self.lsock.listen(16)
        self.lsock.settimeout(0.2)
        self.port = self.lsock.getsockname()[1]
        self.conns = []
        self.threads = []
        self.errors = []
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    def _accept(self):
        while not self.stopping.is_set():
            try:
                s, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            s.settimeout(None)
            c = Conn(self, s)
            t = threading.Thread(target=self._serve, args=(c,), daemon=True)
            with self.lock:
                self.conns.append(c)
                self.threads.append(t)
            t.start()

    def _serve(self, c):
        try:
            if self.opt["custom"]:
                self.opt["custom"](c)
            else:
                self.dialogue(c)
        except Exception as e:  # reported by stop()
            self.errors.append(repr(e))
        finally:
            try:
                c.sock.close()
            except OSError:
                pass

    def dialogue(self, c):
        """A plain ESMTP server, scripted by the options; it keeps the
        transaction's state as a real one does (RCPT needs MAIL, DATA needs
        an accepted RCPT)."""
        o = self.opt
        if o["greeting"] is None:
            c.drain()
            return
        c.send(o["greeting"])
        mail_ok, rcpts_ok = False, 0
        while True:
            line = c.readline()
            if line is None:
                return
            verb = line[:4].upper()
            arg = line[5:].rstrip(b"\r\n") if len(line) > 5 else b""
            if verb == b"EHLO":
                mail_ok, rcpts_ok = False, 0
                if not o["ehlo"]:
                    c.reply("502 5.5.1 EHLO not implemented")
                else:
                    lines = [o["name"]] + list(o["ext"])
                    c.reply("\r\n".join("250%s%s" % ("-" if i < len(lines) - 1 else " ", l)
                                        for i, l in enumerate(lines)))
            elif verb == b"HELO":
                mail_ok, rcpts_ok = False, 0
                c.reply("250 " + o["name"])
            elif verb == b"MAIL":
                if o["hold_mail"]:
                    c.events.append(("pipelined", c.input_within(o["hold_mail"])))
                r = o["mail"](arg)
                mail_ok = positive(r)
                c.reply(r)
            elif verb == b"RCPT":
                if not mail_ok:
                    c.reply("503 5.5.1 MAIL first")
                    continue
                m = re.match(rb"TO:\s*<([^>]*)>", arg, re.I)
                r = o["rcpt"](m.group(1).decode("utf-8", "replace") if m else "")
                rcpts_ok += positive(r)
                c.reply(r)
            elif verb == b"DATA":
                if not rcpts_ok:
                    c.reply("554 5.5.1 no valid recipients")
                    continue
                r = o["data"]
                c.reply(r)
                if not r.startswith("354"):
                    continue
                mail_ok, rcpts_ok = False, 0
                body = c.read_data(o["drop_data"])
                if body is None:
                    return
                c.messages.append(body)
                if o["drop_after_dot"]:
                    c.abort()
                    return
                f = o["final"]
                if f is None:
                    c.drain()
                    return
                if callable(f):
                    f = f(body)
                if positive(f):
                    c.accepted += 1  # before sending: the client may act on it at once
                c.reply(f)
            elif verb in (b"RSET", b"NOOP"):
                if verb == b"RSET":
                    mail_ok, rcpts_ok = False, 0
                c.reply("250 2.0.0 ok")
            elif verb == b"QUIT":
                c.reply("221 2.0.0 bye")
                return
            else:
                c.reply("502 5.5.2 unrecognized command")

    def stop(self):
        self.stopping.set()
        self.acceptor.join(10)
        self.lsock.close()
        with self.lock:
            conns, threads = list(self.conns), list(self.threads)
        for c in conns:
            c.abort()
        for t in threads:
            t.join(10)
        alive = [t for t in threads if t.is_alive()] + ([self.acceptor] if self.acceptor.is_alive() else [])
        if alive or self.errors:
            check(False, "the sink stopped cleanly", "alive %r errors %r" % (alive, self.errors))

    # what the sink saw, over all connections
    def messages(self):
        return [m for c in self.conns for m in c.messages]

    def accepted(self):
        return sum(c.accepted for c in self.conns)

    def commands(self, verb):
        return [l for c in self.conns for l in c.commands(verb)]

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.stop()


# ---- running qmail-remote ----

def write_controls(**kw):
    """control/ holds exactly me plus the given files (None: absent)."""
    for f in os.listdir(CONTROL):
        os.unlink(os.path.join(CONTROL, f))
    base = {"me": ME}
    base.update(kw)
    for k, v in base.items():
        if v is not None:
            with open(os.path.join(CONTROL, k), "w") as f:
                f.write(v if v.endswith("\n") or not v else v + "\n")


def route(sink, domain="remote.example", **kw):
    """Routes domain to sink with smtproutes; timeouts low by default."""
    host = sink.host if sink.family == socket.AF_INET else "[IPv6:%s]" % sink.host
    kw.setdefault("timeoutconnect", "3")
    kw.setdefault("timeoutremote", "3")
    write_controls(smtproutes="%s:%s:%d" % (domain, host, sink.port), **kw)


class Result:
    def __init__(self, rc, out, err, elapsed):
        self.rc, self.out, self.err, self.elapsed = rc, out, err, elapsed
        self.rcpts = []     # [(letter, text)]
        self.final = None   # (letter, text)
        self.ok = out.endswith(b"\0")
        parts = out[:-1].split(b"\0") if self.ok else [out]
        for p in parts[:-1]:
            self.rcpts.append((p[:1].decode("latin-1"), p[1:]))
        if parts and parts[-1][:1] in (b"K", b"Z", b"D"):
            self.final = (parts[-1][:1].decode(), parts[-1][1:])
        else:
            self.ok = False

    @property
    def letters(self):
        return "".join(l for l, _ in self.rcpts) + "/" + (self.final[0] if self.final else "?")

    def outcome(self, n):
        """What qmail-rspawn makes of the report for each of n recipients:
        K delivered, Z temporary, D permanent (an r takes the message's
        letter, s is Z, h is D; without per-recipient reports, the
        message's letter is every recipient's)."""
        f = self.kzd
        if not self.rcpts:
            return f * n
        return "".join({"r": f, "s": "Z", "h": "D"}.get(l, "?") for l, _ in self.rcpts)

    @property
    def kzd(self):
        return self.final[0] if self.final else "?"

    @property
    def text(self):
        return self.final[1] if self.final else b""

    def __repr__(self):
        return "rc=%r %.1fs out=%r err=%r" % (self.rc, self.elapsed, self.out[:600], self.err[:600])


def run_remote(host, rcpts, message, sender=SENDER, sink=None, name="", args=None):
    """Runs qmail-remote with message in a temporary (seekable) file on fd 0;
    checks what holds for every run: exit 0, nothing on fd 2, one well-formed
    report, and no K unless the sink answered 2xx after a final dot."""
    with tempfile.TemporaryFile() as m:
        m.write(message)
        m.seek(0)
        t0 = time.monotonic()
        argv = [REMOTE] + (args if args is not None else [host, sender] + list(rcpts))
        try:
            p = subprocess.run(argv, stdin=m, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BASEENV,
                               cwd="/", timeout=HANG)
            r = Result(p.returncode, p.stdout, p.stderr, time.monotonic() - t0)
        except subprocess.TimeoutExpired as e:
            r = Result(None, e.stdout or b"", e.stderr or b"", time.monotonic() - t0)
    pre = (name + ": ") if name else ""
    check(r.rc == 0 and r.err == b"", pre + "exits 0 with nothing on fd 2 (within %d s)" % HANG, repr(r))
    check(r.ok, pre + "the report is NUL-terminated entries ending in K, Z or D", repr(r))
    if args is None:
        check(len(r.rcpts) in (0, len(rcpts)) and all(l in "rhs" for l, _ in r.rcpts),
              pre + "one r/h/s report per recipient (or none, with Z/D)", repr(r))
        if r.kzd == "K":
            check(len(r.rcpts) == len(rcpts) and "r" in r.letters, pre + "K comes with an r for a recipient",
                  repr(r))
    check(len(r.out) <= MAXTEXT * max(1, len(rcpts) + 1) and all(len(t) <= MAXTEXT for _, t in r.rcpts)
          and len(r.text) <= MAXTEXT, pre + "every report text is bounded (64 KiB)", "%d bytes" % len(r.out))
    if sink is not None and "K" in r.outcome(len(rcpts)):
        check(sink.accepted() > 0, pre + "K only when the sink answered 2xx after the final dot", repr(r))
    return r


def frame(message):
    """What must go out after DATA: CR, LF and CRLF are each one line end,
    every line ends CRLF, a '.' at the start of a line is doubled, and the
    content ends with CRLF (a partial final line gets one). Returns the
    DATA content as the sink keeps it (without the final ".\r\n")."""
    lines = re.split(rb"\r\n|\r|\n", message)
    if lines[-1] == b"":
        lines.pop()
    return b"".join((b"." if l[:1] == b"." else b"") + l + b"\r\n" for l in lines)


def check_bytes(got, want, name):
    """check_eq for long byte strings: says where they first differ."""
    if got == want:
        return check(True, name)
    if got is None:
        return check(False, name, "got nothing, want %d bytes" % len(want))
    i = next((k for k in range(min(len(got), len(want))) if got[k] != want[k]), min(len(got), len(want)))
    return check(False, name, "%d bytes, want %d; first difference at %d: got %r, want %r"
                 % (len(got), len(want), i, got[max(0, i - 40):i + 40], want[max(0, i - 40):i + 40]))


MSG = b"From: bob@test.example\nTo: carol@remote.example\nSubject: hello\n\nHello there.\n"


def simple_case(name, sink_opt, rcpts=("carol@remote.example",), message=MSG, want=None, sender=SENDER,
                host="remote.example", sink_host="127.0.0.1", controls=None):
    """One run against a fresh sink; returns (sink, result) after the sink
    stopped. want: the outcome per recipient (Result.outcome), e.g. "KDZ"."""
    with Sink(sink_host, **sink_opt) as sink:
        route(sink, **(controls or {}))
        r = run_remote(host, list(rcpts), message, sender=sender, sink=sink, name=name)
    if want is not None:
        check_eq(r.outcome(len(rcpts)), want, name + ": " + describe(want), repr(r))
    return sink, r


def simple_cases(cases, controls=None, done=None):
    """Several simple_case runs at once, for cases that wait for a timeout
    (which then wait together): each against a sink of its own, routed by
    a host of its own (caseN.remote.example) in one smtproutes. cases:
    (name, sink_opt, want). done: a threading.Event set once every run of
    qmail-remote is over (before the sinks stop). Returns [(sink, result)]
    in order, after the sinks stopped."""
    sinks = []
    results = []
    try:
        for _, opt, _ in cases:
            sinks.append(Sink("127.0.0.1", **opt))
        c = {"timeoutconnect": "3", "timeoutremote": "3"}
        c.update(controls or {})
        write_controls(smtproutes="".join("case%d.remote.example:%s:%d\n" % (i, k.host, k.port)
                                          for i, k in enumerate(sinks)), **c)
        results = quail.parallel(*[(lambda i=i, name=case[0]: run_remote("case%d.remote.example" % i,
                                                                         ["carol@remote.example"], MSG,
                                                                         sink=sinks[i], name=name))
                                   for i, case in enumerate(cases)])
    finally:
        if done is not None:
            done.set()
        for k in sinks:
            k.stop()
    for (name, _, want), r in zip(cases, results):
        if want is not None:
            check_eq(r.outcome(1), want, name + ": " + describe(want), repr(r))
    return list(zip(sinks, results))


def describe(outcome):
    words = {"K": "delivered", "Z": "temporary failure", "D": "permanent failure"}
    return ", ".join(words.get(c, c) for c in outcome)


# ---- cases ----

def test_normal():
    sink, r = simple_case("normal delivery", {}, want="K")
    check_eq(sink.messages(), [frame(MSG)], "the sink got the message, LF turned into CRLF", repr(r))
    check_eq(len(sink.conns), 1, "one connection")
    ehlo = sink.commands(b"EHLO")
    check_eq(ehlo, [b"EHLO test.example\r\n"], "EHLO names control/me (no helohost)")
    mail = sink.commands(b"MAIL")
    check(len(mail) == 1 and mail[0].startswith(b"MAIL FROM:<bob@test.example>") and mail[0].endswith(b"\r\n"),
          "MAIL FROM:<sender>", repr(mail))
    check_eq(sink.commands(b"RCPT"), [b"RCPT TO:<carol@remote.example>\r\n"], "RCPT TO:<recipient>")
    check_eq(sink.commands(b"DATA"), [b"DATA\r\n"], "one DATA")
    check_eq(sink.commands(b"QUIT"), [b"QUIT\r\n"], "QUIT at the end")
    check(b"127.0.0.1" in r.text and b"250 2.0.0 ok: queued as 4711" in r.text,
          "the K text names the host's address and carries its reply, enhanced code included", repr(r))
    m = re.search(rb" SIZE=(\d+)", mail[0] if mail else b"")
    if m:
        check(int(m.group(1)) >= len(frame(MSG)) - 100, "SIZE= in MAIL is about the message's size",
              repr(mail))


def test_helohost_and_sender():
    sink, r = simple_case("helohost", {}, want="K", sender="",
                          controls={"helohost": "helo.test.example"})
    check_eq(sink.commands(b"EHLO"), [b"EHLO helo.test.example\r\n"], "EHLO uses control/helohost")
    mail = sink.commands(b"MAIL")
    check(len(mail) == 1 and mail[0].startswith(b"MAIL FROM:<>"), "the empty sender is MAIL FROM:<>", repr(mail))


def test_helo_fallback():
    sink, r = simple_case("HELO fallback", {"ehlo": False}, want="K")
    check_eq(sink.commands(b"EHLO"), [b"EHLO test.example\r\n"], "EHLO first")
    check_eq(sink.commands(b"HELO"), [b"HELO test.example\r\n"], "then HELO when EHLO is refused")
    check_eq(sink.messages(), [frame(MSG)], "the message arrives")
    mail = sink.commands(b"MAIL")
    check(len(mail) == 1 and mail[0] == b"MAIL FROM:<bob@test.example>\r\n",
          "no ESMTP parameters in MAIL after HELO", repr(mail))


def test_some_refused():
    refuse = {"hard@remote.example": "550 5.1.1 no such user here",
              "soft@remote.example": "450 4.2.1 mailbox busy, try later"}
    opt = {"rcpt": lambda a: refuse.get(a, "250 2.1.5 ok")}
    rcpts = ["a@remote.example", "hard@remote.example", "soft@remote.example", "b@remote.example"]
    for pipe in (True, False):
        o = dict(opt)
        if not pipe:
            o["ext"] = ("8BITMIME",)
        name = "some recipients refused" + (" (PIPELINING)" if pipe else " (no PIPELINING)")
        sink, r = simple_case(name, o, rcpts=rcpts, want="KDZK")
        check_eq(sink.messages(), [frame(MSG)], name + ": the message is sent once, for the accepted ones")
        check_eq([l for l in sink.commands(b"RCPT")], [b"RCPT TO:<%s>\r\n" % a.encode() for a in rcpts],
                 name + ": RCPT for each recipient, in order")
        if len(r.rcpts) == 4:
            check(b"550 5.1.1 no such user here" in r.rcpts[1][1], name + ": the h text has the 550 reply",
                  repr(r.rcpts[1]))
            check(b"450 4.2.1" in r.rcpts[2][1], name + ": the s text has the 450 reply", repr(r.rcpts[2]))
    sink, r = simple_case("every recipient refused permanently",
                          {"rcpt": lambda a: "550 5.1.1 unknown"}, rcpts=["x@remote.example", "y@remote.example"],
                          want="DD")
    check_eq(sink.commands(b"DATA"), [], "no DATA when no recipient was accepted")
    sink, r = simple_case("one refused permanently, one temporarily",
                          {"rcpt": lambda a: "550 5.1.1 unknown" if a[0] == "x" else "451 4.3.0 later"},
                          rcpts=["x@remote.example", "y@remote.example"])
    check_eq(r.outcome(2), "DZ", "one refused permanently, one temporarily: permanent, temporary", repr(r))
    check_eq(sink.commands(b"DATA"), [], "and no DATA")


def test_reply_bytes():
    nasty = "550 5.1.1 bad\x00user\x1b[31m\x07 \xff end"
    sink, r = simple_case("a refusal holding NUL, ESC and BEL", {"rcpt": lambda a: nasty}, want="D")
    texts = b"".join(t for _, t in r.rcpts) + r.text
    check(b"550 5.1.1 bad" in texts and b" end" in texts, "the text of the refusal is kept", repr(r))
    check(not re.search(rb"[\x00-\x08\x0b-\x1f\x7f]", texts),
          "no control byte of the reply reaches the report (NUL would cut it)", repr(r))


def test_pipelining():
    rcpts = ["a@remote.example", "b@remote.example"]
    sink, r = simple_case("PIPELINING offered", {"hold_mail": 10}, rcpts=rcpts, want="KK")
    ev = [e for c in sink.conns for e in c.events if e[0] == "pipelined"]
    check_eq(ev, [("pipelined", True)], "PIPELINING: RCPT is sent without waiting for the MAIL reply")
    order = [e[1][:4] for c in sink.conns for e in c.events if e[0] == "c"]
    check_eq(order, [b"EHLO", b"MAIL", b"RCPT", b"RCPT", b"DATA", b"QUIT"], "commands in order")
    check_eq(sink.messages(), [frame(MSG)], "the message arrives")
    # without PIPELINING, the client must wait for each reply: the sink
    # holds MAIL's reply for a while and nothing may arrive meanwhile
    sink, r = simple_case("PIPELINING not offered", {"hold_mail": 1.5, "ext": ("8BITMIME", "SIZE 1000000")},
                          rcpts=rcpts, want="KK")
    ev = [e for c in sink.conns for e in c.events if e[0] == "pipelined"]
    check_eq(ev, [("pipelined", False)], "no PIPELINING: nothing is sent before the MAIL reply")
    # pipelined, with MAIL refused: no recipient can be accepted
    sink, r = simple_case("PIPELINING, MAIL refused permanently",
                          {"mail": lambda a: "553 5.1.8 sender refused"}, rcpts=rcpts)
    check_eq(r.outcome(2), "DD", "MAIL refused with 553: permanent for both", repr(r))
    check_eq(sink.messages(), [], "and no message")
    check(b"553 5.1.8 sender refused" in r.out, "the report carries the 553 reply", repr(r))
    sink, r = simple_case("MAIL refused temporarily", {"mail": lambda a: "451 4.3.0 try later"}, rcpts=rcpts)
    check_eq(r.outcome(2), "ZZ", "MAIL refused with 451: temporary for both", repr(r))
    check_eq(sink.messages(), [], "and no message")


def test_data_replies():
    sink, r = simple_case("DATA refused 554", {"data": "554 5.5.1 no valid recipients"}, want="D")
    check_eq(sink.messages(), [], "DATA 554: no message")
    sink, r = simple_case("DATA refused 451", {"data": "451 4.3.0 later"}, want="Z")
    sink, r = simple_case("DATA answered 250 instead of 354", {"data": "250 2.0.0 what"})
    check(r.kzd in "ZD", "DATA answered 250 instead of 354: no K", repr(r))
    sink, r = simple_case("final dot 554", {"final": "554 5.6.0 content rejected"}, want="D")
    check(b"554 5.6.0 content rejected" in r.text, "the D text has the 554 reply", repr(r))
    sink, r = simple_case("final dot 451", {"final": "451 4.3.0 queue full"}, want="Z")
    sink, r = simple_case("final dot multi-line 250", {"final": "250-2.0.0 first line\r\n250 2.0.0 second line"},
                          want="K")
    check(b"first line" in r.text and b"second line" in r.text, "a multi-line reply is kept in the K text",
          repr(r))


def test_size():
    big = MSG + (b"y" * 75 + b"\n") * 100  # 7.7 kB
    sink, r = simple_case("SIZE smaller than the message", {"ext": ("PIPELINING", "SIZE 1000")}, message=big,
                          want="D")
    check_eq(sink.commands(b"DATA"), [], "SIZE: refused before DATA")
    check_eq(sink.messages(), [], "SIZE: the sink got no message")
    check(b"1000" in r.text or b"size" in r.text.lower() or b"SIZE" in r.text, "the D text says why (size)",
          repr(r))
    sink, r = simple_case("SIZE larger than the message", {"ext": ("PIPELINING", "SIZE 100000")}, message=big,
                          want="K")
    check_eq(sink.messages(), [frame(big)], "SIZE larger: delivered")
    mail = sink.commands(b"MAIL")
    m = re.search(rb" SIZE=(\d+)", mail[0] if mail else b"")
    if m:
        check(len(big) <= int(m.group(1)) <= len(frame(big)) + 16, "SIZE= names the message's size",
              repr(mail))
    sink, r = simple_case("SIZE 0 (no limit)", {"ext": ("SIZE 0",)}, message=big, want="K")


def test_8bit_utf8():
    body8 = b"Subject: caf\xc3\xa9\n\n\xe9t\xe9 \xff\x80\n"
    sink, r = simple_case("8-bit body, 8BITMIME offered", {}, message=body8, want="K")
    check_eq(sink.messages(), [frame(body8)], "8BITMIME: the 8-bit body arrives as is")
    sink, r = simple_case("8-bit body, no 8BITMIME", {"ext": ("PIPELINING",)}, message=body8, want="K")
    check_eq(sink.messages(), [frame(body8)], "no 8BITMIME: delivered as is, as qmail does")
    mail = sink.commands(b"MAIL")
    check(len(mail) == 1 and b"BODY=" not in mail[0].upper() and b"SMTPUTF8" not in mail[0].upper(),
          "no BODY= or SMTPUTF8 to a server that offers neither", repr(mail))
    urcpt = "j\u00fcrgen@remote.example"
    sink, r = simple_case("UTF-8 recipient, no SMTPUTF8", {"ext": ("PIPELINING", "8BITMIME")}, rcpts=[urcpt])
    check_eq(r.outcome(1), "D", "UTF-8 address to a server without SMTPUTF8: permanent", repr(r))
    check(b"SMTPUTF8" in r.out or b"UTF-8" in r.out or b"utf8" in r.out.lower(), "with a clear text", repr(r))
    check_eq(sink.messages(), [], "and nothing delivered")
    check_eq(sink.commands(b"RCPT"), [], "the UTF-8 address never went out")
    sink, r = simple_case("UTF-8 recipient, SMTPUTF8 offered", {}, rcpts=[urcpt], want="K")
    mail = sink.commands(b"MAIL")
    check(len(mail) == 1 and b" SMTPUTF8" in mail[0].upper(), "MAIL has the SMTPUTF8 parameter", repr(mail))
    check_eq(sink.commands(b"RCPT"), [b"RCPT TO:<" + urcpt.encode() + b">\r\n"], "the address goes out in UTF-8")
    sink, r = simple_case("UTF-8 sender, no SMTPUTF8", {"ext": ("8BITMIME",)}, sender="b\u00f6b@test.example")
    check_eq(r.outcome(1), "D", "UTF-8 sender to a server without SMTPUTF8: permanent", repr(r))
    check_eq(sink.messages(), [], "and nothing delivered")


def test_greetings():
    sink, r = simple_case("554 greeting", {"greeting": b"554 5.3.2 go away\r\n"}, want="D")
    check(b"554 5.3.2 go away" in r.text, "the D text has the greeting", repr(r))
    check_eq(sink.commands(b"MAIL"), [], "554 greeting: no MAIL")
    sink, r = simple_case("421 greeting", {"greeting": b"421 4.3.2 busy\r\n"}, want="Z")
    check_eq(sink.commands(b"MAIL"), [], "421 greeting: no MAIL")
    sink, r = simple_case("multi-line 554 greeting", {"greeting": b"554-5.3.2 go\r\n554 5.3.2 away\r\n"}, want="D")
    sink, r = simple_case("multi-line 220 greeting", {"greeting": b"220-sink.example hello\r\n220-more\r\n220 ok\r\n"},
                          want="K")
    check_eq(sink.messages(), [frame(MSG)], "multi-line greeting: delivered")


def test_codes_out_of_range():
    for g in (b"999 what\r\n", b"099 what\r\n", b"2x0 what\r\n", b"22 short\r\n", b"\r\n", b"hello\r\n",
              b"220x no separator\r\n", b"600 six\r\n"):
        name = "greeting %r" % g
        sink, r = simple_case(name, {"greeting": g}, want="Z")
        check_eq(sink.commands(b"MAIL"), [], name + ": no MAIL")
    for code in ("999 ok", "2x0 ok", "099 ok", "600 ok", "25 ok"):
        name = "RCPT reply %r" % code
        sink, r = simple_case(name, {"rcpt": lambda a, c=code: c})
        check_eq(r.outcome(1), "Z", name + ": a protocol error is temporary", repr(r))
        check_eq(sink.messages(), [], name + ": no message")
    for code in ("999 ok", "2x0 ok", "099 ok", "600 ok", "2 ok", "25"):
        name = "final reply %r" % code
        sink, r = simple_case(name, {"final": code})
        check_eq(r.kzd, "Z", name + ": temporary, not K", repr(r))
    # a continuation line whose code differs from the last line's
    sink, r = simple_case("multi-line reply with mixed codes", {"final": "250-ok so far\r\n550 but no"})
    check(r.kzd != "K", "a final reply 250-/550: not K", repr(r))


def test_replies_without_crlf():
    sink, r = simple_case("replies end in LF only", {"eol": b"\n", "greeting": b"220 sink.example bare LF\n"},
                          want="K")
    check_eq(sink.messages(), [frame(MSG)], "LF-only replies: delivered")

    def no_eol_then_close(c):
        c.send(b"220 sink.example no line end")
        c.abort()

    sink, r = simple_case("greeting without a line end, then close", {"custom": no_eol_then_close}, want="Z")

    def no_eol_then_wait(c):
        c.send(b"220 sink.example no line end")
        c.drain()

    def final_no_eol(c):
        c.send(b"220 sink.example\r\n")
        while True:
            line = c.readline()
            if line is None:
                return
            v = line[:4].upper()
            if v == b"DATA":
                c.send(b"354 go\r\n")
                c.read_data()
                c.send(b"250 accepted but no line end")
                c.drain()
                return
            c.send(b"221 bye\r\n" if v == b"QUIT" else b"250 ok\r\n")

    def cr_only(c):
        c.send(b"220 sink.example\r")
        c.drain()

    # each waits for timeoutremote: together
    (_, r), (_, r2), _ = simple_cases([("greeting without a line end, then silence", {"custom": no_eol_then_wait}, "Z"),
                                       ("final reply without a line end", {"custom": final_no_eol}, None),
                                       ("greeting ending in CR alone", {"custom": cr_only}, "Z")],
                                      controls={"timeoutremote": "2"})
    check(r.elapsed >= 1.9, "a greeting never finished times out after timeoutremote (2 s)", repr(r))
    check_eq(r2.kzd, "Z", "a final 250 without its line end is not a reply: Z", repr(r2))


def test_huge_replies():
    mb = 3 * 1024 * 1024
    line = "220-" + "g" * 990
    greet = ("\r\n".join([line] * (mb // 1000)) + "\r\n220 sink.example ready\r\n").encode()
    sink, r = simple_case("greeting of 3 MB in many lines", {"greeting": greet})
    check_eq(r.kzd, "K", "a 3 MB greeting is read and cut: K", repr(r)[:300])
    check_eq(sink.messages(), [frame(MSG)], "and the message arrives intact after it")
    check(b"(the rest of the reply was cut)" in r.out or len(r.out) < MAXTEXT, "the report stays small", repr(r)[:300])
    big = "\r\n".join(["550-5.1.1 " + "n" * 990] * (mb // 1000)) + "\r\n550 5.1.1 no such user"
    sink, r = simple_case("RCPT refusal of 3 MB", {"rcpt": lambda a: big}, rcpts=["a@remote.example"], want="D")
    check(len(r.out) <= MAXTEXT * 2, "the h report is cut to at most 64 KiB", "%d bytes" % len(r.out))
    one = "250 " + "x" * mb
    sink, r = simple_case("a single reply line of 3 MB", {"final": one})
    check_eq(r.kzd, "K", "a single 3 MB line after the dot: K, the line cut", repr(r)[:300])
    check(len(r.text) < MAXTEXT, "the K text is cut to 64 KiB", "%d bytes" % len(r.text))
    endless = "\r\n".join(["250-" + "e" * 200] * (mb // 100))  # 6 MB of continuation, then silence
    sink, r = simple_case("endless multi-line reply, never finished", {"final": endless + "\r\n250-more"},
                          controls={"timeoutremote": "2"})
    check_eq(r.kzd, "Z", "a final reply that never ends: Z", repr(r))


def test_timeouts():
    t = 2
    # each waits for timeoutremote: together. The RCPT reply comes only
    # after qmail-remote is over (or after 6 s, should it hang)
    over = threading.Event()
    (_, r1), (sink2, r2), (_, r3) = simple_cases(
        [("server never says anything", {"greeting": None}, "Z"),
         ("server never answers the final dot", {"final": None}, "Z"),
         ("server never answers RCPT", {"rcpt": lambda a: (over.wait(6), "250 late")[1]}, None)],
        controls={"timeoutremote": str(t)}, done=over)
    check(r1.elapsed >= t - 0.1, "silent server: gives up after timeoutremote (%d s), not before" % t, repr(r1))
    check(r2.elapsed >= t - 0.1, "no reply after the dot: Z after timeoutremote", repr(r2))
    check_eq(len(sink2.messages()), 1, "(the sink did get the whole message)")
    check_eq(r3.outcome(1), "Z", "no reply to RCPT in time: temporary", repr(r3))
    check(r3.elapsed >= t - 0.1, "after timeoutremote", repr(r3))

    # a connection that never completes: a listener whose accept queue is
    # full drops SYNs, so connect() hangs until timeoutconnect
    bh = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    bh.bind(("127.0.0.1", 0))
    bh.listen(0)
    port = bh.getsockname()[1]
    fillers = []
    try:
        for i in range(4):
            f = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            f.setblocking(False)
            try:
                f.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            fillers.append(f)
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.settimeout(1.0)
        try:
            probe.connect(("127.0.0.1", port))
            hangs = False
        except socket.timeout:
            hangs = True
        except OSError:
            hangs = False
        probe.close()
        if not hangs:
            quail.skip("connect timeout", "this kernel does not drop SYNs on a full accept queue")
        else:
            write_controls(smtproutes="remote.example:127.0.0.1:%d" % port, timeoutconnect=str(t),
                           timeoutremote="30")
            r = run_remote("remote.example", ["carol@remote.example"], MSG, name="connect timeout")
            check_eq(r.kzd, "Z", "connect timeout: Z", repr(r))
            check(r.elapsed >= t - 0.1, "after timeoutconnect (%d s), not before" % t, repr(r))
            check(r.elapsed < 29, "and timeoutconnect, not timeoutremote, bounds it", repr(r))
            tcpto = os.path.join(BIN, "qmail-tcpto")
            if os.path.exists(tcpto):
                p = subprocess.run([tcpto], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BASEENV, timeout=30)
                check(p.returncode == 0 and b"127.0.0.1" in p.stdout,
                      "qmail-tcpto lists the address that timed out", repr((p.returncode, p.stdout, p.stderr)))
                p = subprocess.run([os.path.join(BIN, "qmail-tcpok")], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env=BASEENV, timeout=30)
                with open(os.path.join(ROOT, "queue", "lock", "tcpto"), "rb") as f:
                    cleared = f.read()
                check(p.returncode == 0 and cleared == b"\0" * 1024, "qmail-tcpok clears lock/tcpto",
                      repr((p.returncode, p.stdout, p.stderr, len(cleared))))
    finally:
        for f in fillers:
            f.close()
        bh.close()

    # connection refused: a port nobody listens on
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    write_controls(smtproutes="remote.example:127.0.0.1:%d" % port, timeoutconnect="3", timeoutremote="3")
    r = run_remote("remote.example", ["carol@remote.example"], MSG, name="connection refused")
    check_eq(r.kzd, "Z", "connection refused: Z", repr(r))


def test_drops():
    big = MSG + (b"z" * 99 + b"\n") * 20000  # 2 MB, so the drop comes mid-stream
    sink, r = simple_case("connection dropped mid-DATA", {"drop_data": 100000}, message=big, want="Z")
    check_eq(sink.messages(), [], "(the sink kept no message)")
    sink, r = simple_case("connection dropped after the dot, before the reply", {"drop_after_dot": True}, want="Z")
    check_eq(len(sink.messages()), 1, "(the sink got the whole message)")

    def drop_after_rcpt(c):
        c.send(b"220 sink.example\r\n")
        while True:
            line = c.readline()
            if line is None:
                return
            if line[:4].upper() == b"RCPT":
                c.send(b"250 ok\r\n")
                c.abort()
                return
            c.send(b"250 ok\r\n")

    sink, r = simple_case("connection dropped after RCPT", {"custom": drop_after_rcpt, "ext": ()})
    check_eq(r.kzd, "Z", "dropped after RCPT: Z (even though RCPT was accepted)", repr(r))

    def drop_at_greeting(c):
        c.abort()

    sink, r = simple_case("connection closed at once", {"custom": drop_at_greeting}, want="Z")


def test_answer_before_asked():
    # greeting plus replies nobody asked for; the final reply after the dot
    # is a refusal, so any K came from a reply meant for something else
    for extra in (b"250 extra\r\n250 more\r\n", b"250 extra\r\n250 more\r\n354 go\r\n250 ok\r\n"):
        for ext in (DEFAULTS["ext"], ()):
            name = "greeting followed by %r%s" % (extra, "" if ext else " (no PIPELINING)")
            sink, r = simple_case(name, {"greeting": b"220 sink.example\r\n" + extra, "ext": ext,
                                         "final": "451 4.3.0 not accepted"})
            check(r.kzd in "ZD" and sink.accepted() == 0, name + ": not K", repr(r))

    def eager(c):
        # after EHLO, answers MAIL, RCPT, DATA and the dot at once, before
        # any of them arrives; then says nothing more
        c.send(b"220 sink.example\r\n")
        c.readline()
        c.send(b"250 sink.example\r\n250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n250 2.0.0 accepted\r\n")
        c.drain()

    sink, r = simple_case("every reply sent before the commands", {"custom": eager},
                          controls={"timeoutremote": "2"})
    check(r.kzd != "K", "replies sent before the commands (and no real reply after the dot): not K", repr(r))


def test_loop():
    for greeting in (b"220 test.example ESMTP\r\n", b"220 TEST.Example\r\n", b"220-test.example hi\r\n220 x\r\n"):
        name = "a greeting %r naming control/me" % greeting
        sink, r = simple_case(name, {"greeting": greeting})
        check_eq(r.kzd, "D", name + ": permanent (mail loops back to myself)", repr(r))
        check(b"loop" in r.text.lower(), name + ": the text says it loops", repr(r))
        check_eq(sink.messages(), [], name + ": no message")
    sink, r = simple_case("helohost differs, greeting names me", {"greeting": b"220 test.example ESMTP\r\n"},
                          controls={"helohost": "other.example"})
    check_eq(r.kzd, "D", "a greeting naming control/me loops even with another helohost"
             " (our own qmail-smtpd greets with control/me, whatever helohost says)", repr(r))
    sink, r = simple_case("greeting names helohost", {"greeting": b"220 other.example ESMTP\r\n"},
                          controls={"helohost": "other.example"})
    check_eq(r.kzd, "D", "a greeting naming control/helohost loops", repr(r))
    sink, r = simple_case("a greeting naming another host", {"greeting": b"220 sink.test.example ESMTP\r\n"},
                          want="K")


def test_smuggling():
    cases = [
        (b"a\r.\r\nb\n", "CR . CR LF"),
        (b"a\n.\nb\n", "LF . LF"),
        (b"a\r\n.\rb\n", "CR LF . CR"),
        (b"a\r.\rb\n", "CR . CR"),
        (b"a\n.\n", "a line '.' alone at the end"),
        (b".\n", "a message that is only a line '.'"),
        (b".\r\n", "only '.' CRLF"),
        (b".\r", "only '.' CR"),
        (b"\r\n.\r\n", "an empty line then '.'"),
        (b"..x\n.y\n...\n", "lines starting with dots"),
        (b"a\nb", "no final newline"),
        (b"a\r\n.", "a final partial line '.'"),
        (b"a\r", "a final bare CR"),
        (b"a\n\r.\n", "LF CR . LF"),
        (b"a\r\r\n.\r\n", "CR CR LF . CR LF"),
        (b"x" * 5000 + b"\n", "a 5000-byte line (no line break invented)"),
        (b"nul\0byte\n", "a NUL byte"),
        (b"", "an empty message"),
        (b"Subject: s\n\nhi\r.\r\nMAIL FROM:<evil@x.example>\r\nRCPT TO:<victim@y.example>\r\nDATA\r\n"
         b"smuggled\r\n.\r\nQUIT\r\n", "a whole smuggled transaction behind CR . CR LF"),
        (b"Subject: s\n\nhi\n.\nMAIL FROM:<evil@x.example>\nRCPT TO:<victim@y.example>\nDATA\nsmuggled\n.\n",
         "a whole smuggled transaction behind LF . LF"),
    ]
    for message, what in cases:
        name = "framing: " + what
        sink, r = simple_case(name, {}, message=message)
        msgs = sink.messages()
        c = sink.conns[0] if sink.conns else None
        partial = message and message[-1:] not in (b"\n", b"\r")
        if partial and r.kzd == "D":
            # qmail's choice: a partial final line is refused permanently
            check_eq(msgs, [], name + ": refused (D), and no message reached the sink")
            continue
        check_eq(r.outcome(1), "K", name + ": delivered", repr(r))
        check_eq(len(msgs), 1, name + ": the sink got one message")
        check_bytes(msgs[0] if msgs else None, frame(message),
                    name + ": the sink got exactly the stuffed, CRLF-framed message")
        check_eq(len(sink.commands(b"MAIL")), 1, name + ": exactly one MAIL")
        check_eq(len(sink.commands(b"DATA")), 1, name + ": exactly one DATA")
        if c is not None:
            # everything the client sent after DATA's 354: the content, one
            # end of data, and QUIT
            i = bytes(c.raw).find(b"DATA\r\n")
            tail = bytes(c.raw)[i + 6:] if i != -1 else b""
            check_bytes(tail, frame(message) + b".\r\nQUIT\r\n", name + ": byte for byte after DATA")


def test_large_message():
    big = b"Subject: big\n\n" + b"".join(b"%07d " % i + b"." * 60 + b"\n" + b".leading dot\n" for i in range(40000))
    sink, r = simple_case("a 3 MB message", {}, message=big, want="K")
    msgs = sink.messages()
    check_eq(len(msgs), 1, "a 3 MB message arrives once")
    check_bytes(msgs[0] if msgs else None, frame(big), "a 3 MB message arrives byte for byte, dots stuffed")


def test_routes():
    with Sink() as sink:
        for routes, host, what in (
                ("other.example:10.255.255.1:25\nremote.example:127.0.0.1:%d", "remote.example", "an exact domain"),
                (".remote.example:127.0.0.1:%d", "deep.sub.remote.example", "a .suffix"),
                ("x.example:10.255.255.1:25\n:127.0.0.1:%d", "anything.example", "the default route ':relay'"),
                ("remote.example:[127.0.0.1]:%d", "remote.example", "a [1.2.3.4] relay"),
                ("REMOTE.example:127.0.0.1:%d", "remote.EXAMPLE", "domains compared without case")):
            n = len(sink.messages())
            write_controls(smtproutes=routes % sink.port, timeoutconnect="3", timeoutremote="3")
            r = run_remote(host, ["carol@" + host], MSG, sink=sink, name="smtproutes " + what)
            check(r.outcome(1) == "K" and len(sink.messages()) == n + 1, "smtproutes: " + what, repr(r))
        # a recipient's domain that is an address literal, on the port of
        # its route (a route with an empty relay: no relay, just a port)
        write_controls(smtproutes="[127.0.0.1]::%d" % sink.port, timeoutconnect="3", timeoutremote="3")
        n = len(sink.messages())
        r = run_remote("[127.0.0.1]", ["carol@[127.0.0.1]"], MSG, sink=sink, name="address literal")
        check(r.outcome(1) == "K" and len(sink.messages()) == n + 1,
              "a recipient at [127.0.0.1] is delivered to that address", repr(r))
        check_eq(sink.commands(b"RCPT")[-1:], [b"RCPT TO:<carol@[127.0.0.1]>\r\n"], "RCPT TO names the literal")
        # a bare IPv6 relay cannot be told from a port (qmail splits at the
        # first colon): it needs brackets, and a route that cannot be read
        # is a temporary failure (someone will fix control/smtproutes)
        write_controls(smtproutes="remote.example:::1:%d" % sink.port, timeoutconnect="3", timeoutremote="3")
        n = len(sink.conns)
        r = run_remote("remote.example", ["carol@remote.example"], MSG, sink=sink, name="bare IPv6 relay")
        check(r.outcome(1) == "Z" and b"smtproutes" in r.text, "a bare IPv6 relay in smtproutes: Z, naming smtproutes",
              repr(r))
        time.sleep(0.2)
        check_eq(len(sink.conns), n, "and no connection")
        # exact match wins over the suffix and the default
        write_controls(smtproutes=":10.255.255.1:25\n.remote.example:10.255.255.1:25\nremote.example:127.0.0.1:%d"
                       % sink.port, timeoutconnect="3", timeoutremote="3")
        n = len(sink.messages())
        r = run_remote("remote.example", ["carol@remote.example"], MSG, sink=sink, name="smtproutes order")
        check(r.outcome(1) == "K" and len(sink.messages()) == n + 1,
              "smtproutes: an exact domain before .suffix and ':'", repr(r))


def test_ipv6():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
    except OSError:
        quail.skip("IPv6", "no ::1 here")
        return
    sink, r = simple_case("IPv6 route [IPv6:::1]", {}, sink_host="::1", want="K")
    check_eq(sink.messages(), [frame(MSG)], "delivered over ::1")
    check(b"::1" in r.text, "the K text names ::1", repr(r))


def test_usage():
    write_controls(timeoutconnect="3", timeoutremote="3")
    for args, what in (([], "no arguments"), (["remote.example"], "no sender"),
                       (["remote.example", SENDER], "no recipient")):
        with tempfile.TemporaryFile() as m:
            p = subprocess.run([REMOTE] + args, stdin=m, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BASEENV,
                               timeout=HANG)
        check(p.stdout.endswith(b"\0") and p.stdout[:1] in (b"Z", b"D") and p.returncode in (0, 111, 100),
              "usage: " + what + ": a Z or D report", repr((p.returncode, p.stdout, p.stderr)))


# ---- through the queue ----

def test_queue():
    with Sink(rcpt=lambda a: "550 5.1.1 refused by the sink" if a.startswith("nobody") else "250 2.1.5 ok") as sink:
        s = quail.System(controls={"smtproutes": "remote.example:127.0.0.1:%d" % sink.port,
                                   "timeoutconnect": "5", "timeoutremote": "10"})
        try:
            s.start()
            rc = s.inject(b"From: alice@test.example\nSubject: through the queue\n\nhello\n.dot\n",
                          "alice@test.example", ["carol@remote.example"])
            check_eq(rc, 0, "queue: a message for a remote recipient is queued")
            check(wait_for(lambda: len(sink.messages()) >= 1, 60), "queue: it arrives at the sink", s.logtext())
            check(wait_for(s.queue_empty, 60), "queue: the queue empties", s.logtext())
            msgs = sink.messages()
            if msgs:
                check(msgs[0].endswith(b"Subject: through the queue\r\n\r\nhello\r\n..dot\r\n"),
                      "queue: the message arrives whole, CRLF-framed and stuffed", repr(msgs[0][-200:]))
                check(b"Received: " in msgs[0], "queue: with qmail-queue's Received line")
            check_eq(sink.commands(b"RCPT"), [b"RCPT TO:<carol@remote.example>\r\n"], "queue: the recipient")
            mail = sink.commands(b"MAIL")
            check(mail and mail[0].startswith(b"MAIL FROM:<alice@test.example>"), "queue: the sender", repr(mail))
            check(wait_for(lambda: re.search(r"delivery \d+: success: .*127\.0\.0\.1", s.logtext()), 30),
                  "queue: qmail-send logs the success with qmail-remote's text", s.logtext())

            s.inject(b"From: alice@test.example\nSubject: refused\n\nhello\n", "alice@test.example",
                     ["nobody@remote.example"])
            check(s.wait_messages("alice", 1, 90), "queue: a permanent refusal bounces to the sender's Maildir",
                  s.logtext())
            b = s.messages("alice")
            if b:
                check(b"nobody@remote.example" in b[0] and b"550 5.1.1 refused by the sink" in b[0],
                      "queue: the bounce names the recipient and carries the sink's reply", b[0].decode("latin-1"))
                check(b"Subject: refused" in b[0], "queue: the bounce holds the original message")
            check(re.search(r"delivery \d+: failure: ", s.logtext()), "queue: the log has the failure", s.logtext())
            check(wait_for(s.queue_empty, 60), "queue: empty after the bounce", s.logtext())
            check_eq(len(sink.commands(b"DATA")), 1, "queue: no DATA for the refused recipient")
            check_eq(s.stop(), 0, "queue: qmail-send stops")
        finally:
            s.stop()
            s.cleanup()


def main():
    if not os.path.exists(REMOTE):
        quail.skip("remote_test", "no %s" % REMOTE)
        quail.done()
    try:
        for t in (test_normal, test_helohost_and_sender, test_helo_fallback, test_some_refused, test_reply_bytes,
                  test_pipelining, test_data_replies, test_size, test_8bit_utf8, test_greetings, test_codes_out_of_range,
                  test_replies_without_crlf, test_huge_replies, test_timeouts, test_drops,
                  test_answer_before_asked, test_loop, test_smuggling, test_large_message, test_routes,
                  test_ipv6, test_usage, test_queue):
            if len(sys.argv) > 1 and t.__name__ not in sys.argv[1:]:
                continue
            print("# " + t.__name__)
            sys.stdout.flush()
            t()
    finally:
        write_controls()
    quail.done()


if __name__ == "__main__":
    main()
