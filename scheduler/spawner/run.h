/*
 * run.h: one collector run, in the process the spawner forks for it.
 */
#ifndef SCHEDULER_SPAWNER_RUN_H
#define SCHEDULER_SPAWNER_RUN_H

#include <stdint.h>

struct qosd_collector;

/* The pipe to the daemon, in a run: descriptor 3 (close-on-exec). */
#define RUN_FD	3

struct run_args {
	const struct qosd_collector *plugin;
	void		*state;
	const char	*job;		/* its name, for logs */
	uint64_t	 due_us;	/* when it begins (0: at once) */
	uint64_t	 deadline_us;	/* when the daemon stops it */
	int		 fd;		/* the pipe of its points */
	int		 efd;		/* its stderr, read by the daemon */
};

/*
 * The run process, after its start-up (lib/proc.h), still at the
 * spawner's priority: sleep until due_us (forked ahead of it, a run
 * begins at its due time as precisely as the machine wakes a timer), then
 * step down to SCHED_OTHER and nice 0 (prio_normal()) before anything
 * else; write "#begin US\n" (CLOCK_MONOTONIC, when it woke) ahead of its
 * points, so that the daemon learns its lag; measure with the plugin,
 * write the points to fd, exit 0 if the run worked (even with failed
 * targets), 1 if it could not run.  arg is a struct run_args.
 */
int	run_main(void *arg);

#endif /* SCHEDULER_SPAWNER_RUN_H */
