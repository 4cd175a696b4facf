"""Virtual domains the vpopmail way, end to end, as a newcomer uses them
(issue 7, "Done means"): the vpopmail 5.6 commands (vadddomain, vadduser,
valias, vsetuserquota, vmoduser, vpasswd, vuserinfo, vdominfo,
vaddaliasdomain, vdeluser, vdeldomain, vmkpasswd) on the test instance
with qmail-send running; mail through qmail-smtpd under the real tcpserver
(smtplib and swaks); reading through qmail-popup + vchkpw + qmail-pop3d
with poplib; SMTP AUTH through vchkpw; then the bad input of the issue.

    two domains (alpha.example, beta.example with a catch-all), a third
    (gamma.example) that lands in morercpthosts, three users (alice, bob,
    carol) plus each domain's postmaster, an alias (info@alpha -> carol),
    a forward (bob's .qmail -> friend@remote.example, a sink behind
    smtproutes, with a copy kept), an alias domain.

When the tests run as root the domains are made with `vadddomain -i UID
-g GID` of nobody (qmail-lspawn never delivers as root, and the instance's
owner is the invoking user), and qmail-smtpd runs as nobody under tcpserver -u.

Every process started here is stopped by pid; every domain made here is
deleted (and the test checks that deletion leaves no trace in users/assign,
users/cdb, rcpthosts, morercpthosts, virtualdomains).
"""

import os
import poplib
import pwd
import shutil
import signal
import smtplib
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(__file__))
import quail  # noqa: E402
from quail import check, check_eq, ROOT, BIN, wait_for  # noqa: E402
import vpophelp as vh  # noqa: E402
from vpophelp import v, read, lines, domdir  # noqa: E402

signal.signal(signal.SIGPIPE, signal.SIG_IGN)
poplib._MAXLINE = 1 << 20

A, B, G = "alpha.example", "beta.example", "gamma.example"
ALIASDOM = "alias-alpha.example"
PW = {"postmaster@" + A: "pm-Alpha-1", "postmaster@" + B: "pm-Beta-2", "postmaster@" + G: "pm-Gamma-3",
      "alice@" + A: "Alice pw 1!", "bob@" + A: "bob-secret-2", "carol@" + B: "carol:colon;3"}
FILLERS = ["filler%d.example" % i for i in range(48)]   # so that the third domain goes to morercpthosts
VCHKPW = os.path.join(BIN, "vchkpw")
ROOTMODE = quail.is_root()
OWNER = "nobody" if ROOTMODE else pwd.getpwuid(os.getuid()).pw_name
OWNER_IDS = vh.ids_of(OWNER)
QUOTA = 100000
BIG = 30000


def msg(subject, body=b"hello\n", frm="someone@remote.example", to="x@example"):
    return ("From: %s\r\nTo: %s\r\nSubject: %s\r\n\r\n" % (frm, to, subject)).encode() + body.replace(b"\n", b"\r\n")


def udir(addr):
    user, dom = addr.split("@")
    return os.path.join(domdir(dom), user)


def mdir(addr):
    return os.path.join(udir(addr), "Maildir")


def count(addr):
    return len(vh.maildir_files(mdir(addr)))


def with_subject(addr, subject):
    return [m for m in vh.maildir_messages(mdir(addr)) if ("Subject: " + subject).encode() in m]


def wait_subject(addr, subject, n=1, timeout=60):
    return wait_for(lambda: len(with_subject(addr, subject)) >= n, timeout)


class T:
    """The test's world: the running qmail-send, the servers, the sink."""
    sys = None
    smtpd = None
    authd = None
    pop = None
    sink = None


# ---- SMTP and POP clients ----

def smtp_session(port=None):
    s = smtplib.SMTP("127.0.0.1", port or T.smtpd.port, timeout=vh.IOTIMEOUT)
    s.ehlo("client.remote.example")
    return s


def rcpt_reply(addr, sender="someone@remote.example"):
    """(code, text) qmail-smtpd gives to RCPT TO:<addr>."""
    return rcpt_reply_port(T.smtpd.port, addr, sender)


def rcpt_reply_port(port, addr, sender="someone@remote.example"):
    s = smtp_session(port)
    try:
        s.mail(sender)
        code, text = s.rcpt(addr)
        return code, text.decode("latin-1")
    finally:
        try:
            s.quit()
        except smtplib.SMTPException:
            pass


def send(rcpts, message, sender="someone@remote.example"):
    """Sends one message through qmail-smtpd; returns {rcpt: (code,
    text)} of the refused ones (empty when all were accepted), or raises."""
    s = smtp_session()
    try:
        return s.sendmail(sender, rcpts, message)
    finally:
        try:
            s.quit()
        except smtplib.SMTPException:
            pass


def try_send(name, rcpts, message, sender="someone@remote.example"):
    try:
        refused = send(rcpts, message, sender)
        return check_eq(refused, {}, name + ": qmail-smtpd accepts every recipient")
    except (smtplib.SMTPException, OSError) as e:
        return check(False, name + ": qmail-smtpd accepts the message", repr(e))


def pop_login(user, password):
    """(ok, detail, POP3 object or None)."""
    try:
        p = poplib.POP3("127.0.0.1", T.pop.port, timeout=vh.IOTIMEOUT)
    except OSError as e:
        return False, "connect: %r" % e, None
    try:
        p.user(user)
        p.pass_(password)
        return True, "", p
    except (poplib.error_proto, OSError) as e:
        try:
            p.quit()
        except Exception:
            pass
        return False, repr(e), None


def pop_retr_all(user, password, delete=False):
    ok, why, p = pop_login(user, password)
    if not ok:
        return None, why
    try:
        out = []
        n = p.stat()[0]
        for i in range(1, n + 1):
            out.append(b"\n".join(p.retr(i)[1]))
            if delete:
                p.dele(i)
        p.quit()
        return out, ""
    except (poplib.error_proto, OSError) as e:
        return None, repr(e)


