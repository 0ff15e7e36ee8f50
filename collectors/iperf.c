/*
 * iperf.c: the iperf collector.  Throughput, and for UDP jitter and loss,
 * toward an iperf3 server, measured by libiperf (iperf3 itself) and read
 * from its JSON result with jansson.
 *
 *   { name = "bw"; collector = "iperf"; server = "iperf.example";
 *     direction = "both"; duration = 10; }
 *
 * Each test runs in a process of its own, forked from the run (libiperf
 * keeps global state and has no receive timeout: collectors/iperf/client.h
 * says more); the run enforces the test's time limit and kills a test
 * that stalls.  A grandchild left behind dies with the run's process
 * group.
 *
 * This file is the collector: the tests of a run, retried while the
 * server is busy, and their points.  The settings are
 * collectors/iperf/conf.c's, the test process collectors/iperf/client.c's,
 * reading what a test gave collectors/iperf/result.c's.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "collectors/iperf/client.h"
#include "collectors/iperf/conf.h"
#include "collectors/iperf/result.h"
#include "qosd/clock.h"
#include "qosd/collector.h"
#include "qosd/point.h"

#define RESERVE_US	500000		/* before the deadline, to report */
#define SLACK_US	3000000		/* setup and result exchange */
#define BACKOFF_US	500000		/* first busy backoff, doubled */
/*
 * iperf3 -s closes its listening socket at the end of a test and opens it
 * again: the download of direction = "both", started right after the
 * upload, can find it shut ("refused", seen in tests/integration/
 * iperf_netns.sh).  A server that just answered is given this long.
 */
#define RELISTEN_US	2000000
#define RELISTEN_STEP	100000

static const char *const iperf_settings[] = {
	"server", "port", "duration", "omit", "protocol", "direction",
	"streams", "bandwidth", "block_size", "bind", "dscp",
	"connect_timeout", "busy_retries", NULL
};

static int
iperf_configure(const config_setting_t *job, void **state, char *err,
    size_t errlen)
{
	return (*state = iperf_conf_new(job, err, errlen)) == NULL ? -1 : 0;
}

/* xorshift64*, for backoff jitter only. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void
sleep_us(uint64_t us)
{
	struct timespec	ts;

	ts.tv_sec = (time_t)(us / 1000000);
	ts.tv_nsec = (long)(us % 1000000) * 1000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * One direction: a test, retried after a random backoff while the server
 * is busy, as often as allowed and as long as a whole test still fits
 * before limit_us; and, when the server answered the run's test before
 * (answered), retried every 100 ms for up to RELISTEN_US while refused.
 */
static enum iperf_res
measure(const struct iperf_conf *st, int reverse, int answered,
    uint64_t limit_us, uint64_t *seed, struct iperf_result *r, char *msg,
    size_t msglen)
{
	uint64_t	test_us, min_us, now, until, backoff, relisten = 0;
	enum iperf_res	res;
	int		attempt;

	min_us = (uint64_t)(st->omit + st->duration) * 1000000;
	test_us = min_us + (uint64_t)st->connect_ms * 1000 + SLACK_US +
	    min_us / 10;
	for (attempt = 0;; attempt++) {
		now = qosd_mono_us();
		if (now + min_us > limit_us) {
			snprintf(msg, msglen, "not started: %.1f s left before "
			    "the run's timeout, the test takes %d s",
			    limit_us > now ? (double)(limit_us - now) / 1e6 : 0,
			    st->omit + st->duration);
			return IPERF_RES_TIMEOUT;
		}
		until = now + test_us < limit_us ? now + test_us : limit_us;
		res = iperf_client_run(st, reverse, until, r, msg, msglen);
		if (res == IPERF_RES_REFUSED && answered &&
		    relisten < RELISTEN_US &&
		    qosd_mono_us() + RELISTEN_STEP + min_us <= limit_us) {
			sleep_us(RELISTEN_STEP);
			relisten += RELISTEN_STEP;
			attempt--;
			continue;
		}
		if (res != IPERF_RES_BUSY || attempt >= st->retries)
			return res;
		backoff = (BACKOFF_US << attempt) / 2 +
		    rnd(seed) % (BACKOFF_US << attempt);
		if (qosd_mono_us() + backoff + min_us > limit_us)
			return res;
		sleep_us(backoff);
	}
}

static void
emit(struct qosd_out *out, const struct iperf_conf *st, int reverse,
    enum iperf_res res, const struct iperf_result *r, const char *msg)
{
	qosd_point_begin(out, "iperf");
	qosd_point_tag(out, "target", st->server);
	qosd_point_tag(out, "port", st->port_str);
	qosd_point_tag(out, "protocol", st->udp ? "udp" : "tcp");
	qosd_point_tag(out, "direction", reverse ? "download" : "upload");
	qosd_point_str(out, "result", iperf_res_name(res));
	if (res != IPERF_RES_OK) {
		qosd_point_str(out, "error", msg);
		qosd_point_end(out);
		return;
	}
	qosd_point_float(out, "sent_bps", r->sent_bps);
	qosd_point_float(out, "received_bps", r->received_bps);
	if (r->has & IPERF_HAS_RETRANSMITS)
		qosd_point_int(out, "retransmits", r->retransmits);
	if (r->has & IPERF_HAS_UDP) {
		qosd_point_float(out, "jitter_ms", r->jitter_ms);
		qosd_point_float(out, "lost_pct", r->lost_pct);
		qosd_point_int(out, "lost_packets", r->lost_packets);
	}
	if (r->has & IPERF_HAS_CPU) {
		qosd_point_float(out, "cpu_local_pct", r->cpu_local_pct);
		qosd_point_float(out, "cpu_remote_pct", r->cpu_remote_pct);
	}
	if (r->has & IPERF_HAS_DURATION)
		qosd_point_float(out, "duration_s", r->duration_s);
	if (r->has & IPERF_HAS_STREAMS)
		qosd_point_int(out, "streams", r->streams);
	qosd_point_end(out);
}

static int
iperf_run(void *state, struct qosd_out *out)
{
	const struct iperf_conf *st = state;
	struct iperf_result	 r;
	struct timespec		 ts;
	enum iperf_res		 res;
	char			 msg[IPERF_MSG_LEN];
	uint64_t		 deadline, limit, seed;
	int			 reverse, answered = 0;

	deadline = qosd_out_deadline_us(out);
	limit = deadline > RESERVE_US ? deadline - RESERVE_US : 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	seed = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)getpid() ^
	    0x9e3779b97f4a7c15ULL;
	for (reverse = 0; reverse < 2; reverse++) {
		if ((st->dir == IPERF_UPLOAD && reverse) ||
		    (st->dir == IPERF_DOWNLOAD && !reverse))
			continue;
		msg[0] = '\0';
		res = measure(st, reverse, answered, limit, &seed, &r, msg,
		    sizeof(msg));
		emit(out, st, reverse, res, &r, msg);
		/* It was there: a refusal now is its re-listen gap. */
		answered = res == IPERF_RES_OK || res == IPERF_RES_BUSY;
	}
	return 0;
}

static const char *const iperf_targets[] = { "server", NULL };

QOSD_EXPORT const struct qosd_collector qosd_collector = {
	.abi = QOSD_COLLECTOR_ABI,
	.name = "iperf",
	.settings = iperf_settings,
	.configure = iperf_configure,
	.run = iperf_run,
	.release = iperf_conf_free,
	.default_exclusive = "bandwidth",
	.targets = iperf_targets,
};
