"""vdelivermail and vchkpw end to end, on the test instance.

Virtual domains are built by hand in vpopmail's layout (the directory
under auto_vpopmail/domains, vpasswd and vpasswd.cdb, .qmail-default
running vdelivermail, the "+domain-" users/assign line, virtualdomains,
rcpthosts), so that this test depends only on the two programs it tests
and on the delivery path: every message is queued with qmail-queue and
delivered by the running qmail-send -> qmail-lspawn -> qmail-local ->
vdelivermail, and the test waits for the file. Bounces go back to a
local user (alice) and are read there.

vchkpw is run by qmail-popup (with qmail-pop3d, under tcpserver, talking
to poplib) and by qmail-smtpd's AUTH (under tcpserver, talking to
smtplib), which also shows the RCPT check of virtual domains.

When the tests run as root, the domains belong to nobody (deliveries
never run as root) and vchkpw, run by qmail-popup as root, must become
nobody; qmail-smtpd runs as nobody (tcpserver -u). Without root every
role is ourselves.

Not tested here: the 24-hour interval of quota warnings by waiting for
it (the timestamp file is checked instead); vchkpw on the well-known
ports (TCPLOCALPORT is set by hand in a direct run instead).
"""

import os
import poplib
import re
import shutil
import smtplib
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(__file__))
import quail  # noqa: E402
from quail import check, check_eq, ROOT, BIN, wait_for  # noqa: E402

IOTIMEOUT = 60
BASE = os.path.join(ROOT, "vpopmail")          # auto_vpopmail of an instance
DOMAINS = os.path.join(BASE, "domains")
UID, GID = quail.delivery_uid(), quail.delivery_gid()
VDELIVERMAIL = os.path.join(BIN, "vdelivermail")
VCHKPW = os.path.join(BIN, "vchkpw")
ALICE = "alice@test.example"

re_dt = re.compile(rb"\nDelivered-To: joe(-[a-z]+)?@vd\.test\n")
BOUNCE_MAIL, NO_POP, NO_SMTP, NO_IMAP = 0x10, 0x02, 0x800, 0x08


def pwhash(pw):
    return subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=pw.encode(), capture_output=True,
                          timeout=60, check=True).stdout.decode().strip()


def chown_tree(top):
    for d, dirs, files in os.walk(top):
        os.chown(d, UID, GID)
        for f in files:
            os.lchown(os.path.join(d, f), UID, GID)


def make_maildir(path):
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)


class VDomain:
    """One virtual domain, in vpopmail's layout, owned by the delivery
    user."""

    made = []

    def __init__(self, name, instruction):
        self.name = name
        self.dir = os.path.join(DOMAINS, name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o700)
        self.users = {}     # name -> (hash, flags, quota)
        self.instruction = instruction
        self.write(".qmail-default", "| %s '' %s\n" % (VDELIVERMAIL, instruction))
        self.write_vpasswd()
        VDomain.made.append(self)

    def write(self, rel, text, mode=0o600):
        p = os.path.join(self.dir, rel)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        os.lchown(p, UID, GID)
        return p

    def udir(self, user):
        return os.path.join(self.dir, user)

    def add(self, user, pw="pw-" + "x" * 8, flags=0, quota="NOQUOTA", make=True):
        self.users[user] = (pwhash(pw), flags, quota, pw)
        if make:
            make_maildir(os.path.join(self.udir(user), "Maildir"))
        self.write_vpasswd()
        return self

    def write_vpasswd(self):
        lines = []
        recs = []
        for u, (h, flags, quota, _) in sorted(self.users.items()):
            rest = "%s:1:%d:%s:%s:%s" % (h, flags, u, self.udir(u), quota)
            lines.append("%s:%s\n" % (u, rest))
            recs.append((u.encode(), rest.encode()))
        self.write("vpasswd", "".join(lines))
        # vpasswd.cdb as vpopmail's vcdb.c makes it: key user, data the rest
        # of the line; written after vpasswd, so it is not older.
        p = os.path.join(self.dir, "vpasswd.cdb")
        with open(p + ".tmp", "wb") as f:
            f.write(quail.cdb_make(recs))
        os.rename(p + ".tmp", p)
        chown_tree(self.dir)

    def password(self, user):
        return self.users[user][3]

    def files(self, user, maildir="Maildir", sub="new"):
        d = os.path.join(self.udir(user), maildir, sub)
        try:
            return sorted(os.path.join(d, f) for f in os.listdir(d))
        except FileNotFoundError:
            return []

    def messages(self, user, maildir="Maildir"):
        out = []
        for p in self.files(user, maildir):
            with open(p, "rb") as f:
                out.append(f.read())
        return out

    def assign(self):
        return "+%s-:%s:%d:%d:%s:-::\n" % (self.name, self.name, UID, GID, self.dir)

    @classmethod
    def remove_all(cls):
        for d in cls.made:
            shutil.rmtree(d.dir, ignore_errors=True)
        cls.made = []


