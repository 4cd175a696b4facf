"""qmail-start, qmail-send, qmail-lspawn, qmail-rspawn, qmail-clean,
qmail-getpw, qmail-qread, qmail-qstat: the queue, end to end, on the test
instance with the real qmail-local and a fake qmail-remote.

Not tested here: the real qmail-remote (the remote-delivery issue), the
SMTP side (qmail-smtpd's issue); the 36-hour removal of an orphaned
message file is tested by giving it an old mtime, not by waiting.
"""

import email
import os
import re
import signal
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import quail  # noqa: E402
from quail import check, check_eq, ROOT, BIN, wait_for  # noqa: E402

FAKE_REMOTE = r"""#!/bin/sh
# fake qmail-remote: host sender recip; message on stdin
d=@DIR@
n=$$
cat > "$d/remote.$n.msg"
printf '%s\n%s\n%s\n' "$1" "$2" "$3" > "$d/remote.$n.args"
case "$3" in
  *hard*) printf 'hSorry, I do not like recipient (#5.1.1)\n\0Dgiving up\n\0' ;;
  *soft*) printf 'sSorry, try again later (#4.4.1)\n\0Zlater\n\0' ;;
  *) printf 'r%s accepted\n\0Kdone\n\0' "$3" ;;
esac
"""


def msg(subject, body=b"body\n", extra=b""):
    return b"From: someone\nSubject: " + subject.encode() + b"\n" + extra + b"\n" + body


def new_system(controls=None, users=("alice", "bob", "postmaster"), env=None):
    s = quail.System(controls=controls, users=users, env=env)
    remote = os.path.join(s.top, "qmail-remote")
    with open(remote, "w") as f:
        f.write(FAKE_REMOTE.replace("@DIR@", s.top))
    os.chmod(remote, 0o755)
    s.env.setdefault("QMAILREMOTE", remote)
    return s


def remote_deliveries(s):
    out = []
    for f in sorted(os.listdir(s.top)):
        if f.endswith(".args"):
            with open(os.path.join(s.top, f)) as a:
                args = a.read().split("\n")[:3]
            with open(os.path.join(s.top, f[:-5] + ".msg"), "rb") as m:
                out.append((args, m.read()))
    return out


def log_lines(s, pattern):
    return [l for l in s.logtext().splitlines() if re.search(pattern, l)]


def test_basic():
    s = new_system()
    try:
        s.start()
        rc = s.inject(msg("hello"), "bob@example.org", ["alice@test.example"])
        check_eq(rc, 0, "a message is queued")
        check(s.wait_messages("alice", 1), "it is delivered into alice's Maildir/new")
        m = s.messages("alice")[0]
        check(m.startswith(b"Return-Path: <bob@example.org>\nDelivered-To: alice@test.example\nReceived: (qmail "),
              "Return-Path and Delivered-To come first, then qmail-queue's Received line", repr(m[:120]))
        check(m.endswith(b"Subject: hello\n\nbody\n"), "then the message, unchanged")
        check(wait_for(s.queue_empty, 30), "the queue is empty afterwards (todo/ and mess/)")
        log = s.logtext()
        for pat in (r"^new msg \d+$", r"^info msg \d+: bytes \d+ from <bob@example.org> qp \d+ uid \d+$",
                    r"^starting delivery \d+: msg \d+ to local alice@test.example$",
                    r"^delivery \d+: success: did_1\+0\+0/$", r"^status: local 1/10 remote 0/20$",
                    r"^end msg \d+$"):
            check(re.search(pat, log, re.M), "the log has qmail-log(5)'s line " + pat, log)
        st = os.stat(s.maildir("alice")[0])
        check_eq((st.st_uid, oct(st.st_mode & 0o777)), (s.uid, oct(0o600)),
                 "the file belongs to the recipient's user, mode 0600")
        check_eq(s.maildir("alice", "tmp"), [], "nothing is left in Maildir/tmp")
        check_eq(s.stop(), 0, "SIGTERM: qmail-send exits 0")
        check("status: exiting" in s.logtext(), "and logs 'status: exiting'")
        check(not s.helpers(), "qmail-lspawn, qmail-rspawn and qmail-clean are gone too")
    finally:
        s.cleanup()


def proc_fds(pid):
    """{descriptor: what it points at} of a process, {} if it is gone."""
    out = {}
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                out[int(fd)] = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                pass
    except OSError:
        pass
    return out


def test_inherited_fds():
    """qmail-start closes every descriptor above 2 that it inherits: none
    reaches qmail-send, the spawners, qmail-clean or a .qmail program."""
    s = new_system()
    marker = os.path.join(s.top, "inherited")
    open(marker, "w").close()
    low = os.open(marker, os.O_RDONLY)  # the lowest free one, 3 as a rule
    high = 9
    try:
        os.fstat(high)
        high = os.open(marker, os.O_RDONLY)  # 9 is ours already: any other
    except OSError:
        os.dup2(low, high, inheritable=True)
    os.set_inheritable(low, True)
    try:
        s.dotqmail("alice", "", "|ls -l /proc/self/fd > fds.out\n./Maildir/\n")
        s.start(pass_fds=(low, high))
        pids = s.helpers()
        names = []
        for p in pids:
            try:
                with open("/proc/%d/cmdline" % p, "rb") as f:
                    args = f.read().split(b"\0")
                names.append(" ".join(a.decode() for a in [os.path.basename(args[0])] + args[1:2] if a))
            except OSError:
                names.append("?")
        check_eq(sorted(names), ["qmail-clean", "qmail-local -W", "qmail-lspawn ./Maildir/", "qmail-rspawn",
                                 "qmail-send"],
                 "qmail-send, its three helpers and the qmail-local started ahead are running", repr(pids))
        leaks = {p: {fd: t for fd, t in proc_fds(p).items() if t == marker} for p in pids}
        check_eq({p: l for p, l in leaks.items() if l}, {},
                 "no daemon has descriptor %d or %d, inherited by qmail-start" % (low, high))
        s.inject(msg("fds"), "bob@example.org", ["alice@test.example"])
        check(s.wait_messages("alice", 1), "a .qmail program line and a Maildir line are delivered", s.logtext())
        try:
            with open(os.path.join(s.homes["alice"], "fds.out")) as f:
                out = f.read()
        except OSError as e:
            out = str(e)
        check(" 0 -> " in out and marker not in out and not re.search(r" %d -> " % high, out),
              "the .qmail program has none of qmail-start's inherited descriptors", out)
    finally:
        os.close(low)
        os.close(high)
        s.stop()
        s.cleanup()


def test_routing():
    s = new_system(controls={
        "locals": "test.example\nlocalhost",
        "virtualdomains": "joe@single.example:vu\nvd.example:vd\n.wild.example:wd\nexcept.vd.example:\n:catchall",
        "percenthack": "test.example",
        "envnoathost": "test.example",
    })
    try:
        # Each virtual prepend is a wildcard assignment to alice's home,
        # whose .qmail-default files record where mail arrived.
        extra = "".join("+%s-:%s:%d:%d:%s:-::\n" % (p, "x", s.uid, s.gid, s.homes["alice"])
                        for p in ("vu", "vd", "wd", "catchall"))
        s.write_assign(extra)
        s.dotqmail("alice", "default", "./Maildir/\n")
        s.start()
        cases = [
            ("alice", "envnoathost: an address without @ is local", "alice"),
            ("alice%test.example@test.example", "percenthack: user%host@domain becomes user@host", "alice"),
            ("joe@single.example", "virtualdomains: an address entry", "vu-joe@single.example"),
            ("ann@vd.example", "virtualdomains: a domain entry", "vd-ann@vd.example"),
            ("ann@deep.wild.example", "virtualdomains: a .wildcard entry", "wd-ann@deep.wild.example"),
            ("ann@other.example", "virtualdomains: the catch-all entry", "catchall-ann@other.example"),
        ]
        for i, (rcpt, name, want) in enumerate(cases):
            s.inject(msg("route %d" % i), "bob@example.org", [rcpt])
        check(s.wait_messages("alice", len(cases)), "every routed message arrives", s.logtext())
        got = {}
        for m in s.messages("alice"):
            subj = re.search(rb"Subject: route (\d+)", m)
            dt = re.search(rb"^Delivered-To: (.*)$", m, re.M)
            if subj and dt:
                got[int(subj.group(1))] = dt.group(1).decode()
        for i, (rcpt, name, want) in enumerate(cases):
            check_eq(got.get(i), want if "@" in want else want + "@test.example", name)
        # the exception: an empty prepend makes it remote
        s.inject(msg("exception"), "bob@example.org", ["ann@except.vd.example"])
        check(wait_for(lambda: remote_deliveries(s), 30), "virtualdomains: an empty prepend is an exception (remote)")
        if remote_deliveries(s):
            args, body = remote_deliveries(s)[0]
            check_eq(args, ["except.vd.example", "bob@example.org", "ann@except.vd.example"],
                     "qmail-remote gets host, sender, recipient")
            check(body.endswith(b"Subject: exception\n\nbody\n"), "and exactly the message on stdin")
        # SIGHUP rereads locals: except.vd.example becomes local
        with open(os.path.join(ROOT, "control", "locals"), "a") as f:
            f.write("except.vd.example\n")
        s.write_assign(extra + "=ann:x:%d:%d:%s:::\n" % (s.uid, s.gid, s.homes["bob"]))
        s.signal(signal.SIGHUP)
        time.sleep(0.5)
        s.inject(msg("after hup"), "bob@example.org", ["ann@except.vd.example"])
        check(s.wait_messages("bob", 1), "after SIGHUP, a domain added to locals is delivered locally")
    finally:
        s.stop()
        s.cleanup()


