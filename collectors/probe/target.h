/*
 * target.h: the start of every probe run (ping, tcp, udp): its time
 * budget, and its targets resolved all at once (collectors/probe/resolve.h)
 * into addresses ready to send to.
 *
 * A run makes the array with probe_targets_new(), computes its deadlines
 * with probe_deadlines(), resolves with probe_resolve(), then keeps its own
 * per-target state beside each struct probe_target.  A target whose fail
 * is set is not measured: its point says only that result.
 */
#ifndef COLLECTORS_PROBE_TARGET_H
#define COLLECTORS_PROBE_TARGET_H

#include <sys/socket.h>

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

struct probe_conf;
struct qosd_out;

struct probe_target {
	const char		*name;		/* borrowed from the conf */
	struct sockaddr_storage	 sa;		/* the address, with the port */
	socklen_t		 salen;
	char			 addr[INET6_ADDRSTRLEN];	/* numeric */
	const char		*fail;		/* result, or NULL: measure */
};

/*
 * A new array of pc->ntargets targets, named after pc's, not resolved;
 * free() it.  NULL when out of memory (the caller logs).
 */
struct probe_target *probe_targets_new(const struct probe_conf *pc);

/*
 * The deadlines of a run of nt targets on out whose probes take sched_us
 * from the first send to the last answer: *stop, when probing ends so
 * that the points are written before the daemon stops the run, and
 * *dns, when name lookups end: what the probes leave, at least a second.
 */
void	probe_deadlines(const struct qosd_out *out, size_t nt,
	    uint64_t sched_us, uint64_t *stop, uint64_t *dns);

/*
 * Resolve the targets t[0 .. pc->ntargets - 1] of pc's family, all at once
 * until the CLOCK_MONOTONIC time deadline_us, each to an address with the
 * given port (network order is made here) and its numeric text.  A name
 * that does not resolve gets fail = "dns_error" (logged at debug level,
 * it is the target's result), and when out of memory every target gets
 * fail = "error" (logged).  job names the run in log lines.
 */
void	probe_resolve(const struct probe_conf *pc, struct probe_target *t,
	    uint16_t port, uint64_t deadline_us, const char *job);

#endif /* COLLECTORS_PROBE_TARGET_H */
