/*
 * main.c: qosd-reflector, the far end of qosd's UDP probes: it answers
 * STAMP (RFC 8762), UDP echo and TCP echo (RFC 862) for an allow-list of
 * clients, under rate limits, and counts what it did.  One process, one
 * thread, one epoll loop; systemd supervises it (docs/qosd-reflector.8).
 */
#define _GNU_SOURCE

#include <sys/epoll.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/proc.h"
#include "proto/stamp.h"
#include "reflector/control.h"
#include "reflector/refl.h"
#include "reflector/stats.h"
#include "reflector/tcp.h"
#include "reflector/udp.h"

#define EX_USAGE	64
#define EX_NOTRUNNING	3	/* --status: as LSB's status action */
#define TICK_US		1000000ULL
#define MAX_EVENTS	64

struct opts {
	uint16_t	 port[REFL_NKINDS];	/* 0: off */
	const char	*listen[REFL_MAX_FDS];
	size_t		 nlisten;
	uint64_t	 rate, burst, total_rate;
	uint64_t	 sources, sessions;
	double		 session_timeout, tcp_idle, stats_interval;
	uint64_t	 tcp_max;
	const char	*control;
	int		 status, verbose, stateless, allow_given;
};

static volatile sig_atomic_t	got_stop, got_hup;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_stop = 1;
}

static const char usage_text[] =
"usage: qosd-reflector --allow PREFIX... [options]\n"
"       qosd-reflector --status [--control PATH]\n"
"  -a, --allow PREFIX        answer clients in PREFIX (ADDR/LEN, ADDR, any)\n"
"  -p, --stamp PORT          STAMP on PORT (default 862; 0: off)\n"
"      --stateless           STAMP stateless (default stateful)\n"
"      --udp-echo PORT       UDP echo on PORT (default off)\n"
"      --tcp-echo PORT       TCP echo on PORT (default off)\n"
"  -l, --listen ADDR         listen on ADDR only (repeatable; default all)\n"
"      --rate PPS            answers per second per source (default 200)\n"
"      --burst N             answers at once per source (default 400)\n"
"      --total-rate PPS      answers per second in all (default 20000)\n"
"      --sources N           sources remembered for rates (default 4096)\n"
"      --sessions N          stateful STAMP sessions (default 4096)\n"
"      --session-timeout S   a session unseen for S ends (default 300)\n"
"      --tcp-max N           TCP echo connections at once (default 256)\n"
"      --tcp-idle S          close a TCP connection idle S (default 60)\n"
"      --clock auto|synced|unsynced  the S bit (default auto: adjtimex)\n"
"      --clock-error NS      the error estimate (default the kernel's)\n"
"      --stats-interval S    write the counters every S seconds\n"
"      --stats-file PATH     to PATH (default - : standard output)\n"
"      --tag KEY=VALUE       tag the counters (repeatable)\n"
"      --control PATH        status socket (default $RUNTIME_DIRECTORY/"
"control\n"
"                            or /run/qosd-reflector/control; none: off)\n"
"      --status              print a running reflector's counters\n"
"  -v, --verbose             debug messages\n"
"  -V, --version\n";

static void __attribute__((noreturn))
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "qosd-reflector: %s\n", why);
	fputs(usage_text, stderr);
	exit(EX_USAGE);
}

static uint64_t
parse_u64(const char *s, const char *opt, uint64_t max)
{
	char			*end;
	unsigned long long	 v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v > max) {
		fprintf(stderr, "qosd-reflector: %s \"%s\": not a number from "
		    "0 to %llu\n", opt, s, (unsigned long long)max);
		exit(EX_USAGE);
	}
	return v;
}

static double
parse_seconds(const char *s, const char *opt)
{
	char	*end;
	double	 v;

	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || !(v >= 0 && v <= 86400 * 365)) {
		fprintf(stderr, "qosd-reflector: %s \"%s\": not a number of "
		    "seconds\n", opt, s);
		exit(EX_USAGE);
	}
	return v;
}

enum {
	O_STATELESS = 256, O_UDP_ECHO, O_TCP_ECHO, O_RATE, O_BURST, O_TOTAL,
	O_SOURCES, O_SESSIONS, O_SESSION_TIMEOUT, O_TCP_MAX, O_TCP_IDLE,
	O_CLOCK, O_CLOCK_ERROR, O_STATS_INTERVAL, O_STATS_FILE, O_TAG,
	O_CONTROL, O_STATUS
};

