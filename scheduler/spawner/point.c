/*
 * point.c: the point API exported to collectors (collector.h).  It runs in
 * the forked child: each qosd_point_end() encodes one line into a batch
 * that goes to the pipe the parent reads when it holds FLUSH_BYTES, when
 * its oldest line is FLUSH_US old, and when the run ends.  Batching saves
 * the parent a wakeup per point (10,000 ping targets are 10,000 points);
 * the age bound keeps what a run killed at its timeout loses small.
 */
#define _GNU_SOURCE		/* asprintf */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/io.h"
#include "lib/log.h"
#include "lib/lp.h"
#include "lib/proc.h"
#include "qosd/point.h"
#include "scheduler/spawner/point.h"

#define FLUSH_BYTES	16384
#define FLUSH_US	20000

struct qosd_out {
	int		 fd;
	struct buf	 batch;		/* whole lines not yet written */
	uint64_t	 batch_since;	/* when its first line came */
	char		*job;
	char		*who;		/* "collector[job]", for logs */
	uint64_t	 deadline_us;
	struct lp_point	 p;
	struct buf	 line;
	int		 open;		/* a point is being built */
	int		 bad;		/* and something went wrong with it */
	unsigned long	 count;
};

struct qosd_out *
point_out_new(int fd, const char *job, uint64_t deadline_us)
{
	struct qosd_out	*o;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return NULL;
	if ((o->job = strdup(job)) == NULL ||
	    (o->who = strdup(job)) == NULL) {
		free(o->job);
		free(o);
		return NULL;
	}
	o->fd = fd;
	o->deadline_us = deadline_us;
	lp_point_init(&o->p);
	buf_init(&o->line, LP_MAX_LINE);
	buf_init(&o->batch, FLUSH_BYTES + LP_MAX_LINE);
	return o;
}

void
point_out_begin(struct qosd_out *o, uint64_t begin_us)
{
	char	line[48];
	int	n;

	n = snprintf(line, sizeof(line), "#begin %llu\n",
	    (unsigned long long)begin_us);
	if (o->batch.len == 0)
		o->batch_since = clock_mono_us();
	if (buf_add(&o->batch, line, (size_t)n) == -1)
		fatal("%s: batch: %m", o->who);
}

unsigned long
point_out_count(const struct qosd_out *o)
{
	return o->count;
}

void
point_out_free(struct qosd_out *o)
{
	if (o == NULL)
		return;
	point_out_flush(o);
	lp_point_cleanup(&o->p);
	buf_cleanup(&o->line);
	buf_cleanup(&o->batch);
	free(o->job);
	free(o->who);
	free(o);
}

void
point_out_name(struct qosd_out *o, const char *collector)
{
	char	*who;

	if (asprintf(&who, "%s[%s]", collector, o->job) == -1)
		return;
	free(o->who);
	o->who = who;
}

const char *
qosd_out_job(const struct qosd_out *o)
{
	return o->job;
}

uint64_t
qosd_out_deadline_us(const struct qosd_out *o)
{
	return o->deadline_us;
}

/* One log line per failure, in the run's name; marks the point bad. */
static int
point_fail(struct qosd_out *o, const char *what, const char *err)
{
	log_err("%s: %s: %s", o->who, what, err);
	o->bad = 1;
	return -1;
}

int
qosd_point_begin(struct qosd_out *o, const char *measurement)
{
	char	err[256];

	if (o->open)
		log_err("%s: point begun before the previous one ended; "
		    "the previous one is dropped", o->who);
	lp_point_reset(&o->p);
	o->open = 1;
	o->bad = 0;
	if (lp_point_set_measurement(&o->p, measurement, err,
	    sizeof(err)) == -1)
		return point_fail(o, "measurement", err);
	return 0;
}

static int
point_check_open(struct qosd_out *o)
{
	if (!o->open) {
		log_err("%s: point API used outside qosd_point_begin/end",
		    o->who);
		return -1;
	}
	return 0;
}

