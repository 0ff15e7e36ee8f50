/*
 * shipper.c: the shipper process (see shipper.h): it waits for ready
 * segments (inotify, or a rescan each second), delivers them a batch at a
 * time by the rules of deliver.h over http.h, backs off when InfluxDB
 * fails, reports its figures to the daemon, and stops when told.
 */
#define _GNU_SOURCE

#include <sys/inotify.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/complain.h"
#include "lib/io.h"
#include "lib/log.h"
#include "lib/msg.h"
#include "lib/secret.h"
#include "sinks/shipper/batch.h"
#include "sinks/shipper/deliver.h"
#include "sinks/shipper/http.h"
#include "sinks/shipper/rejected.h"
#include "sinks/shipper/shipper.h"
#include "sinks/spool.h"

#define POLL_MS		1000		/* ready/ rescan without inotify */
#define BACKOFF_MIN	0.5		/* s */
#define RETRY_AFTER_MAX	3600		/* s */
#define OUT_MAX		65536		/* figures queued for the daemon */
#define LAST_WORDS_MS	1000		/* for the last figures to go */
#define REJ_MEM_MAX	((uint64_t)1 << 30)	/* refused lines held */

static const struct msg_type to_shipper[] = {
	{ SHIP_STOP, "stop", sizeof(struct ship_stop),
	    sizeof(struct ship_stop), 0 },
};

/* SIGTERM: the parent-death signal, or someone's kill. */
static volatile sig_atomic_t term;

static void
on_term(int sig)
{
	(void)sig;
	term = 1;
}

struct shipper {
	const struct shipper_conf *c;
	const char	*name;
	int		 rfd;		/* ready/ */
	struct rejected	 rejdir;
	struct msgchan	 ch;		/* to the daemon; sock -1: gone */
	int		 inotify;	/* on ready/, or -1 */
	struct http	*http;
	size_t		 cur_url;	/* the URL in use */
	size_t		 round_fail;	/* failures since a URL last worked */
	unsigned int	 rounds;	/* of failures over all URLs */
	int		 progress;	/* some of this batch is done */
	double		 pause;		/* s, to wait with the batch let go */
	struct buf	 gz;		/* a part of a batch, compressed */
	struct batch	 bt[2];
	struct batch	*cur;		/* being delivered */
	struct batch	*next;		/* read ahead while InfluxDB works */
	int		 ahead;		/* read ahead for this request */
	struct buf	 rej;		/* refused lines of this batch */
	int		 rej_cut;	/* some did not fit in rej */
	char		 rej_why[320];
	struct ship_figs figs;		/* not yet reported */
	char		 error[SHIP_ERROR_MAX];	/* likewise, errlen bytes */
	size_t		 errlen;
	char		 last[1024];	/* the latest error, a string */
	struct complain	 cp;
	int		 stopping;	/* told to stop */
	int		 drain;		/* deliver ready/ before exiting */
	int		 gave_up;	/* a batch failed while stopping */
	uint64_t	 deadline_us;	/* of the stop budget */
};

/* The channel to the daemon. */

static void
stop(struct shipper *sh, uint32_t budget_ms, int drain)
{
	uint64_t	end = clock_mono_us() + (uint64_t)budget_ms * 1000;

	if (sh->stopping) {
		if (end < sh->deadline_us)
			sh->deadline_us = end;
		sh->drain = sh->drain && drain;
		return;
	}
	log_debug("sink %s: shipper: stopping in %u ms at most%s", sh->name,
	    budget_ms, drain ? ", delivering what is ready" : "");
	sh->stopping = 1;
	sh->drain = drain;
	sh->deadline_us = end;
}

/* The daemon is gone: nobody to report to, stop as after SIGTERM. */
static void
orphaned(struct shipper *sh)
{
	msgchan_cleanup(&sh->ch);
	stop(sh, SHIP_TERM_MS, 0);
}

/* A SHIP_STOP. */
static void
on_stop(void *arg, const struct msg *m)
{
	struct ship_stop	st;

	memcpy(&st, m->data, sizeof(st));
	stop(arg, st.budget_ms, st.drain != 0);
}

/* Read what the daemon said. */
static void
hear(struct shipper *sh)
{
	int	r;

	if (term)
		stop(sh, SHIP_TERM_MS, 0);
	if (sh->ch.sock == -1)
		return;
	if ((r = msg_receive(&sh->ch, on_stop, sh)) != 1) {
		if (r == -1 && errno == EPROTO)
			log_err("sink %s: shipper: from the daemon: %s",
			    sh->name, msg_error(&sh->ch));
		orphaned(sh);
	} else if (msg_queued(&sh->ch) > 0 && msg_flush(&sh->ch) == -1)
		orphaned(sh);
}