def msg(subject, extra=b""):
    return b"From: alice@test.example\nSubject: " + subject.encode() + b"\n" + extra + b"\nhello\n"


def find_bounce(s, subject, timeout=60):
    """The bounce in alice's Maildir of the message with this subject."""
    def look():
        for m in s.messages("alice"):
            if ("Subject: " + subject + "\n").encode() in m and b"Below this line is a copy" in m:
                return m
        return None
    return wait_for(look, timeout)


def wait_delivered(s, timeout=60):
    """Waits until the queue is empty again (every delivery finished)."""
    return wait_for(s.queue_empty, timeout)


# ---- the setup ----

def setup():
    os.makedirs(DOMAINS, exist_ok=True)
    os.chmod(BASE, 0o755)
    os.chmod(DOMAINS, 0o755)
    doms = {}
    d = doms["vd"] = VDomain("vd.test", "delete")
    d.add("joe", pw="joe-secret").add("ann", make=False).add("bob", flags=BOUNCE_MAIL)
    d.add("fwd").add("prog").add("p99").add("mb").add("k").add("l1").add("l2")
    d.add("q", quota="3000S").add("nopop", pw="np-secret", flags=NO_POP).add("nosmtp", pw="ns-secret", flags=NO_SMTP)
    d.add("ann-marie")
    d.write(".over-quota.msg", "Mailbox full, says vd.test. (#5.2.2)\n", 0o644)
    d.write(".quotawarn.msg", "From: postmaster@vd.test\nSubject: vd.test quota warning\n\nclean up\n", 0o644)
    fwd = d.udir("fwd")
    d.write("fwd/.qmail", "&%s\n./Maildir/\n" % ALICE, 0o644)
    d.write("prog/.qmail", "|cat > ../prog.stdin; env > ../prog.env\n./Maildir/\n", 0o644)
    d.write("p99/.qmail", "|touch ../p99.ran; exit 99\n./Maildir/\n", 0o644)
    d.write("mb/.qmail", "./mbox\n", 0o644)
    make_maildir(os.path.join(d.udir("k"), "Maildir.bar"))
    d.write("k/.qmail-bar", "./Maildir.bar/\n", 0o644)
    d.write("l1/.qmail", "&l2@vd.test\n", 0o644)
    d.write("l2/.qmail", "&l1@vd.test\n", 0o644)
    d.write(".qmail-alias", "&joe@vd.test\n", 0o644)
    chown_tree(d.dir)
    assert os.path.isdir(fwd)

    d2 = doms["vd2"] = VDomain("vd2.test", "bounce-no-mailbox")
    d2.add("joe")
    d2.write(".no-user.msg", "No such luser at vd2.test. (#5.1.1)\n", 0o644)
    doms["vd3"] = VDomain("vd3.test", "bounce-no-mailbox").add("joe")
    doms["vd4"] = VDomain("vd4.test", "joe@vd.test").add("joe")
    d5 = VDomain("vd5.test", "bounce-no-mailbox")   # (rewritten below: its own path)
    d5.add("catch")
    d5.instruction = d5.udir("catch")
    d5.write(".qmail-default", "| %s '' %s\n" % (VDELIVERMAIL, d5.udir("catch")))
    doms["vd5"] = d5
    d6 = VDomain("vd6.test", "delete")
    make_maildir(os.path.join(d6.dir, "box", "Maildir"))
    d6.write(".qmail-default", "| %s '' %s/\n" % (VDELIVERMAIL, os.path.join(d6.dir, "box", "Maildir")))
    chown_tree(d6.dir)
    doms["vd6"] = d6

    names = [x.name for x in doms.values()]
    controls = {
        "virtualdomains": "".join("%s:%s\n" % (n, n) for n in names),
        "rcpthosts": "test.example\n" + "".join(n + "\n" for n in names),
    }
    s = quail.System(controls=controls, users=("alice",))
    s.write_assign(extra="".join(x.assign() for x in doms.values()))
    s.start()
    return s, doms


