"""Helpers for Quail's end-to-end tests (Python 3 standard library only).

TEST sets QUAIL_SRC (the source tree), QUAIL_BUILD (the sanitized build)
and QUAIL_ROOT (the unprivileged test instance built from it). Each test
prints "ok - name" or "not ok - name: why" lines, which TEST counts.
"""

import os
import re
import struct
import subprocess
import sys

SRC = os.environ.get("QUAIL_SRC", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD = os.environ.get("QUAIL_BUILD", os.path.join(SRC, "tests", "build"))
ROOT = os.environ.get("QUAIL_ROOT", os.path.join(BUILD, "root"))
BIN = os.path.join(ROOT, "bin")

passed = 0
failed = 0


def check(cond, name, detail=""):
    """Records one test result; returns cond."""
    global passed, failed
    if cond:
        passed += 1
        print("ok - " + name)
    else:
        failed += 1
        print("not ok - " + name + (": " + detail if detail else ""))
    sys.stdout.flush()
    return bool(cond)


def check_eq(got, want, name, detail=""):
    return check(got == want, name, "got %r, want %r%s" % (got, want, ("\n" + detail) if detail else ""))


def done():
    print("# %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


def skip(name, why):
    print("# skip - %s: %s" % (name, why))


def is_root():
    return os.geteuid() == 0


def conf_split(build=BUILD):
    with open(os.path.join(build, "conf", "conf-split")) as f:
        return int(f.readline())


# ---- the queue file format (qmail-queue-file(5)) ----

TRAILER = 74
TRAILER_RE = re.compile(rb"\nQQ1 m=(\d{20}) e=(\d{20}) t=(\d{20})\n\Z")


def parse_queue_file(data):
    """Splits a todo/ file into (message, envelope records, qtime), or
    raises ValueError if it is not a complete queue file."""
    if len(data) < TRAILER:
        raise ValueError("shorter than the trailer")
    m = TRAILER_RE.match(data[-TRAILER:])
    if not m:
        raise ValueError("bad trailer %r" % data[-TRAILER:])
    msglen, envlen, qtime = (int(x) for x in m.groups())
    if msglen + envlen + TRAILER != len(data):
        raise ValueError("sizes disagree")
    env = data[msglen:msglen + envlen]
    if not env.endswith(b"\0\0"):
        raise ValueError("envelope without its final NUL")
    records = env[:-1].split(b"\0")[:-1]
    return data[:msglen], records, qtime


def queue_files(root=ROOT, sub="todo"):
    """Every file under queue/<sub>, as paths."""
    out = []
    base = os.path.join(root, "queue", sub)
    for dirpath, _, files in os.walk(base):
        for f in files:
            out.append(os.path.join(dirpath, f))
    return sorted(out)


def clear_queue(root=ROOT):
    for sub in ("todo", "pid"):
        for p in queue_files(root, sub):
            os.unlink(p)


def qmail_queue(message, envelope, prog=None, env=None, timeout=30, **kw):
    """Runs qmail-queue with message on fd 0 and envelope on fd 1 (both
    through files, as seekable as a caller's pipe is not). Returns the exit
    code."""
    import tempfile
    prog = prog or os.path.join(BIN, "qmail-queue")
    with tempfile.TemporaryFile() as m, tempfile.TemporaryFile() as e:
        m.write(message)
        m.seek(0)
        e.write(envelope)
        e.seek(0)
        p = subprocess.run([prog], stdin=m, stdout=e, stderr=subprocess.PIPE, env=env if env is not None else {},
                           timeout=timeout, **kw)
        return p.returncode


def cdb_hash(key):
    h = 5381
    for c in key:
        h = ((h << 5) + h) & 0xFFFFFFFF
        h ^= c
    return h


def cdb_make(records):
    """djb's cdbmake, independently of Quail's: the 2048-byte header, the
    records in order, then 256 hash tables of twice as many slots as keys."""
    body = b""
    pos = 2048
    entries = []
    for k, d in records:
        entries.append((cdb_hash(k), pos))
        body += struct.pack("<II", len(k), len(d)) + k + d
        pos += 8 + len(k) + len(d)
    header = b""
    tables = b""
    for i in range(256):
        bucket = [e for e in entries if e[0] & 255 == i]
        slots = len(bucket) * 2
        header += struct.pack("<II", pos + len(tables), slots)
        table = [(0, 0)] * slots
        for eh, ep in bucket:
            w = (eh >> 8) % slots
            while table[w][1]:
                w = (w + 1) % slots
            table[w] = (eh, ep)
        tables += b"".join(struct.pack("<II", a, b) for a, b in table)
    return header + body + tables


def cdb_read(path):
    """An independent reader of djb's cdb format: a list of (key, data) in
    file order, and a lookup function that follows the hash tables."""
    with open(path, "rb") as f:
        data = f.read()
    header = [struct.unpack_from("<II", data, i * 8) for i in range(256)]
    end = header[0][0]
    records = []
    pos = 2048
    while pos < end:
        klen, dlen = struct.unpack_from("<II", data, pos)
        records.append((data[pos + 8:pos + 8 + klen], data[pos + 8 + klen:pos + 8 + klen + dlen]))
        pos += 8 + klen + dlen

    def lookup(key):
        h = cdb_hash(key)
        tpos, slots = header[h & 255]
        found = []
        if not slots:
            return found
        start = (h >> 8) % slots
        for i in range(slots):
            spos = tpos + ((start + i) % slots) * 8
            sh, rpos = struct.unpack_from("<II", data, spos)
            if rpos == 0:
                break
            if sh != h:
                continue
            klen, dlen = struct.unpack_from("<II", data, rpos)
            if data[rpos + 8:rpos + 8 + klen] == key:
                found.append(data[rpos + 8 + klen:rpos + 8 + klen + dlen])
        return found

    return records, lookup


# ---- a running qmail-send on the test instance ----

import glob
import pwd
import shutil
import signal
import tempfile
import time


def delivery_uid():
    """The uid deliveries run as in tests: nobody when the tests run as
    root (qmail-lspawn never delivers as root), else the current user."""
    return pwd.getpwnam("nobody").pw_uid if is_root() else os.getuid()


def delivery_gid():
    return pwd.getpwnam("nobody").pw_gid if is_root() else os.getgid()


def wait_for(cond, timeout=60, step=0.05):
    """Polls cond() until it is true or timeout seconds pass; returns its
    last value. Tests wait for effects, never for fixed times."""
    deadline = time.time() + timeout
    while True:
        v = cond()
        if v or time.time() > deadline:
            return v
        time.sleep(step)


_systems = []


def _cleanup_systems():
    for s in list(_systems):
        s.cleanup()


import atexit  # noqa: E402
atexit.register(_cleanup_systems)
for _sig in (signal.SIGTERM, signal.SIGHUP):
    signal.signal(_sig, lambda *a: sys.exit(1))


class System:
    """The test instance with qmail-send running: control files, users with
    homes and Maildirs, injection, and the log. Everything it starts it
    stops by pid; everything it writes is under one temporary directory or
    the instance."""

    def __init__(self, controls=None, users=("alice", "bob", "postmaster"), env=None, defaultdelivery="./Maildir/"):
        self.top = tempfile.mkdtemp(prefix="quail-sys-")
        os.chmod(self.top, 0o755)
        self.uid, self.gid = delivery_uid(), delivery_gid()
        self.homes = {}
        self.env = env or {}
        self.defaultdelivery = defaultdelivery
        self.proc = None
        self.logfile = os.path.join(self.top, "send.log")
        _systems.append(self)
        clear_whole_queue()
        self.write_controls(controls or {})
        self.users = []
        for u in users:
            self.add_user(u)
        self.write_assign()

    # -- setup --
    def write_controls(self, controls):
        cdir = os.path.join(ROOT, "control")
        for f in os.listdir(cdir):
            os.unlink(os.path.join(cdir, f))
        base = {"me": "test.example", "locals": "test.example\nlocalhost"}
        base.update(controls)
        for k, v in base.items():
            if v is not None:
                with open(os.path.join(cdir, k), "w") as f:
                    f.write(v + "\n" if v and not v.endswith("\n") else v)

    def add_user(self, name, home=None):
        home = home or os.path.join(self.top, "home-" + name)
        os.makedirs(os.path.join(home, "Maildir", "new"))
        os.makedirs(os.path.join(home, "Maildir", "cur"))
        os.makedirs(os.path.join(home, "Maildir", "tmp"))
        for d, _, files in os.walk(home):
            os.chown(d, self.uid, self.gid)
        os.chmod(home, 0o755)
        self.homes[name] = home
        self.users.append(name)
        return home

    def write_assign(self, extra=""):
        # "=user" and "+user-" lines, as qmail-pw2u writes them
        lines = []
        for u in self.users:
            who = (u, pwd.getpwuid(self.uid).pw_name, self.uid, self.gid, self.homes[u])
            lines.append("=%s:%s:%d:%d:%s:::" % who)
            lines.append("+%s-:%s:%d:%d:%s:-::" % who)
        with open(os.path.join(ROOT, "users", "assign"), "w") as f:
            f.write("\n".join(lines) + "\n" + extra + ".\n")
        subprocess.run([os.path.join(BIN, "qmail-newu")], check=True, env=self.plainenv())

    def dotqmail(self, user, name, text, mode=0o644):
        """Writes ~user/.qmail-name (name "" for ~user/.qmail)."""
        p = os.path.join(self.homes[user], ".qmail" + ("-" + name if name else ""))
        with open(p, "w") as f:
            f.write(text)
        os.chown(p, self.uid, self.gid)
        os.chmod(p, mode)
        return p

    def plainenv(self):
        return {"PATH": BIN + ":/usr/bin:/bin", "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
                "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "")}

    # -- running --
    def start(self, pass_fds=()):
        """Starts qmail-start; pass_fds are descriptors of ours it inherits
        as they are (as from a careless supervisor)."""
        env = self.plainenv()
        env.update(self.env)
        self.log = open(self.logfile, "ab")
        self.proc = subprocess.Popen([os.path.join(BIN, "qmail-start"), self.defaultdelivery],
                                     cwd="/", env=env, stdout=self.log, stderr=self.log,
                                     stdin=subprocess.DEVNULL, start_new_session=True, pass_fds=pass_fds)
        self._sid = self.proc.pid  # a new session: its id is qmail-start's pid
        if not wait_for(lambda: "status: local" in self.logtext(), 30):
            raise RuntimeError("qmail-send did not start: " + self.logtext())
        return self

    def logtext(self):
        try:
            with open(self.logfile, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def signal(self, sig):
        if self.proc:
            self.proc.send_signal(sig)

    def stop(self, timeout=60):
        """SIGTERM, as daemontools would; returns qmail-send's exit code."""
        if not self.proc:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill_all()
            rc = None
        self.wait_helpers_gone()
        self.proc = None
        self.log.close()
        return rc

    def kill9(self):
        """SIGKILL to qmail-send alone, as a crash would."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None
        self.log.close()

    def helpers(self):
        """Pids of the helpers qmail-start started (same session)."""
        out = []
        for p in glob.glob("/proc/[0-9]*"):
            try:
                with open(p + "/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                with open(p + "/cmdline", "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if self.sid is not None and int(fields[3]) == self.sid and b"bin/qmail-" in cmd:
                out.append(int(p.split("/")[-1]))
        return out

    @property
    def sid(self):
        return getattr(self, "_sid", None)

    def wait_helpers_gone(self, timeout=60):
        return wait_for(lambda: not self.helpers(), timeout)

    def kill_all(self):
        for pid in self.helpers():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def inject(self, message, sender, rcpts, prog=None):
        env = b"F" + sender.encode() + b"\0" + b"".join(b"T" + r.encode() + b"\0" for r in rcpts) + b"\0"
        return qmail_queue(message, env, prog=prog, env=self.plainenv())

    def maildir(self, user, sub="new"):
        d = os.path.join(self.homes[user], "Maildir", sub)
        return sorted(os.path.join(d, f) for f in os.listdir(d))

    def messages(self, user):
        out = []
        for p in self.maildir(user):
            with open(p, "rb") as f:
                out.append(f.read())
        return out

    def wait_messages(self, user, n, timeout=60):
        return wait_for(lambda: len(self.maildir(user)) >= n, timeout)

    def queue_empty(self):
        return not queue_files(ROOT, "todo") and not queue_files(ROOT, "mess")

    def cleanup(self):
        if self.proc:
            self.kill_all()
            self.proc.kill()
            self.proc.wait()
            self.proc = None
        if self in _systems:
            _systems.remove(self)
        shutil.rmtree(self.top, ignore_errors=True)
        clear_whole_queue()


def clear_whole_queue(root=ROOT):
    """Empties the instance's queue, journal and orphans (no qmail-send may
    be running)."""
    for sub in ("todo", "mess", "pid", "orphans"):
        for p in queue_files(root, sub):
            os.unlink(p)
    for p in glob.glob(os.path.join(root, "queue", "state", "*")):
        os.unlink(p)
