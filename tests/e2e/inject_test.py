"""qmail-inject, sendmail, predate, datemail and mailsubj, end to end.

The programs run from the sanitized build (QUAIL_BUILD/bin) with
QMAILQUEUE pointing at tests/bin/fake-queue, which records exactly what
would be queued: the message and the envelope. One test queues through the
instance's real qmail-queue. Control files are written into the instance's
control/ as each test needs them and put back as they were at the end.

Not tested here: a read error on descriptor 0 in the middle of a message
(qq_fail's kill is covered by qq_test); the benchmark's parallel load
(bench/); predate in a zone with a leap second.
"""

import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import quail  # noqa: E402
from quail import check, check_eq  # noqa: E402

# Programs here often refuse a message before reading all of it: writing
# the rest must give EPIPE (which subprocess ignores), not end the test.
import signal  # noqa: E402
signal.signal(signal.SIGPIPE, signal.SIG_IGN)

BIN = os.path.join(quail.BUILD, "bin")
INJECT = os.path.join(BIN, "qmail-inject")
SENDMAIL = os.path.join(BIN, "sendmail")
PREDATE = os.path.join(BIN, "predate")
FAKEQ = os.path.join(quail.BUILD, "tests", "bin", "fake-queue")
CONTROL = os.path.join(quail.ROOT, "control")
CONTROLS = ("me", "defaultdomain", "defaulthost", "plusdomain", "idhost")
STD = {"me": "host.example.com"}
BASEENV = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""), "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "")}

DATE_RE = re.compile(rb"\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d -0000")
ID_RE = re.compile(rb"<\d{14}\.\d+\.qmail@")


def norm(msg):
    """The message with its made-up date and Message-ID stamp replaced by
    DATE and <ID.qmail@, so that tables can spell it out."""
    if msg is None:
        return None
    return ID_RE.sub(b"<ID.qmail@", DATE_RE.sub(b"DATE", msg))


def set_controls(values):
    for name in CONTROLS:
        path = os.path.join(CONTROL, name)
        if os.path.isdir(path):
            os.rmdir(path)
        elif os.path.exists(path):
            os.unlink(path)
        if name in values:
            with open(path, "w") as f:
                f.write(values[name] + "\n")


class Result:
    def __init__(self, p, msg, env):
        self.rc = p.returncode
        self.out = p.stdout
        self.err = p.stderr.decode("latin-1")
        self.msg = msg
        self.env = env

    def __repr__(self):
        return "rc=%r err=%r msg=%r env=%r" % (self.rc, self.err[:300], (self.msg or b"")[:300], self.env)


def read_envelope(data):
    """fake-queue's envelope as a list of records; ValueError if it is not
    terminated."""
    if not data.endswith(b"\0\0"):
        raise ValueError("envelope not terminated: %r" % data[-20:])
    return [r.decode("latin-1") for r in data[:-1].split(b"\0")[:-1]]


def run(args, stdin=b"", env=None, controls=STD, prog=INJECT, queue=FAKEQ, fakeq=None, timeout=120, cwd=None):
    """Runs prog with the fake queue, after writing the control files
    (controls=None: leave them as they are); the message and envelope it
    would have queued (None, None when it queued nothing)."""
    if controls is not None:
        set_controls(controls)
    d = tempfile.mkdtemp()
    try:
        e = dict(BASEENV)
        if queue:
            e["QMAILQUEUE"] = queue
        e["FAKEQ_DIR"] = d
        e.update(fakeq or {})
        e.update(env or {})
        p = subprocess.run([prog] + list(args), input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e,
                           timeout=timeout, cwd=cwd)
        msg = envl = None
        if os.path.exists(os.path.join(d, "envelope")):
            msg = open(os.path.join(d, "message"), "rb").read()
            try:
                envl = read_envelope(open(os.path.join(d, "envelope"), "rb").read())
            except ValueError:
                envl = "unterminated"
        return Result(p, msg, envl)
    finally:
        shutil.rmtree(d)


def expect(name, r, rc=0, msg=None, env=None, err=None, queued=None):
    """Checks a Result: exit code, normalized message, envelope records,
    a regular expression on stderr; queued=False: nothing reached the queue
    program's commit (no terminated envelope)."""
    ok = check_eq(r.rc, rc, name + ": exit %d" % rc, r.err)
    if msg is not None:
        ok &= check_eq(norm(r.msg), msg, name + ": message")
    if env is not None:
        ok &= check_eq(r.env, env, name + ": envelope")
    if err is not None:
        ok &= check(re.search(err, r.err), name + ": says " + err, r.err)
    if queued is False:
        ok &= check(r.env in (None, "unterminated"), name + ": nothing queued", repr(r.env))
    return ok


# ---- header rules (qmail-header(5)) ----

HEAD = b"Date: DATE\nMessage-ID: <ID.qmail@host.example.com>\n"