# ---- vdelivermail ----

def test_user(s, doms):
    d = doms["vd"]
    check_eq(s.inject(msg("to joe"), ALICE, ["joe@vd.test"]), 0, "queued to joe@vd.test")
    check(wait_for(lambda: d.files("joe"), 60), "joe@vd.test: delivered into joe/Maildir/new")
    m = d.messages("joe")[0] if d.files("joe") else b""
    check(m.startswith(b"Return-Path: <alice@test.example>\nDelivered-To: joe@vd.test\n"),
          "joe: Return-Path and Delivered-To first", repr(m[:200]))
    check(b"Subject: to joe\n" in m, "joe: the message follows")
    check_eq(m.count(b"Delivered-To:"), 1, "joe: one Delivered-To line (qmail-local adds none for a program)")

    s.inject(msg("to JOE"), ALICE, ["JOE@VD.TEST"])
    check(wait_for(lambda: len(d.files("joe")) >= 2, 60), "JOE@VD.TEST: lowercased, delivered to joe")

    s.inject(msg("to joe-foo"), ALICE, ["joe-foo@vd.test"])
    check(wait_for(lambda: len(d.files("joe")) >= 3, 60), "joe-foo@vd.test: no user joe-foo, so joe's mailbox")
    ms = [m for m in d.messages("joe") if b"Subject: to joe-foo\n" in m]
    check(ms and b"\nDelivered-To: joe-foo@vd.test\n" in ms[0], "joe-foo: Delivered-To names the address")

    s.inject(msg("to ann-marie-x"), ALICE, ["ann-marie-x@vd.test"])
    check(wait_for(lambda: d.files("ann-marie"), 60), "ann-marie-x@vd.test: the longest user, ann-marie")

    s.inject(msg("to alias"), ALICE, ["alias@vd.test"])
    check(wait_for(lambda: [m for m in d.messages("joe") if b"Subject: to alias\n" in m], 60),
          ".qmail-alias in the domain directory still wins (qmail-local)")


def test_missing_dir(s, doms):
    d = doms["vd"]
    check(not os.path.exists(d.udir("ann")), "ann has no directory yet")
    s.inject(msg("to ann"), ALICE, ["ann@vd.test"])
    check(wait_for(lambda: d.files("ann"), 60), "ann@vd.test: directory and Maildir made, delivered")
    if os.path.exists(d.udir("ann")):
        st = os.stat(d.udir("ann"))
        check_eq((st.st_uid, st.st_mode & 0o777), (UID, 0o700), "ann's directory: the domain's owner, 0700")
    # A Maildir that lost its new/ (the user directory is there).
    shutil.rmtree(os.path.join(d.udir("joe"), "Maildir", "tmp"))
    n = len(d.files("joe"))
    s.inject(msg("to joe without tmp"), ALICE, ["joe@vd.test"])
    check(wait_for(lambda: len(d.files("joe")) > n, 60), "joe: a missing Maildir/tmp is made again")


