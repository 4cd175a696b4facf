"""Helpers for the virtual-domain tests (vpopmail_test.py, dovecot_test.py):
the store's paths, running the v* commands, reading vpasswd, a tcpserver
running any program on a free port of 127.0.0.1, and a small SMTP sink
that stands for a remote host. Python 3 standard library only.

Everything started here is stopped by pid (tcpserver gets a session of
its own, so that every process of every connection can be found).
"""

import os
import pwd
import re
import shutil
import socket
import subprocess
import threading
import time

import quail
from quail import BIN, ROOT, wait_for, free_port, listening, session_pids

TCPSERVER = shutil.which("tcpserver") or "/usr/bin/tcpserver"
SWAKS = shutil.which("swaks") or "/usr/bin/swaks"
IOTIMEOUT = 60


def conf_vpopmail():
    """(base, user, group) of the instance's store, from the build's
    conf-vpopmail (the first three lines)."""
    try:
        with open(os.path.join(quail.BUILD, "conf", "conf-vpopmail")) as f:
            lines = [f.readline().strip() for _ in range(3)]
        return tuple(lines)
    except OSError:
        return (os.path.join(ROOT, "vpopmail"), "", "")


BASE = conf_vpopmail()[0]
DOMAINS = os.path.join(BASE, "domains")


def domdir(domain):
    return os.path.join(DOMAINS, domain)


