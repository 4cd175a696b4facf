#!/bin/sh
# datemail -- sendmail with a Date field in the sender's own time zone
# (datemail(1)): the message goes through predate, then sendmail.
exec @QMAILHOME@/bin/predate @QMAILHOME@/bin/sendmail ${1+"$@"}
