/*
 * spawner.h: the spawner, the process that forks every collector run, and
 * the messages it exchanges with the daemon (lib/msg.h).
 *
 * The daemon forks a spawner per collector right after a configuration
 * is loaded (scheduler/spawnctl.h): each keeps its own copy of its
 * collector's configured job states, so the daemon then lets go of the
 * plugins.  The daemon never forks a run: it
 * asks, naming the job by its index in the table the spawner was forked
 * with, and passes the write end of the run's pipe; the spawner forks the
 * run (scheduler/spawner/run.h) and reports its start and its exit.
 * A run is asked for ahead of its due time (jobs_set_lead()): its process
 * is forked at once and waits for due itself.
 *
 *   daemon -> spawner	SPAWN_RUN	struct spawn_run, with two pipes:
 *					the run's points and its stderr
 *			SPAWN_PROBE	struct spawn_probe and its settings,
 *					with the same two pipes: an ad-hoc
 *					probe (the control API), configured
 *					here by its collector's configure()
 *   spawner -> daemon	SPAWN_STARTED	struct spawn_started
 *			SPAWN_EXITED	struct spawn_exited
 *			SPAWN_FAILED	struct spawn_failed (fork failed, or a
 *					request for a job it does not know)
 *			SPAWN_REFUSED	struct spawn_refused: a probe whose
 *					settings its collector refused (no
 *					process; nothing else follows)
 *
 * The daemon holds no plugin: a probe's collector is loaded and its
 * settings checked here, with the checks the configuration loader
 * applies to a job (scheduler/probecfg.h).
 *
 * Messages are ordered: a run's STARTED precedes its EXITED.
 */
#ifndef SCHEDULER_SPAWNER_SPAWNER_H
#define SCHEDULER_SPAWNER_SPAWNER_H

#include <stddef.h>
#include <stdint.h>

#include "lib/msg.h"

struct qosd_collector;

enum spawn_msg_type {
	SPAWN_RUN = 1,
	SPAWN_STARTED,
	SPAWN_EXITED,
	SPAWN_FAILED,
	SPAWN_PROBE,
	SPAWN_REFUSED
};

#define SPAWN_NAME_MAX	128

struct spawn_run {
	uint64_t	 id;
	uint64_t	 due_us;	/* CLOCK_MONOTONIC: it begins then */
	uint64_t	 deadline_us;	/* CLOCK_MONOTONIC */
	uint32_t	 gen;		/* the table the index refers to */
	uint32_t	 job;		/* index in that table */
	char		 name[SPAWN_NAME_MAX];	/* the job's, for logs */
};

#define SPAWN_COLLECTOR_MAX	64
#define SPAWN_PROBE_TEXT_MAX	(16 * 1024)	/* libconfig text */
#define SPAWN_ERR_MAX		1024

/* Followed by textlen bytes of libconfig text: the settings' members. */
struct spawn_probe {
	uint64_t	 id;
	uint64_t	 deadline_us;	/* CLOCK_MONOTONIC */
	uint64_t	 timeout_us;	/* the run's (for configure()) */
	char		 collector[SPAWN_COLLECTOR_MAX];
	char		 name[SPAWN_NAME_MAX];	/* for logs */
	uint32_t	 textlen;
	uint32_t	 unused;
};

struct spawn_refused {
	uint64_t	 id;
	char		 err[SPAWN_ERR_MAX];	/* the collector's reason */
};

struct spawn_started {
	uint64_t	 id;
	uint64_t	 start_us;	/* CLOCK_MONOTONIC, just before fork */
	int32_t		 pid;
	uint32_t	 unused;
};

struct spawn_exited {
	uint64_t	 id;
	uint64_t	 maxrss_bytes;
	int32_t		 pid;
	int32_t		 wstatus;
};

struct spawn_failed {
	uint64_t	 id;
	int32_t		 err;		/* an errno value */
	uint32_t	 unused;
};

/* What each side accepts. */
extern const struct msg_type spawn_to_spawner[];
extern const size_t spawn_to_spawner_n;
extern const struct msg_type spawn_to_daemon[];
extern const size_t spawn_to_daemon_n;

/* A job as the spawner knows it: what to run, configured. */
struct spawn_job {
	const struct qosd_collector *plugin;
	void		*state;
};

struct spawner_args {
	int		 sock;		/* to the daemon */
	uint32_t	 gen;
	const struct spawn_job *jobs;	/* the spawner's copy */
	size_t		 njobs;
	/*
	 * The collector whose runs and probes this spawner serves, or NULL:
	 * every one.  A spawner of one collector releases the other
	 * collectors' job states and unloads their plugins as it starts, so
	 * that its runs' forks do not copy their libraries' mappings.
	 */
	const char	*collector;
};

/*
 * The spawner process, after its start-up (lib/proc.h): serve requests
 * until the daemon closes its end (or dies), then exit.  arg is a struct
 * spawner_args.
 */
int	spawner_main(void *arg);

#endif /* SCHEDULER_SPAWNER_SPAWNER_H */
