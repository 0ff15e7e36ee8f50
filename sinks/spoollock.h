/*
 * spoollock.h: one qosd per spool.  The lock file SPOOL_LOCK of a spool
 * directory (lib/lockfile.h) is taken in the daemon when a sink that uses
 * the spool starts, and kept by the sink's writer and shipper, which get
 * the descriptor (their profiles list it; no other child keeps it): the
 * spool is free again only once the daemon and every process that works
 * in it are gone.  A daemon killed with SIGKILL so leaves it locked until
 * its writer has sealed the last segment and its shipper has stopped; a
 * new daemon waits for them (SPOOL_LOCK_WAIT_MS) rather than take over a
 * segment still being written.  A second daemon on the spool (another
 * state_dir, the same spool_dir) fails to start the sink.
 *
 * In the daemon, one lock per spool directory serves every sink that
 * uses it (a reload starts the new sink before it stops the old one):
 * the lock is released when the last of them lets go.
 */
#ifndef SINKS_SPOOLLOCK_H
#define SINKS_SPOOLLOCK_H

#include <stddef.h>

#define SPOOL_LOCK_WAIT_MS	10000

struct spool_lock;

/*
 * Lock the spool in dir (created and checked as spool_dirs() does) for
 * sink name.  NULL with err ("sink NAME: spool \"DIR\": in use by qosd,
 * pid N: ...").
 */
struct spool_lock *spool_lock(const char *dir, const char *name, char *err,
	    size_t errlen);
/* The lock's descriptor, for a child that works in the spool to keep. */
int	spool_lock_fd(const struct spool_lock *);
/* Let go of it (the last user unlocks).  NULL is fine. */
void	spool_unlock(struct spool_lock *);

#endif /* SINKS_SPOOLLOCK_H */
