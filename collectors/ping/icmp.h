/*
 * icmp.h: the wire side of the ping collector's ICMP engine: one socket
 * per address family (raw, or unprivileged datagram ICMP where
 * net.ipv4.ping_group_range allows), echo requests out, and the replies
 * and ICMP errors that come back matched to the probe they answer.
 *
 * A reply is ours when its identifier (raw sockets only: the kernel
 * rewrites it on datagram sockets), its sequence (the round) and its
 * payload match: a magic number, the target's index and a per-run cookie.
 * The schedule (when each probe goes) is collectors/ping.c's.
 */
#ifndef COLLECTORS_PING_ICMP_H
#define COLLECTORS_PING_ICMP_H

#include <stddef.h>
#include <stdint.h>

struct probe_conf;
struct probe_target;
struct qosd_out;

#define PING_HDR	16	/* our payload header: the least size */

struct ping_probe {
	uint64_t	tx_us;		/* monotonic send time, 0 unsent */
	int64_t		tx_ns;		/* CLOCK_REALTIME send time */
	double		rtt_ms;		/* -1: no reply (yet), -2: an error */
};

struct ping_target {
	struct probe_target	*pt;		/* name, address, fail */
	int			 fi;		/* 0 IPv4, 1 IPv6, -1 none */
	struct ping_probe	*p;		/* count probes */
	unsigned long		 sent, received, unreach;
	unsigned long		 answered;	/* by a reply or an error */
	int			 ttl;		/* of the last reply, -1 none */
	int			 emitted;
};

/* One run: its targets, sockets and the echo it sends. */
struct ping_run {
	const struct probe_conf	*pc;
	struct qosd_out		*out;
	struct ping_target	*t;
	size_t			 nt;
	struct probe_target	*pt;		/* t[i].pt is &pt[i] */
	struct ping_probe	*probes;	/* t[i].p point into it */
	int			 fd[2];		/* IPv4, IPv6; -1 none */
	int			 dgram[2];	/* SOCK_DGRAM ICMP */
	uint16_t		 ident;
	uint64_t		 cookie;
	unsigned char		*pkt;		/* outgoing echo, pktlen */
	size_t			 pktlen;
	unsigned long		 outstanding;	/* sent, unanswered */
	uint64_t		 last_tx_us;
	size_t			*ready;		/* targets all answered */
	size_t			 nready;
	double			*rtt, *tmp;	/* scratch for the points */
};

/*
 * Fill r->pkt (r->pktlen bytes: an 8-byte ICMP header and the payload)
 * with our payload, and choose the run's identifier and cookie.
 */
void	icmp_init(struct ping_run *r);
/*
 * Open and set up the socket of family fi (0 IPv4, 1 IPv6): raw, or
 * datagram ICMP when raw sockets are not allowed (r->dgram[fi] says
 * which).  Returns it, or -1 with errno.
 */
int	icmp_open(struct ping_run *r, int fi);
/*
 * Send probe k (the round) of target ti now.  A send that fails is
 * counted as unreachable or logged at debug level; it is never answered.
 */
void	icmp_send(struct ping_run *r, size_t ti, unsigned int k);
/*
 * Read every datagram queued on the socket of family fi without waiting,
 * and record the probes they answer.  A target whose every probe is
 * answered is appended to r->ready.
 */
void	icmp_drain(struct ping_run *r, int fi);

#endif /* COLLECTORS_PING_ICMP_H */