/* Send the figures not yet reported, and the latest error if new. */
static void
report(struct shipper *sh)
{
	char	m[sizeof(struct ship_figs) + SHIP_ERROR_MAX];

	if (sh->ch.sock == -1)
		return;
	memcpy(m, &sh->figs, sizeof(sh->figs));
	memcpy(m + sizeof(sh->figs), sh->error, sh->errlen);
	if (msg_send(&sh->ch, SHIP_FIGS, m, sizeof(sh->figs) + sh->errlen,
	    -1) == -1) {
		/* A full queue: the daemon is busy, they go with the next. */
		if (errno != E2BIG)
			orphaned(sh);
		return;
	}
	memset(&sh->figs, 0, sizeof(sh->figs));
	sh->errlen = 0;
}

/* sh->last was just written: it goes with the next figures. */
static void
new_error(struct shipper *sh)
{
	sh->errlen = strlen(sh->last);
	if (sh->errlen > sizeof(sh->error))
		sh->errlen = sizeof(sh->error);
	memcpy(sh->error, sh->last, sh->errlen);
}

/* Whether to stop now rather than start another batch. */
static int
stop_due(struct shipper *sh)
{
	hear(sh);
	return sh->stopping && (!sh->drain || sh->gave_up ||
	    clock_mono_us() >= sh->deadline_us);
}

/*
 * Wait up to ms for the daemon, a new ready segment or a signal,
 * whichever comes first.
 */
static void
wait_events(struct shipper *sh, int ms)
{
	struct pollfd	pfd[2];
	char		ev[4096];

	pfd[0].fd = sh->ch.sock;
	pfd[0].events = POLLIN | (msg_queued(&sh->ch) > 0 ? POLLOUT : 0);
	pfd[1].fd = sh->inotify;
	pfd[1].events = POLLIN;
	if (poll(pfd, 2, ms) > 0 && (pfd[1].revents & POLLIN))
		while (read(sh->inotify, ev, sizeof(ev)) > 0)
			;
	hear(sh);
}

/* Wait s seconds, less if told to stop. */
static void
pause_s(struct shipper *sh, double s)
{
	uint64_t	until = clock_mono_us() + (uint64_t)(s * 1e6), now;

	while (!sh->stopping && (now = clock_mono_us()) < until)
		wait_events(sh, (int)((until - now) / 1000) + 1);
}

/* Delivery: the operations of deliver.h, over HTTP. */

/*
 * While InfluxDB works on a request: read and compress the batch after
 * the current one, so that it is ready to go when the answer comes.
 */
static void
read_ahead(struct shipper *sh)
{
	const struct shipper_conf	*c = sh->c;
	struct batch			*b = sh->next, *cur = sh->cur;

	if (cur->nsegs == 0 || b->nsegs > 0 || (sh->stopping && !sh->drain))
		return;
	if (batch_gather(b, sh->rfd, cur->segs[cur->nsegs - 1].name,
	    c->batch_size, c->batch_bytes, sh->name) > 0 && c->gzip &&
	    spool_count_lines(b->lines.data, b->lines.len) <= c->batch_size &&
	    batch_gzip(&b->gz, b->lines.data, b->lines.len) == 0)
		b->gz_ok = 1;
}

/* http.h's idle(): read ahead, hear the daemon, cut at the deadline. */
static int
on_idle(void *arg, int *fd)
{
	struct shipper	*sh = arg;
	uint64_t	 now;

	if (!sh->ahead) {
		sh->ahead = 1;
		read_ahead(sh);
	}
	hear(sh);
	*fd = sh->ch.sock;
	if (!sh->stopping)
		return POLL_MS;
	if ((now = clock_mono_us()) >= sh->deadline_us)
		return -1;
	return (int)((sh->deadline_us - now) / 1000) + 1;
}

/* What a verdict means for the URLs and the logs. */
static void
judge(struct shipper *sh, enum influx_verdict v, long status,
    const char *url)
{
	switch (v) {
	case INFLUX_OK:
		sh->round_fail = 0;
		sh->rounds = 0;
		sh->progress = 1;
		if (complain_ok(&sh->cp) > 0)
			log_notice("sink %s: delivering to %s again",
			    sh->name, url);
		return;
	case INFLUX_REJECT:
	case INFLUX_SPLIT:
		return;
	case INFLUX_FIX:
		/* Nothing changes by itself: try the next URL if any. */
		if (complain_fail(&sh->cp, clock_mono_us()))
			log_err("sink %s: %s: %s", sh->name, sh->last,
			    status == 404 ? "check the URL and that the "
			    "database, or org and bucket, exist" : "check the "
			    "credentials (username and password_file, or "
			    "token_file) and their permission to write");
		break;
	case INFLUX_WAIT:
	case INFLUX_RETRY:
		if (!sh->stopping && complain_fail(&sh->cp, clock_mono_us()))
			log_warning("sink %s: %s: will retry", sh->name,
			    sh->last);
		break;
	}
	sh->round_fail++;
	sh->cur_url = (sh->cur_url + 1) % sh->c->nurls;
}

