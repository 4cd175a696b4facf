"""A tiny DNS server for tests (Python 3 standard library only).

    python3 dnsserver.py ADDRESS PORT TABLE.json

answers UDP and TCP queries on ADDRESS:PORT from a table, prints "ready"
on stdout once both sockets listen, and runs until killed. The table maps
"name TYPE" (lower case, no final dot) to an entry:

    {"rcode": 0, "answers": [["owner", "TYPE", data], ...]}
    {"rcode": 2}                  SERVFAIL (or any other rcode)
    {"drop": true}                never answer (the client times out)

TYPE is A, AAAA, MX (data [pref, "exchange"]), CNAME (data "target") or
TXT; an owner "@" is written as a pointer to the question's name, like
real servers compress. A name that is not in the table under any type is
NXDOMAIN; a name that is, but not for the type asked, is NODATA. A UDP
answer over 512 bytes goes out truncated (TC), so the client retries over
TCP as real resolvers do.
"""

import json
import socket
import struct
import sys
import threading

TYPES = {"A": 1, "CNAME": 5, "MX": 15, "TXT": 16, "AAAA": 28}
NAMES = {v: k for k, v in TYPES.items()}


def wire(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def parse_question(q):
    """(id, flags, name, qtype, end of question) or None."""
    if len(q) < 12:
        return None
    qid, flags, qd = struct.unpack(">HHH", q[:6])
    if qd != 1:
        return None
    pos, labels = 12, []
    while True:
        if pos >= len(q):
            return None
        n = q[pos]
        if n == 0:
            pos += 1
            break
        if n > 63 or pos + 1 + n > len(q):
            return None
        labels.append(q[pos + 1:pos + 1 + n].decode("latin-1"))
        pos += 1 + n
    if pos + 4 > len(q):
        return None
    qtype, _ = struct.unpack(">HH", q[pos:pos + 4])
    return qid, flags, ".".join(labels).lower(), qtype, pos + 4


def rdata(t, data):
    if t == "A":
        return socket.inet_pton(socket.AF_INET, data)
    if t == "AAAA":
        return socket.inet_pton(socket.AF_INET6, data)
    if t == "MX":
        return struct.pack(">H", data[0]) + wire(data[1])
    if t == "CNAME":
        return wire(data)
    return bytes([len(data)]) + data.encode()


def answer(table, q):
    """The reply to query q, or None to stay silent."""
    p = parse_question(q)
    if p is None:
        return None
    qid, flags, name, qtype, end = p
    entry = table.get("%s %s" % (name, NAMES.get(qtype, str(qtype))))
    if entry is None:
        known = any(k.split(" ")[0] == name for k in table)
        entry = {"rcode": 0 if known else 3}
    if entry.get("drop"):
        return None
    rrs = b""
    answers = entry.get("answers", [])
    for owner, t, data in answers:
        rd = rdata(t, data)
        rrs += (b"\xc0\x0c" if owner == "@" else wire(owner)) + struct.pack(">HHIH", TYPES[t], 1, 60, len(rd)) + rd
    # QR, the query's RD, RA, and the rcode
    hdr = struct.pack(">HBBHHHH", qid, 0x80 | (flags >> 8 & 0x01), 0x80 | entry.get("rcode", 0), 1, len(answers), 0, 0)
    return hdr + q[12:end] + rrs


def serve_udp(sock, table):
    while True:
        q, peer = sock.recvfrom(4096)
        r = answer(table, q)
        if r is None:
            continue
        if len(r) > 512:
            # TC: the question only, so the client asks again over TCP
            end = parse_question(q)[4]
            r = r[:2] + bytes([r[2] | 0x02, r[3]]) + b"\0\1\0\0\0\0\0\0" + q[12:end]
        sock.sendto(r, peer)


def serve_tcp_conn(conn, table):
    with conn:
        conn.settimeout(10)
        try:
            while True:
                hdr = conn.recv(2)
                if len(hdr) < 2:
                    return
                n = struct.unpack(">H", hdr)[0]
                q = b""
                while len(q) < n:
                    chunk = conn.recv(n - len(q))
                    if not chunk:
                        return
                    q += chunk
                r = answer(table, q)
                if r is None:
                    return
                conn.sendall(struct.pack(">H", len(r)) + r)
        except OSError:
            return


def serve_tcp(sock, table):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=serve_tcp_conn, args=(conn, table), daemon=True).start()


def main():
    addr, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(path) as f:
        # names in lower case, types in upper case
        table = {"%s %s" % (k.split(" ")[0].lower().rstrip("."), k.split(" ")[1].upper()): v
                 for k, v in json.load(f).items()}
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    u = socket.socket(fam, socket.SOCK_DGRAM)
    u.bind((addr, port))
    t = socket.socket(fam, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((addr, port))
    t.listen(16)
    threading.Thread(target=serve_tcp, args=(t, table), daemon=True).start()
    print("ready", flush=True)
    serve_udp(u, table)


if __name__ == "__main__":
    main()
