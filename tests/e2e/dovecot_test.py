"""IMAP for virtual domains through Dovecot, as quail-imap(7) says: a
private Dovecot (Debian's dovecot-imapd) on a free port of 127.0.0.1, its
configuration taken from the man page's text with only the paths, the
ids, the port and TLS changed, checking passwords through vchkpw and
serving the Maildirs that vdelivermail delivers into.

    a domain and two users made with vadddomain/vadduser; a message
    delivered by Quail (qmail-queue -> qmail-send -> vdelivermail);
    imaplib logs in as user@domain and user%domain and fetches it; a
    wrong password, an unknown user and NO_IMAP (vmoduser -i) are refused,
    NO_POP is not IMAP's business; the vpasswd quota holds in IMAP
    (GETQUOTAROOT, APPEND over it refused, maildirsize kept up to date);
    delivery still works after Dovecot wrote its files into the Maildir.

When Dovecot is missing and the tests run as root, dovecot-imapd is
installed with apt-get (how long it took is printed; a system Dovecot the
package may have started is stopped again). When it is missing and the
tests do not run as root, one skip line says so and nothing passes.

The Dovecot started here is stopped by pid (it runs in a session of its
own, and every process of that session is gone at the end).
"""

import imaplib
import os
import pwd
import grp
import re
import shutil
import signal
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(__file__))
import quail  # noqa: E402
from quail import check, check_eq, ROOT, BIN, wait_for  # noqa: E402
import vpophelp as vh  # noqa: E402
from vpophelp import v, read  # noqa: E402

DOM = "imap.example"
USERS = {"ann": "ann-Secret 1", "ben": "ben:secret%2"}
ROOTMODE = quail.is_root()
OWNER = "nobody" if ROOTMODE else pwd.getpwuid(os.getuid()).pw_name
OWNER_IDS = vh.ids_of(OWNER)
MAN = os.path.join(quail.SRC, "man", "quail-imap.7")
IOTIMEOUT = 60


def dovecot_bin():
    return shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)


def dovecot_pids(exclude_sid=None):
    """Pids of processes whose program is Dovecot's master or one of its
    services (not those of session exclude_sid)."""
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            exe = os.readlink("/proc/%s/exe" % p)
            with open("/proc/%s/stat" % p) as f:
                sid = int(f.read().rsplit(")", 1)[1].split()[3])
        except OSError:
            continue
        if (exe == "/usr/sbin/dovecot" or exe.startswith("/usr/lib/dovecot/")) and sid != exclude_sid:
            out.append(int(p))
    return out


def install():
    """Installs dovecot-imapd when root; returns a reason to skip, or None."""
    if dovecot_bin():
        return None
    if not ROOTMODE or not shutil.which("apt-get"):
        return "dovecot is not installed (as root this test installs dovecot-imapd: apt-get install dovecot-imapd)"
    before = set(dovecot_pids())
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    t0 = time.time()
    p = subprocess.run(["apt-get", "install", "-y", "-q", "dovecot-imapd"], env=env, capture_output=True, timeout=900)
    if p.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=900)
        p = subprocess.run(["apt-get", "install", "-y", "-q", "dovecot-imapd"], env=env, capture_output=True,
                           timeout=900)
    print("# apt-get install dovecot-imapd: exit %d in %.1f s" % (p.returncode, time.time() - t0))
    if not check_eq(p.returncode, 0, "apt-get install dovecot-imapd", p.stderr.decode(errors="replace")[-2000:]):
        return "dovecot-imapd could not be installed"
    started = [x for x in dovecot_pids() if x not in before]
    if started:
        # the package's postinst started a system Dovecot (no policy-rc.d
        # here): stop it again, it is not ours to leave running
        print("# the package started a system dovecot (pids %s); stopping it" % started)
        if os.path.isdir("/run/systemd/system"):
            subprocess.run(["systemctl", "stop", "dovecot"], capture_output=True, timeout=120)
        else:
            subprocess.run(["invoke-rc.d", "dovecot", "stop"], capture_output=True, timeout=120)
        wait_for(lambda: not [x for x in dovecot_pids() if x not in before], 30)
        check_eq([x for x in dovecot_pids() if x not in before], [], "no system dovecot left running by the install")
    else:
        print("# the package started no dovecot")
    return dovecot_bin() is None and "dovecot still missing after the install" or None


# ---- the configuration, from the man page ----

def recipe():
    """The configuration text between the BEGIN/END marks of quail-imap(7)."""
    t = read(MAN) or ""
    m = re.search(r'^\.\\" BEGIN dovecot\.conf.*?\n(.*?)^\.\\" END dovecot\.conf', t, re.S | re.M)
    if not m:
        return None
    return "\n".join(l for l in m.group(1).splitlines() if l not in (".EX", ".EE")) + "\n"


