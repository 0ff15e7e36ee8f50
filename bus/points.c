/*
 * points.c: points published on the bus (see points.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "bus/bus.h"
#include "bus/conn.h"
#include "bus/points.h"
#include "lib/clock.h"
#include "lib/complain.h"
#include "lib/log.h"
#include "lib/natsname.h"

#define RETRY_US	3000000ULL	/* the stream again after a failure */
#define JS_WAIT_MS	2000		/* an acknowledgement */

struct points {
	const struct bus_conf	*c;
	natsConnection		*nc;
	jsCtx			*js;
	int			 stream;	/* the stream is there */
	uint64_t		 next_try;
	char			*q;		/* lines waiting */
	size_t			 qlen;
	uint64_t		 sent, dropped;
	struct complain		 cp, drop_cp;
};

struct points *
points_new(const struct bus_conf *c, natsConnection *nc)
{
	struct points	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("bus: %m");
	p->c = c;
	p->nc = nc;
	return p;
}

void
points_free(struct points *p)
{
	if (p == NULL)
		return;
	if (p->js != NULL)
		jsCtx_Destroy(p->js);
	free(p->q);
	free(p);
}

void
points_figs(const struct points *p, uint64_t *sent, uint64_t *dropped)
{
	*sent = p->sent;
	*dropped = p->dropped;
}

static uint64_t
count_lines(const char *s, size_t len)
{
	uint64_t	n = 0;
	size_t		i;

	for (i = 0; i < len; i++)
		n += s[i] == '\n';
	return n;
}

/* The stream of PREFIX.points.>, made if missing: 1 there, 0 not yet. */
static int
stream_ready(struct points *p)
{
	jsOptions	 jo;
	jsStreamConfig	 sc;
	jsStreamInfo	*si = NULL;
	jsErrCode	 jerr = 0;
	natsStatus	 s;
	char		 subj[NATSNAME_SUBJECT_MAX];
	const char	*subjects[1] = { subj };
	uint64_t	 now = clock_mono_us();

	if (p->stream)
		return 1;
	if (now < p->next_try)
		return 0;
	if (p->js == NULL) {
		jsOptions_Init(&jo);
		jo.Wait = JS_WAIT_MS;
		if ((s = natsConnection_JetStream(&p->js, p->nc, &jo)) !=
		    NATS_OK)
			goto bad;
	}
	snprintf(subj, sizeof(subj), "%s.points.>", p->c->prefix);
	if ((s = js_GetStreamInfo(&si, p->js, p->c->points_stream, NULL,
	    &jerr)) == NATS_NOT_FOUND) {
		jsStreamConfig_Init(&sc);
		sc.Name = p->c->points_stream;
		sc.Subjects = subjects;
		sc.SubjectsLen = 1;
		sc.Storage = js_FileStorage;
		sc.MaxAge = (int64_t)(p->c->kv_ttl_s * 1e9);
		s = js_AddStream(&si, p->js, &sc, NULL, &jerr);
	}
	jsStreamInfo_Destroy(si);
	if (s != NATS_OK)
		goto bad;
	p->stream = 1;
	if (complain_ok(&p->cp) > 0)
		log_notice("bus: the stream \"%s\" is there now",
		    p->c->points_stream);
	return 1;
bad:
	p->next_try = now + RETRY_US;
	if (complain_fail(&p->cp, now))
		log_warning("bus: cannot find or make the stream \"%s\" of "
		    "points (is JetStream on?): %s (%d); points wait",
		    p->c->points_stream, natsStatus_GetText(s), (int)jerr);
	return 0;
}

/*
 * Publish lines (len bytes), consecutive lines of one measurement in one
 * message: the bytes done (all, or up to the message that failed).
 */
static size_t
publish(struct points *p, const char *lines, size_t len)
{
	char		 subj[NATSNAME_SUBJECT_MAX];
	const char	*at = lines, *end = lines + len, *m, *nl, *run;
	size_t		 mlen, rmlen = 0;
	natsStatus	 s;

	if (p->c->points_stream != NULL && !stream_ready(p))
		return 0;
	for (run = at; at < end; run = at) {
		/* The measurement: up to an unescaped ',' or ' '. */
		for (m = run; m < end && *m != ',' && *m != ' ' &&
		    *m != '\n'; m++)
			if (*m == '\\' && m + 1 < end)
				m++;
		rmlen = (size_t)(m - run);
		/* Every following line of the same measurement. */
		do {
			if ((nl = memchr(at, '\n', (size_t)(end - at))) ==
			    NULL)
				nl = end - 1;
			at = nl + 1;
			mlen = rmlen;
		} while (at < end && (size_t)(end - at) > rmlen &&
		    memcmp(at, run, rmlen) == 0 && (at[rmlen] == ',' ||
		    at[rmlen] == ' '));
		if (natsname_points_subject(subj, sizeof(subj), p->c->prefix,
		    p->c->agent, run, mlen) == -1) {
			p->dropped += count_lines(run, (size_t)(at - run));
			continue;
		}
		if (p->c->points_stream != NULL)
			s = js_Publish(NULL, p->js, subj, run, (int)(at - run),
			    NULL, NULL);
		else
			s = natsConnection_Publish(p->nc, subj, run,
			    (int)(at - run));
		if (s != NATS_OK) {
			if (complain_fail(&p->cp, clock_mono_us()))
				log_warning("bus: points on %s: %s; they "
				    "wait", subj, natsStatus_GetText(s));
			return (size_t)(run - lines);
		}
		p->sent += count_lines(run, (size_t)(at - run));
	}
	return len;
}

/* Keep lines for later; beyond BUS_POINTS_QUEUE they go, counted. */
static void
keep(struct points *p, const char *lines, size_t len)
{
	uint64_t	n;

	if (p->qlen + len > BUS_POINTS_QUEUE) {
		n = count_lines(lines, len);
		p->dropped += n;
		if (complain_fail(&p->drop_cp, clock_mono_us()))
			log_warning("bus: %llu points not published: %d bytes "
			    "wait already (%llu so far; the sinks have them)",
			    (unsigned long long)n, BUS_POINTS_QUEUE,
			    (unsigned long long)p->dropped);
		return;
	}
	if (p->q == NULL && (p->q = malloc(BUS_POINTS_QUEUE)) == NULL)
		fatal("bus: %m");
	memcpy(p->q + p->qlen, lines, len);
	p->qlen += len;
}

void
points_take(struct points *p, int up, const char *lines, size_t len)
{
	size_t	done = 0;

	if (up && p->qlen == 0)
		done = publish(p, lines, len);
	if (done < len)
		keep(p, lines + done, len - done);
}

void
points_resume(struct points *p)
{
	size_t	done;

	if (p->qlen == 0 || !conn_up(p->nc))
		return;
	done = publish(p, p->q, p->qlen);
	memmove(p->q, p->q + done, p->qlen - done);
	p->qlen -= done;
	if (done > 0 && p->qlen == 0 && complain_ok(&p->drop_cp) > 0)
		log_notice("bus: points published again");
}