def test_bounce_mail_flag(s, doms):
    s.inject(msg("to bob"), ALICE, ["bob@vd.test"])
    b = find_bounce(s, "to bob")
    check(b and b"does not take mail. (#5.2.1)" in b, "BOUNCE_MAIL: the message bounces",
          repr(b[:600]) if b else "no bounce")
    check(not doms["vd"].files("bob"), "BOUNCE_MAIL: nothing delivered")


def test_forward(s, doms):
    d = doms["vd"]
    n = len(s.messages("alice"))
    s.inject(msg("to fwd"), ALICE, ["fwd@vd.test"])
    check(wait_for(lambda: d.files("fwd"), 60), "fwd/.qmail: ./Maildir/ line delivered")
    got = wait_for(lambda: [m for m in s.messages("alice") if b"Subject: to fwd\n" in m], 60)
    check(got, "fwd/.qmail: &alice line forwarded through qmail-inject", "alice has %d" % n)
    if got:
        check(b"\nDelivered-To: fwd@vd.test\n" in got[0], "forward: carries our Delivered-To line",
              repr(got[0][:400]))
        check(b"Return-Path: <alice@test.example>" in got[0], "forward: the envelope sender is kept (-f)")


def test_program(s, doms):
    d = doms["vd"]
    s.inject(msg("to prog"), ALICE, ["prog@vd.test"])
    check(wait_for(lambda: d.files("prog"), 60), "prog/.qmail: the Maildir line after the program")
    try:
        with open(os.path.join(d.dir, "prog.stdin"), "rb") as f:
            stdin = f.read()
        with open(os.path.join(d.dir, "prog.env"), "rb") as f:
            env = f.read()
    except OSError as e:
        check(False, "prog: the program ran", str(e))
        return
    check(b"Subject: to prog\n" in stdin and not stdin.startswith(b"Return-Path"),
          "prog: the message on stdin, as qmail-local gives it")
    check(b"\nEXT=prog\n" in env and b"\nHOST=vd.test\n" in env and b"\nSENDER=alice@test.example\n" in env,
          "prog: qmail-local's environment", repr(env[:400]))

    s.inject(msg("to p99"), ALICE, ["p99@vd.test"])
    check(wait_for(lambda: os.path.exists(os.path.join(d.dir, "p99.ran")), 60), "p99: the program ran")
    check(wait_delivered(s), "p99: delivery finished")
    check_eq(d.files("p99"), [], "p99: exit 99 skips the lines after it")


def test_mbox(s, doms):
    d = doms["vd"]
    s.inject(msg("to mb"), ALICE, ["mb@vd.test"])
    p = os.path.join(d.udir("mb"), "mbox")
    check(wait_for(lambda: os.path.exists(p) and os.path.getsize(p) > 0, 60), "mb/.qmail: ./mbox written")
    with open(p, "rb") as f:
        box = f.read()
    check(box.startswith(b"From alice@test.example ") and b"\nReturn-Path: <alice@test.example>\nDelivered-To: mb@vd.test\n" in box,
          "mbox: From_, Return-Path and Delivered-To lines", repr(box[:200]))


def test_user_ext_file(s, doms):
    d = doms["vd"]
    s.inject(msg("to k-bar"), ALICE, ["k-bar@vd.test"])
    check(wait_for(lambda: d.files("k", "Maildir.bar"), 60), "k-bar: the user's .qmail-bar is followed")
    s.inject(msg("to k-other"), ALICE, ["k-other@vd.test"])
    check(wait_for(lambda: d.files("k"), 60), "k-other: no .qmail-other: k's Maildir")