# ---- setup ----

def setup():
    check(os.path.isdir(vh.DOMAINS), "make instance creates the store " + vh.DOMAINS,
          "the domain store is missing after make instance (V1: install step)")
    # leftovers of an earlier run
    for d in [A, B, G, ALIASDOM, "upper.example"]:
        shutil.rmtree(domdir(d), ignore_errors=True)
    os.makedirs(vh.DOMAINS, exist_ok=True)
    T.sink = vh.Sink()
    T.sys = vh.System(controls={
        "rcpthosts": "\n".join(["test.example"] + FILLERS[:-1]),
        "smtproutes": "remote.example:127.0.0.1:%d" % T.sink.port,
        "virtualdomains": "",
    }, users=())
    T.sys.start()
    ids = OWNER_IDS if ROOTMODE else None
    T.smtpd = vh.TcpServer([os.path.join(BIN, "qmail-smtpd")], T.sys.top, ids=ids, name="smtpd").start()
    T.authd = vh.TcpServer([os.path.join(BIN, "qmail-smtpd"), "mx.test.example", VCHKPW, "/bin/true"], T.sys.top,
                           env={"SMTPAUTH": "1"}, ids=ids, name="authd").start()
    T.pop = vh.TcpServer([os.path.join(BIN, "qmail-popup"), "pop.test.example", VCHKPW,
                          os.path.join(BIN, "qmail-pop3d"), "Maildir"], T.sys.top, name="pop").start()


def owner_args():
    # -u would also take the user's home as the base (vpopmail's rule)
    return ["-i", str(OWNER_IDS[0]), "-g", str(OWNER_IDS[1])] if ROOTMODE else []


# ---- the story ----

def test_domains():
    r = v("vadddomain", *owner_args(), A, PW["postmaster@" + A])
    check_eq(r.rc, 0, "vadddomain %s" % A, r.why())
    d = domdir(A)
    check(os.path.isdir(d), "vadddomain makes " + d)
    check_eq(read(os.path.join(d, ".qmail-default")), "| %s/bin/vdelivermail '' delete\n" % ROOT,
             "vadddomain writes .qmail-default running vdelivermail with delete")
    uid, gid = OWNER_IDS
    want = "+%s-:%s:%d:%d:%s:-::" % (A, A, uid, gid, d)
    assign = lines(os.path.join(ROOT, "users", "assign"))
    check(want in assign, "users/assign has the domain's line " + want, repr(assign))
    check(assign[-1:] == ["."], "users/assign still ends with a lone dot", repr(assign))
    try:
        _, lookup = quail.cdb_read(os.path.join(ROOT, "users", "cdb"))
        got = lookup(b"!" + A.encode() + b"-")
        # qmail-newu's layout: the six fields after the address, NUL
        # between them (the empty extension last)
        check_eq(got, [("%s\0%d\0%d\0%s\0-\0" % (A, uid, gid, d)).encode()],
                 "qmail-newu ran: users/cdb has !%s- as vpopmail's vget_assign reads it" % A)
    except OSError as e:
        check(False, "users/cdb readable", repr(e))
    check(A in lines(os.path.join(ROOT, "control", "rcpthosts")), "vadddomain adds the domain to rcpthosts")
    check(A + ":" + A in lines(os.path.join(ROOT, "control", "virtualdomains")),
          "vadddomain adds %s:%s to virtualdomains" % (A, A))
    pm = vh.vpasswd(A) or {}
    check("postmaster" in pm, "vadddomain makes the postmaster account", repr(pm))
    if "postmaster" in pm:
        f = pm["postmaster"]
        check(len(f) in (6, 7), "vpasswd line has 7 or 8 fields", repr(f))
        check(f[0].startswith("$6$") or f[0].startswith("$y$"), "the password is hashed with SHA-512 or yescrypt",
              f[0])
        check(PW["postmaster@" + A] not in ":".join(f), "no clear-text password in vpasswd unless asked for")
        check_eq(f[4:5], [os.path.join(d, "postmaster")], "postmaster's directory field")
        check(os.path.isdir(os.path.join(d, "postmaster", "Maildir", "new")), "postmaster has a Maildir")
    st = os.stat(os.path.join(d, "vpasswd")) if os.path.exists(os.path.join(d, "vpasswd")) else None
    check(st is not None and not st.st_mode & 0o004, "vpasswd (password hashes) is not world-readable",
          oct(st.st_mode) if st else "missing")
    check(st is not None and (st.st_uid, st.st_gid) == OWNER_IDS, "vpasswd belongs to the domain owner " + OWNER,
          repr((st.st_uid, st.st_gid)) if st else "missing")
    cdb = vh.vpasswd_cdb(A)
    check(cdb is not None and "postmaster" in cdb, "vpasswd.cdb has postmaster", repr(cdb))
    r = v("vdominfo", A)
    check(r.rc == 0 and A in r.out and d in r.out, "vdominfo names the domain and its directory", r.why())

    # the catch-all domain, with vadddomain -e
    r = v("vadddomain", *owner_args(), "-e", "postmaster@" + B, B, PW["postmaster@" + B])
    check_eq(r.rc, 0, "vadddomain -e postmaster@%s %s" % (B, B), r.why())
    check_eq(read(os.path.join(domdir(B), ".qmail-default")), "| %s/bin/vdelivermail '' postmaster@%s\n" % (ROOT, B),
             "vadddomain -e writes a catch-all .qmail-default")
    rh = lines(os.path.join(ROOT, "control", "rcpthosts"))
    check(B in rh, "with 49 lines in rcpthosts, the domain goes there (now %d lines)" % len(rh), repr(rh[-3:]))

    # the third one: rcpthosts has 50 lines, so morercpthosts (vpopmail's rule)
    r = v("vadddomain", *owner_args(), "-b", G, PW["postmaster@" + G])
    check_eq(r.rc, 0, "vadddomain -b " + G, r.why())
    check_eq(read(os.path.join(domdir(G), ".qmail-default")), "| %s/bin/vdelivermail '' bounce-no-mailbox\n" % ROOT,
             "vadddomain -b writes bounce-no-mailbox")
    check(G not in lines(os.path.join(ROOT, "control", "rcpthosts")), "with 50 lines in rcpthosts, not there")
    check(G in lines(os.path.join(ROOT, "control", "morercpthosts")), "but in morercpthosts")
    try:
        _, lookup = quail.cdb_read(os.path.join(ROOT, "control", "morercpthosts.cdb"))
        check(lookup(G.encode()) != [], "qmail-newmrh ran: morercpthosts.cdb has " + G)
    except OSError as e:
        check(False, "morercpthosts.cdb exists after vadddomain", repr(e))

    r = v("vadddomain", *owner_args(), A, "again")
    check(r.rc not in (0, None), "vadddomain of an existing domain fails", r.why())
    check_eq(sum(1 for l in lines(os.path.join(ROOT, "users", "assign")) if l.startswith("+%s-:" % A)), 1,
             "and leaves one assign line")