def test_header_rules():
    u = {"USER": "joe"}
    r = run([], b"Subject: hi\nTo: fred\n\nbody\n", u)
    expect("basic", r, msg=HEAD + b"From: joe@host.example.com\nSubject: hi\nTo: fred@host.example.com\n\nbody\n",
           env=["Fjoe@host.example.com", "Tfred@host.example.com"])
    m = r.msg or b""
    d = re.search(rb"Date: (\d+) (\w+) (\d+) (\d\d):(\d\d):(\d\d) -0000", m)
    i = re.search(rb"Message-ID: <(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)\.(\d+)\.qmail@", m)
    if check(d and i, "Date and Message-ID are there"):
        months = [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"]
        same = (int(d.group(3)), months.index(d.group(2)) + 1, int(d.group(1)), d.group(4), d.group(5), d.group(6)) == \
               (int(i.group(1)), int(i.group(2)), int(i.group(3)), i.group(4), i.group(5), i.group(6))
        check(same, "the Message-ID's stamp is the Date's time", m[:200].decode("latin-1"))
        t = time.gmtime()
        check(abs(int(d.group(3)) - t.tm_year) <= 1, "the Date is today's (UTC)")

    r = run([], b"Date: Sat, 1 Jan 2000 00:00:00 +0100\nMessage-ID: <x@y>\nFrom: Bob <bob>\nTo: a@b.c\n\nx\n", u)
    expect("Date, Message-ID and From are kept", r,
           msg=b"Date: Sat, 1 Jan 2000 00:00:00 +0100\nMessage-ID: <x@y>\nFrom: Bob <bob@host.example.com>\nTo: a@b.c\n\nx\n",
           env=["Fjoe@host.example.com", "Ta@b.c"])

    r = run([], b"Subject: s\nBcc: secret@x.y, other\n\nx\n", u)
    expect("Bcc: removed, used, and Cc added for the missing To", r,
           msg=HEAD + b"From: joe@host.example.com\nCc: recipient list not shown: ;\nSubject: s\n\nx\n",
           env=["Fjoe@host.example.com", "Tother@host.example.com", "Tsecret@x.y"])

    r = run([], b"Cc: c@x.y\nSubject: s\n\nx\n", u)
    expect("a Cc is enough: no Cc line is added", r,
           msg=HEAD + b"From: joe@host.example.com\nCc: c@x.y\nSubject: s\n\nx\n")

    r = run([], b"Return-Path: <rp@x.y>\nContent-Length: 99\nTo: a@b.c\n\nx\n", u)
    expect("Return-Path sets the sender and goes, Content-Length goes", r,
           msg=HEAD + b"From: joe@host.example.com\nTo: a@b.c\n\nx\n", env=["Frp@x.y", "Ta@b.c"])

    r = run([], b"Return-Path: <>\nTo: a@b.c\n\nx\n", u)
    expect("Return-Path: <> is the empty sender", r, env=["F", "Ta@b.c"])

    r = run([], b"Return-Path: <first@x.y>\nReturn-Path: <second@x.y>\nTo: a@b.c\n\nx\n", u)
    expect("the first Return-Path counts", r, env=["Ffirst@x.y", "Ta@b.c"])

    r = run([], b"To: old@x.y\nFrom: a@x.y\nDate: old\nResent-To: new@x.y, other\n\nx\n", u)
    expect("resent: Resent- fields added, recipients from Resent-To only", r,
           msg=b"Resent-Date: DATE\nResent-Message-ID: <ID.qmail@host.example.com>\n"
               b"Resent-From: joe@host.example.com\nTo: old@x.y\nFrom: a@x.y\nDate: old\n"
               b"Resent-To: new@x.y, other@host.example.com\n\nx\n",
           env=["Fjoe@host.example.com", "Tother@host.example.com", "Tnew@x.y"])

    r = run([], b"Resent-Bcc: hidden@x.y\nResent-From: r@x.y\nResent-Date: d\nResent-Message-ID: <m>\n\nx\n", u)
    expect("resent: Resent-Bcc removed, Resent-Cc added, no Cc, no new Resent fields", r,
           msg=b"Resent-Cc: recipient list not shown: ;\nResent-From: r@x.y\nResent-Date: d\nResent-Message-ID: <m>\n\nx\n",
           env=["Fjoe@host.example.com", "Thidden@x.y"])

    r = run([], b"Apparently-To: ap\n\nx\n", u)
    expect("Apparently-To is a recipient field", r, env=["Fjoe@host.example.com", "Tap@host.example.com"])

    fields = [b"Sender", b"From", b"Reply-To", b"Return-Receipt-To", b"Errors-To", b"Resent-Sender", b"Resent-From",
              b"Resent-Reply-To", b"To", b"Cc", b"Apparently-To", b"Resent-To", b"Resent-Cc"]
    for f in fields:
        r = run(["x@y.z"], f + b": a, b@c\nTo: x@y.z\n\nx\n", u)
        check(f + b": a@host.example.com, b@c.host.example.com\n" in (r.msg or b""),
              "%s: addresses are qualified" % f.decode(), repr(r))
    r = run([], b"Subject: a, b@c\nX-Foo: a, b@c\nTo: x@y.z\n\nx\n", u)
    check(b"Subject: a, b@c\nX-Foo: a, b@c\n" in (r.msg or b""), "other fields are left alone", repr(r))

    r = run([], b"tO :djb  fred\n\nx\n", u)
    expect("a space between addresses becomes a comma; names are tidied", r,
           msg=HEAD + b"From: joe@host.example.com\ntO: djb@host.example.com, fred@host.example.com\n\nx\n",
           env=["Fjoe@host.example.com", "Tfred@host.example.com", "Tdjb@host.example.com"])

    r = run([], b"To: friends: a@x.y, b;, c@x.y (Cee), \"Dee D\" <d@x.y>, <@r.x,@s.y:e@x.y>\n\nx\n", u)
    expect("groups, comments, phrases, source routes", r,
           msg=HEAD + b"From: joe@host.example.com\n"
                      b"To: friends: a@x.y, b@host.example.com;, c@x.y (Cee), \"Dee D\" <d@x.y>, <e@x.y>\n\nx\n",
           env=["Fjoe@host.example.com", "Te@x.y", "Td@x.y", "Tc@x.y", "Tb@host.example.com", "Ta@x.y"])

    r = run([], b"From joe@x.y Mon Nov 22 00:00:00 2026\nTo: a@b.c\n\nx\n", u)
    expect("an mbox From line becomes MBOX-Line", r,
           msg=HEAD + b"From: joe@host.example.com\nMBOX-Line: From joe@x.y Mon Nov 22 00:00:00 2026\nTo: a@b.c\n\nx\n")

    long_to = b"To: " + b", ".join(b"user%02d@example.com" % i for i in range(8)) + b"\n"
    r = run([], long_to + b"\nx\n", u)
    expect("long address lists are folded at 80 columns", r,
           msg=HEAD + b"From: joe@host.example.com\n"
                      b"To: user00@example.com, user01@example.com, user02@example.com,\n"
                      b"  user03@example.com, user04@example.com, user05@example.com,\n"
                      b"  user06@example.com, user07@example.com\n\nx\n")

    r = run([], b"X-Long: one\n two\n\tthree\nTo: a@b.c\n\nx\n", u)
    check(b"X-Long: one\n two\n\tthree\n" in (r.msg or b""), "continuation lines stay as they are", repr(r))

    r = run([], b"To: group: a@b.c\nCc: ok@x.y\n\nx\n", u)
    expect("a To that does not parse is kept as it is and sends nothing", r,
           msg=HEAD + b"From: joe@host.example.com\nTo: group: a@b.c\nCc: ok@x.y\n\nx\n",
           env=["Fjoe@host.example.com", "Tok@x.y"])
    r = run([], b"From: (unclosed\nTo: a@b.c\n\nx\n", u)
    expect("a From that does not parse is refused", r, rc=100, err=r"unable to parse this line:\n\s*From: \(unclosed",
           queued=False)
    r = run([], b"Reply-To: a>\nTo: a@b.c\n\nx\n", u)
    expect("a Reply-To that does not parse is refused", r, rc=100, err="unable to parse this line", queued=False)

    r = run([], b"To: a@b.c\nSubject: no body", u)
    expect("a message that is all header gets no blank line, but a final newline", r,
           msg=HEAD + b"From: joe@host.example.com\nTo: a@b.c\nSubject: no body\n")
    r = run([], b"To: a@b.c\nthis is no field\nmore\n", u)
    expect("a line that is no field starts the body after a blank line", r,
           msg=HEAD + b"From: joe@host.example.com\nTo: a@b.c\n\nthis is no field\nmore\n")
    r = run(["a@b.c"], b"\nbody\n", u)
    expect("a message with an empty header", r, msg=HEAD + b"From: joe@host.example.com\nCc: recipient list not shown: ;\n\nbody\n")
    r = run([], b"To: a@b.c\r\nSubject: x\r\n\r\nbody\r\n", u)
    expect("CRLF: a rewritten field loses its CR, others keep it, and CRLF is no blank line", r,
           msg=HEAD + b"From: joe@host.example.com\nTo: a@b.c\nSubject: x\r\n\n\r\nbody\r\n")


# ---- the environment ----

def test_environment():
    for env, want in [
        ({"QMAILUSER": "q", "MAILUSER": "m", "USER": "u", "LOGNAME": "l"}, b"q"),
        ({"MAILUSER": "m", "USER": "u", "LOGNAME": "l"}, b"m"),
        ({"USER": "u", "LOGNAME": "l"}, b"u"),
        ({"LOGNAME": "l"}, b"l"),
        ({}, b"anonymous"),
    ]:
        r = run([], b"To: a@b.c\n\nx\n", env)
        check(b"\nFrom: " + want + b"@host.example.com\n" in (r.msg or b"") and r.env and r.env[0] == "F" + want.decode() + "@host.example.com",
              "the From user is %s given %s" % (want.decode(), sorted(env)), repr(r))
    r = run([], b"To: a@b.c\n\nx\n", {"USER": "u", "QMAILHOST": "qh.example", "MAILHOST": "mh.example"})
    expect("QMAILHOST sets the From host (and the sender's)", r, env=["Fu@qh.example", "Ta@b.c"])
    check(b"\nFrom: u@qh.example\n" in (r.msg or b""), "From: u@qh.example", repr(r))
    r = run([], b"To: a@b.c\n\nx\n", {"USER": "u", "MAILHOST": "mh"})
    check(b"\nFrom: u@mh.host.example.com\n" in (r.msg or b""), "MAILHOST, qualified like any host", repr(r))
    for env, want in [
        ({"QMAILNAME": "Q Name", "MAILNAME": "M", "NAME": "N"}, b"Q Name"),
        ({"MAILNAME": "M Name", "NAME": "N"}, b"M Name"),
        ({"NAME": "N \"quoted\" Name"}, b"N \\\"quoted\\\" Name"),
    ]:
        r = run([], b"To: a@b.c\n\nx\n", dict(env, USER="u"))
        check(b"\nFrom: \"" + want + b"\" <u@host.example.com>\n" in (r.msg or b""), "the full name is %s" % want.decode(), repr(r))
    r = run([], b"To: a@b.c\n\nx\n", {"USER": "u", "NAME": "The User", "QMAILINJECT": "c"})
    check(b"\nFrom: u@host.example.com (The User)\n" in (r.msg or b""), "QMAILINJECT=c: the name as a comment", repr(r))
    r = run([], b"To: a@b.c\n\nx\n", {"USER": "joe smith"})
    expect("a user name that needs quotes", r, env=["Fjoe smith@host.example.com", "Ta@b.c"])
    check(b"\nFrom: \"joe smith\"@host.example.com\n" in (r.msg or b""), "From: \"joe smith\"@host", repr(r))

    r = run([], b"To: a@b.c\n\nx\n", {"USER": "u", "QMAILSUSER": "bounces", "QMAILSHOST": "sh.example"})
    expect("QMAILSUSER and QMAILSHOST set the envelope sender only", r, env=["Fbounces@sh.example", "Ta@b.c"])
    check(b"\nFrom: u@host.example.com\n" in (r.msg or b""), "...not From", repr(r))
    r = run([], b"To: a@b.c\n\nx\n", {"USER": "u", "QMAILHOST": "h.example", "QMAILSUSER": "b"})
    expect("QMAILSHOST defaults to QMAILHOST", r, env=["Fb@h.example", "Ta@b.c"])

    msg = b"Return-Path: <rp@x.y>\nFrom: f@x.y\nMessage-ID: <old@x.y>\nTo: a@b.c\n\nx\n"
    r = run([], msg, {"USER": "u", "QMAILINJECT": "s"})
    expect("QMAILINJECT=s: Return-Path is ignored, and removed", r,
           msg=HEAD.replace(b"Date: DATE\nMessage-ID: <ID.qmail@host.example.com>\n", b"Date: DATE\n")
               + b"From: f@x.y\nMessage-ID: <old@x.y>\nTo: a@b.c\n\nx\n",
           env=["Fu@host.example.com", "Ta@b.c"])
    r = run([], msg, {"USER": "u", "QMAILINJECT": "f"})
    expect("QMAILINJECT=f: From is replaced", r,
           msg=b"Date: DATE\nFrom: u@host.example.com\nMessage-ID: <old@x.y>\nTo: a@b.c\n\nx\n", env=["Frp@x.y", "Ta@b.c"])
    r = run([], msg, {"USER": "u", "QMAILINJECT": "i"})
    expect("QMAILINJECT=i: Message-ID is replaced", r,
           msg=HEAD + b"From: f@x.y\nTo: a@b.c\n\nx\n")
    r = run([], msg, {"USER": "u", "QMAILINJECT": "sfixyz"})
    expect("QMAILINJECT=sfi (and unknown letters ignored)", r,
           msg=HEAD + b"From: u@host.example.com\nTo: a@b.c\n\nx\n", env=["Fu@host.example.com", "Ta@b.c"])

    r = run([], b"To: a@b.c, d@e.f\n\nx\n", {"USER": "u", "QMAILINJECT": "r"})
    expect("QMAILINJECT=r: a per-recipient VERP sender", r, env=["Fu-@host.example.com-@[]", "Td@e.f", "Ta@b.c"])
    r = run([], b"Return-Path: <list@x.y>\nTo: a@b.c\n\nx\n", {"QMAILINJECT": "r"})
    expect("QMAILINJECT=r applies to Return-Path too", r, env=["Flist@x.y-@[]", "Ta@b.c"])
    r = run(["-f", "s@x.y", "a@b.c"], b"\nx\n", {"QMAILINJECT": "r"})
    expect("QMAILINJECT=r does not touch -f (as in qmail)", r, env=["Fs@x.y", "Ta@b.c"])
    r = run([], b"To: a@b.c\n\nx\n", {"USER": "u", "QMAILINJECT": "m"})
    ok = r.env and re.fullmatch(r"Fu-(\d+)\.(\d+)@host\.example\.com", r.env[0])
    check(ok and abs(int(ok.group(1)) - time.time()) < 600, "QMAILINJECT=m: user-TIME.PID@host", repr(r.env))
    if ok:
        i = re.search(rb"Message-ID: <\d{14}\.(\d+)\.qmail@", r.msg or b"")
        check(i and i.group(1).decode() == ok.group(2), "...the same pid as the Message-ID's", repr(r.msg))
    r = run([], b"To: a@b.c\n\nx\n", {"USER": "u", "QMAILINJECT": "mr"})
    check(r.env and re.fullmatch(r"Fu-\d+\.\d+-@host\.example\.com-@\[\]", r.env[0]), "QMAILINJECT=mr", repr(r.env))

    for name, val, ctl, msg, want_env, want_text in [
        ("QMAILDEFAULTDOMAIN", "env.dom", "defaultdomain", b"To: a@x\n\nx\n", "Ta@x.env.dom", b"To: a@x.env.dom\n"),
        ("QMAILDEFAULTHOST", "dh.env", "defaulthost", b"To: a\n\nx\n", "Ta@dh.env", b"To: a@dh.env\n"),
        ("QMAILPLUSDOMAIN", "plus.env", "plusdomain", b"To: a@x+\n\nx\n", "Ta@x.plus.env", b"To: a@x.plus.env\n"),
    ]:
        r = run([], msg, {name: val}, controls=dict(STD, **{ctl: "control.file"}))
        check(r.env and r.env[-1] == want_env and want_text in (r.msg or b""),
              "%s overrides control/%s" % (name, ctl), repr(r))
    r = run([], b"To: a@b.c\n\nx\n", {"QMAILIDHOST": "id.env"}, controls=dict(STD, idhost="id.file"))
    check(b"Message-ID: <ID.qmail@id.env>\n" in norm(r.msg or b""), "QMAILIDHOST overrides control/idhost", repr(r))


def test_mft():
    d = tempfile.mkdtemp()
    try:
        lists = os.path.join(d, "lists")
        with open(lists, "w") as f:
            f.write("# my lists\nSOS@heaven.example\n\nother@list.example\n")
        env = {"USER": "u", "QMAILMFTFILE": lists}
        r = run([], b"To: a@b.c, sos@Heaven.example\nCc: c@d.e\n\nx\n", env)
        expect("QMAILMFTFILE: a listed address (in any case) adds Mail-Followup-To", r,
               msg=HEAD + b"From: u@host.example.com\nMail-Followup-To: c@d.e,\n  a@b.c,\n  sos@Heaven.example\n"
                          b"To: a@b.c, sos@Heaven.example\nCc: c@d.e\n\nx\n")
        r = run([], b"To: a@b.c\nCc: c@d.e\n\nx\n", env)
        check(b"Mail-Followup-To" not in (r.msg or b"x"), "no listed address: no Mail-Followup-To", repr(r))
        r = run([], b"To: other@list.example\nMail-Followup-To: me@x.y\n\nx\n", env)
        check((r.msg or b"").count(b"Mail-Followup-To") == 1 and b"Mail-Followup-To: me@x.y\n" in r.msg,
              "an existing Mail-Followup-To is kept, none added", repr(r))
        r = run([], b"To: \"a b\"@c.d, other@list.example\n\nx\n", env)
        check(b"Mail-Followup-To: \"a b\"@c.d,\n  other@list.example\n" in (r.msg or b""),
              "Mail-Followup-To quotes what needs quotes", repr(r))
        r = run([], b"To: other@list.example\n\nx\n", dict(env, QMAILMFTFILE="lists"), cwd=d)
        check(b"Mail-Followup-To: other@list.example\n" in (r.msg or b""),
              "a relative QMAILMFTFILE is read from the caller's directory", repr(r))
        r = run([], b"To: other@list.example\n\nx\n", dict(env, QMAILMFTFILE=os.path.join(d, "absent")))
        expect("a missing QMAILMFTFILE is no error", r, rc=0)
        r = run([], b"To: other@list.example\n\nx\n", dict(env, QMAILMFTFILE=d))
        expect("an unreadable QMAILMFTFILE is a temporary error", r, rc=111, err=r"QMAILMFTFILE", queued=False)
    finally:
        shutil.rmtree(d)


# ---- control files ----

def test_controls():
    c = {"me": "me.example", "defaultdomain": "dd.example", "defaulthost": "dh", "plusdomain": "pd.example",
         "idhost": "id.example"}
    r = run([], b"To: a, b@silverton, c@mammoth+, d@[1.2.3.4], e@x@[]\n\nx\n", {"USER": "u"}, controls=c)
    expect("defaulthost, defaultdomain, plusdomain, idhost", r,
           msg=b"Date: DATE\nMessage-ID: <ID.qmail@id.example>\nFrom: u@dh.dd.example\n"
               b"To: a@dh.dd.example, b@silverton.dd.example, c@mammoth.pd.example,\n"
               b"  d@[1.2.3.4], e@x@[]\n\nx\n",
           env=["Fu@dh.dd.example", "Te@x@[]", "Td@[1.2.3.4]", "Tc@mammoth.pd.example", "Tb@silverton.dd.example",
                "Ta@dh.dd.example"])
    r = run([], b"To: a\n\nx\n", {"USER": "u"}, controls={"me": "me.example", "defaulthost": "dh+"})
    expect("a defaulthost ending in + gets plusdomain", r, env=["Fu@dh.me.example", "Ta@dh.me.example"])
    r = run([], b"To: a\n\nx\n", {"USER": "u"}, controls={"me": "me.example"})
    expect("control/me is the default for all of them", r,
           msg=b"Date: DATE\nMessage-ID: <ID.qmail@me.example>\nFrom: u@me.example\nTo: a@me.example\n\nx\n")
    r = run([], b"To: a\n\nx\n", {"USER": "u"}, controls={})
    expect("without me, qmail's literal names", r,
           msg=b"Date: DATE\nMessage-ID: <ID.qmail@idhost>\nFrom: u@defaulthost.defaultdomain\n"
               b"To: a@defaulthost.defaultdomain\n\nx\n")
    set_controls(STD)
    os.mkdir(os.path.join(CONTROL, "idhost"))
    r = run([], b"To: a\n\nx\n", {"USER": "u"}, controls=None)
    expect("an unreadable control file is a temporary error", r, rc=111, err=r"control/idhost", queued=False)
    r = run([], b"To: a\n\nx\n", {"USER": "u", "QMAILIDHOST": "id.env"}, controls=None)
    expect("...which is not read when the environment overrides it", r, rc=0)
    set_controls(STD)


# ---- options ----

def test_options():
    u = {"USER": "u"}
    msg = b"To: hdr@x.y\n\nx\n"
    r = run(["arg@x.y", "b"], msg, u)
    expect("arguments: the recipients, not the header's", r, env=["Fu@host.example.com", "Targ@x.y", "Tb@host.example.com"])
    check(b"To: hdr@x.y\n" in (r.msg or b""), "...which stays in the message", repr(r))
    expect("-a: arguments only", run(["-a", "arg@x.y"], msg, u), env=["Fu@host.example.com", "Targ@x.y"])
    expect("-a without arguments: no recipients", run(["-a"], msg, u), rc=100, err="no recipients", queued=False)
    expect("-h: the header only", run(["-h", "arg@x.y"], msg, u), env=["Fu@host.example.com", "Thdr@x.y"])
    expect("-H: both", run(["-H", "arg@x.y"], msg, u), env=["Fu@host.example.com", "Targ@x.y", "Thdr@x.y"])
    expect("-A: arguments if any", run(["-h", "-A", "arg@x.y"], msg, u), env=["Fu@host.example.com", "Targ@x.y"])
    expect("-A: else the header", run(["-A"], msg, u), env=["Fu@host.example.com", "Thdr@x.y"])
    expect("options bundle", run(["-aH", "arg@x.y"], msg, u), env=["Fu@host.example.com", "Targ@x.y", "Thdr@x.y"])
    expect("-- ends the options", run(["--", "-h"], msg, u), env=["Fu@host.example.com", "T-h@host.example.com"])
    expect("no options after the first recipient", run(["a@b.c", "-h"], msg, u),
           env=["Fu@host.example.com", "Ta@b.c", "T-h@host.example.com"])

    r = run(["-n", "a@b.c"], b"Return-Path: <rp@x.y>\nTo: h@x.y\n\nbody\n", u)
    expect("-n prints the message with a Return-Path and queues nothing", r, queued=False)
    check_eq(norm(r.out), b"Return-Path: <rp@x.y>\n" + HEAD + b"From: u@host.example.com\nTo: h@x.y\n\nbody\n", "-n: the output")
    r = run(["-n"], b"To: h@x.y\n\nbody\n", {"USER": "joe smith"})
    check(r.out.startswith(b"Return-Path: <\"joe smith\"@host.example.com>\n"), "-n: the Return-Path is quoted", repr(r.out))
    r = run(["-n"], b"Subject: nobody\n\nx\n", u)
    expect("-n needs no recipients", r, rc=0)
    expect("-N after -n queues", run(["-n", "-N", "a@b.c"], b"\nx\n", u), env=["Fu@host.example.com", "Ta@b.c"])

    for arg, want in [("s@x.y", "Fs@x.y"), ("", "F"), ("<>", "F"), ("<s@x.y>", "Fs@x.y"), ("joe", "Fjoe@host.example.com"),
                      ("joe@mammoth+", "Fjoe@mammoth.host.example.com"), ("list-@x.y-@[]", "Flist-@x.y-@[]"),
                      ("joe smith@x.y", "Fjoe smith@x.y")]:
        r = run(["-f", arg, "a@b.c"], b"Return-Path: <rp@x.y>\n\nx\n", u)
        expect("-f %r sets the sender (over Return-Path)" % arg, r, env=[want, "Ta@b.c"])
    r = run(["-fs@x.y", "a@b.c"], b"\nx\n", u)
    expect("-fsender attached", r, env=["Fs@x.y", "Ta@b.c"])
    r = run(["-f", "a@(bad", "a@b.c"], b"\nx\n", u)
    expect("-f that does not parse", r, rc=100, err="unable to parse", queued=False)
    r = run(["-x", "a@b.c"], b"\nx\n", u)
    expect("an unknown option", r, rc=100, err=r"illegal option -- x\n.*usage: qmail-inject", queued=False)
    r = run(["-f"], b"\nx\n", u)
    expect("-f without its argument", r, rc=100, err=r"option requires an argument -- f", queued=False)
    r = run(["a@(b"], b"\nx\n", u)
    expect("a recipient that does not parse", r, rc=100, err=r"unable to parse address: a@\(b", queued=False)
    r = run([""], b"\nx\n", u)
    expect("an empty recipient goes nowhere", r, rc=100, err="no recipients", queued=False)
    r = run(["joe smith@x.y", "<a@b.c>"], b"\nx\n", u)
    expect("arguments are quoted as needed", r, env=["Fu@host.example.com", "Tjoe smith@x.y", "T<a@b.c>"])


# ---- bad input and limits ----

def test_limits():
    u = {"USER": "u"}
    r = run([], b"To: a@b.c\nSubject: " + b"x" * 100000 + b"\n\nbody\n", u)
    expect("a header line of 100 KB", r, rc=100, err="header field too long", queued=False)
    r = run([], b"To: a@b.c\nX-Fold: x\n" + b" " + b"y" * 999 + b"\n" * 1 + (b" " + b"z" * 999 + b"\n") * 70 + b"\nx\n", u)
    expect("a header field folded past 64 KB", r, rc=100, err="header field too long", queued=False)
    r = run([], b"To: a@b.c\n" + (b"X-Many: " + b"m" * 990 + b"\n") * 1100 + b"\nx\n", u)
    expect("a header of more than 1 MB", r, rc=100, err="header too long", queued=False)
    r = run([], b"To: a@b.c\n" + (b"X-Many: " + b"m" * 990 + b"\n") * 900 + b"\nx\n", u)
    expect("a header of 900 KB is fine", r, rc=0)
    r = run(["a@b.c"], b"Bcc: b@c.d\n" * 150000 + b"\nx\n", u)
    expect("a header of 150,000 Bcc fields (dropped, but read)", r, rc=100, err="header too long", queued=False)
    r = run(["-n"], b"To: a@b.c\n" + (b"X-Many: " + b"m" * 990 + b"\n") * 1100 + b"\nx\n", u)
    expect("-n: the header is bounded as well", r, rc=100, err="header too long")
    body = b"y" * 100000 + b"\n" + b"z" * 300000
    r = run(["a@b.c"], b"Subject: big\n\n" + body, u)
    expect("body lines of 100 KB and more pass, with a final newline added", r, rc=0)
    check((r.msg or b"").endswith(b"\n\n" + body + b"\n"), "...byte for byte", repr(r)[:200])
    r = run([], b"y" * 100000 + b"\n", u)
    expect("a first line of 100 KB that is no field is body (no recipients here)", r, rc=100, err="no recipients")
    r = run(["-n"], b"y" * 100000 + b"\n", u)
    check(r.rc == 0 and r.out.endswith(b"\n\n" + b"y" * 100000 + b"\n"), "...and is printed as body", repr(r)[:200])

    rcpts = ["r%d@x.y" % i for i in range(100000)]
    r = run(rcpts, b"\nx\n", u)
    expect("100,000 recipients in arguments", r, rc=100, err="too many recipients", queued=False)
    r = run(rcpts[:10000], b"\nx\n", u)
    expect("10,000 recipients is the limit, and fine", r, rc=0)
    check(r.env and len(r.env) == 10001, "...all of them in the envelope", str(len(r.env or [])))
    r = run(rcpts[:10001], b"\nx\n", u)
    expect("10,001 recipients are too many", r, rc=100, err="too many recipients", queued=False)
    hdr = (b"To: " + b", ".join([b"a@b.c"] * 1000) + b"\n") * 100
    r = run([], hdr + b"\nx\n", u)
    expect("100,000 recipients in the header", r, rc=100, err="too many recipients", queued=False)
    r = run(["a@b.c"], hdr + b"\nx\n", u)
    expect("...are fine when the header's recipients are not used", r, rc=0)

    r = run(["a@b.c"], b"Subject: nul\0here\n\nbody\0with\0nuls\n", u)
    expect("NUL bytes in the body and in an unstructured field pass", r, rc=0)
    check((r.msg or b"").endswith(b"Subject: nul\0here\n\nbody\0with\0nuls\n"), "...byte for byte", repr(r.msg))
    r = run([], b"To: \"a\0b\"@x.y\n\nx\n", u)
    expect("a NUL inside an address", r, rc=100, err="NUL byte in address", queued=False)
    r = run(["a@b.c"], b"X\0Y: z\nTo: q\n\nx\n", u)
    expect("a NUL in a field name: the header ends there", r, rc=0)
    check((r.msg or b"").endswith(b"Cc: recipient list not shown: ;\n\nX\0Y: z\nTo: q\n\nx\n"), "...and it is body", repr(r.msg))

    a1000 = "a" * 988 + "@example.com"
    expect("an address of 1000 bytes is fine", run([a1000], b"\nx\n", u), env=["Fu@host.example.com", "T" + a1000])
    a1001 = "a" + a1000
    expect("an argument of 1001 bytes", run([a1001], b"\nx\n", u), rc=100, err="address too long", queued=False)
    expect("a To address of 1001 bytes", run([], b"To: " + a1001.encode() + b"\n\nx\n", u), rc=100,
           err="address too long", queued=False)
    expect("a From address of 1001 bytes", run(["a@b.c"], b"From: " + a1001.encode() + b"\n\nx\n", u), rc=100,
           err="address too long", queued=False)
    expect("a sender of 1001 bytes", run(["-f", a1001, "a@b.c"], b"\nx\n", u), rc=100, err="address too long",
           queued=False)
    expect("a qualified address that grows past 1000 bytes", run(["a" * 990], b"\nx\n", u), rc=100,
           err="address too long", queued=False)

    r = run(["a@b.c"], b"Subject: x\n\nno newline", u)
    expect("a body without its final newline gets one", r, msg=HEAD + b"From: u@host.example.com\n"
                                                              b"Cc: recipient list not shown: ;\nSubject: x\n\nno newline\n")
    r = run(["a@b.c"], b"", u)
    expect("an empty message", r, msg=HEAD + b"From: u@host.example.com\nCc: recipient list not shown: ;\n",
           env=["Fu@host.example.com", "Ta@b.c"])
    r = run([], b"", u)
    expect("an empty message without recipients", r, rc=100, err="no recipients", queued=False)


# ---- the queue program's answers ----

def test_exit_codes():
    u = {"USER": "u"}
    msg = b"To: a@b.c\n\nx\n"
    expect("queue exit 0", run([], msg, u), rc=0)
    expect("queue exit 11: permanent", run([], msg, u, fakeq={"FAKEQ_EXIT": "11"}), rc=100, err="address too long")
    expect("queue exit 31: permanent", run([], msg, u, fakeq={"FAKEQ_EXIT": "31"}), rc=100,
           err=r"qmail-inject: fatal: mail server permanently rejected message \(#5.3.0\)")
    expect("queue exit 71: temporary", run([], msg, u, fakeq={"FAKEQ_EXIT": "71"}), rc=111,
           err="temporarily rejected")
    expect("queue exit 53: temporary", run([], msg, u, fakeq={"FAKEQ_EXIT": "53"}), rc=111, err="disk full")
    expect("queue exit 82 with a D reason", run([], msg, u, fakeq={"FAKEQ_EXIT": "82", "FAKEQ_FD6": "Dspam is refused (#5.7.1)"}),
           rc=100, err=r"fatal: spam is refused \(#5.7.1\)")
    expect("queue exit 82 with a Z reason", run([], msg, u, fakeq={"FAKEQ_EXIT": "82", "FAKEQ_FD6": "Ztry later"}),
           rc=111, err="fatal: try later")
    expect("a queue program that crashes", run([], msg, u, fakeq={"FAKEQ_SIGNAL": "9"}), rc=111, err="crashed")
    expect("no queue program", run([], msg, u, queue="/nonexistent/qmail-queue"), rc=111, err="unable to run qmail-queue")


def send_running():
    """Whether a qmail-send holds queue/lock/sendmutex (then it may take a
    message out of todo/ as soon as it is there)."""
    import fcntl
    try:
        fd = os.open(os.path.join(quail.ROOT, "queue", "lock", "sendmutex"), os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


def test_real_queue():
    """Once through the instance's own qmail-queue."""
    qq = os.path.join(quail.BIN, "qmail-queue")
    if not os.path.exists(qq):
        quail.skip("real qmail-queue", "not installed in the instance")
        return
    before = set(quail.queue_files(quail.ROOT, "todo"))
    r = run(["-f", "s@x.y", "a@b.c", "d"], b"Subject: real\n\nbody\n", {"USER": "u"}, queue=None)
    expect("through the real qmail-queue", r, rc=0)
    new = sorted(set(quail.queue_files(quail.ROOT, "todo")) - before)
    if not new and send_running():
        quail.skip("the queued file", "a qmail-send is running on the instance and took it from todo/")
        return
    if check_eq(len(new), 1, "one new file in todo/"):
        try:
            message, records, _ = quail.parse_queue_file(open(new[0], "rb").read())
            check(re.match(rb"Received: \(qmail \d+ invoked (by alias|from network|for bounce|by uid \d+)\); "
                           + DATE_RE.pattern + rb"\n", message),
                  "it starts with qmail-queue's Received line", repr(message[:120]))
            rest = norm(message.split(b"\n", 1)[1])
            check_eq(rest, HEAD + b"From: u@host.example.com\nCc: recipient list not shown: ;\nSubject: real\n\nbody\n",
                     "then the message qmail-inject made")
            check_eq([x for x in records if x[:1] in (b"F", b"T")], [b"Fs@x.y", b"Ta@b.c", b"Td@host.example.com"],
                     "and its envelope")
        except ValueError as e:
            check(False, "the queue file is complete", str(e))
        finally:
            for p in new:
                os.unlink(p)


# ---- sendmail ----

class Installed:
    """Programs put into the instance's bin/ for a test (qmail-inject, and
    stand-ins for qmail-qread and qmail-smtpd) unless the instance has
    them; removed again afterwards."""

    def __init__(self):
        self.added = []

    def copy(self, name, src):
        dst = os.path.join(quail.BIN, name)
        if os.path.exists(dst):
            return
        shutil.copy(src, dst + ".tmp")
        os.rename(dst + ".tmp", dst)
        self.added.append(dst)

    def script(self, name, text):
        dst = os.path.join(quail.BIN, name)
        if os.path.exists(dst):
            return False
        with open(dst, "w") as f:
            f.write(text)
        os.chmod(dst, 0o755)
        self.added.append(dst)
        return True

    def remove(self):
        for p in self.added:
            os.unlink(p)


STANDIN = """#!/bin/sh
echo "$0 $*"
pwd
echo "PROTO=${PROTO-unset} RELAYCLIENT=${RELAYCLIENT-unset} DATABYTES=${DATABYTES-unset}"
echo "TCPLOCALIP=${TCPLOCALIP-unset} TCPLOCALHOST=${TCPLOCALHOST-unset} TCPREMOTEIP=${TCPREMOTEIP-unset}"
echo "TCPREMOTEHOST=${TCPREMOTEHOST-unset} TCPREMOTEINFO=${TCPREMOTEINFO-unset}"
exit 7
"""


def test_sendmail(inst):
    inst.copy("qmail-inject", INJECT)
    u = {"USER": "u"}
    msg = b"To: hdr@x.y\nSubject: s\n\nbody\n"
    r = run(["a@b.c"], msg, u, prog=SENDMAIL)
    expect("sendmail recip: the arguments only (qmail-inject -a)", r,
           msg=HEAD + b"From: u@host.example.com\nTo: hdr@x.y\nSubject: s\n\nbody\n", env=["Fu@host.example.com", "Ta@b.c"])
    expect("sendmail -t: the header's recipients", run(["-t"], msg, u, prog=SENDMAIL), env=["Fu@host.example.com", "Thdr@x.y"])
    expect("sendmail -t recip: both", run(["-t", "a@b.c"], msg, u, prog=SENDMAIL),
           env=["Fu@host.example.com", "Ta@b.c", "Thdr@x.y"])
    expect("sendmail without recipients", run([], msg, u, prog=SENDMAIL), rc=100, err="no recipients", queued=False)
    r = run(["-f", "s@x.y", "a@b.c"], b"Subject: s\n\nbody\n", dict(u, QMAILNAME="Env Name", QMAILHOST="envhost"), prog=SENDMAIL)
    expect("sendmail -f: the sender, and From shows it", r, env=["Fs@x.y", "Ta@b.c"])
    check(b"\nFrom: s@x.y\n" in (r.msg or b""), "...without the caller's name and host", repr(r))
    r = run(["-f", "nohost", "a@b.c"], b"\nbody\n", u, prog=SENDMAIL)
    check(r.env == ["Fnohost@host.example.com", "Ta@b.c"] and b"\nFrom: nohost@host.example.com\n" in (r.msg or b""),
          "sendmail -f without a host", repr(r))
    r = run(["-f", "<>", "a@b.c"], b"\nbody\n", u, prog=SENDMAIL)
    check(r.env == ["F", "Ta@b.c"] and b"\nFrom: u@host.example.com\n" in (r.msg or b""),
          "sendmail -f '<>': the empty sender, From unchanged", repr(r))
    r = run(["-F", "Full Name", "a@b.c"], b"\nbody\n", dict(u, QMAILNAME="Other"), prog=SENDMAIL)
    check(b"\nFrom: \"Full Name\" <u@host.example.com>\n" in (r.msg or b""), "sendmail -F: the full name", repr(r))
    r = run(["-FName", "-fs@x.y", "a@b.c"], b"\nbody\n", u, prog=SENDMAIL)
    check(b"\nFrom: \"Name\" <s@x.y>\n" in (r.msg or b""), "sendmail -F with -f: both", repr(r))
    r = run(["-i", "-oi", "-v", "-e", "x", "-m", "-x", "-oem", "-B", "8BITMIME", "-p", "smtp:h", "-Efoo", "-J", "-bm",
             "-odb", "--", "a@b.c"], b"\nbody\n", u, prog=SENDMAIL)
    expect("sendmail's ignored options", r, env=["Fu@host.example.com", "Ta@b.c"])
    expect("sendmail -q: unknown", run(["-q"], b"", u, prog=SENDMAIL), rc=100, err="usage: sendmail")
    expect("sendmail -bx: unknown mode", run(["-bx"], b"", u, prog=SENDMAIL), rc=100, err="usage: sendmail")
    expect("sendmail -f without its argument", run(["-f"], b"", u, prog=SENDMAIL), rc=100,
           err=r"option requires an argument -- f")

    fake_qread = inst.script("qmail-qread", STANDIN)
    fake_smtpd = inst.script("qmail-smtpd", STANDIN)
    want = subprocess.run([os.path.join(quail.BIN, "qmail-qread")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=dict(BASEENV), cwd=quail.ROOT, timeout=60)
    if fake_qread:
        r = run(["-bp"], b"", u, prog=SENDMAIL)
        out = r.out.decode()
        check(r.rc == 7 and out.startswith(os.path.join(quail.BIN, "qmail-qread") + " \n" + quail.ROOT + "\n"),
              "sendmail -bp runs qmail-qread in QMAILHOME", repr(r.out))
    else:
        r = run(["-bp"], b"", {}, prog=SENDMAIL, controls=None)
        check(r.rc == want.returncode and r.out == want.stdout, "sendmail -bp says what qmail-qread says",
              "%r %r / %r %r" % (r.rc, r.out[:200], want.returncode, want.stdout[:200]))
    d = tempfile.mkdtemp()
    try:
        os.symlink(SENDMAIL, os.path.join(d, "mailq"))
        r = run([], b"", {} if not fake_qread else u, prog=os.path.join(d, "mailq"), controls=None)
        check(r.rc == want.returncode and r.out.split(b"\n")[1:] == want.stdout.split(b"\n")[1:],
              "sendmail named mailq runs qmail-qread", repr(r.out))
        os.symlink(SENDMAIL, os.path.join(d, "newaliases"))
        r = run([], b"", u, prog=os.path.join(d, "newaliases"))
        expect("sendmail named newaliases", r, rc=100, err="please use fastforward/newaliases instead")
    finally:
        shutil.rmtree(d)
    if fake_smtpd:
        r = run(["-bs"], b"", u, prog=SENDMAIL)
        check(r.rc == 7 and r.out.decode().splitlines()[1:] == [
            quail.ROOT, "PROTO=TCP RELAYCLIENT= DATABYTES=0",
            "TCPLOCALIP=127.0.0.1 TCPLOCALHOST=localhost TCPREMOTEIP=127.0.0.1",
            "TCPREMOTEHOST=localhost TCPREMOTEINFO=sendmail-bs"], "sendmail -bs runs qmail-smtpd as from localhost",
              repr(r.out))
        r = run(["-bs"], b"", dict(u, PROTO="SSL"), prog=SENDMAIL)
        check(r.rc == 7 and "PROTO=SSL RELAYCLIENT=unset DATABYTES=unset" in r.out.decode(),
              "sendmail -bs with PROTO set leaves the environment alone", repr(r.out))
    else:
        # The instance's own qmail-smtpd, as sendmail -bs runs it: an SMTP
        # dialogue on stdin, the queue program recording what it got.
        dialogue = (b"HELO client\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n"
                    b"Subject: bs\r\n\r\nhello\r\n.\r\nQUIT\r\n")
        r = run(["-bs"], dialogue, {}, prog=SENDMAIL)
        lines = r.out.decode("latin-1").splitlines()
        check(r.rc == 0 and lines[:1] == ["220 host.example.com ESMTP"] and len(lines) == 7
              and lines[5].startswith("250 ok ") and lines[6] == "221 host.example.com",
              "sendmail -bs speaks SMTP through qmail-smtpd", repr(r.out))
        check(r.env == ["Fa@b.example", "Tc@d.example"], "sendmail -bs: relaying allowed (RELAYCLIENT), envelope as sent",
              repr(r.env))
        check(r.msg is not None and r.msg.startswith(b"Received: from localhost (HELO client) (sendmail-bs@127.0.0.1)\n")
              and r.msg.endswith(b"\nSubject: bs\n\nhello\n"), "sendmail -bs: qmail-smtpd's Received line, as from localhost",
              repr(r.msg))


# ---- predate, datemail, mailsubj ----

def test_predate(inst):
    for tz, want in [("UTC0", b"+0000"), ("IST-5:30", b"+0530"), ("NST3:30", b"-0330"), ("EST5", b"-0500")]:
        r = run(["cat"], b"Subject: x\n\nbody", {"TZ": tz, "PATH": os.environ.get("PATH", "/bin:/usr/bin")}, prog=PREDATE)
        m = re.fullmatch(rb"Date: (\d{1,2}) (\w{3}) (\d{4}) (\d\d):(\d\d):(\d\d) ([-+]\d{4})\nSubject: x\n\nbody", r.out)
        check(r.rc == 0 and m and m.group(7) == want, "predate with TZ=%s: offset %s" % (tz, want.decode()), repr(r.out))
    r = run(["sh", "-c", "cat >/dev/null; exit 7"], b"x\n", {"PATH": "/bin:/usr/bin"}, prog=PREDATE)
    expect("predate exits with the child's code", r, rc=7)
    r = run(["sh", "-c", "exit 0"], b"y" * 1000000, {"PATH": "/bin:/usr/bin"}, prog=PREDATE)
    expect("predate: a child that reads nothing", r, rc=0)
    expect("predate without a child", run([], b"", {}, prog=PREDATE), rc=100, err="usage: predate")
    expect("predate with a child that does not exist", run(["/nonexistent/x"], b"", {}, prog=PREDATE), rc=111,
           err="unable to run /nonexistent/x")
    r = run(["sh", "-c", "kill -9 $$"], b"", {"PATH": "/bin:/usr/bin"}, prog=PREDATE)
    expect("predate with a child that crashes", r, rc=111, err="child crashed")
    r = run([INJECT, "a@b.c"], b"Subject: dated\n\nbody\n", {"USER": "u", "TZ": "IST-5:30"}, prog=PREDATE)
    check(r.rc == 0 and re.match(rb"Message-ID: <[^>]*>\nFrom: u@host.example.com\nCc: [^\n]*\nDate: \d+ \w+ \d+ "
                                 rb"\d\d:\d\d:\d\d \+0530\nSubject: dated\n\nbody\n\Z", r.msg or b""),
          "predate qmail-inject: the local Date is kept, none added", repr(r.msg))


def script(name):
    """The built script, with its QMAILHOME/bin/ paths pointed at the
    build's programs (they are not installed into the instance)."""
    text = open(os.path.join(BIN, name)).read()
    return text.replace(os.path.join(quail.ROOT, "bin") + "/", BIN + "/")


def test_scripts(inst):
    inst.copy("qmail-inject", INJECT)
    text = open(os.path.join(BIN, "datemail")).read()
    check(text.startswith("#!/bin/sh\n") and
          'exec %s/bin/predate %s/bin/sendmail ${1+"$@"}\n' % (quail.ROOT, quail.ROOT) in text,
          "datemail is predate sendmail \"$@\" in QMAILHOME", text)
    text = open(os.path.join(BIN, "mailsubj")).read()
    check("| %s/bin/qmail-inject\n" % quail.ROOT in text, "mailsubj pipes into QMAILHOME/bin/qmail-inject", text)
    d = tempfile.mkdtemp()
    try:
        for name in ("datemail", "mailsubj"):
            with open(os.path.join(d, name), "w") as f:
                f.write(script(name))
            os.chmod(os.path.join(d, name), 0o755)
        path = {"PATH": "/bin:/usr/bin", "USER": "u"}
        r = run(["-t"], b"To: a@b.c\nSubject: s\n\nbody\n", dict(path, TZ="EST5"), prog=os.path.join(d, "datemail"))
        expect("datemail -t", r, env=["Fu@host.example.com", "Ta@b.c"])
        check(re.search(rb"\nDate: \d+ \w+ \d+ \d\d:\d\d:\d\d -0500\nTo: a@b.c\nSubject: s\n\nbody\n\Z", r.msg or b""),
              "datemail: the Date in local time", repr(r.msg))
        r = run(["Weekly $report\\n", "a@b.c", "joe"], b"the body\\c\n", path, prog=os.path.join(d, "mailsubj"))
        expect("mailsubj subject recips", r,
               msg=HEAD + b"From: u@host.example.com\nSubject: Weekly $report\\n\nTo: a@b.c, joe@host.example.com\n\n"
                          b"the body\\c\n",
               env=["Fu@host.example.com", "Tjoe@host.example.com", "Ta@b.c"])
        expect("mailsubj without recipients", run(["subject"], b"", path, prog=os.path.join(d, "mailsubj")), rc=100,
               err="usage: mailsubj", queued=False)
        expect("mailsubj passes on qmail-inject's exit code",
               run(["s", "a@b.c"], b"x\n", path, prog=os.path.join(d, "mailsubj"), fakeq={"FAKEQ_EXIT": "31"}), rc=100)
    finally:
        shutil.rmtree(d)


def main():
    saved = {}
    for name in CONTROLS:
        p = os.path.join(CONTROL, name)
        saved[name] = open(p).read() if os.path.isfile(p) else None
    inst = Installed()
    try:
        test_header_rules()
        test_environment()
        test_mft()
        test_controls()
        test_options()
        test_limits()
        test_exit_codes()
        test_real_queue()
        test_sendmail(inst)
        test_predate(inst)
        test_scripts(inst)
    finally:
        inst.remove()
        set_controls({})
        for name, text in saved.items():
            if text is not None:
                with open(os.path.join(CONTROL, name), "w") as f:
                    f.write(text)
    quail.done()


main()
