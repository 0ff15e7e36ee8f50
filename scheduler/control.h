/*
 * control.h: the control core: what a running daemon answers and does
 * when asked, whatever the transport (the HTTP/JSON API on a Unix socket,
 * scheduler/ctlhttp.h; a message bus later): its status, its jobs, a run
 * of a job now, an ad-hoc probe, a result by id, a reload.
 *
 * Answers are JSON (jansson) with a code that says how it went, one of
 * enum ctl_code, numbered as the HTTP statuses the HTTP layer answers
 * with (another transport maps them).  An error's body is {"error":
 * "why"}.  Nothing here blocks: a probe is answered once the spawner has
 * configured it (or its collector refused it), a reload once it is done,
 * through a callback; runs and probes run as any run does, and their
 * points are kept by id in a bounded ring of results (count and age:
 * control.results_max, control.results_age), tagged request=ID on their
 * way to the sinks.
 *
 * A result's state: queued (asked, not started yet), waiting (for its
 * exclusive group or a free slot), running, done (the run exited 0),
 * failed (it could not start, or did not end well).
 */
#ifndef SCHEDULER_CONTROL_H
#define SCHEDULER_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct child_result;
struct control;
struct ctl_result;
struct daemon;

enum ctl_code {
	CTL_OK = 200,
	CTL_ACCEPTED = 202,		/* a run or probe asked: {"id"} */
	CTL_BAD_REQUEST = 400,		/* the request is malformed */
	CTL_FORBIDDEN = 403,		/* not allowed (control { }) */
	CTL_NOT_FOUND = 404,		/* no such job or result */
	CTL_CONFLICT = 409,		/* busy, or an id in use */
	CTL_INVALID = 422,		/* the collector refused it */
	CTL_TOO_MANY = 429,		/* control.max_per_minute */
	CTL_ERROR = 500,
	CTL_UNAVAILABLE = 503		/* stopping, or no spawner */
};

#define CTL_ID_MAX	64		/* a request id's bytes */

/* An answer that comes later: code and body (a reference it takes). */
typedef void	(*ctl_done)(void *arg, int code, json_t *body);

/* The core of daemon d (its configuration's control { }). */
struct control	*control_new(struct daemon *d);
/* Pending answers are dropped (their callbacks are not called). */
void		 control_free(struct control *);
/*
 * Serve the HTTP API on control.socket if set (a missing directory or a
 * socket that cannot be made is logged, and the daemon goes on without
 * the API); also the periodic sd_notify STATUS= line.
 */
void		 control_listen(struct control *);
/* After a reload: the new control { } (allow-list, limits) applies. */
void		 control_configure(struct control *);
/* qosd stops: runs and probes are refused from now on. */
void		 control_stopping(struct control *);

/*
 * The answers.  Each returns its code and sets *out to a new reference.
 * control_run(): job now, with id (NULL: one is made), {"id", "state"}.
 */
int		 control_status(struct control *, json_t **out);
int		 control_jobs(struct control *, json_t **out);
/*
 * The jobs from..from+n-1 in the configuration's order, as an array of
 * what control_job() gives: for a transport that sends a long list a
 * page at a time, so that no answer holds the loop (a reload between
 * pages changes the list under it).  control_njobs(): how many.
 */
int		 control_jobs_page(struct control *, size_t from, size_t n,
		    json_t **out);
size_t		 control_njobs(const struct control *);
int		 control_job(struct control *, const char *name, json_t **out);
int		 control_run(struct control *, const char *job, const char *id,
		    json_t **out);
int		 control_result(struct control *, const char *id,
		    json_t **out);
/*
 * An ad-hoc probe: req is {"collector": NAME, "settings": {...}, "id":
 * ID (optional)}, who names the asker for the log.  done() is called
 * once: 202 {"id", "state"} when it runs, or the refusal (403 with the
 * rule, 422 with the collector's own message, ...).
 */
void		 control_probe(struct control *, const json_t *req,
		    const char *who, ctl_done done, void *arg);
/* Reload; done() gets 200 {"jobs", "sinks"} or 422 {"error"}. */
void		 control_reload(struct control *, ctl_done done, void *arg);

/*
 * Each change of a request's state (queued or waiting, running, done or
 * failed; a probe's first is running): fn(arg, res), res its JSON as
 * control_result() gives it, borrowed for the call.  One watcher (the
 * bus, ctlbus.h); fn NULL: none.
 */
typedef void	(*ctl_watch)(void *arg, const json_t *res);
void		 control_watch(struct control *, ctl_watch fn, void *arg);

/*
 * For fanout.c: every line that went to the sinks, and the end of a
 * batch, for the bus (nats.points, ctlbus.h).  c NULL is fine.
 */
void		 control_points(struct control *c, const char *lines,
		    size_t len);
void		 control_points_flush(struct control *c);

/* For runs.c: the life of a run asked by id. */
const char	*ctlres_id(const struct ctl_result *);
/* Its process exists. */
void		 ctlres_running(struct ctl_result *);
/* One of its points as it went to the sinks (a line with its '\n'). */
void		 ctlres_point(struct ctl_result *, const char *line,
		    size_t len);
/* It is over: cr how it ended, points how many it made. */
void		 ctlres_done(struct ctl_result *, const struct child_result *cr,
		    unsigned long points);
/* It will not run: why. */
void		 ctlres_failed(struct ctl_result *, const char *why);
/* Its collector refused the probe's settings: err. */
void		 ctlres_refused(struct ctl_result *, const char *err);

#endif /* SCHEDULER_CONTROL_H */
