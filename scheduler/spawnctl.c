/*
 * spawnctl.c: the daemon's side of its spawners: forking them, asking
 * them for runs, reading their reports, retiring them.  The daemon never
 * blocks on a spawner: a request its queue cannot take fails that run.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "lib/clock.h"
#include "lib/complain.h"
#include "lib/log.h"
#include "lib/msg.h"
#include "lib/proc.h"
#include "lib/super.h"
#include "qosd/collector.h"
#include "scheduler/spawnctl.h"
#include "scheduler/spawner/spawner.h"

/* Requests queued for a spawner that is behind: then runs fail. */
#define REQ_QUEUE	(256 * 1024)

struct spawner {
	pid_t			 pid;
	uint32_t		 gen;
	struct msgchan		 ch;
	sd_event_source		*io;
	const struct spawnctl_cb *cb;
	size_t			 runs;		/* asked, not yet exited */
	int			 retiring;
	/* "": every collector (a group without one), or none (no jobs) */
	char			 collector[SPAWN_COLLECTOR_MAX];
	struct spawner		*next;
};

/* The spawners forked for one configuration, and each job's. */
struct spawnset {
	uint32_t		 gen;		/* 0: none */
	struct spawner		**byjob;
	size_t			 njobs;
};

static struct spawner	*spawners;	/* every one, the newest first */
static struct spawnset	 cur;		/* the configuration in force */
static struct spawnset	 prev;		/* until commit or abandon */
static uint32_t		 next_gen = 1;
static void		(*lost_cb)(void *);
static void		*lost_arg;
static struct complain	 none;		/* runs asked with no spawner */

static void
forget_in(struct spawnset *set, const struct spawner *sp)
{
	size_t	i;

	if (set->gen != sp->gen)
		return;
	for (i = 0; i < set->njobs; i++)
		if (set->byjob[i] == sp)
			set->byjob[i] = NULL;
}

static void
spawnset_free(struct spawnset *set)
{
	free(set->byjob);
	memset(set, 0, sizeof(*set));
}

static void
spawner_free(struct spawner *sp)
{
	struct spawner	**pp;

	for (pp = &spawners; *pp != NULL; pp = &(*pp)->next)
		if (*pp == sp) {
			*pp = sp->next;
			break;
		}
	forget_in(&cur, sp);
	forget_in(&prev, sp);
	sp->io = sd_event_source_disable_unref(sp->io);
	msgchan_cleanup(&sp->ch);
	free(sp);
}

static void
spawner_reaped(void *arg, int wstatus)
{
	pid_t	pid = (pid_t)(intptr_t)arg;

	if (WIFSIGNALED(wstatus))
		log_warning("spawner %ld killed by %s", (long)pid,
		    strsignal(WTERMSIG(wstatus)));
	else
		log_debug("spawner %ld exited", (long)pid);
}

static void
spawner_lost(struct spawner *sp)
{
	int	current = sp->gen == cur.gen && !sp->retiring;

	log_err("spawner %ld (%s) is gone: its %zu runs count as killed",
	    (long)sp->pid, sp->collector[0] ? sp->collector : "every "
	    "collector", sp->runs);
	sp->retiring = 1;
	if (current && lost_cb != NULL)
		lost_cb(lost_arg);
	sp->cb->lost(sp);
	spawner_free(sp);
}

static void
dispatch(struct spawner *sp, const struct msg *m)
{
	struct spawn_started	st;
	struct spawn_exited	ex;
	struct spawn_failed	f;
	struct spawn_refused	rf;

	switch (m->type) {
	case SPAWN_STARTED:
		memcpy(&st, m->data, sizeof(st));
		sp->cb->started(st.id, st.pid, st.start_us);
		break;
	case SPAWN_EXITED:
		memcpy(&ex, m->data, sizeof(ex));
		if (sp->runs > 0)
			sp->runs--;
		sp->cb->exited(ex.id, ex.wstatus, ex.maxrss_bytes);
		break;
	case SPAWN_FAILED:
		memcpy(&f, m->data, sizeof(f));
		if (sp->runs > 0)
			sp->runs--;
		sp->cb->failed(f.id, f.err);
		break;
	case SPAWN_REFUSED:
		memcpy(&rf, m->data, sizeof(rf));
		rf.err[sizeof(rf.err) - 1] = '\0';
		if (sp->runs > 0)
			sp->runs--;
		sp->cb->refused(rf.id, rf.err);
		break;
	}
}

