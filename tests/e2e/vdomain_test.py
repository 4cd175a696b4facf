"""vadddomain, vdeldomain, vaddaliasdomain, vdominfo on the test instance,
with qmail-send running: the files a domain is made of (users/assign,
users/cdb, rcpthosts and morercpthosts, virtualdomains, .qmail-default,
vpasswd and vpasswd.cdb), the qmail-send reload, delivery to postmaster
through qmail-local and the domain's .qmail-default, alias domains, 60
domains (morercpthosts), bad names, clean removal, and two vadddomain
runs at once.

Not tested here: a system install's owners (vpopmail:vchkpw; the
instance's owner is the invoking user, or nobody through -i/-g when the
tests run as root); reloading through a supervise control pipe (unit test
vdomain_test); the undo after a failure in the middle (qmail-newu does not
fail on demand).
"""

import os
import pwd
import grp
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import quail  # noqa: E402
from quail import check, check_eq, ROOT, BIN, BUILD, wait_for  # noqa: E402


def vbase():
    with open(os.path.join(BUILD, "conf", "conf-vpopmail")) as f:
        return f.readline().strip()


BASE = vbase()
DOMAINS = os.path.join(BASE, "domains")


def env():
    e = {"PATH": BIN + ":/usr/bin:/bin", "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
         "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", ""),
         # never the host's /service/qmail-send
         "QMAILSEND_SERVICE": "/nonexistent/quail-vdomain-test"}
    return e


def run(*args, stdin=None):
    p = subprocess.run([os.path.join(BIN, args[0])] + list(args[1:]), capture_output=True,
                       env=env(), stdin=subprocess.DEVNULL if stdin is None else stdin, timeout=120)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def owner_args():
    """As root, domains belong to nobody (qmail-lspawn never delivers as
    root); otherwise to the invoking user, the instance's default."""
    if quail.is_root():
        return ["-i", str(quail.delivery_uid()), "-g", str(quail.delivery_gid())]
    return []


def read(rel):
    try:
        with open(os.path.join(ROOT, rel)) as f:
            return f.read()
    except FileNotFoundError:
        return None


def lines(rel):
    t = read(rel)
    return [] if t is None else t.split("\n")[:-1]


def users_cdb(key):
    _, lookup = quail.cdb_read(os.path.join(ROOT, "users", "cdb"))
    return lookup(key)


def ddir(d):
    return os.path.join(DOMAINS, d)


def lines_of(text):
    return [] if not text else text.split("\n")[:-1]


def snapshot():
    """The control files; a missing file counts as empty (vdeldomain
    leaves an emptied file in place: an empty rcpthosts is stricter than
    none, which would accept mail for any domain)."""
    return {f: read(f) or "" for f in ("users/assign", "control/rcpthosts", "control/morercpthosts",
                                 "control/virtualdomains", "control/locals")}


def msg(subject):
    return b"From: tester@test.example\nTo: somebody\nSubject: " + subject.encode() + b"\n\nbody\n"


def maildir_new(path):
    d = os.path.join(path, "Maildir", "new")
    try:
        return sorted(os.listdir(d))
    except FileNotFoundError:
        return []