def test_lookup():
    s = new_system()
    try:
        # uid 0 in users/assign: never delivered
        s.write_assign("=rooty:root:0:0:%s:::\n" % s.homes["alice"])
        s.start()
        s.inject(msg("to root"), "bob@example.org", ["rooty@test.example"])
        check(wait_for(lambda: log_lines(s, r"deferral: Not_allowed_to_perform_deliveries_as_root"), 30),
              "a user with uid 0 is never delivered to (deferral)", s.logtext())
        # A users/cdb that cannot be read (here: cut short, as a full disk
        # or a bad copy leaves it; as root, file modes would not stop us)
        # defers every local delivery; nothing is delivered by guesswork.
        cdb = os.path.join(ROOT, "users", "cdb")
        with open(cdb, "rb") as f:
            good = f.read()
        with open(cdb + ".tmp", "wb") as f:
            f.write(good[:100])
        os.rename(cdb + ".tmp", cdb)
        s.inject(msg("cdb broken"), "bob@example.org", ["alice@test.example"])
        check(wait_for(lambda: log_lines(s, r"deferral: Trouble_reading_users/cdb_in_qmail-lspawn"), 30),
              "an unreadable users/cdb: a deferral, not a guess", s.logtext())
        check_eq(s.messages("alice"), [], "an unreadable users/cdb: nothing delivered meanwhile")
        s.write_assign()
        s.signal(signal.SIGALRM)
        check(s.wait_messages("alice", 1), "once users/cdb is good again, the message is delivered", s.logtext())
        # qmail-getpw: a system account not in users/cdb
        if quail.is_root():
            home = os.path.join(s.top, "home-qtgetpw")
            subprocess.run(["userdel", "qtgetpw"], capture_output=True)
            subprocess.run(["useradd", "-M", "-d", home, "-s", "/bin/false", "qtgetpw"], check=True)
            try:
                pw = quail.pwd.getpwnam("qtgetpw")
                for sub in ("", "Maildir", "Maildir/new", "Maildir/cur", "Maildir/tmp"):
                    os.makedirs(os.path.join(home, sub), exist_ok=True)
                    os.chown(os.path.join(home, sub), pw.pw_uid, pw.pw_gid)
                s.inject(msg("getpw"), "bob@example.org", ["qtgetpw@test.example"])
                new = os.path.join(home, "Maildir", "new")
                check(wait_for(lambda: os.listdir(new), 30), "qmail-getpw: an account not in users/cdb gets its mail",
                      s.logtext())
                if os.listdir(new):
                    st = os.stat(os.path.join(new, os.listdir(new)[0]))
                    check_eq(st.st_uid, pw.pw_uid, "delivered as that account")
            finally:
                subprocess.run(["userdel", "qtgetpw"], capture_output=True)
        else:
            quail.skip("qmail-getpw", "needs root to create an account")
    finally:
        s.stop()
        s.cleanup()


FAKE_GETPW = """#!/bin/sh
# qmail-getpw stand-in: logs each question, hangs for 'hang', answers for
# 'viagetpw' with alice's account, asks the real one otherwise.
echo "$1" >> @LOG@
case "$1" in
  hang) exec sleep 120 ;;
  viagetpw) printf '%s\\0%s\\0%s\\0%s\\0\\0\\0' @USER@ @UID@ @GID@ @HOME@ ;;
  *) exec @REAL@ "$@" ;;
esac
"""


def test_getpw_in_child():
    """qmail-getpw runs in the delivery child: a name service that hangs
    holds up that delivery only, and timeoutlocal stops it; its answers
    are still cached for a minute."""
    s = new_system(controls={"timeoutlocal": "5"})
    getpw = os.path.join(BIN, "qmail-getpw")
    real = getpw + ".real"
    log = os.path.join(s.top, "getpw.log")
    os.rename(getpw, real)
    try:
        with open(getpw, "w") as f:
            f.write(FAKE_GETPW.replace("@LOG@", log).replace("@REAL@", real)
                    .replace("@USER@", quail.pwd.getpwuid(s.uid).pw_name).replace("@UID@", str(s.uid))
                    .replace("@GID@", str(s.gid)).replace("@HOME@", s.homes["alice"]))
        os.chmod(getpw, 0o755)
        open(log, "w").close()
        os.chmod(log, 0o666)
        os.chmod(s.top, 0o755)
        s.start()
        s.inject(msg("to a hung name service"), "bob@example.org", ["hang@test.example"])
        check(wait_for(lambda: "hang" in open(log).read(), 30), "getpw: the lookup of 'hang' is under way")
        s.inject(msg("meanwhile"), "bob@example.org", ["alice@test.example"])
        check(s.wait_messages("alice", 1, 30), "getpw: a hung lookup does not hold up other deliveries", s.logtext())
        check(wait_for(lambda: log_lines(s, r"deferral: Delivery_took_more_than_5_seconds"), 30),
              "getpw: timeoutlocal stops the hung lookup (a deferral)", s.logtext())
        check(wait_for(lambda: not [p for p in os.listdir("/proc") if p.isdigit() and _cmdline(p) == b"sleep\x00120\x00"], 10),
              "getpw: the hung qmail-getpw is killed with its delivery")
        for i in range(2):
            s.inject(msg("via getpw %d" % i), "bob@example.org", ["viagetpw@test.example"])
            check(s.wait_messages("alice", 2 + i, 30), "getpw: delivery %d through qmail-getpw's answer" % (i + 1))
        check_eq(open(log).read().split().count("viagetpw"), 1, "getpw: the answer is cached (asked once for two deliveries)")
    finally:
        s.stop()
        os.rename(real, getpw)
        s.cleanup()


def _cmdline(pid):
    try:
        with open("/proc/%s/cmdline" % pid, "rb") as f:
            return f.read()
    except OSError:
        return b""


def test_bounces():
    s = new_system(controls={"bouncefrom": "MAILER-DAEMON", "bouncehost": "bounce.test.example",
                             "doublebounceto": "postmaster", "doublebouncehost": "test.example"})
    try:
        s.dotqmail("bob", "", "|echo 'Sorry, no thanks. (#5.7.1)'; exit 100\n")
        s.start()
        s.inject(msg("will bounce"), "alice@test.example", ["bob@test.example"])
        check(s.wait_messages("alice", 1), "the sender gets a bounce", s.logtext())
        b = s.messages("alice")[0] if s.messages("alice") else b""
        check(re.search(rb"^Return-Path: <>$", b, re.M), "the bounce's envelope sender is empty")
        check(re.search(rb"^From: MAILER-DAEMON@bounce.test.example$", b, re.M), "From: bouncefrom@bouncehost")
        check(re.search(rb"^Subject: failure notice$", b, re.M), "Subject: failure notice")
        parsed = email.message_from_bytes(b.split(b"\n", 2)[2] if b else b"")
        check_eq(parsed.get_content_type(), "multipart/report", "it is a multipart/report")
        parts = parsed.get_payload() if parsed.is_multipart() else []
        types = [p.get_content_type() for p in parts]
        check_eq(types[:3], ["text/plain", "message/delivery-status", "message/rfc822"],
                 "text/plain, message/delivery-status, message/rfc822")
        if parts:
            text = parts[0].get_payload(decode=True) or b""
            check(text.startswith(b"Hi. This is the qmail-send program at bounce.test.example.\n"
                                  b"I'm afraid I wasn't able to deliver your message to the following addresses.\n"
                                  b"This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
                                  b"<bob@test.example>:\nSorry, no thanks. (#5.7.1)\n"),
                  "the first part is qmail's QSBMF text, word for word", repr(text[:300]))
            check(b"--- Below this line is a copy of the message.\n" in text, "with the QSBMF end marker")
            ds = str(parts[1])
            for field in ("Reporting-MTA: dns; test.example", "Final-Recipient: rfc822; bob@test.example",
                          "Action: failed", "Status: 5.7.1", "Diagnostic-Code: x-unix; Sorry, no thanks. (#5.7.1)",
                          "Arrival-Date: "):
                check(field in ds, "the delivery-status part says " + field, ds)
            check(b"Subject: will bounce" in b and b"Return-Path: <alice@test.example>" in b,
                  "the original message follows, after its Return-Path")
        check(log_lines(s, r"^bounce msg \d+ qp \d+$"), "the log has 'bounce msg N qp P'")

        # A bounce that bounces goes to doublebounceto@doublebouncehost.
        s.inject(msg("bounce of nothing"), "", ["bob@test.example"])
        check(s.wait_messages("postmaster", 1), "a failed bounce goes to postmaster (double bounce)", s.logtext())
        if s.messages("postmaster"):
            d = s.messages("postmaster")[0]
            check(re.search(rb"^Return-Path: <#@\[\]>$", d, re.M), "the double bounce's sender is #@[]")
            check(b"I tried to deliver a bounce message to this address, but the bounce bounced!" in d,
                  "with qmail's double-bounce wording")
            check(b"--- Below this line is the original bounce." in d, "and the double-bounce end marker")
        # A triple bounce is dropped.
        s.inject(msg("triple"), "#@[]", ["bob@test.example"])
        check(wait_for(lambda: log_lines(s, r"^triple bounce: discarding bounce/\d+$"), 30),
              "a triple bounce is discarded and logged")
        check(wait_for(s.queue_empty, 30), "the queue is empty after all that")
    finally:
        s.stop()
        s.cleanup()


