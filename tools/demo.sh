#!/bin/sh
# demo.sh start|stop -- `make demo` and `make demo-stop`.
#
# start: builds an unprivileged instance whose home is ./demo (programs in
# demo/bin, the queue in demo/queue, the virtual domains in demo/vpopmail),
# installs the service templates into demo/service for 127.0.0.1 (SMTP 2525,
# submission with AUTH 2587, POP3 2110), starts svscan on them in a session
# of its own, creates the virtual domain example.test with the user
# demo@example.test, delivers a welcome message and prints how to use it.
# A demo that is already running is stopped first, so running it twice is a
# restart. Nothing outside ./demo is written (but apt-get, as root).
#
# stop: stops what start started: svscan (by the pid in demo/svscan.pid),
# then each service and its log (svc -dx), then whatever is left of
# svscan's session.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
D=$src/demo
PIDFILE=$D/svscan.pid
IP=127.0.0.1
SMTP=2525 SUBMISSION=2587 POP3=2110
DOMAIN=example.test USER=demo
me="make demo"
say() { printf '%s\n' "$*"; }
die() { say "$me: $2" >&2; exit "$1"; }
unset MAKEFLAGS MFLAGS MAKELEVEL 2>/dev/null

# ---- the running demo ----

# pids of the processes in the session SID (svscan's pid): svscan,
# supervise, and everything they started, unless one left the session.
session_pids() {
	for d in /proc/[0-9]*; do
		s=$(sed 's/.*) //' "$d/stat" 2>/dev/null | cut -d' ' -f4)
		[ "$s" = "$1" ] && printf '%s\n' "${d#/proc/}"
	done
}

# The pid in demo/svscan.pid, if its session is still the demo's: one of
# its processes works in demo/service (svscan and supervise do). A pid
# reused after a reboot names someone else's session, which is left alone.
running_pid() {
	[ -f "$PIDFILE" ] || return 1
	p=$(cat "$PIDFILE" 2>/dev/null)
	case $p in '' | *[!0-9]*) return 1 ;; esac
	for q in $(session_pids "$p"); do
		case $(readlink "/proc/$q/cwd" 2>/dev/null) in
		"$D/service" | "$D/service/"*) printf '%s\n' "$p"; return 0 ;;
		esac
	done
	return 1
}

wait_until() { # seconds command...: polls the command every 0.2 s
	n=$(($1 * 5))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}

none_supervised() { # dir...: no supervise runs for any of them
	for d in "$@"; do svok "$d" 2>/dev/null && return 1; done
	return 0
}

session_empty() { [ -z "$(session_pids "$1")" ]; }