def test_quota(s, doms):
    d = doms["vd"]
    md = os.path.join(d.udir("q"), "Maildir")
    # 2750 of 3000 bytes used: 91%.
    with open(os.path.join(md, "cur", "1000000000.filler.host:2,S"), "wb") as f:
        f.write(b"Subject: filler\n\n" + b"x" * (2750 - 18) + b"\n")
    chown_tree(md)
    # Directories changed just now make the count unsure (Courier's rule:
    # it is used once, not saved); an hour ago they are settled.
    old = time.time() - 3600
    for sub in ("", "cur", "new", "tmp"):
        os.utime(os.path.join(md, sub), (old, old))
    s.inject(msg("q1"), ALICE, ["q@vd.test"])
    check(wait_for(lambda: len(d.files("q")) >= 2, 60), "quota 91%: the warning and the message delivered")
    ms = d.messages("q")
    warn = [m for m in ms if b"Subject: vd.test quota warning\n" in m]
    check_eq(len(warn), 1, "quota: one warning, the domain's .quotawarn.msg")
    if warn:
        check(warn[0].startswith(b"Delivered-To: q@vd.test\nDate: "), "quota warning: Delivered-To and Date first",
              repr(warn[0][:120]))
    check(os.path.exists(os.path.join(md, "quotawarn")), "quota: Maildir/quotawarn timestamp")
    check(os.path.exists(os.path.join(md, "maildirsize")), "quota: maildirsize kept")
    s.inject(msg("q2"), ALICE, ["q@vd.test"])
    b = find_bounce(s, "q2")
    check(b and b"Mailbox full, says vd.test. (#5.2.2)" in b, "over quota: bounce with the domain's .over-quota.msg",
          repr(b[:600]) if b else "no bounce")
    check_eq(len([m for m in d.messages("q") if b"quota warning" in m]), 1, "quota: no second warning within 24 h")
    with open(os.path.join(md, "maildirsize"), "rb") as f:
        lines = f.read().splitlines()
    check_eq(lines[:1], [b"3000S"], "maildirsize: the quota definition line")
    ondisk = sum(os.path.getsize(p) for sub in ("new", "cur") for p in d.files("q", sub=sub))
    counted = sum(int(x.split()[0]) for x in lines[1:])
    check_eq(counted, ondisk, "maildirsize: its lines add up to the Maildir's bytes (recount, warning, message)")


def test_loops(s, doms):
    s.inject(msg("looping", b"Delivered-To: joe@vd.test\n"), ALICE, ["joe@vd.test"])
    b = find_bounce(s, "looping")
    check(b and b"looping" in b, "a message with our Delivered-To line bounces",
          repr(b[:600]) if b else "no bounce")
    s.inject(msg("l1 l2"), ALICE, ["l1@vd.test"])
    b = find_bounce(s, "l1 l2", 120)
    check(b and b"looping" in b, "l1 -> l2 -> l1 forwards: the loop ends in a bounce",
          repr(b[:600]) if b else "no bounce")


def test_unknown(s, doms):
    s.inject(msg("to nobody vd"), ALICE, ["nobody@vd.test"])
    check(wait_for(lambda: "nobody@vd.test:_message_deleted" in s.logtext(), 60),
          "delete: the log says the message was deleted")
    s.inject(msg("to nobody vd2"), ALICE, ["nobody@vd2.test"])
    b = find_bounce(s, "to nobody vd2")
    check(b and b"No such luser at vd2.test. (#5.1.1)" in b, "bounce-no-mailbox: the domain's .no-user.msg",
          repr(b[:600]) if b else "no bounce")
    s.inject(msg("to nobody vd3"), ALICE, ["nobody@vd3.test"])
    b = find_bounce(s, "to nobody vd3")
    check(b and b"Sorry, no mailbox here by that name. (#5.1.1)" in b, "bounce-no-mailbox: the default text",
          repr(b[:600]) if b else "no bounce")
    check(not find_bounce(s, "to nobody vd", 1), "delete: no bounce")

    s.inject(msg("to nobody vd4"), ALICE, ["nobody@vd4.test"])
    got = wait_for(lambda: [m for m in doms["vd"].messages("joe") if b"Subject: to nobody vd4\n" in m], 60)
    check(got, "catch-all address: forwarded to joe@vd.test")
    if got:
        check(b"Delivered-To: nobody@vd4.test\n" in got[0], "catch-all address: with the Delivered-To line")
    s.inject(msg("to nobody vd5"), ALICE, ["nobody@vd5.test"])
    check(wait_for(lambda: doms["vd5"].files("catch"), 60), "catch-all directory: its Maildir")
    s.inject(msg("to nobody vd6"), ALICE, ["nobody@vd6.test"])
    check(wait_for(lambda: doms["vd6"].files("box"), 60), "catch-all Maildir path: delivered there")
    check(wait_delivered(s), "every delivery finished")
    log = s.logtext()
    check("Sanitizer" not in log and "runtime error:" not in log, "no sanitizer report in the delivery log",
          log[-2000:])