def test_config(text, port, top):
    """The man page's configuration with this instance's paths, ids and
    port, no TLS, plaintext allowed on 127.0.0.1, and private run, state
    and log files. Each change must apply exactly once, so that the test
    notices when the page changes."""
    uid, gid = OWNER_IDS
    subs = [
        ("listen = *, ::\n", "listen = 127.0.0.1\n"),
        ("first_valid_uid = 89\n", "first_valid_uid = %d\n" % uid),
        ("last_valid_uid = 89\n", "last_valid_uid = %d\n" % uid),
        ("first_valid_gid = 89\n", "first_valid_gid = %d\n" % gid),
        ("last_valid_gid = 89\n", "last_valid_gid = %d\n" % gid),
        ("ssl = required\n", "ssl = no\n"),
        ("ssl_cert = </etc/dovecot/private/dovecot.pem\n", ""),
        ("ssl_key = </etc/dovecot/private/dovecot.key\n", ""),
        ("disable_plaintext_auth = yes\n", "disable_plaintext_auth = no\n"),
        ("    port = 143\n", "    port = %d\n" % port),
        ("    port = 993\n    ssl = yes\n", "    port = 0\n"),
        ("  user = vpopmail\n", "  user = %s\n" % OWNER),
        (" /var/qmail/bin/vchkpw\n", " %s\n" % os.path.join(BIN, "vchkpw")),
    ]
    for old, new in subs:
        n = text.count(old)
        if not check_eq(n, 1, "quail-imap(7)'s configuration has the line %r once" % old.strip()):
            return None
        text = text.replace(old, new)
    head = ("# generated by dovecot_test.py from man/quail-imap.7\n"
            "base_dir = %s/run\nstate_dir = %s/state\nlog_path = %s/dovecot.log\n"
            "auth_verbose = yes\nauth_failure_delay = 0\n"
            # vchkpw of the sanitized test build needs more address space
            # than Dovecot's 256 MB default for its services
            "default_vsz_limit = 0\n" % (top, top, top))
    if not ROOTMODE:
        me = pwd.getpwuid(os.getuid()).pw_name
        g = grp.getgrgid(os.getgid()).gr_name
        head += ("default_internal_user = %s\ndefault_internal_group = %s\ndefault_login_user = %s\n"
                 "service anvil {\n  chroot =\n}\nservice imap-login {\n  chroot =\n}\n" % (me, g, me))
    return head + text


class Dovecot:
    def __init__(self, top, conf):
        self.top = top
        self.conf = os.path.join(top, "dovecot.conf")
        for d in ("run", "state"):
            os.makedirs(os.path.join(top, d), exist_ok=True)
        with open(self.conf, "w") as f:
            f.write(conf)
        self.proc = None

    def start(self, port):
        self.port = port
        self.out = open(os.path.join(self.top, "stdout"), "ab")
        self.proc = subprocess.Popen([dovecot_bin(), "-F", "-c", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=self.out, stderr=self.out, start_new_session=True, cwd="/")
        ok = wait_for(lambda: vh.listening(port) or self.proc.poll() is not None, 60)
        return ok and self.proc.poll() is None

    def log(self):
        return (read(os.path.join(self.top, "dovecot.log")) or "") + (read(os.path.join(self.top, "stdout")) or "")

    def stop(self):
        if not self.proc:
            return
        sid = self.proc.pid
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        gone = quail.kill_session(sid)
        check(gone, "every process of our Dovecot is gone after SIGTERM to its master", repr(vh.session_pids(sid)))
        self.proc = None
        self.out.close()


_src = [1]


class IMAP(imaplib.IMAP4):
    """imaplib from a source address of its own in 127/8 for each
    connection: Dovecot delays logins from an address that failed before
    (2, 4, 8... seconds), and the test fails logins on purpose."""

    def _create_socket(self, timeout):
        import socket
        _src[0] = _src[0] % 250 + 1
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=("127.0.0.%d" % (_src[0] + 1), 0))


def imap(port):
    return IMAP("127.0.0.1", port, timeout=IOTIMEOUT)


def login(port, user, password):
    """(ok, detail, connection or None)."""
    try:
        m = imap(port)
    except OSError as e:
        return False, repr(e), None
    try:
        typ, dat = m.login(user, password)
        return typ == "OK", repr(dat), m
    except (imaplib.IMAP4.error, OSError) as e:
        try:
            m.logout()
        except Exception:
            pass
        return False, repr(e), None


def mdir(user):
    return os.path.join(vh.domdir(DOM), user, "Maildir")


