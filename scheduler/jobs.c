/*
 * jobs.c: the job table (see jobs.h).
 */
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/complain.h"
#include "lib/log.h"
#include "lib/strmap.h"
#include "scheduler/config.h"
#include "scheduler/jobs.h"

struct jobs {
	const struct jobs_ops	*ops;
	void			*arg;
	char			*agent;
	unsigned int		 max_children;
	int			 once;
	uint64_t		 lead_us;	/* jobs_set_lead() */
	struct job		*jobs;
	struct job		*pending_head, *pending_tail;
	size_t			 running;
	uint64_t		 skipped;
};

/* FNV-1a: a stable hash, the same on every machine and every release. */
static uint64_t
phase_hash(const char *agent, const char *job)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	const char	*p;

	for (p = agent; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	h = (h ^ 0xff) * 0x100000001b3ULL;
	for (p = job; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	return h;
}

uint64_t
jobs_first_deadline(const char *agent, const char *job, uint64_t interval_us,
    uint64_t splay_us)
{
	uint64_t	 now_r = clock_real_us(), now_m = clock_mono_us();
	uint64_t	 off = 0, t;

	if (splay_us > 0)
		off = phase_hash(agent, job) % splay_us;
	off %= interval_us;
	t = now_r - now_r % interval_us + off;
	if (t <= now_r)
		t += interval_us;
	return now_m + (t - now_r);
}

/* The timer fires lead_us before the deadline (never at 0: disarmed). */
static void
arm(struct job *j, uint64_t deadline)
{
	uint64_t	lead = j->t->lead_us;

	j->deadline = deadline;
	j->recheck = 0;
	j->t->ops->arm(j->t->arg, j, deadline > lead + 1 ? deadline - lead :
	    1);
}

static void
arm_first(struct jobs *t, struct job *j)
{
	arm(j, t->once ? clock_mono_us() : jobs_first_deadline(t->agent,
	    j->name, j->conf->interval_us, j->conf->splay_us));
}

/* Runs waiting for a free slot or for their exclusive group. */

static void
pending_remove(struct jobs *t, struct job *j)
{
	struct job	**pp, *prev = NULL;

	for (pp = &t->pending_head; *pp != NULL; pp = &(*pp)->next_pending) {
		if (*pp == j) {
			*pp = j->next_pending;
			if (t->pending_tail == j)
				t->pending_tail = prev;
			j->next_pending = NULL;
			j->pending = 0;
			return;
		}
		prev = *pp;
	}
}

static void
pending_add(struct jobs *t, struct job *j, uint64_t due)
{
	j->pending = 1;
	j->due = due;
	j->next_pending = NULL;
	if (t->pending_tail != NULL)
		t->pending_tail->next_pending = j;
	else
		t->pending_head = j;
	t->pending_tail = j;
}

static int
group_busy(const struct jobs *t, const char *group)
{
	const struct job	*j;

	for (j = t->jobs; j != NULL; j = j->next)
		if (j->running && j->group != NULL &&
		    strcmp(j->group, group) == 0)
			return 1;
	return 0;
}

static int
can_start(const struct jobs *t, const struct job *j)
{
	if (t->running >= t->max_children)
		return 0;
	return j->conf->exclusive == NULL ||
	    !group_busy(t, j->conf->exclusive);
}

static void
start(struct jobs *t, struct job *j, uint64_t due, int waited)
{
	uint64_t	now = clock_mono_us();

	/* On time (or ahead of it: the run waits for due). */
	if (now < due || now - due < j->conf->interval_us)
		complain_ok(&j->skips);
	j->running = 1;
	free(j->group);
	j->group = NULL;
	if (j->conf->exclusive != NULL &&
	    (j->group = strdup(j->conf->exclusive)) == NULL)
		fatal("jobs: %m");
	t->running++;
	if (t->ops->start(t->arg, j, due, waited) == -1) {
		j->running = 0;
		t->running--;
	}
}

/* A request that will not run: the caller hears why. */
static void
drop_request(struct jobs *t, struct job *j, const char *why)
{
	void	*rq = j->request;

	if (rq == NULL)
		return;
	j->request = NULL;
	if (t->ops->dropped != NULL)
		t->ops->dropped(t->arg, j, rq, why);
}

enum jobs_req
jobs_request(struct jobs *t, struct job *j, void *request)
{
	uint64_t	now = clock_mono_us();

	if (j->conf == NULL || j->request != NULL)
		return JOBS_REQ_BUSY;
	/* A scheduled run waiting for its turn: the request's run. */
	if (j->pending) {
		j->request = request;
		return JOBS_REQ_WAITING;
	}
	/* One forked ahead and not begun, likewise. */
	if (j->running)
		return t->ops->join != NULL && t->ops->join(t->arg, j,
		    request) == 0 ? JOBS_REQ_JOINED : JOBS_REQ_BUSY;
	j->request = request;
	if (!can_start(t, j)) {
		pending_add(t, j, now);
		return JOBS_REQ_WAITING;
	}
	start(t, j, now, 0);
	if (!j->running) {
		j->request = NULL;
		return JOBS_REQ_FAILED;
	}
	return JOBS_REQ_STARTED;
}

static void
pending_drain(struct jobs *t)
{
	struct job	*j, *next;

	for (j = t->pending_head; j != NULL; j = next) {
		next = j->next_pending;
		if (t->running >= t->max_children)
			break;
		if (can_start(t, j)) {
			pending_remove(t, j);
			/* A slot that came before the deadline: no wait. */
			start(t, j, j->due, clock_mono_us() >= j->due);
		}
	}
}

static void
skip(struct jobs *t, struct job *j, const char *why)
{
	t->skipped++;
	j->nskipped++;
	if (complain_fail(&j->skips, clock_mono_us()))
		log_err("%s[%s]: run skipped: %s (%lu skipped since the last "
		    "run that started on time)", j->conf->collector, j->name,
		    why, j->skips.failures);
	t->ops->skipped(t->arg, j, why);
}

static void
due(struct jobs *t, struct job *j, uint64_t when)
{
	if (j->running)
		skip(t, j, "the previous run is still going");
	else if (j->pending) {
		skip(t, j, "the previous run is still waiting for its turn");
		j->due = when;
	} else if (can_start(t, j))
		start(t, j, when, 0);
	else
		pending_add(t, j, when);
}

void
jobs_fire(struct jobs *t, struct job *j)
{
	uint64_t	 when = j->deadline, now = clock_mono_us();
	uint64_t	 next = when + j->conf->interval_us;

	/*
	 * Ahead of the deadline, the previous run still going (or waiting):
	 * it may yet end in time, so the deadline itself decides.
	 */
	if (!t->once && now < when && !j->recheck && (j->running ||
	    j->pending)) {
		j->recheck = 1;
		t->ops->arm(t->arg, j, when);
		return;
	}
	if (t->once) {
		/* Due once: the timer stays off. */
		due(t, j, when);
		return;
	}
	/* Deadlines missed entirely (a stopped process, a suspend). */
	while (next <= now) {
		t->skipped++;
		next += j->conf->interval_us;
	}
	arm(j, next);
	due(t, j, when);
}

struct job *
jobs_add(struct jobs *t, const struct cfg_job *c)
{
	struct job	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->name = strdup(c->name)) == NULL)
		fatal("jobs_add: %m");
	j->t = t;
	j->conf = c;
	j->next = t->jobs;
	t->jobs = j;
	arm_first(t, j);
	return j;
}

