/*
 * target.c: the start of every probe run: deadlines and resolved targets.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "collectors/probe/conf.h"
#include "collectors/probe/resolve.h"
#include "collectors/probe/target.h"
#include "qosd/clock.h"
#include "qosd/log.h"
#include "qosd/point.h"

/* Kept before the daemon's deadline to write the points: base + per target. */
#define MARGIN_US		100000
#define MARGIN_TARGET_US	20
#define DNS_MIN_US		1000000

struct probe_target *
probe_targets_new(const struct probe_conf *pc)
{
	struct probe_target	*t;
	size_t			 i;

	if ((t = calloc(pc->ntargets, sizeof(*t))) == NULL)
		return NULL;
	for (i = 0; i < pc->ntargets; i++)
		t[i].name = pc->targets[i];
	return t;
}

void
probe_deadlines(const struct qosd_out *out, size_t nt, uint64_t sched_us,
    uint64_t *stop, uint64_t *dns)
{
	uint64_t	margin, now;

	margin = MARGIN_US + MARGIN_TARGET_US * (uint64_t)nt;
	*stop = qosd_out_deadline_us(out);
	now = qosd_mono_us();
	*stop = *stop > now + margin ? *stop - margin : now;
	*dns = *stop > qosd_mono_us() + sched_us + DNS_MIN_US ?
	    *stop - sched_us : qosd_mono_us() + DNS_MIN_US;
}

/*
 * The text inet_ntop() writes for an IPv4 address (dst holds at least
 * INET_ADDRSTRLEN bytes), without its sprintf(): 10,000 targets are 10,000
 * of them at the start of a run.
 */
static void
ntop4(const struct in_addr *a, char *dst)
{
	const unsigned char	*b = (const unsigned char *)&a->s_addr;
	char			*p = dst;
	int			 i;

	for (i = 0; i < 4; i++) {
		if (b[i] >= 100)
			*p++ = (char)('0' + b[i] / 100);
		if (b[i] >= 10)
			*p++ = (char)('0' + b[i] / 10 % 10);
		*p++ = (char)('0' + b[i] % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
}

/* Copy the answer q into t, with the port and the numeric text. */
static void
take(struct probe_target *t, const struct resolve_req *q, uint16_t port)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&t->sa;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&t->sa;

	t->sa = q->sa;
	t->salen = q->salen;
	if (t->sa.ss_family == AF_INET) {
		s4->sin_port = htons(port);
		ntop4(&s4->sin_addr, t->addr);
	} else {
		s6->sin6_port = htons(port);
		inet_ntop(AF_INET6, &s6->sin6_addr, t->addr, sizeof(t->addr));
	}
}

void
probe_resolve(const struct probe_conf *pc, struct probe_target *t,
    uint16_t port, uint64_t deadline_us, const char *job)
{
	const char		*who = pc->spec->name;
	struct resolve_req	*q;
	size_t			 i, nt = pc->ntargets;

	if ((q = calloc(nt, sizeof(*q))) == NULL) {
		log_err("%s[%s]: out of memory", who, job);
		for (i = 0; i < nt; i++)
			t[i].fail = "error";
		return;
	}
	for (i = 0; i < nt; i++) {
		q[i].name = t[i].name;
		q[i].family = pc->family;
	}
	resolve_all(q, nt, deadline_us);
	for (i = 0; i < nt; i++) {
		if (q[i].error == 0) {
			take(&t[i], &q[i], port);
			continue;
		}
		log_debug("%s[%s]: \"%s\": %s", who, job, t[i].name,
		    gai_strerror(q[i].error));
		t[i].fail = "dns_error";
	}
	free(q);
}
