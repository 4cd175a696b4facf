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
