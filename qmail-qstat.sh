#!/bin/sh
# qmail-qstat -- summarize the queue: every message in it, and those that
# qmail-send has not preprocessed yet (still in todo/). Run as root or as a
# member of the qmail group.
cd @QMAILHOME@/queue || { echo "qmail-qstat: fatal: unable to chdir to @QMAILHOME@/queue" >&2; exit 111; }
mess=$(find mess -type f 2>/dev/null | wc -l) || exit 111
todo=$(find todo -type f 2>/dev/null | wc -l) || exit 111
echo "messages in queue: $((mess + todo))"
echo "messages in queue but not yet preprocessed: $todo"
