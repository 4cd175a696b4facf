#!/bin/sh
# qmailctl -- control the supervised Quail services (as "Life with qmail"'s
# qmailctl does): qmail-send, qmail-smtpd, qmail-submission and qmail-pop3d
# in @QMAILHOME@/service (or $QMAILCTL_SERVICE), through daemontools' svc.
# See qmailctl(8).
home=@QMAILHOME@
sv=${QMAILCTL_SERVICE:-$home/service}
PATH=$home/bin:/usr/local/bin:/usr/bin:/bin
export PATH
me=qmailctl

die() { echo "$me: fatal: $2" >&2; exit "$1"; }
need() { command -v "$1" >/dev/null 2>&1 || die 111 "$1 not found: install daemontools (Debian: apt-get install daemontools)"; }

# The services that are installed, qmail-send first.
services() {
	for s in qmail-send qmail-smtpd qmail-submission qmail-pop3d; do
		[ -f "$sv/$s/run" ] && echo "$s"
	done
}
# The network services (stopped before qmail-send, started after it).
network() { services | grep -v '^qmail-send$'; }

supervised() { # dir: is a supervise process running for it?
	svok "$1" 2>/dev/null
}

svc_all() { # svc-option service...: sends the command to each supervised one
	opt=$1
	shift
	bad=0
	for s in "$@"; do
		if supervised "$sv/$s"; then
			svc "$opt" "$sv/$s" || bad=1
		else
			echo "$me: $s is not running under supervise: link $sv/$s into /etc/service (or /service)" >&2
			bad=1
		fi
	done
	return $bad
}

cmd=${1:-help}
case $cmd in
start)
	need svc
	echo "Starting Quail."
	rc=0
	for s in $(services); do
		svc_all -u "$s" || rc=111
		if supervised "$sv/$s/log"; then svc -u "$sv/$s/log" || rc=111; fi
	done
	exit $rc
	;;
stop)
	need svc
	echo "Stopping Quail: the network services first, then qmail-send."
	rc=0
	for s in $(network); do svc_all -d "$s" || rc=111; done
	svc_all -d qmail-send || rc=111
	exit $rc
	;;
restart)
	need svc
	echo "Restarting Quail."
	rc=0
	for s in $(network); do svc_all -d "$s" || rc=111; done
	svc_all -t qmail-send || rc=111
	svc_all -u qmail-send || rc=111
	for s in $(network); do svc_all -u "$s" || rc=111; done
	exit $rc
	;;
reload | hup)
	need svc
	echo "Telling qmail-send to reread locals and virtualdomains."
	svc_all -h qmail-send || exit 111
	;;
flush | doqueue | alrm)
	need svc
	echo "Telling qmail-send to retry every message in the queue now."
	svc_all -a qmail-send || exit 111
	;;
pause)
	need svc
	echo "Pausing qmail-send and the network services."
	rc=0
	for s in $(services); do svc_all -p "$s" || rc=111; done
	exit $rc
	;;
cont)
	need svc
	echo "Continuing qmail-send and the network services."
	rc=0
	for s in $(services); do svc_all -c "$s" || rc=111; done
	exit $rc
	;;
stat)
	need svstat
	for s in $(services); do
		svstat "$sv/$s" "$sv/$s/log"
	done
	qmail-qstat
	;;
queue)
	qmail-qstat && qmail-qread
	;;
cdb)
	command -v tcprules >/dev/null 2>&1 || die 111 "tcprules not found: install ucspi-tcp (Debian: apt-get install ucspi-tcp-ipv6)"
	rc=0
	for t in "$home"/etc/tcp.*; do
		case $t in *.cdb | *.tmp | *"*") continue ;; esac
		if tcprules "$t.cdb" "$t.tmp" <"$t" && chmod 644 "$t.cdb"; then
			echo "Rebuilt $t.cdb."
		else
			echo "$me: unable to rebuild $t.cdb from $t" >&2
			rc=111
		fi
	done
	exit $rc
	;;
help)
	cat <<HELP
usage: qmailctl command
  start    start the services (svc -u)
  stop     stop the network services, then qmail-send (svc -d)
  restart  stop the network services, restart qmail-send, start them again
  reload   make qmail-send reread locals and virtualdomains (svc -h); also: hup
  flush    make qmail-send retry every queued message now (svc -a); also: doqueue, alrm
  pause    pause the services (svc -p)
  cont     continue paused services (svc -c)
  stat     the state of each service and its log, and the queue's size
  queue    the queue's size and its messages (qmail-qstat, qmail-qread)
  cdb      rebuild the tcprules databases from $home/etc/tcp.*
  help     this text
services: $sv
HELP
	;;
*)
	echo "$me: unknown command '$cmd'; try: qmailctl help" >&2
	exit 100
	;;
esac