def test_users():
    r = v("vadduser", "-c", "Alice Liddell", "alice@" + A, PW["alice@" + A])
    check_eq(r.rc, 0, "vadduser alice@%s with a password with a space" % A, r.why())
    r = v("vadduser", "bob@" + A, PW["bob@" + A])
    check_eq(r.rc, 0, "vadduser bob@" + A, r.why())
    r = v("vadduser", "carol@" + B, PW["carol@" + B])
    check_eq(r.rc, 0, "vadduser carol@%s with a colon in the password" % B, r.why())
    pa = vh.vpasswd(A) or {}
    if check("alice" in pa, "alice is in vpasswd", repr(pa)):
        f = pa["alice"]
        check_eq(f[3:6], ["Alice Liddell", udir("alice@" + A), "NOQUOTA"], "alice's gecos, dir, quota fields")
        check(f[0].startswith("$"), "alice's password is a crypt hash", f[0])
    check(os.path.isdir(os.path.join(mdir("alice@" + A), "tmp")), "vadduser makes alice's Maildir")
    st = os.stat(udir("alice@" + A)) if os.path.isdir(udir("alice@" + A)) else None
    check(st is not None and st.st_uid == OWNER_IDS[0], "alice's directory belongs to the domain owner")
    cdb = vh.vpasswd_cdb(A) or {}
    check("alice" in cdb and "bob" in cdb, "vpasswd.cdb rebuilt with alice and bob", repr(sorted(cdb)))
    check("carol" in (vh.vpasswd(B) or {}), "carol is in beta's vpasswd")
    r = v("vuserinfo", "alice@" + A)
    check(r.rc == 0 and "alice" in r.out and udir("alice@" + A) in r.out and "Alice Liddell" in r.out,
          "vuserinfo shows name, gecos and directory", r.why())
    r = v("vuserinfo", "-d", "alice@" + A)
    check(r.rc == 0 and r.out.strip() == udir("alice@" + A), "vuserinfo -d prints only the directory", r.why())
    r = v("vuserinfo", "nosuch@" + A)
    check(r.rc not in (0, None), "vuserinfo of an unknown user fails", r.why())

    before = read(os.path.join(domdir(A), "vpasswd"))
    r = v("vadduser", "alice@" + A, "other")
    check(r.rc not in (0, None), "vadduser of an existing user fails", r.why())
    check_eq(read(os.path.join(domdir(A), "vpasswd")), before, "and vpasswd is unchanged")
    r = v("vadduser", "dan@nosuch.example", "pw")
    check(r.rc not in (0, None), "vadduser in an unknown domain fails", r.why())
    check(not os.path.exists(domdir("nosuch.example")), "and makes no directory for it")

    # the alias (valias -i, as vpopmail's valias(1) shows)
    r = v("valias", "-i", "carol@" + B, "info@" + A)
    check_eq(r.rc, 0, "valias -i carol@%s info@%s" % (B, A), r.why())
    t = read(os.path.join(domdir(A), ".qmail-info")) or ""
    check("carol@" + B in t, "valias writes .qmail-info with the target", repr(t))
    r = v("valias", "-s", "info@" + A)
    check(r.rc == 0 and "carol@" + B in r.out, "valias -s shows the alias", r.why())

    # the forward: bob's own .qmail (vdelivermail reads it), with a copy kept
    path = os.path.join(udir("bob@" + A), ".qmail")
    with open(path, "w") as f:
        f.write("&friend@remote.example\n./Maildir/\n")
    os.chown(path, *OWNER_IDS)


