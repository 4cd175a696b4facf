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
import threading

SRC = os.environ.get("QUAIL_SRC", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD = os.environ.get("QUAIL_BUILD", os.path.join(SRC, "tests", "build"))
ROOT = os.environ.get("QUAIL_ROOT", os.path.join(BUILD, "root"))
BIN = os.path.join(ROOT, "bin")

passed = 0
failed = 0
_check_lock = threading.Lock()   # checks may come from a suite's threads


def check(cond, name, detail=""):
    """Records one test result; returns cond."""
    global passed, failed
    with _check_lock:
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

TRAILER = 93
TRAILER_RE = re.compile(rb"\nQQ2 m=(\d{20}) e=(\d{20}) t=(\d{20}) h=([0-9a-f]{16})\n\Z")
_M64 = (1 << 64) - 1


def _qmix(h, w):
    h = ((h ^ w) * 0x9e3779b97f4a7c15) & _M64
    return h ^ (h >> 32)


def qfile_hash(data):
    """lib/qfile.c's qfile_hash, written again from its description."""
    h = 0x5155414951513200
    full = len(data) - len(data) % 8
    for i in range(0, full, 8):
        h = _qmix(h, int.from_bytes(data[i:i + 8], "little"))
    if full < len(data):
        h = _qmix(h, int.from_bytes(data[full:].ljust(8, b"\0"), "little"))
    h = _qmix(h, len(data))
    h ^= h >> 33
    h = (h * 0xff51afd7ed558ccd) & _M64
    h ^= h >> 33
    h = (h * 0xc4ceb9fe1a85ec53) & _M64
    return h ^ (h >> 33)


def parse_queue_file(data):
    """Splits a todo/ file into (message, envelope records, qtime), or
    raises ValueError if it is not a complete queue file, or if its
    message and envelope do not hash to the trailer's h."""
    if len(data) < TRAILER:
        raise ValueError("shorter than the trailer")
    m = TRAILER_RE.match(data[-TRAILER:])
    if not m:
        raise ValueError("bad trailer %r" % data[-TRAILER:])
    msglen, envlen, qtime = (int(x) for x in m.groups()[:3])
    if msglen + envlen + TRAILER != len(data):
        raise ValueError("sizes disagree")
    if qfile_hash(data[:-TRAILER]) != int(m.group(4), 16):
        raise ValueError("the hash does not match")
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
    def start(self, pass_fds=(), wrap=()):
        """Starts qmail-start; pass_fds are descriptors of ours it inherits
        as they are (as from a careless supervisor); wrap, a command that
        runs it (strace, to inject faults into the whole tree)."""
        env = self.plainenv()
        env.update(self.env)
        self.log = open(self.logfile, "ab")
        self.proc = subprocess.Popen(list(wrap) + [os.path.join(BIN, "qmail-start"), self.defaultdelivery],
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


# ---- servers under tcpserver, and line clients for them ----
#
# One copy of what the SMTP, POP3 and QMTP suites each had: tcpserver on a
# free port in a session of its own (so that every process of every
# connection can be found and killed by pid), with a ready check that needs
# no test connection, and a raw line client with a timeout on every read.

import socket  # noqa: E402

TCPSERVER = shutil.which("tcpserver") or "/usr/bin/tcpserver"
TCPRULES = shutil.which("tcprules") or "/usr/bin/tcprules"


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    """A port nobody listens on now (tcpserver may still lose a race for
    it: TcpServer.start retries)."""
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _proc_addr(host):
    """host as /proc/net/tcp{,6} writes it: each 32-bit word in host order."""
    if ":" in host:
        raw = socket.inet_pton(socket.AF_INET6, host)
    else:
        raw = socket.inet_pton(socket.AF_INET, host)
    out = ""
    for i in range(0, len(raw), 4):
        word = int.from_bytes(raw[i:i + 4], "big")
        out += "%08X" % int.from_bytes(word.to_bytes(4, "big"), sys.byteorder)
    return out


def listening(port, host="127.0.0.1"):
    """Whether something listens on host:port, from /proc/net/tcp{,6}, so
    that no test connection is needed to find out."""
    want = "%s:%04X" % (_proc_addr(host), port)
    try:
        with open("/proc/net/tcp6" if ":" in host else "/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[1] == want and fields[3] == "0A":
                    return True
    except OSError:
        pass
    return False


def proc_stat(pid):
    """The fields of /proc/pid/stat after the command name: [0] is the
    state, [3] the session id. Raises OSError if the process is gone."""
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()


def session_pids(sid, zombies=False):
    """Pids of the processes in session sid. Zombies are left out unless
    asked for: a zombie has exited and holds nothing but its pid, and an
    orphan's zombie waits for init, which in some containers reaps only
    every second or two; waiting for it would only waste that time."""
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            st = proc_stat(int(p))
            if int(st[3]) == sid and (zombies or st[0] != "Z"):
                out.append(int(p))
        except (OSError, IndexError, ValueError):
            continue
    return out


def kill_session(sid, timeout=30):
    """SIGKILL to every process of session sid; True once none is alive."""
    for pid in session_pids(sid):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return wait_for(lambda: not session_pids(sid), timeout)


class Background:
    """A slow test that mostly waits (a server's delay, a timeout) run
    beside the other tests of its suite. The test is a generator function
    in three parts: its setup, up to the first yield, runs at once in the
    caller's thread; the part up to the second yield in a thread of its
    own, which must touch nothing but its own server and connections (no
    control file, no queue: the other tests change those); the rest (its
    cleanup) when finish() is called, in the caller's thread again.
    Its servers (TcpServer) are in self.servers: stop_tcpservers(keep=...)
    must leave them running. Exceptions in any part are reported as one
    failure "<name> ran to the end", as the suites do for any test; then
    the servers and Systems its setup made are stopped and cleaned up by
    finish() (so no finally clause should span the yields: it would run
    in the thread, beside the other tests)."""

    def __init__(self, fn):
        self.name = fn.__name__
        self.started = time.time()
        before, sys_before = list(_tcpservers), list(_systems)
        self.gen = fn()
        self.error = None
        self.thread = None
        if self._step():
            self.servers = [s for s in _tcpservers if s not in before]
            self.systems = [s for s in _systems if s not in sys_before]
            self.thread = threading.Thread(target=self._step, daemon=True)
            self.thread.start()
        else:
            self.servers, self.systems = [], []

    def _step(self):
        """Runs the generator to its next yield; False when it is over."""
        try:
            next(self.gen)
            return True
        except StopIteration:
            return False
        except Exception:  # one broken test must not hide the others
            import traceback
            self.error = traceback.format_exc()
            return False

    def finish(self):
        if self.thread:
            self.thread.join()
            if not self.error:
                self._step()
        self.gen.close()
        for s in self.servers:
            s.stop()
        if self.error:
            for s in self.systems:
                s.cleanup()
            check(False, "%s ran to the end" % self.name, self.error)
        print("# %s: %.1f s (beside the others)" % (self.name, time.time() - self.started))
        sys.stdout.flush()


def run_in_background(fn):
    """Runs a Background test to the end, alone (for a suite's list of
    tests to run one by one, or to run it by name)."""
    b = Background(fn)
    b.finish()


def parallel(*calls):
    """Runs the callables at once, each in a thread, and returns their
    results in order (the first exception is raised again). For cases that
    only wait on the server (a delay per connection), so that they wait
    together; the checks on the results belong in the caller, in order."""
    results = [None] * len(calls)
    errors = [None] * len(calls)

    def run(i, f):
        try:
            results[i] = f()
        except BaseException as e:  # noqa: B902 -- handed to the caller
            errors[i] = e

    threads = [threading.Thread(target=run, args=(i, f), daemon=True) for i, f in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in errors:
        if e is not None:
            raise e
    return results


_tcpservers = []


class TcpServer:
    """tcpserver [opts] host port argv... in a session of its own, on a
    free port of host (127.0.0.1 or ::1). rules: tcprules text, made into
    a cdb for -x. user: (uid, gid) for -u/-g. Its descriptor 2 (tcpserver's
    and every server's it ran) goes to logfile (a temporary file if None).
    name: if given, stop() reports a failure "no sanitizer report from
    <name>" when the log holds one."""

    def __init__(self, argv, env=None, host="127.0.0.1", opts=("-H", "-R"), rules=None, user=None,
                 logfile=None, name=None, concurrency=None, backlog=None):
        self.argv = list(argv)
        self.env = dict(env) if env is not None else {
            "PATH": "/usr/bin:/bin", "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
            "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "")}
        self.host = host
        self.opts = list(opts)
        self.rules = rules
        self.user = user
        self.name = name
        self.concurrency = concurrency
        # tcpserver's default backlog is 20: a burst of more connections
        # overflows the kernel's accept queue, and TCP retries those after
        # seconds. A backlog as large as the concurrency keeps bursts quick.
        self.backlog = backlog if backlog is not None else concurrency
        self.tmp = None
        if logfile is None:
            self.tmp = tempfile.mkdtemp(prefix="quail-tcpserver-")
            logfile = os.path.join(self.tmp, "log")
        self.logfile = logfile
        self.proc = None
        self.port = None

    def command(self, port):
        cmd = [TCPSERVER] + self.opts
        if self.concurrency is not None:
            cmd += ["-c", str(self.concurrency)]
        if self.backlog is not None:
            cmd += ["-b", str(self.backlog)]
        if self.rules is not None:
            cmd += ["-x", self.cdb]
        if self.user:
            cmd += ["-u", str(self.user[0]), "-g", str(self.user[1])]
        return cmd + [self.host, str(port)] + self.argv

    def start(self):
        if self.rules is not None:
            self.cdb = self.logfile + ".rules.cdb"
            p = subprocess.run([TCPRULES, self.cdb, self.cdb + ".tmp"], input=self.rules.encode(),
                               capture_output=True, timeout=60)
            if p.returncode != 0:
                raise RuntimeError("tcprules: %r" % p.stderr)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        for attempt in range(10):
            self.port = free_port(family, self.host)
            self.log = open(self.logfile, "ab")
            self.proc = subprocess.Popen(self.command(self.port), env=self.env, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=self.log, start_new_session=True,
                                         cwd="/")
            if wait_for(lambda: listening(self.port, self.host) or self.proc.poll() is not None, 30) and \
                    self.proc.poll() is None:
                _tcpservers.append(self)
                return self
            self.proc.wait()
            self.log.close()
        raise RuntimeError("tcpserver would not start: " + self.logtext())

    def children(self):
        """Pids of the live processes of its connections (not tcpserver)."""
        if not self.proc:
            return []
        return [p for p in session_pids(self.proc.pid) if p != self.proc.pid]

    def idle(self, timeout=60):
        """Waits until every connection's processes have exited."""
        return wait_for(lambda: not self.children(), timeout)

    def logbytes(self):
        try:
            with open(self.logfile, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def logtext(self):
        return self.logbytes().decode("latin-1")

    def connect(self, timeout=60):
        return socket.create_connection((self.host, self.port), timeout=timeout)

    def stop(self):
        """SIGTERM to tcpserver, SIGKILL to whatever its connections still
        run; returns once all of it is gone."""
        if not self.proc:
            return
        sid = self.proc.pid
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        kill_session(sid)
        self.proc = None
        self.log.close()
        if self in _tcpservers:
            _tcpservers.remove(self)
        if self.name:
            log = self.logtext()
            if "Sanitizer" in log or "runtime error:" in log:
                check(False, "no sanitizer report from " + self.name, log[-3000:])
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


def stop_tcpservers(keep=()):
    """Stops every TcpServer still running, except those in keep."""
    for srv in list(_tcpservers):
        if srv not in keep:
            srv.stop()


atexit.register(stop_tcpservers)


class LineClient:
    """A raw client of a line protocol on 127.0.0.1 (or host): bytes out,
    lines in, a timeout on every read (None from line() at EOF or timeout;
    self.eof and self.timedout say which). eol b"\\n": a line ends at LF, a
    CR before it is dropped (SMTP as qmail reads it); b"\\r\\n": only CRLF
    ends a line (POP3). str is sent in encoding; lines come back latin-1."""

    def __init__(self, port, timeout=60, host="127.0.0.1", eol=b"\n", encoding="latin-1"):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.eol = eol
        self.encoding = encoding
        self.buf = b""
        self.eof = False
        self.timedout = False

    def send(self, data):
        if isinstance(data, str):
            data = data.encode(self.encoding)
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def _fill(self):
        if self.eof:
            return False
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            self.timedout = True
            return False
        except OSError:
            d = b""
        if not d:
            self.eof = True
            return False
        self.buf += d
        return True

    def line(self):
        """One line without its end (str, latin-1); None at EOF or timeout."""
        while self.eol not in self.buf:
            if not self._fill():
                return None
        line, self.buf = self.buf.split(self.eol, 1)
        if self.eol == b"\n":
            line = line.rstrip(b"\r")
        return line.decode("latin-1")

    def cmd(self, text):
        """Sends text and CRLF; returns the next line."""
        self.send((text.encode(self.encoding) if isinstance(text, str) else text) + b"\r\n")
        return self.line()

    def drain(self, timeout=60):
        """Reads until EOF or timeout; what came (with anything unread) is
        left in self.extra. Returns self.eof."""
        self.sock.settimeout(timeout)
        self.extra = self.buf
        self.buf = b""
        while self._fill():
            self.extra += self.buf
            self.buf = b""
        return self.eof

    def closed(self, timeout=60):
        """True if the server closes the connection within timeout seconds
        (what it sent first is in self.extra)."""
        return self.drain(timeout)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class SmtpClient(LineClient):
    """LineClient for SMTP: reply() reads a whole reply, multi-line ones
    joined with '\\n'; closed() also wants nothing more sent."""

    def __init__(self, port, timeout=60, host="127.0.0.1", encoding="utf-8"):
        LineClient.__init__(self, port, timeout, host, b"\n", encoding)

    def reply(self):
        """One reply, multi-line ones joined with '\\n'; None at EOF."""
        lines = []
        while True:
            l = self.line()
            if l is None:
                return None
            lines.append(l)
            if len(l) < 4 or l[3] != "-":
                return "\n".join(lines)

    def replies(self, n):
        return [self.reply() for _ in range(n)]

    def cmd(self, text):
        self.send(text + ("\r\n" if isinstance(text, str) else b"\r\n"))
        return self.reply()

    def closed(self, timeout=60):
        """True if the server closes the connection (and sends nothing
        more) within timeout seconds; what it sent is kept in self.extra."""
        return self.drain(timeout) and not self.extra


class Pop3Client(LineClient):
    """LineClient for POP3 (CRLF lines); the greeting is read at once into
    self.greeting (if greeting is true); multi() reads a multi-line body."""

    def __init__(self, port, timeout=60, host="127.0.0.1", greeting=True):
        LineClient.__init__(self, port, timeout, host, b"\r\n", "latin-1")
        self.greeting = self.line() if greeting else None

    def multi(self):
        """The body of a multi-line reply, as sent (dot-stuffed), up to its
        final '.'; None if the connection ends first."""
        out = b""
        while True:
            i = self.buf.find(b"\r\n.\r\n")
            if self.buf.startswith(b".\r\n"):
                self.buf = self.buf[3:]
                return out
            if i >= 0:
                out += self.buf[:i + 2]
                self.buf = self.buf[i + 5:]
                return out
            if not self._fill():
                return None
