#!/bin/sh
# mkservice.sh CONF [NAME=VALUE ...] -- installs the daemontools service
# directories (service/*/run and log/run) into QMAILHOME/service, and the
# tcprules sources into QMAILHOME/etc with their .cdb, for the installation
# that CONF describes. `make setup` runs it; tools/demo.sh runs it with the
# demo's addresses. The templates' @NAME@ fields are filled from:
#   IP=0  SMTP_PORT=25  SUBMISSION_PORT=587  POP3_PORT=110
#   CHECKPASSWORD=QMAILHOME/bin/checkpassword   TCPDNS=  (-H: no DNS lookups)
#   FORCE=0  (1: overwrite run scripts that differ instead of writing run.new)
# and from CONF: tcpserver's -u and -g, the daemon user's uid and the
# nofiles group's gid (looked up now), and the log user (multilog runs as it
# through setuidgid). An unprivileged instance (CONF/conf-instance) runs
# everything as its user, without -u, -g or setuidgid.
# Nothing is started here: link the directories into /etc/service (or
# /service) to start them under svscan.
set -eu
conf=$1
shift
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/tools/roles.sh"
home=$(conf_qmail)
dest=${DESTDIR:-}$home

IP=0 SMTP_PORT=25 SUBMISSION_PORT=587 POP3_PORT=110 TCPDNS= FORCE=0
CHECKPASSWORD=$home/bin/checkpassword
for a in "$@"; do
	case $a in
	IP=* | SMTP_PORT=* | SUBMISSION_PORT=* | POP3_PORT=* | CHECKPASSWORD=* | TCPDNS=* | FORCE=*)
		v=${a#*=}
		case $v in *[!A-Za-z0-9/._:-]*) echo "mkservice: $a: unsafe characters" >&2; exit 100 ;; esac
		eval "${a%%=*}=\$v"
		;;
	*) echo "mkservice: unknown setting $a" >&2; exit 100 ;;
	esac
done
[ -z "$TCPDNS" ] || TCPDNS="$TCPDNS "

instance=0
[ -f "$conf/conf-instance" ] && instance=1
chown_ok=0
[ $instance = 0 ] && [ -z "${DESTDIR:-}" ] && [ "$(id -u)" = 0 ] && chown_ok=1

# The numeric ids tcpserver drops to. A packager's DESTDIR install may not
# have the users yet: the run script then looks them up when it starts.
if [ $instance = 1 ]; then
	# every role is the invoking user: tcpserver keeps its ids (-g would
	# need setgroups, which only root may call)
	tcpids= logas=
else
	# qmail-smtpd runs as qmaild with the virtual-domain store's group
	# (conf-vpopmail, vchkpw): its recipient check and SMTP AUTH through
	# vchkpw read the domains' vpasswd files (mode 0640), never a mailbox
	du=$(role_user daemon) ng=$(sed -n 3p "$conf/conf-vpopmail") lu=$(role_user log)
	duid=$(getent passwd "$du" | cut -d: -f3) || duid=
	ngid=$(getent group "$ng" | cut -d: -f3) || ngid=
	case $du in *[!0-9]*) ;; *) duid=$du ;; esac
	case $ng in *[!0-9]*) ;; *) ngid=$ng ;; esac
	[ -n "$duid" ] || duid="\"\$(id -u $du)\""
	[ -n "$ngid" ] || ngid="\"\$(getent group $ng | cut -d: -f3)\""
	logas="setuidgid $lu "
	tcpids="-u $duid -g $ngid "
fi

fill() { # template -> stdout
	sed -e "s}@QMAILHOME@}$home}g" -e "s}@IP@}$IP}g" -e "s}@SMTP_PORT@}$SMTP_PORT}g" \
		-e "s}@SUBMISSION_PORT@}$SUBMISSION_PORT}g" -e "s}@POP3_PORT@}$POP3_PORT}g" \
		-e "s}@CHECKPASSWORD@}$CHECKPASSWORD}g" -e "s}@TCPDNS@}$TCPDNS}g" \
		-e "s}@TCPIDS@}$tcpids}g" -e "s}@LOGAS@}$logas}g" "$1"
}

put() { # template target mode: a changed script an admin may have edited
	# is not overwritten (unless FORCE=1): the new one goes next to it
	fill "$1" >"$2.tmp"
	chmod "$3" "$2.tmp"
	if [ ! -f "$2" ] || [ "$FORCE" = 1 ]; then
		mv -f "$2.tmp" "$2"
	elif cmp -s "$2.tmp" "$2"; then
		rm -f "$2.tmp"
	else
		mv -f "$2.tmp" "$2.new"
		echo "mkservice: $2 differs from this version's; the new one is $2.new" >&2
	fi
}

mkdir -p "$dest/service" "$dest/etc"
for s in qmail-send qmail-smtpd qmail-submission qmail-pop3d; do
	d=$dest/service/$s
	mkdir -p "$d/log/main"
	chmod 755 "$d" "$d/log"
	put "$src/service/$s/log/run" "$d/log/run" 755
	put "$src/service/$s/run" "$d/run" 755
	if [ $chown_ok = 1 ]; then
		chown "$(role_user owner):$(role_group qmail)" "$d" "$d/log"
		chown "$(role_user log):$(role_group nofiles)" "$d/log/main"
	fi
	chmod 2755 "$d/log/main"
done

# tcprules sources are the admin's: installed only when missing.
for t in tcp.smtp tcp.pop3; do
	[ -f "$dest/etc/$t" ] || { cp "$src/service/$t" "$dest/etc/$t.tmp" && chmod 644 "$dest/etc/$t.tmp" && mv "$dest/etc/$t.tmp" "$dest/etc/$t"; }
	if [ ! -f "$dest/etc/$t.cdb" ] || [ "$dest/etc/$t" -nt "$dest/etc/$t.cdb" ]; then
		if command -v tcprules >/dev/null 2>&1; then
			tcprules "$dest/etc/$t.cdb" "$dest/etc/$t.tmp" <"$dest/etc/$t"
			chmod 644 "$dest/etc/$t.cdb"
		else
			echo "mkservice: no tcprules (Debian: apt-get install ucspi-tcp-ipv6); run qmailctl cdb once it is there" >&2
		fi
	fi
done
echo "service directories in $dest/service"
