"""End-to-end test of lib/dns against a real resolver path: glibc's
res_query, /etc/resolv.conf, UDP with the TCP retry, timeouts.

A network namespace (ip netns) holds a test DNS server (dnsserver.py) on
its 127.0.0.1:53, and /etc/netns/NAME/resolv.conf, which `ip netns exec`
mounts over /etc/resolv.conf, points at it. tests/bin/dnsquery (lib/dns
from the command line) runs inside the namespace. Needs root and ip(8);
skipped otherwise.

qmail-remote itself runs in the namespace too: it picks the mail
exchanger from DNS (a dead best MX, then the backup; its own address as an
MX: the loop check) and delivers to a test sink on 127.0.0.N:25 there.

not tested: a resolver that answers from another address; IPv6 transport
to the server; EDNS0.
"""

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quail  # noqa: E402

DNSQUERY = os.path.join(quail.BUILD, "tests", "bin", "dnsquery")
SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dnsserver.py")

A, AAAA, MX, CNAME = "A", "AAAA", "MX", "CNAME"


def rr(owner, t, data):
    return [owner, t, data]


TABLE = {
    "example.test MX": {"answers": [rr("@", MX, [20, "mx2.example.test"]), rr("@", MX, [10, "mx1.example.test"])]},
    "mx1.example.test AAAA": {"answers": [rr("@", AAAA, "2001:db8::1")]},
    "mx1.example.test A": {"answers": [rr("@", A, "192.0.2.1"), rr("@", A, "192.0.2.11")]},
    "mx2.example.test A": {"answers": [rr("@", A, "192.0.2.2")]},
    "mx2.example.test TXT": {"answers": [rr("@", "TXT", "exists")]},
    "implicit.test A": {"answers": [rr("@", A, "192.0.2.3")]},
    "implicit.test AAAA": {"answers": [rr("@", AAAA, "2001:db8::3")]},
    "servfail.test MX": {"rcode": 2},
    "refused.test MX": {"rcode": 5},
    "null.test MX": {"answers": [rr("@", MX, [0, "."])]},
    "alias.test MX": {"answers": [rr("@", CNAME, "real.test"), rr("real.test", MX, [5, "mx.real.test"])]},
    "mx.real.test A": {"answers": [rr("@", A, "192.0.2.5")]},
    "aliasonly.test MX": {"answers": [rr("@", CNAME, "target.test")]},
    "target.test A": {"answers": [rr("@", A, "192.0.2.6")]},
    "loop.test MX": {"answers": [rr("@", CNAME, "loop2.test"), rr("loop2.test", CNAME, "loop.test")]},
    "deadmx.test MX": {"answers": [rr("@", MX, [10, "nowhere.test"])]},
    "slow.test MX": {"drop": True},
    "halfslow.test MX": {"answers": [rr("@", MX, [10, "slowhost.test"]), rr("@", MX, [20, "mx2.example.test"])]},
    "slowhost.test A": {"drop": True},
    "slowhost.test AAAA": {"drop": True},
    "big.test A": {"answers": [rr("@", A, "10.0.0.%d" % i) for i in range(1, 41)]},
    "equal.test MX": {"answers": [rr("@", MX, [10, "mx1.example.test"]), rr("@", MX, [10, "mx2.example.test"])]},
    # for qmail-remote: 127.0.0.2 refuses, 127.0.0.3 runs the sink, 127.0.0.1 is "me"
    "pick.test MX": {"answers": [rr("@", MX, [10, "down.mx.test"]), rr("@", MX, [20, "up.mx.test"])]},
    "down.mx.test A": {"answers": [rr("@", A, "127.0.0.2")]},
    "up.mx.test A": {"answers": [rr("@", A, "127.0.0.3")]},
    "me.mx.test A": {"answers": [rr("@", A, "127.0.0.1")]},
    "selfmx.test MX": {"answers": [rr("@", MX, [10, "me.mx.test"]), rr("@", MX, [20, "up.mx.test"])]},
    "backupself.test MX": {"answers": [rr("@", MX, [10, "up.mx.test"]), rr("@", MX, [20, "me.mx.test"])]},
    "noaddr.test MX": {"answers": [rr("@", MX, [10, "nowhere.test"])]},
}

# A minimal SMTP sink for the namespace: accepts every transaction on
# HOST:25 and appends "rcpt list<TAB>bytes" lines to OUT.
SINK = r"""
import socket, sys
host, out = sys.argv[1], sys.argv[2]
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((host, 25)); ls.listen(8)
print("ready", flush=True)
while True:
    c, _ = ls.accept(); c.settimeout(20); f = c.makefile("rb")
    def say(t): c.sendall(t.encode() + b"\r\n")
    say("220 sink")
    rcpts = []
    try:
        while True:
            line = f.readline()
            if not line: break
            cmd = line[:4].upper()
            if cmd == b"DATA":
                say("354 go"); data = b""
                while True:
                    l = f.readline()
                    if not l or l == b".\r\n": break
                    data += l
                with open(out, "a") as o: o.write(",".join(rcpts) + "\t%d\n" % len(data))
                rcpts = []; say("250 ok")
            elif cmd == b"RCPT":
                rcpts.append(line.decode().split(":", 1)[1].strip().strip("<>")); say("250 ok")
            elif cmd == b"QUIT":
                say("221 bye"); break
            elif cmd == b"EHLO":
                say("250 sink")
            else:
                say("250 ok")
    except OSError:
        pass
    c.close()
"""


