#!/bin/sh
# install.sh BUILD CONF -- installs what BUILD holds into conf-qmail (read
# from CONF), exactly as the hier table says: directories, programs, man
# pages, the queue, owners and modes. Honours DESTDIR. Run as root for a
# system install (it first creates missing qmail users and groups); an
# unprivileged instance (CONF/conf-instance exists) installs as its user.
set -eu
o=$1 conf=$2
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/tools/roles.sh"
dest=${DESTDIR:-}$(conf_qmail)
split=$(conf_split)
me=$(id -u)

chown_ok=1
if [ -f "$conf/conf-instance" ]; then
	chown_ok=0 # every role is the invoking user already
elif [ "$me" = 0 ]; then
	[ -n "${DESTDIR:-}" ] || sh "$src/tools/mkusers.sh" "$conf"
elif [ -n "${DESTDIR:-}" ]; then
	chown_ok=0
	echo "install: not root: owners are left to the packager (DESTDIR=$DESTDIR)" >&2
else
	echo "install: a system install must run as root; for a private copy use: make instance ROOT=/some/dir" >&2
	exit 100
fi

own() { # path ownerrole grouprole mode
	if [ $chown_ok = 1 ]; then chown "$(role_user "$2"):$(role_group "$3")" "$1"; fi
	chmod "$4" "$1"
}

mkdir -p "$dest"
hier_lines | while read -r type path owner group mode source; do
	target=$dest/$path
	case $type in
	d)
		mkdir -p "$target"
		own "$target" "$owner" "$group" "$mode"
		;;
	s)
		i=0
		while [ $i -lt "$split" ]; do
			mkdir -p "$target/$i"
			own "$target/$i" "$owner" "$group" "$mode"
			i=$((i + 1))
		done
		;;
	f | c)
		case $source in bin/*) from=$o/$source ;; *) from=$src/$source ;; esac
		[ -f "$from" ] || { echo "install: missing $from" >&2; exit 111; }
		if [ "$type" = c ] && [ -e "$target" ]; then continue; fi
		# copy next to the target, then rename: a running program is never
		# overwritten in place
		cp "$from" "$target.new"
		own "$target.new" "$owner" "$group" "$mode"
		mv -f "$target.new" "$target"
		;;
	p)
		[ -p "$target" ] || { rm -f "$target"; mkfifo "$target"; }
		own "$target" "$owner" "$group" "$mode"
		;;
	z)
		[ -f "$target" ] || : >"$target"
		own "$target" "$owner" "$group" "$mode"
		;;
	*)
		echo "install: hier: unknown type $type" >&2
		exit 100
		;;
	esac
done
echo "installed into $dest"
