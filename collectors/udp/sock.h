/*
 * sock.h: the wire side of the udp collector.  One unconnected socket
 * per address family serves every target of that family (and one more
 * for each repeat of an address and port among the targets, so that
 * every target is a STAMP session of its own: RFC 8762 tells sessions
 * apart by addresses and ports).  Probes go out with sendto(); answers,
 * transmit timestamps and ICMP errors come back in batches (recvmmsg(),
 * the socket's error queue), each matched to its target by the address
 * it came from or went to, and to its probe by its number.
 *
 * Timestamps, per probe (collectors/udp/acct.h keeps them):
 *   application  CLOCK_REALTIME and CLOCK_MONOTONIC read just before
 *                sendto() and just after the recvmmsg() that read the
 *                answer;
 *   kernel       SO_TIMESTAMPING software timestamps: transmit from the
 *                error queue (SOF_TIMESTAMPING_OPT_ID numbers the
 *                datagrams of a socket, which names the probe), receive
 *                from the answer's control message;
 *   hardware     the same with the network card's timestamps, where an
 *                interface delivers them (collectors/udp/hwts.h).
 */
#ifndef COLLECTORS_UDP_SOCK_H
#define COLLECTORS_UDP_SOCK_H

#include <stddef.h>
#include <stdint.h>

#include "collectors/udp/acct.h"

struct probe_conf;
struct probe_target;

#define UDP_ECHO_HDR	16	/* echo probe: magic, number, cookie */
#define UDP_RING	4096	/* transmit timestamps awaited per socket */

enum udp_mode { UDP_STAMP, UDP_ECHO };
/* What timestamps to ask the kernel for. */
enum udp_tsmode { UDP_TSM_AUTO, UDP_TSM_SOFTWARE, UDP_TSM_APP };

/* A datagram sent, waiting for its transmit timestamps. */
struct udp_txid {
	uint32_t	 id;
	uint32_t	 target;
	uint32_t	 k;
};

/* A peer of a socket: the target at an address and port. */
struct udp_peer {
	unsigned char	 key[18];	/* address (16, v4 mapped), port */
	uint32_t	 target;
};

struct udp_sock {
	int		 fd;
	int		 af;
	uint32_t	 next_id;	/* SOF_TIMESTAMPING_OPT_ID */
	uint32_t	 txq;		/* timestamps due on the error queue */
	struct udp_txid	*ring;		/* UDP_RING */
	struct udp_peer	*peers;		/* sorted by key */
	size_t		 npeers;
};

struct udp_target {
	struct probe_target	*pt;		/* name, address, fail */
	int			 sock;		/* index in run->s, -1 none */
	struct udp_acct		 a;
	uint32_t		 refused, unreach, other;	/* errors */
	int			 emitted;
};

/* One run: what it sends, its targets and its sockets. */
struct udp_run {
	const struct probe_conf	*pc;
	const char		*job;		/* for log lines */
	int			 mode;		/* enum udp_mode */
	int			 tsmode;	/* enum udp_tsmode */
	int			 hw;		/* ask for hardware ones too */
	uint16_t		 ee;		/* our error estimate */
	int64_t			 tai_ns;	/* CLOCK_TAI - CLOCK_REALTIME */
	uint64_t		 cookie;	/* echo: this run's */
	struct udp_target	*t;
	size_t			 nt;
	struct udp_sock		*s;
	size_t			 ns;
	unsigned char		*pkt;		/* a probe, pktlen octets */
	size_t			 pktlen;
	unsigned char		*bufs;		/* UDP_BATCH of buflen */
	size_t			 buflen;
	uint64_t		 last_tx;	/* mono ns of the last send */
	uint32_t		 outstanding;	/* sent, unanswered */
	uint32_t		 closing;	/* closing packets unanswered */
};

/*
 * Open the sockets r's resolved targets need (targets without a fail)
 * and set each target's socket; a target whose socket cannot be opened
 * gets fail = "error" (logged).  Each socket is set up as pc says
 * (collectors/probe/sock.h), with the timestamps r->tsmode and r->hw
 * ask for.  Returns 0, or -1 when out of memory (logged).
 */
int	udp_socks_open(struct udp_run *r);
/* Close r's sockets and free what they hold. */
void	udp_socks_close(struct udp_run *r);

/*
 * Send probe k of target ti now: a STAMP test packet numbered k (T1 read
 * just before sendto()), or an echo probe.  A probe that cannot be sent
 * counts as lost with its error.
 */
void	udp_send(struct udp_run *r, size_t ti, uint32_t k);

/*
 * Send target ti's closing packet (collectors/udp/acct.h): a STAMP test
 * packet numbered count, after the last probe.
 */
void	udp_send_closing(struct udp_run *r, size_t ti);

#define UDP_RX		0x1	/* read the answers */
#define UDP_ERRQ	0x2	/* read the error queue */

/*
 * Read, without waiting, what socket si has: first its error queue
 * (transmit timestamps, ICMP errors) when what has UDP_ERRQ or the
 * socket sent since it was last read, then the answers when what has
 * UDP_RX, each recorded in its target's account.
 */
void	udp_drain(struct udp_run *r, size_t si, int what);

#endif /* COLLECTORS_UDP_SOCK_H */