def main():
    if not quail.is_root():
        quail.skip("dns e2e", "needs root for ip netns")
        quail.done()
    if not shutil.which("ip"):
        quail.skip("dns e2e", "no ip(8)")
        quail.done()
    if not os.path.exists(DNSQUERY):
        quail.check(False, "dnsquery built", DNSQUERY)
        quail.done()

    ns = "quail-dns-%d" % os.getpid()
    etc = os.path.join("/etc/netns", ns)
    tmp = tempfile.mkdtemp(prefix="quail-dns-")
    server = sink = None
    try:
        if subprocess.run(["ip", "netns", "add", ns], stderr=subprocess.PIPE).returncode != 0:
            quail.skip("dns e2e", "ip netns add failed (no CAP_SYS_ADMIN?)")
            quail.done()
        subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True)
        os.makedirs(etc)
        with open(os.path.join(etc, "resolv.conf"), "w") as f:
            # one try of one second: the timeout case stays short
            f.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        table = os.path.join(tmp, "table.json")
        with open(table, "w") as f:
            json.dump(TABLE, f)
        server = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, SERVER, "127.0.0.1", "53", table],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        ready, _, _ = select.select([server.stdout], [], [], 10)
        if not ready or server.stdout.readline().strip() != b"ready":
            quail.check(False, "test DNS server starts", server.stderr.read1(4096).decode(errors="replace")
                        if ready else "no ready line in 10 s")
            quail.done()
        run_cases(ns)
        sink = run_remote_cases(ns, tmp)
    finally:
        if sink is not None:
            sink.kill()
            sink.wait()
        if server is not None:
            server.kill()
            server.wait()
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        shutil.rmtree(etc, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    quail.done()


def query(ns, *args, timeout=30):
    t0 = time.monotonic()
    p = subprocess.run(["ip", "netns", "exec", ns, DNSQUERY] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout, env={"PATH": "/usr/bin:/bin"})
    return p.returncode, p.stdout.decode(errors="replace"), time.monotonic() - t0, p.stderr.decode(errors="replace")


def run_cases(ns):
    cases = [
        # name, args, exit code, output
        ("MX by preference, IPv6 first", ("mx", "example.test"), 0,
         "OK\n10 mx1.example.test 2001:db8::1\n10 mx1.example.test 192.0.2.1\n10 mx1.example.test 192.0.2.11\n"
         "20 mx2.example.test 192.0.2.2\n"),
        ("MX, IPv4 only", ("mx", "example.test", "v4"), 0,
         "OK\n10 mx1.example.test 192.0.2.1\n10 mx1.example.test 192.0.2.11\n20 mx2.example.test 192.0.2.2\n"),
        ("MX, trailing dot and capitals", ("mx", "EXAMPLE.test."), 0,
         "OK\n10 mx1.example.test 2001:db8::1\n10 mx1.example.test 192.0.2.1\n10 mx1.example.test 192.0.2.11\n"
         "20 mx2.example.test 192.0.2.2\n"),
        ("implicit MX", ("mx", "implicit.test"), 0, "OK\n0 implicit.test 2001:db8::3\n0 implicit.test 192.0.2.3\n"),
        ("NXDOMAIN is permanent", ("mx", "nonexistent.test"), 100, "PERM 1 no such domain\n"),
        ("SERVFAIL is temporary", ("mx", "servfail.test"), 111, "TEMP 5 DNS lookup failed temporarily\n"),
        ("REFUSED is temporary", ("mx", "refused.test"), 111, "TEMP 5 DNS lookup failed temporarily\n"),
        ("null MX is permanent", ("mx", "null.test"), 100, "PERM 3 the domain accepts no mail (null MX)\n"),
        ("CNAME for the domain", ("mx", "alias.test"), 0, "OK\n5 mx.real.test 192.0.2.5\n"),
        ("CNAME without MX: the target's addresses", ("mx", "aliasonly.test"), 0, "OK\n0 target.test 192.0.2.6\n"),
        ("CNAME loop is temporary", ("mx", "loop.test"), 111, "TEMP 6 CNAME chain too long or a loop\n"),
        ("MX host without addresses: permanent", ("mx", "deadmx.test"), 100,
         "PERM 2 no address for the mail exchangers or the domain\n"),
        ("a name without addresses (NODATA): permanent", ("host", "mx2.example.test", "v6"), 100,
         "PERM 2 no address for the mail exchangers or the domain\n"),
        ("host", ("host", "mx1.example.test"), 0,
         "OK\n0 mx1.example.test 2001:db8::1\n0 mx1.example.test 192.0.2.1\n0 mx1.example.test 192.0.2.11\n"),
        ("literal", ("literal", "[IPv6:2001:DB8::9]"), 0, "OK\n0 - 2001:db8::9\n"),
        ("bad name, no query", ("mx", "a..test"), 100, "PERM 4 not a valid domain name\n"),
    ]
    for name, args, code, out in cases:
        rc, got, _, err = query(ns, *args)
        quail.check_eq((rc, got), (code, out), "dns: " + name, err)

    # A timeout: temporary, within the resolver's bound (1 s, 1 try).
    rc, got, took, err = query(ns, "mx", "slow.test")
    quail.check_eq((rc, got), (111, "TEMP 5 DNS lookup failed temporarily\n"), "dns: server silent: temporary", err)
    quail.check(took < 10, "dns: server silent: gives up in time", "took %.1f s" % took)
    # The best MX's lookup times out: the backup is used.
    rc, got, _, err = query(ns, "mx", "halfslow.test")
    quail.check_eq((rc, got), (0, "OK\n20 mx2.example.test 192.0.2.2\n"), "dns: best MX silent: the backup", err)

    # Over 512 bytes: truncated over UDP, asked again over TCP; 32 kept.
    rc, got, _, err = query(ns, "host", "big.test", "v4")
    want = "OK\n" + "".join("0 big.test 10.0.0.%d\n" % i for i in range(1, 33))
    quail.check_eq((rc, got), (0, want), "dns: 40 A records over TCP, the first 32 kept", err)

    # Equal preferences: both orders across runs (each run seeds itself).
    orders = set()
    for _ in range(30):
        rc, got, _, err = query(ns, "mx", "equal.test", "v4")
        lines = got.splitlines()
        orders.add(tuple(line.split()[1] for line in lines[1:]) if rc == 0 else ("failed", err))
        if len(orders) > 1 and all(o[0] != "failed" for o in orders):
            break
    want = {("mx1.example.test", "mx1.example.test", "mx2.example.test"),
            ("mx2.example.test", "mx1.example.test", "mx1.example.test")}
    quail.check_eq(orders, want, "dns: equal preferences come in both orders")


def run_remote_cases(ns, tmp):
    """qmail-remote choosing mail exchangers through DNS; returns the sink."""
    out = os.path.join(tmp, "sink.out")
    sink = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", SINK, "127.0.0.3", out],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ready, _, _ = select.select([sink.stdout], [], [], 10)
    if not ready or sink.stdout.readline().strip() != b"ready":
        quail.check(False, "remote: test sink starts in the namespace")
        return sink
    control = os.path.join(quail.ROOT, "control")
    for f in os.listdir(control):
        os.unlink(os.path.join(control, f))
    for name, value in (("me", "test.example"), ("timeoutconnect", "3"), ("timeoutremote", "10")):
        with open(os.path.join(control, name), "w") as f:
            f.write(value + "\n")
    remote = os.path.join(quail.BIN, "qmail-remote")
    env = {"PATH": "/usr/bin:/bin", "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
           "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "")}

    def deliver(domain, rcpt):
        with tempfile.TemporaryFile() as m:
            m.write(b"Subject: mx\n\nhello\n")
            m.seek(0)
            p = subprocess.run(["ip", "netns", "exec", ns, remote, domain, "bob@test.example", rcpt], stdin=m,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=60)
        return p.stdout.decode(errors="replace")

    def received():
        try:
            with open(out) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def final(rep):
        """The K/Z/D letter that ends a qmail-remote report, or "?"."""
        parts = rep.split("\0")
        return parts[-2][:1] if len(parts) >= 2 and parts[-1] == "" else "?"

    body = len(b"Subject: mx\r\n\r\nhello\r\n")
    rep = deliver("pick.test", "a@pick.test")
    quail.check(final(rep) == "K" and received() == ["a@pick.test\t%d" % body],
                "remote: the best MX refuses: delivered to the backup MX", repr(rep) + repr(received()))
    rep = deliver("backupself.test", "b@backupself.test")
    quail.check(final(rep) == "K" and received()[-1:] == ["b@backupself.test\t%d" % body],
                "remote: this host as a worse MX: the better one gets it", repr(rep))
    n = len(received())
    for domain, want, name in (("selfmx.test", "D", "this host as the best MX: permanent loop failure"),
                               ("nonexistent.test", "D", "NXDOMAIN: permanent"),
                               ("servfail.test", "Z", "SERVFAIL: temporary"),
                               ("null.test", "D", "null MX: permanent"),
                               ("noaddr.test", "D", "MX without addresses: permanent")):
        rep = deliver(domain, "x@" + domain)
        quail.check(final(rep) == want and len(received()) == n, "remote: " + name + ", nothing sent", repr(rep))
        if domain == "selfmx.test":
            quail.check("#5.4.6" in rep, "remote: the loop failure says so (#5.4.6)", repr(rep))
    return sink


if __name__ == "__main__":
    main()