def test_smtp():
    c = {u: count(u) for u in ("alice@" + A, "bob@" + A, "carol@" + B, "postmaster@" + B, "postmaster@" + G)}
    try_send("alice", ["alice@" + A], msg("to alice", to="alice@" + A))
    try_send("mixed case", ["Alice@ALPHA.Example"], msg("to ALICE", to="Alice@ALPHA.Example"))
    try_send("alias", ["info@" + A], msg("to info", to="info@" + A))
    try_send("forward", ["bob@" + A], msg("to bob", to="bob@" + A))
    try_send("catch-all", ["whoever@" + B], msg("to whoever", to="whoever@" + B))
    try_send("morercpthosts domain", ["postmaster@" + G], msg("to gamma pm", to="postmaster@" + G))
    sw = subprocess.run([vh.SWAKS, "--server", "127.0.0.1", "--port", str(T.smtpd.port), "--from",
                         "swaks@remote.example", "--to", "carol@" + B, "--header", "Subject: via swaks",
                         "--body", "hello from swaks", "--timeout", "60"], capture_output=True, timeout=120)
    check_eq(sw.returncode, 0, "swaks to carol@" + B, sw.stdout.decode()[-1500:])

    check(wait_subject("alice@" + A, "to alice"), "delivered to alice's Maildir")
    check(wait_subject("alice@" + A, "to ALICE"), "Alice@ALPHA.Example reaches alice")
    m = with_subject("alice@" + A, "to alice")
    if m:
        # vdelivermail writes the Maildir itself, with vpopmail's
        # Delivered-To: user@domain (qmail-local's would carry the
        # virtualdomains prefix); one of them, once
        dt = [l for l in m[0].split(b"\n\n")[0].split(b"\n") if l.lower().startswith(b"delivered-to:")]
        check(dt in ([b"Delivered-To: alice@" + A.encode()], [b"Delivered-To: %s-alice@%s" % (A.encode(), A.encode())]),
              "one Delivered-To line naming alice@" + A, repr(m[0][:600]))
        check(m[0].startswith(b"Return-Path: <someone@remote.example>\n"), "Return-Path first", repr(m[0][:200]))
        check(b"\r\n" not in m[0], "stored with LF line ends")
    check(wait_subject("carol@" + B, "to info"), "the alias info@%s reaches carol@%s" % (A, B))
    check(wait_subject("carol@" + B, "via swaks"), "swaks's message reaches carol")
    check(wait_subject("postmaster@" + B, "to whoever"), "the catch-all gets whoever@" + B)
    check(wait_subject("postmaster@" + G, "to gamma pm"), "postmaster@%s (a morercpthosts domain) gets mail" % G)
    check(wait_for(lambda: any(r == ["friend@remote.example"] for _, r, _ in T.sink.messages), 90),
          "bob's .qmail forwards to friend@remote.example (the sink)",
          repr([(s, r) for s, r, _ in T.sink.messages]) + T.sys.logtext()[-2000:])
    fw = [d for s, r, d in T.sink.messages if r == ["friend@remote.example"]]
    if fw:
        check(b"Subject: to bob" in fw[0], "the forwarded message is bob's", repr(fw[0][:500]))
    check(wait_subject("bob@" + A, "to bob"), "bob keeps a copy (./Maildir/ in his .qmail)")
    check_eq(count("alice@" + A) - c["alice@" + A], 2, "alice got exactly two messages")

    code, text = rcpt_reply("nosuch@" + A)
    check(code == 550 and "5.1.1" in text, "RCPT to an unknown user of %s: 550 5.1.1" % A, "%r %r" % (code, text))
    code, text = rcpt_reply("nosuch@" + G)
    check(code == 550 and "5.1.1" in text, "RCPT to an unknown user of a bounce-no-mailbox domain: 550 5.1.1",
          "%r %r" % (code, text))
    code, text = rcpt_reply("nosuch@" + B)
    check_eq(code, 250, "RCPT to an unknown user of the catch-all domain: 250", text)
    code, text = rcpt_reply("info@" + A)
    check_eq(code, 250, "RCPT to the alias: 250", text)
    code, text = rcpt_reply("postmaster@" + A)
    check_eq(code, 250, "RCPT to postmaster@" + A, text)
    code, text = rcpt_reply("nosuch@unlisted.example")
    check_eq(code, 553, "RCPT to a domain in no rcpthosts: 553", text)
    if ROOTMODE:
        # As installed, qmail-smtpd runs as qmaild, not as the domain's
        # owner, with the store's group (tcpserver -g vchkpw, vpasswd(5)):
        # the check must work for that user. The stand-in here is "daemon",
        # with the domains' group.
        daemon_uid = vh.ids_of("daemon")[0]
        other = vh.TcpServer([os.path.join(BIN, "qmail-smtpd")], T.sys.top, ids=(daemon_uid, OWNER_IDS[1]),
                             name="qmaild").start()
        try:
            code, text = rcpt_reply_port(other.port, "nosuch@" + A)
            check(code == 550 and "5.1.1" in text,
                  "RCPT to an unknown user with qmail-smtpd running as another user than the domain owner "
                  "(qmaild, as installed, with the store's group): 550 5.1.1", "%r %r" % (code, text))
            code, text = rcpt_reply_port(other.port, "alice@" + A)
            check_eq(code, 250, "and a known user still gets 250", text)
        finally:
            other.stop()
        # Without the group it cannot read the user list: it accepts, as the
        # issue says it must when it cannot know (delivery decides).
        other = vh.TcpServer([os.path.join(BIN, "qmail-smtpd")], T.sys.top, ids=vh.ids_of("daemon"),
                             name="qmaild-nogroup").start()
        try:
            code, text = rcpt_reply_port(other.port, "nosuch@" + A)
            check_eq(code, 250, "without the store's group, qmail-smtpd cannot tell: it accepts", text)
        finally:
            other.stop()


