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
	uint64_t	 deadline_us;	/* when the daemon stops it */
	int		 fd;		/* the pipe of its points */
	int		 efd;		/* its stderr, read by the daemon */
};

/*
 * The run process, after its start-up (lib/proc.h): measure with the
 * plugin, write the points to fd, exit 0 if the run worked (even with
 * failed targets), 1 if it could not run.  arg is a struct run_args.
 */
int	run_main(void *arg);

#endif /* SCHEDULER_SPAWNER_RUN_H */
