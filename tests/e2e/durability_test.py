"""Nothing is lost when qmail-send or qmail-local is killed.

1. 500 messages are injected while qmail-send is killed with SIGKILL four
   times and restarted: every message is delivered exactly once (the
   spawners keep each result until qmail-send has journaled it, and leave
   it in queue/orphans/ for the next qmail-send otherwise), and the queue
   ends empty.
2. The same while qmail-local processes are killed mid-delivery: every
   message at least once, at most 1% twice (a qmail-local killed after its
   Maildir link cannot say it delivered).

Not tested here: a power cut (the order of fsyncs that survives one is
tested on qmail-queue with strace in queue_test.py).
"""

import os
import random
import re
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import quail  # noqa: E402
from quail import check, check_eq, wait_for  # noqa: E402

N = 500


def test_ids(s, user):
    ids = {}
    for m in s.messages(user):
        found = re.search(rb"\nX-Test-Id: (\d+)\n", m)
        if found:
            i = int(found.group(1))
            ids[i] = ids.get(i, 0) + 1
    return ids


def inject_all(s, errors):
    envl = b"Fbob@example.org\0Talice@test.example\0\0"
    for i in range(N):
        msg = b"Subject: durability\nX-Test-Id: %d\n\n" % i + b"line\n" * random.randint(1, 200)
        rc = quail.qmail_queue(msg, envl, env=s.plainenv())
        if rc != 0:
            errors.append((i, rc))


def finish(s, name, extra_kicks=False, max_twice=N // 100):
    def all_there():
        if extra_kicks:
            s.signal(signal.SIGALRM)  # deferred deliveries: retry now, not in minutes
        return len(test_ids(s, "alice")) >= N
    check(wait_for(all_there, 600, 0.5), name + ": every one of the %d messages is delivered" % N,
          "%d of %d" % (len(test_ids(s, "alice")), N))
    ids = test_ids(s, "alice")
    check_eq(sorted(set(range(N)) - set(ids)), [], name + ": none is lost")
    twice = [i for i, n in ids.items() if n > 1]
    check(len(twice) <= max_twice, name + ": at most %d are delivered twice (%d were)" % (max_twice, len(twice)),
          str(twice))
    check(all(n <= 2 for n in ids.values()), name + ": none is delivered three times")
    check(wait_for(s.queue_empty, 120), name + ": the queue ends empty")
    check_eq(quail.queue_files(quail.ROOT, "pid"), [], name + ": nothing is left in pid/")


def test_kill_send():
    random.seed(20261122)
    s = quail.System(users=("alice",))
    try:
        s.start()
        errors = []
        t = threading.Thread(target=inject_all, args=(s, errors))
        t.start()
        kills = 0
        for _ in range(4):
            time.sleep(random.uniform(0.2, 1.2))
            s.kill9()
            kills += 1
            time.sleep(random.uniform(0, 0.3))
            s.start()
        t.join()
        check_eq(errors, [], "every injection is accepted while qmail-send comes and goes")
        check_eq(kills, 4, "qmail-send was killed with SIGKILL 4 times")
        finish(s, "qmail-send killed 4 times", max_twice=0)
        check(len(re.findall(r"^status: local 0/10 remote 0/20$", s.logtext(), re.M)) >= 5,
              "each of the 5 qmail-sends started (and logged its status)")
    finally:
        s.stop()
        s.cleanup()


def local_pids():
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                if f.read().startswith(b"bin/qmail-local\0"):
                    out.append(int(p))
        except OSError:
            pass
    return out


def run_local_kills(s, nkills, spread):
    """Injects N messages while killing nkills qmail-local processes, each
    at a random moment, at most one per spread seconds. Returns the count."""
    errors = []
    t = threading.Thread(target=inject_all, args=(s, errors))
    t.start()
    kills = 0
    while kills < nkills and (t.is_alive() or not s.queue_empty()):
        time.sleep(random.uniform(0, spread))
        pids = local_pids()
        if pids:
            try:
                os.kill(random.choice(pids), signal.SIGKILL)
                kills += 1
            except OSError:
                pass
    t.join()
    check_eq(errors, [], "every injection is accepted")
    return kills


def test_kill_local():
    random.seed(11221122)
    s = quail.System(users=("alice",))
    try:
        # A short program first, so that kills land inside a delivery.
        s.dotqmail("alice", "", "|sleep 0.05\n./Maildir/\n")
        s.start()
        kills = run_local_kills(s, 4, 0.5)
        check_eq(kills, 4, "qmail-local was killed with SIGKILL 4 times mid-delivery")
        check(re.search(r"deferral: qmail-local_crashed\./", s.logtext()), "a killed qmail-local is a deferral")
        finish(s, "qmail-local killed 4 times", extra_kicks=True)
    finally:
        s.stop()
        s.cleanup()


def test_kill_local_storm():
    """Many more kills: duplicates are expected (a qmail-local killed after
    its Maildir link has delivered, and cannot say so), losses are not."""
    random.seed(5)
    s = quail.System(users=("alice",))
    try:
        s.dotqmail("alice", "", "|sleep 0.05\n./Maildir/\n")
        s.start()
        kills = run_local_kills(s, 50, 0.1)
        check(kills >= 20, "qmail-local was killed many times (%d)" % kills)
        check(wait_for(lambda: s.signal(signal.SIGALRM) or len(test_ids(s, "alice")) >= N, 600, 0.5),
              "storm: every message is delivered")
        check_eq(sorted(set(range(N)) - set(test_ids(s, "alice"))), [], "storm: none is lost")
        check(wait_for(lambda: s.signal(signal.SIGALRM) or s.queue_empty(), 120, 0.5),
              "storm: the queue ends empty (redeliveries deferred by the kills retried)")
        check_eq(s.maildir("alice", "tmp"), [], "storm: no half-written file is left in Maildir/tmp")
    finally:
        s.stop()
        s.cleanup()


test_kill_send()
test_kill_local()
test_kill_local_storm()
quail.done()