def test_add(s):
    uid, gid = (quail.delivery_uid(), quail.delivery_gid()) if quail.is_root() else (os.getuid(), os.getgid())
    before = snapshot()
    rc, out, err = run("vadddomain", "-v", *owner_args(), "Example.COM", "secret")
    check_eq(rc, 0, "vadddomain example.com", err)
    check("SIGHUP to 1 qmail-send process" in err, "vadddomain reloads the running qmail-send", err)
    d = ddir("example.com")
    line = "+example.com-:example.com:%d:%d:%s:-::" % (uid, gid, d)
    check_eq(lines("users/assign")[-2:], [line, "."], "users/assign has the domain's line before the dot")
    check_eq(lines("users/assign")[:-2], lines_of(before["users/assign"])[:-1], "the other users/assign lines stay")
    check_eq(users_cdb(b"!example.com-"), [("example.com\0%d\0%d\0%s\0-\0" % (uid, gid, d)).encode()],
             "users/cdb has !example.com- as vget_assign reads it")
    check_eq(lines("control/virtualdomains"), ["example.com:example.com"], "virtualdomains")
    check_eq(lines("control/rcpthosts"), ["example.com"], "rcpthosts")
    check_eq(read("control/locals"), before["control/locals"], "locals untouched (example.com was not in it)")
    check_eq(read(os.path.relpath(os.path.join(d, ".qmail-default"), ROOT)),
             "| %s/bin/vdelivermail '' delete\n" % ROOT, ".qmail-default runs vdelivermail with delete")
    st = os.stat(d)
    check_eq((st.st_uid, st.st_gid, oct(st.st_mode & 0o777)), (uid, gid, oct(0o750)), "domain dir owner and mode")
    check_eq(oct(os.stat(os.path.join(d, ".qmail-default")).st_mode & 0o777), oct(0o640), ".qmail-default is 0640 (the group: qmail-smtpd's recipient check)")
    with open(os.path.join(d, "vpasswd")) as f:
        pw = f.read().split("\n")
    f = pw[0].split(":")
    check_eq(len(pw), 2, "vpasswd has one line")
    check(len(f) == 7 and f[0] == "postmaster" and (f[1].startswith("$y$") or f[1].startswith("$6$"))
          and f[2:] == ["1", "0", "Postmaster", os.path.join(d, "postmaster"), "NOQUOTA"],
          "postmaster's vpasswd line", pw[0])
    check("secret" not in pw[0], "no clear password in vpasswd")
    _, lookup = quail.cdb_read(os.path.join(d, "vpasswd.cdb"))
    check_eq(lookup(b"postmaster"), [pw[0].split(":", 1)[1].encode()], "vpasswd.cdb: postmaster -> rest of the line")
    for sub in ("cur", "new", "tmp"):
        check(os.path.isdir(os.path.join(d, "postmaster", "Maildir", sub)), "postmaster Maildir/" + sub)
    return d


def test_delivery(s, d):
    have_vdeliver = os.path.exists(os.path.join(BIN, "vdelivermail"))
    target = os.path.join(d, "postmaster")
    if not have_vdeliver:
        # before vdelivermail existed: the routing alone, through a
        # .qmail-default that writes to a file
        with open(os.path.join(d, ".qmail-default"), "w") as f:
            f.write("| cat > %s/routed.$EXT\n" % s.top)
    rc = s.inject(msg("to postmaster"), "tester@test.example", ["postmaster@example.com"])
    check_eq(rc.returncode if hasattr(rc, "returncode") else rc, 0, "message to postmaster@example.com queued")
    if have_vdeliver:
        check(wait_for(lambda: len(maildir_new(target)) == 1, 60),
              "delivered through qmail-local and .qmail-default into postmaster's Maildir", s.logtext()[-2000:])
        with open(os.path.join(target, "Maildir", "new", maildir_new(target)[0]), "rb") as f:
            text = f.read()
        check(b"Subject: to postmaster" in text, "the message is the one sent")
    else:
        check(wait_for(lambda: os.path.exists(os.path.join(s.top, "routed.postmaster")), 60),
              "routed through virtualdomains and users/cdb to the domain's .qmail-default", s.logtext()[-2000:])
    return target


