"""vadduser, vdeluser, vpasswd, vmoduser, vsetuserquota, valias, vuserinfo
and vmkpasswd on the test instance: the effects on vpasswd, vpasswd.cdb and
the domain directory, and the issue's bad input for users (names with '/',
'..', blanks, capitals, over-long; the same user added twice at once; a
vpasswd with a malformed line; kill -9 in the middle of an edit).

Not tested here: chown to the domain's owner by a system install
(install_test's business as root); delivery to the users (vdelivermail's
and vpopmail_test's).
"""

import os
import pty
import random
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import quail  # noqa: E402
from quail import check, check_eq, ROOT, BIN  # noqa: E402

BASE = os.path.join(ROOT, "vpopmail", "domains")
DOM = "vusers-a.test"
DOM2 = "vusers-b.test"
ASSIGN = os.path.join(ROOT, "users", "assign")
LINE = re.compile(r"^([a-z0-9._-]+):([^:]*):(\d*):(\d*):([^:]*):(/[^:]*):([^:]*)(?::([^:]*))?$")


def run(prog, *args, stdin=subprocess.DEVNULL, timeout=60):
    """Runs bin/prog without a controlling terminal: (exit code, stdout, stderr)."""
    p = subprocess.run([os.path.join(BIN, prog)] + list(args), stdin=stdin, capture_output=True,
                       timeout=timeout, start_new_session=True)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def ddir(dom=DOM):
    return os.path.join(BASE, dom)


