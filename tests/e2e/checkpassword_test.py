"""checkpassword on real system accounts.

As root, it creates temporary users (qtcpw<pid><letter>, removed at the end
with userdel -r, also when a check fails or the test dies of an exception),
gives them passwords with known hashes of each kind libcrypt can make
(yescrypt, SHA-512, SHA-256, MD5, DES) through usermod -p, and runs
checkpassword with /bin/sh as the program to see exactly what the program
gets: its uid, gid, groups, directory and USER/HOME/SHELL. It also checks
what must be refused (uid 0, locked, expired and empty hashes, '/' and '..'
in names, wrong and empty passwords, an APOP digest), the misuse exit
code 2 and temporary trouble 111, and that no password ever appears on
descriptor 1 or 2.

Without root, only what needs no account is tested, and a skip line says so.

Not tested here: NSS sources other than files (LDAP, NIS); the name
service failing (111), which needs a broken NSS module; a passwd entry
holding the hash itself with no shadow entry (useradd always writes one);
crypt running out of memory; timing (noisy; the unit test checks the
compare has no early exit).
"""

import ctypes
import ctypes.util
import grp
import hashlib
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import quail  # noqa: E402
from quail import check, check_eq, BIN  # noqa: E402

CPW = os.path.join(BIN, "checkpassword")
ENV = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""), "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", ""),
       "PATH": "/usr/bin:/bin", "TCPREMOTEIP": "192.0.2.1"}
# What the program tells about itself, one fact a line.
REPORT = ["/bin/sh", "-c",
          'id -u; id -ru; id -g; id -rg; id -G; pwd; echo "$USER $HOME $SHELL"; echo "$TCPREMOTEIP";'
          ' if [ -e /dev/fd/3 ]; then echo fd3 open; else echo fd3 closed; fi']

# Every password used, to look for in everything checkpassword prints.
secrets_used = []
outputs = []


def run(data, prog=None, fd3=True, user=None, timeout=30):
    """Runs checkpassword with data on descriptor 3 (or with descriptor 3
    closed), as user (uid, gid) if given; returns (exit code, stdout,
    stderr). A shell puts the pipe at 3, so that nothing of subprocess's
    own can be in the way."""
    prog = REPORT if prog is None else prog
    r, w = os.pipe()
    os.write(w, data)  # far less than a pipe holds
    os.close(w)
    if r == 3:
        redir = ":" if fd3 else "exec 3<&-"
    else:
        redir = "exec 3<&%d %d<&-" % (r, r) if fd3 else "exec 3<&- %d<&-" % r

    def drop():
        os.setgroups([])
        os.setgid(user[1])
        os.setuid(user[0])

    try:
        p = subprocess.run(["/bin/sh", "-c", redir + '; exec "$@"', "sh", CPW] + prog, env=ENV,
                           capture_output=True, timeout=timeout, pass_fds=(r,),
                           preexec_fn=drop if user is not None else None)
    finally:
        os.close(r)
    outputs.append(p.stdout + p.stderr)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def fd3(user, password, stamp=b""):
    return user + b"\0" + password + b"\0" + stamp + b"\0"


# ---- hashes ----

def _libcrypt():
    name = ctypes.util.find_library("crypt")
    if not name:
        return None
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    if hasattr(lib, "crypt_gensalt"):
        lib.crypt_gensalt.restype = ctypes.c_char_p
        lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
    return lib


LIBCRYPT = _libcrypt()
# kind: (crypt_gensalt prefix, openssl passwd option, mkpasswd method)
KINDS = {
    "yescrypt": (b"$y$", None, "yescrypt"),
    "sha512": (b"$6$", "-6", "sha-512"),
    "sha256": (b"$5$", "-5", "sha-256"),
    "md5": (b"$1$", "-1", "md5crypt"),
    "des": (b"", "-crypt", "descrypt"),
}


def make_hash(kind, password):
    """A crypt(3) hash of password of the given kind, and how it was made;
    or None and why not."""
    prefix, sslopt, mkmethod = KINDS[kind]
    why = []
    if LIBCRYPT is not None and hasattr(LIBCRYPT, "crypt_gensalt"):
        salt = LIBCRYPT.crypt_gensalt(prefix, 0, None, 0)
        if salt:
            h = LIBCRYPT.crypt(password, salt)
            if h and not h.startswith(b"*"):
                return h, "libcrypt"
        why.append("libcrypt cannot make it")
    else:
        why.append("no libcrypt with crypt_gensalt")
    if sslopt and shutil.which("openssl"):
        p = subprocess.run(["openssl", "passwd", sslopt, "-stdin"], input=password + b"\n", capture_output=True)
        if p.returncode == 0 and p.stdout.strip():
            return p.stdout.strip(), "openssl passwd " + sslopt
        why.append("openssl passwd %s failed" % sslopt)
    if shutil.which("mkpasswd"):
        p = subprocess.run(["mkpasswd", "-m", mkmethod, "--stdin"], input=password + b"\n", capture_output=True)
        if p.returncode == 0 and p.stdout.strip():
            return p.stdout.strip(), "mkpasswd -m " + mkmethod
        why.append("mkpasswd -m %s failed" % mkmethod)
    return None, "; ".join(why)


