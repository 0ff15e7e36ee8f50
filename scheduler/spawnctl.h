/*
 * spawnctl.h: the daemon's side of its spawners (scheduler/spawner/).
 *
 * The current spawners are the ones forked for the configuration in
 * force, one per collector; a reload forks new ones, and the previous
 * ones serve their runs to the end and then go (the daemon closes its
 * end: their end of file).  Every run is asked of the current spawner of
 * its job's collector; what a spawner reports comes back through the
 * callbacks given to spawnctl_start().
 */
#ifndef SCHEDULER_SPAWNCTL_H
#define SCHEDULER_SPAWNCTL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

struct spawn_job;
struct spawner;

struct spawnctl_cb {
	/* Run id's process exists, forked at start_us (CLOCK_MONOTONIC). */
	void	(*started)(uint64_t id, pid_t pid, uint64_t start_us);
	/* Run id has exited (its wait status and peak RSS). */
	void	(*exited)(uint64_t id, int wstatus, uint64_t maxrss_bytes);
	/* Run id was never forked: errno value err. */
	void	(*failed)(uint64_t id, int err);
	/* Probe id was refused by its collector: err says why. */
	void	(*refused)(uint64_t id, const char *err);
	/* Spawner sp is gone: its runs that have not exited never will. */
	void	(*lost)(const struct spawner *sp);
};

/* A spawner to fork: the collector it serves, and what it may keep. */
struct spawnctl_group {
	const char	*collector;	/* a plugin's name */
	int		 net_raw;	/* keeps CAP_NET_RAW (ping's runs) */
};

/*
 * Fork new spawners from the process as it is now, one per group of
 * groups (ngroups 0: one for every collector, with CAP_NET_RAW), each
 * knowing the njobs jobs of jobs (each keeps its copy of its collector's:
 * the caller may free the array and let go of the plugins afterwards).
 * A job whose collector has no group has no spawner: its runs fail.
 * Runs and probes asked from now on go to them.  Call it after each
 * configuration is loaded.  0, or -1 after logging why (then none of
 * them is kept).
 */
int	spawnctl_start(sd_event *ev, const struct spawn_job *jobs,
	    size_t njobs, const struct spawnctl_group *groups,
	    size_t ngroups, const struct spawnctl_cb *cb);
/*
 * After spawnctl_start(): keep the new spawners and let the previous ones
 * go once their runs are done (commit), or drop the new ones and make the
 * previous ones current again (abandon: a reload that failed later).
 */
void	spawnctl_commit(void);
void	spawnctl_abandon(void);
/*
 * At exit, when no run is left: let every spawner go and reap it, at most
 * timeout_us for all (then it is killed), so that none outlives the
 * daemon (systemd would SIGKILL it).
 */
void	spawnctl_stop(uint64_t timeout_us);
/* Call cb(arg) if a current spawner dies. */
void	spawnctl_on_lost(void (*cb)(void *), void *arg);
/*
 * Ask the current spawner of job's collector for a run of job (an index
 * in its table) named name, to begin at due_us (its process, forked at
 * once, waits for it;
 * 0: at once) and stop at deadline_us, writing its points to wfd and its
 * stderr to efd (both borrowed).  0 with *spp the spawner asked, or -1
 * after logging why (none, or it is not keeping up: the run is not
 * started).
 */
int	spawnctl_request(uint64_t id, uint64_t due_us, uint64_t deadline_us,
	    unsigned int job, const char *name, int wfd, int efd,
	    struct spawner **spp);
/*
 * Ask the current spawner of collector (or, if none serves it, any
 * current one) for an ad-hoc probe of collector with
 * settings (libconfig text, len bytes, probecfg.h), that the daemon
 * stops after timeout_us, at deadline_us; as spawnctl_request()
 * otherwise.  The spawner answers with refused() or as for a run.
 */
int	spawnctl_probe(uint64_t id, uint64_t deadline_us, uint64_t timeout_us,
	    const char *collector, const char *name, const char *text,
	    size_t len, int wfd, int efd, struct spawner **spp);
#endif /* SCHEDULER_SPAWNCTL_H */
