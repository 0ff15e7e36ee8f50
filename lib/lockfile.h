/*
 * lockfile.h: one process (and the children it hands the descriptor to)
 * per directory: an exclusive flock(2) on a file in it that holds the
 * taker's pid, for whoever finds it taken.
 *
 * A flock(2) lock belongs to the open file description: every process
 * that has the descriptor (forked with it, or passed it) holds the lock
 * until the last of them closes it or exits, whatever becomes of the one
 * that took it.  A caller gives it to exactly the processes that work in
 * the directory, and makes sure no other keeps it (O_CLOEXEC, and
 * lib/proc's start-up closes every descriptor a profile does not list).
 */
#ifndef LIB_LOCKFILE_H
#define LIB_LOCKFILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Take the lock on file name in directory dirfd: created (0640) if
 * missing, never through a symbolic link, a regular file owned by the
 * effective uid; then our pid is written in it.  If it is taken by a
 * process that is still there, fail at once; if the pid it records is
 * gone (a daemon killed with SIGKILL, whose children finish what they
 * were doing), wait for them up to wait_ms.  The descriptor (O_CLOEXEC),
 * or -1 with why and *holder: the pid the file records (0 if none) when
 * it is taken, else 0.
 */
int	lockfile_take(int dirfd, const char *name, int wait_ms, pid_t *holder,
	    char *why, size_t whylen);

#endif /* LIB_LOCKFILE_H */
