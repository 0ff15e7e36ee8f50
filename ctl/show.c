/*
 * show.c: qosctl's tables (see show.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl/show.h"

static const char *
str(const json_t *o, const char *key)
{
	const char	*s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "-";
}

static long long
num(const json_t *o, const char *key)
{
	return (long long)json_number_value(json_object_get(o, key));
}

/* A JSON scalar as text, for a table. */
static void
scalar(const json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
	else
		snprintf(buf, len, "-");
}

void
show_json(const json_t *o)
{
	json_dumpf(o, stdout, JSON_INDENT(2));
	putchar('\n');
}

void
show_status(const json_t *o)
{
	const json_t	*runs = json_object_get(o, "runs"), *lag, *s, *v;
	const char	*k;
	char		 val[256];
	size_t		 i;

	printf("agent     %s (qosd %s, pid %lld, up %.0f s)\n", str(o, "agent"),
	    str(o, "version"), num(o, "pid"),
	    json_number_value(json_object_get(o, "uptime_s")));
	printf("jobs      %lld, %lld runs going\n", num(o, "jobs"),
	    num(o, "running"));
	printf("runs      ok %lld, failed %lld (timeout %lld, crashed %lld), "
	    "skipped %lld\n", num(runs, "ok"), num(runs, "failed"),
	    num(runs, "timeout"), num(runs, "crashed"), num(runs, "skipped"));
	if ((lag = json_object_get(o, "lag_us")) != NULL)
		printf("lag       p50 %lld us, p99 %lld us, max %lld us\n",
		    num(lag, "p50"), num(lag, "p99"), num(lag, "max"));
	printf("memory    %lld kB\n", num(o, "rss_bytes") / 1024);
	json_array_foreach((json_object_get(o, "sinks")), i, s) {
		printf("sink      %s (%s):", str(s, "name"), str(s, "type"));
		json_object_foreach(((json_t *)(uintptr_t)s), k, v) {
			if (strcmp(k, "name") == 0 || strcmp(k, "type") == 0)
				continue;
			scalar(v, val, sizeof(val));
			printf(" %s %s", k, val);
		}
		putchar('\n');
	}
	printf("results   %lld kept; ad-hoc probes %s\n", num(o, "results"),
	    json_is_true(json_object_get(o, "probes")) ? "allowed" : "off");
}

void
show_jobs(const json_t *o)
{
	const json_t	*j, *last;
	char		 when[32];
	size_t		 i;

	printf("%-20s %-9s %8s %-8s %-8s %10s %6s  %s\n", "JOB", "COLLECTOR",
	    "INTERVAL", "STATE", "LAST", "DURATION", "POINTS", "NEXT");
	json_array_foreach(json_object_get(o, "jobs"), i, j) {
		last = json_object_get(j, "last");
		/* "2026-12-01T15:49:38.123Z": the time of day. */
		snprintf(when, sizeof(when), "%s", strlen(str(j, "next")) >=
		    19 ? str(j, "next") + 11 : "-");
		when[8] = '\0';
		printf("%-20s %-9s %7.6gs %-8s %-8s %8.1fms %6lld  %s\n",
		    str(j, "name"), str(j, "collector"),
		    json_number_value(json_object_get(j, "interval_s")),
		    str(j, "state"), json_is_object(last) ? str(last,
		    "result") : "-", json_is_object(last) ?
		    json_number_value(json_object_get(last, "duration_ms")) :
		    0.0, json_is_object(last) ? num(last, "points") : 0LL,
		    when);
	}
}

void
show_job(const json_t *o)
{
	const char	*k;
	const json_t	*v;
	char		*s;

	json_object_foreach(((json_t *)(uintptr_t)o), k, v) {
		if (json_is_object(v) || json_is_array(v)) {
			s = json_dumps(v, JSON_COMPACT);
			printf("%-12s %s\n", k, s != NULL ? s : "");
			free(s);
		} else {
			char	val[256];

			scalar(v, val, sizeof(val));
			printf("%-12s %s\n", k, val);
		}
	}
}

/* One point: measurement, tags, fields, as line protocol reads. */
static void
show_point(const json_t *p)
{
	const char	*k;
	const json_t	*v;
	char		 val[256];
	int		 first = 1;

	printf("  %s", str(p, "measurement"));
	json_object_foreach(json_object_get(p, "tags"), k, v)
		printf(",%s=%s", k, json_string_value(v));
	json_object_foreach(json_object_get(p, "fields"), k, v) {
		scalar(v, val, sizeof(val));
		printf("%c%s=%s", first ? ' ' : ',', k, val);
		first = 0;
	}
	putchar('\n');
}

void
show_result(const json_t *o)
{
	const json_t	*run = json_object_get(o, "run"), *p;
	size_t		 i;

	printf("id        %s (%s of %s%s%s)\n", str(o, "id"), str(o, "kind"),
	    str(o, "collector"), json_object_get(o, "job") != NULL ?
	    ", job " : "", json_object_get(o, "job") != NULL ? str(o, "job") :
	    "");
	printf("state     %s\n", str(o, "state"));
	printf("times     asked %s, started %s, finished %s\n",
	    str(o, "created"), str(o, "started"), str(o, "finished"));
	if (run != NULL)
		printf("run       %s (code %lld) in %.1f ms\n", str(run,
		    "status"), num(run, "code"), json_number_value(
		    json_object_get(run, "duration_ms")));
	if (json_object_get(o, "error") != NULL)
		printf("error     %s\n", str(o, "error"));
	if (json_array_size(json_object_get(o, "points")) > 0)
		printf("points\n");
	json_array_foreach(json_object_get(o, "points"), i, p)
		show_point(p);
}

void
show_agent(const json_t *a)
{
	const json_t	*hb = json_object_get(a, "heartbeat");
	const json_t	*runs = json_object_get(hb, "runs");

	printf("%-20s %-5s last seen %s (%.1f s ago)  qosd %s  jobs %lld  "
	    "runs ok %lld failed %lld\n", str(a, "agent"),
	    json_is_true(json_object_get(a, "alive")) ? "alive" : "dead",
	    str(a, "last_seen"), json_number_value(json_object_get(a,
	    "age_s")), str(a, "version"), num(hb, "jobs"), num(runs, "ok"),
	    num(runs, "failed"));
}
