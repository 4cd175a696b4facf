#ifndef TIMEOUTCONN_H
#define TIMEOUTCONN_H

#include <sys/socket.h>

/* connect() with a time limit, as qmail's timeoutconn: the socket is made
 * non-blocking for the connect and blocking again afterwards. 0 when
 * connected; -1 otherwise, errno ETIMEDOUT after timeout seconds without
 * an answer, or the connect's own error (ECONNREFUSED, ENETUNREACH...). */
int timeoutconn(int fd, const struct sockaddr *sa, socklen_t len, unsigned long timeout);

#endif
