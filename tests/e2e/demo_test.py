"""`make demo` from a fresh clone, as a newcomer would run it: git clone of
the committed HEAD into a temporary directory, `make demo` there, a
message sent with swaks to demo@example.test on 127.0.0.1:2525, read back
with poplib on 2110 with the password make demo printed, submission on
2587 refusing mail without AUTH and taking it with AUTH, a second
`make demo` (a restart that keeps the password and the mail), then
`make demo-stop`, after which no process may be left whose working
directory or command line is under the temporary directory.

The demo's ports are fixed (2525, 2587, 2110): if something else listens
on one of them the test fails at once, saying which, instead of waiting.
Everything is bounded in time; the whole test takes about a minute, most
of it the build.

Not tested here: the apt-get step (TEST installs the packages first) and
a run as a user other than the one running the tests.
"""

import os
import poplib
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
from quail import check, check_eq  # noqa: E402

SRC = quail.SRC
PORTS = (2525, 2587, 2110)
HOST = "127.0.0.1"
USER = "demo@example.test"


def listening(port):
    """True if something accepts connections on HOST:port."""
    try:
        with socket.create_connection((HOST, port), timeout=2):
            return True
    except OSError:
        return False


def make(top, target, timeout):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE") and k not in ("MFLAGS",)}
    t0 = time.time()
    try:
        p = subprocess.run(["make", target], cwd=top, env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout)
        out, rc = p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace"), p.returncode
    except subprocess.TimeoutExpired as e:
        out = ((e.stdout or b"") + (e.stderr or b"")).decode("utf-8", "replace")
        rc = "timeout after %d s" % timeout
    print("# make %s: %.1f s" % (target, time.time() - t0))
    return rc, out


def ours(top):
    """Pids of processes whose working directory or command line is under
    top (not this test itself)."""
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) == os.getpid():
            continue
        try:
            cwd = os.readlink("/proc/%s/cwd" % p)
        except OSError:
            cwd = ""
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            cmd = ""
        if cwd == top or cwd.startswith(top + "/") or top in cmd:
            out.append((int(p), cwd, cmd.strip()))
    return out


def pop_messages(password):
    """The messages in the demo mailbox over POP3, as bytes each."""
    p = poplib.POP3(HOST, 2110, timeout=20)
    try:
        p.user(USER)
        p.pass_(password)
        n, _ = p.stat()
        return [b"\n".join(p.retr(i)[1]) for i in range(1, n + 1)]
    finally:
        p.quit()