def test_alias(s, target):
    rc, out, err = run("vaddaliasdomain", "alias.example", "example.com")  # reversed order, as vpopmail allows
    check_eq(rc, 0, "vaddaliasdomain (alias first)", err)
    d = ddir("example.com")
    uid, gid = (quail.delivery_uid(), quail.delivery_gid()) if quail.is_root() else (os.getuid(), os.getgid())
    check("+alias.example-:example.com:%d:%d:%s:-::" % (uid, gid, d) in lines("users/assign"),
          "users/assign: the alias names the real domain and its dir")
    check("alias.example:alias.example" in lines("control/virtualdomains"), "virtualdomains has the alias")
    check("alias.example" in lines("control/rcpthosts"), "rcpthosts has the alias")
    rc, out, err = run("vaddaliasdomain", "example.com", "alias.example")
    check_eq(rc, 100, "vaddaliasdomain when both exist", err)
    rc, out, err = run("vaddaliasdomain", "x1.example", "x2.example")
    check_eq(rc, 100, "vaddaliasdomain when neither exists", err)
    if os.path.exists(os.path.join(BIN, "vdelivermail")):
        n = len(maildir_new(target))
        s.inject(msg("via alias"), "tester@test.example", ["postmaster@alias.example"])
        check(wait_for(lambda: len(maildir_new(target)) == n + 1, 60),
              "mail to the alias domain reaches the real domain's postmaster", s.logtext()[-2000:])
    rc, out, err = run("vdominfo", "example.com")
    check_eq(out, "domain: example.com\nuid:    %d\ngid:    %d\ndir:    %s\nusers:  1\nalias: alias.example\n"
             % (uid, gid, d), "vdominfo example.com", err)
    rc, out, err = run("vdominfo", "-n", "-r", "-t", "example.com")
    check_eq(out, "example.com\n1\nexample.com\nalias: alias.example\n", "vdominfo -n -t -r (alias lines too, as vpopmail)")
    rc, out, err = run("vdominfo")
    check("domain: alias.example (alias of example.com)\n" in out and "domain: example.com\n" in out,
          "vdominfo lists every domain", out)
    rc, out, err = run("vdominfo", "nosuch.example")
    check_eq(rc, 100, "vdominfo of an unknown domain")


def test_options():
    rc, out, err = run("vadddomain", *owner_args(), "-b", "-q", "5000000", "-r20", "opt.example")
    check_eq(rc, 0, "vadddomain -b -q -r20", err)
    check(out.startswith("Random password: ") and len(out.strip()) == len("Random password: ") + 20,
          "-r20 prints a 20-character password", out)
    d = ddir("opt.example")
    check_eq(read(os.path.relpath(os.path.join(d, ".qmail-default"), ROOT)),
             "| %s/bin/vdelivermail '' bounce-no-mailbox\n" % ROOT, "-b: bounce-no-mailbox")
    with open(os.path.join(d, "vpasswd")) as f:
        check(f.read().rstrip("\n").endswith(":5000000S"), "-q: postmaster's quota in Maildir++ form")
    rc, out, err = run("vadddomain", *owner_args(), "-e", "postmaster", "catch.example", "pw")
    check_eq(rc, 0, "vadddomain -e postmaster", err)
    check_eq(read(os.path.relpath(os.path.join(ddir("catch.example"), ".qmail-default"), ROOT)),
             "| %s/bin/vdelivermail '' %s/postmaster\n" % (ROOT, ddir("catch.example")),
             "-e user: the user's directory, as vpopmail writes it")
    rc, out, err = run("vadddomain", *owner_args(), "-e", "boss@elsewhere.example", "catch2.example", "pw")
    check_eq(rc, 0, "vadddomain -e address", err)
    check(read(os.path.relpath(os.path.join(ddir("catch2.example"), ".qmail-default"), ROOT)).endswith(
        "'' boss@elsewhere.example\n"), "-e address in .qmail-default")
    for bad in (["-e", "x;rm -rf /", "bad1.example", "pw"], ["-e", "$(id)@x", "bad2.example", "pw"],
                ["-q", "lots", "bad3.example", "pw"], ["-r", "bad4.example", "pw"], ["-x", "bad5.example", "pw"],
                ["-b", "-e", "a@b", "bad6.example", "pw"], ["-r0", "bad7.example"], ["-r129", "bad8.example"],
                [], ["a.example", "pw", "extra"]):
        rc, out, err = run("vadddomain", *(owner_args() + bad))
        check_eq(rc, 100, "vadddomain refuses %r" % bad, err)
    check(not any(os.path.exists(ddir("bad%d.example" % i)) for i in range(1, 9)), "refused domains left no directory")
    rc, out, err = run("vadddomain", *owner_args(), "opt.example", "pw")
    check_eq(rc, 100, "vadddomain of an existing domain", err)
    check("already exists" in err, "says the domain exists", err)
    if not quail.is_root():
        rc, out, err = run("vadddomain", "-i", "0", "root.example", "pw")
        check_eq(rc, 100, "an ordinary user cannot give a domain to root", err)
    for dom in ("opt.example", "catch.example", "catch2.example"):
        rc, out, err = run("vdeldomain", dom)
        check_eq(rc, 0, "vdeldomain " + dom, err)


