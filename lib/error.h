#ifndef ERROR_H
#define ERROR_H

/* The one place that decides whether a failure is worth retrying.
 *
 * error_temp(e) is 1 unless retrying later cannot help without somebody
 * changing the input itself. Out of memory, full disks, timeouts, I/O
 * errors, permission problems and missing files are all temporary: an
 * administrator can fix them and the mail then goes through. When unsure,
 * a failure is temporary (a deferred message is late; a bounced one is
 * lost to its sender). */
int error_temp(int e);

/* A short, stable description of e ("out of disk space"), for logs and
 * SMTP replies. Never null. */
const char *error_str(int e);

#endif
