"""qmail-newu, qmail-newmrh, qmail-showctl, config-fast and maildirmake on
the test instance.

qmail-newu's output is compared byte for byte with a cdb written by an
independent Python implementation of djb's cdbmake fed the records qmail's
qmail-newu would write, and read back with an independent cdb reader.

Not tested here: qmail-lspawn and vpopmail reading users/cdb (they arrive
with later issues and test it from their side).
"""

import os
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import quail  # noqa: E402
from quail import check, check_eq, ROOT, BIN  # noqa: E402

ENV = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""), "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", ""),
       "PATH": "/usr/bin:/bin"}


def run(prog, *args, **kw):
    return subprocess.run([os.path.join(BIN, prog)] + list(args), env=ENV, capture_output=True, **kw)


ASSIGN = b"""=root:alias:7790:2108:/var/qmail/alias:::
+:alias:7790:2108:/var/qmail/alias:-::
+Joe-:joe:507:100:/home/joe:-::ignored:fields:
=Joe:joe:507:100:/home/joe:::
+example.com-:example.com:89:89:/home/vpopmail/domains/example.com:-::
=dup:first:1:1:/a:::
=dup:second:2:2:/b:::
.
this is after the end and is not read
"""


def expected_newu(text):
    """What qmail-newu writes for text, computed from qmail-users(5)."""
    records = []
    wild = b""
    for line in text.split(b"\n"):
        if line.startswith(b"."):
            break
        addr, rest = line.split(b":", 1)
        fields = rest.split(b":")[:6]
        key = b"!" + addr[1:].lower()
        if addr[:1] == b"+":
            if addr[1:] and addr[-1:] not in wild:
                wild += addr[-1:]
        else:
            key += b"\0"
        records.append((key, b"\0".join(fields)))
    records.append((b"", wild))
    return records


def test_newu():
    users = os.path.join(ROOT, "users")
    assign = os.path.join(users, "assign")
    cdb = os.path.join(users, "cdb")
    for f in (assign, cdb):
        if os.path.exists(f):
            os.unlink(f)
    with open(assign, "wb") as f:
        f.write(ASSIGN)
    p = run("qmail-newu")
    check_eq(p.returncode, 0, "qmail-newu compiles a users/assign")
    want = expected_newu(ASSIGN)
    got_bytes = open(cdb, "rb").read()
    check(got_bytes == quail.cdb_make(want), "users/cdb is byte for byte what qmail-newu writes")
    records, lookup = quail.cdb_read(cdb)
    check_eq(records, want, "records in order, with qmail-newu's keys and data")
    check_eq(lookup(b"!joe\0"), [b"joe\x00507\x00100\x00/home/joe\x00\x00"], "a simple entry: key !local NUL, lowercased")
    check_eq(lookup(b"!joe-"), [b"joe\x00507\x00100\x00/home/joe\x00-\x00"], "a wildcard entry: key !prefix without NUL")
    check_eq(lookup(b"!example.com-"), [b"example.com\x0089\x0089\x00/home/vpopmail/domains/example.com\x00-\x00"],
             "vpopmail's per-domain wildcard line, as vget_assign reads it")
    check_eq(lookup(b"!dup\0"), [b"first\x001\x001\x00/a\x00\x00", b"second\x002\x002\x00/b\x00\x00"],
             "duplicates are all kept, the first one found first")
    check_eq(lookup(b""), [b"-"], "the empty key holds the wildcard characters ('-' once)")
    check_eq(oct(os.stat(cdb).st_mode & 0o777), oct(0o644), "users/cdb has mode 0644")
    check(not os.path.exists(cdb + ".tmp"), "no users/cdb.tmp is left")

    good = open(cdb, "rb").read()
    bad = [
        (b"=joe:joe:507:100:/home/joe::\n.\n", "line 1", "fewer than six fields after the address"),
        (b"=joe:joe:507:100:/home/joe:::\n", "no \".\" line", "no final dot line"),
        (b":joe:507:100:/home/joe:::\n.\n", "line 1", "a line starting with a colon"),
        (b"=a:b:1:1:/h:::\n=joe\0x:joe:507:100:/home/joe:::\n.\n", "line 2", "a NUL inside a line"),
        (b"=nocolon\n.\n", "line 1", "a line without a colon"),
    ]
    for text, where, name in bad:
        with open(assign, "wb") as f:
            f.write(text)
        p = run("qmail-newu")
        check_eq(p.returncode, 111, "malformed users/assign (%s): exit 111" % name)
        check(where.encode() in p.stderr, "the error names the problem (%s)" % where, p.stderr.decode(errors="replace"))
        check(open(cdb, "rb").read() == good, "a malformed users/assign leaves users/cdb as it was (%s)" % name)
    os.unlink(assign)
    p = run("qmail-newu")
    check_eq(p.returncode, 111, "a missing users/assign: exit 111")
    # An empty assignment list is fine: just the empty key, with no wildcards.
    with open(assign, "wb") as f:
        f.write(b".\n")
    p = run("qmail-newu")
    check_eq(p.returncode, 0, "users/assign with only the dot line")
    check_eq(quail.cdb_read(cdb)[0], [(b"", b"")], "gives a cdb with only the empty wildchars record")
    os.unlink(assign)
    os.unlink(cdb)


