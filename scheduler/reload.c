/*
 * reload.c: loading a configuration into the running daemon: the
 * spawners forked for it, the daemon's priority, the sinks, the job
 * table.  A configuration that fails at any step keeps the one running.
 */
#include <sys/resource.h>

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/prio.h"
#include "qosd/collector.h"
#include "scheduler/child.h"
#include "scheduler/config.h"
#include "scheduler/control.h"
#include "scheduler/daemon.h"
#include "scheduler/jobs.h"
#include "scheduler/plugin.h"
#include "scheduler/sched.h"
#include "scheduler/spawnctl.h"
#include "scheduler/spawner/spawner.h"

/* Add a group for collector p to groups (n of them) unless there is one. */
static void
add_group(struct spawnctl_group *groups, size_t *n,
    const struct qosd_collector *p)
{
	size_t	i;

	for (i = 0; i < *n; i++)
		if (strcmp(groups[i].collector, p->name) == 0)
			return;
	groups[*n].collector = p->name;
	groups[*n].net_raw = (p->flags & QOSD_COLLECTOR_NET_RAW) != 0;
	(*n)++;
}

/*
 * A spawner per collector: each job's, and each one ad-hoc probes may use
 * (loaded by the configuration's checks).  With none of either, one
 * spawner that serves nothing, so that one always stands.
 */
int
daemon_spawner(struct daemon *d, struct cfg *cfg)
{
	const struct cfg_control *cc = &cfg->control;
	const struct qosd_collector *p;
	struct spawnctl_group	*groups;
	struct spawn_job	*jobs;
	size_t			 i, n = 0;
	char			 err[256];
	int			 r;

	if ((jobs = calloc(cfg->njobs ? cfg->njobs : 1,
	    sizeof(*jobs))) == NULL ||
	    (groups = calloc(cfg->njobs + cc->ncollectors + 1,
	    sizeof(*groups))) == NULL)
		fatal("spawner: %m");
	for (i = 0; i < cfg->njobs; i++) {
		jobs[i].plugin = cfg->jobs[i].plugin;
		jobs[i].state = cfg->jobs[i].state;
		add_group(groups, &n, jobs[i].plugin);
	}
	for (i = 0; cc->allow_probes && i < cc->ncollectors; i++)
		if ((p = plugin_get(cc->collectors[i], err,
		    sizeof(err))) != NULL)
			add_group(groups, &n, p);
	if (n == 0) {
		groups[0].collector = "";
		n = 1;
	}
	/* The spawners, forks, keep their copies of the table. */
	r = spawnctl_start(d->ev, jobs, cfg->njobs, groups, n,
	    &child_spawn_cb);
	free(groups);
	free(jobs);
	return r;
}

/*
 * The spawner has its own copy of the plugins and their job states: the
 * daemon lets go of them, so that it maps no collector's libraries.
 */
void
daemon_let_go(struct cfg *cfg)
{
	cfg_forget_plugins(cfg);
	plugin_unload_all();
	/* What the plugins' libraries allocated goes back to the system. */
	malloc_trim(0);
}

/*
 * Runs put themselves back at nice 0 (prio_normal()), unless a system
 * call filter denies them setpriority(2) (a unit with all of
 * ~@resources): then only the kernel's reset-on-fork can.  setpriority()
 * to the value it has tells which.
 */
static void
check_renice(void)
{
	int	nice;

	errno = 0;
	nice = getpriority(PRIO_PROCESS, 0);
	if (nice < 0 && errno == 0 && !prio_resets_on_fork() &&
	    setpriority(PRIO_PROCESS, 0, nice) == -1)
		log_warning("runs will inherit nice %d: setpriority() is "
		    "refused here (%m); allow it in the unit's system call "
		    "filter (SystemCallFilter=sched_setscheduler setpriority, "
		    "as qosd.service does) or start qosd with "
		    "SCHED_RESET_ON_FORK", nice);
}

