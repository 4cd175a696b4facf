"""Installing: `make setup check` as root with the real qmail users, and
`make instance` as an unprivileged user, twice, without disturbing anything.

The system install goes into a scratch conf-qmail, not /var/qmail, but with
the standard users and groups, which `make setup` creates if they are
missing (as it would on a fresh machine). It is built without sanitizers:
this is the setuid program as shipped.

Not tested here: `make setup` with DESTDIR (packaging), where owners are
left to the packager.
"""

import grp
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import quail  # noqa: E402
from quail import check, check_eq, SRC  # noqa: E402

# The system install test uses role names of its own, which do not exist
# before it runs, so that `make setup` really has to create them; it removes
# them at the end.
QUSERS = ["qtalias", "qtqmaild", "qtqmaill", "root", "qtqmailp", "qtqmailq", "qtqmailr", "qtqmails"]
QGROUPS = ["qtqmail", "qtnofiles"]
# Extra groups for the daemons' group lists: one lists the remote user as a
# member, the other the send user.
XGROUPS = ["qtrgroup", "qtsgroup"]
# The virtual-domain store's owner and group (conf-vpopmail lines 2, 3).
VUSER, VGROUP = "qtvpop", "qtvchkpw"


def remove_test_ids():
    for g in XGROUPS:
        subprocess.run(["groupdel", g], capture_output=True)
    for u in QUSERS:
        if u != "root":
            subprocess.run(["userdel", u], capture_output=True)
    subprocess.run(["userdel", VUSER], capture_output=True)
    for g in QGROUPS + [VGROUP]:
        subprocess.run(["groupdel", g], capture_output=True)


def session_daemons(sid):
    """{program: pid} of the bin/qmail-* processes in session sid."""
    out = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open("/proc/%s/cmdline" % p, "rb") as f:
                cmd = f.read().split(b"\0")[0]
        except OSError:
            continue
        if int(fields[3]) == sid and cmd.startswith(b"bin/qmail-"):
            out[cmd[4:].decode()] = int(p)
    return out


def proc_ids(pid):
    """(real uid, real gid, set of supplementary groups) of a process."""
    ids = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            ids[k] = v.split()
    return int(ids["Uid"][0]), int(ids["Gid"][0]), set(int(g) for g in ids["Groups"])


def check_daemon_groups(root):
    """qmail-start gives qmail-rspawn the qmail group and every group that
    lists the remote user as a member (initgroups, as notqmail does); the
    other daemons get the qmail group alone."""
    for g, member in zip(XGROUPS, (QUSERS[6], QUSERS[7])):
        p = subprocess.run(["groupadd", "-U", member, g], capture_output=True)
        check_eq(p.returncode, 0, "groupadd -U %s %s" % (member, g), p.stderr.decode())
    qgid = grp.getgrnam(QGROUPS[0]).gr_gid
    rgid, sgid = (grp.getgrnam(g).gr_gid for g in XGROUPS)
    log = os.path.join(os.path.dirname(root), "start.log")
    with open(log, "wb") as out:
        proc = subprocess.Popen([os.path.join(root, "bin", "qmail-start"), "./Maildir/"], cwd="/",
                                env={"PATH": "/usr/bin:/bin"}, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=out, start_new_session=True)
    try:
        want = {"qmail-send", "qmail-lspawn", "qmail-rspawn", "qmail-clean"}
        daemons = quail.wait_for(lambda: want <= set(session_daemons(proc.pid)) and session_daemons(proc.pid), 30)
        check(daemons, "the installed qmail-start starts its daemons", open(log).read())
        if not daemons:
            return
        got = {name: proc_ids(pid) for name, pid in daemons.items()}
        pw = {name: pwd.getpwnam(u).pw_uid for name, u in
              (("qmail-send", QUSERS[7]), ("qmail-lspawn", "root"), ("qmail-rspawn", QUSERS[6]),
               ("qmail-clean", QUSERS[5]))}
        check_eq(got["qmail-rspawn"], (pw["qmail-rspawn"], qgid, {qgid, rgid}),
                 "qmail-rspawn: the remote user, the qmail group, and the groups listing the remote user")
        for name in ("qmail-send", "qmail-lspawn", "qmail-clean"):
            check_eq(got[name], (pw[name], qgid, {qgid}), "%s: its user and the qmail group alone" % name)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        quail.wait_for(lambda: not session_daemons(proc.pid), 30)
        for pid in session_daemons(proc.pid).values():
            os.kill(pid, signal.SIGKILL)
        for g in XGROUPS:
            subprocess.run(["groupdel", g], capture_output=True)


