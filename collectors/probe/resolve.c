/*
 * resolve.c: parallel name resolution for collectors (getaddrinfo_a).
 */
#define _GNU_SOURCE
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collectors/probe/resolve.h"
#include "qosd/clock.h"

#define POLL_US	2000	/* how often finished lookups are looked for */

/* A literal address of an allowed family: no lookup needed. */
static int
literal(struct resolve_req *r)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&r->sa;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&r->sa;

	memset(&r->sa, 0, sizeof(r->sa));
	if (r->family != AF_INET6 && inet_pton(AF_INET, r->name,
	    &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		r->salen = sizeof(*s4);
		return 1;
	}
	if (r->family != AF_INET && strchr(r->name, '%') == NULL &&
	    inet_pton(AF_INET6, r->name, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		r->salen = sizeof(*s6);
		return 1;
	}
	return 0;
}

static void
take(struct resolve_req *r, struct gaicb *cb)
{
	struct addrinfo	*ai;
	int		 e = gai_error(cb);

	/* Still running: its resolver thread owns ar_result. */
	if (e == EAI_INPROGRESS) {
		r->error = EAI_AGAIN;
		return;
	}
	if (e == 0 && (ai = cb->ar_result) != NULL &&
	    ai->ai_addrlen <= sizeof(r->sa)) {
		memcpy(&r->sa, ai->ai_addr, ai->ai_addrlen);
		r->salen = ai->ai_addrlen;
		r->error = 0;
	} else
		r->error = e == 0 ? EAI_NONAME : e;
	if (cb->ar_result != NULL)
		freeaddrinfo(cb->ar_result);
	cb->ar_result = NULL;
}

int
resolve_all(struct resolve_req *reqs, size_t n, uint64_t deadline_us)
{
	struct gaicb	 *cbs = NULL, **list = NULL;
	struct addrinfo	 *hints = NULL;
	struct timespec	  ts;
	uint64_t	  now;
	size_t		  i, m = 0, left;
	int		  rc = 0, stuck = 0;

	for (i = 0; i < n; i++)
		reqs[i].error = literal(&reqs[i]) ? 0 : EAI_AGAIN;
	for (i = 0; i < n; i++)
		if (reqs[i].error != 0)
			m++;
	if (m == 0)
		return 0;
	if ((cbs = calloc(m, sizeof(*cbs))) == NULL ||
	    (list = calloc(m, sizeof(*list))) == NULL ||
	    (hints = calloc(m, sizeof(*hints))) == NULL) {
		rc = -1;
		goto done;
	}
	for (i = 0, m = 0; i < n; i++) {
		if (reqs[i].error == 0)
			continue;
		hints[m].ai_family = reqs[i].family;
		hints[m].ai_socktype = SOCK_DGRAM;
		cbs[m].ar_name = reqs[i].name;
		cbs[m].ar_request = &hints[m];
		list[m] = &cbs[m];
		m++;
	}
	if (getaddrinfo_a(GAI_NOWAIT, list, (int)m, NULL) != 0) {
		rc = -1;
		goto done;
	}
	/*
	 * Polled, not gai_suspend(): glibc 2.36's resolver threads walk the
	 * wait list gai_suspend() keeps on its caller's stack even after it
	 * returned at its timeout (seen here as a crash in __gai_notify).
	 */
	for (;;) {
		for (i = 0, left = 0; i < m; i++)
			if (gai_error(list[i]) == EAI_INPROGRESS)
				left++;
		if (left == 0 || (now = qosd_mono_us()) >= deadline_us)
			break;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(deadline_us - now < POLL_US ?
		    deadline_us - now : POLL_US) * 1000;
		nanosleep(&ts, NULL);
	}
	for (i = 0; i < m; i++)
		if (gai_error(&cbs[i]) == EAI_INPROGRESS &&
		    gai_cancel(&cbs[i]) != EAI_CANCELED)
			stuck = 1;
	for (i = 0, m = 0; i < n; i++)
		if (reqs[i].error != 0)
			take(&reqs[i], &cbs[m++]);
	/*
	 * A lookup that could not be cancelled still writes into its
	 * control block: leave them all to the run's exit.
	 */
	if (stuck)
		return 0;
done:
	free(hints);
	free(list);
	free(cbs);
	return rc;
}
