/*
 * control.h: how a second invocation, `qosd-reflector --status`, reads
 * the counters of a running reflector: a Unix stream socket.  The
 * reflector listens on it; a client connects, receives the counters as
 * line protocol (stats.h) and end of file.  The reflector reads nothing
 * from a client, so the socket offers nothing but the counters (it is
 * made world-connectable).  The path is --control's, else
 * $RUNTIME_DIRECTORY/control (systemd's RuntimeDirectory=), else
 * /run/qosd-reflector/control.
 *
 * A socket file nobody answers on is a leftover of a reflector that died:
 * it is replaced.  One a live reflector answers on is not: a second
 * reflector with the same path refuses to start.
 */
#ifndef REFLECTOR_CONTROL_H
#define REFLECTOR_CONTROL_H

#include <stddef.h>

struct buf;

/* The default path (see above); valid until the next call. */
const char *control_default_path(void);
/* Listen on path: the socket (non-blocking), or -1 after logging why. */
int	control_listen(const char *path);
/* Answer every client waiting on lfd with status; never blocks. */
void	control_answer(int lfd, const struct buf *status);
/* Stop listening: close lfd, remove path. */
void	control_close(int lfd, const char *path);
/*
 * The client: print what the reflector at path says to standard output.
 * 0, or -1 after saying why on standard error (no reflector there).
 */
int	control_query(const char *path);

#endif /* REFLECTOR_CONTROL_H */