def test_newmrh():
    c = os.path.join(ROOT, "control")
    mrh = os.path.join(c, "morercpthosts")
    with open(mrh, "wb") as f:
        f.write(b"# a comment\nExample.COM  \n\n\tsub.example.org\t\nlast.example.net")
    p = run("qmail-newmrh")
    check_eq(p.returncode, 0, "qmail-newmrh compiles control/morercpthosts")
    records, lookup = quail.cdb_read(mrh + ".cdb")
    check_eq(records, [(b"example.com", b""), (b"\tsub.example.org", b""), (b"last.example.net", b"")],
             "lowercased keys, blanks trimmed at the end, comments and empty lines skipped")
    check(open(mrh + ".cdb", "rb").read() == quail.cdb_make(records), "morercpthosts.cdb is a standard cdb")
    check_eq(lookup(b"example.com"), [b""], "a host is found by its lowercase name")
    os.unlink(mrh)
    p = run("qmail-newmrh")
    check_eq(p.returncode, 111, "a missing control/morercpthosts: exit 111")
    check(b"unable to read control/morercpthosts" in p.stderr, "and says so")
    os.unlink(mrh + ".cdb")


def write(name, text):
    with open(os.path.join(ROOT, "control", name), "w") as f:
        f.write(text)


def test_showctl_and_config_fast():
    c = os.path.join(ROOT, "control")
    for f in os.listdir(c):
        os.unlink(os.path.join(c, f))
    p = run("config-fast", "mail.example.com")
    check_eq(p.returncode, 0, "config-fast mail.example.com")
    files = {f: open(os.path.join(c, f)).read() for f in os.listdir(c)}
    check_eq(files, {"me": "mail.example.com\n", "defaultdomain": "example.com\n", "plusdomain": "example.com\n",
                     "locals": "mail.example.com\n", "rcpthosts": "mail.example.com\n"},
             "it writes me, defaultdomain, plusdomain, locals and rcpthosts")
    p = run("config-fast", "mail.example.com")
    check_eq(p.returncode, 0, "config-fast again")
    check_eq(open(os.path.join(c, "locals")).read(), "mail.example.com\n", "running it twice adds no duplicate line")
    for bad in ("", "a b.com", "../etc", ".example.com", "x;rm -rf"):
        p = run("config-fast", bad)
        check_eq(p.returncode, 100, "config-fast refuses %r" % bad)
    p = run("config-fast")
    check_eq(p.returncode, 100, "config-fast without a name is a usage error")

    write("databytes", "1000000\n")
    write("concurrencyremote", "2O\n")
    write("timeoutsmtpd", "600   \nexplanation below the value\n")
    write("badmailfrom", "# spammers\nspam@example.com\n@bad.example\n")
    write("smtpgreeting", "mail.example.com ESMTP\x01\n")
    write("mispeled", "x\n")
    write("maxrcpt", "500\n")
    write("badrcptto", "@spamtrap.example\n")
    p = run("qmail-showctl")
    out = p.stdout.decode()
    check_eq(p.returncode, 0, "qmail-showctl runs")
    want = [
        "qmail home directory: %s." % ROOT,
        "user-ext delimiter: -.",
        "subdirectory split: %d." % quail.conf_split(),
        "user ids: " + ", ".join([str(os.getuid())] * 8) + ".",
        "me: My name is mail.example.com.",
        "databytes: SMTP DATA limit is 1000000 bytes.",
        "timeoutsmtpd: SMTP server data timeout is 600 seconds.",
        "concurrencyremote: Oops! This file does not hold a number.",
        "concurrencylocal: (Default.) Local concurrency is 10.",
        "bouncehost: (Default.) Bounce host name is mail.example.com.",
        "doublebounceto: (Default.) 2B recipient user: postmaster.",
        "spam@example.com not accepted in MAIL FROM.",
        "@bad.example not accepted in MAIL FROM.",
        "smtpgreeting: SMTP greeting: 220 mail.example.com ESMTP?.",
        "mispeled: I have no idea what this file does.",
        "morercpthosts.cdb: (Default.) No effect.",
        "Messages for mail.example.com are delivered locally.",
        "maxrcpt: SMTP messages may have 500 recipients.",
        "timeoutsession: (Default.) SMTP session time limit is 3600 seconds.",
        "rcptcheck: (Default.) SMTP recipient check (1 on, 0 off) is 1.",
        "@spamtrap.example not accepted in RCPT TO.",
    ]
    for line in want:
        check(line in out.splitlines(), "qmail-showctl says: " + line, "not in output:\n" + out)
    check("# spammers" not in out, "comments in list files are not shown")
    for f in os.listdir(c):
        os.unlink(os.path.join(c, f))


def test_maildirmake():
    d = tempfile.mkdtemp()
    try:
        md = os.path.join(d, "Maildir")
        p = run("maildirmake", md)
        check_eq(p.returncode, 0, "maildirmake creates a maildir")
        for sub in ("", "tmp", "new", "cur"):
            st = os.stat(os.path.join(md, sub))
            check(stat.S_ISDIR(st.st_mode) and st.st_mode & 0o777 == 0o700, "%s/%s is a directory with mode 0700" % ("Maildir", sub))
        p = run("maildirmake", md)
        check_eq(p.returncode, 111, "maildirmake on an existing directory: exit 111")
        check(b"file already exists" in p.stderr, "and says why", p.stderr.decode())
        p = run("maildirmake")
        check_eq(p.returncode, 100, "maildirmake without an argument: exit 100")
    finally:
        shutil.rmtree(d)


test_newu()
test_newmrh()
test_showctl_and_config_fast()
test_maildirmake()
quail.done()
