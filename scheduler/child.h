/*
 * child.h: one collector run as a child process.
 *
 * Runs are forked by a spawner (scheduler/spawnctl.h), which forks each
 * run on request and reports its start and exit: the daemon's event loop
 * so never pays for a fork (page tables, copy-on-write faults), and runs
 * never inherit what the daemon holds later (a sink's secrets).
 *
 * A run gets the start-up of lib/proc.h: its own process group, /dev/null
 * as stdin and stdout, the daemon's stderr, no other descriptor but the
 * write end of a pipe, no core dumps, and (unless the collector asks for
 * CAP_NET_RAW) no capabilities.  The
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

struct spawnctl_cb;
struct child;

enum child_status {
	CHILD_OK,		/* exit 0 */
	CHILD_FAILED,		/* exit status other than 0 */
	CHILD_TIMEOUT,		/* killed by us at its deadline */
	CHILD_CRASHED,		/* killed by a signal not ours */
	CHILD_OVERFLOW,		/* killed by us: printed more than allowed */
	CHILD_STOPPED,		/* killed by us: qosd stops, or its spawner
				   died */
	CHILD_SPAWN_ERROR	/* never ran (fork or pipe failed) */
};

struct child_result {
	enum child_status status;
	int		 code;		/* exit status or signal number */
	uint64_t	 duration_us;	/* due (or asked, if later) to reap */
	uint64_t	 maxrss_bytes;	/* the child's peak RSS */
	uint64_t	 bytes;		/* output read */
	unsigned long	 lines;		/* complete lines handed over */
};

struct child_spec {
	unsigned int	 job_index;	/* in the current spawner's table */
	/*
	 * CLOCK_MONOTONIC: the run's process is forked now and waits for
	 * due_us to begin; its timeout counts from then.  0 or past: now.
	 */
	uint64_t	 due_us;
	const char	*collector;	/* its name, for logs */
	const char	*job;		/* for logs */
	uint64_t	 timeout_us;
	uint64_t	 grace_us;	/* SIGTERM to SIGKILL */
	uint64_t	 max_output;	/* bytes */
	/*
	 * An ad-hoc probe instead of a job's run: its collector's name in
	 * collector, its settings as libconfig text (probecfg.h).
	 */
	const char	*probe_text;
	size_t		 probe_len;
};

struct child_cb {
	/* The run's process exists, forked at start_us (CLOCK_MONOTONIC). */
	void	(*started)(void *arg, uint64_t start_us);
	/*
	 * It began at begin_us (CLOCK_MONOTONIC, its own clock read once it
	 * woke for its due time): the "#begin US" line a run writes with its
	 * first points (the first such line; it is no point, not handed to
	 * line).  A run that wrote nothing never says.
	 */
	void	(*began)(void *arg, uint64_t begin_us);
	/* A complete line of output (no '\n'), or one too long (toolong). */
	void	(*line)(void *arg, const char *line, size_t len, int toolong);
	/* The run is over; the struct child is freed after this returns. */
	void	(*done)(void *arg, const struct child_result *);
	/*
	 * A probe's collector refused its settings (err): nothing ran, done
	 * does not follow; the struct child is freed after this returns.
	 */
	void	(*refused)(void *arg, const char *err);
};

/* What the spawner reports, for spawnctl_start(). */
extern const struct spawnctl_cb child_spawn_cb;
/*
 * Start a run of spec: the job spec->job_index of the current spawner's
 * table; spec->job is copied.  The callbacks will be called with arg;
 * returns NULL (after logging why) when the run cannot be asked for.
 */
struct child *child_start(sd_event *ev, const struct child_spec *spec,
	    const struct child_cb *cb, void *arg);
/*
 * SIGKILL the child's process group now, qosd stopping; done still
 * follows, with CHILD_STOPPED.
 */
void	child_kill(struct child *);
/*
 * Stop (on 1) or go on (on 0) reading every run's points, those started
 * meanwhile too: a run then blocks on its full pipe, or meets its
 * timeout.  Its stderr is read all the same.
 */
void	child_hold(int on);
/* child_kill() every child. */
void	child_kill_all(void);
/* The number of collector runs started and not yet done. */
size_t	child_count(void);
/*
 * The status's name: "ok", "failed", "timeout", "crashed", "overflow",
 * "stopped", "error".
 */
const char *child_status_str(enum child_status);

#endif /* SCHEDULER_CHILD_H */