def test_bad_names():
    before = snapshot()
    listing = sorted(os.listdir(DOMAINS))
    for name in ("../etc", "a/b", "bad domain", "x..y", "-a.example", "a-.example", ".example", "example.",
                 "a_b.example", "a:b", "", "a" * 97, "x" * 60 + "." + "y" * 36, "caf\u00e9.example", "a\nb"):
        rc, out, err = run("vadddomain", *owner_args(), name, "pw")
        check_eq(rc, 100, "vadddomain refuses %r" % name, err)
        check("fatal" in err or "usage" in err, "with a message for %r" % name, err)
    rc, out, err = run("vadddomain", *owner_args(), "a" * 48 + "." + "b" * 47, "pw")
    check_eq(rc, 0, "a 96-character domain is fine", err)
    run("vdeldomain", "a" * 48 + "." + "b" * 47)
    check_eq(snapshot(), before, "bad names changed no control file")
    check_eq(sorted(os.listdir(DOMAINS)), listing, "bad names made no directory")
    for name in ("../etc", "a/b", "nosuch.example"):
        rc, out, err = run("vdeldomain", name)
        check_eq(rc, 100, "vdeldomain refuses %r" % name, err)
    rc, out, err = run("vaddaliasdomain", "example.com", "../x")
    check_eq(rc, 100, "vaddaliasdomain refuses a bad alias name", err)


def test_many():
    before = snapshot()
    names = ["d%02d.example" % i for i in range(60)]
    for i, n in enumerate(names):
        rc, out, err = run("vadddomain", *owner_args(), *(["-O"] if i < 59 else []), n, "pw")
        if not check_eq(rc, 0, "vadddomain %s" % n, err) and i > 3:
            return
    rcpt = lines("control/rcpthosts")
    more = lines("control/morercpthosts")
    check_eq(len(rcpt), 50, "rcpthosts stops at 50 lines")
    check_eq(sorted(rcpt + more), sorted(set(rcpt + more)), "no domain twice")
    check(set(names) <= set(rcpt + more), "every domain in rcpthosts or morercpthosts")
    check(len(more) >= 10, "the rest in morercpthosts", repr(more))
    records, _ = quail.cdb_read(os.path.join(ROOT, "control", "morercpthosts.cdb"))
    check_eq(sorted(k.decode() for k, _ in records), sorted(more), "qmail-newmrh ran: morercpthosts.cdb matches")
    check_eq(len([x for x in lines("control/virtualdomains") if x.startswith("d")]), 60, "60 virtualdomains lines")
    check(all(users_cdb(("!%s-" % n).encode()) for n in names), "users/cdb knows all 60")
    for n in names:
        rc, out, err = run("vdeldomain", n)
        if not check_eq(rc, 0, "vdeldomain %s" % n, err):
            return
    after = snapshot()
    check_eq(after["users/assign"], before["users/assign"], "users/assign as before the 60")
    check_eq(after["control/virtualdomains"], before["control/virtualdomains"], "virtualdomains as before")
    check_eq(after["control/rcpthosts"], before["control/rcpthosts"], "rcpthosts as before")
    check_eq(lines("control/morercpthosts"), [], "morercpthosts empty")
    records, _ = quail.cdb_read(os.path.join(ROOT, "control", "morercpthosts.cdb"))
    check_eq(records, [], "morercpthosts.cdb empty")
    check(not any(os.path.exists(ddir(n)) for n in names), "all 60 directories gone")