def vpasswd_bytes(dom=DOM):
    try:
        with open(os.path.join(ddir(dom), "vpasswd"), "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


def entries(dom=DOM):
    """The vpasswd lines as a dict name -> fields; raises on a malformed line."""
    out = {}
    for line in vpasswd_bytes(dom).decode().split("\n"):
        if not line:
            continue
        m = LINE.match(line)
        if not m:
            raise ValueError("malformed vpasswd line %r" % line)
        if m.group(1) in out:
            raise ValueError("%s twice in vpasswd" % m.group(1))
        out[m.group(1)] = m.groups()
    return out


def cdb_names(dom=DOM):
    path = os.path.join(ddir(dom), "vpasswd.cdb")
    if not os.path.exists(path):
        return set()
    records, lookup = quail.cdb_read(path)
    return set(k.decode() for k, _ in records)


# ---- a domain, by hand (users/assign + qmail-newu) unless vadddomain exists ----

def assign_lines():
    try:
        with open(ASSIGN) as f:
            return [x for x in f.read().split("\n") if x and x != "."]
    except FileNotFoundError:
        return []


def write_assign(lines):
    os.makedirs(os.path.dirname(ASSIGN), exist_ok=True)
    with open(ASSIGN + ".tmp", "w") as f:
        f.write("".join(x + "\n" for x in lines) + ".\n")
    os.rename(ASSIGN + ".tmp", ASSIGN)
    subprocess.run([os.path.join(BIN, "qmail-newu")], check=True)


def rmtree(path):
    subprocess.run(["rm", "-rf", "--", path], check=False)


def add_domain(dom):
    rmtree(ddir(dom))
    if os.path.exists(os.path.join(BIN, "vadddomain")):
        rc, out, err = run("vadddomain", "-O", dom, "Postmaster-pw-1")
        if rc == 0:
            return "vadddomain"
        print("# vadddomain %s failed (%d): %s; making the domain by hand" % (dom, rc, err.strip()))
    os.makedirs(ddir(dom), mode=0o750)
    lines = [x for x in assign_lines() if not x.startswith("+%s-:" % dom)]
    lines.append("+%s-:%s:%d:%d:%s:-::" % (dom, dom, os.getuid(), os.getgid(), ddir(dom)))
    write_assign(lines)
    return "hand"


def del_domain(dom, how):
    if how == "vadddomain" and os.path.exists(os.path.join(BIN, "vdeldomain")):
        rc, out, err = run("vdeldomain", dom)
        if rc == 0:
            return
    write_assign([x for x in assign_lines() if not x.startswith("+%s-:" % dom)])
    rmtree(ddir(dom))


def listing(dom=DOM):
    return sorted(os.listdir(ddir(dom)))


# ---- the tests ----

def test_add():
    rc, out, err = run("vadduser", "joe@" + DOM, "secret-1")
    check_eq(rc, 0, "vadduser joe", err)
    e = entries().get("joe")
    check(e is not None, "vadduser: joe in vpasswd")
    if e:
        check_eq(e[2:4], ("1", "0"), "vadduser: pwuid 1, flags 0")
        check_eq(e[4], "joe", "vadduser: gecos defaults to the name")
        check_eq(e[5], os.path.join(ddir(), "joe"), "vadduser: dir is DOMAINDIR/joe")
        check_eq(e[6], "NOQUOTA", "vadduser: quota NOQUOTA by default")
        check_eq(e[7], None, "vadduser: no clear-text field")
        check(re.match(r"^\$(y|6)\$", e[1]), "vadduser: yescrypt or SHA-512 hash", e[1])
        try:
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                import crypt  # deprecated in 3.11, gone in 3.13: checked where it exists
            check_eq(crypt.crypt("secret-1", e[1]), e[1], "vadduser: the hash is of the password")
        except ImportError:
            quail.skip("hash check", "no crypt module")
    for sub in ("cur", "new", "tmp"):
        check(os.path.isdir(os.path.join(ddir(), "joe", "Maildir", sub)), "vadduser: Maildir/%s made" % sub)
    check("joe" in cdb_names(), "vadduser: joe in vpasswd.cdb")

    rc, out, err = run("vadduser", "-q", "10MB", "-c", "Jane Doe", "Jane.Doe@" + DOM.upper(), "pw")
    check_eq(rc, 0, "vadduser with capitals", err)
    e = entries().get("jane.doe")
    check(e is not None, "vadduser: the name is lowercased", repr(list(entries())))
    if e:
        check_eq(e[6], "10485760S", "vadduser -q 10MB: stored as Maildir++ bytes")
        check_eq(e[4], "Jane Doe", "vadduser -c")
    check(os.path.isdir(os.path.join(ddir(), "jane.doe", "Maildir")), "vadduser: lowercased dir")

    rc, out, err = run("vadduser", "-r", "rnd@" + DOM)
    m = re.match(r"^Random password: ([A-Za-z0-9]+)\n$", out)
    check(rc == 0 and m and len(m.group(1)) == 12, "vadduser -r: a 12-character password printed", out + err)
    rc, out, err = run("vadduser", "-r20", "rnd20@" + DOM)
    m = re.match(r"^Random password: ([A-Za-z0-9]+)\n$", out)
    check(rc == 0 and m and len(m.group(1)) == 20, "vadduser -r20", out + err)
    rc, out, err = run("vadduser", "-r200", "rnd200@" + DOM)
    check_eq(rc, 100, "vadduser -r200 refused", err)

    rc, out, err = run("vadduser", "joe@" + DOM, "other")
    check(rc == 100 and "exists" in err, "vadduser: the same user again refused", "%d %s" % (rc, err))
    rc, out, err = run("vadduser", "nopw@" + DOM)
    check(rc == 100 and "terminal" in err, "vadduser without a password or a terminal refused", "%d %s" % (rc, err))
    check("nopw" not in entries() and not os.path.exists(os.path.join(ddir(), "nopw")),
          "vadduser without a password: nothing made")
    # a directory without a vpasswd entry (a user removed by hand, a run
    # killed half-way) is not taken over
    os.mkdir(os.path.join(ddir(), "leftover"))
    with open(os.path.join(ddir(), "leftover", "old-mail"), "w") as f:
        f.write("someone else's\n")
    rc, out, err = run("vadduser", "leftover@" + DOM, "pw")
    check(rc == 100 and "not in vpasswd" in err, "vadduser: a leftover directory is refused", "%d %s" % (rc, err))
    check("leftover" not in entries() and os.path.exists(os.path.join(ddir(), "leftover", "old-mail")),
          "vadduser: the leftover directory is left alone")
    rmtree(os.path.join(ddir(), "leftover"))
    rc, out, err = run("vadduser", "x@no-such-domain.test", "pw")
    check(rc == 100 and "no such virtual domain" in err, "vadduser: unknown domain", err)
    rc, out, err = run("vadduser", "-Z", "x@" + DOM, "pw")
    check(rc == 100 and "usage" in err, "vadduser: unknown option gives the usage", err)
    rc, out, err = run("vadduser", "-e", "bad:hash", "x@" + DOM)
    check_eq(rc, 100, "vadduser -e with a ':' refused", err)
    rc, out, err = run("vadduser", "-c", "a:b", "colon@" + DOM, "pw")
    check_eq(rc, 100, "vadduser: gecos with ':' refused", err)
    check(not os.path.exists(os.path.join(ddir(), "colon")), "vadduser: refused entry leaves no directory")


def on_tty(argv, answers):
    """Runs argv on a pseudo-terminal, typing each answer after a prompt:
    (exit code, what the terminal showed)."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    shown = b""
    for a in answers + [None]:
        deadline = time.time() + 10
        while time.time() < deadline and not shown.rstrip().endswith(b":"):
            try:
                chunk = os.read(fd, 1000)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
        if a is None:
            break
        os.write(fd, a + b"\n")
        shown += b"|"
    try:
        while True:
            chunk = os.read(fd, 1000)
            if not chunk:
                break
            shown += chunk
    except OSError:
        pass
    _, st = os.waitpid(pid, 0)
    os.close(fd)
    return os.WEXITSTATUS(st), shown.decode(errors="replace")


def test_tty():
    rc, shown = on_tty([os.path.join(BIN, "vadduser"), "tty@" + DOM], [b"typed-pw", b"typed-pw"])
    check_eq(rc, 0, "vadduser asks twice on the terminal", shown)
    check("New password for tty@%s:" % DOM in shown and "Retype" in shown, "vadduser: the prompts", shown)
    check("typed-pw" not in shown, "vadduser: the password is not echoed", shown)
    check("tty" in entries(), "vadduser: the user from the terminal's password")
    rc, shown = on_tty([os.path.join(BIN, "vpasswd"), "tty@" + DOM], [b"one", b"two"])
    check(rc == 100 and "differ" in shown, "vpasswd: two different answers refused", shown)


def test_bad_names():
    before = vpasswd_bytes()
    before_list = listing()
    bad = ["a/b", "../x", "..", "a..b", "x/../../etc", ".hidden", "-dash", "sp ace", " lead", "tab\tx",
           "col:on", "x" * 65, "vpasswd", "vpasswd.lock", "", "new\nline", "a@b"]
    for name in bad:
        rc, out, err = run("vadduser", "--", name + "@" + DOM, "pw")
        check(rc == 100 and "fatal" in err, "vadduser refuses user %r" % name, "%d %r" % (rc, err))
    check_eq(vpasswd_bytes(), before, "bad names: vpasswd untouched")
    check_eq(listing(), before_list, "bad names: nothing made in the domain directory")
    check(not os.path.exists(os.path.join(BASE, "etc")) and not os.path.exists(os.path.join(ROOT, "vpopmail", "x")),
          "bad names: nothing made outside it")
    for dom in ("bad/dom.test", "..", "a..b", "-x.test", "x" * 97 + ".test", "sp ace.test"):
        rc, out, err = run("vadduser", "u@" + dom, "pw")
        check_eq(rc, 100, "vadduser refuses domain %r" % dom, err)
    rc, out, err = run("vadduser", "x" * 64 + "@" + DOM, "pw")
    check_eq(rc, 0, "vadduser: a 64-character name is fine", err)
    for prog, args in (("vdeluser", ["../x@" + DOM]), ("vpasswd", ["a/b@" + DOM, "pw"]),
                       ("vmoduser", ["-p", "a b@" + DOM]), ("vsetuserquota", [".x@" + DOM, "1MB"]),
                       ("vuserinfo", ["x/y@" + DOM]), ("valias", ["-i", "a@b.test", "../x@" + DOM])):
        rc, out, err = run(prog, *args)
        check_eq(rc, 100, "%s refuses a bad name" % prog, err)


def test_concurrent():
    # the same user from two processes at once: exactly one wins
    for i in range(8):
        name = "twice%d" % i
        ps = [subprocess.Popen([os.path.join(BIN, "vadduser"), "%s@%s" % (name, DOM), "pw%d" % k],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True) for k in range(2)]
        codes = sorted(p.wait(timeout=60) for p in ps)
        for p in ps:
            p.stdout.close()
            p.stderr.close()
        check_eq(codes, [0, 100], "same user added twice at once (round %d): one wins" % i)
        try:
            e = entries()
            check(name in e, "round %d: the user is in vpasswd once, every line well-formed" % i)
        except ValueError as x:
            check(False, "round %d: vpasswd intact" % i, str(x))
        check(os.path.isdir(os.path.join(ddir(), name, "Maildir", "new")), "round %d: its Maildir is there" % i)
    # many users at once: none lost
    names = ["many%02d" % i for i in range(16)]
    ps = [subprocess.Popen([os.path.join(BIN, "vadduser"), "%s@%s" % (n, DOM), "pw"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True) for n in names]
    codes = [p.wait(timeout=120) for p in ps]
    for p in ps:
        p.stderr.close()
    check_eq(codes, [0] * len(names), "16 users added at once: all succeed")
    e = entries()
    check(all(n in e for n in names), "16 users added at once: none lost", repr(sorted(e)))
    check(set(e) == cdb_names(), "vpasswd.cdb agrees with vpasswd", repr(set(e) ^ cdb_names()))


def test_malformed():
    path = os.path.join(ddir(), "vpasswd")
    good = vpasswd_bytes()
    bad = good + b"this line is broken\n"
    with open(path, "wb") as f:
        f.write(bad)
    n = bad.count(b"\n")
    before = listing()
    for prog, args in (("vadduser", ["newbie@" + DOM, "pw"]), ("vpasswd", ["joe@" + DOM, "pw2"]),
                       ("vdeluser", ["joe@" + DOM]), ("vmoduser", ["-p", "joe@" + DOM]),
                       ("vmoduser", ["-p", DOM]), ("vsetuserquota", ["joe@" + DOM, "1MB"]),
                       ("vsetuserquota", [DOM, "1MB"])):
        rc, out, err = run(prog, *args)
        check(rc == 111 and ("line %d malformed" % n) in err, "%s %s with a malformed vpasswd: 111, says which line"
              % (prog, args[0]), "%d %s" % (rc, err))
        check_eq(vpasswd_bytes(), bad, "%s %s: vpasswd untouched" % (prog, args[0]))
    check_eq(listing(), before, "malformed vpasswd: no directory made or removed")
    rc, out, err = run("vmkpasswd", DOM)
    check(rc == 0 and "malformed" in err, "vmkpasswd skips the malformed line with a warning", "%d %s" % (rc, err))
    rc, out, err = run("vuserinfo", "-n", "-D", DOM)
    check(rc == 0 and "joe\n" in out and "malformed" in err, "vuserinfo -D skips it too", err)
    with open(path, "wb") as f:
        f.write(good)
    run("vmkpasswd", DOM)
    check_eq(run("vadduser", "newbie@" + DOM, "pw")[0], 0, "vadduser works again once the line is gone")


def test_kill9():
    # a big vpasswd makes each rewrite take a while; vadduser is killed at
    # random moments in it: vpasswd is always whole, old or new
    dom = DOM2
    lines = []
    for i in range(20000):
        lines.append("bulk%05d:$6$salt$%s:1:0:bulk:%s/bulk%05d:NOQUOTA\n" % (i, "x" * 86, ddir(dom), i))
    with open(os.path.join(ddir(dom), "vpasswd"), "w") as f:
        f.write("".join(lines))
    rc, out, err = run("vmkpasswd", dom)
    check_eq(rc, 0, "kill -9: vmkpasswd of a 20000-user vpasswd", err)
    old = set(entries(dom))
    rng = random.Random(7)
    killed = 0
    for i in range(12):
        name = "victim%02d" % i
        p = subprocess.Popen([os.path.join(BIN, "vadduser"), "%s@%s" % (name, dom), "pw"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(rng.uniform(0.0, 0.6))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            killed += 1
        p.wait(timeout=60)
        try:
            now = set(entries(dom))
            ok = old <= now <= old | {name}
            check(ok, "kill -9 round %d: vpasswd is the old one or the new one" % i, repr(now ^ old))
            old = now
        except ValueError as x:
            check(False, "kill -9 round %d: vpasswd well-formed" % i, str(x))
        rc, out, err = run("vuserinfo", "-n", "bulk00042@" + dom)
        check_eq((rc, out), (0, "bulk00042\n"), "kill -9 round %d: lookups still work" % i, err)
    print("# kill -9: %d of 12 runs killed before they finished" % killed)
    # a name whose run was killed after its directory was made: refused
    # with a clear message, never silently adopted
    for i in range(12):
        name = "victim%02d" % i
        if name not in old and os.path.isdir(os.path.join(ddir(dom), name)):
            rc, out, err = run("vadduser", "%s@%s" % (name, dom), "pw")
            check(rc == 100 and "not in vpasswd" in err, "a leftover directory is not taken over", err)
            break
    rc, out, err = run("vadduser", "after@" + dom, "pw")
    check_eq(rc, 0, "kill -9: the next vadduser works (the lock is free)", err)


def test_passwd_moduser_quota():
    e0 = entries()["joe"]
    rc, out, err = run("vpasswd", "joe@" + DOM, "newer-pw")
    check_eq(rc, 0, "vpasswd", err)
    e1 = entries()["joe"]
    check(e1[1] != e0[1] and e1[1].startswith(e0[1][:3]), "vpasswd: a new hash", e1[1])
    check_eq(e1[2:], e0[2:], "vpasswd: the other fields unchanged")
    rc, out, err = run("vpasswd", "-r", "joe@" + DOM)
    check(rc == 0 and re.match(r"^Random password: [A-Za-z0-9]{12}\n$", out), "vpasswd -r", out + err)
    rc, out, err = run("vpasswd", "joe@" + DOM)
    check_eq(rc, 100, "vpasswd without a password or a terminal refused", err)
    rc, out, err = run("vpasswd", "nobody@" + DOM, "pw")
    check(rc == 100 and "no such user" in err, "vpasswd: unknown user", err)

    rc, out, err = run("vmoduser", "-p", "-s", "-b", "joe@" + DOM)
    check_eq(rc, 0, "vmoduser -p -s -b", err)
    check_eq(entries()["joe"][3], str(0x02 | 0x800 | 0x10), "vmoduser: NO_POP|NO_SMTP|BOUNCE_MAIL bits")
    rc, out, err = run("vuserinfo", "-g", "joe@" + DOM)
    check(rc == 0 and "pop access closed" in out and "mail will be bounced" in out, "vuserinfo -g names the flags", out)
    rc, out, err = run("vmoduser", "-x", "-i", "joe@" + DOM)
    check_eq(entries()["joe"][3], str(0x08), "vmoduser -x -i: cleared, then NO_IMAP")
    rc, out, err = run("vmoduser", "-C", "clear-pw", "joe@" + DOM)
    check_eq(rc, 0, "vmoduser -C", err)
    check_eq(entries()["joe"][7], "clear-pw", "vmoduser -C: the clear-text field")
    check_eq(run("vuserinfo", "-C", "joe@" + DOM)[1], "clear-pw\n", "vuserinfo -C shows it")
    rc, out, err = run("vpasswd", "joe@" + DOM, "pw3")
    check_eq(entries()["joe"][7], None, "vpasswd drops the stale clear-text copy")
    check("clear-text" in err, "vpasswd says so", err)
    rc, out, err = run("vmoduser", "-D", "/etc", "joe@" + DOM)
    check_eq(rc, 100, "vmoduser -D outside the domain refused", err)
    rc, out, err = run("vmoduser", "-l", "joe@" + DOM)
    check(rc == 100 and "usage" in err, "vmoduser: an option it lacks gives the usage", err)
    rc, out, err = run("vmoduser", "-c", "All of them", DOM)
    check(rc == 0 and all(x[4] == "All of them" for x in entries().values()), "vmoduser DOMAIN: every user", err)

    md = os.path.join(ddir(), "joe", "Maildir")
    for i in range(3):
        with open(os.path.join(md, "cur", "100%d.1.host,S=1000:2," % i), "w") as f:
            f.write("x")
    old = time.time() - 60
    for sub in ("cur", "new"):
        os.utime(os.path.join(md, sub), (old, old))
    rc, out, err = run("vsetuserquota", "joe@" + DOM, "1mb")
    check_eq(rc, 0, "vsetuserquota 1mb", err)
    check_eq(entries()["joe"][6], "1048576S", "vsetuserquota: stored as Maildir++")
    with open(os.path.join(md, "maildirsize")) as f:
        check_eq(f.read(), "1048576S\n3000 3\n", "vsetuserquota: maildirsize rewritten")
    check_eq(run("vuserinfo", "-Q", "joe@" + DOM)[1], "0%\n", "vuserinfo -Q")
    rc, out, err = run("vsetuserquota", "joe@" + DOM, "5000S,4C")
    check_eq(run("vuserinfo", "-Q", "joe@" + DOM)[1], "75%\n", "vuserinfo -Q: the tighter limit (3 of 4 messages)")
    rc, out, err = run("vsetuserquota", "joe@" + DOM, "NOQUOTA")
    check(rc == 0 and not os.path.exists(os.path.join(md, "maildirsize")), "vsetuserquota NOQUOTA removes maildirsize", err)
    for q in ("lots", "10GB", "5S,6S", "-1", ""):
        check_eq(run("vsetuserquota", "joe@" + DOM, q)[0], 100, "vsetuserquota refuses %r" % q)
    rc, out, err = run("vuserinfo", "joe@" + DOM)
    check(rc == 0 and out.startswith("name:   joe\npasswd: $") and "quota:     NOQUOTA\n" in out,
          "vuserinfo: vpopmail's layout", out)
    rc, out, err = run("vuserinfo", "-l", "joe@" + DOM)
    check(rc == 100 and "-l" in err, "vuserinfo -l is refused with a reason", err)


def test_valias():
    rc, out, err = run("valias", "-i", "fred@example.com", "info.desk@" + DOM)
    check_eq(rc, 0, "valias -i", err)
    fn = os.path.join(ddir(), ".qmail-info:desk")
    check(os.path.exists(fn), "valias: dots become ':' in the file name", repr(listing()))
    run("valias", "-i", "|/bin/true", "info.desk@" + DOM)
    with open(fn) as f:
        check_eq(f.read(), "fred@example.com\n|/bin/true\n", "valias: the lines")
    check_eq(run("valias", "-i", "fred@example.com", "info.desk@" + DOM)[0], 100, "valias: the same line twice refused")
    check_eq(run("valias", "info.desk@" + DOM)[1],
             "info.desk@%s -> fred@example.com\ninfo.desk@%s -> |/bin/true\n" % (DOM, DOM), "valias shows an alias")
    check_eq(run("valias", "-n", DOM)[1], "info.desk\n", "valias -n lists the names")
    check_eq(run("valias", "-i", "x@y.test", "default@" + DOM)[0], 100, "valias will not write .qmail-default")
    check_eq(run("valias", "-i", "a\nb", "two@" + DOM)[0], 100, "valias: a line with a newline refused")
    check_eq(run("valias", "-i", "x@y.test", "../evil@" + DOM)[0], 100, "valias: a bad alias name refused")
    rc, out, err = run("valias", "-d", "info.desk@" + DOM)
    check(rc == 0 and not os.path.exists(fn), "valias -d", err)
    check_eq(run("valias", "-d", "info.desk@" + DOM)[0], 100, "valias -d of a missing alias")


def test_deluser():
    rc, out, err = run("vdeluser", "jane.doe@" + DOM)
    check_eq(rc, 0, "vdeluser", err)
    check("jane.doe" not in entries() and "jane.doe" not in cdb_names(), "vdeluser: gone from vpasswd and the cdb")
    check(not os.path.exists(os.path.join(ddir(), "jane.doe")), "vdeluser: directory removed")
    check_eq(run("vdeluser", "jane.doe@" + DOM)[0], 100, "vdeluser of a missing user")

    # a symlink inside the user's Maildir pointing outside: only the link goes
    outside = os.path.join(ROOT, "vusers-outside")
    rmtree(outside)
    os.makedirs(os.path.join(outside, "keep"))
    with open(os.path.join(outside, "keep", "precious"), "w") as f:
        f.write("keep me\n")
    run("vadduser", "linker@" + DOM, "pw")
    os.symlink(outside, os.path.join(ddir(), "linker", "Maildir", ".Evil"))
    os.symlink(os.path.join(outside, "keep", "precious"), os.path.join(ddir(), "linker", "Maildir", "cur", "x"))
    rc, out, err = run("vdeluser", "linker@" + DOM)
    check(rc == 0 and not os.path.lexists(os.path.join(ddir(), "linker")), "vdeluser with symlinks inside", err)
    check(os.path.exists(os.path.join(outside, "keep", "precious")), "vdeluser: the symlinks' targets untouched")

    # a vpasswd whose dir points outside the domain: the entry goes, the dir stays
    run("vadduser", "escapee@" + DOM, "pw")
    path = os.path.join(ddir(), "vpasswd")
    with open(path) as f:
        text = f.read()
    text = text.replace("%s/escapee:" % ddir(), "%s/../../../vusers-outside:" % ddir())
    with open(path, "w") as f:
        f.write(text)
    run("vmkpasswd", DOM)
    rc, out, err = run("vdeluser", "escapee@" + DOM)
    check(rc == 0 and "not inside" in err, "vdeluser: a dir outside the domain is left, with a warning", err)
    check(os.path.exists(os.path.join(outside, "keep", "precious")), "vdeluser: nothing outside removed")
    check("escapee" not in entries(), "vdeluser: the entry is gone anyway")
    rmtree(os.path.join(ddir(), "escapee"))
    rmtree(outside)


def main():
    how = {}
    try:
        for dom in (DOM, DOM2):
            how[dom] = add_domain(dom)
        print("# domains made by %s" % how[DOM])
        test_add()
        test_tty()
        test_bad_names()
        test_concurrent()
        test_malformed()
        test_passwd_moduser_quota()
        test_valias()
        test_deluser()
        test_kill9()
    finally:
        for dom in how:
            del_domain(dom, how[dom])
        check(all("+%s-:" % d not in "\n".join(assign_lines()) for d in (DOM, DOM2)), "users/assign left clean")
    quail.done()


if __name__ == "__main__":
    main()
