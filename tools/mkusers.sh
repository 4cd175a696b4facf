#!/bin/sh
# mkusers.sh CONF -- as root, creates the qmail users and groups named in
# CONF/conf-users and CONF/conf-groups that do not exist yet, the way
# qmail's INSTALL.ids does: alias, qmaild, qmaill, qmailp in the nofiles
# group, qmailq, qmailr, qmails in the qmail group, with no login shell.
set -eu
conf=$1 src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/tools/roles.sh"
home=$(conf_qmail)
shell=/usr/sbin/nologin
[ -x $shell ] || shell=/bin/false
g_qmail=$(role_group qmail) g_nofiles=$(role_group nofiles)
for g in "$g_qmail" "$g_nofiles"; do
	case $g in *[!0-9]*) ;; *) continue ;; esac # numeric: nothing to create
	getent group "$g" >/dev/null || groupadd -r "$g"
done
mk() { # role group home
	u=$(role_user "$1")
	case $u in *[!0-9]*) ;; *) return 0 ;; esac
	getent passwd "$u" >/dev/null && return 0
	useradd -r -g "$2" -d "$3" -s "$shell" -M "$u"
}
mk alias "$g_nofiles" "$home/alias"
mk daemon "$g_nofiles" "$home"
mk log "$g_nofiles" "$home"
mk passwd "$g_nofiles" "$home"
mk queue "$g_qmail" "$home"
mk remote "$g_qmail" "$home"
mk send "$g_qmail" "$home"

# The owner of the virtual-domain store (conf-vpopmail), as vpopmail's
# INSTALL makes it: groupadd -g 89 vchkpw; useradd -g vchkpw -u 89 vpopmail
# (89 when it is free), home the store's base, no login shell.
vbase=$(sed -n 1p "$conf/conf-vpopmail")
vuser=$(sed -n 2p "$conf/conf-vpopmail")
vgroup=$(sed -n 3p "$conf/conf-vpopmail")
case $vgroup in
*[!0-9]*)
	if ! getent group "$vgroup" >/dev/null; then
		if getent group 89 >/dev/null; then groupadd -r "$vgroup"; else groupadd -g 89 "$vgroup"; fi
	fi
	;;
esac
case $vuser in
*[!0-9]*)
	if ! getent passwd "$vuser" >/dev/null; then
		if getent passwd 89 >/dev/null; then
			useradd -r -g "$vgroup" -d "$vbase" -s "$shell" -M "$vuser"
		else
			useradd -u 89 -g "$vgroup" -d "$vbase" -s "$shell" -M "$vuser"
		fi
	fi
	;;
esac