def test_pop():
    got, why = pop_retr_all("alice@" + A, PW["alice@" + A])
    if check(got is not None, "POP login alice@%s through vchkpw" % A, why + T.pop.logtext()[-1500:]):
        check_eq(len(got), 2, "alice sees her two messages")
        check(any(b"Subject: to alice" in m for m in got), "RETR gives the message")
    ok, why, p = pop_login("bob%" + A, PW["bob@" + A])
    check(ok, "POP login as bob%" + A, why)
    if p:
        p.quit()
    ok, why, p = pop_login("BOB@ALPHA.EXAMPLE", PW["bob@" + A])
    check(ok, "POP login in upper case", why)
    if p:
        p.quit()
    got, why = pop_retr_all("carol@" + B, PW["carol@" + B])
    check(got is not None and len(got) == 2, "carol (password with a colon) logs in and sees two messages",
          why + repr(got and len(got)))
    ok, why, _ = pop_login("alice@" + A, "wrong")
    check(not ok, "POP: a wrong password is refused")
    ok, why, _ = pop_login("nosuch@" + A, "x")
    check(not ok, "POP: an unknown user is refused")
    ok, why, _ = pop_login("alice@" + B, PW["alice@" + A])
    check(not ok, "POP: the right password in the wrong domain is refused")
    ok, why, _ = pop_login("alice", PW["alice@" + A])
    check(not ok, "POP: a bare user name without a default domain is refused")

    r = v("vpasswd", "alice@" + A, "new-Alice-pw")
    check_eq(r.rc, 0, "vpasswd alice@%s newpw" % A, r.why())
    ok, _, p = pop_login("alice@" + A, "new-Alice-pw")
    check(ok, "POP: the new password works")
    if p:
        p.quit()
    ok, _, _ = pop_login("alice@" + A, PW["alice@" + A])
    check(not ok, "POP: the old password no longer does")
    PW["alice@" + A] = "new-Alice-pw"

    # NO_POP, and vmoduser -x to clear it
    r = v("vmoduser", "-p", "carol@" + B)
    check_eq(r.rc, 0, "vmoduser -p carol (NO_POP)", r.why())
    f = (vh.vpasswd(B) or {}).get("carol", [])
    check(len(f) > 2 and f[2].isdigit() and int(f[2]) & 0x02, "NO_POP (0x02) is set in the flags field", repr(f))
    ok, _, p = pop_login("carol@" + B, PW["carol@" + B])
    check(not ok, "POP: NO_POP refuses carol's login")
    code = smtp_auth("carol@" + B, PW["carol@" + B])
    check_eq(code, 235, "SMTP AUTH still works with NO_POP")
    r = v("vmoduser", "-x", "carol@" + B)
    check_eq(r.rc, 0, "vmoduser -x carol (clear flags)", r.why())
    ok, _, p = pop_login("carol@" + B, PW["carol@" + B])
    check(ok, "POP: carol logs in again after vmoduser -x")
    if p:
        p.quit()
    r = v("vmoduser", "-s", "carol@" + B)
    check_eq(r.rc, 0, "vmoduser -s carol (NO_SMTP)", r.why())
    check(smtp_auth("carol@" + B, PW["carol@" + B]) != 235, "SMTP AUTH refused with NO_SMTP")
    ok, _, p = pop_login("carol@" + B, PW["carol@" + B])
    check(ok, "POP still works with NO_SMTP")
    if p:
        p.quit()
    v("vmoduser", "-x", "carol@" + B)
    check_eq(smtp_auth("alice@" + A, "wrong"), 535, "SMTP AUTH with a wrong password: 535")

    # a missing Maildir: vchkpw makes it at login
    shutil.rmtree(mdir("alice@" + A), ignore_errors=True)
    got, why = pop_retr_all("alice@" + A, PW["alice@" + A])
    check(got == [], "POP login with the Maildir gone: vchkpw makes it, empty", why + repr(got))
    check(os.path.isdir(os.path.join(mdir("alice@" + A), "new")), "alice's Maildir exists again")
    st = os.stat(mdir("alice@" + A)) if os.path.isdir(mdir("alice@" + A)) else None
    check(st is not None and st.st_uid == OWNER_IDS[0], "the remade Maildir belongs to the domain owner",
          repr(st and st.st_uid))
    # and a missing Maildir at delivery
    shutil.rmtree(mdir("alice@" + A), ignore_errors=True)
    try_send("to alice without a Maildir", ["alice@" + A], msg("maildir gone"))
    check(wait_subject("alice@" + A, "maildir gone"), "vdelivermail makes a missing Maildir at first delivery",
          T.sys.logtext()[-1500:])


def smtp_auth(user, password):
    """The reply code to AUTH PLAIN through qmail-smtpd + vchkpw."""
    try:
        s = smtplib.SMTP("127.0.0.1", T.authd.port, timeout=vh.IOTIMEOUT)
        s.ehlo("client.remote.example")
        try:
            code, _ = s.docmd("AUTH", "PLAIN " + __import__("base64").b64encode(
                ("\0%s\0%s" % (user, password)).encode()).decode())
            return code
        finally:
            try:
                s.quit()
            except smtplib.SMTPException:
                pass
    except (smtplib.SMTPException, OSError) as e:
        return repr(e)