def plainenv(extra=None):
    env = {"PATH": BIN + ":/usr/bin:/bin", "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
           "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "")}
    if extra:
        env.update(extra)
    return env


class Result:
    def __init__(self, cmd, rc, out, err):
        self.cmd, self.rc, self.out, self.err = cmd, rc, out, err

    def why(self):
        return "command %s: exit %r\nstdout: %r\nstderr: %r" % (" ".join(self.cmd), self.rc, self.out[-2000:],
                                                                 self.err[-2000:])


def v(prog, *args, stdin=None, env=None, timeout=60):
    """Runs the instance's program prog with args, as an administrator
    would at a shell; returns a Result (rc None when it did not exist or
    timed out)."""
    path = os.path.join(BIN, prog)
    cmd = [path] + [str(a) for a in args]
    if not os.path.exists(path):
        return Result([prog] + cmd[1:], None, "", "%s is not installed in %s" % (prog, BIN))
    try:
        p = subprocess.run(cmd, input=stdin.encode() if isinstance(stdin, str) else stdin,
                           stdin=None if stdin is not None else subprocess.DEVNULL, capture_output=True,
                           env=plainenv(env), timeout=timeout, cwd="/")
    except subprocess.TimeoutExpired:
        return Result([prog] + cmd[1:], None, "", "timed out after %d s" % timeout)
    return Result([prog] + cmd[1:], p.returncode, p.stdout.decode("utf-8", "replace"),
                  p.stderr.decode("utf-8", "replace"))


def read(path, mode="r"):
    try:
        with open(path, mode) as f:
            return f.read()
    except (FileNotFoundError, NotADirectoryError):
        return None


def lines(path):
    t = read(path)
    return [] if t is None else t.splitlines()


def vpasswd(domain):
    """{user: [fields]} of DOMAIN/vpasswd (fields after the name), or None
    when the file is missing."""
    t = read(os.path.join(domdir(domain), "vpasswd"))
    if t is None:
        return None
    out = {}
    for line in t.splitlines():
        if line:
            f = line.split(":")
            out[f[0]] = f[1:]
    return out


def vpasswd_cdb(domain):
    """{user: data} of DOMAIN/vpasswd.cdb, or None when it is missing or
    unreadable."""
    p = os.path.join(domdir(domain), "vpasswd.cdb")
    try:
        records, _ = quail.cdb_read(p)
    except (OSError, Exception):
        return None
    return {k.decode("latin-1"): d.decode("latin-1") for k, d in records}


def tree(top):
    """Every path under top (relative) with its type and size, to compare
    before and after: nothing outside the domain directory may change."""
    out = {}
    for dirpath, dirs, files in os.walk(top):
        for n in dirs + files:
            p = os.path.join(dirpath, n)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            out[os.path.relpath(p, top)] = (st.st_mode, st.st_size if not os.path.isdir(p) else 0)
    return out


def maildir_files(maildir, subs=("new", "cur")):
    out = []
    for sub in subs:
        d = os.path.join(maildir, sub)
        try:
            out += sorted(os.path.join(d, f) for f in os.listdir(d) if not f.startswith("."))
        except OSError:
            pass
    return out


def maildir_messages(maildir):
    out = []
    for p in maildir_files(maildir):
        b = read(p, "rb")
        if b is not None:
            out.append(b)
    return out


# ---- processes ----


def stop_all():
    quail.stop_tcpservers()


class TcpServer(quail.TcpServer):
    """tcpserver -H -R -l mx.test.example [-u uid -g gid] 127.0.0.1 PORT
    prog... on a free port, in a session of its own, logging to
    logdir/<name><n>.log."""

    def __init__(self, argv, logdir, env=None, ids=None, name="tcpserver"):
        n = 0
        while os.path.exists(os.path.join(logdir, "%s%d.log" % (name, n))):
            n += 1
        quail.TcpServer.__init__(self, [str(a) for a in argv], env=plainenv(env),
                                 opts=("-H", "-R", "-l", "mx.test.example"), user=ids,
                                 logfile=os.path.join(logdir, "%s%d.log" % (name, n)))


# ---- an SMTP sink standing for a remote host ----

class Sink:
    """A minimal SMTP server on 127.0.0.1 that accepts everything and keeps
    (sender, recipients, message) of each transaction."""

    def __init__(self):
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.lsock.settimeout(0.2)
        self.port = self.lsock.getsockname()[1]
        self.messages = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopping.is_set():
            try:
                s, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(s,), daemon=True).start()

    def _serve(self, s):
        s.settimeout(IOTIMEOUT)
        f = s.makefile("rb")
        try:
            s.sendall(b"220 sink.remote.example ESMTP\r\n")
            sender, rcpts = None, []
            while True:
                line = f.readline(10000)
                if not line:
                    return
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    s.sendall(b"250 sink.remote.example\r\n")
                elif verb == b"MAIL":
                    m = re.search(rb"<([^>]*)>", line)
                    sender, rcpts = (m.group(1).decode() if m else ""), []
                    s.sendall(b"250 ok\r\n")
                elif verb == b"RCPT":
                    m = re.search(rb"<([^>]*)>", line)
                    rcpts.append(m.group(1).decode() if m else "")
                    s.sendall(b"250 ok\r\n")
                elif verb == b"DATA":
                    s.sendall(b"354 go\r\n")
                    data = b""
                    while True:
                        l2 = f.readline(1 << 20)
                        if not l2 or l2 == b".\r\n":
                            break
                        data += l2[1:] if l2.startswith(b"..") else l2
                    self.messages.append((sender, rcpts, data))
                    s.sendall(b"250 ok accepted\r\n")
                elif verb == b"QUIT":
                    s.sendall(b"221 bye\r\n")
                    return
                else:
                    s.sendall(b"250 ok\r\n")
        except OSError:
            pass
        finally:
            s.close()

    def stop(self):
        self.stopping.set()
        self.lsock.close()
        self.thread.join(5)


class System(quail.System):
    """quail.System with no local users: users/assign is a lone dot (the
    base class would write an empty line before it, which qmail-newu
    rightly refuses)."""

    def write_assign(self, extra=""):
        if self.users:
            return super().write_assign(extra)
        with open(os.path.join(ROOT, "users", "assign"), "w") as f:
            f.write(extra + ".\n")
        subprocess.run([os.path.join(BIN, "qmail-newu")], check=True, env=self.plainenv())


def ids_of(user):
    pw = pwd.getpwnam(user)
    return pw.pw_uid, pw.pw_gid


def mtime_back(path, seconds):
    t = time.time() - seconds
    os.utime(path, (t, t))
