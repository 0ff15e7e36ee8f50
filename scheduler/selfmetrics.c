/*
 * selfmetrics.c: qosd's own points: qosd (the daemon: uptime, runs,
 * scheduling lag, memory, CPU) and qosd_sink (each sink's figures) every
 * self_interval, and qosd_job (each run, or skip).
 */
#include <sys/resource.h>

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/lp.h"
#include "scheduler/child.h"
#include "scheduler/config.h"
#include "scheduler/daemon.h"
#include "scheduler/jobs.h"
#include "scheduler/sched.h"
#include "sinks/sink.h"

uint64_t
self_rss_bytes(void)
{
	FILE			*f;
	unsigned long long	 size, rss;
	int			 ok;

	if ((f = fopen("/proc/self/statm", "re")) == NULL)
		return 0;
	ok = fscanf(f, "%llu %llu", &size, &rss) == 2;
	fclose(f);
	return ok ? rss * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

void
self_job(struct daemon *d, const char *job, const char *collector,
    const char *result, uint64_t lag_us, unsigned long points,
    unsigned long rejected, const struct child_result *cr,
    const char *request)
{
	struct lp_point	*p = &d->pt;
	char		 err[128];

	if (d->opts->once)
		return;
	lp_point_reset(p);
	lp_point_set_measurement(p, "qosd_job", err, sizeof(err));
	lp_point_tag(p, "job", job, 1, err, sizeof(err));
	lp_point_tag(p, "collector", collector, 1, err, sizeof(err));
	if (request != NULL)
		lp_point_tag(p, "request", request, 1, err, sizeof(err));
	lp_point_field_str(p, "result", result, err, sizeof(err));
	if (cr != NULL) {
		if (lag_us != SELF_LAG_NONE)
			lp_point_field_int(p, "lag_us", (int64_t)lag_us, err,
			    sizeof(err));
		lp_point_field_int(p, "points", (int64_t)points, err,
		    sizeof(err));
		lp_point_field_int(p, "rejected", (int64_t)rejected, err,
		    sizeof(err));
		lp_point_field_float(p, "duration_ms",
		    (double)cr->duration_us / 1000.0, err, sizeof(err));
		if (cr->status == CHILD_CRASHED ||
		    cr->status == CHILD_STOPPED ||
		    (cr->status == CHILD_TIMEOUT && cr->code != 0))
			lp_point_field_int(p, "signal", cr->code, err,
			    sizeof(err));
		else
			lp_point_field_int(p, "exit_code", cr->code, err,
			    sizeof(err));
		lp_point_field_int(p, "maxrss_bytes",
		    (int64_t)cr->maxrss_bytes, err, sizeof(err));
		lp_point_field_int(p, "output_bytes", (int64_t)cr->bytes,
		    err, sizeof(err));
	}
	fanout_emit(d, p);
}

static void
self_daemon(struct daemon *d)
{
	struct lp_point	*p = &d->pt;
	struct rusage	 ru;
	char		 err[128];

	getrusage(RUSAGE_SELF, &ru);
	lp_point_reset(p);
	lp_point_set_measurement(p, "qosd", err, sizeof(err));
#define F_INT(k, v) lp_point_field_int(p, k, (int64_t)(v), err, sizeof(err))
	lp_point_field_float(p, "uptime_s",
	    (double)(clock_mono_us() - d->start_mono) / 1e6, err, sizeof(err));
	F_INT("jobs", jobs_count(d->jobs));
	F_INT("runs_ok", d->n.ok);
	F_INT("runs_failed", d->n.failed);
	F_INT("runs_timeout", d->n.timeout);
	F_INT("runs_crashed", d->n.crashed);
	F_INT("runs_overflow", d->n.overflow);
	F_INT("runs_stopped", d->n.stopped);
	F_INT("runs_skipped", jobs_skipped(d->jobs));
	F_INT("runs_waited", d->n.waited);
	F_INT("runs_not_started", d->n.spawn_errors);
	F_INT("lines_rejected", d->n.rejected);
	F_INT("children_running", child_count());
	F_INT("runs_held", d->holds);
	if (d->lag.seen > 0) {
		F_INT("lag_p50_us", lagstats_pct(&d->lag, 50));
		F_INT("lag_p99_us", lagstats_pct(&d->lag, 99));
		F_INT("lag_max_us", d->lag.max);
	}
	F_INT("rss_bytes", self_rss_bytes());
	lp_point_field_float(p, "cpu_user_s", (double)ru.ru_utime.tv_sec +
	    (double)ru.ru_utime.tv_usec / 1e6, err, sizeof(err));
	lp_point_field_float(p, "cpu_system_s", (double)ru.ru_stime.tv_sec +
	    (double)ru.ru_stime.tv_usec / 1e6, err, sizeof(err));
#undef F_INT
	fanout_emit(d, p);
	lagstats_reset(&d->lag);
}

void
self_metrics(struct daemon *d)
{
	struct lp_point	*p = &d->pt;
	char		 err[128];
	size_t		 i;

	self_daemon(d);
	for (i = 0; i < d->nsinks; i++) {
		if (d->sinks[i].type->stats == NULL)
			continue;
		lp_point_reset(p);
		lp_point_set_measurement(p, "qosd_sink", err, sizeof(err));
		lp_point_tag(p, "sink", d->sinks[i].name, 1, err, sizeof(err));
		lp_point_tag(p, "type", d->sinks[i].type->name, 1, err,
		    sizeof(err));
		d->sinks[i].type->stats(d->sinks[i].rt, p);
		if (p->nfields > 0)
			fanout_emit(d, p);
	}
	fanout_flush(d);
}

static int
self_on_timer(sd_event_source *src, uint64_t usec, void *arg)
{
	struct daemon	*d = arg;
	uint64_t	 iv = d->cfg->self_interval_us;

	(void)usec;
	self_metrics(d);
	if (iv == 0)
		return 0;
	do
		d->self_deadline += iv;
	while (d->self_deadline <= clock_mono_us());
	sd_event_source_set_time(src, d->self_deadline);
	sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
	return 0;
}

void
self_arm(struct daemon *d)
{
	uint64_t	iv = d->cfg->self_interval_us, now_r, now_m;

	d->self_timer = sd_event_source_disable_unref(d->self_timer);
	if (iv == 0 || d->opts->once)
		return;
	now_r = clock_real_us();
	now_m = clock_mono_us();
	d->self_deadline = now_m + (iv - now_r % iv);
	if (sd_event_add_time(d->ev, &d->self_timer, CLOCK_MONOTONIC,
	    d->self_deadline, 1000, self_on_timer, d) < 0)
		fatal("self-metrics timer");
}
