#!/bin/sh
# mkconf-instance.sh FROMCONF TOCONF ROOT -- writes the conf-* files of an
# unprivileged instance: conf-qmail is ROOT, every user and group role is the
# invoking user and group, everything else is copied from FROMCONF.
set -eu
from=$1 to=$2 root=$3
mkdir -p "$to"
user=$(id -un) group=$(id -gn)
for f in conf-split conf-spawn conf-break conf-patrn conf-cc conf-ld; do
	# keep the file untouched if it already has this content (no rebuild)
	if ! cmp -s "$from/$f" "$to/$f"; then cp "$from/$f" "$to/$f.tmp" && mv "$to/$f.tmp" "$to/$f"; fi
done
put() { # file content
	if [ "$(cat "$to/$1" 2>/dev/null)" != "$2" ]; then printf '%s\n' "$2" > "$to/$1.tmp" && mv "$to/$1.tmp" "$to/$1"; fi
}
put conf-qmail "$root"
put conf-users "$(for i in 1 2 3 4 5 6 7 8; do echo "$user"; done)"
put conf-groups "$(printf '%s\n%s' "$group" "$group")"
put conf-vpopmail "$(printf '%s\n%s\n%s' "$root/vpopmail" "$user" "$group")"
put conf-instance "unprivileged"
