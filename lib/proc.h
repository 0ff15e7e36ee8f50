/*
 * proc.h: the one start-up of every process qosd forks, after relayd's
 * proc_run(): a new kind of process is a new profile, not a new routine.
 *
 * proc_start() forks with every signal blocked, and the child, before it
 * runs anything of its own:
 *   - puts every signal back to its default (a sanitizer's handlers
 *     too: a crash is a crash), ignores those the profile names, and
 *     unblocks all;
 *   - asks for the profile's parent-death signal, and exits at once if
 *     the parent is already gone;
 *   - takes a process group of its own if asked;
 *   - shows its name in ps (PR_SET_NAME);
 *   - goes back to SCHED_OTHER, nice 0, RLIMIT_RTPRIO 0 (prio_normal())
 *     unless the profile keeps the parent's scheduling (the spawner);
 *   - keeps the descriptors the profile lists, at their numbers, and
 *     closes every other one from 3 up; stdin is /dev/null, stdout too
 *     if asked, stderr stays (the journal);
 *   - dumps no core (RLIMIT_CORE 0);
 *   - removes from its environment what only the daemon may use
 *     (NOTIFY_SOCKET, WATCHDOG_PID, WATCHDOG_USEC, LISTEN_*), and
 *     CREDENTIALS_DIRECTORY unless the profile keeps credentials; if the
 *     profile hides them, it can no longer read the files there, nor can
 *     anything it forks (Landlock; where the kernel has none, a warning
 *     says a run could read them);
 *   - drops every capability but CAP_NET_RAW, which it keeps only if the
 *     profile asks and holds it, ambient ones too, and sets
 *     PR_SET_NO_NEW_PRIVS.
 */
#ifndef LIB_PROC_H
#define LIB_PROC_H

#include <stddef.h>
#include <sys/types.h>

#define PROC_F_NET_RAW		0x01	/* keep CAP_NET_RAW */
#define PROC_F_KEEP_SCHED	0x02	/* keep the parent's priority */
#define PROC_F_PGRP		0x04	/* a process group of its own */
#define PROC_F_NULL_STDOUT	0x08	/* stdout to /dev/null */
#define PROC_F_CREDENTIALS	0x10	/* keep $CREDENTIALS_DIRECTORY */
#define PROC_F_HIDE_CREDS	0x20	/* cannot read in it (lib/hide.h) */

#define PROC_MAX_FDS		8

struct proc_profile {
	const char	*name;		/* in ps: at most 15 bytes shown */
	int		 deathsig;	/* when the parent dies; 0: none */
	unsigned int	 flags;		/* PROC_F_* */
	unsigned long	 ignore;	/* 1UL << SIG: signals ignored */
	int		 fds[PROC_MAX_FDS];	/* kept; -1 ends the list */
};

/*
 * Fork a process of profile p that runs fn(arg) and exits with what it
 * returns.  The pid to the parent, or -1 with errno.
 */
pid_t	proc_start(const struct proc_profile *p, int (*fn)(void *),
	    void *arg);
/*
 * What proc_start() does in the child, for a process forked another way
 * (none is, today; for tests).  0, or -1 after logging why: a capability
 * that could not be dropped.
 */
int	proc_enter(const struct proc_profile *p, pid_t parent);
/*
 * Keep CAP_NET_RAW in the effective and permitted sets if asked and held,
 * drop every other capability, ambient ones too.  0, or -1 with errno.
 */
int	proc_drop_caps(int keep_net_raw);

#endif /* LIB_PROC_H */