int
qosd_point_tag(struct qosd_out *o, const char *key, const char *value)
{
	char	err[256];

	if (point_check_open(o) == -1)
		return -1;
	if (lp_point_tag(&o->p, key, value, 1, err, sizeof(err)) == -1)
		return point_fail(o, "tag", err);
	return 0;
}

int
qosd_point_float(struct qosd_out *o, const char *key, double v)
{
	char	err[256];

	if (point_check_open(o) == -1)
		return -1;
	if (lp_point_field_float(&o->p, key, v, err, sizeof(err)) == -1)
		return point_fail(o, "field", err);
	return 0;
}

int
qosd_point_int(struct qosd_out *o, const char *key, int64_t v)
{
	char	err[256];

	if (point_check_open(o) == -1)
		return -1;
	if (lp_point_field_int(&o->p, key, v, err, sizeof(err)) == -1)
		return point_fail(o, "field", err);
	return 0;
}

int
qosd_point_bool(struct qosd_out *o, const char *key, int v)
{
	char	err[256];

	if (point_check_open(o) == -1)
		return -1;
	if (lp_point_field_bool(&o->p, key, v, err, sizeof(err)) == -1)
		return point_fail(o, "field", err);
	return 0;
}

int
qosd_point_str(struct qosd_out *o, const char *key, const char *v)
{
	char	 err[256];
	char	*clean, *c;
	int	 rc;

	if (point_check_open(o) == -1)
		return -1;
	/* Error texts from libraries may carry newlines: flatten them. */
	if ((clean = strdup(v)) == NULL)
		return point_fail(o, "field", strerror(errno));
	for (c = clean; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	rc = lp_point_field_str(&o->p, key, clean, err, sizeof(err));
	free(clean);
	if (rc == -1)
		return point_fail(o, "field", err);
	return 0;
}

int
qosd_point_time(struct qosd_out *o, int64_t ns)
{
	if (point_check_open(o) == -1)
		return -1;
	lp_point_set_time(&o->p, ns);
	return 0;
}

int
point_out_flush(struct qosd_out *o)
{
	if (o->batch.len == 0)
		return 0;
	if (io_write_all(o->fd, o->batch.data, o->batch.len) == -1) {
		log_err("%s: write to the daemon: %m", o->who);
		buf_reset(&o->batch);
		return -1;
	}
	buf_reset(&o->batch);
	return 0;
}

int
qosd_point_end(struct qosd_out *o)
{
	char		 err[256];

	if (point_check_open(o) == -1)
		return -1;
	o->open = 0;
	if (o->bad)
		return -1;
	if (!o->p.has_time)
		lp_point_set_time(&o->p, clock_real_ns());
	buf_reset(&o->line);
	if (lp_encode(&o->p, &o->line, err, sizeof(err)) == -1) {
		log_err("%s: point dropped: %s", o->who, err);
		return -1;
	}
	if (o->batch.len == 0)
		o->batch_since = clock_mono_us();
	if (buf_add(&o->batch, o->line.data, o->line.len) == -1)
		fatal("%s: batch: %m", o->who);
	o->count++;
	if (o->batch.len >= FLUSH_BYTES ||
	    clock_mono_us() - o->batch_since >= FLUSH_US)
		return point_out_flush(o);
	return 0;
}

int
qosd_out_exec(struct qosd_out *o, char *const argv[], char *const envp[])
{
	extern char	**environ;

	point_out_flush(o);
	if (o->fd != STDOUT_FILENO &&
	    dup2(o->fd, STDOUT_FILENO) == -1) {
		log_err("%s: dup2: %m", o->who);
		return -1;
	}
	execve(argv[0], argv, envp != NULL ? envp : environ);
	log_err("%s: cannot run \"%s\": %m", o->who, argv[0]);
	return -1;
}
