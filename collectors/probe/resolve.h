/*
 * resolve.h: name resolution for collectors with many targets (linked
 * into the ping and tcp plugins).  All names are looked up at once, so
 * one slow or dead name server costs a run one timeout, not one per name.
 */
#ifndef COLLECTORS_PROBE_RESOLVE_H
#define COLLECTORS_PROBE_RESOLVE_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

struct resolve_req {
	const char		*name;		/* in: borrowed */
	int			 family;	/* in: AF_INET, AF_INET6, ... */
	struct sockaddr_storage	 sa;		/* out, port 0 */
	socklen_t		 salen;
	int			 error;		/* out: 0, or an EAI_* code */
};

/*
 * Resolve every request: literal addresses at once, names in parallel
 * (getaddrinfo_a) until the CLOCK_MONOTONIC time deadline_us, after which
 * those still unanswered fail with EAI_AGAIN.  Returns 0, or -1 when the
 * lookups could not be started (each request then has an error).
 */
int	resolve_all(struct resolve_req *reqs, size_t n, uint64_t deadline_us);

#endif /* COLLECTORS_PROBE_RESOLVE_H */