static enum influx_verdict
ship_post(void *arg, const char *body, size_t len, double *retry_after)
{
	struct shipper		*sh = arg;
	struct batch		*b = sh->cur;
	const char		*url = sh->c->urls[sh->cur_url];
	struct http_answer	 a;
	enum influx_verdict	 v;

	if (sh->c->gzip && b->gz_ok && body == b->lines.data &&
	    len == b->lines.len) {
		/* The whole batch, compressed while reading ahead. */
		body = b->gz.data;
		len = b->gz.len;
	} else if (sh->c->gzip) {
		if (batch_gzip(&sh->gz, body, len) == -1)
			fatal("sink %s: gzip failed", sh->name);
		body = sh->gz.data;
		len = sh->gz.len;
	}
	sh->ahead = 0;
	http_post(sh->http, sh->cur_url, body, len, &a);
	*retry_after = a.retry_after;
	if (a.status == 0) {
		snprintf(sh->last, sizeof(sh->last), "%s: %s", url, a.text);
		v = INFLUX_RETRY;
	} else if ((v = influx_classify(a.status)) != INFLUX_OK)
		snprintf(sh->last, sizeof(sh->last), "%s: HTTP %ld: %s", url,
		    a.status, a.text);
	if (v != INFLUX_OK)
		new_error(sh);
	if (v == INFLUX_REJECT || v == INFLUX_SPLIT)
		snprintf(sh->rej_why, sizeof(sh->rej_why), "HTTP %ld: %s",
		    a.status, a.text);
	judge(sh, v, a.status, url);
	return v;
}

static void
ship_reject(void *arg, const char *line, size_t len)
{
	struct shipper	*sh = arg;

	sh->progress = 1;
	if (buf_add(&sh->rej, line, len) == -1)
		sh->rej_cut = 1;
}

/* The delay before the next round over the URLs. */
static double
backoff_s(struct shipper *sh, enum influx_verdict v, double retry_after)
{
	unsigned int	r = sh->rounds++;
	double		d;

	if (v == INFLUX_WAIT && retry_after >= 0) {
		d = retry_after < RETRY_AFTER_MAX ? retry_after :
		    RETRY_AFTER_MAX;
		return d > 0 ? d : 0.1;
	}
	d = BACKOFF_MIN * (double)(1U << (r < 20 ? r : 20));
	if (d > sh->c->backoff_max)
		d = sh->c->backoff_max;
	/* Equal jitter: half fixed, half random. */
	return d / 2 + d / 2 * ((double)random() / (double)RAND_MAX);
}

/*
 * Back off.  While nothing of the batch is done, let it go (unlock its
 * segments, so the cap may drop the oldest during an outage) and wait in
 * ship(); else wait here, holding it.  While stopping, give up instead.
 */
static int
ship_wait(void *arg, enum influx_verdict v, unsigned int attempt,
    double retry_after)
{
	struct shipper	*sh = arg;
	double		 d;

	(void)attempt;
	sh->figs.retries++;
	hear(sh);
	/* Fail over at once while another URL is untried. */
	if (sh->round_fail % sh->c->nurls != 0)
		return 0;
	if (sh->stopping) {
		sh->gave_up = 1;
		return -1;
	}
	d = backoff_s(sh, v, retry_after);
	if (!sh->progress) {
		sh->pause = d;
		return -1;
	}
	report(sh);
	pause_s(sh, d);
	return 0;
}

static const struct influx_ops ship_ops = {
	.post = ship_post,
	.reject = ship_reject,
	.wait = ship_wait,
};

/* Deliver the batch read ahead into next if any, else the one in cur. */
static void
ship(struct shipper *sh)
{
	struct influx_tally	 t;
	struct batch		*b;

	if (sh->next->nsegs > 0) {
		b = sh->cur;
		sh->cur = sh->next;
		sh->next = b;
	}
	b = sh->cur;
	memset(&t, 0, sizeof(t));
	buf_reset(&sh->rej);
	sh->rej_cut = 0;
	sh->progress = 0;
	if (influx_deliver(&ship_ops, sh, b->lines.data, b->lines.len,
	    sh->c->batch_size, sh->c->batch_bytes, &t) == -1) {
		/* Nothing of it went: let it and the next go while waiting. */
		batch_release(b);
		batch_release(sh->next);
		report(sh);
		pause_s(sh, sh->pause);
		return;
	}
	if (t.rejected > 0)
		rejected_keep(&sh->rejdir, b->segs[0].name, &sh->rej,
		    t.rejected, sh->rej_cut, sh->rej_why);
	log_debug("sink %s: %zu segments, %llu lines delivered in %llu "
	    "requests", sh->name, b->nsegs, (unsigned long long)t.sent,
	    (unsigned long long)t.requests);
	batch_remove(b, sh->rfd, sh->name);
	sh->figs.sent += t.sent;
	sh->figs.rejected += t.rejected;
	report(sh);
}

