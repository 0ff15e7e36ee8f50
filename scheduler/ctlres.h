/*
 * ctlres.h: the control core's results (control.h): a bounded ring of
 * runs and probes asked by id, oldest first, each with its state and
 * the points it made (as line protocol, capped), shown as JSON.
 * Results go when there are more than max of them (the oldest first) or
 * once they ended more than age_us ago; a run still going is never
 * dropped.  For control.c only.
 */
#ifndef SCHEDULER_CTLRES_H
#define SCHEDULER_CTLRES_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "scheduler/control.h"

#define CTLRES_POINTS_MAX	(1 << 20)	/* line protocol kept */

enum ctlres_state {
	CTLRES_QUEUED,
	CTLRES_WAITING,
	CTLRES_RUNNING,
	CTLRES_DONE,
	CTLRES_FAILED
};

struct ctlres_ring;

struct ctl_result {
	struct ctlres_ring *ring;
	char		 id[CTL_ID_MAX + 1];
	int		 probe;		/* else a job's run */
	char		*job;		/* a run's */
	char		*collector;
	enum ctlres_state state;
	int64_t		 created_ns, started_ns, finished_ns;
	uint64_t	 finished_us;	/* CLOCK_MONOTONIC, for the age */
	int		 live;		/* a run holds it */
	char		*status;	/* how the run ended */
	int		 code;		/* its exit status or signal */
	uint64_t	 duration_us;
	char		*error;
	char		*lp;		/* its points, line protocol */
	size_t		 lplen;
	unsigned long	 npoints, dropped;
	ctl_done	 pending;	/* a probe's answer, until it starts */
	void		*pending_arg;
	struct ctl_result *prev, *next;
};

/* A ring of at most max results, each kept age_us after it ended. */
struct ctlres_ring *ctlres_ring_new(size_t max, uint64_t age_us);
/* Free it and every result (pending answers dropped). */
void		 ctlres_ring_free(struct ctlres_ring *);
/* New limits (after a reload); applied now. */
void		 ctlres_ring_limits(struct ctlres_ring *, size_t max,
		    uint64_t age_us);
/* fn(arg, x) at each ctlres_changed() of a result of the ring. */
void		 ctlres_ring_watch(struct ctlres_ring *,
		    void (*fn)(void *arg, const struct ctl_result *x),
		    void *arg);
/* x's state changed: the ring's watcher hears it. */
void		 ctlres_changed(const struct ctl_result *x);
/* A new result with id (copied; valid: ctlres_valid_id()), live. */
struct ctl_result *ctlres_add(struct ctlres_ring *, const char *id,
		    int probe, const char *job, const char *collector);
/* Take it out of the ring and free it. */
void		 ctlres_remove(struct ctl_result *);
/* The result of id, or NULL (results too old go first). */
struct ctl_result *ctlres_find(struct ctlres_ring *, const char *id);
/* How many results the ring holds. */
size_t		 ctlres_count(const struct ctlres_ring *);
/* Whether id is a valid request id: [A-Za-z0-9._:-], 1 to 64 bytes. */
int		 ctlres_valid_id(const char *id);
/* A new id (16 hex digits) into id (CTL_ID_MAX + 1 bytes). */
void		 ctlres_make_id(char *id);
/* The state's name: "queued", ... */
const char	*ctlres_state_str(enum ctlres_state);
/* The result as JSON: a new reference. */
json_t		*ctlres_json(const struct ctl_result *);
/* An RFC 3339 time (UTC, milliseconds) of ns since the epoch. */
json_t		*ctlres_time(int64_t ns);

#endif /* SCHEDULER_CTLRES_H */
