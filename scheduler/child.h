/*
 * child.h: one collector run as a child process.
 *
 * Runs are forked by a spawner: a small process forked from the daemon
 * right after a configuration is loaded (child_spawner_start()), which
 * forks each run on request and reports its start and exit.  The parent's
 * event loop so never pays for a fork (page tables, copy-on-write faults),
 * and runs never inherit what the parent holds later (a sink's secrets).
 *
 * A run gets its own process group, /dev/null as stdin and stdout, the
 * parent's stderr, no other fd but the write end of a pipe, no core dumps,
 * and (unless the collector asks for CAP_NET_RAW) no capabilities.  The
 * parent reads the pipe without blocking and hands every complete line to
 * a callback; it enforces the run's timeout (SIGTERM to the group, then
 * SIGKILL after a grace) and its output cap (SIGKILL).  When the run has
 * exited and the pipe is drained, the remaining members of its process
 * group are killed and the done callback reports how it went.
 */
#ifndef SCHEDULER_CHILD_H
#define SCHEDULER_CHILD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

struct qosd_collector;
struct child;

enum child_status {
	CHILD_OK,		/* exit 0 */
	CHILD_FAILED,		/* exit status other than 0 */
	CHILD_TIMEOUT,		/* killed by us at its deadline */
	CHILD_CRASHED,		/* killed by a signal not ours */
	CHILD_OVERFLOW,		/* killed by us: printed more than allowed */
	CHILD_SPAWN_ERROR	/* never ran (fork or pipe failed) */
};

struct child_result {
	enum child_status status;
	int		 code;		/* exit status or signal number */
	uint64_t	 duration_us;	/* fork to reap */
	uint64_t	 maxrss_bytes;	/* the child's peak RSS */
	uint64_t	 bytes;		/* output read */
	unsigned long	 lines;		/* complete lines handed over */
};

struct child_spec {
	const struct qosd_collector *plugin;
	void		*state;		/* the job's configured state */
	const char	*collector;	/* its name, for logs */
	const char	*job;		/* for logs */
	uint64_t	 timeout_us;
	uint64_t	 grace_us;	/* SIGTERM to SIGKILL */
	uint64_t	 max_output;	/* bytes */
};

struct child_cb {
	/* The run's process exists, forked at start_us (CLOCK_MONOTONIC). */
	void	(*started)(void *arg, uint64_t start_us);
	/* A complete line of output (no '\n'), or one too long (toolong). */
	void	(*line)(void *arg, const char *line, size_t len, int toolong);
	/* The run is over; the struct child is freed after this returns. */
	void	(*done)(void *arg, const struct child_result *);
};

/*
 * Fork a new spawner from the process as it is now; runs started from
 * then on are forked by it.  The previous spawner, if any, serves its runs
 * until they are done and then exits.  Call it after each configuration
 * is loaded, before anything secret is read.  0, or -1 after logging why.
 */
int	child_spawner_start(sd_event *ev);
/*
 * After child_spawner_start(): keep the new spawner, let the previous
 * ones go once their runs are done (commit); or drop the new one and make
 * the previous one current again (abandon: a reload that failed later).
 */
void	child_spawner_commit(void);
void	child_spawner_abandon(void);
/* Stop every spawner once its runs are done (at exit). */
void	child_spawner_stop(void);
/*
 * Call cb(arg) if the current spawner dies: a new one cannot be forked
 * from a daemon that has let go of its plugins.
 */
void	child_on_spawner_lost(void (*cb)(void *), void *arg);
/*
 * Start a run of spec.  spec->plugin and spec->state must be objects that
 * existed when the current spawner was forked (the spawner uses its own
 * copy of them); spec->job is copied.  The callbacks will be called with
 * arg; returns NULL (after logging why) when the run cannot be asked for.
 */
struct child *child_start(sd_event *ev, const struct child_spec *spec,
	    const struct child_cb *cb, void *arg);
/* SIGKILL the child's process group now; done still follows. */
void	child_kill(struct child *);
/* child_kill() every child. */
void	child_kill_all(void);
/* The number of collector runs started and not yet done. */
size_t	child_count(void);
/* The status's name: "ok", "failed", "timeout", "crashed", "overflow". */
const char *child_status_str(enum child_status);

#endif /* SCHEDULER_CHILD_H */
