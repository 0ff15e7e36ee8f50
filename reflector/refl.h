/*
 * refl.h: the state of qosd-reflector, shared by its modules: what it
 * serves, its allow-list and limits, its counters, and the one epoll
 * loop every socket is watched on.
 *
 * One thread, one process: every socket is non-blocking, every batch
 * bounded, so that no client can hold up another.
 */
#ifndef REFLECTOR_REFL_H
#define REFLECTOR_REFL_H

#include <stddef.h>
#include <stdint.h>

#include "reflector/acl.h"
#include "reflector/limit.h"
#include "reflector/table.h"

#define REFL_MAX_FDS	8	/* sockets of one service (listen addresses) */

/* Whether the clock is synchronized to UTC (the S bit of STAMP). */
enum refl_clock {
	REFL_CLOCK_AUTO,	/* as the kernel says (adjtimex) */
	REFL_CLOCK_SYNCED,
	REFL_CLOCK_UNSYNCED
};
/* The error estimate when the kernel gives none: 1 ms. */
#define REFL_CLOCK_ERR_NS	1000000ULL

enum refl_kind {
	REFL_STAMP,
	REFL_UDP_ECHO,
	REFL_TCP_ECHO,
	REFL_NKINDS
};

/* A socket watched by the loop: ready() is called with epoll's events. */
struct refl_io {
	int		 fd;
	void		(*ready)(struct refl_io *, uint32_t events);
	void		*arg;		/* ready()'s */
};

/* What a UDP service counted since the start. */
struct refl_udp_counters {
	uint64_t	 received;
	uint64_t	 reflected;
	uint64_t	 dropped_acl;	/* source not allowed */
	uint64_t	 dropped_rate;	/* over a rate limit */
	uint64_t	 dropped_bad;	/* too short for STAMP, or cut */
	uint64_t	 send_failed;
	uint64_t	 app_timestamps; /* no kernel receive timestamp */
};

/* What the TCP echo service counted since the start. */
struct refl_tcp_counters {
	uint64_t	 accepted;
	uint64_t	 refused_acl;
	uint64_t	 refused_busy;	/* at the connection limit */
	uint64_t	 closed_idle;
	uint64_t	 bytes;		/* echoed */
	uint64_t	 open;		/* connections now */
};

struct refl;
struct tcp_conn;

/* One protocol on one port, on one socket per listen address. */
struct refl_service {
	struct refl	*refl;
	enum refl_kind	 kind;
	uint16_t	 port;
	struct refl_io	 io[REFL_MAX_FDS];
	size_t		 nio;
	struct refl_udp_counters udp;
	struct refl_tcp_counters tcp;
	struct tcp_conn	*conns;		/* TCP echo: open connections */
};

struct refl {
	int		 epfd;
	struct acl	 acl;
	struct limit	 limit;
	int		 stateful;	/* STAMP: number replies per session */
	struct table	 sessions;
	struct refl_service svc[REFL_NKINDS];	/* by kind; port 0: off */
	uint16_t	 ee;		/* our error estimate, S bit, no Z */
	int		 synced;	/* the S bit */
	int64_t		 tai_s;		/* CLOCK_TAI - CLOCK_REALTIME */
	int		 clock_opt;	/* REFL_CLOCK_* */
	uint64_t	 clock_err_ns;	/* 0: the kernel's estimate */
	int		 clock_told;	/* adjtimex's failure was logged */
	size_t		 tcp_max;	/* connections at once */
	uint64_t	 tcp_idle_us;
	struct udp_batch *batch;	/* buffers of recvmmsg/sendmmsg */
	uint64_t	 started_us;	/* CLOCK_MONOTONIC */
};

/* Watch io->fd for events on the loop (EPOLL_CTL_ADD).  0, or -1. */
int	refl_watch(struct refl *, struct refl_io *, uint32_t events);
/* Change the events watched.  0, or -1. */
int	refl_rewatch(struct refl *, struct refl_io *, uint32_t events);
/* Stop watching io->fd (before closing it). */
void	refl_unwatch(struct refl *, struct refl_io *);
/* The name of a kind in counters and logs: "stamp", "udp_echo", ... */
const char *refl_kind_name(enum refl_kind);
/*
 * Read the clock's state again: the S bit and error estimate of STAMP
 * answers (from adjtimex(2) unless clock_opt and clock_err_ns say), and
 * the TAI offset for PTP timestamps.  Once a second is enough.
 */
void	refl_clock_update(struct refl *);

#endif /* REFLECTOR_REFL_H */