# ---- accounts ----

TAG = "qtcpw%d" % (os.getpid() % 100000)
created_users = []
created_groups = []


def sh(*args):
    p = subprocess.run(list(args), capture_output=True)
    if p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr.decode(errors="replace")))
    return p


def add_user(letter, home, hashed=None, extra=()):
    name = TAG + letter
    created_users.append(name)
    sh("useradd", "-m", "-d", home, "-s", "/bin/sh", *extra, name)
    if hashed is not None:
        sh("usermod", "-p", hashed.decode() if isinstance(hashed, bytes) else hashed, name)
    return name


def cleanup():
    for name in created_users:
        # -f: the uid-0 account shares root's uid, and root has processes.
        subprocess.run(["userdel", "-r", "-f", name], capture_output=True)
    for g in created_groups:
        subprocess.run(["groupdel", g], capture_output=True)


def expect_report(name, out, pw, extra_gids, what):
    """Checks the REPORT program's output against the account."""
    lines = out.split("\n")
    if not check(len(lines) >= 9, what + ": the program's report", repr(out)):
        return
    check_eq(lines[0], str(pw.pw_uid), what + ": effective uid")
    check_eq(lines[1], str(pw.pw_uid), what + ": real uid")
    check_eq(lines[2], str(pw.pw_gid), what + ": effective gid")
    check_eq(lines[3], str(pw.pw_gid), what + ": real gid")
    want = sorted({pw.pw_gid} | set(extra_gids))
    check_eq(sorted(int(g) for g in lines[4].split()), want, what + ": groups (initgroups)")
    check_eq(lines[5], os.path.realpath(pw.pw_dir), what + ": working directory is home")
    check_eq(lines[6], "%s %s %s" % (name, pw.pw_dir, pw.pw_shell or "/bin/sh"), what + ": USER HOME SHELL")
    check_eq(lines[7], "192.0.2.1", what + ": the rest of the environment is kept")
    check_eq(lines[8], "fd3 closed", what + ": descriptor 3 is closed for the program")


# ---- tests ----

def test_misuse():
    rc, out, err = run(b"", prog=[])
    check_eq(rc, 2, "no program: exit 2")
    check("usage" in err, "no program: usage on stderr", err)
    rc, out, err = run(fd3(b"nosuchuserqt", b"pw"), fd3=False)
    check_eq(rc, 2, "descriptor 3 not open: exit 2", err)
    rc, out, err = run(b"x" * 513)
    check_eq(rc, 2, "513 bytes on descriptor 3: exit 2", err)
    rc, out, err = run(fd3(b"nosuchuserqt", b"p" * 600))
    check_eq(rc, 2, "a 600-byte password: exit 2", err)
    rc, out, err = run(b"nosuchuserqt\0pw\0stamp")
    check_eq(rc, 2, "timestamp without its NUL: exit 2", err)
    rc, out, err = run(b"nosuchuserqt\0pw")
    check_eq(rc, 2, "only one NUL: exit 2", err)
    rc, out, err = run(b"nosuchuserqt pw stamp")
    check_eq(rc, 2, "no NUL at all: exit 2", err)
    rc, out, err = run(b"")
    check_eq(rc, 2, "nothing on descriptor 3: exit 2", err)
    rc, out, err = run(b"nosuchuserqt\0pw\0\0extra")
    check_eq(rc, 2, "bytes after the timestamp: exit 2", err)
    # Exactly 512 bytes is within the bound: a bad user (1), not misuse.
    data = fd3(b"nosuchuserqt", b"p" * (512 - 3 - len(b"nosuchuserqt")))
    rc, out, err = run(data)
    check_eq((len(data), rc), (512, 1), "512 bytes on descriptor 3 are read: exit 1 for an unknown user", err)
    rc, out, err = run(fd3(b"nosuchuserqt", b"pw"), prog=["/nonexistent/program"])
    check_eq(rc, 1, "an unknown user never runs the program: exit 1", err)


