/*
 * http.c: the shipper's HTTP client (see http.h).  Requests go through
 * the multi interface so that the shipper can work (read the next batch,
 * hear the daemon) while InfluxDB works on one.
 */
#define _GNU_SOURCE

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "sinks/shipper/http.h"
#include "sinks/shipper/shipper.h"

#define RESP_MAX	4096		/* response body kept for logs */
#define TEXT_MAX	200		/* of it in a log line */
#define IDLE_MS		1000		/* idle() at least this often */

struct http {
	const struct shipper_conf *c;
	const char	*name;
	CURL		*curl;
	CURLM		*multi;
	struct curl_slist *hdrs;
	char		 errbuf[CURL_ERROR_SIZE];
	char		**wurls;	/* write URLs */
	struct buf	 resp;
	double		 retry_after;
	http_idle_fn	 idle;
	void		*idle_arg;
};

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

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct http	*h = arg;
	size_t		 len = size * n, room;

	room = h->resp.cap - h->resp.len;
	buf_add(&h->resp, p, len < room ? len : room);
	return len;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http	*h = arg;
	size_t		 len = size * n;
	char		 v[64], *end;
	double		 d;

	if (len > 12 && len < sizeof(v) &&
	    strncasecmp(p, "retry-after:", 12) == 0) {
		memcpy(v, p + 12, len - 12);
		v[len - 12] = '\0';
		d = strtod(v, &end);
		while (*end == ' ' || *end == '\r' || *end == '\n')
			end++;
		if (end != v && *end == '\0' && d >= 0)
			h->retry_after = d;
	}
	return len;
}

/* The authorization: a token header (v2) or basic auth (v1). */
static void
set_auth(struct http *h)
{
	const struct shipper_conf	*c = h->c;
	struct buf			 b;

	if (c->api == INFLUX_API_V2 && c->secret != NULL) {
		buf_init(&b, 8192);
		buf_addf(&b, "Authorization: Token %s", c->secret);
		h->hdrs = curl_slist_append(h->hdrs, buf_str(&b));
		explicit_bzero(b.data, b.len);
		buf_cleanup(&b);
	} else if (c->api == INFLUX_API_V1 && c->username != NULL) {
		curl_easy_setopt(h->curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(h->curl, CURLOPT_USERNAME, c->username);
		curl_easy_setopt(h->curl, CURLOPT_PASSWORD,
		    c->secret != NULL ? c->secret : "");
	}
}

static void
set_options(struct http *h)
{
	const struct shipper_conf	*c = h->c;
	CURL				*e = h->curl;

	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->hdrs);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)c->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->tls_verify ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->tls_verify ? 2L : 0L);
	if (c->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "qosd/" QOSD_VERSION);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
}

struct http *
http_new(const struct shipper_conf *c, const char *name, http_idle_fn idle,
    void *arg)
{
	struct http	*h;
	size_t		 i;

	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->wurls = calloc(c->nurls, sizeof(*h->wurls))) == NULL)
		fatal("sink %s: shipper: %m", name);
	h->c = c;
	h->name = name;
	h->idle = idle;
	h->idle_arg = arg;
	buf_init(&h->resp, RESP_MAX);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (h->curl = curl_easy_init()) == NULL ||
	    (h->multi = curl_multi_init()) == NULL)
		fatal("sink %s: cannot set up libcurl", name);
	for (i = 0; i < c->nurls; i++)
		h->wurls[i] = influx_write_url(c, c->urls[i]);
	h->hdrs = curl_slist_append(h->hdrs,
	    "Content-Type: text/plain; charset=utf-8");
	h->hdrs = curl_slist_append(h->hdrs, "Expect:");
	if (c->gzip)
		h->hdrs = curl_slist_append(h->hdrs,
		    "Content-Encoding: gzip");
	set_auth(h);
	if (h->hdrs == NULL)
		fatal("sink %s: out of memory", name);
	set_options(h);
	return h;
}

void
http_free(struct http *h)
{
	size_t	i;

	if (h == NULL)
		return;
	curl_multi_cleanup(h->multi);
	curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->hdrs);
	for (i = 0; i < h->c->nurls; i++)
		free(h->wurls[i]);
	free(h->wurls);
	buf_cleanup(&h->resp);
	free(h);
}

/*
 * curl_easy_perform(), but through the multi interface, calling idle()
 * while the answer is awaited; CURLE_ABORTED_BY_CALLBACK if it aborts.
 */
static CURLcode
perform(struct http *h)
{
	struct curl_waitfd	 w;
	CURLMsg			*m;
	CURLcode		 cc = CURLE_FAILED_INIT;
	int			 running = 1, left, ms;

	if (curl_multi_add_handle(h->multi, h->curl) != CURLM_OK)
		return curl_easy_perform(h->curl);
	for (;;) {
		if (curl_multi_perform(h->multi, &running) != CURLM_OK ||
		    !running)
			break;
		w.fd = -1;
		ms = h->idle != NULL ? h->idle(h->idle_arg, &w.fd) : IDLE_MS;
		if (ms < 0) {
			cc = CURLE_ABORTED_BY_CALLBACK;
			break;
		}
		w.events = CURL_WAIT_POLLIN;
		w.revents = 0;
		if (curl_multi_poll(h->multi, &w, w.fd != -1 ? 1 : 0,
		    ms < IDLE_MS ? ms : IDLE_MS, NULL) != CURLM_OK)
			break;
	}
	while ((m = curl_multi_info_read(h->multi, &left)) != NULL)
		if (m->msg == CURLMSG_DONE && m->easy_handle == h->curl)
			cc = m->data.result;
	curl_multi_remove_handle(h->multi, h->curl);
	return cc;
}

/* The response body as one line, cut, into a->text. */
static void
answer_text(const struct http *h, struct http_answer *a)
{
	size_t	n = h->resp.len < sizeof(a->text) ? h->resp.len :
		    sizeof(a->text) - 1;
	char	*p;

	memcpy(a->text, buf_str(&h->resp), n);
	a->text[n] = '\0';
	for (p = a->text; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	if (n > TEXT_MAX)
		memcpy(a->text + TEXT_MAX - 3, "...", 4);
}

void
http_post(struct http *h, size_t i, const char *body, size_t len,
    struct http_answer *a)
{
	CURLcode	cc;

	buf_reset(&h->resp);
	h->retry_after = -1;
	h->errbuf[0] = '\0';
	a->status = 0;
	curl_easy_setopt(h->curl, CURLOPT_URL, h->wurls[i]);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)len);
	cc = perform(h);
	a->retry_after = h->retry_after;
	if (cc != CURLE_OK) {
		snprintf(a->text, sizeof(a->text), "%s", h->errbuf[0] ?
		    h->errbuf : curl_easy_strerror(cc));
		return;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &a->status);
	answer_text(h, a);
}
