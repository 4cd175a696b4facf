"""qmail-queue, end to end, on the sanitized test instance.

Not tested here: the setuid system install and the Received line's "from
network" and "for bounce" forms (install_test.py, as root); a real power
cut. The strace ordering tests check the order a power cut needs: the
file is named in todo/ first (deliveries may start at once), then fsynced,
then marked as synced, then its directory is synced; send_test.py checks
that qmail-send drops a file a crash left without its bytes.
"""

import email.utils
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import quail  # noqa: E402
from quail import check, check_eq, ROOT, BIN  # noqa: E402

QQ = os.path.join(BIN, "qmail-queue")
SPLIT = quail.conf_split()
ENV = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""), "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "")}
RECEIVED = re.compile(rb"^Received: \(qmail (\d+) invoked by alias\); "
                      rb"\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d -0000\n")


def todo():
    return quail.queue_files(ROOT, "todo")


def leftovers():
    return quail.queue_files(ROOT, "todo") + quail.queue_files(ROOT, "pid")


def run(message, envelope, **kw):
    return quail.qmail_queue(message, envelope, env=ENV, **kw)


POOL = os.path.join(ROOT, "queue", "pool")


def empty_pool():
    """The tests of the new-file paths need qmail-queue not to find a pool
    file (pool files are spare: removing them while nothing runs is safe)."""
    for f in os.listdir(POOL):
        os.unlink(os.path.join(POOL, f))


