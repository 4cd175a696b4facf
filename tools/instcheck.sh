#!/bin/sh
# instcheck.sh BUILD CONF -- verifies an installed tree against the hier
# table: every entry exists with the right type, owner, group and mode, and
# every program is the one this build made. Prints each problem; exits 0
# only if there is none.
set -eu
o=$1 conf=$2
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/tools/roles.sh"
dest=${DESTDIR:-}$(conf_qmail)
split=$(conf_split)
bad=0
problem() { echo "check: $*" >&2; bad=1; }

uid_of() { case $1 in *[!0-9]*) getent passwd "$1" | cut -d: -f3 ;; *) echo "$1" ;; esac; }
gid_of() { case $1 in *[!0-9]*) getent group "$1" | cut -d: -f3 ;; *) echo "$1" ;; esac; }

verify() { # path type owner group mode
	if [ ! -e "$1" ] && [ ! -p "$1" ]; then problem "$1 is missing"; return; fi
	case $2 in
	d | s) [ -d "$1" ] || problem "$1 is not a directory" ;;
	p) [ -p "$1" ] || problem "$1 is not a named pipe" ;;
	*) [ -f "$1" ] || problem "$1 is not a regular file" ;;
	esac
	want_mode=$(echo "$5" | sed 's/^0*//')
	got=$(stat -c '%u %g %a' "$1")
	if [ -f "$conf/conf-instance" ]; then
		want="$(id -u) $(id -g) $want_mode"
	else
		want="$(uid_of "$(role_user "$3")") $(gid_of "$(role_group "$4")") $want_mode"
	fi
	[ "$got" = "$want" ] || problem "$1: owner, group, mode are $got; want $want"
}

hier_lines | {
	while read -r type path owner group mode source; do
		target=$dest/$path
		case $type in
		s)
			i=0
			while [ $i -lt "$split" ]; do
				verify "$target/$i" s "$owner" "$group" "$mode"
				i=$((i + 1))
			done
			;;
		c) [ -e "$target" ] || problem "$target is missing" ;;
		f)
			verify "$target" f "$owner" "$group" "$mode"
			case $source in bin/*) from=$o/$source ;; *) from=$src/$source ;; esac
			[ ! -f "$target" ] || cmp -s "$from" "$target" || problem "$target differs from $from"
			;;
		*) verify "$target" "$type" "$owner" "$group" "$mode" ;;
		esac
	done
	[ $bad = 0 ] || exit 111
}
echo "checked $dest: all as the hier table says"
