# bench/lib.sh -- what Quail's benchmark scripts share (sourced, not run).
#
# Sets repo and SHARED, sources the shared harness (benchlib.sh: BIN,
# BENCH_WORK, cgroups, make_msg, summarise), and provides:
#   quail_install LOG   build this checkout and install it, as shipped
#                       (static, setuid qmail-queue), into $QH
#   clear_queue HOME    delete every queued file of a qmail-style install
#   median              median of the numbers on standard input
#   raw_mark, raw_this_run   the lines of $RAW this run added (the file
#                       keeps every earlier run's too)
# The caller sets ME (its name, for messages) before sourcing.

repo=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED_BENCH:-$repo/../shared/bench}
[ -f "$SHARED/benchlib.sh" ] || { echo "$ME: no shared harness in $SHARED (set SHARED_BENCH)" >&2; exit 100; }
. "$SHARED/benchlib.sh"
[ "$(id -u)" = 0 ] || { echo "$ME: run as root (cgroup CPU accounting, setuid install)" >&2; exit 100; }

QH=$BENCH_WORK/quail

quail_install() { # log file
	local conf=$BENCH_WORK/quail-conf f
	mkdir -p "$conf"
	for f in "$repo"/conf-*; do cp "$f" "$conf/"; done
	echo "$QH" >"$conf/conf-qmail"
	make -s -C "$repo" O="$BENCH_WORK/quail-build" CONF="$conf" setup >"$1" 2>&1 || { cat "$1"; exit 111; }
}

# Between runs each queue is emptied by deleting its files, as qmail-send
# would (untimed): on ext4 without a journal that makes the next runs'
# inode allocation skip recently freed inodes, for both systems alike.
clear_queue() { # home
	find "$1/queue" -mindepth 1 \( -path "$1/queue/lock" -prune \) -o -type f -print0 | xargs -0r rm -f
}

median() { sort -n | awk '{a[NR]=$1} END{ if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }

raw_mark() { RAWSTART=0; [ -f "$RAW" ] && RAWSTART=$(wc -l <"$RAW"); }
raw_this_run() { tail -n +"$((RAWSTART + 1))" "$RAW" | grep -v '^#'; }