def fill_pool(n, size=100000):
    """n spare files in the pool, each full of an old message's bytes."""
    inos = []
    for i in range(n):
        p = os.path.join(POOL, str(i))
        with open(p, "wb") as f:
            f.write(b"OLD MESSAGE %d " % i * (size // 16))
        inos.append(os.stat(p).st_ino)
    return inos


def test_normal():
    quail.clear_queue()
    msg = b"From: a@example.com\nSubject: hi\n\nhello\n"
    rc = run(msg, b"Fa@example.com\0Tb@example.com\0Tc@example.net\0\0")
    check_eq(rc, 0, "a well-formed message is queued (exit 0)")
    files = todo()
    if not check_eq(len(files), 1, "exactly one file appears in todo/"):
        return
    path = files[0]
    st = os.stat(path)
    check_eq(os.path.basename(path), str(st.st_ino), "the file is named by its inode number")
    check_eq(os.path.basename(os.path.dirname(path)), str(st.st_ino % SPLIT), "it sits in todo/<inode mod conf-split>/")
    check_eq(oct(st.st_mode & 0o7777), oct(0o744), "it has mode 0644, and the mark of its fsync (0100)")
    data = open(path, "rb").read()
    try:
        message, records, qtime = quail.parse_queue_file(data)
    except ValueError as e:
        check(False, "the file is a complete queue file, its hash right", str(e))
        return
    m = RECEIVED.match(message)
    check(m is not None, "the message starts with qmail's Received line", repr(message[:100]))
    if m:
        check_eq(message[m.end():], msg, "the rest is the message, byte for byte")
    check_eq([r[:1] for r in records], [b"u", b"p", b"F", b"T", b"T"], "envelope records are u, p, F, T, T")
    check_eq(records[0], b"u%d" % os.getuid(), "the u record is the caller's uid")
    if m:
        check_eq(records[1], b"p" + m.group(1), "the p record is the pid in the Received line")
    check_eq(records[2:], [b"Fa@example.com", b"Tb@example.com", b"Tc@example.net"], "sender and recipients as given")
    check(abs(qtime - time.time()) < 300, "the trailer carries the queue time", str(qtime))
    check_eq(quail.queue_files(ROOT, "pid"), [], "nothing is left in pid/")


def test_dated_by_message():
    """qmail-smtpd starts qmail-queue ahead of the message: the Received
    line and the queue time are when the message comes, not the start."""
    quail.clear_queue()
    m_r, m_w = os.pipe()
    e_r, e_w = os.pipe()
    p = subprocess.Popen([QQ], stdin=m_r, stdout=e_r, env=ENV)
    os.close(m_r)
    os.close(e_r)
    time.sleep(2.2)
    before = time.time()
    os.write(m_w, b"Subject: late\n\nlate\n")
    os.close(m_w)
    os.write(e_w, b"Fa@example.com\0Tb@example.com\0\0")
    os.close(e_w)
    check_eq(p.wait(timeout=60), 0, "a message written 2 s after the start is queued")
    files = todo()
    if not check_eq(len(files), 1, "one file in todo/"):
        return
    message, records, qtime = quail.parse_queue_file(open(files[0], "rb").read())
    m = RECEIVED.match(message)
    when = email.utils.parsedate_to_datetime(message.split(b"\n", 1)[0].split(b"); ", 1)[1].decode()).timestamp() if m else 0
    check(when >= int(before), "the Received line has the message's time, not the start's", repr(message[:100]))
    check(qtime >= int(before), "so has the queue time in the trailer", "%r against %r" % (qtime, before))
    quail.clear_queue()


def test_edge_envelopes():
    cases = [
        (b"F\0\0", 0, "an empty sender and no recipients are accepted"),
        (b"F" + b"s" * 1000 + b"\0T" + b"r" * 1000 + b"\0\0", 0, "addresses of 1000 bytes are accepted"),
        (b"Fa@b\0Tc@d\0\0trailing junk", 0, "bytes after the final NUL are ignored"),
    ]
    for env, want, name in cases:
        quail.clear_queue()
        rc = run(b"Subject: x\n\nx\n", env)
        check_eq(rc, want, name)
        check_eq(len(todo()), 1, name + ": one file in todo/")
    quail.clear_queue()
    rc = run(b"", b"Fa@b\0Tc@d\0\0")
    check_eq(rc, 0, "an empty message is queued")
    if len(todo()) == 1:
        message, _, _ = quail.parse_queue_file(open(todo()[0], "rb").read())
        check(RECEIVED.match(message) and message.count(b"\n") == 1, "an empty message is just the Received line")


def test_bad_envelopes():
    long = b"x" * 1001
    cases = [
        (b"", 54, "an empty envelope (end of file at once)"),
        (b"Fa@b\0Tc@d\0", 54, "an envelope without the final NUL"),
        (b"Fa@b\0Tc@", 54, "an envelope cut inside an address"),
        (b"Fa@b", 54, "an envelope cut inside the sender"),
        (b"Ta@b\0\0", 91, "an envelope that does not start with F"),
        (b"Fa@b\0Xc@d\0\0", 91, "a recipient record that is not T"),
        (b"\0", 91, "a NUL where the F should be"),
        (b"F" + long + b"\0Tc@d\0\0", 11, "a sender of 1001 bytes (address too long)"),
        (b"Fa@b\0T" + long + b"\0\0", 11, "a recipient of 1001 bytes (address too long)"),
        (b"Fa@b\0Tc@d\0T" + b"y" * 100000, 11, "an endless recipient"),
    ]
    for env, want, name in cases:
        quail.clear_queue()
        rc = run(b"Subject: x\n\nbody\n", env)
        check_eq(rc, want, name + ": exit %d" % want)
        check_eq(leftovers(), [], name + ": nothing left in todo/ or pid/")


def test_unreadable():
    quail.clear_queue()
    d = tempfile.mkdtemp()
    try:
        fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
        with tempfile.TemporaryFile() as e:
            e.write(b"Fa\0Tb\0\0")
            e.seek(0)
            p = subprocess.run([QQ], stdin=fd, stdout=e, env=ENV)
        os.close(fd)
        check_eq(p.returncode, 54, "a message that cannot be read (a directory on fd 0): exit 54")
        with open(os.devnull, "wb") as wo:
            p = subprocess.run([QQ], stdin=subprocess.DEVNULL, stdout=wo, env=ENV)
        check_eq(p.returncode, 54, "an envelope that cannot be read (write-only fd 1): exit 54")
        check_eq(leftovers(), [], "unreadable input leaves nothing behind")
    finally:
        shutil.rmtree(d)


def test_environment_ignored():
    quail.clear_queue()
    env = dict(ENV, QMAILHOME="/nonexistent", QMAILQUEUE="/bin/false", TMPDIR="/nonexistent")
    rc = quail.qmail_queue(b"Subject: x\n\nx\n", b"Fa\0Tb\0\0", env=env)
    check_eq(rc, 0, "QMAILHOME, QMAILQUEUE and TMPDIR in the environment do not move qmail-queue")
    check_eq(len(todo()), 1, "the message went to the compiled-in queue")


def test_trigger():
    quail.clear_queue()
    trig = os.path.join(ROOT, "queue", "lock", "trigger")
    fd = os.open(trig, os.O_RDONLY | os.O_NONBLOCK)
    try:
        rc = run(b"Subject: x\n\nx\n", b"Fa\0Tb\0\0")
        check_eq(rc, 0, "queued with a reader on the trigger")
        try:
            got = os.read(fd, 10)
        except BlockingIOError:
            got = b""
        check_eq(got, b"\0", "qmail-queue pulled the trigger (one byte)")
    finally:
        os.close(fd)
    quail.clear_queue()
    rc = run(b"Subject: x\n\nx\n", b"Fa\0Tb\0\0")
    check_eq(rc, 0, "nobody listening on the trigger does not matter")


def test_missing_dirs():
    q = os.path.join(ROOT, "queue")
    empty_pool()  # the cases are about the new-file path
    # a copy of the program outside ROOT, so ROOT itself can be moved away
    tmp = tempfile.mkdtemp()
    prog = os.path.join(tmp, "qmail-queue")
    shutil.copy(QQ, prog)
    try:
        cases = [
            (ROOT, 61, "the qmail home directory is missing"),
            (q, 62, "the queue directory is missing"),
            (os.path.join(q, "pid"), 63, "queue/pid is missing"),
            (os.path.join(q, "todo"), 66, "queue/todo/N is missing"),
        ]
        for path, want, name in cases:
            quail.clear_queue()
            os.rename(path, path + ".away")
            if path.endswith("todo"):
                os.mkdir(path)  # todo/ without its split subdirectories
            try:
                rc = quail.qmail_queue(b"Subject: x\n\nx\n", b"Fa\0Tb\0\0", prog=prog, env=ENV)
            finally:
                if path.endswith("todo"):
                    os.rmdir(path)
                os.rename(path + ".away", path)
            check_eq(rc, want, name + ": exit %d" % want)
            check_eq(leftovers(), [], name + ": nothing left behind")
        # Without queue/pool (an older install): a new file, as before.
        quail.clear_queue()
        pool = os.path.join(q, "pool")
        os.rename(pool, pool + ".away")
        try:
            rc = quail.qmail_queue(b"Subject: x\n\nx\n", b"Fa\0Tb\0\0", prog=prog, env=ENV)
        finally:
            os.rename(pool + ".away", pool)
        check(rc == 0 and len(todo()) == 1, "queue/pool is missing: queued in a new file")
        quail.clear_queue()
    finally:
        shutil.rmtree(tmp)


def strace_run(args, message=b"Subject: x\n\nx\n", envelope=b"Fa\0Tb\0\0"):
    with tempfile.TemporaryFile() as m, tempfile.TemporaryFile() as e:
        m.write(message)
        m.seek(0)
        e.write(envelope)
        e.seek(0)
        return subprocess.run(["strace", "-f", "-qq"] + args + [QQ], stdin=m, stdout=e, stderr=subprocess.PIPE, env=ENV)


def test_faults():
    """Disk full and I/O errors, injected with strace at each step."""
    empty_pool()
    cases = [
        ("write:error=ENOSPC:when=1", 53, "write fails with ENOSPC"),
        ("write:error=EDQUOT:when=1", 53, "write fails with EDQUOT"),
        ("fsync:error=ENOSPC:when=1", 53, "fsync of the message fails with ENOSPC"),
        ("fsync:error=EIO:when=1", 53, "fsync of the message fails with EIO"),
        ("fsync:error=EIO:when=2", 66, "fsync of the todo directory fails"),
        ("linkat:error=ENOSPC", 66, "linking into todo fails with ENOSPC"),
        ("openat:error=ENOSPC:when=1", 63, "creating the file in pid/ fails with ENOSPC"),
        ("openat:error=EACCES:when=1", 63, "creating the file in pid/ fails with EACCES"),
    ]
    for inject, want, name in cases:
        quail.clear_queue()
        # openat faults are aimed at qmail-queue's own open of pid/ (-P):
        # in the sanitized build the dynamic loader opens files first.
        target = ["-P", "pid"] if inject.startswith("openat") else []
        p = strace_run(["-o", os.devnull] + target + ["-e", "inject=" + inject])
        check_eq(p.returncode, want, name + ": exit %d" % want)
        if inject.startswith("fsync"):
            # The file was named before its fsync; only its durability is in
            # doubt. The caller is told to retry (a possible duplicate, never
            # a loss); a file whose own fsync failed carries no mark, so a
            # commit syncs it again.
            files = todo()
            if check_eq(len(files), 1, name + ": the file is in todo/, whole"):
                quail.parse_queue_file(open(files[0], "rb").read())
                marked = os.stat(files[0]).st_mode & 0o100
                check_eq(bool(marked), "when=2" in inject, name + ": marked as synced only if its fsync returned")
            continue
        check_eq(leftovers(), [], name + ": nothing left in todo/ or pid/")


def test_fallbacks():
    """The three ways a file gets its name: O_TMPFILE with linkat
    AT_EMPTY_PATH (Linux 6.10+), through /proc/self/fd (older kernels), and
    a named file in pid/ when the filesystem has no O_TMPFILE or the unnamed
    file cannot be named (no /proc on an old kernel)."""
    # The O_TMPFILE open is singled out by its path (-P): in the sanitized
    # build the dynamic loader opens files first.
    pidpath = ["-P", "pid"]  # strace matches the raw argument qmail-queue passes
    empty_pool()
    cases = [
        ([], "linkat:error=ENOENT:when=1", "AT_EMPTY_PATH refused (an old kernel): through /proc/self/fd"),
        ([], "linkat:error=ENOENT:when=1..2", "neither AT_EMPTY_PATH nor /proc: copied into a named file"),
        (pidpath, "openat:error=EOPNOTSUPP:when=1", "no O_TMPFILE on this filesystem: a named file in pid/"),
    ]
    for extra, inject, name in cases:
        quail.clear_queue()
        msg = b"Subject: fallback\n\n" + b"y" * 100000 + b"\n"
        log = tempfile.NamedTemporaryFile(delete=False)
        log.close()
        p = strace_run(["-o", log.name] + extra + ["-e", "inject=" + inject], message=msg)
        trace = open(log.name).read()
        os.unlink(log.name)
        check("(INJECTED)" in trace, name + ": the fault was injected where meant", trace[-300:])
        check_eq(p.returncode, 0, name + ": exit 0")
        files = todo()
        if check_eq(len(files), 1, name + ": one file in todo/"):
            st = os.stat(files[0])
            data = open(files[0], "rb").read()
            try:
                message, records, _ = quail.parse_queue_file(data)
                ok = message.endswith(msg) and records[2:] == [b"Fa", b"Tb"]
            except ValueError:
                ok = False
            check(ok, name + ": the file is complete")
            check_eq(os.path.basename(files[0]), str(st.st_ino), name + ": named by its own inode")
            check_eq(st.st_nlink, 1, name + ": with one link only")
        check_eq(quail.queue_files(ROOT, "pid"), [], name + ": nothing left in pid/")
    # A failure half-way leaves no named file behind either.
    for env, want, name in ((b"Fa\0Xb\0\0", 91, "a bad envelope"), (b"Fa\0Tb\0", 54, "a cut envelope")):
        quail.clear_queue()
        p = strace_run(["-o", os.devnull] + pidpath + ["-e", "inject=openat:error=EOPNOTSUPP:when=1"], envelope=env)
        check_eq(p.returncode, want, "without O_TMPFILE, %s: exit %d" % (name, want))
        check_eq(leftovers(), [], "without O_TMPFILE, %s leaves nothing in pid/ or todo/" % name)


def test_syscall_order():
    """The file is named in todo/ as soon as it is whole (qmail-send may
    start its deliveries), under a shared lock kept to the end; then
    fsynced, then marked (mode 0100: a commit need not sync it again),
    then the name's directory is synced. A crash before the syncs leaves a
    file qmail-send checks against its hash."""
    quail.clear_queue()
    empty_pool()
    log = tempfile.NamedTemporaryFile(delete=False)
    log.close()
    try:
        p = strace_run(["-o", log.name, "-e",
                        "trace=openat,fsync,fdatasync,linkat,link,rename,renameat,renameat2,unlink,fchmod,flock,write"])
        check_eq(p.returncode, 0, "qmail-queue under strace succeeds")
        lines = open(log.name).read().splitlines()
    finally:
        os.unlink(log.name)
    calls = [re.sub(r"^\d+ +", "", l) for l in lines]
    tmp = [i for i, c in enumerate(calls) if "O_TMPFILE" in c and re.search(r"= \d+$", c)]
    if not check_eq(len(tmp), 1, "one O_TMPFILE file is created"):
        return
    fd = calls[tmp[0]].rsplit("= ", 1)[1]
    writes = [i for i, c in enumerate(calls) if c.startswith("write(%s," % fd)]
    lock = [i for i, c in enumerate(calls) if c.startswith("flock(%s, LOCK_SH)" % fd)]
    fsync_file = [i for i, c in enumerate(calls) if c.startswith("fsync(%s)" % fd)]
    mark = [i for i, c in enumerate(calls) if c.startswith("fchmod(%s, 0744)" % fd)]
    link = [i for i, c in enumerate(calls) if c.startswith("linkat(") and '"todo/' in c]
    dirs = [i for i, c in enumerate(calls) if re.match(r'openat\(AT_FDCWD, "todo/\d+", O_RDONLY\|O_DIRECTORY', c)]
    check_eq(len(link), 1, "one link into todo/")
    check(writes and link and writes[-1] < link[0], "the file is whole before it is named")
    check(lock and link and lock[0] < link[0], "it is locked (shared) before it is named")
    check_eq([c for c in calls if c.startswith("flock(%s, LOCK_UN" % fd)], [], "and the lock is never dropped")
    check(fsync_file and link and link[0] < fsync_file[0], "the file is fsynced after it is named")
    check(mark and fsync_file and fsync_file[0] < mark[0], "it is marked as synced after its fsync returns")
    if dirs and mark:
        dfd = calls[dirs[0]].rsplit("= ", 1)[1]
        dsync = [i for i, c in enumerate(calls) if c.startswith("fsync(%s)" % dfd) and i > dirs[0]]
        check(dirs[0] > mark[0] and dsync, "the todo/N directory is fsynced after that")
    else:
        check(False, "the todo/N directory is fsynced after that", "no open of todo/N seen")
    creations = [c for c in calls if c.startswith("openat(") and ("O_CREAT" in c or "O_TMPFILE" in c)]
    check_eq(len(creations), 1, "one file creation per message")
    check_eq([c for c in calls if c.startswith(("rename", "unlink"))], [], "no rename or unlink on the way")


def test_alarm():
    quail.clear_queue()
    log = tempfile.NamedTemporaryFile(delete=False)
    log.close()
    p = strace_run(["-o", log.name, "-e", "trace=alarm"])
    trace = open(log.name).read()
    os.unlink(log.name)
    check("alarm(86400)" in trace, "qmail-queue sets its 24-hour suicide timer", trace.strip())
    quail.clear_queue()
    # The timer firing, without waiting a day: the signal it would raise.
    p = subprocess.Popen([QQ], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, env=ENV)
    p.stdin.write(b"Subject: slow\n\npart of a message")
    p.stdin.flush()
    time.sleep(0.5)
    p.send_signal(signal.SIGALRM)
    try:
        rc = p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = None
    p.stdin.close()
    check_eq(rc, 52, "when the timer fires it exits 52 (timeout)")
    check_eq(leftovers(), [], "the timeout leaves nothing behind")


def test_tmpfs_full():
    if not quail.is_root():
        quail.skip("a real full disk", "needs root to mount a tmpfs")
        return
    q = os.path.join(ROOT, "queue")
    saved = q + ".saved"
    os.rename(q, saved)
    os.mkdir(q)
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs", q], check=True)
        try:
            os.mkdir(os.path.join(q, "pid"), 0o700)
            os.mkdir(os.path.join(q, "lock"))
            os.mkdir(os.path.join(q, "todo"))
            for i in range(SPLIT):
                os.mkdir(os.path.join(q, "todo", str(i)))
            rc = run(b"Subject: big\n\n" + b"x" * 1000000 + b"\n", b"Fa\0Tb\0\0")
            check_eq(rc, 53, "a message larger than the free space: exit 53")
            check_eq(quail.queue_files(ROOT, "todo"), [], "the full disk leaves nothing in todo/")
            rc = run(b"Subject: small\n\nx\n", b"Fa\0Tb\0\0")
            check_eq(rc, 0, "after the failure a small message still fits")
        finally:
            subprocess.run(["umount", q], check=True)
    finally:
        os.rmdir(q)
        os.rename(saved, q)


def test_pool():
    """A file from queue/pool/ (lib/qpool.h): reused in place of a new one,
    its mark of an old fsync cleared, cut to the new message, renamed into
    todo/, fsynced and marked, then its directory fsynced; a failure or a
    kill before the rename leaves it in the pool and nothing in todo/."""
    quail.clear_queue()
    empty_pool()
    inos = fill_pool(1)
    os.chmod(os.path.join(POOL, "0"), 0o744)  # as a finished message's file is
    log = tempfile.NamedTemporaryFile(delete=False)
    log.close()
    msg = b"Subject: reused\n\nnew\n"
    try:
        p = strace_run(["-o", log.name, "-e", "trace=openat,open,fsync,fdatasync,ftruncate,linkat,link,rename,renameat,renameat2,unlink,flock,fchmod"],
                       message=msg)
        calls = [re.sub(r"^\d+ +", "", l) for l in open(log.name).read().splitlines()]
    finally:
        os.unlink(log.name)
    check_eq(p.returncode, 0, "pool: qmail-queue exits 0")
    files = todo()
    if check_eq(len(files), 1, "pool: one file in todo/"):
        st = os.stat(files[0])
        data = open(files[0], "rb").read()
        check_eq(st.st_ino, inos[0], "pool: the pooled file was reused")
        check_eq(os.path.basename(files[0]), str(st.st_ino), "pool: named by its inode")
        message, records, _ = quail.parse_queue_file(data)
        check(message.endswith(msg) and records[2:] == [b"Fa", b"Tb"] and b"OLD MESSAGE" not in data,
              "pool: the file holds the new message only, cut to its length", repr(data[-120:]))
    check_eq(os.listdir(POOL), [], "pool: taken out of the pool")
    opened = [i for i, c in enumerate(calls) if '"pool/' in c and c.startswith("openat(") and re.search(r"= \d+$", c)]
    fd = calls[opened[0]].rsplit("= ", 1)[1] if opened else "?"
    lock = [i for i, c in enumerate(calls) if c.startswith("flock(%s, LOCK_EX|LOCK_NB)" % fd) and c.endswith("= 0")]
    cut = [i for i, c in enumerate(calls) if c.startswith("ftruncate(%s," % fd)]
    sync = [i for i, c in enumerate(calls) if c.startswith("fsync(%s)" % fd)]
    clear = [i for i, c in enumerate(calls) if c.startswith("fchmod(%s, 0644)" % fd)]
    mark = [i for i, c in enumerate(calls) if c.startswith("fchmod(%s, 0744)" % fd)]
    ren = [i for i, c in enumerate(calls) if c.startswith(("rename(", "renameat")) and '"pool/' in c and '"todo/' in c]
    dirs = [i for i, c in enumerate(calls) if re.match(r'openat\(AT_FDCWD, "todo/\d+", O_RDONLY\|O_DIRECTORY', c)]
    shared = [i for i, c in enumerate(calls) if c.startswith("flock(%s, LOCK_SH)" % fd)]
    unlock = [i for i, c in enumerate(calls) if c.startswith("flock(%s, LOCK_UN)" % fd)]
    check(opened and lock and clear and cut and ren and sync and mark
          and opened[0] < lock[0] < clear[0] < cut[0] < ren[0] < sync[0] < mark[0],
          "pool: locked, its old mark cleared, cut, renamed into todo/, fsynced, then marked", "\n".join(calls[-30:]))
    check(ren and shared and not unlock and ren[0] < shared[0] < sync[0],
          "pool: the lock becomes shared once in todo/ (a delivery may start then), and is kept",
          "\n".join(calls[-30:]))
    if dirs and mark:
        dfd = calls[dirs[0]].rsplit("= ", 1)[1]
        check(dirs[0] > mark[0] and any(c.startswith("fsync(%s)" % dfd) for c in calls[dirs[0]:]),
              "pool: the todo/N directory is fsynced after that")
    else:
        check(False, "pool: the todo/N directory is fsynced after that", "\n".join(calls[-30:]))
    creations = [c for c in calls if c.startswith("openat(") and ("O_CREAT" in c or "O_TMPFILE" in c)]
    check_eq(creations, [], "pool: no file created")
    # Failures on the pool path before the rename: exit code as for a new
    # file; the file stays in the pool, nothing in todo/ or pid/. (A failed
    # fsync comes after the rename: test_faults.)
    for inject, want, name in (("ftruncate:error=EIO", 53, "the cut fails"),
                               ("write:error=ENOSPC:when=1", 53, "a write fails"),
                               ("rename:error=EIO", 66, "the rename into todo/ fails")):
        quail.clear_queue()
        empty_pool()
        inos = fill_pool(1)
        p = strace_run(["-o", os.devnull, "-e", "inject=" + inject])
        check_eq(p.returncode, want, "pool: %s: exit %d" % (name, want))
        check_eq(leftovers(), [], "pool: %s: nothing in todo/ or pid/" % name)
        check_eq([os.stat(os.path.join(POOL, f)).st_ino for f in os.listdir(POOL)], inos,
                 "pool: %s: the file is still in the pool" % name)
    # Two files locked by others (as by qmail-queues at work): skipped.
    import fcntl
    quail.clear_queue()
    empty_pool()
    inos = fill_pool(3)
    held = [open(os.path.join(POOL, str(i)), "rb") for i in (0, 1)]
    for h in held:
        fcntl.flock(h.fileno(), fcntl.LOCK_EX)
    rc = run(b"Subject: x\n\nx\n", b"Fa\0Tb\0\0")
    files = todo()
    check(rc == 0 and len(files) == 1 and os.stat(files[0]).st_ino == inos[2],
          "pool: files another qmail-queue holds are skipped", str(files))
    for h in held:
        h.close()
    # A pool name that is also a message's (what a power cut may leave of a
    # rename into or out of the pool, lib/qpool.h): never taken, even with
    # one link only as the kernel counts them here.
    quail.clear_queue()
    empty_pool()
    inos = fill_pool(2)
    twin = os.path.join(ROOT, "queue", "todo", str(inos[0] % SPLIT), str(inos[0]))
    os.rename(os.path.join(POOL, "0"), twin)
    os.link(twin, os.path.join(POOL, "0"))
    rc = run(b"Subject: x\n\nx\n", b"Fa\0Tb\0\0")
    files = [f for f in todo() if f != twin]
    check(rc == 0 and len(files) == 1 and os.stat(files[0]).st_ino == inos[1],
          "pool: a file also named in todo/ is not taken", str(files))
    check(b"OLD MESSAGE 0" in open(twin, "rb").read(), "pool: and that file is left as it was")
    quail.clear_queue()
    empty_pool()


def test_durability(n=200, pool=False):
    """Kill qmail-queue with SIGKILL at random moments: every message whose
    qmail-queue exited 0 is in todo/ whole, and nothing partial ever is.
    With pool, every run finds pool files full of old bytes to reuse."""
    quail.clear_queue()
    empty_pool()
    rnd = random.Random(1234)
    sent = {}

    def one(i, delay):
        body = (b"X-Test-Id: %d\nSubject: durability\n\n" % i) + os.urandom(rnd.randint(0, 60000)).hex().encode() + b"\n"
        env = b"Fa%d@example.com\0Tb@example.com\0Tc@example.com\0\0" % i
        # qmail-queue reads its fd 1: give it the read end of a pipe
        er, ew = os.pipe()
        p = subprocess.Popen([QQ], stdin=subprocess.PIPE, stdout=er, env=ENV)
        os.close(er)
        timer = threading.Timer(delay, lambda: p.send_signal(signal.SIGKILL))
        timer.start()
        try:
            # written in pieces, so that kills land inside the copy too
            for k in range(0, len(body), 8192):
                p.stdin.write(body[k:k + 8192])
                p.stdin.flush()
            p.stdin.close()
            os.write(ew, env)
        except (BrokenPipeError, ValueError, OSError):
            pass
        os.close(ew)
        rc = p.wait()
        timer.cancel()
        sent[i] = (body, rc)

    # How long a whole run takes here, so that kills spread over all of it.
    if pool:
        fill_pool(n + 10, size=70000)
    t = []
    for i in range(5):
        t0 = time.time()
        one(-1 - i, 60)
        t.append(time.time() - t0)
    full = sorted(t)[2]
    quail.clear_queue()
    sent.clear()
    if pool:
        empty_pool()
        fill_pool(n, size=70000)
    for i in range(n):
        one(i, rnd.uniform(0, full * 1.2))

    ok = [i for i, (_, rc) in sent.items() if rc == 0]
    killed = [i for i, (_, rc) in sent.items() if rc == -signal.SIGKILL]
    check(len(ok) >= n // 10 and len(killed) >= n // 10,
          "kills land at random points (%d of %d finished, %d killed)" % (len(ok), n, len(killed)))
    found = {}
    bad = []
    for path in todo():
        try:
            message, records, _ = quail.parse_queue_file(open(path, "rb").read())
        except ValueError as e:
            bad.append("%s: %s" % (path, e))
            continue
        m = re.search(rb"\nX-Test-Id: (\d+)\n", message)
        if not m:
            bad.append(path + ": no test id")
            continue
        i = int(m.group(1))
        body = sent[i][0]
        rest = message[RECEIVED.match(message).end():] if RECEIVED.match(message) else None
        if rest != body or records[2] != b"Fa%d@example.com" % i or len(records) != 5:
            bad.append("%s: message %d differs from what was sent" % (path, i))
        found[i] = path
    pre = "with pool files: " if pool else ""
    check_eq(bad, [], pre + "every file in todo/ is a complete, intact message")
    missing = [i for i in ok if i not in found]
    check_eq(missing, [], pre + "every message whose qmail-queue exited 0 is in todo/")
    check_eq(quail.queue_files(ROOT, "pid"), [], pre + "killed runs leave nothing in pid/")
    if pool:
        check_eq(len(os.listdir(POOL)) + len(todo()), n, "with pool files: no pool file lost or duplicated")
    quail.clear_queue()
    empty_pool()


test_normal()
test_dated_by_message()
test_edge_envelopes()
test_bad_envelopes()
test_unreadable()
test_environment_ignored()
test_trigger()
test_missing_dirs()
test_faults()
test_fallbacks()
test_syscall_order()
test_alarm()
test_tmpfs_full()
test_pool()
test_durability()
test_durability(pool=True)
quail.done()