static int
on_io(sd_event_source *s, int fd, uint32_t revents, void *arg)
{
	struct spawner	*sp = arg;
	struct msg	 m;
	ssize_t		 n;
	int		 r = 0;

	(void)s;
	(void)fd;
	if ((revents & EPOLLOUT) && msg_flush(&sp->ch) == 1)
		sd_event_source_set_io_events(sp->io, EPOLLIN);
	while ((n = msg_read(&sp->ch)) > 0)
		while ((r = msg_get(&sp->ch, &m)) == 1)
			dispatch(sp, &m);
	if (r == -1)
		log_err("spawner %ld: %s", (long)sp->pid, msg_error(&sp->ch));
	if (r == -1 || n == 0 || (n == -1 && errno != EAGAIN)) {
		spawner_lost(sp);
		return 0;
	}
	if (sp->retiring && sp->runs == 0)
		/* Its runs are over: end of file tells it to go. */
		spawner_free(sp);
	return 0;
}

/* Fork a spawner of generation gen for collector (NULL: every one). */
static struct spawner *
fork_spawner(sd_event *ev, uint32_t gen, const struct spawn_job *jobs,
    size_t njobs, const struct spawnctl_group *g,
    const struct spawnctl_cb *cb)
{
	struct proc_profile	 prof = { "qosd-spawner", SIGKILL,
				    PROC_F_KEEP_SCHED | PROC_F_NULL_STDOUT |
				    PROC_F_HIDE_CREDS,
				    (1UL << SIGTERM) |
				    (1UL << SIGHUP) | (1UL << SIGINT) |
				    (1UL << SIGPIPE), { -1, -1, -1, -1, -1,
				    -1, -1, -1 } };
	struct spawner_args	 a;
	struct spawner		*sp;
	int			 sv[2];

	if (g->net_raw)
		prof.flags |= PROC_F_NET_RAW;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_err("spawner: socketpair: %m");
		return NULL;
	}
	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		fatal("spawner: %m");
	sp->gen = gen;
	sp->cb = cb;
	if (g->collector != NULL)
		snprintf(sp->collector, sizeof(sp->collector), "%s",
		    g->collector);
	a.sock = sv[1];
	a.gen = gen;
	a.jobs = jobs;
	a.njobs = njobs;
	a.collector = g->collector;
	prof.fds[0] = sv[1];
	fflush(NULL);
	sp->pid = proc_start(&prof, spawner_main, &a);
	close(sv[1]);
	if (sp->pid == -1) {
		log_err("spawner: fork: %m");
		close(sv[0]);
		free(sp);
		return NULL;
	}
	msgchan_init(&sp->ch, sv[0], spawn_to_daemon, spawn_to_daemon_n,
	    REQ_QUEUE);
	if (super_watch(sp->pid, spawner_reaped,
	    (void *)(intptr_t)sp->pid) == -1 ||
	    sd_event_add_io(ev, &sp->io, sp->ch.sock, EPOLLIN, on_io,
	    sp) < 0)
		fatal("spawner: cannot watch it");
	sp->next = spawners;
	spawners = sp;
	return sp;
}

int
spawnctl_start(sd_event *ev, const struct spawn_job *jobs, size_t njobs,
    const struct spawnctl_group *groups, size_t ngroups,
    const struct spawnctl_cb *cb)
{
	static const struct spawnctl_group all = { NULL, 1 };
	struct spawnset	 ns;
	struct spawner	*sp, *next;
	size_t		 g, i;

	if (ngroups == 0) {
		groups = &all;
		ngroups = 1;
	}
	ns.gen = next_gen++;
	ns.njobs = njobs;
	if ((ns.byjob = calloc(njobs ? njobs : 1, sizeof(*ns.byjob))) ==
	    NULL)
		fatal("spawner: %m");
	for (g = 0; g < ngroups; g++)
		if (fork_spawner(ev, ns.gen, jobs, njobs, &groups[g],
		    cb) == NULL) {
			/* None of this generation: end of file ends them. */
			for (sp = spawners; sp != NULL; sp = next) {
				next = sp->next;
				if (sp->gen == ns.gen)
					spawner_free(sp);
			}
			free(ns.byjob);
			return -1;
		}
	for (i = 0; i < njobs; i++)
		for (sp = spawners; sp != NULL && sp->gen == ns.gen;
		    sp = sp->next)
			if (sp->collector[0] == '\0' ||
			    strcmp(sp->collector, jobs[i].plugin->name) == 0) {
				ns.byjob[i] = sp;
				break;
			}
	for (sp = spawners; sp != NULL; sp = sp->next)
		if (sp->gen != ns.gen)
			sp->retiring = 1;
	spawnset_free(&prev);
	prev = cur;
	cur = ns;
	return 0;
}

/* Let go of the retiring spawners of generation gen (0: any) that are idle. */
static void
free_idle(uint32_t gen)
{
	struct spawner	*sp, *next;

	for (sp = spawners; sp != NULL; sp = next) {
		next = sp->next;
		if (sp->retiring && sp->runs == 0 && (gen == 0 ||
		    sp->gen == gen))
			spawner_free(sp);
	}
}

void
spawnctl_commit(void)
{
	spawnset_free(&prev);
	/* Idle ones go now, busy ones when their runs are done. */
	free_idle(0);
}