def run(top):
    port = vh.free_port()
    text = recipe()
    if not check(text is not None and "driver = checkpassword" in text,
                 "man/quail-imap.7 has the configuration between its BEGIN/END marks"):
        return
    conf = test_config(text, port, top)
    if conf is None:
        return
    p = subprocess.run([dovecot_bin(), "--version"], capture_output=True, timeout=60)
    print("# dovecot %s" % p.stdout.decode().strip())

    shutil.rmtree(vh.domdir(DOM), ignore_errors=True)
    s = vh.System(controls={"rcpthosts": "test.example", "virtualdomains": ""}, users=())
    dc = None
    try:
        s.start()
        owner = ["-i", str(OWNER_IDS[0]), "-g", str(OWNER_IDS[1])] if ROOTMODE else []
        r = v("vadddomain", *owner, DOM, "pm-pw-1")
        check_eq(r.rc, 0, "vadddomain " + DOM, r.why())
        for u, pw in USERS.items():
            r = v("vadduser", u + "@" + DOM, pw)
            check_eq(r.rc, 0, "vadduser %s@%s" % (u, DOM), r.why())
        body = b"From: someone@remote.example\nTo: ann@imap.example\nSubject: for IMAP\n\ndelivered by Quail\n"
        check_eq(s.inject(body, "someone@remote.example", ["ann@" + DOM]), 0, "qmail-queue takes a message for ann")
        check(wait_for(lambda: len(vh.maildir_files(mdir("ann"))) == 1, 60), "vdelivermail puts it in ann's Maildir",
              s.logtext()[-1500:])

        dc = Dovecot(top, conf)
        p = subprocess.run([dovecot_bin(), "-c", dc.conf, "-n"], capture_output=True, timeout=60)
        check_eq(p.returncode, 0, "doveconf accepts the configuration", p.stderr.decode(errors="replace"))
        if not check(dc.start(port), "our Dovecot listens on 127.0.0.1:%d" % port, dc.log()[-3000:]):
            return

        ok, why, m = login(port, "ann@" + DOM, USERS["ann"])
        if check(ok, "IMAP LOGIN ann@%s (vchkpw through the checkpassword driver)" % DOM, why + dc.log()[-2000:]):
            typ, dat = m.select("INBOX")
            check_eq((typ, dat), ("OK", [b"1"]), "SELECT INBOX: one message")
            typ, dat = m.fetch("1", "(BODY.PEEK[])")
            msg = dat[0][1] if typ == "OK" and dat and isinstance(dat[0], tuple) else b""
            check(b"Subject: for IMAP" in msg and b"delivered by Quail" in msg, "FETCH gives Quail's message",
                  repr(msg[:500]))
            check(b"Delivered-To:" in msg, "with vdelivermail's Delivered-To")
            typ, dat = m.append("INBOX", None, None, b"Subject: saved over IMAP\r\n\r\nhi\r\n")
            check_eq(typ, "OK", "APPEND without a quota", repr(dat))
            t = read(os.path.join(mdir("ann"), "maildirsize"))
            print("# maildirsize of a NOQUOTA user after an IMAP APPEND: %r" % t)
            m.logout()
            st = os.stat(mdir("ann"))
            files = [f for f in os.listdir(mdir("ann")) if f.startswith("dovecot")]
            check(files and all(os.stat(os.path.join(mdir("ann"), f)).st_uid == OWNER_IDS[0] for f in files),
                  "Dovecot's files in the Maildir belong to the store's owner", repr(files) + repr(st.st_uid))
        ok, why, m = login(port, "Ben%IMAP.Example", USERS["ben"])
        check(ok, "IMAP LOGIN as Ben%IMAP.Example (user%domain, any case)", why)
        if m:
            typ, dat = m.select("INBOX")
            check_eq((typ, dat), ("OK", [b"0"]), "ben's INBOX is his own (empty)")
            m.logout()
        ok, why, _ = login(port, "ann@" + DOM, "wrong")
        check(not ok and "AUTHENTICATIONFAILED" in why, "a wrong password is refused", why)
        ok, why, _ = login(port, "nobody-here@" + DOM, "x")
        check(not ok, "an unknown user is refused", why)
        ok, why, _ = login(port, "ann@other.example", USERS["ann"])
        check(not ok, "the right password in another domain is refused", why)

        # the flags, through vchkpw
        r = v("vmoduser", "-i", "ben@" + DOM)
        check_eq(r.rc, 0, "vmoduser -i ben (NO_IMAP)", r.why())
        ok, why, m = login(port, "ben@" + DOM, USERS["ben"])
        check(not ok, "NO_IMAP: ben's IMAP login is refused", why)
        r = v("vmoduser", "-x", "ben@" + DOM)
        r = v("vmoduser", "-p", "ben@" + DOM)
        check_eq(r.rc, 0, "vmoduser -p ben (NO_POP only)", r.why())
        ok, why, m = login(port, "ben@" + DOM, USERS["ben"])
        check(ok, "NO_POP does not refuse IMAP (vchkpw takes the login for IMAP)", why)
        if m:
            m.logout()
        v("vmoduser", "-x", "ben@" + DOM)
        r = v("vpasswd", "ben@" + DOM, "ben-new-pw")
        ok, why, m = login(port, "ben@" + DOM, "ben-new-pw")
        check(ok, "a password changed with vpasswd works at once", why)
        if m:
            m.logout()
        ok, why, m = login(port, "ben@" + DOM, USERS["ben"])
        check(not ok, "and the old one no longer does", why)

        # the quota of vpasswd, in IMAP
        r = v("vsetuserquota", "ann@" + DOM, 100000)
        check_eq(r.rc, 0, "vsetuserquota ann@%s 100000" % DOM, r.why())
        msz = os.path.join(mdir("ann"), "maildirsize")
        ok, why, m = login(port, "ann@" + DOM, USERS["ann"])
        if check(ok, "ann logs in again", why):
            typ, dat = m.getquotaroot("INBOX")
            flat = repr(dat)
            q = re.search(r"STORAGE (\d+) (\d+)", flat)
            check(typ == "OK" and q is not None and int(q.group(2)) in (97, 98),
                  "GETQUOTAROOT INBOX: the 100000-byte limit of vpasswd (97 KiB)", flat)
            before = read(msz) or ""
            typ, dat = m.append("INBOX", None, None, b"Subject: big\r\n\r\n" + b"x" * 150000 + b"\r\n")
            check(typ == "NO" and b"OVERQUOTA" in b" ".join(d for d in dat if isinstance(d, bytes)),
                  "APPEND over the quota: NO [OVERQUOTA]", repr((typ, dat)))
            typ, dat = m.append("INBOX", None, None, b"Subject: small\r\n\r\nsmall\r\n")
            check_eq(typ, "OK", "APPEND under the quota", repr(dat))
            after = read(msz) or ""
            check(after.startswith(before) and len(after) > len(before) and after.startswith("100000S"),
                  "Dovecot adds its line to maildirsize (the file vdelivermail reads)", repr((before, after)))
            m.select("INBOX")
            typ, dat = m.search(None, "SUBJECT", "small")
            ids = dat[0].split() if typ == "OK" and dat and dat[0] else []
            if check(len(ids) == 1, "SEARCH finds the small message", repr(dat)):
                m.store(ids[0], "+FLAGS", "\\Deleted")
                m.expunge()
                t = read(msz) or ""
                check(re.search(r"^-\d+ -1$", t, re.M) is not None, "EXPUNGE subtracts it in maildirsize", repr(t))
            m.logout()

        # delivery after Dovecot wrote its files into the Maildir
        n0 = len(vh.maildir_files(mdir("ann")))
        check_eq(s.inject(b"Subject: after IMAP\n\nagain\n", "someone@remote.example", ["ann@" + DOM]), 0,
                 "qmail-queue takes another message for ann")
        check(wait_for(lambda: len(vh.maildir_files(mdir("ann"))) == n0 + 1, 60),
              "vdelivermail delivers next to Dovecot's files", s.logtext()[-1500:])
        ok, why, m = login(port, "ann@" + DOM, USERS["ann"])
        if check(ok, "ann logs in a third time", why):
            typ, dat = m.select("INBOX")
            typ, dat = m.search(None, "SUBJECT", '"after IMAP"')
            check(typ == "OK" and len(dat[0].split()) == 1, "IMAP sees the new message", repr(dat))
            m.logout()
        t = dc.log()
        check("Fatal" not in t and "Panic" not in t, "no Fatal or Panic in Dovecot's log", t[-3000:])
        check("Sanitizer" not in t and "runtime error:" not in t, "no sanitizer report from vchkpw in Dovecot's log",
              t[-3000:])
    finally:
        if dc:
            dc.stop()
        v("vdeldomain", DOM)
        s.stop()
        t = s.logtext()
        check("Sanitizer" not in t and "runtime error:" not in t, "no sanitizer report in qmail-send's log", t[-2000:])
        s.cleanup()
        shutil.rmtree(vh.domdir(DOM), ignore_errors=True)


def main():
    why = install()
    if why:
        quail.skip("dovecot_test", why)
        quail.done()
    import tempfile
    top = tempfile.mkdtemp(prefix="quail-dovecot-")
    os.chmod(top, 0o755)
    try:
        run(top)
    except Exception:
        check(False, "dovecot_test ran to its end", traceback.format_exc())
    finally:
        shutil.rmtree(top, ignore_errors=True)
    quail.done()


if __name__ == "__main__":
    main()
