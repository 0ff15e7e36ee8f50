/*
 * shipper.c: an influxdb sink's shipper process.  It posts the oldest ready
 * segments (several small ones in one request, up to a batch) with libcurl,
 * gzip-compressed with zlib, and deletes them only when every line is in
 * InfluxDB or in rejected/.  Structure of the POST after collectd's
 * write_http (wh_post_nolock).  The Linux-only calls of the sink (prctl,
 * capset, close_range, inotify) live here.
 */
#define _GNU_SOURCE

#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <zlib.h>

#include "lib/buf.h"
#include "lib/complain.h"
#include "lib/io.h"
#include "lib/log.h"
#include "sinks/shipper/shipper.h"
#include "sinks/spool.h"

#define MAX_SEGMENTS	256		/* coalesced into one batch */
#define RESP_MAX	4096		/* response body kept for logs */
#define POLL_MS		1000		/* ready/ rescan without inotify */
#define BACKOFF_MIN	0.5		/* s */
#define RETRY_AFTER_MAX	3600		/* s */

enum influx_verdict
influx_classify(long status)
{
	if (status >= 200 && status < 300)
		return INFLUX_OK;
	switch (status) {
	case 400:
	case 422:
		return INFLUX_REJECT;
	case 413:
		return INFLUX_SPLIT;
	case 401:
	case 403:
	case 404:
		return INFLUX_FIX;
	case 429:
	case 503:
		return INFLUX_WAIT;
	default:
		return INFLUX_RETRY;
	}
}

const char *
influx_verdict_str(enum influx_verdict v)
{
	switch (v) {
	case INFLUX_OK:
		return "ok";
	case INFLUX_REJECT:
		return "rejected";
	case INFLUX_SPLIT:
		return "too large";
	case INFLUX_FIX:
		return "refused";
	case INFLUX_WAIT:
		return "busy";
	case INFLUX_RETRY:
		return "failed";
	}
	return "?";
}

static void
add_enc(struct buf *b, const char *s)
{
	static const char	hex[] = "0123456789ABCDEF";
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (isalnum(*p) || strchr("-._~", *p) != NULL)
			buf_addc(b, (char)*p);
		else {
			buf_addc(b, '%');
			buf_addc(b, hex[*p >> 4]);
			buf_addc(b, hex[*p & 15]);
		}
	}
}

char *
influx_write_url(const struct shipper_conf *c, const char *base)
{
	struct buf	b;
	size_t		n = strlen(base);
	char		*s;

	while (n > 0 && base[n - 1] == '/')
		n--;
	buf_init(&b, 16384);
	buf_add(&b, base, n);
	if (c->api == INFLUX_API_V2) {
		buf_adds(&b, "/api/v2/write?org=");
		add_enc(&b, c->org);
		buf_adds(&b, "&bucket=");
		add_enc(&b, c->bucket);
	} else {
		buf_adds(&b, "/write?db=");
		add_enc(&b, c->database);
		if (c->rp != NULL) {
			buf_adds(&b, "&rp=");
			add_enc(&b, c->rp);
		}
	}
	buf_adds(&b, "&precision=ns");
	if ((s = buf_take(&b, NULL)) == NULL)
		fatal("influx_write_url: %m");
	return s;
}

/* Delivery: batches, splitting, retries. */

struct lines {
	const char	*data;
	size_t		*off;		/* start of line i; off[n]: end */
	size_t		 n;
};

static int
deliver_range(const struct influx_ops *ops, void *arg,
    const struct lines *l, size_t lo, size_t hi, struct influx_tally *t)
{
	enum influx_verdict	 v;
	unsigned int		 attempt = 0;
	double			 ra;
	size_t			 mid;
	const char		*body = l->data + l->off[lo];
	size_t			 len = l->off[hi] - l->off[lo];

	for (;;) {
		ra = -1;
		t->requests++;
		v = ops->post(arg, body, len, &ra);
		switch (v) {
		case INFLUX_OK:
			t->sent += hi - lo;
			return 0;
		case INFLUX_REJECT:
		case INFLUX_SPLIT:
			if (hi - lo == 1) {
				ops->reject(arg, body, len);
				t->rejected++;
				return 0;
			}
			mid = lo + (hi - lo) / 2;
			if (deliver_range(ops, arg, l, lo, mid, t) == -1)
				return -1;
			return deliver_range(ops, arg, l, mid, hi, t);
		case INFLUX_FIX:
		case INFLUX_WAIT:
		case INFLUX_RETRY:
			t->retries++;
			if (ops->wait(arg, v, attempt++, ra) == -1)
				return -1;
			break;
		}
	}
}

