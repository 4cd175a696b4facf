#!/bin/sh
# mailsubj subject recip ... -- send the standard input as the body of a
# message with the given subject to the recipients (mailsubj(1)). The
# recipients go into the To field, separated by spaces as qmail's mailsubj
# puts them there; qmail-inject turns the spaces into commas and sends the
# message to everybody in To.
case $# in
0 | 1)
	echo "mailsubj: usage: mailsubj subject recip ..." >&2
	exit 100
	;;
esac
subject=$1
shift
IFS=' '
{
	printf 'Subject: %s\n' "$subject"
	printf 'To: %s\n' "$*"
	printf '\n'
	exec cat
} | @QMAILHOME@/bin/qmail-inject