def make(*args, user=None, cwd=SRC):
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/tmp"}
    pre = None
    if user is not None:
        pw = pwd.getpwnam(user)

        def pre():
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
    return subprocess.run(["make", "-s"] + list(args), cwd=cwd, env=env, capture_output=True, preexec_fn=pre)


def queue_as(root, user, message=b"Subject: x\n\nx\n"):
    """Runs root/bin/qmail-queue as user; returns (exit code, Received line)."""
    pw = pwd.getpwnam(user)

    def pre():
        os.setgroups([])
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    before = set(quail.queue_files(root))
    with tempfile.TemporaryFile() as m, tempfile.TemporaryFile() as e:
        m.write(message)
        m.seek(0)
        e.write(b"Fa@b\0Tc@d\0\0")
        e.seek(0)
        p = subprocess.run([os.path.join(root, "bin", "qmail-queue")], stdin=m, stdout=e,
                           env={"QMAILHOME": "/tmp", "QMAILQUEUE": "/bin/true"}, preexec_fn=pre)
    new = sorted(set(quail.queue_files(root)) - before)
    line = b""
    if len(new) == 1:
        data = open(new[0], "rb").read()
        line = data.split(b"\n", 1)[0]
    return p.returncode, line, new


def test_system_install():
    if not quail.is_root():
        quail.skip("make setup check", "needs root")
        return
    top = tempfile.mkdtemp(prefix="quail-sys-")
    os.chmod(top, 0o755)
    root = os.path.join(top, "qmail")
    conf = os.path.join(top, "conf")
    build = os.path.join(top, "build")
    os.mkdir(conf)
    for f in os.listdir(SRC):
        if f.startswith("conf-"):
            shutil.copy(os.path.join(SRC, f), conf)
    with open(os.path.join(conf, "conf-qmail"), "w") as f:
        f.write(root + "\n")
    with open(os.path.join(conf, "conf-users"), "w") as f:
        f.write("\n".join(QUSERS) + "\n")
    with open(os.path.join(conf, "conf-groups"), "w") as f:
        f.write("\n".join(QGROUPS) + "\n")
    # the store too: nothing of the test may land in /home/vpopmail
    vbase = os.path.join(top, "vpopmail")
    with open(os.path.join(conf, "conf-vpopmail"), "w") as f:
        f.write("%s\n%s\n%s\n" % (vbase, VUSER, VGROUP))
    remove_test_ids()
    try:
        p = make("O=" + build, "CONF=" + conf, "setup")
        check_eq(p.returncode, 0, "make setup as root", p.stderr.decode()[-2000:])
        for u in QUSERS:
            try:
                pwd.getpwnam(u)
                have = True
            except KeyError:
                have = False
            check(have, "user %s exists after make setup" % u)
        for g, members in ((QGROUPS[0], QUSERS[5:]), (QGROUPS[1], QUSERS[:3])):
            gid = subprocess.run(["getent", "group", g], capture_output=True).stdout.split(b":")[2:3]
            check(gid and all(pwd.getpwnam(u).pw_gid == int(gid[0]) for u in members if u != "root"),
                  "group %s exists and is the primary group of its users" % g)
        # The virtual-domain store: its owner made, its directories given to it,
        # and the v* links in its bin/ (vpasswd(5)).
        try:
            vpw = pwd.getpwnam(VUSER)
        except KeyError:
            vpw = None
        check(vpw is not None and vpw.pw_dir == vbase, "the store's user %s exists, home %s" % (VUSER, vbase))
        dst = os.stat(os.path.join(vbase, "domains"))
        check(vpw is not None and dst.st_uid == vpw.pw_uid and oct(dst.st_mode & 0o7777) == oct(0o711),
              "the store's domains/ belongs to %s, mode 0711" % VUSER)
        check_eq(os.readlink(os.path.join(vbase, "bin", "vdelivermail")), os.path.join(root, "bin", "vdelivermail"),
                 "the store's bin/vdelivermail links to the installed program")
        p = make("O=" + build, "CONF=" + conf, "check")
        check_eq(p.returncode, 0, "make check passes on the fresh install", p.stderr.decode())
        check_daemon_groups(root)
        qq = os.path.join(root, "bin", "qmail-queue")
        st = os.stat(qq)
        check_eq((pwd.getpwuid(st.st_uid).pw_name, oct(st.st_mode & 0o7777)), (QUSERS[5], oct(0o4711)),
                 "qmail-queue is setuid to the queue user, mode 04711")

        for user, how in (("nobody", b"by uid %d" % pwd.getpwnam("nobody").pw_uid),
                          (QUSERS[0], b"by alias"), (QUSERS[1], b"from network"), (QUSERS[7], b"for bounce")):
            rc, line, new = queue_as(root, user)
            check_eq(rc, 0, "qmail-queue run by %s queues the message" % user)
            check(re.match(rb"Received: \(qmail \d+ invoked " + re.escape(how) + rb"\); ", line),
                  "run by %s, the Received line says 'invoked %s'" % (user, how.decode()), repr(line))
            if new:
                owner = pwd.getpwuid(os.stat(new[0]).st_uid).pw_name
                check_eq(owner, QUSERS[5], "the queue file written for %s belongs to the queue user" % user)
        check(quail.queue_files(root, "pid") == [], "nothing left in pid/")

        # The queue is closed to ordinary users.
        r = subprocess.run(["ls", os.path.join(root, "queue", "todo")], capture_output=True,
                           preexec_fn=lambda: (os.setgroups([]), os.setgid(65534), os.setuid(65534)))
        check(r.returncode != 0, "an ordinary user cannot list queue/todo")

        # make check notices damage, make setup repairs it.
        os.chmod(qq, 0o755)
        p = make("O=" + build, "CONF=" + conf, "check")
        check(p.returncode != 0 and b"qmail-queue" in p.stderr, "make check notices a wrong mode on qmail-queue",
              p.stderr.decode())
        # (a directory none of the queued messages happened to land in)
        empty = [d for d in sorted(os.listdir(os.path.join(root, "queue", "todo")), key=int)
                 if not os.listdir(os.path.join(root, "queue", "todo", d))][0]
        os.rmdir(os.path.join(root, "queue", "todo", empty))
        p = make("O=" + build, "CONF=" + conf, "check")
        check(p.returncode != 0 and b"todo/%s is missing" % empty.encode() in p.stderr,
              "make check notices a missing queue directory")
        p = make("O=" + build, "CONF=" + conf, "setup")
        check_eq(p.returncode, 0, "make setup again (repair)")
        p = make("O=" + build, "CONF=" + conf, "check")
        check_eq(p.returncode, 0, "make check passes after the repair", p.stderr.decode())
        check(len(quail.queue_files(root)) == 4, "a second make setup keeps the queued messages")
    finally:
        shutil.rmtree(top)
        remove_test_ids()