/* The process. */

static void
init(struct shipper *sh, const struct shipper_conf *c, const char *name,
    const char *spooldir, int sock)
{
	struct sigaction	sa;
	char			err[PATH_MAX + 256], ready[64];
	int			dfd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	memset(sh, 0, sizeof(*sh));
	sh->c = c;
	sh->name = name;
	/* Opened once, checked: every file is opened relative to them. */
	if (spool_dirs(spooldir, &dfd, &sh->rfd, &sh->rejdir.dfd, err,
	    sizeof(err)) == -1) {
		log_err("sink %s: shipper: %s", name, err);
		_exit(EX_CONFIG);
	}
	close(dfd);
	sh->rejdir.dir = io_path_join(spooldir, SPOOL_REJECTED);
	sh->rejdir.max = c->rejected_max;
	sh->rejdir.sink = name;
	msgchan_init(&sh->ch, sock, to_shipper, 1, OUT_MAX);
	buf_init(&sh->gz, 0);
	batch_init(&sh->bt[0]);
	batch_init(&sh->bt[1]);
	sh->cur = &sh->bt[0];
	sh->next = &sh->bt[1];
	buf_init(&sh->rej, (size_t)(c->rejected_max < REJ_MEM_MAX ?
	    c->rejected_max + 1 : REJ_MEM_MAX));
	srandom((unsigned int)((uint64_t)getpid() ^ clock_mono_us()));
	sh->http = http_new(c, name, on_idle, sh);
	sh->inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	/* The directory ready/ is open as, not what its path may lead to. */
	snprintf(ready, sizeof(ready), "/proc/self/fd/%d", sh->rfd);
	if (sh->inotify != -1 && inotify_add_watch(sh->inotify, ready,
	    IN_MOVED_TO | IN_CLOSE_WRITE) == -1) {
		close(sh->inotify);
		sh->inotify = -1;
	}
}

/* Say what stays in the spool, report, and go. */
static void __attribute__((noreturn))
leave(struct shipper *sh)
{
	unsigned long	n = 0;

	if (sh->drain)
		spool_dir_usage(sh->rfd, &n, NULL);
	if (n > 0)
		log_warning("sink %s: stopping with %lu segments not "
		    "delivered (%s): they stay in the spool for the next "
		    "start", sh->name, n, sh->gave_up ? sh->last :
		    "the stop budget is spent");
	batch_release(sh->cur);
	batch_release(sh->next);
	report(sh);
	if (sh->ch.sock != -1)
		msg_drain(&sh->ch, LAST_WORDS_MS);
	_exit(0);
}

/*
 * The shipper's own copy of its settings, with the secret read now: the
 * only process that ever holds it.  A secret it cannot read is logged,
 * and the shipper exits (it reads it again when restarted).
 */
static void
read_secret(struct shipper_conf *mine, const struct shipper_conf *c,
    const char *name)
{
	char	path[PATH_MAX], why[PATH_MAX + 256];

	*mine = *c;
	mine->secret = NULL;
	if (c->secret_src == SECRET_NONE)
		return;
	if (secret_path(c->secret_src, c->secret_arg, path, sizeof(path),
	    why, sizeof(why)) == 0 && secret_read(path, &mine->secret, why,
	    sizeof(why)) == 0)
		return;
	log_err("sink %s: shipper: %s_%s: %s: nothing is sent until it is "
	    "fixed", name, c->secret_key, c->secret_src == SECRET_FILE ?
	    "file" : "credential", why);
	_exit(EX_CONFIG);
}

void
qosd_shipper_main(const void *conf, const char *name,
    const char *spooldir, int sock, int verbose)
{
	const struct shipper_conf *c = conf;
	struct shipper		sh;
	struct shipper_conf	mine;

	log_init(1, verbose, "qosd");
	read_secret(&mine, c, name);
	c = &mine;
	init(&sh, c, name, spooldir, sock);
	/* libcurl has its copy (http_new()): one fewer here. */
	secret_free(mine.secret);
	mine.secret = NULL;
	for (;;) {
		if (stop_due(&sh))
			break;
		if (sh.next->nsegs > 0 || batch_gather(sh.cur, sh.rfd, NULL,
		    c->batch_size, c->batch_bytes, name) > 0) {
			ship(&sh);
			continue;
		}
		/* Stopping with ready/ empty: all is delivered. */
		if (sh.stopping)
			break;
		wait_events(&sh, POLL_MS);
	}
	leave(&sh);
}