/*
 * daemon.realtime: SCHED_FIFO 1 for the daemon and the spawner forked
 * after this (lib/prio.h says why); not for --once.
 */
void
daemon_priority(const struct daemon *d, int want)
{
	check_renice();
	if (d->opts->once || want == prio_is_realtime())
		return;
	if (!want) {
		if (prio_fair() == -1)
			log_err("leaving real-time scheduling: %m");
		else
			log_info("real-time scheduling off (daemon.realtime)");
		return;
	}
	if (prio_realtime() == -1) {
		log_notice("real-time scheduling refused (%m): scheduling at "
		    "nice %d; qosd needs CAP_SYS_NICE or an RLIMIT_RTPRIO of "
		    "1 (LimitRTPRIO=1 in the unit), or daemon.realtime = false",
		    getpriority(PRIO_PROCESS, 0));
	} else
		log_info("scheduling at SCHED_FIFO priority 1 "
		    "(daemon.realtime)");
}

static void
reload_failed(struct daemon *d, struct cfg *ncfg, const char *why)
{
	daemon_state_done(d, 0);
	if (why != NULL)
		log_err("reload failed, the running configuration stays: %s",
		    why);
	else
		log_err("reload failed, the running configuration stays");
	if (ncfg != NULL) {
		daemon_priority(d, d->cfg->realtime);
		cfg_free(ncfg);
	}
	plugin_unload_all();
	sd_notify(0, "READY=1\nSTATUS=reload failed, see the log");
}

int
daemon_reload(struct daemon *d, const char *why, char *err, size_t errlen)
{
	struct cfg	*ncfg, *ocfg = d->cfg;
	struct sink_rt	*nsinks;
	size_t		 nn;
	uint64_t	 start = clock_mono_us();

	log_notice("%s: reading %s", why, d->opts->config_file);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)clock_mono_us());
	if ((ncfg = cfg_load(d->opts->config_file, err, errlen)) == NULL) {
		reload_failed(d, NULL, err);
		return -1;
	}
	log_debug("reload: parsed in %.1f ms",
	    (double)(clock_mono_us() - start) / 1000);
	if (daemon_state_lock(d, ncfg) == -1) {
		cfg_free(ncfg);
		reload_failed(d, NULL, NULL);
		return -1;
	}
	daemon_priority(d, ncfg->realtime);
	if (daemon_spawner(d, ncfg) == -1) {
		snprintf(err, errlen, "cannot fork a spawner for it");
		reload_failed(d, ncfg, err);
		return -1;
	}
	log_debug("reload: spawner forked at %.1f ms",
	    (double)(clock_mono_us() - start) / 1000);
	/* A new sink may take over an old one's spool: nothing in flight. */
	fanout_sync(d);
	log_debug("reload: sinks synced at %.1f ms",
	    (double)(clock_mono_us() - start) / 1000);
	if (fanout_start(d, ncfg, d->sinks, d->nsinks, &nsinks, &nn, err,
	    errlen) == -1) {
		spawnctl_abandon();
		reload_failed(d, ncfg, err);
		return -1;
	}
	spawnctl_commit();
	daemon_let_go(ncfg);
	fanout_stop(d->sinks, d->nsinks);
	d->sinks = nsinks;
	d->nsinks = nn;
	d->cfg = ncfg;
	jobs_reload(d->jobs, ncfg, ncfg->max_children);
	if (ocfg->self_interval_us != ncfg->self_interval_us)
		self_arm(d);
	if (d->ctl != NULL)
		control_configure(d->ctl);
	cfg_free(ocfg);
	daemon_state_done(d, 1);
	log_notice("configuration reloaded in %.1f ms: %zu jobs, %zu sinks",
	    (double)(clock_mono_us() - start) / 1000, ncfg->njobs, d->nsinks);
	/* The status line is the control core's (control_configure()). */
	sd_notify(0, "READY=1");
	return 0;
}