static const struct option longopts[] = {
	{ "allow", required_argument, NULL, 'a' },
	{ "stamp", required_argument, NULL, 'p' },
	{ "stateless", no_argument, NULL, O_STATELESS },
	{ "udp-echo", required_argument, NULL, O_UDP_ECHO },
	{ "tcp-echo", required_argument, NULL, O_TCP_ECHO },
	{ "listen", required_argument, NULL, 'l' },
	{ "rate", required_argument, NULL, O_RATE },
	{ "burst", required_argument, NULL, O_BURST },
	{ "total-rate", required_argument, NULL, O_TOTAL },
	{ "sources", required_argument, NULL, O_SOURCES },
	{ "sessions", required_argument, NULL, O_SESSIONS },
	{ "session-timeout", required_argument, NULL, O_SESSION_TIMEOUT },
	{ "tcp-max", required_argument, NULL, O_TCP_MAX },
	{ "tcp-idle", required_argument, NULL, O_TCP_IDLE },
	{ "clock", required_argument, NULL, O_CLOCK },
	{ "clock-error", required_argument, NULL, O_CLOCK_ERROR },
	{ "stats-interval", required_argument, NULL, O_STATS_INTERVAL },
	{ "stats-file", required_argument, NULL, O_STATS_FILE },
	{ "tag", required_argument, NULL, O_TAG },
	{ "control", required_argument, NULL, O_CONTROL },
	{ "status", no_argument, NULL, O_STATUS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
opts_default(struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->port[REFL_STAMP] = STAMP_PORT;
	o->rate = 200;
	o->burst = 400;
	o->total_rate = 20000;
	o->sources = 4096;
	o->sessions = 4096;
	o->session_timeout = 300;
	o->tcp_max = 256;
	o->tcp_idle = 60;
}

/* The options that set the reflector's state rather than o's. */
static void
opt_refl(int c, const char *arg, struct refl *r, struct stats *st)
{
	char	err[160];

	switch (c) {
	case 'a':
		if (acl_add(&r->acl, arg, err, sizeof(err)) == -1)
			usage(err);
		break;
	case O_CLOCK:
		if (strcmp(arg, "auto") == 0)
			r->clock_opt = REFL_CLOCK_AUTO;
		else if (strcmp(arg, "synced") == 0)
			r->clock_opt = REFL_CLOCK_SYNCED;
		else if (strcmp(arg, "unsynced") == 0)
			r->clock_opt = REFL_CLOCK_UNSYNCED;
		else
			usage("--clock: auto, synced or unsynced");
		break;
	case O_CLOCK_ERROR:
		r->clock_err_ns = parse_u64(arg, "--clock-error", UINT64_MAX);
		break;
	case O_STATS_FILE:
		st->path = arg;
		break;
	case O_TAG:
		if (stats_add_tag(st, arg, err, sizeof(err)) == -1)
			usage(err);
		break;
	}
}

static void
opt_one(int c, const char *arg, struct opts *o)
{
	switch (c) {
	case 'p':
		o->port[REFL_STAMP] = (uint16_t)parse_u64(arg, "--stamp",
		    65535);
		break;
	case O_UDP_ECHO:
		o->port[REFL_UDP_ECHO] = (uint16_t)parse_u64(arg, "--udp-echo",
		    65535);
		break;
	case O_TCP_ECHO:
		o->port[REFL_TCP_ECHO] = (uint16_t)parse_u64(arg, "--tcp-echo",
		    65535);
		break;
	case 'l':
		if (o->nlisten == REFL_MAX_FDS)
			usage("too many --listen addresses");
		o->listen[o->nlisten++] = arg;
		break;
	case O_RATE:
		o->rate = parse_u64(arg, "--rate", 100000000);
		break;
	case O_BURST:
		o->burst = parse_u64(arg, "--burst", 100000000);
		break;
	case O_TOTAL:
		o->total_rate = parse_u64(arg, "--total-rate", 100000000);
		break;
	case O_SOURCES:
		o->sources = parse_u64(arg, "--sources", 1 << 24);
		break;
	case O_SESSIONS:
		o->sessions = parse_u64(arg, "--sessions", 1 << 24);
		break;
	case O_SESSION_TIMEOUT:
		o->session_timeout = parse_seconds(arg, "--session-timeout");
		break;
	case O_TCP_MAX:
		o->tcp_max = parse_u64(arg, "--tcp-max", 65536);
		break;
	case O_TCP_IDLE:
		o->tcp_idle = parse_seconds(arg, "--tcp-idle");
		break;
	case O_STATS_INTERVAL:
		o->stats_interval = parse_seconds(arg, "--stats-interval");
		break;
	}
}

static void
parse_opts(int argc, char **argv, struct opts *o, struct refl *r,
    struct stats *st)
{
	int	c;

	opts_default(o);
	st->path = "-";
	while ((c = getopt_long(argc, argv, "a:p:l:vVh", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case 'a':
			o->allow_given = 1;
			/* FALLTHROUGH */
		case O_CLOCK: case O_CLOCK_ERROR: case O_STATS_FILE: case O_TAG:
			opt_refl(c, optarg, r, st);
			break;
		case O_STATELESS:
			o->stateless = 1;
			break;
		case O_CONTROL:
			o->control = optarg;
			break;
		case O_STATUS:
			o->status = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'V':
			printf("qosd-reflector %s\n", QOSD_VERSION);
			exit(0);
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case '?':
			usage(NULL);
		default:
			opt_one(c, optarg, o);
		}
	}
	if (optind != argc)
		usage("unexpected arguments");
	if (o->port[REFL_STAMP] == 0 && o->port[REFL_UDP_ECHO] == 0 &&
	    o->port[REFL_TCP_ECHO] == 0 && !o->status)
		usage("nothing to serve: every port is 0");
}

static void
udp_ready(struct refl_io *io, uint32_t events)
{
	struct refl_service	*s = io->arg;

	(void)events;
	udp_serve(s->refl, s, io->fd);
}

static void
tcp_ready(struct refl_io *io, uint32_t events)
{
	struct refl_service	*s = io->arg;

	(void)events;
	tcp_accept(s->refl, s, io->fd);
}

/* Open service k's sockets on every listen address. */
static int
open_service(struct refl *r, const struct opts *o, enum refl_kind k)
{
	struct refl_service	*s = &r->svc[k];
	enum udp_tsmode		 ts = UDP_TS_APP;
	size_t			 i, n = o->nlisten > 0 ? o->nlisten : 1;
	const char		*addr;
	static const char	*tsname[] = { "SO_TIMESTAMPING",
				    "SO_TIMESTAMPNS", "the application clock" };

	s->refl = r;
	s->kind = k;
	s->port = o->port[k];
	for (i = 0; i < n; i++) {
		addr = o->nlisten > 0 ? o->listen[i] : NULL;
		if (k == REFL_TCP_ECHO)
			s->io[i].fd = tcp_listen_open(addr, s->port);
		else
			s->io[i].fd = udp_open(addr, s->port,
			    k == REFL_STAMP, &ts);
		if (s->io[i].fd == -1)
			return -1;
		s->io[i].ready = k == REFL_TCP_ECHO ? tcp_ready : udp_ready;
		s->io[i].arg = s;
		s->nio = i + 1;
		if (refl_watch(r, &s->io[i], EPOLLIN) == -1)
			return -1;
		log_info("%s on %s port %u%s%s", refl_kind_name(k),
		    addr != NULL ? addr : "*", s->port,
		    k == REFL_STAMP ? ", receive timestamps from " : "",
		    k == REFL_STAMP ? tsname[ts] : "");
	}
	return 0;
}

static int
setup(struct refl *r, const struct opts *o)
{
	int	k;

	r->stateful = !o->stateless;
	r->tcp_max = (size_t)o->tcp_max;
	r->tcp_idle_us = (uint64_t)(o->tcp_idle * 1e6);
	r->started_us = clock_mono_us();
	if ((r->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1: %m");
	if ((r->batch = udp_batch_new()) == NULL ||
	    limit_init(&r->limit, o->rate, o->burst, (size_t)o->sources,
	    o->total_rate, o->total_rate / 10 > o->burst ?
	    o->total_rate / 10 : o->burst) == -1 ||
	    table_init(&r->sessions, r->stateful ? (size_t)o->sessions : 1,
	    (uint64_t)(o->session_timeout * 1e6)) == -1)
		fatal("out of memory");
	refl_clock_update(r);
	for (k = 0; k < REFL_NKINDS; k++)
		if (o->port[k] != 0 && open_service(r, o, (enum refl_kind)k) ==
		    -1)
			return -1;
	return 0;
}

static void
teardown(struct refl *r)
{
	size_t	k, i;

	for (k = 0; k < REFL_NKINDS; k++) {
		if (k == REFL_TCP_ECHO)
			tcp_close_all(&r->svc[k]);
		for (i = 0; i < r->svc[k].nio; i++)
			close(r->svc[k].io[i].fd);
	}
	udp_batch_free(r->batch);
	limit_cleanup(&r->limit);
	table_cleanup(&r->sessions);
	close(r->epfd);
}

struct control {
	struct refl_io	 io;
	struct refl	*refl;
	struct stats	*stats;
	const char	*path;
};

static void
control_ready(struct refl_io *io, uint32_t events)
{
	struct control	*c = io->arg;
	struct buf	 b;

	(void)events;
	buf_init(&b, 64 * 1024);
	if (stats_render(c->stats, c->refl, clock_real_ns(), &b) == 0)
		control_answer(io->fd, &b);
	buf_cleanup(&b);
}

/* The status socket: only a failure on a path given is fatal. */
static void
control_open(struct control *c, const struct opts *o, struct refl *r,
    struct stats *st)
{
	c->io.fd = -1;
	c->refl = r;
	c->stats = st;
	c->path = o->control != NULL ? o->control : control_default_path();
	if (strcmp(c->path, "none") == 0)
		return;
	if ((c->io.fd = control_listen(c->path)) == -1) {
		if (o->control != NULL)
			fatal("cannot serve --status: stopping");
		log_warning("no status socket: --status will not work");
		return;
	}
	c->io.ready = control_ready;
	c->io.arg = c;
	if (refl_watch(r, &c->io, EPOLLIN) == -1)
		fatal("cannot watch the status socket");
}

static void
signals(sigset_t *waitmask)
{
	struct sigaction	sa;
	sigset_t		block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* Delivered only while the loop waits: no race with its checks. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, waitmask);
	sigdelset(waitmask, SIGTERM);
	sigdelset(waitmask, SIGINT);
	sigdelset(waitmask, SIGHUP);
}

static void
loop(struct refl *r, struct stats *st, const sigset_t *waitmask)
{
	struct epoll_event	 ev[MAX_EVENTS];
	struct refl_io		*io;
	uint64_t		 now, next_tick = clock_mono_us() + TICK_US;
	int			 n, i, wait_ms;

	while (!got_stop) {
		now = clock_mono_us();
		if (now >= next_tick) {
			next_tick = now + TICK_US;
			refl_clock_update(r);
			tcp_sweep(r, &r->svc[REFL_TCP_ECHO], now);
		}
		stats_tick(st, r, now);
		wait_ms = (int)((next_tick - now + 999) / 1000);
		if (st->interval_us > 0 && st->next_us < next_tick)
			wait_ms = (int)((st->next_us > now ? st->next_us - now :
			    0) + 999) / 1000;
		n = epoll_pwait(r->epfd, ev, MAX_EVENTS, wait_ms, waitmask);
		if (n == -1 && errno != EINTR)
			fatal("epoll_pwait: %m");
		for (i = 0; i < n; i++) {
			io = ev[i].data.ptr;
			io->ready(io, ev[i].events);
		}
		if (got_hup) {
			got_hup = 0;
			log_notice("SIGHUP: reopening the stats file");
			stats_open(st);
		}
	}
}

int
main(int argc, char **argv)
{
	static struct refl	 r;
	struct opts		 o;
	struct stats		 st;
	struct control		 ctl;
	sigset_t		 waitmask;

	stats_init(&st);
	acl_init(&r.acl);
	parse_opts(argc, argv, &o, &r, &st);
	if (o.status)
		return control_query(o.control != NULL ? o.control :
		    control_default_path()) == 0 ? 0 : EX_NOTRUNNING;
	if (!o.allow_given)
		usage("no --allow: name the clients to answer "
		    "(or --allow any)");
	log_init(1, o.verbose, "qosd-reflector");
	signals(&waitmask);
	if (setup(&r, &o) == -1)
		fatal("cannot listen: stopping");
	/* Every socket is bound: no capability is needed from now on. */
	if (proc_drop_caps(0) == -1)
		log_warning("dropping capabilities: %m");
	control_open(&ctl, &o, &r, &st);
	/* Without an interval the counters are written at exit only. */
	st.interval_us = (uint64_t)(o.stats_interval * 1e6);
	st.next_us = clock_mono_us() + st.interval_us;
	if (stats_open(&st) == -1)
		fatal("cannot write the counters: stopping");
	log_info("qosd-reflector %s: STAMP %s, rate %llu/s per source "
	    "(burst %llu), %llu/s in all", QOSD_VERSION, r.stateful ?
	    "stateful" : "stateless", (unsigned long long)o.rate,
	    (unsigned long long)o.burst, (unsigned long long)o.total_rate);
	sd_notify(0, "READY=1");
	loop(&r, &st, &waitmask);
	sd_notify(0, "STOPPING=1");
	log_info("stopping");
	stats_write(&st, &r);
	if (ctl.io.fd != -1)
		refl_unwatch(&r, &ctl.io);
	control_close(ctl.io.fd, ctl.path);
	teardown(&r);
	stats_cleanup(&st);
	return 0;
}