/* Unlink and free. */
static void
job_free(struct jobs *t, struct job *j)
{
	struct job	**pp;

	for (pp = &t->jobs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	if (j->pending)
		pending_remove(t, j);
	drop_request(t, j, "the job is gone");
	t->ops->gone(t->arg, j);
	free(j->group);
	free(j->name);
	free(j);
}

/*
 * A job a reload removed: no more runs.  A running one stays listed,
 * with conf NULL, until its run is done (its group is busy till then).
 */
static void
job_retire(struct jobs *t, struct job *j)
{
	if (j->pending)
		pending_remove(t, j);
	drop_request(t, j, "a reload removed the job");
	t->ops->arm(t->arg, j, 0);
	j->conf = NULL;
	if (!j->running)
		job_free(t, j);
}

void
jobs_done(struct jobs *t, struct job *j)
{
	j->running = 0;
	free(j->group);
	j->group = NULL;
	if (t->running > 0)
		t->running--;
	if (j->conf == NULL)
		job_free(t, j);
	pending_drain(t);
}

void
jobs_reload(struct jobs *t, const struct cfg *cfg, unsigned int max_children)
{
	const struct cfg_job	*c;
	struct job		*j, *next;
	struct strmap		*kept;
	size_t			 i;

	t->max_children = max_children;
	/* Names are looked up in maps: a reload is linear in the jobs. */
	kept = strmap_new(cfg->njobs);
	/* Jobs that stay keep their deadline, so their phase and count. */
	for (j = t->jobs; j != NULL; j = next) {
		next = j->next;
		if (j->conf == NULL)
			continue;
		if ((c = cfg_job_find(cfg, j->name)) == NULL) {
			job_retire(t, j);
			continue;
		}
		if (j->conf->interval_us != c->interval_us ||
		    j->conf->splay_us != c->splay_us) {
			j->conf = c;
			arm_first(t, j);
		} else
			j->conf = c;
		strmap_put(kept, j->name, j);
	}
	for (i = 0; i < cfg->njobs; i++)
		if (strmap_get(kept, cfg->jobs[i].name) == NULL)
			jobs_add(t, &cfg->jobs[i]);
	strmap_free(kept);
	pending_drain(t);
}

void
jobs_stop(struct jobs *t)
{
	struct job	*j;

	for (j = t->jobs; j != NULL; j = j->next) {
		t->ops->arm(t->arg, j, 0);
		if (j->pending)
			pending_remove(t, j);
		drop_request(t, j, "qosd is stopping");
	}
}

struct jobs *
jobs_new(const struct jobs_ops *ops, void *arg, const char *agent,
    unsigned int max_children, int once)
{
	struct jobs	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->agent = strdup(agent)) == NULL)
		fatal("jobs_new: %m");
	t->ops = ops;
	t->arg = arg;
	t->max_children = max_children;
	t->once = once;
	return t;
}

void
jobs_set_lead(struct jobs *t, uint64_t lead_us)
{
	t->lead_us = t->once ? 0 : lead_us;
}

void
jobs_free(struct jobs *t)
{
	if (t == NULL)
		return;
	while (t->jobs != NULL)
		job_free(t, t->jobs);
	free(t->agent);
	free(t);
}

size_t
jobs_running(const struct jobs *t)
{
	return t->running;
}

size_t
jobs_count(const struct jobs *t)
{
	const struct job	*j;
	size_t			 n = 0;

	for (j = t->jobs; j != NULL; j = j->next)
		if (j->conf != NULL)
			n++;
	return n;
}

int
jobs_waiting(const struct jobs *t)
{
	return t->pending_head != NULL;
}

struct job *
jobs_first(const struct jobs *t)
{
	return t->jobs;
}

uint64_t
jobs_skipped(const struct jobs *t)
{
	return t->skipped;
}