def test_instances():
    """Two unprivileged instances built by an ordinary user, each with every
    role that user, neither disturbing the other nor the main build."""
    user = "nobody" if quail.is_root() else pwd.getpwuid(os.getuid()).pw_name
    top = tempfile.mkdtemp(prefix="quail-inst-")
    os.chmod(top, 0o777)
    main_bin = os.path.join(SRC, "build", "bin", "qmail-queue")
    main_mtime = os.stat(main_bin).st_mtime if os.path.exists(main_bin) else None
    try:
        roots = [os.path.join(top, "one"), os.path.join(top, "two")]
        for i, root in enumerate(roots):
            p = make("instance", "ROOT=" + root, "INST_O=" + os.path.join(top, "build%d" % i), user=user)
            check_eq(p.returncode, 0, "make instance ROOT=%s as %s" % (os.path.basename(root), user),
                     p.stderr.decode()[-2000:])
        uid = pwd.getpwnam(user).pw_uid
        for root in roots:
            owners = set()
            for dirpath, dirs, files in os.walk(root):
                for n in dirs + files:
                    owners.add(os.lstat(os.path.join(dirpath, n)).st_uid)
            check_eq(owners, {uid}, "everything in instance %s belongs to %s" % (os.path.basename(root), user))
        rc, line, new = queue_as(roots[0], user) if quail.is_root() else (None, b"", [])
        if quail.is_root():
            check_eq(rc, 0, "qmail-queue works in the first instance, run as its user")
            check(b"invoked by alias" in line, "every role is the instance's user", repr(line))
            check_eq(quail.queue_files(roots[1]), [], "the second instance's queue is untouched")
        shows = subprocess.run([os.path.join(roots[1], "bin", "qmail-showctl")], capture_output=True)
        check(("qmail home directory: %s." % roots[1]).encode() in shows.stdout,
              "the second instance has its own compiled-in home")
        if main_mtime is not None:
            check_eq(os.stat(main_bin).st_mtime, main_mtime, "the main build is not touched by instances")
    finally:
        shutil.rmtree(top)


test_system_install()
test_instances()
quail.done()
