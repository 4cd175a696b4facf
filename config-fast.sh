#!/bin/sh
# config-fast FQDN -- writes the first control files of the qmail installation
# in @QMAILHOME@: me, defaultdomain, plusdomain, locals and rcpthosts, as
# qmail's config-fast does. Running it again changes nothing that is already
# there (locals and rcpthosts get no duplicate lines).
set -eu
home=@QMAILHOME@
case $# in 1) ;; *) echo "usage: config-fast fully.qualified.host.name" >&2; exit 100 ;; esac
fqdn=$1
case $fqdn in
'' | .* | *. | *..* | *[!A-Za-z0-9.-]*)
	echo "config-fast: '$fqdn' is not a host name (letters, digits, dots and dashes)" >&2
	exit 100
	;;
esac
cd "$home/control" || { echo "config-fast: unable to chdir to $home/control" >&2; exit 111; }

put() { # file value: replace the file atomically
	printf '%s\n' "$2" >"$1.tmp" && chmod 644 "$1.tmp" && mv -f "$1.tmp" "$1"
}
add() { # file value: append the line unless it is there already
	if [ -f "$1" ] && grep -qixF -- "$2" "$1"; then
		echo "$2 is already in control/$1."
		return 0
	fi
	{ [ -f "$1" ] && cat "$1"; printf '%s\n' "$2"; } >"$1.tmp" && chmod 644 "$1.tmp" && mv -f "$1.tmp" "$1"
}

echo "Your fully qualified host name is $fqdn."
echo "Putting $fqdn into control/me..."
put me "$fqdn"
ddom=$(echo "$fqdn" | sed 's/^\([^.]*\)\.\([^.]*\)\./\2./')
echo "Putting $ddom into control/defaultdomain..."
put defaultdomain "$ddom"
pdom=$(echo "$fqdn" | sed 's/^.*\.\([^.]*\)\.\([^.]*\)$/\1.\2/')
echo "Putting $pdom into control/plusdomain..."
put plusdomain "$pdom"
echo "Putting $fqdn into control/locals..."
add locals "$fqdn"
echo "Putting $fqdn into control/rcpthosts..."
add rcpthosts "$fqdn"
echo "Now qmail will refuse to accept SMTP messages except to $fqdn."
echo 'Make sure to change rcpthosts if you add hosts to locals or virtualdomains!'