def test_unprivileged_refusals():
    """What needs no account of our own: these hold for root and others."""
    for user, why in [(b"root", "uid 0"), (b"", "empty name"), (b"../root", "'..'"), (b"/root", "'/'"),
                      (b"a" * 65, "65-byte name"), (b"nosuchuserqt", "unknown user")]:
        rc, out, err = run(fd3(user, b"whatever"))
        check_eq(rc, 1, "%s refused: exit 1" % why, err)
        check_eq((out, err), ("", ""), "%s refused: nothing printed" % why)


def test_not_root():
    me = pwd.getpwuid(os.getuid())
    # nss-systemd makes up shadow entries for root and nobody (locked) that
    # anybody may read; for other accounts, /etc/shadow needs root.
    shadow = subprocess.run(["getent", "shadow", me.pw_name], capture_output=True)
    if me.pw_passwd != "x":
        quail.skip("not root, shadowed account", "%s has no 'x' in its passwd entry" % me.pw_name)
    elif shadow.returncode == 0:
        quail.skip("not root, shadowed account", "the name service gives %s's shadow entry without root" % me.pw_name)
    else:
        rc, out, err = run(fd3(me.pw_name.encode(), b"guess"))
        check_eq(rc, 111, "not root: a shadowed account is temporary trouble (111)", err)
        check("root" in err, "not root: stderr says it needs root", err)