void
spawnctl_abandon(void)
{
	struct spawner	*sp;
	uint32_t	 gen = cur.gen;

	if (gen == 0)
		return;
	for (sp = spawners; sp != NULL; sp = sp->next)
		if (sp->gen == gen)
			sp->retiring = 1;
		else if (prev.gen != 0 && sp->gen == prev.gen)
			sp->retiring = 0;
	spawnset_free(&cur);
	cur = prev;
	memset(&prev, 0, sizeof(prev));
	free_idle(gen);
}

void
spawnctl_stop(uint64_t timeout_us)
{
	uint64_t	 end = clock_mono_us() + timeout_us, now;
	struct spawner	*sp;
	pid_t		 pid;

	/* Its end of file tells each spawner to go; then it is reaped. */
	while ((sp = spawners) != NULL) {
		pid = sp->pid;
		spawner_free(sp);
		now = clock_mono_us();
		super_reap(pid, now < end ? end - now : 0, "a spawner");
	}
	spawnset_free(&cur);
	spawnset_free(&prev);
}

void
spawnctl_on_lost(void (*cb)(void *), void *arg)
{
	lost_cb = cb;
	lost_arg = arg;
}

/* Runs not started for want of a spawner: told, rate-limited. */
static struct spawner *
none_then(struct spawner *sp, const char *name)
{
	if (sp == NULL || sp->retiring) {
		if (complain_fail(&none, clock_mono_us()))
			log_err("%s: run not started: no spawner (%lu runs so "
			    "far)", name, none.failures);
		return NULL;
	}
	if (none.failures > 0)
		log_notice("runs start again after %lu could not",
		    complain_ok(&none));
	return sp;
}

/* The current spawner of job, or NULL (told). */
static struct spawner *
for_job(unsigned int job, const char *name)
{
	return none_then(job < cur.njobs ? cur.byjob[job] : NULL, name);
}

/* The current spawner of collector, else any current one, or NULL. */
static struct spawner *
for_collector(const char *collector, const char *name)
{
	struct spawner	*sp, *any = NULL;

	for (sp = spawners; sp != NULL; sp = sp->next) {
		if (sp->gen != cur.gen || cur.gen == 0 || sp->retiring)
			continue;
		if (strcmp(sp->collector, collector) == 0)
			break;
		if (any == NULL || sp->collector[0] == '\0')
			any = sp;
	}
	return none_then(sp != NULL ? sp : any, name);
}

static int
send_request(struct spawner *sp, uint16_t type, const void *p, size_t len,
    const char *name, int wfd, int efd, struct spawner **spp)
{
	int	fds[2] = { wfd, efd };

	if (msg_send_fds(&sp->ch, type, p, len, fds, 2) == -1) {
		if (errno == E2BIG)
			log_err("%s: the spawner is not keeping up: run not "
			    "started", name);
		else
			log_err("%s: asking the spawner: %m", name);
		return -1;
	}
	if (msg_queued(&sp->ch) > 0)
		sd_event_source_set_io_events(sp->io, EPOLLIN | EPOLLOUT);
	sp->runs++;
	*spp = sp;
	return 0;
}

int
spawnctl_request(uint64_t id, uint64_t due_us, uint64_t deadline_us,
    unsigned int job, const char *name, int wfd, int efd,
    struct spawner **spp)
{
	struct spawner		*sp;
	struct spawn_run	 rq;

	if ((sp = for_job(job, name)) == NULL)
		return -1;
	memset(&rq, 0, sizeof(rq));
	rq.id = id;
	rq.due_us = due_us;
	rq.deadline_us = deadline_us;
	rq.gen = sp->gen;
	rq.job = job;
	snprintf(rq.name, sizeof(rq.name), "%s", name);
	return send_request(sp, SPAWN_RUN, &rq, sizeof(rq), name, wfd, efd,
	    spp);
}

int
spawnctl_probe(uint64_t id, uint64_t deadline_us, uint64_t timeout_us,
    const char *collector, const char *name, const char *text, size_t len,
    int wfd, int efd, struct spawner **spp)
{
	struct spawner		*sp;
	struct spawn_probe	*pr;
	int			 r;

	if (len > SPAWN_PROBE_TEXT_MAX ||
	    (sp = for_collector(collector, name)) == NULL)
		return -1;
	if ((pr = calloc(1, sizeof(*pr) + len)) == NULL)
		fatal("spawner: %m");
	pr->id = id;
	pr->deadline_us = deadline_us;
	pr->timeout_us = timeout_us;
	snprintf(pr->collector, sizeof(pr->collector), "%s", collector);
	snprintf(pr->name, sizeof(pr->name), "%s", name);
	pr->textlen = (uint32_t)len;
	memcpy(pr + 1, text, len);
	r = send_request(sp, SPAWN_PROBE, pr, sizeof(*pr) + len, name, wfd,
	    efd, spp);
	free(pr);
	return r;
}