def test_bounce_limits():
    s = new_system(controls={"doublebounceto": "", "bouncemaxbytes": "1000"})
    try:
        s.dotqmail("bob", "", "|exit 100\n")
        s.start()
        s.inject(msg("big", body=b"x" * 5000 + b"\n", extra=b"X-Mark: header line\n"), "alice@test.example",
                 ["bob@test.example"])
        check(s.wait_messages("alice", 1), "a big message bounces", s.logtext())
        if s.messages("alice"):
            b = s.messages("alice")[0]
            check(b"Content-Type: text/rfc822-headers" in b and b"X-Mark: header line" in b and b"x" * 100 not in b,
                  "over bouncemaxbytes only its header is returned")
        s.inject(msg("discard"), "", ["bob@test.example"])
        check(wait_for(lambda: log_lines(s, r"^double bounce: discarding bounce/\d+$"), 30),
              "an empty doublebounceto discards double bounces")
        check(wait_for(s.queue_empty, 30), "and the queue empties")
    finally:
        s.stop()
        s.cleanup()


def test_retry_and_lifetime():
    s = new_system(controls={"queuelifetime": "3"})
    try:
        flag = os.path.join(s.top, "ok-now")
        s.dotqmail("bob", "", "|test -f %s || { echo 'not yet (#4.2.2)'; exit 111; }\n./Maildir/\n" % flag)
        s.dotqmail("alice", "later", "|echo 'always later (#4.3.0)'; exit 111\n")
        s.start()
        s.inject(msg("retry me"), "alice@test.example", ["bob@test.example"])
        check(wait_for(lambda: log_lines(s, r"deferral: not_yet_\(#4\.2\.2\)/"), 30), "a temporary failure is a deferral")
        check_eq(s.maildir("bob"), [], "and nothing is delivered")
        open(flag, "w").close()
        os.chmod(flag, 0o644)
        s.signal(signal.SIGALRM)
        check(s.wait_messages("bob", 1), "SIGALRM retries it now, and it is delivered", s.logtext())
        # queuelifetime 3: after that, a temporary failure is final
        s.inject(msg("too old"), "bob@test.example", ["alice-later@test.example"])
        check(wait_for(lambda: log_lines(s, r"deferral: always_later"), 30), "first a deferral")
        time.sleep(4)
        s.signal(signal.SIGALRM)
        check(wait_for(lambda: log_lines(s, r"failure: always_later.*I'm_not_going_to_try_again"), 30),
              "past queuelifetime the next deferral becomes a failure", s.logtext())
        check(s.wait_messages("bob", 2), "and bounces")
    finally:
        s.stop()
        s.cleanup()


