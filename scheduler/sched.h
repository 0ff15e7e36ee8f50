/*
 * sched.h: the daemon: its event loop (daemon.c) and what runs in it.
 */
#ifndef SCHEDULER_SCHED_H
#define SCHEDULER_SCHED_H

struct cfg;

struct sched_opts {
	const char	*config_file;	/* re-read on SIGHUP */
	int		 once;		/* run the jobs once, then exit */
	const char	*only_job;	/* with once: just this job */
};

/*
 * Run the daemon with cfg (adopted: the scheduler frees it, and the
 * configs that reloads bring) until SIGTERM or SIGINT, or, with once, until
 * every selected job has run once.  Returns an exit status (sysexits).
 */
int	sched_main(struct cfg *cfg, const struct sched_opts *);

#endif /* SCHEDULER_SCHED_H */