int
influx_deliver(const struct influx_ops *ops, void *arg, const char *data,
    size_t len, unsigned long max_lines, size_t max_bytes,
    struct influx_tally *t)
{
	struct lines	 l;
	const char	*p = data, *nl;
	size_t		 n, cap = 0, lo, hi;
	int		 rc = 0;

	l.data = data;
	l.off = NULL;
	l.n = 0;
	/* The line index, then requests of whole lines. */
	while ((nl = memchr(p, '\n', len - (size_t)(p - data))) != NULL) {
		if (l.n + 2 > cap) {
			cap = cap ? cap * 2 : 1024;
			if ((l.off = reallocarray(l.off, cap,
			    sizeof(*l.off))) == NULL)
				fatal("influx_deliver: %m");
		}
		l.off[l.n++] = (size_t)(p - data);
		p = nl + 1;
	}
	if (l.n == 0) {
		free(l.off);
		return 0;
	}
	l.off[l.n] = (size_t)(p - data);
	for (lo = 0; lo < l.n && rc == 0; lo = hi) {
		for (hi = lo + 1, n = 1; hi < l.n && n < max_lines &&
		    l.off[hi + 1] - l.off[lo] <= max_bytes; hi++, n++)
			;
		rc = deliver_range(ops, arg, &l, lo, hi, t);
	}
	free(l.off);
	return rc;
}

/* The shipper process. */

/*
 * SIGTERM (the sink stopped, or the daemon gone): finish the request
 * under way and its bookkeeping, then exit, so that a segment InfluxDB
 * took is not sent again by the next shipper.
 */
static volatile sig_atomic_t stopping;

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

struct seg {
	char		 name[SPOOL_NAME_MAX];
	int		 fd;
};

/* Ready segments, locked, and their lines (compressed once, if asked). */
struct batch {
	struct seg	 segs[MAX_SEGMENTS];
	size_t		 nsegs;
	struct buf	 lines;
	struct buf	 gz;
	int		 gz_ok;
};

struct shipper {
	const struct shipper_conf *c;
	int		 msgfd;		/* to the daemon */
	const char	*name;
	char		*ready;
	char		*rejected;
	CURL		*curl;
	struct curl_slist *hdrs;
	char		 errbuf[CURL_ERROR_SIZE];
	char		**wurls;	/* write URLs */
	size_t		 cur_url;	/* the URL in use */
	CURLM		*multi;
	size_t		 round_fail;	/* failures since a URL last worked */
	unsigned int	 rounds;	/* of failures over all URLs */
	int		 progress;	/* some of this batch is done */
	double		 pause;		/* s, to wait with the batch let go */
	struct buf	 resp;
	double		 retry_after;
	struct buf	 gz;		/* a part of a batch, compressed */
	struct batch	 bt[2];
	struct batch	*cur;		/* being delivered */
	struct batch	*next;		/* read ahead while InfluxDB works */
	struct buf	 rej;		/* refused lines of this batch */
	char		 rej_why[256];
	unsigned long	 rej_lost;	/* refused lines beyond rejected_max */
	struct shipper_msg msg;		/* not yet sent */
	struct complain	 cp;
	char		 last[232];	/* the latest error, for logs */
};

static uint64_t
mono_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
report(struct shipper *sh)
{
	ssize_t	n;

	do
		n = write(sh->msgfd, &sh->msg, sizeof(sh->msg));
	while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EPIPE)
		_exit(0);	/* the parent is gone */
	memset(&sh->msg, 0, sizeof(sh->msg));
}