def test_concurrent():
    for attempt in range(3):
        procs = [subprocess.Popen([os.path.join(BIN, "vadddomain")] + owner_args() + ["race.example", "pw%d" % i],
                                  env=env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for i in range(2)]
        rcs = sorted(p.wait(timeout=120) for p in procs)
        errs = b"".join(p.stderr.read() for p in procs).decode()
        for p in procs:
            p.stdout.close()
            p.stderr.close()
        check_eq(rcs, [0, 100], "two vadddomain race.example at once: one wins (try %d)" % attempt, errs)
        check_eq(len([x for x in lines("users/assign") if x.startswith("+race.example-:")]), 1,
                 "one users/assign line (try %d)" % attempt)
        check_eq(lines("control/virtualdomains").count("race.example:race.example"), 1, "one virtualdomains line")
        check_eq(lines("control/rcpthosts").count("race.example"), 1, "one rcpthosts line")
        with open(os.path.join(ddir("race.example"), "vpasswd")) as f:
            check_eq(len(f.read().split("\n")), 2, "one postmaster in vpasswd")
        rc, out, err = run("vdeldomain", "race.example")
        check_eq(rc, 0, "vdeldomain race.example", err)


def test_delete(s, before):
    d = ddir("example.com")
    rc, out, err = run("vdeldomain", "-v", "example.com")
    check_eq(rc, 0, "vdeldomain example.com", err)
    check("also removing the alias domain alias.example" in err, "the alias domain goes with it", err)
    check_eq(snapshot(), before, "users/assign, rcpthosts, virtualdomains, locals as before vadddomain")
    check_eq(users_cdb(b"!example.com-"), [], "users/cdb forgot example.com")
    check_eq(users_cdb(b"!alias.example-"), [], "users/cdb forgot alias.example")
    check(not os.path.exists(d), "the domain's directory is gone")
    check(os.path.isdir(DOMAINS), "domains/ itself stays")
    # mail to it now is not ours: qmail-send no longer routes it to the store
    rc, out, err = run("vdeldomain", "example.com")
    check_eq(rc, 100, "vdeldomain again: no such domain", err)
    # a leftover directory blocks vadddomain; vdeldomain -f clears it
    os.makedirs(os.path.join(ddir("left.example"), "x"))
    with open(os.path.join(ROOT, "control", "rcpthosts"), "a") as f:
        f.write("left.example\n")
    rc, out, err = run("vadddomain", *owner_args(), "left.example", "pw")
    check_eq(rc, 100, "vadddomain refuses when the directory is left over", err)
    check("vdeldomain -f" in err, "and says how to clean up", err)
    check_eq(lines("control/rcpthosts").count("left.example"), 1, "the refused vadddomain undid nothing it did not do")
    rc, out, err = run("vdeldomain", "-f", "left.example")
    check_eq(rc, 0, "vdeldomain -f of a leftover", err)
    check(not os.path.exists(ddir("left.example")), "-f removed the leftover directory")
    check("left.example" not in lines("control/rcpthosts"), "-f removed the leftover rcpthosts line")


def main():
    if not os.path.exists(os.path.join(BIN, "vadddomain")):
        quail.skip("vdomain", "vadddomain is not installed in " + BIN)
        quail.done()
    os.makedirs(DOMAINS, exist_ok=True)
    if quail.is_root():
        os.chmod(DOMAINS, 0o711)  # nobody passes through to its domains
    s = quail.System(users=("alice",), controls={"locals": "test.example\nlocalhost"})
    try:
        before = snapshot()
        s.start()
        d = test_add(s)
        target = test_delivery(s, d)
        test_alias(s, target)
        test_options()
        test_bad_names()
        test_many()
        test_concurrent()
        test_delete(s, before)
    finally:
        s.stop()
        s.cleanup()
    quail.done()


main()
