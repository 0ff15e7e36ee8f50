/*
 * ctlint.h: the control core's state, shared by its files: control.c
 * (runs, probes, reload, results), ctlview.c (status, jobs, the
 * sd_notify status line, the API's start).  Not for anything else.
 */
#ifndef SCHEDULER_CTLINT_H
#define SCHEDULER_CTLINT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <systemd/sd-event.h>

#include "lib/complain.h"
#include "scheduler/control.h"

struct ctlacl;
struct ctlbus;
struct ctlhttp;
struct ctlres_ring;
struct daemon;
struct job;

struct waiter {
	ctl_done	 done;
	void		*arg;
};

struct control {
	struct daemon	*d;
	struct ctlres_ring *ring;
	struct ctlacl	*acl;
	uint64_t	*probe_times;	/* the last max_per_minute probes */
	size_t		 nprobe_times, probe_next;
	struct waiter	*waiters;	/* of the reload to come */
	size_t		 nwaiters;
	sd_event_source	*reload_ev;
	sd_event_source	*status_timer;
	struct ctlhttp	*http;
	struct ctlbus	*bus;		/* nats { } (ctlbus.h) */
	ctl_watch	 watch;		/* control_watch() */
	void		*watch_arg;
	const struct job **byidx;	/* the table's job of each cfg job */
	size_t		 nbyidx;
	struct complain	 refusals;	/* probes refused, for the log */
	int		 stopping;
};

/* {"error": "..."}, a new reference. */
json_t	*ctl_error(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* ctlview.c: index the job table by configuration order (a reload). */
void	 control_index(struct control *);
/* ctlview.c: the sd_notify STATUS= line, now. */
void	 control_notify(struct control *);

#endif /* SCHEDULER_CTLINT_H */