static void
set_error(struct shipper *sh, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_error(struct shipper *sh, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(sh->last, sizeof(sh->last), fmt, ap);
	va_end(ap);
	snprintf(sh->msg.error, sizeof(sh->msg.error), "%s", sh->last);
	sh->msg.has_error = 1;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct shipper	*sh = arg;
	size_t		 len = size * n, room;

	room = sh->resp.cap - sh->resp.len;
	buf_add(&sh->resp, p, len < room ? len : room);
	return len;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct shipper	*sh = arg;
	size_t		 len = size * n;
	char		 h[64], *end;
	double		 v;

	if (len > 12 && len < sizeof(h) &&
	    strncasecmp(p, "retry-after:", 12) == 0) {
		memcpy(h, p + 12, len - 12);
		h[len - 12] = '\0';
		v = strtod(h, &end);
		while (*end == ' ' || *end == '\r' || *end == '\n')
			end++;
		if (end != h && *end == '\0' && v >= 0)
			sh->retry_after = v;
	}
	return len;
}

static int
gzip_into(struct buf *out, const char *data, size_t len)
{
	z_stream	z;
	uLong		bound;
	int		r;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	bound = deflateBound(&z, (uLong)len);
	buf_reset(out);
	if (out->alloc < bound + 1) {
		free(out->data);
		if ((out->data = malloc(bound + 1)) == NULL)
			fatal("gzip: %m");
		out->alloc = bound + 1;
		out->cap = bound + 1;
	}
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out->data;
	z.avail_out = (uInt)bound;
	r = deflate(&z, Z_FINISH);
	out->len = (size_t)z.total_out;
	deflateEnd(&z);
	return r == Z_STREAM_END ? 0 : -1;
}

/* The response body, one line, cut, for logs. */
static const char *
resp_text(struct shipper *sh)
{
	char	*p;

	buf_addc(&sh->resp, '\0');
	for (p = sh->resp.data; p != NULL && *p != '\0'; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	if (sh->resp.len > 200)
		memcpy(sh->resp.data + 197, "...", 4);
	return sh->resp.data != NULL ? sh->resp.data : "";
}

static void	read_ahead(struct shipper *);

/*
 * curl_easy_perform(), but through the multi interface so that the next
 * batch is read and compressed while InfluxDB works on this one.
 */
static CURLcode
perform(struct shipper *sh)
{
	CURLMsg		*m;
	CURLcode	 cc = CURLE_FAILED_INIT;
	int		 running = 1, ahead = 0, left;

	if (curl_multi_add_handle(sh->multi, sh->curl) != CURLM_OK)
		return curl_easy_perform(sh->curl);
	while (running) {
		if (curl_multi_perform(sh->multi, &running) != CURLM_OK)
			break;
		if (!running)
			break;
		if (!ahead) {
			ahead = 1;
			read_ahead(sh);
			continue;
		}
		if (curl_multi_poll(sh->multi, NULL, 0, 1000, NULL) !=
		    CURLM_OK)
			break;
	}
	while ((m = curl_multi_info_read(sh->multi, &left)) != NULL)
		if (m->msg == CURLMSG_DONE && m->easy_handle == sh->curl)
			cc = m->data.result;
	curl_multi_remove_handle(sh->multi, sh->curl);
	return cc;
}

static enum influx_verdict
http_post(void *arg, const char *body, size_t len, double *retry_after)
{
	struct shipper		*sh = arg;
	const char		*url = sh->c->urls[sh->cur_url];
	enum influx_verdict	 v;
	CURLcode		 cc;
	long			 status = 0;

	buf_reset(&sh->resp);
	sh->retry_after = -1;
	sh->errbuf[0] = '\0';
	if (sh->c->gzip && sh->cur->gz_ok && body == sh->cur->lines.data &&
	    len == sh->cur->lines.len) {
		/* The whole batch, compressed while reading ahead. */
		body = sh->cur->gz.data;
		len = sh->cur->gz.len;
	} else if (sh->c->gzip) {
		if (gzip_into(&sh->gz, body, len) == -1)
			fatal("sink %s: gzip failed", sh->name);
		body = sh->gz.data;
		len = sh->gz.len;
	}
	curl_easy_setopt(sh->curl, CURLOPT_URL, sh->wurls[sh->cur_url]);
	curl_easy_setopt(sh->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(sh->curl, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)len);
	cc = perform(sh);
	if (cc != CURLE_OK) {
		set_error(sh, "%s: %s", url, sh->errbuf[0] ? sh->errbuf :
		    curl_easy_strerror(cc));
		v = INFLUX_RETRY;
	} else {
		curl_easy_getinfo(sh->curl, CURLINFO_RESPONSE_CODE, &status);
		v = influx_classify(status);
		if (v != INFLUX_OK)
			set_error(sh, "%s: HTTP %ld: %s", url, status,
			    resp_text(sh));
	}
	*retry_after = sh->retry_after;
	switch (v) {
	case INFLUX_OK:
		sh->round_fail = 0;
		sh->rounds = 0;
		sh->progress = 1;
		if (complain_ok(&sh->cp) > 0)
			log_notice("sink %s: delivering to %s again",
			    sh->name, url);
		sh->msg.ok = 1;
		break;
	case INFLUX_REJECT:
	case INFLUX_SPLIT:
		snprintf(sh->rej_why, sizeof(sh->rej_why), "HTTP %ld: %s",
		    status, resp_text(sh));
		break;
	case INFLUX_FIX:
		/* Nothing changes by itself: try the next URL if any. */
		if (complain_fail(&sh->cp, mono_us()))
			log_err("sink %s: %s: %s", sh->name, sh->last,
			    status == 404 ? "check the URL and that the "
			    "database, or org and bucket, exist" :
			    "check the credentials (username and "
			    "password_file, or token_file) and their "
			    "permission to write");
		sh->round_fail++;
		sh->cur_url = (sh->cur_url + 1) % sh->c->nurls;
		break;
	case INFLUX_WAIT:
	case INFLUX_RETRY:
		if (complain_fail(&sh->cp, mono_us()))
			log_warning("sink %s: %s: will retry", sh->name,
			    sh->last);
		sh->round_fail++;
		sh->cur_url = (sh->cur_url + 1) % sh->c->nurls;
		break;
	}
	return v;
}

static void
http_reject(void *arg, const char *line, size_t len)
{
	struct shipper	*sh = arg;

	sh->progress = 1;
	if (buf_add(&sh->rej, line, len) == -1)
		sh->rej_lost++;
}

static void
sleep_s(double s)
{
	struct timespec	ts;

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (!stopping && nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Back off.  While nothing of the batch is done, let it go (unlock its
 * segments, so the cap may drop the oldest during an outage) and wait in
 * ship(); else wait here, holding it.
 */
static int
http_wait(void *arg, enum influx_verdict v, unsigned int attempt,
    double retry_after)
{
	struct shipper	*sh = arg;
	double		 d;
	unsigned int	 r;

	(void)attempt;
	sh->msg.retries++;
	if (stopping) {
		sh->pause = 0;
		return -1;
	}
	/* Fail over at once while another URL is untried. */
	if (sh->round_fail % sh->c->nurls != 0)
		return 0;
	r = sh->rounds++;
	if (v == INFLUX_WAIT && retry_after >= 0) {
		d = retry_after < RETRY_AFTER_MAX ? retry_after :
		    RETRY_AFTER_MAX;
		if (d <= 0)
			d = 0.1;
	} else {
		d = BACKOFF_MIN * (double)(1U << (r < 20 ? r : 20));
		if (d > sh->c->backoff_max)
			d = sh->c->backoff_max;
		/* Equal jitter: half fixed, half random. */
		d = d / 2 + d / 2 * ((double)random() / (double)RAND_MAX);
	}
	if (!sh->progress) {
		sh->pause = d;
		return -1;
	}
	report(sh);
	sleep_s(d);
	return 0;
}

static const struct influx_ops http_ops = {
	.post = http_post,
	.reject = http_reject,
	.wait = http_wait,
};

static void
http_init(struct shipper *sh)
{
	const struct shipper_conf *c = sh->c;
	struct buf	 h;
	size_t		 i;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (sh->curl = curl_easy_init()) == NULL ||
	    (sh->multi = curl_multi_init()) == NULL)
		fatal("sink %s: cannot set up libcurl", sh->name);
	if ((sh->wurls = calloc(c->nurls, sizeof(*sh->wurls))) == NULL)
		fatal("shipper: %m");
	for (i = 0; i < c->nurls; i++)
		sh->wurls[i] = influx_write_url(c, c->urls[i]);
	sh->hdrs = curl_slist_append(sh->hdrs,
	    "Content-Type: text/plain; charset=utf-8");
	sh->hdrs = curl_slist_append(sh->hdrs, "Expect:");
	if (c->gzip)
		sh->hdrs = curl_slist_append(sh->hdrs,
		    "Content-Encoding: gzip");
	if (c->api == INFLUX_API_V2 && c->secret != NULL) {
		buf_init(&h, 8192);
		buf_addf(&h, "Authorization: Token %s", c->secret);
		sh->hdrs = curl_slist_append(sh->hdrs, buf_str(&h));
		explicit_bzero(h.data, h.len);
		buf_cleanup(&h);
	} else if (c->api == INFLUX_API_V1 && c->username != NULL) {
		curl_easy_setopt(sh->curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(sh->curl, CURLOPT_USERNAME, c->username);
		curl_easy_setopt(sh->curl, CURLOPT_PASSWORD,
		    c->secret != NULL ? c->secret : "");
	}
	if (sh->hdrs == NULL)
		fatal("sink %s: out of memory", sh->name);
	curl_easy_setopt(sh->curl, CURLOPT_HTTPHEADER, sh->hdrs);
	curl_easy_setopt(sh->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(sh->curl, CURLOPT_ERRORBUFFER, sh->errbuf);
	curl_easy_setopt(sh->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(sh->curl, CURLOPT_WRITEDATA, sh);
	curl_easy_setopt(sh->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(sh->curl, CURLOPT_HEADERDATA, sh);
	curl_easy_setopt(sh->curl, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)c->connect_timeout_ms);
	curl_easy_setopt(sh->curl, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(sh->curl, CURLOPT_SSL_VERIFYPEER,
	    c->tls_verify ? 1L : 0L);
	curl_easy_setopt(sh->curl, CURLOPT_SSL_VERIFYHOST,
	    c->tls_verify ? 2L : 0L);
	if (c->ca_file != NULL)
		curl_easy_setopt(sh->curl, CURLOPT_CAINFO, c->ca_file);
	curl_easy_setopt(sh->curl, CURLOPT_USERAGENT, "qosd/" QOSD_VERSION);
	curl_easy_setopt(sh->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(sh->curl, CURLOPT_TCP_KEEPALIVE, 1L);
}

/* Total bytes of the rejected/ files, and the oldest one's name. */
static uint64_t
rejected_usage(struct shipper *sh, char *oldest)
{
	DIR		*d;
	struct dirent	*e;
	struct stat	 st;
	uint64_t	 total = 0;

	oldest[0] = '\0';
	if ((d = opendir(sh->rejected)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (!spool_is_segment(e->d_name) ||
		    fstatat(dirfd(d), e->d_name, &st, 0) == -1)
			continue;
		total += (uint64_t)st.st_size;
		if (oldest[0] == '\0' || strcmp(e->d_name, oldest) < 0)
			memcpy(oldest, e->d_name, strlen(e->d_name) + 1);
	}
	closedir(d);
	return total;
}

/* Keep the refused lines of the batch in rejected/, within the bound. */
static void
keep_rejected(struct shipper *sh, uint64_t nrej)
{
	char		 old[SPOOL_NAME_MAX], *p;
	uint64_t	 total;
	int		 fd, n = 0;
	size_t		 off = 0;
	ssize_t		 w;

	total = rejected_usage(sh, old);
	while (old[0] != '\0' && total + sh->rej.len > sh->c->rejected_max &&
	    n++ < 10000) {
		p = io_path_join(sh->rejected, old);
		unlink(p);
		free(p);
		total = rejected_usage(sh, old);
	}
	p = io_path_join(sh->rejected, sh->cur->segs[0].name);
	fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	while (fd != -1 && off < sh->rej.len) {
		if ((w = write(fd, sh->rej.data + off,
		    sh->rej.len - off)) == -1 && errno == EINTR)
			continue;
		if (w == -1)
			break;
		off += (size_t)w;
	}
	if (fd != -1 && off == sh->rej.len)
		log_err("sink %s: influxdb refused %llu lines of segment "
		    "\"%s\", kept in \"%s\"%s: %s", sh->name,
		    (unsigned long long)nrej, sh->cur->segs[0].name, p,
		    sh->rej_lost > 0 ? " (those within rejected_max)" : "",
		    sh->rej_why);
	else
		log_err("sink %s: influxdb refused %llu lines of segment "
		    "\"%s\", not kept: %s: %s", sh->name,
		    (unsigned long long)nrej, sh->cur->segs[0].name,
		    strerror(errno), sh->rej_why);
	if (fd != -1)
		close(fd);
	free(p);
}

/* Let a batch go: unlock its segments. */
static void
batch_release(struct batch *b)
{
	size_t	i;

	for (i = 0; i < b->nsegs; i++)
		close(b->segs[i].fd);
	b->nsegs = 0;
	b->gz_ok = 0;
	buf_reset(&b->lines);
}

/*
 * Lock and read the oldest ready segments after the name after (NULL:
 * from the oldest), up to a batch.  The number of segments.
 */
static size_t
gather(struct shipper *sh, struct batch *b, const char *after)
{
	char		 last[SPOOL_NAME_MAX], *p, chunk[65536];
	struct flock	 fl;
	struct stat	 st;
	struct seg	*s;
	size_t		 start;
	ssize_t		 n;
	int		 r;

	batch_release(b);
	last[0] = '\0';
	if (after != NULL)
		memcpy(last, after, sizeof(last));
	while (b->nsegs < MAX_SEGMENTS) {
		s = &b->segs[b->nsegs];
		r = spool_oldest(sh->ready, last[0] ? last : NULL, s->name);
		if (r == -1)
			log_err("sink %s: cannot read \"%s\": %m", sh->name,
			    sh->ready);
		if (r != 1)
			break;
		memcpy(last, s->name, sizeof(last));
		p = io_path_join(sh->ready, s->name);
		s->fd = open(p, O_RDWR | O_CLOEXEC);
		free(p);
		if (s->fd == -1)
			continue;
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		while ((r = fcntl(s->fd, F_SETLKW, &fl)) == -1 &&
		    errno == EINTR && !stopping)
			;
		if (r == -1 && stopping) {
			close(s->fd);
			break;
		}
		if (r == -1 || fstat(s->fd, &st) == -1 || st.st_nlink == 0) {
			/* Gone: dropped by the cap, or sent already. */
			close(s->fd);
			continue;
		}
		if (b->nsegs > 0 && b->lines.len + (size_t)st.st_size >
		    sh->c->batch_bytes) {
			close(s->fd);
			break;
		}
		start = b->lines.len;
		while ((n = read(s->fd, chunk, sizeof(chunk))) > 0)
			if (buf_add(&b->lines, chunk, (size_t)n) == -1)
				fatal("sink %s: segment \"%s\": %m", sh->name,
				    s->name);
		/* A torn last line (fsync off and a crash) is not sent. */
		while (b->lines.len > start &&
		    b->lines.data[b->lines.len - 1] != '\n')
			b->lines.len--;
		b->nsegs++;
		if (spool_count_lines(b->lines.data, b->lines.len) >=
		    sh->c->batch_size)
			break;
	}
	return b->nsegs;
}

/*
 * While InfluxDB works on a request: read and compress the batch after
 * the current one, so that it is ready to go when the answer comes.
 */
static void
read_ahead(struct shipper *sh)
{
	struct batch	*c = sh->cur, *b = sh->next;

	if (c->nsegs == 0 || b->nsegs > 0)
		return;
	if (gather(sh, b, c->segs[c->nsegs - 1].name) > 0 && sh->c->gzip &&
	    spool_count_lines(b->lines.data, b->lines.len) <=
	    sh->c->batch_size && gzip_into(&b->gz, b->lines.data,
	    b->lines.len) == 0)
		b->gz_ok = 1;
}

static void
ship(struct shipper *sh)
{
	struct influx_tally	 t;
	struct batch		*b, *tmp;
	char			*p;
	size_t			 i;

	if (sh->next->nsegs > 0) {
		tmp = sh->cur;
		sh->cur = sh->next;
		sh->next = tmp;
	} else if (gather(sh, sh->cur, NULL) == 0)
		return;
	b = sh->cur;
	if (stopping) {
		batch_release(b);
		return;
	}
	memset(&t, 0, sizeof(t));
	buf_reset(&sh->rej);
	sh->rej_lost = 0;
	sh->progress = 0;
	if (influx_deliver(&http_ops, sh, b->lines.data, b->lines.len,
	    sh->c->batch_size, sh->c->batch_bytes, &t) == -1) {
		/* Nothing of it went: let it and the next go while waiting. */
		batch_release(b);
		batch_release(sh->next);
		report(sh);
		sleep_s(sh->pause);
		return;
	}
	if (t.rejected > 0)
		keep_rejected(sh, t.rejected);
	for (i = 0; i < b->nsegs; i++) {
		p = io_path_join(sh->ready, b->segs[i].name);
		if (unlink(p) == -1)
			log_err("sink %s: cannot remove \"%s\": %m", sh->name,
			    p);
		free(p);
	}
	log_debug("sink %s: %zu segments, %llu lines delivered in %llu "
	    "requests", sh->name, b->nsegs, (unsigned long long)t.sent,
	    (unsigned long long)t.requests);
	batch_release(b);
	sh->msg.sent += t.sent;
	sh->msg.rejected += t.rejected;
	report(sh);
}

/*
 * No capabilities at all: the shipper needs only the network and its
 * spool, which it owns.
 */
static void
drop_caps(const char *name)
{
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[2];

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if ((prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL) || syscall(SYS_capset, &hdr, data) == -1 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		log_err("sink %s: shipper: dropping capabilities: %m", name);
}

void
qosd_shipper_main(const struct shipper_conf *c, const char *name,
    const char *spooldir, int msgfd, int verbose)
{
	struct shipper	 sh;
	struct pollfd	 pfd;
	struct sigaction sa;
	char		 evbuf[4096];
	struct rlimit	 rl = { 0, 0 };
	int		 i;

	log_init(1, verbose, "qosd");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	memset(&sh, 0, sizeof(sh));
	sh.c = c;
	sh.msgfd = msgfd;
	sh.name = name;
	sh.ready = io_path_join(spooldir, SPOOL_READY);
	sh.rejected = io_path_join(spooldir, SPOOL_REJECTED);
	buf_init(&sh.resp, RESP_MAX);
	buf_init(&sh.gz, 0);
	for (i = 0; i < 2; i++) {
		buf_init(&sh.bt[i].lines, (size_t)1 << 31);
		buf_init(&sh.bt[i].gz, 0);
	}
	sh.cur = &sh.bt[0];
	sh.next = &sh.bt[1];
	buf_init(&sh.rej, (size_t)(c->rejected_max < ((uint64_t)1 << 30) ?
	    c->rejected_max + 1 : (uint64_t)1 << 30));
	setrlimit(RLIMIT_CORE, &rl);
	drop_caps(name);
	srandom((unsigned int)(getpid() ^ mono_us()));
	http_init(&sh);
	pfd.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	pfd.events = POLLIN;
	if (pfd.fd != -1 && inotify_add_watch(pfd.fd, sh.ready,
	    IN_MOVED_TO | IN_CLOSE_WRITE) == -1) {
		close(pfd.fd);
		pfd.fd = -1;
	}
	for (;;) {
		if (stopping || getppid() == 1)
			_exit(0);
		if (sh.next->nsegs > 0 || gather(&sh, sh.cur, NULL) > 0) {
			ship(&sh);
			continue;
		}
		if (poll(&pfd, 1, POLL_MS) > 0)
			while (read(pfd.fd, evbuf, sizeof(evbuf)) > 0)
				;
	}
}