stop() {
	sid=$(running_pid) || {
		rm -f "$PIDFILE"
		say "make demo-stop: no demo is running"
		return 0
	}
	say "make demo-stop: stopping the demo (svscan pid $sid)"
	# svscan first, so that it restarts nothing; then the services, whose
	# supervise exits (-x) once the service is down; then the logs, once
	# nothing writes to them any more.
	kill -TERM "$sid" 2>/dev/null
	svcs= logs=
	for s in "$D"/service/*/; do
		s=${s%/}
		[ -f "$s/run" ] || continue
		svcs="$svcs $s" logs="$logs $s/log"
	done
	# shellcheck disable=SC2086
	{
		svc -dx $svcs 2>/dev/null
		wait_until 30 none_supervised $svcs
		svc -dx $logs 2>/dev/null
		wait_until 10 none_supervised $logs
	}
	if ! wait_until 10 session_empty "$sid"; then
		left=$(session_pids "$sid" | tr '\n' ' ')
		say "make demo-stop: still running, sending TERM: $left"
		# shellcheck disable=SC2086
		kill -TERM $left 2>/dev/null
		if ! wait_until 5 session_empty "$sid"; then
			left=$(session_pids "$sid" | tr '\n' ' ')
			# shellcheck disable=SC2086
			kill -KILL $left 2>/dev/null
			wait_until 5 session_empty "$sid"
		fi
	fi
	rm -f "$PIDFILE"
	say "make demo-stop: stopped"
}

# ---- starting ----

need_packages() {
	need=
	for c in tcpserver tcprules; do command -v $c >/dev/null 2>&1 || need=" ucspi-tcp-ipv6"; done
	for c in svscan supervise multilog svc svok; do command -v $c >/dev/null 2>&1 || { need="$need daemontools"; break; }; done
	command -v swaks >/dev/null 2>&1 || need="$need swaks"
	cc=$(head -n 1 "$src/conf-cc" | cut -d' ' -f1)
	command -v "$cc" >/dev/null 2>&1 || need="$need $cc libc6-dev"
	[ -n "$need" ] || return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		say "$me: installing$need"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >/dev/null 2>&1 ||
			{ apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >/dev/null; } ||
			die 111 "apt-get install$need failed"
	else
		die 111 "missing$need; as root run: apt-get install$need"
	fi
}

# Is something listening on TCP port $1 (any address, IPv4 or IPv6)?
port_busy() {
	hex=$(printf ':%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		awk -v p="$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }'
}

all_listening() {
	for p in $SMTP $SUBMISSION $POP3; do port_busy $p || return 1; done
}

send_started() {
	grep -q 'status: local' "$D/service/qmail-send/log/main/current" 2>/dev/null
}

randpw() { # 12 letters and digits
	LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom 2>/dev/null | head -c 12
}

show_log() { # file: its last lines, for a failure
	[ -f "$1" ] || return 0
	say "--- last lines of ${1#"$src"/}:"
	tail -n 15 "$1" | sed 's/^/    /'
}

start() {
	case $src in *[!A-Za-z0-9/._+@=,-]*)
		die 100 "the checkout's path '$src' has characters other than A-Z a-z 0-9 / . _ + @ = , - (conf-qmail cannot hold them): clone it elsewhere" ;;
	esac
	need_packages
	if running_pid >/dev/null; then
		say "$me: a demo is running: restarting it"
		stop
	fi
	for p in $SMTP $SUBMISSION $POP3; do
		port_busy $p && die 111 "port $p is in use on this host (another program, or a demo from another checkout); stop it first (the demo always uses $IP ports $SMTP, $SUBMISSION and $POP3)"
	done
	mkdir -p "$D" || die 111 "unable to create $D"

	say "$me: building the instance in demo/ (log: demo/build.log)"
	if ! make -s -C "$src" instance ROOT="$D" INST_O="$D/build" >"$D/build.log" 2>&1; then
		show_log "$D/build.log"
		die 111 "the build failed"
	fi
	bin=$D/bin
	[ -x "$bin/vadddomain" ] && [ -x "$bin/vadduser" ] && [ -x "$bin/vchkpw" ] ||
		die 111 "this checkout has no vadddomain, vadduser or vchkpw yet (virtual domains): the demo needs them"

	# control files: a host name for the instance, the default delivery
	[ -s "$D/control/me" ] || "$bin/config-fast" mail.$DOMAIN >/dev/null || die 111 "config-fast failed"
	[ -s "$D/control/defaultdelivery" ] || echo ./Maildir/ >"$D/control/defaultdelivery"

	if ! sh "$src/tools/mkservice.sh" "$D/build/conf" IP=$IP SMTP_PORT=$SMTP SUBMISSION_PORT=$SUBMISSION \
		POP3_PORT=$POP3 TCPDNS=-H CHECKPASSWORD="$bin/vchkpw" FORCE=1 >"$D/service.log" 2>&1; then
		show_log "$D/service.log"
		die 111 "unable to install the services into demo/service"
	fi

	say "$me: starting svscan on demo/service"
	rm -f "$D/service/qmail-send/log/main/current"
	: >>"$D/svscan.log"
	(
		cd / || exit 111
		# a session of its own: demo-stop finds everything svscan started
		# by the session id, which is svscan's pid
		exec setsid sh -c 'echo $$ >"$1" && exec env - PATH="$2" svscan "$3"' \
			sh "$PIDFILE" "$bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" "$D/service" \
			</dev/null >>"$D/svscan.log" 2>&1
	) &
	if ! wait_until 20 all_listening || ! wait_until 20 send_started; then
		for s in qmail-smtpd qmail-submission qmail-pop3d qmail-send; do
			show_log "$D/service/$s/log/main/current"
		done
		show_log "$D/svscan.log"
		stop >/dev/null
		die 111 "the services did not start (their logs are above)"
	fi

	# The domain and the user, made once; the password is kept in
	# demo/password so that a restart keeps it.
	QMAILSEND_SERVICE=$D/service/qmail-send
	export QMAILSEND_SERVICE
	owner=
	if [ "$(id -u)" = 0 ]; then
		# qmail-lspawn never delivers as root: the domain belongs to nobody
		owner="-i $(id -u nobody) -g $(id -g nobody)"
	fi
	# -b: mail for unknown users bounces (and is refused at RCPT), which the
	# walkthrough in TEST shows; vpopmail's default would drop it
	if ! grep -q "^+$DOMAIN-:" "$D/users/assign" 2>/dev/null; then
		# shellcheck disable=SC2086
		"$bin/vadddomain" -b $owner $DOMAIN "$(randpw)" >"$D/vadddomain.log" 2>&1 ||
			{ show_log "$D/vadddomain.log"; die 111 "vadddomain $DOMAIN failed"; }
	fi
	pw=$(cat "$D/password" 2>/dev/null)
	[ -n "$pw" ] || { pw=$(randpw) && (umask 077 && echo "$pw" >"$D/password"); }
	if "$bin/vuserinfo" -d "$USER@$DOMAIN" >/dev/null 2>&1; then
		"$bin/vpasswd" "$USER@$DOMAIN" "$pw" >"$D/vadduser.log" 2>&1 ||
			{ show_log "$D/vadduser.log"; die 111 "vpasswd $USER@$DOMAIN failed"; }
	else
		"$bin/vadduser" "$USER@$DOMAIN" "$pw" >"$D/vadduser.log" 2>&1 ||
			{ show_log "$D/vadduser.log"; die 111 "vadduser $USER@$DOMAIN failed"; }
	fi
	home=$("$bin/vuserinfo" -d "$USER@$DOMAIN" 2>/dev/null)
	[ -n "$home" ] || home=$D/vpopmail/domains/$DOMAIN/$USER
	maildir=$home/Maildir

	# The welcome message, through the queue: it arrives only if qmail-send
	# and the virtual domain work.
	token=$(date +%s).$$
	before=$(ls "$maildir/new" 2>/dev/null | wc -l)
	"$bin/qmail-inject" -fpostmaster@$DOMAIN "$USER@$DOMAIN" <<EOF || die 111 "qmail-inject failed"
From: Quail demo <postmaster@$DOMAIN>
To: $USER@$DOMAIN
Subject: Welcome to the Quail demo
X-Demo-Token: $token

This message went through qmail-inject, qmail-queue, qmail-send,
qmail-lspawn, qmail-local and vdelivermail into this Maildir:

  $maildir

Send more with swaks or demo/bin/sendmail, read them over POP3 on
$IP port $POP3. README.md says more.
EOF
	delivered() { grep -qs "X-Demo-Token: $token" "$maildir"/new/* "$maildir"/cur/*; }
	if ! wait_until 20 delivered; then
		show_log "$D/service/qmail-send/log/main/current"
		die 111 "the welcome message was not delivered to $maildir within 20 seconds (the qmail-send log is above)"
	fi

	rel=${maildir#"$src"/}
	asuser=$(id -un)
	cat <<EOF

Quail demo running on $IP (every program runs as $asuser; this is a
demonstration, not a production setup).

  SMTP        $IP:$SMTP   mail for $DOMAIN; clients on $IP may relay
  submission  $IP:$SUBMISSION   AUTH required (PLAIN or LOGIN)
  POP3        $IP:$POP3
  user:       $USER@$DOMAIN
  password:   $pw

Send a message:
  swaks --server $IP --port $SMTP --to $USER@$DOMAIN
  swaks --server $IP --port $SUBMISSION --auth LOGIN --auth-user $USER@$DOMAIN \\
        --auth-password $pw --to $USER@$DOMAIN
  printf 'Subject: hello\\n\\nhello\\n' | demo/bin/sendmail $USER@$DOMAIN

Read it:
  over POP3: $IP port $POP3, user $USER@$DOMAIN, password $pw, e.g.
    python3 -c 'import poplib; p = poplib.POP3("$IP", $POP3); p.user("$USER@$DOMAIN"); p.pass_("$pw"); print(p.stat())'
  in the Maildir: $rel/new/ (a welcome message is there)

Logs:     tai64nlocal < demo/service/qmail-send/log/main/current  (also qmail-smtpd, qmail-submission, qmail-pop3d)
Control:  demo/bin/qmailctl stat | queue | flush | reload
Stop:     make demo-stop
EOF
}

case ${1:-} in
start) start ;;
stop) stop ;;
*) die 100 "usage: demo.sh start|stop" ;;
esac
