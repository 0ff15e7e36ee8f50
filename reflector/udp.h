/*
 * udp.h: the reflector's UDP services, STAMP (RFC 8762) and echo (RFC
 * 862), in batches: recvmmsg() up to UDP_BATCH datagrams, answer each in
 * place, sendmmsg() the answers.
 *
 * T2, the STAMP Receive Timestamp, is the kernel's software receive
 * timestamp (SO_TIMESTAMPING, else SO_TIMESTAMPNS; the application's
 * clock after recvmmsg() only where neither works, counted as
 * app_timestamps).  T3, the reflected packet's Timestamp, is read once
 * per batch just before sendmmsg(): as late as a userspace reflector can.
 * Replies leave from the address the request came to (IP_PKTINFO,
 * IPV6_PKTINFO), and carry the TTL or hop limit the request arrived with
 * (IP_RECVTTL, IPV6_RECVHOPLIMIT).
 *
 * For every datagram, in this order: cut (longer than UDP_MAX_DGRAM) or,
 * for STAMP, shorter than a STAMP packet: dropped_bad; a source outside
 * the allow-list: dropped_acl; over a rate limit: dropped_rate; else
 * answered (reflected) or send_failed.
 */
#ifndef REFLECTOR_UDP_H
#define REFLECTOR_UDP_H

#include <stdint.h>

#define UDP_BATCH	64
#define UDP_MAX_DGRAM	9216	/* a jumbo frame's payload, rounded */
#define UDP_RCVBUF	(1 << 20)	/* asked for; the kernel may cap it */

struct refl;
struct refl_service;
struct udp_batch;

/* How a socket stamps received datagrams. */
enum udp_tsmode {
	UDP_TS_TIMESTAMPING,	/* SO_TIMESTAMPING, software receive */
	UDP_TS_TIMESTAMPNS,	/* SO_TIMESTAMPNS */
	UDP_TS_APP		/* the application's clock */
};

/*
 * A non-blocking UDP socket bound to addr (numeric; NULL for every
 * address, IPv6 and IPv4 on one socket where IPv6 is up) and port, with
 * the destination address of each datagram reported, and for STAMP
 * (stamp non-zero) its receive timestamp and TTL.  The socket, or -1
 * after logging why.  *tsmode says which timestamps it gets.
 */
int	udp_open(const char *addr, uint16_t port, int stamp,
	    enum udp_tsmode *tsmode);
/* The batch buffers (one set serves every socket).  NULL on ENOMEM. */
struct udp_batch *udp_batch_new(void);
void	udp_batch_free(struct udp_batch *);
/*
 * Answer what socket fd of service s has queued, a few batches at most
 * (the loop calls again while more is queued).
 */
void	udp_serve(struct refl *, struct refl_service *s, int fd);

#endif /* REFLECTOR_UDP_H */