def wait_pop(password, token, timeout=30):
    """Polls the mailbox until a message with token arrives; returns the
    messages seen last (or the error)."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = pop_messages(password)
            if any(token in m for m in last):
                return True, last
        except (OSError, poplib.error_proto) as e:
            last = e
        time.sleep(0.3)
    return False, last


def swaks(*args, timeout=60):
    p = subprocess.run(["swaks", "--server", HOST, "--timeout", "20"] + list(args),
                       capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


# ---- the walkthrough at the top of TEST, run as written there ----

def walkthrough_steps(test_text):
    """The header of TEST as {step number: [lines]}: each numbered step's
    indented lines (commands and dialogues) with the comment mark cut."""
    steps, cur = {}, None
    for line in test_text.split("\n"):
        if not line.startswith("#"):
            if steps:
                break
            continue
        m = re.match(r"# (\d)\. ", line)
        if m:
            cur = int(m.group(1))
            steps[cur] = []
        elif cur is not None and (line.startswith("#      ") or line == "#"):
            steps[cur].append(line[7:] if line.startswith("#      ") else "")
    return steps


def commands(lines):
    return [l for l in lines if re.match(r"(echo|cat) ", l)]


def norm(reply):
    """A reply with its numbers (time, pid, qp, sizes) made alike."""
    return re.sub(r"\d+", "N", reply.rstrip())


def dialogue(lines, password):
    """Plays a "$ nc -C 127.0.0.1 PORT" session from the walkthrough: lines
    starting with a reply code (3 digits, +OK, -ERR) are what the server
    must answer, numbers aside; the others are sent, with PW replaced by
    the password; RETR's message is read up to its final dot. Returns
    (True, transcript) or (False, what went wrong)."""
    start = [i for i, l in enumerate(lines) if l.startswith("$ nc -C ")]
    if not start:
        return False, "no '$ nc -C' line"
    host, port = lines[start[0]].split()[3:5]
    script = lines[start[0] + 1:]
    transcript = []
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        f = sock.makefile("rb")
        i = 0
        last_sent = ""
        while i < len(script):
            line = script[i]
            i += 1
            if re.match(r"(\d{3} |\+OK|-ERR)", line):
                got = f.readline().decode("utf-8", "replace")
                transcript.append("S: " + got.rstrip())
                if norm(got) != norm(line):
                    return False, "after %r: got %r, want %r\n%s" % (last_sent, got, line, "\n".join(transcript))
                if last_sent.upper().startswith("RETR") and line.startswith("+OK"):
                    body = []
                    while True:
                        l = f.readline()
                        if not l or l == b".\r\n":
                            break
                        body.append(l)
                    transcript.append("S: (%d lines)" % len(body))
                    while i < len(script) and script[i] != ".":  # the placeholder lines
                        i += 1
                    i += 1
                if last_sent.upper() == "QUIT":
                    break
            else:
                data = line.replace("PW", password) if line.startswith("PASS ") else line
                sock.sendall(data.encode() + b"\r\n")
                transcript.append("C: " + ("PASS ..." if line.startswith("PASS ") else data))
                last_sent = data
    return True, "\n".join(transcript)


def sh(top, cmd):
    p = subprocess.run(["sh", "-c", cmd], cwd=top, capture_output=True, timeout=60, stdin=subprocess.DEVNULL,
                       env={"PATH": "/usr/bin:/bin"})
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


def maildir_files(top):
    d = os.path.join(top, "demo/vpopmail/domains/example.test/demo/Maildir")
    out = {}
    for sub in ("new", "cur"):
        try:
            for n in os.listdir(os.path.join(d, sub)):
                out[n.split(":")[0]] = os.path.join(d, sub, n)
        except OSError:
            pass
    return out


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def new_message(top, before, want, timeout=30):
    """Waits for a message not in before whose text has want; returns it."""
    def find():
        for name, path in maildir_files(top).items():
            if name not in before and want in read(path):
                return read(path)
        return None
    return quail.wait_for(find, timeout, 0.1)


def walkthrough(top, password):
    with open(os.path.join(top, "TEST")) as f:
        steps = walkthrough_steps(f.read())
    check_eq(sorted(steps), [0, 1, 2, 3, 4, 5, 6], "walkthrough: TEST's header has steps 0 to 6")
    smtplog = os.path.join(top, "demo/service/qmail-smtpd/log/main/current")
    sendlog = os.path.join(top, "demo/service/qmail-send/log/main/current")

    # 1. the SMTP session by hand, then the message and its log lines
    before = maildir_files(top)
    ok, text = dialogue(steps.get(1, []), password)
    check(ok, "walkthrough 1: the SMTP session by hand gets the replies TEST shows", text)
    m = re.search(r"S: 250 ok \d+ qp (\d+)", text) if ok else None
    msg = new_message(top, before, b"Subject: by hand")
    check(msg and b"hello" in msg, "walkthrough 1: the message is in demo/vpopmail/domains/example.test/demo/Maildir")
    if m:
        qp = m.group(1)
        tx = quail.wait_for(lambda: re.search(rb"qmail-smtpd: pid \d+ tx ip=127\.0\.0\.1 .* result=250 qp=" +
                                              qp.encode() + rb"\n", read(smtplog)), 10)
        check(tx, "walkthrough 1: the qmail-smtpd log has the tx line with qp=" + qp, read(smtplog)[-1500:])
        info = re.search(rb"info msg (\d+): bytes \d+ from <me@example\.org> qp " + qp.encode() + rb" ", read(sendlog))
        check(info, "walkthrough 1: qmail-send's info msg line has the same qp", read(sendlog)[-1500:])
        if info:
            mid = info.group(1)
            done = quail.wait_for(lambda: re.search(rb"starting delivery (\d+): msg " + mid + rb" to local "
                                                    rb"example\.test-demo@example\.test\n", read(sendlog)), 10)
            ok = done and quail.wait_for(lambda: re.search(rb"delivery " + done.group(1) + rb": success: .*\n"
                                                           rb"(.*\n)*?.* end msg " + mid + rb"\n", read(sendlog)), 10)
            check(ok, "walkthrough 1: msg %s: delivery to the mailbox succeeds and the message ends" % mid.decode(),
                  read(sendlog)[-1500:])

    # 2. a local delivery with qmail-inject
    cmds = commands(steps.get(2, []))
    before = maildir_files(top)
    rc, out = sh(top, cmds[0]) if cmds else (None, "no command in step 2")
    check_eq(rc, 0, "walkthrough 2: %s" % (cmds[:1] or ["?"])[0], out)
    msg = new_message(top, before, b"To: demo@example.test")
    check(msg and b"Date: " in msg and b"Message-ID: " in msg.replace(b"Message-Id", b"Message-ID"),
          "walkthrough 2: the message arrives with a complete header", repr(msg)[:600])
    check(re.search(rb"starting delivery \d+: msg \d+ to local example\.test-demo@example\.test\n", read(sendlog)),
          "walkthrough 2: the qmail-send log shows the local delivery")

    # 3. a .qmail pipe
    cmds = commands(steps.get(3, []))
    okc = len(cmds) == 3
    check(okc, "walkthrough 3: three commands", repr(cmds))
    if okc:
        for c in cmds[:2]:
            rc, out = sh(top, c)
            check_eq(rc, 0, "walkthrough 3: " + c, out)
        piped = os.path.join(top, "demo/vpopmail/domains/example.test/piped")
        got = quail.wait_for(lambda: b"To: pipe@example.test" in read(piped) and read(piped), 30)
        check(got and got.startswith(b"From ") and b"\nReturn-Path: <" in got
              and b"\nDelivered-To: example.test-pipe@example.test\n" in got,
              "walkthrough 3: the |preline cat line got the message after From_, Return-Path and Delivered-To",
              repr(got)[:600])
        rc, out = sh(top, cmds[2])
        check(rc == 0 and "To: pipe@example.test" in out, "walkthrough 3: " + cmds[2], out)

    # 4. a bounce
    cmds = commands(steps.get(4, []))
    before = maildir_files(top)
    rc, out = sh(top, cmds[0]) if cmds else (None, "no command in step 4")
    check_eq(rc, 0, "walkthrough 4: %s" % (cmds[:1] or ["?"])[0], out)
    msg = new_message(top, before, b"<nosuch@example.test>:")
    check(msg and b"Sorry, no mailbox here by that name. (#5.1.1)" in msg and b"MAILER-DAEMON" in msg
          and b"Subject: failure notice" in msg,
          "walkthrough 4: the bounce comes back to demo@example.test", repr(msg)[:800])

    # 5. the POP3 session by hand
    ok, text = dialogue(steps.get(5, []), password)
    check(ok, "walkthrough 5: the POP3 session by hand gets the replies TEST shows", text)


def main():
    busy = [p for p in PORTS if listening(p)]
    if not check(not busy, "the demo ports 2525, 2587 and 2110 are free on 127.0.0.1",
                 "in use: %s (stop what listens there; the demo's ports are fixed)" % busy):
        quail.done()
    for tool in ("make", "swaks", "svscan", "tcpserver") + (("git",) if os.path.exists(os.path.join(SRC, ".git")) else ()):
        if not check(shutil.which(tool), "%s is installed" % tool):
            quail.done()

    t0 = time.time()
    tmp = tempfile.mkdtemp(prefix="quail-demo-")
    os.chmod(tmp, 0o755)
    top = os.path.join(tmp, "quail")
    started = False
    try:
        if os.path.exists(os.path.join(SRC, ".git")):
            p = subprocess.run(["git", "clone", "-q", SRC, top], capture_output=True, timeout=120)
            if not check_eq(p.returncode, 0, "git clone of the checkout", p.stderr.decode()):
                return
        else:
            # a source tree that is not a git checkout (a tarball): a copy
            # without the builds stands in for the fresh clone
            shutil.copytree(SRC, top, symlinks=True, ignore=lambda d, names: [
                n for n in names if os.path.join(d, n) in {os.path.join(SRC, x) for x in ("build", "tests/build", "demo")}])
            check(True, "copy of the source tree (not a git checkout)")

        rc, out = make(top, "demo", 600)
        started = True
        if not check_eq(rc, 0, "make demo from a fresh clone", out[-3000:]):
            return
        m = re.search(r"password:\s+(\S+)", out)
        if not check(m, "make demo prints the password", out[-2000:]):
            return
        password = m.group(1)
        check(re.search(r"user:\s+" + re.escape(USER), out), "make demo prints the user")
        check("swaks" in out and "demo/bin/sendmail" in out, "make demo says how to send (swaks, demo/bin/sendmail)")
        check("2110" in out and "Maildir" in out, "make demo says how to read (POP3, the Maildir)")
        for port in PORTS:
            check(listening(port), "something listens on %s:%d after make demo" % (HOST, port))

        ok, msgs = wait_pop(password, b"Subject: Welcome to the Quail demo")
        check(ok, "the welcome message is in the mailbox (POP3 with the printed password)", repr(msgs)[:500])

        walkthrough(top, password)

        # SMTP on 2525, read back over POP3
        token = "demo-test-%d-%d" % (os.getpid(), int(time.time()))
        rc, out = swaks("--port", "2525", "--to", USER, "--header", "Subject: " + token,
                        "--body", "sent by demo_test.py")
        check_eq(rc, 0, "swaks to %s on 2525" % USER, out[-1500:])
        ok, msgs = wait_pop(password, token.encode())
        check(ok, "the message sent with swaks arrives, read with poplib", repr(msgs)[:500])

        # submission: no AUTH, no mail; AUTH with the demo password works
        rc, out = swaks("--port", "2587", "--to", USER, "--header", "Subject: noauth")
        check(rc != 0 and re.search(r"<\*\* 530 ", out), "submission on 2587 refuses MAIL without AUTH (530)",
              out[-1500:])
        token2 = token + "-auth"
        rc, out = swaks("--port", "2587", "--auth", "LOGIN", "--auth-user", USER, "--auth-password", password,
                        "--to", USER, "--header", "Subject: " + token2)
        check_eq(rc, 0, "submission on 2587 with AUTH LOGIN as %s" % USER, out[-1500:])
        ok, _ = wait_pop(password, token2.encode())
        check(ok, "the message sent through submission arrives")
        rc, out = swaks("--port", "2587", "--auth", "PLAIN", "--auth-user", USER, "--auth-password",
                        password + "x", "--to", USER)
        check(rc != 0 and re.search(r"<\*\* 535 ", out), "submission refuses a wrong password (535)", out[-1500:])

        # a second make demo restarts it, keeping the password and the mail
        rc, out = make(top, "demo", 300)
        check_eq(rc, 0, "a second make demo (restart)", out[-3000:])
        m = re.search(r"password:\s+(\S+)", out)
        check(m and m.group(1) == password, "the second make demo keeps the password")
        ok, msgs = wait_pop(password, token.encode())
        check(ok, "after the restart the mail is still there")

        # make demo-stop leaves nothing behind
        rc, out = make(top, "demo-stop", 120)
        check_eq(rc, 0, "make demo-stop", out)
        started = False
        left = quail.wait_for(lambda: not ours(tmp), 10) or ours(tmp)
        check(left is True, "no process started by the demo is left after make demo-stop", repr(left)[:1000])
        for port in PORTS:
            check(not listening(port), "nothing listens on %d after make demo-stop" % port)
        rc, out = make(top, "demo-stop", 60)
        check(rc == 0 and "no demo is running" in out, "make demo-stop when nothing runs says so", out)

        # a busy port: make demo says which, at once, and starts nothing
        with socket.socket() as blocker:
            blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            blocker.bind((HOST, 2110))
            blocker.listen(1)
            t1 = time.time()
            rc, out = make(top, "demo", 60)
            check(rc != 0 and "port 2110 is in use" in out and time.time() - t1 < 20,
                  "make demo with port 2110 busy fails at once, naming the port", out[-1000:])
        check(not ours(tmp) and not listening(2525), "nothing was started with the port busy", repr(ours(tmp)))
    finally:
        if started:
            make(top, "demo-stop", 120)
        for pid, _, _ in ours(tmp):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        shutil.rmtree(tmp, ignore_errors=True)
        print("# demo_test took %.0f s" % (time.time() - t0))


if __name__ == "__main__":
    main()
    quail.done()
