# roles.sh -- sourced by the install scripts: maps the roles of the hier
# table to the user and group names of a configuration directory ($conf).
role_user() {
	case $1 in
	alias) n=1 ;; daemon) n=2 ;; log) n=3 ;; owner) n=4 ;; passwd) n=5 ;; queue) n=6 ;; remote) n=7 ;; send) n=8 ;;
	*) echo "unknown user role $1" >&2; exit 100 ;;
	esac
	sed -n "${n}p" "$conf/conf-users"
}
role_group() {
	case $1 in
	qmail) n=1 ;; nofiles) n=2 ;;
	*) echo "unknown group role $1" >&2; exit 100 ;;
	esac
	sed -n "${n}p" "$conf/conf-groups"
}
conf_qmail() { head -n 1 "$conf/conf-qmail"; }
conf_split() { head -n 1 "$conf/conf-split"; }
# hier without comments and blank lines
hier_lines() { grep -v '^[[:space:]]*#' "$src/hier" | grep -v '^[[:space:]]*$'; }