def test_concurrency():
    s = new_system(controls={"concurrencylocal": "2"})
    try:
        s.dotqmail("bob", "", "|sleep 0.3\n./Maildir/\n")
        s.start()
        for i in range(8):
            s.inject(msg("slow %d" % i), "alice@test.example", ["bob@test.example"])
        check(s.wait_messages("bob", 8), "8 slow deliveries finish", s.logtext())
        used = [int(m) for m in re.findall(r"status: local (\d+)/2 ", s.logtext() + " ")]
        check(used and max(used) == 2, "concurrencylocal 2: at most 2 at once, and 2 are used", str(used))
    finally:
        s.stop()
        s.cleanup()
    # Messages waiting for a slot while every slot is busy: qmail-send waits
    # for a result, it does not spin (it once polled with no timeout then).
    s = new_system(controls={"concurrencylocal": "2"})
    try:
        flag = os.path.join(s.top, "release")
        s.dotqmail("bob", "", "|while [ ! -f %s ]; do sleep 0.2; done\n./Maildir/\n" % flag)
        s.start()
        for i in range(6):
            s.inject(msg("waiting %d" % i), "alice@test.example", ["bob@test.example"])
        check(wait_for(lambda: len(re.findall(r"^new msg ", s.logtext(), re.M)) == 6
                       and re.search(r"status: local 2/2 ", s.logtext() + " "), 60),
              "busy slots: 2 deliveries run, 4 messages wait", s.logtext())

        def cpu_ticks():
            with open("/proc/%d/stat" % s.proc.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])  # utime + stime
        t0 = cpu_ticks()
        time.sleep(3)
        used = cpu_ticks() - t0
        hz = os.sysconf("SC_CLK_TCK")
        check(used < hz * 3 // 10, "busy slots: qmail-send uses no CPU while it waits (%d ticks in 3 s)" % used)
        open(flag, "w").close()
        check(s.wait_messages("bob", 6, 120), "busy slots: then all 6 are delivered")
    finally:
        s.stop()
        s.cleanup()
    s = new_system(controls={"concurrencylocal": "300"})
    try:
        # Every delivery waits for the flag, so all of them pile up at once,
        # however slow this machine is; the test releases them after the peak.
        flag = os.path.join(s.top, "release")
        s.dotqmail("bob", "", "|while [ ! -f %s ]; do sleep 0.5; done\n./Maildir/\n" % flag)
        envl = b"Falice@test.example\0Tbob@test.example\0\0"
        for i in range(300):
            quail.qmail_queue(msg("wide %d" % i), envl, env=s.plainenv())
        s.start()
        peak = wait_for(lambda: max([int(m) for m in re.findall(r"status: local (\d+)/300", s.logtext())] or [0]) >= 300, 120)
        check(peak, "concurrencylocal 300: all 300 deliveries run at once (poll, not select)")
        open(flag, "w").close()
        check(s.wait_messages("bob", 300, 120), "all 300 are delivered")
    finally:
        s.stop()
        s.cleanup()


DOMAIN_REMOTE = r"""#!/bin/sh
# fake qmail-remote that holds each delivery until release.<domain> exists,
# and notes how many deliveries to the same domain run as it starts
d=@DIR@
host=$(printf %s "$1" | tr A-Z a-z)
cat > /dev/null
touch "$d/run.$host.$$"
n=$(ls "$d" | grep -c "^run\.$host\.")
echo "$n" >> "$d/peak.$host"
while [ ! -f "$d/release.$host" ]; do sleep 0.05; done
rm -f "$d/run.$host.$$"
echo x >> "$d/done.$host"
printf 'r%s accepted\n\0Kdone\n\0' "$3"
"""


def test_domain_concurrency():
    # control/concurrencydomains: at most N remote deliveries at once per
    # recipient domain; the others wait without holding up other domains
    # (no head-of-line blocking); N = 0 holds a domain until HUP raises it.
    s = quail.System(controls={"concurrencyremote": "10",
                               "concurrencydomains": "# comment\nslow.test:2\nheld.test:0\n.sub.test:1\n"})
    top = s.top
    remote = os.path.join(top, "qmail-remote")
    with open(remote, "w") as f:
        f.write(DOMAIN_REMOTE.replace("@DIR@", top))
    os.chmod(remote, 0o755)
    s.env["QMAILREMOTE"] = remote

    def count(name):
        try:
            with open(os.path.join(top, name)) as f:
                return len(f.read().split())
        except FileNotFoundError:
            return 0

    def peaks(host):
        try:
            with open(os.path.join(top, "peak." + host)) as f:
                return [int(x) for x in f.read().split()]
        except FileNotFoundError:
            return []
    try:
        for h in ("fast.test", "a.sub.test", "b.sub.test"):
            open(os.path.join(top, "release." + h), "w").close()
        s.start()
        for i in range(6):
            s.inject(msg("slow %d" % i), "alice@test.example", ["u%d@slow.test" % i])
        s.inject(msg("slow multi"), "alice@test.example", ["m1@slow.test", "m2@SLOW.test", "m3@slow.test"])
        for i in range(2):
            s.inject(msg("held %d" % i), "alice@test.example", ["h%d@held.test" % i])
        for i in range(4):
            s.inject(msg("fast %d" % i), "alice@test.example", ["f%d@fast.test" % i])
        for i in range(3):
            s.inject(msg("sub %d" % i), "alice@test.example", ["s%d@a.sub.test" % i, "t%d@b.sub.test" % i])
        check(wait_for(lambda: count("done.fast.test") == 4, 60),
              "concurrencydomains: fast.test is delivered while slow.test is at its limit", s.logtext())
        check(wait_for(lambda: count("done.a.sub.test") == 3 and count("done.b.sub.test") == 3, 60),
              "concurrencydomains: .sub.test lines limit each subdomain on its own, and all are delivered")
        check(wait_for(lambda: len(peaks("slow.test")) == 2, 30), "slow.test: 2 deliveries started",
              str(peaks("slow.test")))
        time.sleep(1)
        check_eq(len(peaks("slow.test")), 2, "slow.test: no third delivery while 2 run")
        check_eq(peaks("held.test"), [], "held.test:0: nothing starts")
        check(max(peaks("a.sub.test") + [0]) == 1 and max(peaks("b.sub.test") + [0]) == 1,
              ".sub.test:1: one at a time per subdomain", str(peaks("a.sub.test") + peaks("b.sub.test")))
        open(os.path.join(top, "release.slow.test"), "w").close()
        check(wait_for(lambda: count("done.slow.test") == 9, 60), "slow.test: all 9 recipients delivered once released",
              s.logtext())
        check_eq(max(peaks("slow.test")), 2, "slow.test: never more than 2 at once", str(peaks("slow.test")))
        check_eq(len(peaks("slow.test")), 9, "slow.test: each recipient delivered once")
        check_eq(peaks("held.test"), [], "held.test:0: still held")
        # Raise the held domain's limit and tell qmail-send.
        with open(os.path.join(ROOT, "control", "concurrencydomains"), "w") as f:
            f.write("held.test:1\n")
        open(os.path.join(top, "release.held.test"), "w").close()
        s.signal(signal.SIGHUP)
        check(wait_for(lambda: count("done.held.test") == 2, 60), "after HUP, held.test's mail is delivered", s.logtext())
        check_eq(max(peaks("held.test") + [0]), 1, "held.test:1: one at a time")
        check(not re.search(r"delivery \d+: (deferral|failure)", s.logtext()), "no delivery deferred or failed")
    finally:
        s.stop()
        s.cleanup()


def test_verp_and_remote():
    s = new_system()
    try:
        s.start()
        s.inject(msg("verp"), "list-owner-@lists.example-@[]", ["alice@test.example", "x@remote.example", "hard@remote.example"])
        check(s.wait_messages("alice", 1), "the local recipient gets it")
        if s.messages("alice"):
            check(s.messages("alice")[0].startswith(b"Return-Path: <list-owner-alice=test.example@lists.example>\n"),
                  "VERP: -@[] senders become prefix-box=domain@host per recipient", repr(s.messages("alice")[0][:80]))
        check(wait_for(lambda: len(remote_deliveries(s)) >= 2, 30), "the remote recipients are tried")
        senders = {a[2]: a[1] for a, _ in remote_deliveries(s)}
        check_eq(senders.get("x@remote.example"), "list-owner-x=remote.example@lists.example", "VERP for remote recipients too")
        check(wait_for(lambda: log_lines(s, r"failure: Sorry,_I_do_not_like_recipient"), 30),
              "qmail-remote's h report is a failure")
        check(log_lines(s, r"success: x@remote.example_accepted/done/"), "its r report is a success")
        # When the message is done, the bounce goes to the sender without
        # its VERP tail, owner-@host, where ezmlm-return expects it.
        check(wait_for(lambda: any(a[2] == "list-owner-@lists.example" for a, _ in remote_deliveries(s)), 30),
              "the bounce of a VERP message goes to list-owner-@lists.example")

        s.inject(msg("stays"), "someone@example.org", ["soft@remote.example", "hard2@remote.example", "alice@test.example"])
        check(wait_for(lambda: log_lines(s, r"deferral: Sorry,_try_again_later"), 30), "its s report is a deferral")
        check(wait_for(lambda: len(log_lines(s, r"failure: Sorry,_I_do_not_like")) >= 2, 30), "and the other fails")
        check(s.wait_messages("alice", 2), "while the local copy is delivered")
        time.sleep(0.5)
        out = subprocess.run([os.path.join(BIN, "qmail-qread")], capture_output=True)
        text = out.stdout.decode()
        check_eq(out.returncode, 0, "qmail-qread runs", out.stderr.decode()[-500:])
        check(re.search(r"^\d+ \w{3} \d{4} \d\d:\d\d:\d\d GMT  #\d+  \d+  <someone@example.org>  bouncing$", text, re.M),
              "qmail-qread shows the message, its sender, and that it is bouncing", text)
        check(re.search(r"^\tremote\tsoft@remote.example$", text, re.M), "qmail-qread: a recipient still to do", text)
        check(re.search(r"^  done\tremote\thard2@remote.example$", text, re.M), "qmail-qread: a failed recipient is done", text)
        check(re.search(r"^  done\tlocal\talice@test.example$", text, re.M), "qmail-qread: a delivered recipient is done", text)
        q = subprocess.run([os.path.join(BIN, "qmail-qstat")], capture_output=True).stdout.decode()
        check_eq(q, "messages in queue: 1\nmessages in queue but not yet preprocessed: 0\n", "qmail-qstat counts the queue")
    finally:
        s.stop()
        s.cleanup()


def test_timeout():
    s = new_system(controls={"timeoutlocal": "2"})
    try:
        s.dotqmail("bob", "", "|sleep 1000\n")
        s.start()
        s.inject(msg("hangs"), "alice@test.example", ["bob@test.example"])
        check(wait_for(lambda: log_lines(s, r"deferral: Delivery_took_more_than_2_seconds"), 30),
              "a program that hangs is stopped after timeoutlocal and deferred", s.logtext())
        out = subprocess.run(["pgrep", "-f", "sleep 1000"], capture_output=True).stdout
        check_eq(out, b"", "and its whole process group is gone")
    finally:
        s.stop()
        s.cleanup()


def test_cleanup_at_start():
    s = new_system()
    try:
        old = time.time() - 200000
        # a leftover named qmail-queue file and a message file without envelope
        pidf = os.path.join(ROOT, "queue", "pid", "123.456.1")
        open(pidf, "w").close()
        os.utime(pidf, (old, old))
        messf = os.path.join(ROOT, "queue", "mess", "0", "4600")
        open(messf, "w").write("orphan")
        os.utime(messf, (old, old))
        young = os.path.join(ROOT, "queue", "mess", "1", "4601")
        open(young, "w").write("young orphan")
        s.start()
        check(wait_for(lambda: not os.path.exists(messf), 30), "a message file without envelope, 36 hours old, is removed")
        check(os.path.exists(young), "a younger one is left alone (qmail-queue may be writing it)")
        check(wait_for(lambda: not os.path.exists(pidf), 30), "a stale pid/ file is removed")
        os.unlink(young)
    finally:
        s.stop()
        s.cleanup()


def pool_files():
    d = os.path.join(ROOT, "queue", "pool")
    return {os.stat(os.path.join(d, f)).st_ino: f for f in os.listdir(d)}


def test_crash_before_queue_sync():
    """qmail-queue names a file in todo/ before its fsync (INTERNALS.md).
    A power cut in between may leave the name without the bytes: such a
    file was never acknowledged, and its trailer's hash tells the next
    qmail-send, which discards it rather than deliver it. Two such files
    are made here by hand, as a cut could leave them: one with a byte of
    its message changed; one holding the start of another message over the
    rest and the trailer of its own (a reused pool file); one cut in the
    middle; and one cut to nothing that the journal knows (qmail-send had
    read it before the cut). A whole file beside them is delivered, and so
    is a message queued afterwards."""
    s = new_system()
    try:
        envl = b"Fbob@example.org\0Talice@test.example\0\0"
        for subject in ("whole", "changed", "mixed", "cut", "journaled"):
            quail.qmail_queue(msg(subject, body=b"the %s body\n" % subject.encode()), envl, env=s.plainenv())
        files = {}
        for p in quail.queue_files(ROOT, "todo"):
            data = open(p, "rb").read()
            files[re.search(rb"Subject: (\w+)", data).group(1).decode()] = (p, data)
        check_eq(sorted(files), ["changed", "cut", "journaled", "mixed", "whole"], "crash: five files in todo/")
        if len(files) != 5:
            return
        p, data = files["changed"]
        at = data.index(b"the changed body")
        with open(p, "r+b") as f:
            f.seek(at)
            f.write(b"T")
        p, data = files["mixed"]
        with open(p, "r+b") as f:
            f.write(b"Received: (qmail 1 invoked by uid 0); 22 Nov 2026 02:05:14 -0000\nSubject: other\n")
        p, data = files["cut"]
        os.truncate(p, len(data) // 2)
        p, data = files["journaled"]
        os.truncate(p, 0)
        jid = int(os.path.basename(p))
        with open(os.path.join(ROOT, "queue", "state", "journal"), "ab") as f:
            f.write(journal_record(b"N%d\x001795300000\x00%d\x000\x001\x00bob@example.org\x00Lalice@test.example\x00"
                                   % (jid, len(data) - 200)))
        for name in ("changed", "mixed"):
            try:
                quail.parse_queue_file(open(files[name][0], "rb").read())
                check(False, "crash: the %s file fails its hash" % name)
            except ValueError as e:
                check_eq(str(e), "the hash does not match", "crash: the %s file is a queue file but for its hash" % name)
        s.start()
        check(s.wait_messages("alice", 1), "crash: the whole message is delivered")
        check(wait_for(lambda: quail.queue_files(ROOT, "todo") == [], 30), "crash: todo/ is emptied")
        cut = log_lines(s, r"was cut short by a crash before qmail-queue had it on disk; discarding it$")
        check_eq(sorted(os.path.basename(l.split()[1]) for l in cut),
                 sorted(os.path.basename(files[n][0]) for n in ("changed", "mixed", "cut", "journaled")),
                 "crash: the four files are discarded, and logged")
        check_eq(log_lines(s, r"not a complete queue file|vanished"), [], "crash: no other warning")
        s.inject(msg("later"), "bob@example.org", ["alice@test.example"])
        check(s.wait_messages("alice", 2), "crash: a message queued afterwards is delivered")
        check(wait_for(s.queue_empty, 30), "crash: the queue ends empty")
        got = b"".join(s.messages("alice"))
        check(b"Subject: whole" in got and b"Subject: later" in got and b"changed" not in got
              and b"mixed" not in got and b"other" not in got and b"Subject: cut" not in got
              and b"journaled" not in got, "crash: nothing of the four cut files is delivered")
        q = subprocess.run([os.path.join(BIN, "qmail-qread")], capture_output=True).stdout.decode()
        check_eq(q, "", "crash: the journal no longer holds the one it knew")
    finally:
        s.stop() if s.proc else None
        s.cleanup()


def test_commit_syncs_unmarked():
    """qmail-clean commits a file that qmail-queue has not marked as synced
    (mode 0100: its qmail-queue is still at its fsync, or died) only after
    an fsync of its own; a marked one without (lib/qfile.h). Either way the
    commit links the file into mess/N, syncs mess/N, and only then unlinks
    the todo/ name: a power cut never finds the message in neither."""
    import tempfile
    s = new_system()
    try:
        for marked in (True, False):
            what = "marked" if marked else "unmarked"
            quail.clear_queue()
            s.inject(msg("commit"), "bob@example.org", ["alice@test.example"])
            files = quail.queue_files(ROOT, "todo")
            if not check_eq(len(files), 1, "commit, %s: a file in todo/" % what):
                continue
            path = files[0]
            check(os.stat(path).st_mode & 0o100, "commit, %s: qmail-queue marked it" % what)
            if not marked:
                os.chmod(path, 0o644)
            msgid = int(os.path.basename(path))
            msglen = len(quail.parse_queue_file(open(path, "rb").read())[0])
            log = tempfile.NamedTemporaryFile(delete=False)
            log.close()
            try:
                p = subprocess.run(["strace", "-f", "-qq", "-o", log.name, "-e",
                                    "trace=openat,fsync,truncate,rename,link,linkat,unlink,unlinkat",
                                    os.path.join(BIN, "qmail-clean")], input=b"C%d\0%d\0" % (msgid, msglen),
                                   capture_output=True, env=s.plainenv(), timeout=60)
                calls = [re.sub(r"^\d+ +", "", l) for l in open(log.name).read().splitlines()]
            finally:
                os.unlink(log.name)
            check_eq(p.stdout, b"++", "commit, %s: qmail-clean says hello and commits" % what)
            mess = quail.queue_files(ROOT, "mess")
            check(len(mess) == 1 and os.path.getsize(mess[0]) == msglen, "commit, %s: in mess/, cut to the message" % what)
            rel = os.path.relpath(path, os.path.join(ROOT, "queue"))
            opened = [i for i, c in enumerate(calls) if c.startswith("openat(") and '"%s"' % rel in c and re.search(r"= \d+$", c)]
            fds = [calls[i].rsplit("= ", 1)[1] for i in opened]
            syncs = [i for i, c in enumerate(calls) if any(c.startswith("fsync(%s)" % fd) for fd in fds)]
            moved = [i for i, c in enumerate(calls) if c.startswith(("rename(", "truncate(", "link(")) and '"%s"' % rel in c]
            link = [i for i, c in enumerate(calls) if c.startswith(("link(", "linkat(")) and '"%s"' % rel in c]
            mdir = "mess/%d" % (msgid % quail.conf_split())
            dopen = [i for i, c in enumerate(calls) if c.startswith('openat(AT_FDCWD, "%s", O_RDONLY|O_DIRECTORY' % mdir)]
            dsync = [i for i, c in enumerate(calls) if dopen and c.startswith("fsync(%s)" % calls[dopen[0]].rsplit("= ", 1)[1])
                     and i > dopen[0]]
            gone = [i for i, c in enumerate(calls) if c.startswith(("unlink(", "unlinkat(")) and '"%s"' % rel in c]
            check(link and dsync and gone and link[0] < dsync[0] < gone[0] and not [c for c in calls if c.startswith("rename(")],
                  "commit, %s: linked into mess/, %s synced, then the todo/ name unlinked" % (what, mdir),
                  "\n".join(calls[-20:]))
            check_eq(quail.queue_files(ROOT, "todo"), [], "commit, %s: nothing left in todo/" % what)
            if marked:
                check_eq(syncs, [], "commit, marked: no fsync of the file", "\n".join(calls[-20:]))
            else:
                check(syncs and moved and syncs[0] < moved[0], "commit, unmarked: fsynced before it is cut and moved",
                      "\n".join(calls[-20:]))
            quail.clear_whole_queue()
    finally:
        s.stop() if s.proc else None
        s.cleanup()


def test_commit_waits_for_mark():
    """qmail-send sends a new message's commit once qmail-queue has marked
    its file synced, so that qmail-clean need not sync it again; a file
    never marked (its qmail-queue died before its fsync returned) is
    committed all the same, a second or so later, and qmail-clean syncs it
    then. A remote delivery waits for the commit: it shows that both
    happen."""
    s = new_system()
    try:
        s.inject(msg("never marked"), "alice@test.example", ["far@remote.example"])
        todo = quail.queue_files(ROOT, "todo")
        if not check_eq(len(todo), 1, "mark: a message in todo/"):
            return
        os.chmod(todo[0], 0o644)  # as a qmail-queue killed in its fsync leaves it
        s.start()
        check(wait_for(lambda: len(remote_deliveries(s)) == 1, 30), "mark: an unmarked file is committed and delivered")
        s.inject(msg("marked"), "alice@test.example", ["near@remote.example"])
        check(wait_for(lambda: len(remote_deliveries(s)) == 2, 30), "mark: a marked one too")
        check(wait_for(s.queue_empty, 30), "mark: the queue ends empty")
    finally:
        s.stop() if s.proc else None
        s.cleanup()


def test_commit_second_name():
    """A commit links the file into mess/ and drops its todo/ name only
    once mess/N is synced (qmail-clean); a kill or a crash in between
    leaves both names. The next qmail-send takes the message as committed:
    the second name goes (D), the message stays, and is delivered once."""
    s = new_system()
    try:
        flag = os.path.join(s.top, "ok-now")
        s.dotqmail("bob", "", "|test -f %s || { echo 'not yet (#4.2.2)'; exit 111; }\n./Maildir/\n" % flag)
        s.start()
        s.inject(msg("two names"), "alice@test.example", ["bob@test.example"])
        check(wait_for(lambda: log_lines(s, r"deferral: not_yet_"), 30), "second name: deferred")
        check(wait_for(lambda: not quail.queue_files(ROOT, "todo") and len(quail.queue_files(ROOT, "mess")) == 1, 30),
              "second name: committed, the todo/ name gone")
        mess = quail.queue_files(ROOT, "mess")
        s.stop()
        if len(mess) != 1:
            return
        todo = mess[0].replace("/queue/mess/", "/queue/todo/")
        os.link(mess[0], todo)  # what a kill between qmail-clean's link and unlink leaves
        s.start()
        check(wait_for(lambda: not os.path.exists(todo), 30), "second name: dropped at start")
        check(os.path.exists(mess[0]) and os.stat(mess[0]).st_nlink == 1, "second name: the message stays in mess/")
        check_eq(log_lines(s, r"not a complete queue file|vanished|cut short"), [], "second name: no warning")
        open(flag, "w").close()
        os.chmod(flag, 0o644)
        s.signal(signal.SIGALRM)
        check(s.wait_messages("bob", 1), "second name: delivered")
        check(wait_for(s.queue_empty, 30), "second name: finished")
        time.sleep(0.5)
        check_eq(len(s.maildir("bob")), 1, "second name: delivered once")
    finally:
        s.stop() if s.proc else None
        s.cleanup()


def queued_with_empty_pool(s, subject, name):
    """Empties queue/pool (spare files only: nothing runs), queues one
    message with qmail-send down, and returns its todo/ path (or None)."""
    pooldir = os.path.join(ROOT, "queue", "pool")
    for f in os.listdir(pooldir):
        os.unlink(os.path.join(pooldir, f))
    s.inject(msg(subject), "alice@test.example", ["bob@test.example"])
    todo = quail.queue_files(ROOT, "todo")
    return todo[0] if check_eq(len(todo), 1, name + ": a message in todo/") else None


def test_removed_before_settled():
    """A message removed (R) before qmail-clean settled its commit: its
    todo/ name goes with the removal, and the file is pooled with one
    link, so that the next message can reuse it at once (and the late
    settle cannot unlink that new message's todo/ name, which has the same
    number)."""
    s = new_system()
    try:
        pooldir = os.path.join(ROOT, "queue", "pool")
        path = queued_with_empty_pool(s, "quick", "removed early")
        if not path:
            return
        msgid = int(os.path.basename(path))
        msglen = len(quail.parse_queue_file(open(path, "rb").read())[0])
        # commit and removal in one go: no settle comes between them
        p = subprocess.run([os.path.join(BIN, "qmail-clean")], input=b"C%d\0%d\0R%d\0" % (msgid, msglen, msgid),
                           capture_output=True, env=s.plainenv(), timeout=60)
        check_eq(p.stdout, b"+++", "removed early: committed and removed")
        check_eq(quail.queue_files(ROOT, "todo") + quail.queue_files(ROOT, "mess"), [], "removed early: no name left")
        pooled = [os.stat(os.path.join(pooldir, f)) for f in os.listdir(pooldir)]
        check(len(pooled) == 1 and pooled[0].st_ino == msgid and pooled[0].st_nlink == 1,
              "removed early: the file is pooled, with one link", str(pooled))
        s.inject(msg("reuses it"), "alice@test.example", ["bob@test.example"])
        todo = quail.queue_files(ROOT, "todo")
        check(len(todo) == 1 and os.stat(todo[0]).st_ino == msgid, "removed early: the next message reuses the file")
        s.start()
        check(s.wait_messages("bob", 1), "removed early: and is delivered")
        check(b"Subject: reuses it" in s.messages("bob")[0], "removed early: the new message, whole")
    finally:
        s.stop() if s.proc else None
        s.cleanup()


def test_pool_alias():
    """After a power cut, a pool name may be a second name of a message in
    todo/ or mess/ (a rename into or out of the pool reached the disk for
    one directory only). qmail-clean unlinks such a name when it starts,
    leaves the message, and leaves other pool files alone."""
    s = new_system()
    try:
        pooldir = os.path.join(ROOT, "queue", "pool")
        path = queued_with_empty_pool(s, "aliased", "pool alias")
        if not path:
            return
        todo = [path]
        os.link(path, os.path.join(pooldir, "7"))
        with open(os.path.join(pooldir, "8"), "wb") as f:
            f.write(b"spare")
        p = subprocess.run([os.path.join(BIN, "qmail-clean")], input=b"", capture_output=True, env=s.plainenv(), timeout=60)
        check_eq(p.stdout, b"+", "pool alias: qmail-clean starts and ends")
        check_eq(sorted(os.listdir(pooldir)), ["8"], "pool alias: the alias is unlinked, the spare file stays")
        check(os.path.exists(todo[0]) and os.stat(todo[0]).st_nlink == 1, "pool alias: the message stays, with one name")
        s.start()
        check(s.wait_messages("bob", 1), "pool alias: the message is delivered")
    finally:
        s.stop() if s.proc else None
        s.cleanup()


def test_pool():
    """Finished queue files go to queue/pool/ and qmail-queue reuses them
    (lib/qpool.h): no inode is created or freed per message. A reused file
    holds exactly the new message; a file someone still reads is deleted,
    not reused; the pool stays bounded."""
    s = new_system()
    try:
        pooldir = os.path.join(ROOT, "queue", "pool")
        for f in os.listdir(pooldir):  # spare files only: nothing runs now
            os.unlink(os.path.join(pooldir, f))
        big = msg("big", body=b"x" * 60000 + b"\n")
        s.inject(big, "alice@test.example", ["bob@test.example"])
        todo = quail.queue_files(ROOT, "todo")
        big_ino = os.stat(todo[0]).st_ino if todo else None
        s.start()
        check(s.wait_messages("bob", 1), "pool: first message delivered")
        check(wait_for(s.queue_empty, 30), "pool: queue empty after delivery")
        pooled = pool_files()
        check(list(pooled) == [big_ino], "pool: the finished file, and only it, is in the pool", str(pooled))
        # Reuse: the next message takes a pooled file (its number is a pooled
        # inode) and is exactly itself, nothing of the bigger one after it.
        s.stop()
        s.proc = None
        small = msg("small")
        rc = s.inject(small, "alice@test.example", ["bob@test.example"])
        todo = quail.queue_files(ROOT, "todo")
        check(rc == 0 and len(todo) == 1, "pool: a message queued while qmail-send is down", str(todo))
        ino = os.stat(todo[0]).st_ino if todo else None
        check(ino in pooled and int(os.path.basename(todo[0])) == ino,
              "pool: qmail-queue reused a pooled file, named by its inode", "%r %r" % (ino, pooled))
        data = open(todo[0], "rb").read() if todo else b""
        m, records, _ = quail.parse_queue_file(data)
        check(m.endswith(small) and b"xxxx" not in data and records[2:] == [b"Falice@test.example", b"Tbob@test.example"],
              "pool: the reused file holds the new message and envelope only", repr(data[-200:]))
        check(quail.queue_files(ROOT, "pid") == [], "pool: nothing left in pid/")
        s.start()
        check(s.wait_messages("bob", 2), "pool: the message in the reused file is delivered")
        got = s.messages("bob")
        check(any(b"Subject: small" in x and b"xxxx" not in x for x in got), "pool: delivered exactly")
        # A reader holding the file: it is deleted, not pooled.
        check(wait_for(s.queue_empty, 30), "pool: queue empty again")
        flag = os.path.join(s.top, "release")
        s.dotqmail("bob", "", "|while [ ! -f %s ]; do sleep 0.1; done\n./Maildir/\n" % flag)
        s.inject(msg("held"), "alice@test.example", ["bob@test.example"])
        check(wait_for(lambda: quail.queue_files(ROOT, "mess"), 30), "pool: a message is in mess/")
        mess = quail.queue_files(ROOT, "mess")
        held_ino = os.stat(mess[0]).st_ino
        import fcntl
        reader = open(mess[0], "rb")
        fcntl.flock(reader.fileno(), fcntl.LOCK_SH)
        open(flag, "w").close()
        check(s.wait_messages("bob", 3), "pool: held message delivered")
        check(wait_for(s.queue_empty, 30), "pool: and removed")
        check(held_ino not in pool_files(), "pool: a file someone reads is not pooled")
        check_eq(os.fstat(reader.fileno()).st_nlink, 0, "pool: a file someone reads is deleted")
        reader.seek(0)
        check(b"Subject: held" in reader.read(), "pool: the reader still reads its own message")
        reader.close()
        # Bounded: a burst larger than the pool leaves at most QPOOL_SLOTS files.
        s.dotqmail("bob", "", "./Maildir/\n")
        envl = b"Falice@test.example\0Tbob@test.example\0\0"
        # 8 injectors at once, while deliveries run: qmail-queues race for
        # the same pool files, and a delivery must never find its message
        # locked by one that lost such a race (qpool_take, qpool_hold).
        import threading
        rcs = []

        def injector(k):
            for i in range(75):
                rcs.append(quail.qmail_queue(msg("burst %d-%d" % (k, i)), envl, env=s.plainenv()))
        threads = [threading.Thread(target=injector, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check_eq(sorted(set(rcs)), [0], "pool: 600 messages queued by 8 injectors at once")
        check(s.wait_messages("bob", 603, 180), "pool: burst of 600 delivered")
        check(wait_for(s.queue_empty, 60), "pool: burst removed")
        # Past the 512 slots, files go in under overflow names, deleted
        # once qmail-clean has had nothing to do for a second.
        check(wait_for(lambda: len(pool_files()) <= 512
                       and not [f for f in os.listdir(os.path.join(ROOT, "queue", "pool")) if f.startswith("x")], 60),
              "pool: overflow files deleted when idle: at most 512 files kept", str(len(pool_files())))
        # qmail-queue's lock on a reused file becomes shared once it is in
        # todo/: a delivery starting at once must not find it locked (and
        # be deferred).
        check_eq(log_lines(s, r"unable_to_lock_message"), [], "pool: no delivery found its message locked")
        check(len(set(int(l.split()[2]) for l in log_lines(s, r"^new msg ")) & set(pooled)) >= 1,
              "pool: message numbers were reused")
    finally:
        s.stop()
        s.cleanup()



def test_removal_cut_off():
    """A kill between a finished message's E record and its R to
    qmail-clean leaves its file in mess/ with no envelope: at the next
    start, the journal's E says it is finished, and it is removed at once
    (not after 36 hours, the rule for files the journal never knew)."""
    s = new_system()
    try:
        s.start()
        s.inject(msg("ended"), "alice@test.example", ["bob@test.example"])
        check(s.wait_messages("bob", 1), "cut-off removal: delivered")
        check(wait_for(s.queue_empty, 30), "cut-off removal: removed")
        ids = [int(l.split()[2]) for l in log_lines(s, r"^new msg ")]
        s.stop()
        s.proc = None
        # what a kill at the wrong moment leaves: the file back in mess/
        split = quail.conf_split()
        left = os.path.join(ROOT, "queue", "mess", str(ids[0] % split), str(ids[0]))
        with open(left, "w") as f:
            f.write("Subject: ended\n\nbody\n")
        young = os.path.join(ROOT, "queue", "mess", str((ids[0] + 1) % split), str(ids[0] + 1))
        with open(young, "w") as f:
            f.write("never journaled\n")
        s.start()
        check(wait_for(lambda: not os.path.exists(left), 30), "cut-off removal: the ended message's file is removed at start")
        check(os.path.exists(young), "cut-off removal: a young file the journal never knew is left alone")
        os.unlink(young)
    finally:
        s.stop()
        s.cleanup()


def test_burst():
    """Upgrade 1: new messages are read in batches between deliveries, so
    deliveries start long before a burst is preprocessed."""
    s = new_system()
    try:
        s.stop() if s.proc else None
        n = 3000
        envl = b"Fbob@example.org\0Talice@test.example\0\0"
        # fill todo/ while qmail-send is down, then start it
        import concurrent.futures
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            list(ex.map(lambda i: quail.qmail_queue(msg("burst %d" % i), envl, env=s.plainenv()), range(n)))
        s.start()
        check(s.wait_messages("alice", n, 300), "all %d messages of the burst are delivered" % n)
        lines = s.logtext().splitlines()
        first_delivery = next((i for i, l in enumerate(lines) if l.startswith("starting delivery")), None)
        last_new = max((i for i, l in enumerate(lines) if l.startswith("new msg")), default=None)
        check(first_delivery is not None and last_new is not None and first_delivery < last_new,
              "deliveries start before the last new message is read")
        check(wait_for(s.queue_empty, 60), "the queue ends empty")
    finally:
        s.stop()
        s.cleanup()


SEEKER = r"""#!/usr/bin/python3
# A .qmail program: reads its standard input twice (from where it starts,
# then again from 0) and says what it saw.
import os, sys


def readall():
    out = b""
    while True:
        b = os.read(0, 65536)
        if not b:
            return out
        out += b


first = readall()
os.lseek(0, 0, os.SEEK_SET)
again = readall()
with open(sys.argv[1], "wb") as f:
    f.write(b"%d %d %d\n" % (len(first), first == again, os.fstat(0).st_size) + first)
"""


def read_nuls(fd, n, timeout=60):
    """What fd gives until it has given n NULs (or ends, or is silent for
    timeout seconds)."""
    import select
    out = b""
    while out.count(b"\0") < n:
        if not select.select([fd], [], [], timeout)[0]:
            break
        b = os.read(fd, 4096)
        if not b:
            break
        out += b
    return out


def spawner_command(p, delnum, msgid, rcpt, msglen):
    """One command to a spawner on p; its result (K, Z or D and the text)."""
    p.stdin.write(b"%d\0%d\0%d\0bob@example.org\0%s\0%s\0" % (delnum, msgid, 0, rcpt.encode(), msglen.encode()))
    p.stdin.flush()
    out = read_nuls(p.stdout.fileno(), 2)
    p.stdin.write(b"a%d\0" % delnum)
    p.stdin.flush()
    return out.split(b"\0")[1] if out.count(b"\0") >= 2 else out


def test_early_delivery():
    """A new message's local deliveries start before its commit: the
    spawner copies the message's first msglen bytes out of todo/ (lib/
    spawner.h), so the delivery sees exactly the message, seekable, of
    the right size, and never the envelope after it."""
    s = new_system()
    try:
        seeker = os.path.join(s.top, "seeker")
        with open(seeker, "w") as f:
            f.write(SEEKER)
        os.chmod(seeker, 0o755)
        out = os.path.join(s.top, "seen")
        open(out, "w").close()
        os.chown(out, s.uid, s.gid)
        s.dotqmail("alice", "", "./Maildir/\n|%s %s\n" % (seeker, out))
        s.start()
        check_eq(s.inject(msg("early"), "bob@example.org", ["alice@test.example"]), 0, "a small message is queued")
        check(s.wait_messages("alice", 1), "and delivered")
        m = s.messages("alice")[0] if s.messages("alice") else b""
        body = m.split(b"Delivered-To: alice@test.example\n", 1)[-1]
        check(body.startswith(b"Received: (qmail ") and body.endswith(msg("early")),
              "the Maildir copy is the message, nothing after it", repr(m[-80:]))
        check(wait_for(lambda: os.path.getsize(out) > 0, 30), "the program ran")
        with open(out, "rb") as f:
            head, seen = f.read().split(b"\n", 1)
        n, same, size = (int(x) for x in head.split())
        check_eq((n, same, size), (len(seen), 1, len(seen)),
                 "the program reads it from the start, again after seeking to 0, and its size is the message's")
        check(seen.endswith(msg("early")) and b"Tbob" not in seen, "its input is the message, without the envelope")

        big = msg("big", (b"y" * 69 + b"\n") * 4000)
        check_eq(s.inject(big, "bob@example.org", ["bob@test.example"]), 0, "a message over 256 KiB is queued")
        check(s.wait_messages("bob", 1), "and delivered (after its commit, from mess/)")
        mb = s.messages("bob")[0] if s.messages("bob") else b""
        check(mb.endswith(big), "exactly", "%d bytes" % len(mb))
        s.stop()

        # qmail-lspawn on its own, given commands as qmail-send gives them.
        rc = quail.qmail_queue(msg("by hand"), b"Fbob@example.org\0Talice@test.example\0\0", env=s.plainenv())
        files = quail.queue_files(ROOT, "todo")
        check_eq((rc, len(files)), (0, 1), "a message waits in todo/, envelope and all")
        if len(files) != 1:
            return
        with open(files[0], "rb") as f:
            data = f.read()
        message = quail.parse_queue_file(data)[0]
        msgid = int(os.path.basename(files[0]))
        env = s.plainenv()
        env.update(s.env)
        p = subprocess.Popen([os.path.join(BIN, "qmail-lspawn"), "./Maildir/"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, env=env, cwd="/")
        try:
            hello = read_nuls(p.stdout.fileno(), 1)
            check(hello[:-1].isdigit(), "qmail-lspawn says its ceiling", repr(hello))
            before = set(s.maildir("alice"))
            r = spawner_command(p, 0, msgid, "alice@test.example", str(len(message)))
            check(r.startswith(b"K"), "a delivery from todo/ with the message's length succeeds", repr(r))
            new = sorted(set(s.maildir("alice")) - before)
            got = open(new[0], "rb").read() if len(new) == 1 else b""
            check(got.endswith(message) and not got.endswith(data),
                  "it delivers the message's bytes and not the envelope after them", repr(got[-60:]))
            r = spawner_command(p, 1, msgid, "alice@test.example", str(len(data) + 1))
            check(r.startswith(b"Z") and b"not what qmail-send says" in r,
                  "a length past the file's end: temporary failure, nothing delivered", repr(r))
            r = spawner_command(p, 2, msgid, "alice@test.example", str(262145))
            check(r.startswith(b"Z") and b"too big" in r, "a length over 256 KiB is refused", repr(r))
            r = spawner_command(p, 3, msgid, "alice@test.example", "")
            check(r.startswith(b"Z") and b"unable to open" in r,
                  "without a length, only mess/ counts: not committed, not delivered", repr(r))
            check_eq(len(s.maildir("alice")), len(before) + 1, "one delivery in all")
            check_eq(open(files[0], "rb").read(), data, "the queue file is untouched")
        finally:
            p.stdin.close()
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    finally:
        s.stop() if s.proc else None
        s.cleanup()


def ready_locals(s):
    """Pids of the qmail-local -W processes qmail-lspawn keeps waiting."""
    out = []
    for p in s.helpers():
        try:
            with open("/proc/%d/cmdline" % p, "rb") as f:
                if f.read().split(b"\0")[1:2] == [b"-W"]:
                    out.append(p)
        except OSError:
            continue
    return out


def journal_record(payload):
    """One record of qmail-send's journal (INTERNALS.md): length, payload,
    and the payload's 32-bit FNV-1a hash in hex."""
    h = 2166136261
    for c in payload:
        h = ((h ^ c) * 16777619) & 0xffffffff
    return b"%d:%s,%08x\n" % (len(payload), payload, h)


def test_qread_journal():
    """qmail-qread on a journal written by hand: a number reused by a newer
    message shows the newer one only; an ended message is not shown; D and
    F mark recipients done, F makes a message bouncing until its B. And a
    journal of 20,000 messages whose results come after all of them is read
    in one pass (each message is found by its number, not by a scan)."""
    s = new_system()
    try:
        j = os.path.join(ROOT, "queue", "state", "journal")
        recs = [b"N7\x001795300000\x00100\x000\x001\x00old@example.org\x00Lgone@test.example\x00",
                b"E7\x00",
                b"N7\x001795300001\x00200\x000\x002\x00new@example.org\x00Lkept@test.example\x00Rfar@remote.example\x00",
                b"N8\x001795300002\x00300\x000\x003\x00ended@example.org\x00Lx@test.example\x00",
                b"N9\x001795300003\x00400\x000\x004\x00failing@example.org\x00Ly@test.example\x00Lz@test.example\x00",
                b"E8\x00", b"D7\x000\x00", b"F9\x001\x00no such user\x00"]
        n = 20000
        big = [b"N%d\x00%d\x002000\x000\x00%d\x00bulk@example.org\x00Lalice@test.example\x00" % (100 + i, 1795300100 + i, i)
               for i in range(n)]
        big += [b"D%d\x000\x00" % (100 + i) for i in range(0, n, 2)]
        with open(j, "wb") as f:
            f.write(b"".join(journal_record(r) for r in recs + big))
        out = subprocess.run([os.path.join(BIN, "qmail-qread")], capture_output=True, timeout=120)
        text = out.stdout.decode()
        check_eq(out.returncode, 0, "qread: runs", out.stderr.decode()[-300:])
        check(re.search(r"GMT  #7  200  <new@example.org> \n  done\tlocal\tkept@test.example\n\tremote\tfar@remote.example\n",
                        text) is not None, "qread: the newer message of a reused number, a recipient done", text[:600])
        check("old@example.org" not in text and "gone@" not in text, "qread: the older one is not shown")
        check("ended@example.org" not in text, "qread: an ended message is not shown")
        check(re.search(r"GMT  #9  400  <failing@example.org>  bouncing\n\tlocal\ty@test.example\n  done\tlocal\tz@test.example\n",
                        text) is not None, "qread: a failed recipient is done, and the message bouncing", text[:600])
        bulk = re.findall(r"GMT  #(\d+)  2000  <bulk@example.org> \n(  done)?\tlocal", text)
        check_eq(len(bulk), n, "qread: all %d messages of the big journal" % n)
        check_eq(sum(1 for _, d in bulk if d), n // 2, "qread: half of them done, as their D records say")
    finally:
        s.cleanup()


def test_early_delivery_without_memfd():
    """Where memfd_create is refused (an old kernel, a sandbox), a new
    message's early delivery copies it into an unnamed file in queue/pid
    instead: delivered at once and whole, not deferred."""
    import tempfile
    s = new_system()
    log = tempfile.NamedTemporaryFile(delete=False)
    log.close()
    try:
        s.start(wrap=["strace", "-f", "-qq", "-o", log.name, "-e", "trace=memfd_create,openat",
                      "-e", "inject=memfd_create:error=ENOSYS"])
        body = b"".join(b"line %d of a message that has to arrive whole\n" % i for i in range(400))
        s.inject(msg("no memfd", body=body), "alice@test.example", ["bob@test.example"])
        check(s.wait_messages("bob", 1, 30), "no memfd: delivered")
        got = s.messages("bob")
        check(len(got) == 1 and got[0].endswith(b"Subject: no memfd\n\n" + body), "no memfd: whole")
        check_eq(log_lines(s, r"deferral"), [], "no memfd: not deferred")
        trace = open(log.name).read()
        check("ENOSYS" in trace and "(INJECTED)" in trace, "no memfd: memfd_create was refused", trace[-500:])
        check(re.search(r'openat\(AT_FDCWD, "queue/pid", O_RDWR\|O_CLOEXEC\|O_TMPFILE', trace) is not None,
              "no memfd: the copy went to an unnamed file in queue/pid", trace[-500:])
        check(re.search(r'openat\(AT_FDCWD, "/proc/self/fd/\d+", O_RDONLY\|O_CLOEXEC\) = \d+', trace) is not None,
              "no memfd: and is given read-only", trace[-500:])
    finally:
        s.stop() if s.proc else None
        s.cleanup()
        os.unlink(log.name)


def test_local_started_ahead():
    """qmail-lspawn keeps a qmail-local started ahead (-W), which takes the
    next delivery to a known user and becomes that user; a bin/qmail-local
    that will not wait so is executed for each delivery instead."""
    s = new_system()
    real = os.path.join(BIN, "qmail-local")
    saved = real + ".saved-by-test"
    try:
        s.dotqmail("alice", "", "|echo $PPID $(id -u) > ppid.out\n./Maildir/\n")
        s.start()
        ready = ready_locals(s)
        check_eq(len(ready), 1, "one qmail-local waits for a delivery")
        if ready:
            st = os.stat("/proc/%d" % ready[0])
            check_eq(st.st_uid, os.getuid(), "as qmail-lspawn's user, until it has one")
        s.inject(msg("ahead"), "bob@example.org", ["alice@test.example"])
        check(s.wait_messages("alice", 1), "a delivery to a known user")
        out = os.path.join(s.homes["alice"], "ppid.out")
        check(wait_for(lambda: os.path.exists(out) and os.path.getsize(out) > 0, 30), "its program ran")
        ppid, uid = (open(out).read().split() + ["", ""])[:2]
        check_eq((ppid, uid), (str(ready[0]) if ready else "", str(s.uid)),
                 "it was the qmail-local started ahead, as the user")
        check(wait_for(lambda: len(ready_locals(s)) == 1 and ready_locals(s) != ready, 30),
              "and another one waits for the next delivery")
        check_eq(os.stat(s.maildir("alice")[0]).st_uid, s.uid, "the Maildir file is the user's")
        s.stop()
        check(not s.helpers(), "the waiting qmail-local goes with qmail-lspawn")

        # A site's own bin/qmail-local, which knows nothing of -W.
        os.rename(real, saved)
        with open(real, "w") as f:
            f.write('#!/bin/sh\n[ "$1" = -W ] && exit 100\nexec %s "$@"\n' % saved)
        os.chmod(real, 0o755)
        s.start()
        s.inject(msg("one"), "bob@example.org", ["alice@test.example"])
        s.inject(msg("two"), "bob@example.org", ["alice@test.example"])
        check(s.wait_messages("alice", 3), "a bin/qmail-local without -W still delivers, every time", s.logtext())
        check_eq(ready_locals(s), [], "and none is kept waiting")
    finally:
        s.stop() if s.proc else None
        if os.path.exists(saved):
            os.rename(saved, real)
        s.cleanup()


def test_orphan_of_early_delivery():
    """A qmail-send killed after starting a new message's local delivery
    but before its journal sync: the spawner leaves the result in
    queue/orphans/, the message is still only in todo/, and the next
    qmail-send applies the result when it reads the message (it is not
    delivered twice)."""
    s = new_system()
    try:
        rc = quail.qmail_queue(msg("orphaned"), b"Fbob@example.org\0Talice@test.example\0Tbob@test.example\0\0",
                               env=s.plainenv())
        files = quail.queue_files(ROOT, "todo")
        check_eq((rc, len(files)), (0, 1), "a message waits in todo/")
        if len(files) != 1:
            return
        msgid = int(os.path.basename(files[0]))
        orphan = os.path.join(ROOT, "queue", "orphans", "lspawn.1")
        with open(orphan, "wb") as f:
            f.write(b"%d\0%d\0Kdid 1+0+0/\0" % (msgid, 0))
        os.chmod(orphan, 0o644)
        time.sleep(1.2)  # born before this qmail-send starts, as such a message is
        s.start()
        check(s.wait_messages("bob", 1), "the recipient without a result is delivered")
        check(wait_for(s.queue_empty, 30), "the message is finished")
        check_eq(s.messages("alice"), [], "the one the orphaned result covers is not delivered again")
        check(not os.path.exists(orphan), "the orphans file is used up")
    finally:
        s.stop() if s.proc else None
        s.cleanup()


test_basic()
test_inherited_fds()
test_routing()
test_lookup()
test_getpw_in_child()
test_bounces()
test_bounce_limits()
test_retry_and_lifetime()
test_timeout()
test_verp_and_remote()
test_cleanup_at_start()
test_pool()
test_crash_before_queue_sync()
test_commit_syncs_unmarked()
test_commit_waits_for_mark()
test_commit_second_name()
test_pool_alias()
test_removed_before_settled()
test_removal_cut_off()
test_early_delivery()
test_early_delivery_without_memfd()
test_qread_journal()
test_local_started_ahead()
test_orphan_of_early_delivery()
test_concurrency()
test_domain_concurrency()
test_burst()
quail.done()