def test_quota():
    bob = "bob@" + A
    d = domdir(A)
    with open(os.path.join(d, ".quotawarn.msg"), "w") as f:
        f.write("From: postmaster@%s\nSubject: QUAILTEST mailbox almost full\n\nYour mailbox is over 90%%.\n" % A)
    with open(os.path.join(d, ".over-quota.msg"), "w") as f:
        f.write("QUAILTEST mailbox is full\n")
    # start from an empty mailbox
    got, why = pop_retr_all(bob, PW[bob], delete=True)
    check(got is not None, "bob empties his mailbox by POP", why)
    r = v("vsetuserquota", bob, QUOTA)
    check_eq(r.rc, 0, "vsetuserquota %s %d" % (bob, QUOTA), r.why())
    q = ((vh.vpasswd(A) or {}).get("bob") or [""] * 6)[5]
    check(q in ("%dS" % QUOTA, str(QUOTA)), "bob's quota field is %dS" % QUOTA, repr(q))
    # no forward for the quota part
    os.unlink(os.path.join(udir(bob), ".qmail"))
    sender = "alice@" + A
    for i in range(3):
        try_send("big %d" % i, [bob], msg("big %d" % i, body=b"x" * 70 + b"\n") * 1 +
                 (b"y" * 99 + b"\r\n") * (BIG // 101), sender=sender)
        check(wait_subject(bob, "big %d" % i), "big message %d (about %d bytes) delivered" % (i, BIG),
              T.sys.logtext()[-1500:])
    ms = read(os.path.join(mdir(bob), "maildirsize"))
    check(ms is not None and ms.split("\n")[0].startswith("%dS" % QUOTA), "maildirsize has the limit %dS" % QUOTA,
          repr(ms))
    # over 90% now (or with the next message, if the check looks at the
    # usage before delivery): the warning arrives once
    try_send("small", [bob], msg("small one"), sender=sender)
    check(wait_subject(bob, "small one"), "a small message still fits")
    check(wait_subject(bob, "QUAILTEST mailbox almost full"), "over 90%: the quota warning arrives",
          repr([m[:300] for m in vh.maildir_messages(mdir(bob))][-1:]))
    check(os.path.exists(os.path.join(mdir(bob), "quotawarn")), "Maildir/quotawarn records the warning's time")
    try_send("small 2", [bob], msg("small two"), sender=sender)
    check(wait_subject(bob, "small two"), "another small message fits")
    check_eq(len(with_subject(bob, "QUAILTEST mailbox almost full")), 1, "the 90% warning came once")
    bounces0 = len(with_subject(sender, "failure notice"))
    try_send("over quota", [bob], msg("too much") + (b"z" * 99 + b"\r\n") * (BIG // 101), sender=sender)
    check(wait_for(lambda: len(with_subject(sender, "failure notice")) > bounces0, 90),
          "over quota: the sender gets a bounce", T.sys.logtext()[-2000:])
    b = with_subject(sender, "failure notice")
    if b:
        check(b"QUAILTEST mailbox is full" in b[-1], "the bounce says the domain's .over-quota.msg", repr(b[-1][:1500]))
        check(b"bob@" + A.encode() in b[-1], "the bounce names bob")
    check(not with_subject(bob, "too much"), "the message did not go into bob's Maildir")
    r = v("vuserinfo", "-Q", bob)
    check(r.rc == 0 and r.out.strip() != "", "vuserinfo -Q shows bob's usage", r.why())

    # an out-of-date maildirsize: POP deletes everything (qmail-pop3d does
    # not touch maildirsize); the file still says ~95%, but it is older
    # than 15 minutes, so delivery must recount (Maildir++)
    got, why = pop_retr_all(bob, PW[bob], delete=True)
    check(got is not None and count(bob) == 0, "bob's mailbox emptied by POP", why)
    msz = os.path.join(mdir(bob), "maildirsize")
    if os.path.exists(msz):
        vh.mtime_back(msz, 20 * 60)
    try_send("after recount", [bob], msg("recounted") + (b"w" * 99 + b"\r\n") * (BIG // 101), sender=sender)
    check(wait_subject(bob, "recounted"), "a stale maildirsize (20 minutes old) is recalculated: delivered",
          T.sys.logtext()[-1500:])
    total = sum(os.path.getsize(p) for p in vh.maildir_files(mdir(bob)))
    used = maildirsize_used(msz)
    # recounted and written, or (Courier's rule, a directory changed
    # during the count) removed for the next reader to count again
    check((used is None and not os.path.exists(msz)) or (used is not None and abs(used - total) < 2000),
          "maildirsize now counts what is there, or is gone", "maildirsize says %r, files %d" % (read(msz), total))
    # a garbage maildirsize is repaired
    with open(msz, "w") as f:
        f.write("garbage\nmore garbage\n")
    try_send("after garbage", [bob], msg("garbage repaired"), sender=sender)
    check(wait_subject(bob, "garbage repaired"), "a garbage maildirsize does not stop delivery")
    t = read(msz) or ""
    check(t.startswith("%dS" % QUOTA), "and is rewritten with the limit", repr(t[:100]))
    # a missing one is made
    os.unlink(msz)
    try_send("no maildirsize", [bob], msg("no maildirsize"), sender=sender)
    check(wait_subject(bob, "no maildirsize"), "a missing maildirsize does not stop delivery")
    check((read(msz) or "").startswith("%dS" % QUOTA), "and is made again")
    r = v("vsetuserquota", bob, "NOQUOTA")
    check_eq(r.rc, 0, "vsetuserquota NOQUOTA", r.why())


def maildirsize_used(path):
    t = read(path)
    if t is None:
        return None
    try:
        return sum(int(l.split()[0]) for l in t.splitlines()[1:] if l.strip())
    except (ValueError, IndexError):
        return None


def test_bad_names():
    before = vh.tree(ROOT)
    controls = {f: read(os.path.join(ROOT, *f.split("/"))) for f in
                ("users/assign", "control/rcpthosts", "control/morercpthosts", "control/virtualdomains",
                 "control/locals")}
    vp = read(os.path.join(domdir(A), "vpasswd"))
    for name in ["a/b", "..", "x..y", "../evil", "has space", "-dash", ".dot", "a:b", "tab\tx", "u" * 65, "",
                 "nl\nx"]:
        r = v("vadduser", name + "@" + A, "pw-123")
        check(r.rc == 100, "vadduser refuses the user name %r (exit 100)" % name, r.why())
        check(r.rc is None or r.err.startswith("vadduser: "), "with a message on stderr naming the program",
              repr(r.err))
    check_eq(read(os.path.join(domdir(A), "vpasswd")), vp, "bad user names leave vpasswd alone")
    for dom in ["bad/dom.example", "../evil.example", "a..b.example", "sp ace.example", "-lead.example",
                "trail-.example", ".dot.example", "dot.example.", "x" * 90 + "." + "y" * 10, "colon:x.example",
                "under_score.example"]:
        r = v("vadddomain", *owner_args(), dom, "pw-123")
        check(r.rc == 100, "vadddomain refuses the domain %r (exit 100)" % dom, r.why())
    for f, t in controls.items():
        check_eq(read(os.path.join(ROOT, *f.split("/"))), t, "bad names leave %s alone" % f)
    after = vh.tree(ROOT)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)
                     and not k.startswith("queue/"))
    check_eq(changed, [], "bad names change nothing under the instance")

    # the longest good names, and upper case
    r = v("vadduser", "u" * 64 + "@" + A, "pw-123")
    check_eq(r.rc, 0, "vadduser takes a 64-character user name", r.why())
    v("vdeluser", "u" * 64 + "@" + A)
    r = v("vadduser", "Dave@" + A.upper(), "pw-dave")
    check_eq(r.rc, 0, "vadduser Dave@ALPHA.EXAMPLE", r.why())
    check("dave" in (vh.vpasswd(A) or {}), "upper case is stored lower case", repr(sorted(vh.vpasswd(A) or {})))
    check(os.path.isdir(udir("dave@" + A)), "dave's directory is lower case")
    r = v("vdeluser", "DAVE@" + A)
    check_eq(r.rc, 0, "vdeluser DAVE@...", r.why())
    r = v("vadddomain", *owner_args(), "UPPER.Example", "pw-123")
    check_eq(r.rc, 0, "vadddomain UPPER.Example", r.why())
    check(os.path.isdir(domdir("upper.example")), "the domain directory is lower case")
    check("upper.example:upper.example" in lines(os.path.join(ROOT, "control", "virtualdomains")),
          "virtualdomains gets the lower-case name")
    r = v("vdeldomain", "upper.example")
    check_eq(r.rc, 0, "vdeldomain upper.example", r.why())


def test_broken_vpasswd():
    vpath = os.path.join(domdir(A), "vpasswd")
    good = read(vpath)
    # a malformed line: edits refuse, nothing is dropped
    with open(vpath, "a") as f:
        f.write("this line is malformed\n")
    bad = read(vpath)
    r = v("vadduser", "eve@" + A, "pw-eve")
    check(r.rc == 111 and "malformed" in r.err, "vadduser with a malformed vpasswd line: exit 111, says malformed",
          r.why())
    check_eq(read(vpath), bad, "and vpasswd is left as it was (nothing dropped)")
    r = v("vmkpasswd", A)
    check_eq(r.rc, 0, "vmkpasswd rebuilds the cdb past a malformed line", r.why())
    check("malformed" in r.err or "line" in r.err, "with a warning", repr(r.err))
    cdb = vh.vpasswd_cdb(A) or {}
    check("alice" in cdb and "bob" in cdb, "the good lines are in vpasswd.cdb", repr(sorted(cdb)))
    ok, why, p = pop_login("alice@" + A, PW["alice@" + A])
    check(ok, "POP login still works with a malformed line in vpasswd", why)
    if p:
        p.quit()
    # a half-written last line (a crash of a non-Quail editor)
    with open(vpath, "w") as f:
        f.write(good + "zed:$6$abc")
    r = v("vadduser", "eve@" + A, "pw-eve")
    check_eq(r.rc, 111, "vadduser with a half-written vpasswd: exit 111", r.why())
    check_eq(read(vpath), good + "zed:$6$abc", "and vpasswd is not touched")
    try_send("half-written vpasswd", ["alice@" + A], msg("half written"))
    check(wait_subject("alice@" + A, "half written"), "delivery to alice still works (from vpasswd.cdb)",
          T.sys.logtext()[-1500:])
    with open(vpath, "w") as f:
        f.write(good)
    os.chown(vpath, *OWNER_IDS)
    # a missing vpasswd.cdb
    cdbp = os.path.join(domdir(A), "vpasswd.cdb")
    os.unlink(cdbp)
    ok, why, p = pop_login("alice@" + A, PW["alice@" + A])
    check(ok, "POP login with vpasswd.cdb missing (read from vpasswd)", why)
    if p:
        p.quit()
    r = v("vmkpasswd", A)
    check(r.rc == 0 and os.path.exists(cdbp), "vmkpasswd makes vpasswd.cdb again", r.why())
    check_eq(sorted(vh.vpasswd_cdb(A) or {}), sorted(vh.vpasswd(A) or {}), "vpasswd.cdb has every user of vpasswd")


def test_concurrent():
    procs = [subprocess.Popen([os.path.join(BIN, "vadduser"), "same@" + A, "pw-%d" % i], env=vh.plainenv(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for i in range(8)]
    rcs = [p.wait(120) for p in procs]
    for p in procs:
        p.stderr.close()
    check_eq(rcs.count(0), 1, "the same user added 8 times at once: exactly one succeeds", repr(rcs))
    t = lines(os.path.join(domdir(A), "vpasswd"))
    check_eq(sum(1 for l in t if l.startswith("same:")), 1, "and vpasswd has one line for it")
    names = ["par%d" % i for i in range(12)]
    procs = [subprocess.Popen([os.path.join(BIN, "vadduser"), n + "@" + A, "pw-" + n], env=vh.plainenv(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for n in names]
    rcs = [p.wait(120) for p in procs]
    check_eq(rcs, [0] * len(names), "12 different users added at once all succeed")
    pw = vh.vpasswd(A) or {}
    check_eq([n for n in names if n not in pw], [], "no update is lost: all 12 are in vpasswd")
    check_eq(sorted(vh.vpasswd_cdb(A) or {}), sorted(pw), "vpasswd.cdb agrees with vpasswd")
    check(not [f for f in os.listdir(domdir(A)) if f.endswith(".tmp")], "no temporary files left",
          repr(os.listdir(domdir(A))))
    procs = [subprocess.Popen([os.path.join(BIN, "vdeluser"), n + "@" + A], env=vh.plainenv(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for n in names + ["same"]]
    rcs = [p.wait(120) for p in procs]
    check_eq(rcs, [0] * len(procs), "13 users deleted at once")
    pw = vh.vpasswd(A) or {}
    check_eq([n for n in names + ["same"] if n in pw or os.path.exists(udir(n + "@" + A))], [],
             "all gone from vpasswd and disk")


def test_aliasdomain():
    r = v("vaddaliasdomain", A, ALIASDOM)
    check_eq(r.rc, 0, "vaddaliasdomain %s %s" % (A, ALIASDOM), r.why())
    uid, gid = OWNER_IDS
    want = "+%s-:%s:%d:%d:%s:-::" % (ALIASDOM, A, uid, gid, domdir(A))
    check(want in lines(os.path.join(ROOT, "users", "assign")), "assign line for the alias domain: " + want)
    check("%s:%s" % (ALIASDOM, ALIASDOM) in lines(os.path.join(ROOT, "control", "virtualdomains")),
          "virtualdomains line for the alias domain")
    r = v("vdominfo", ALIASDOM)
    check(r.rc == 0 and A in r.out, "vdominfo of the alias domain names the real one", r.why())
    try_send("alias domain", ["alice@" + ALIASDOM], msg("via alias domain"))
    check(wait_subject("alice@" + A, "via alias domain"), "alice@%s reaches alice@%s" % (ALIASDOM, A),
          T.sys.logtext()[-1500:])
    code, text = rcpt_reply("nosuch@" + ALIASDOM)
    check(code == 550, "unknown user of the alias domain: 550", "%r %r" % (code, text))
    ok, why, p = pop_login("alice@" + ALIASDOM, PW["alice@" + A])
    check(ok, "POP login as alice@" + ALIASDOM, why)
    if p:
        p.quit()


def test_delete():
    r = v("vdeluser", "bob@" + A)
    check_eq(r.rc, 0, "vdeluser bob@" + A, r.why())
    check("bob" not in (vh.vpasswd(A) or {}), "bob is gone from vpasswd")
    check("bob" not in (vh.vpasswd_cdb(A) or {}), "and from vpasswd.cdb")
    check(not os.path.exists(udir("bob@" + A)), "and his directory is removed")
    code, text = rcpt_reply("bob@" + A)
    check(code == 550, "RCPT to the deleted user: 550", "%r %r" % (code, text))
    ok, _, _ = pop_login("bob@" + A, PW["bob@" + A])
    check(not ok, "POP login of the deleted user is refused")
    r = v("vdeluser", "bob@" + A)
    check(r.rc not in (0, None), "vdeluser of a deleted user fails", r.why())

    r = v("vdeluser", "carol@" + B)
    check_eq(r.rc, 0, "vdeluser carol@" + B, r.why())
    try_send("to deleted carol", ["carol@" + B], msg("carol is gone"))
    check(wait_subject("postmaster@" + B, "carol is gone"), "mail to the deleted carol goes to the catch-all")

    for dom in (B, G, A):
        r = v("vdeldomain", dom)
        check_eq(r.rc, 0, "vdeldomain " + dom, r.why())
        check(not os.path.exists(domdir(dom)), "vdeldomain removes " + domdir(dom))
    check(not os.path.exists(domdir(ALIASDOM)), "no directory for the alias domain either")
    r = v("vdeldomain", B)
    check(r.rc not in (0, None), "vdeldomain of a deleted domain fails", r.why())

    gone = (A, B, G, ALIASDOM, "upper.example")
    for f in ("users/assign", "control/rcpthosts", "control/morercpthosts", "control/virtualdomains",
              "control/locals"):
        t = read(os.path.join(ROOT, *f.split("/"))) or ""
        check_eq([l for l in t.splitlines() if any(d in l for d in gone)], [], "%s keeps no trace of the domains" % f)
    check_eq(lines(os.path.join(ROOT, "users", "assign")), ["."], "users/assign is back to a lone dot")
    check_eq(lines(os.path.join(ROOT, "control", "rcpthosts")), ["test.example"] + FILLERS[:-1],
             "rcpthosts is as it was before the test")
    for f in ("users/cdb", "control/morercpthosts.cdb"):
        try:
            recs, _ = quail.cdb_read(os.path.join(ROOT, *f.split("/")))
            check_eq([k for k, _ in recs if any(d.encode() in k for d in gone)], [], "%s keeps no trace" % f)
        except FileNotFoundError:
            pass
    for dom in gone:
        code, text = rcpt_reply("postmaster2@" + dom)
        check_eq(code, 553, "after vdeldomain, %s is not accepted" % dom, text)
    check_eq(sorted(f for f in os.listdir(vh.DOMAINS) if not f.startswith(".")), [], "the store has no domain left")


def test_logs():
    for srv in (T.smtpd, T.authd, T.pop):
        if srv is None:
            continue
        t = srv.logtext()
        check("Sanitizer" not in t and "runtime error:" not in t, "no sanitizer report in " + srv.logfile, t[-2000:])
    t = T.sys.logtext()
    check("Sanitizer" not in t and "runtime error:" not in t, "no sanitizer report in qmail-send's log", t[-2000:])


def main():
    missing = [p for p in ("vadddomain", "vdeldomain", "vaddaliasdomain", "vdominfo", "vadduser", "vdeluser",
                           "vpasswd", "vmoduser", "vsetuserquota", "valias", "vuserinfo", "vmkpasswd",
                           "vdelivermail", "vchkpw") if not os.path.exists(os.path.join(BIN, p))]
    check_eq(missing, [], "every vpopmail command is installed in " + BIN)
    if not os.path.exists(vh.TCPSERVER) or not os.path.exists(vh.SWAKS):
        quail.skip("vpopmail_test", "tcpserver or swaks is missing")
        quail.done()
    steps = [test_domains, test_users, test_smtp, test_pop, test_quota, test_bad_names, test_broken_vpasswd,
             test_concurrent, test_aliasdomain, test_delete]
    try:
        setup()
        for s in steps:
            try:
                s()
            except Exception:
                check(False, s.__name__ + " ran to its end", traceback.format_exc())
    finally:
        vh.stop_all()
        if T.sys:
            T.sys.stop()
            test_logs()
            T.sys.cleanup()
        if T.sink:
            T.sink.stop()
        for d in [A, B, G, ALIASDOM, "upper.example"]:
            shutil.rmtree(domdir(d), ignore_errors=True)
    quail.done()


if __name__ == "__main__":
    main()