def test_as_root(home_base):
    nobody = pwd.getpwnam("nobody")

    # One account per kind of hash, each with its own password.
    accounts = []  # (kind, name, password)
    letters = iter("abcde")  # the other letters are for the accounts below
    for kind in KINDS:
        password = b"Pw" + secrets.token_hex(3).encode() if kind == "des" else \
            ("Pw-%s-%s ok" % (kind, secrets.token_hex(8))).encode()
        hashed, how = make_hash(kind, password)
        letter = next(letters)
        if hashed is None:
            quail.skip("%s hash" % kind, "cannot make one here: " + how)
            continue
        secrets_used.append(password)
        name = add_user(letter, os.path.join(home_base, TAG + letter), hashed)
        accounts.append((kind, name, password, how))

    # A supplementary group for one of them, to see initgroups at work.
    group = TAG + "g"
    sh("groupadd", group)
    created_groups.append(group)
    gid = grp.getgrnam(group).gr_gid
    if accounts:
        sh("usermod", "-a", "-G", group, accounts[0][1])

    for kind, name, password, how in accounts:
        pw = pwd.getpwnam(name)
        what = "%s (%s)" % (kind, how)
        rc, out, err = run(fd3(name.encode(), password, b"<123.456@test>"))
        if not check_eq(rc, 0, what + ": right password: exit 0", err):
            continue
        expect_report(name, out, pw, [gid] if name == accounts[0][1] else [], what)
        rc, out, err = run(fd3(name.encode(), password + b"x"))
        if kind != "des":  # DES reads 8 bytes at most; its passwords here are 8
            check_eq(rc, 1, what + ": the password and one more byte: exit 1", err)
        rc, out, err = run(fd3(name.encode(), password[:-1]))
        check_eq(rc, 1, what + ": the password less its last byte: exit 1", err)
        rc, out, err = run(fd3(name.encode(), b"wrong"))
        check_eq(rc, 1, what + ": wrong password: exit 1", err)
        check_eq(out, "", what + ": wrong password: the program did not run")
        rc, out, err = run(fd3(name.encode(), b""))
        check_eq(rc, 1, what + ": empty password: exit 1", err)
        rc, out, err = run(fd3(name.upper().encode(), password))
        check_eq(rc, 1, what + ": the name in capitals: exit 1", err)
        rc, out, err = run(fd3(name.encode() + b"/", password))
        check_eq(rc, 1, what + ": the name with a '/': exit 1", err)
        rc, out, err = run(fd3(b"../" + name.encode(), password))
        check_eq(rc, 1, what + ": the name after '../': exit 1", err)

    if not accounts:
        quail.skip("accounts", "no hash of any kind could be made")
        return
    kind, user, password, how = accounts[0]
    hashed = sh("getent", "shadow", user).stdout.decode().split(":")[1]

    # The password of one account does not open another.
    if len(accounts) > 1:
        rc, out, err = run(fd3(accounts[1][1].encode(), password))
        check_eq(rc, 1, "another account's password: exit 1", err)

    # APOP: the digest of timestamp and password is not the password.
    stamp = b"<4711.1700000000@test>"
    digest = hashlib.md5(stamp + password).hexdigest().encode()
    rc, out, err = run(fd3(user.encode(), digest, stamp))
    check_eq(rc, 1, "APOP digest for a system account: exit 1", err)

    # uid 0 with a password that is right: still refused.
    pw0 = b"Pw-root-" + secrets.token_hex(12).encode()
    secrets_used.append(pw0)
    h0, _ = make_hash(kind, pw0)
    name0 = add_user("z", os.path.join(home_base, TAG + "z"), h0, extra=("-o", "-u", "0"))
    rc, out, err = run(fd3(name0.encode(), pw0))
    check_eq(rc, 1, "uid 0 with the right password: exit 1", err)
    check_eq(out, "", "uid 0: the program did not run")

    # Locked, starred, empty and expired hashes.
    def variant(letter, setup, why, want=1):
        name = add_user(letter, os.path.join(home_base, TAG + letter), hashed)
        setup(name)
        rc, out, err = run(fd3(name.encode(), password))
        check_eq(rc, want, "%s: exit %d" % (why, want), err)
        if want != 0:
            check_eq(out, "", "%s: the program did not run" % why)
        return name

    variant("l", lambda n: sh("usermod", "-L", n), "locked with usermod -L (right password)")
    variant("s", lambda n: sh("usermod", "-p", "*", n), "hash '*'")
    variant("m", lambda n: sh("usermod", "-p", "!", n), "hash '!'")
    variant("n", lambda n: sh("usermod", "-p", "", n), "empty hash")
    variant("x", lambda n: sh("usermod", "-e", "1970-01-05", n), "expired account (right password)")
    variant("f", lambda n: sh("usermod", "-e", "2999-01-01", n), "account expiring in 2999 (right password)", 0)
    # chdir to a home that does not exist: 111, and the program does not run.
    variant("h", lambda n: sh("usermod", "-d", "/nonexistent/" + n, n), "home directory missing", 111)
    # An empty shell field is /bin/sh.
    name = variant("k", lambda n: sh("usermod", "-s", "", n), "empty shell field", 0)
    rc, out, err = run(fd3(name.encode(), password))
    if pwd.getpwnam(name).pw_shell == "":
        check(out.split("\n")[6:7] == ["%s %s /bin/sh" % (name, pwd.getpwnam(name).pw_dir)],
              "empty shell field: SHELL=/bin/sh", out)
    else:
        quail.skip("empty shell field", "usermod -s '' did not leave it empty")

    # All four uids and gids (real, effective, saved, filesystem) are the
    # user's: nothing is left to get root back with.
    pw = pwd.getpwnam(user)
    rc, out, err = run(fd3(user.encode(), password), prog=["grep", "-E", "^(Uid|Gid):", "/proc/self/status"])
    check_eq((rc, out.split()), (0, ["Uid:"] + [str(pw.pw_uid)] * 4 + ["Gid:"] + [str(pw.pw_gid)] * 4),
             "real, effective, saved and filesystem ids are the user's", err)

    # The program is looked up through PATH, with its arguments.
    rc, out, err = run(fd3(user.encode(), password), prog=["echo", "a b", "c"])
    check_eq((rc, out), (0, "a b c\n"), "program found through PATH, arguments passed", err)
    rc, out, err = run(fd3(user.encode(), password), prog=["/nonexistent/program"])
    check_eq(rc, 111, "a program that cannot be run: exit 111", err)
    # The program's exit code is checkpassword's.
    rc, out, err = run(fd3(user.encode(), password), prog=["/bin/sh", "-c", "exit 7"])
    check_eq(rc, 7, "the program's exit code is passed on", err)

    # Not root: a right password cannot be checked, and that is temporary.
    rc, out, err = run(fd3(user.encode(), password), user=(nobody.pw_uid, nobody.pw_gid))
    check_eq(rc, 111, "run as nobody: exit 111", err)
    check_eq(out, "", "run as nobody: the program did not run")


def main():
    if not os.path.exists(CPW):
        check(False, "checkpassword is installed", CPW)
        quail.done()
    test_misuse()
    test_unprivileged_refusals()
    if quail.is_root() and shutil.which("useradd"):
        home_base = tempfile.mkdtemp(prefix="qtcpw-")
        os.chmod(home_base, 0o755)
        try:
            test_as_root(home_base)
        finally:
            cleanup()
            shutil.rmtree(home_base, ignore_errors=True)
        left = [u for u in created_users if subprocess.run(["getent", "passwd", u], capture_output=True).returncode == 0]
        check_eq(left, [], "the test accounts are gone")
    else:
        test_not_root()
        quail.skip("accounts, hashes, the program's ids and environment",
                   "needs root and useradd" if shutil.which("useradd") else "needs useradd")
    leaked = [i for i, o in enumerate(outputs) for s in secrets_used if s in o]
    check_eq(leaked, [], "no password on stdout or stderr (%d runs)" % len(outputs))
    quail.done()


if __name__ == "__main__":
    main()
