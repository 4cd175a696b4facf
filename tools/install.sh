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

# The virtual-domain store of conf-vpopmail (vpasswd(5)). It lies outside
# conf-qmail, so it is not in hier: base 0755, base/domains 0711 (each
# domain's owner must pass through it; vpopmail had 0700), owned by the
# store's user and group; base/bin holds links to the v* programs so that
# .qmail-default lines from a vpopmail site (/home/vpopmail/bin/vdelivermail)
# keep working. A real file there (vpopmail's own binary) is left alone.
vbase=${DESTDIR:-}$(sed -n 1p "$conf/conf-vpopmail")
vuser=$(sed -n 2p "$conf/conf-vpopmail")
vgroup=$(sed -n 3p "$conf/conf-vpopmail")
mkdir -p "$vbase/domains" "$vbase/bin"
if [ $chown_ok = 1 ] && ! chown "$vuser:$vgroup" "$vbase" "$vbase/domains"; then
	# a packager's DESTDIR install on a host without the store's user
	echo "install: $vbase: unable to give it to $vuser:$vgroup (tools/mkusers.sh creates them)" >&2
fi
chmod 0755 "$vbase" "$vbase/bin"
chmod 0711 "$vbase/domains"
hier_lines | while read -r type path owner group mode source; do
	case $type:$path in f:bin/v*) ;; *) continue ;; esac
	link=$vbase/bin/${path#bin/}
	if [ -e "$link" ] && [ ! -L "$link" ]; then
		echo "install: leaving $link alone (not a link): move it away to use $(conf_qmail)/$path" >&2
		continue
	fi
	ln -sfn "$(conf_qmail)/$path" "$link"
done
echo "installed into $dest (virtual domains in $vbase)"