def test_direct(doms):
    """vdelivermail run by hand: usage and environment errors."""
    d = doms["vd"]
    env = {"PATH": "/usr/bin:/bin", "EXT": "joe", "HOST": "vd.test", "SENDER": "a@b"}
    with open(os.devnull, "rb") as null:
        for args, e, want, name in (([], env, 111, "no arguments"),
                                    (["", "delete", "x"], env, 111, "three arguments"),
                                    (["", ""], env, 111, "empty instruction"),
                                    (["", "delete"], {"PATH": "/bin"}, 111, "no EXT and HOST")):
            p = subprocess.run([VDELIVERMAIL] + args, env=e, stdin=null, capture_output=True, timeout=60,
                               cwd=d.dir)
            check_eq(p.returncode, want, "vdelivermail by hand: " + name, p.stderr.decode(errors="replace"))
        # stdin a pipe: not seekable: temporary
        p = subprocess.run([VDELIVERMAIL, "", "delete"], env=env, input=b"Subject: x\n\nx\n", capture_output=True,
                           timeout=60, cwd=d.dir)
        check_eq(p.returncode, 111, "vdelivermail by hand: a pipe on stdin is temporary")


# ---- vchkpw ----


class Tcp(quail.TcpServer):
    """tcpserver -H -R on a free port of 127.0.0.1 running argv, in a
    session of its own, logging into top; a sanitizer report in its log
    is a failure."""

    def __init__(self, top, argv, env=None, user=None):
        full = {"PATH": "/usr/bin:/bin", "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
                "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "")}
        full.update(env or {})
        quail.TcpServer.__init__(self, argv, env=full, user=user,
                                 logfile=os.path.join(top, "tcp%d.log" % time.monotonic_ns()))

    def stop(self):
        if not self.proc:
            return
        quail.TcpServer.stop(self)
        log = self.logtext()
        check("Sanitizer" not in log and "runtime error:" not in log, "no sanitizer report under tcpserver",
              log[-3000:])


def pop_login(port, user, pw):
    """(True, STAT) or (False, the -ERR text)."""
    p = poplib.POP3("127.0.0.1", port, timeout=IOTIMEOUT)
    try:
        p.user(user)
        p.pass_(pw)
        st = p.stat()
        p.quit()
        return True, st
    except poplib.error_proto as e:
        try:
            p.close()
        except OSError:
            pass
        return False, str(e)


def test_pop(s, doms, top):
    d = doms["vd"]
    srv = Tcp(top, [os.path.join(BIN, "qmail-popup"), "pop.vd.test", VCHKPW, os.path.join(BIN, "qmail-pop3d"),
                    "Maildir"]).start()
    try:
        n = len(d.files("joe")) + len(d.files("joe", sub="cur"))
        ok, st = pop_login(srv.port, "joe@vd.test", d.password("joe"))
        check(ok and st[0] == n, "POP3 joe@vd.test: logged in, sees joe's %d messages" % n, repr(st))
        ok, st = pop_login(srv.port, "joe%vd.test", d.password("joe"))
        check(ok and st[0] == n, "POP3 joe%vd.test: the same mailbox", repr(st))
        ok, st = pop_login(srv.port, "JOE@VD.TEST", d.password("joe"))
        check(ok, "POP3 JOE@VD.TEST: names are lowercased", repr(st))
        ok, st = pop_login(srv.port, "joe@vd.test", "wrong")
        check(not ok and "authorization failed" in st, "POP3: a wrong password is refused", repr(st))
        ok, st = pop_login(srv.port, "nosuch@vd.test", "x")
        check(not ok and "authorization failed" in st, "POP3: an unknown user is refused", repr(st))
        ok, st = pop_login(srv.port, "joe@nosuch.test", d.password("joe"))
        check(not ok and "authorization failed" in st, "POP3: an unknown domain is refused", repr(st))
        ok, st = pop_login(srv.port, "nopop@vd.test", d.password("nopop"))
        check(not ok and "authorization failed" in st, "POP3: NO_POP refuses the right password", repr(st))
        ok, st = pop_login(srv.port, "joe", d.password("joe"))
        check(not ok, "POP3: a bare name without etc/defaultdomain is nobody", repr(st))
        os.makedirs(os.path.join(BASE, "etc"), exist_ok=True)
        with open(os.path.join(BASE, "etc", "defaultdomain"), "w") as f:
            f.write("vd.test\n")
        try:
            ok, st = pop_login(srv.port, "joe", d.password("joe"))
            check(ok and st[0] == n, "POP3: a bare name is in etc/defaultdomain's domain", repr(st))
        finally:
            os.unlink(os.path.join(BASE, "etc", "defaultdomain"))
        # A user without a Maildir yet: made at login, as the domain's owner.
        d.add("newbie", pw="nb-secret", make=False)
        ok, st = pop_login(srv.port, "newbie@vd.test", "nb-secret")
        check(ok and st[0] == 0, "POP3: a missing Maildir is made at login", repr(st))
        md = os.path.join(d.udir("newbie"), "Maildir")
        check(os.path.isdir(os.path.join(md, "new")) and os.stat(md).st_uid == UID,
              "POP3: the new Maildir belongs to the domain's owner")
        # RETR: the session really is joe's Maildir.
        p = poplib.POP3("127.0.0.1", srv.port, timeout=IOTIMEOUT)
        p.user("joe@vd.test")
        p.pass_(d.password("joe"))
        body = b"\n".join(p.retr(1)[1])
        p.quit()
        check(b"Return-Path: <alice@test.example>" in body and re_dt.search(body),
              "POP3: RETR gives one of joe's messages", repr(body[:300]))
    finally:
        srv.stop()


def smtp_auth(port, user, pw):
    c = smtplib.SMTP("127.0.0.1", port, timeout=IOTIMEOUT)
    try:
        c.ehlo("client.test")
        c.user, c.password = user, pw
        code, text = c.auth("PLAIN", c.auth_plain, initial_response_ok=True)
    except smtplib.SMTPAuthenticationError as e:
        code, text = e.smtp_code, e.smtp_error
    try:
        c.quit()
    except smtplib.SMTPException:
        pass
    return code


def test_smtp(s, doms, top):
    d = doms["vd"]
    unpriv = (UID, GID) if quail.is_root() else None
    srv = Tcp(top, [os.path.join(BIN, "qmail-smtpd"), "mx.vd.test", VCHKPW, "/bin/true"], env={"SMTPAUTH": ""},
              user=unpriv).start()
    try:
        check_eq(smtp_auth(srv.port, "joe@vd.test", d.password("joe")), 235, "SMTP AUTH PLAIN joe@vd.test: 235")
        check_eq(smtp_auth(srv.port, "joe@vd.test", "wrong"), 535, "SMTP AUTH: a wrong password: 535")
        check_eq(smtp_auth(srv.port, "nosmtp@vd.test", d.password("nosmtp")), 535, "SMTP AUTH: NO_SMTP: 535")
        check_eq(smtp_auth(srv.port, "nopop@vd.test", d.password("nopop")), 235, "SMTP AUTH: NO_POP does not stop SMTP")

        c = smtplib.SMTP("127.0.0.1", srv.port, timeout=IOTIMEOUT)
        c.ehlo("client.test")
        c.mail("alice@test.example")
        for rcpt, want, name in (("joe@vd.test", 250, "a user"),
                                 ("joe-foo@vd.test", 250, "user-ext"),
                                 ("alias@vd.test", 250, "a .qmail-alias"),
                                 ("nobody@vd.test", 550, "unknown, delete"),
                                 ("nobody@vd2.test", 550, "unknown, bounce-no-mailbox"),
                                 ("nobody@vd4.test", 250, "unknown, catch-all address"),
                                 ("nobody@vd5.test", 250, "unknown, catch-all directory")):
            code, text = c.rcpt(rcpt)
            check_eq(code, want, "RCPT %s (%s)" % (rcpt, name), text.decode(errors="replace"))
        c.quit()
    finally:
        srv.stop()


def test_vchkpw_direct(doms):
    """vchkpw by hand: the service from TCPLOCALPORT, and misuse."""
    d = doms["vd"]
    prog = ["/bin/sh", "-c", "echo ran $(id -u) $USER $VPOPUSER $SHELL; pwd"]

    def run(login, pw, port=None, argv=prog):
        env = {"PATH": "/usr/bin:/bin"}
        if port:
            env["TCPLOCALPORT"] = port
        # sh puts the data (our pipe on its stdin) on descriptor 3.
        p = subprocess.run(["/bin/sh", "-c", 'exec "$0" "$@" 3<&0 </dev/null', VCHKPW] + argv, env=env,
                           input=login.encode() + b"\0" + pw.encode() + b"\0<1.2@x>\0", capture_output=True,
                           timeout=60, cwd="/")
        return p.returncode, p.stdout.decode(errors="replace")

    rc, out = run("nopop@vd.test", d.password("nopop"), "110")
    check_eq(rc, 1, "vchkpw: NO_POP on port 110: 1")
    rc, out = run("nopop@vd.test", d.password("nopop"), "25")
    check_eq(rc, 0, "vchkpw: NO_POP on port 25 (SMTP): 0", out)
    check(out.startswith("ran %d nopop nopop@vd.test NOLOGIN\n/\n" % UID),
          "vchkpw SMTP: USER, VPOPUSER, SHELL set; the directory not changed; never root", out)
    rc, out = run("nosmtp@vd.test", d.password("nosmtp"), "587")
    check_eq(rc, 1, "vchkpw: NO_SMTP on port 587: 1")
    rc, out = run("joe@vd.test", d.password("joe"), "110")
    check(rc == 0 and out.endswith("\n%s\n" % d.udir("joe")), "vchkpw POP3: in the user's directory", out)
    rc, out = run("joe@vd.test", d.password("joe"), None, ["/bin/echo", "x"])
    check_eq(rc, 0, "vchkpw: another program, another port: POP3")
    rc, out = run("joe@vd.test", d.password("joe"), "110", [])
    check_eq(rc, 2, "vchkpw: no program: 2")
    rc, out = run("joe@vd.test", "", "110")
    check_eq(rc, 1, "vchkpw: an empty password: 1")
    # A login of 500 bytes: within the 512, but no such name.
    rc, out = run("a" * 400 + "@vd.test", "x", "110")
    check_eq(rc, 1, "vchkpw: an over-long login: 1")


def main():
    if not os.path.exists(VDELIVERMAIL) or not os.path.exists(VCHKPW):
        quail.skip("vdeliver", "vdelivermail or vchkpw not built")
        quail.done()
    s = None
    try:
        s, doms = setup()
        for t in (test_user, test_missing_dir, test_bounce_mail_flag, test_forward, test_program, test_mbox,
                  test_user_ext_file, test_quota, test_loops, test_unknown):
            t0 = time.time()
            try:
                t(s, doms)
                print("# %s: %.1f s" % (t.__name__, time.time() - t0))
            except Exception:
                check(False, t.__name__, traceback.format_exc())
        for t in (test_direct, test_vchkpw_direct):
            try:
                t(doms)
            except Exception:
                check(False, t.__name__, traceback.format_exc())
        for t in (test_pop, test_smtp):
            try:
                t(s, doms, s.top)
            except Exception:
                check(False, t.__name__, traceback.format_exc())
    finally:
        if s:
            s.stop()
            s.cleanup()
        VDomain.remove_all()
    quail.done()


if __name__ == "__main__":
    main()
