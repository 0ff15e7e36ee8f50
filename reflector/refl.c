/*
 * refl.c: the loop's watch list, and the clock state STAMP answers carry.
 */
#define _GNU_SOURCE

#include <sys/epoll.h>
#include <sys/timex.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "proto/stamp.h"
#include "reflector/refl.h"

int
refl_watch(struct refl *r, struct refl_io *io, uint32_t events)
{
	struct epoll_event	ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = io;
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, io->fd, &ev) == -1) {
		log_err("epoll_ctl: %m");
		return -1;
	}
	return 0;
}

int
refl_rewatch(struct refl *r, struct refl_io *io, uint32_t events)
{
	struct epoll_event	ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = io;
	if (epoll_ctl(r->epfd, EPOLL_CTL_MOD, io->fd, &ev) == -1) {
		log_err("epoll_ctl: %m");
		return -1;
	}
	return 0;
}

void
refl_unwatch(struct refl *r, struct refl_io *io)
{
	epoll_ctl(r->epfd, EPOLL_CTL_DEL, io->fd, NULL);
}

const char *
refl_kind_name(enum refl_kind k)
{
	switch (k) {
	case REFL_STAMP:
		return "stamp";
	case REFL_UDP_ECHO:
		return "udp_echo";
	case REFL_TCP_ECHO:
		return "tcp_echo";
	default:
		return "?";
	}
}

void
refl_clock_update(struct refl *r)
{
	struct timex	 tx;
	struct timespec	 real, tai;
	uint64_t	 err_ns = REFL_CLOCK_ERR_NS;
	int		 synced = 0, state;

	memset(&tx, 0, sizeof(tx));
	state = adjtimex(&tx);	/* modes 0: read only */
	if (state == -1) {
		if (!r->clock_told++ && r->clock_opt == REFL_CLOCK_AUTO)
			log_notice("adjtimex: %m: the clock counts as not "
			    "synchronized (see --clock)");
	} else {
		synced = state != TIME_ERROR && !(tx.status & STA_UNSYNC);
		if (synced && tx.esterror > 0)
			err_ns = (uint64_t)tx.esterror * 1000;
	}
	if (r->clock_opt != REFL_CLOCK_AUTO)
		synced = r->clock_opt == REFL_CLOCK_SYNCED;
	if (r->clock_err_ns > 0)
		err_ns = r->clock_err_ns;
	if (synced != r->synced && r->ee != 0)
		log_notice("clock %s synchronized",
		    synced ? "now" : "no longer");
	r->synced = synced;
	r->ee = stamp_ee_make(synced, 0, err_ns);
	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_TAI, &tai);
	/* Whole seconds (37 with a leap second table set, else 0). */
	r->tai_s = (((int64_t)tai.tv_sec - (int64_t)real.tv_sec) *
	    1000000000LL + tai.tv_nsec - real.tv_nsec + 500000000LL) /
	    1000000000LL;
}
