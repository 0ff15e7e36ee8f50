/*
 * conf.c: the http collector's settings and the rules they make.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "collectors/http/conf.h"
#include "collectors/probe/strv.h"
#include "qosd/cfg.h"

#define DEFAULT_UPLOAD_BYTES	102400
#define DEFAULT_TIMEOUT		10.0
#define DEFAULT_REDIRECTS	5
#define DEFAULT_MAX_BYTES	(1024ULL * 1024 * 1024)
#define DEFAULT_LOW_SPEED_TIME	10

static const char *const url_settings[HTTP_NKINDS] = {
	"url", "download_url", "upload_url"
};
static const char *const get_methods[] = { "GET", "HEAD", NULL };
static const char *const upload_methods[] = { "POST", "PUT", NULL };
static const char *const families[] = { "any", "ipv4", "ipv6", NULL };

/*
 * Check an http or https URL with curl's own parser (no I/O) and keep it,
 * its host for the target tag, and a copy without credentials for the url
 * tag.
 */
static int
parse_url(struct http_conf *st, int k, const config_setting_t *job,
    char *err, size_t errlen)
{
	const config_setting_t	*s;
	const char		*str;
	CURLU			*u;
	CURLUcode		 uc;
	char			*scheme = NULL, *host = NULL, *tag = NULL;
	size_t			 n;
	int			 r;

	if ((r = qosd_cfg_string(job, url_settings[k], 0, &str, err,
	    errlen)) != 1)
		return r;
	s = config_setting_get_member(job, url_settings[k]);
	/* The URL is the value of the tag url. */
	if (qosd_cfg_tag(s, NULL, str, err, errlen) == -1)
		return -1;
	if ((u = curl_url()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((uc = curl_url_set(u, CURLUPART_URL, str, 0)) != CURLUE_OK) {
		curl_url_cleanup(u);
		return qosd_cfg_error(s, err, errlen, "\"%s\" is not a URL: %s",
		    str, curl_url_strerror(uc));
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
		curl_free(scheme);
		curl_url_cleanup(u);
		return qosd_cfg_error(s, err, errlen, "\"%s\": only http:// "
		    "and https:// URLs are measured", str);
	}
	curl_free(scheme);
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    *host == '\0') {
		curl_free(host);
		curl_url_cleanup(u);
		return qosd_cfg_error(s, err, errlen, "\"%s\" has no host",
		    str);
	}
	curl_url_set(u, CURLUPART_USER, NULL, 0);
	curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
	if (curl_url_get(u, CURLUPART_URL, &tag, 0) != CURLUE_OK)
		tag = NULL;
	curl_url_cleanup(u);
	/* The tag names an IPv6 address without its brackets. */
	n = strlen(host);
	if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	st->url[k] = strdup(str);
	st->host[k] = strdup(host);
	st->url_tag[k] = strdup(tag != NULL ? tag : str);
	curl_free(host);
	curl_free(tag);
	if (st->url[k] == NULL || st->host[k] == NULL ||
	    st->url_tag[k] == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 1;
}

/* "Name: value", "Name:" (drop curl's own) or "Name;" (send it empty). */
static int
header_ok(const char *h)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~0123456789"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	size_t	n;

	n = strspn(h, tchar);
	if (n == 0 || (h[n] != ':' && h[n] != ';'))
		return 0;
	if (h[n] == ';' && h[n + 1] != '\0')
		return 0;
	return strpbrk(h, "\r\n") == NULL;
}

static int
parse_headers(struct http_conf *st, const config_setting_t *job, char *err,
    size_t errlen)
{
	const char	**l = NULL;
	size_t		  n = 0, i;
	int		  r;

	if ((r = qosd_cfg_strings(job, "headers", &l, &n, err, errlen)) != 1)
		return r;
	for (i = 0; i < n; i++)
		if (!header_ok(l[i])) {
			qosd_cfg_error(config_setting_get_member(job,
			    "headers"), err, errlen, "\"%s\" is not a header "
			    "line \"Name: value\"", l[i]);
			free(l);
			return -1;
		}
	st->headers = strv_dup(l, n);
	free(l);
	if (st->headers == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 1;
}

/* One element of expect_status: 204, "204" or "200-299". */
static int
parse_status_elem(struct http_conf *st, const config_setting_t *e,
    char *err, size_t errlen)
{
	const char	*str;
	char		*end;
	long		 lo, hi;

	if (st->nexpect == HTTP_MAX_STATUS_RANGES)
		return qosd_cfg_error(e, err, errlen, "at most %d entries",
		    HTTP_MAX_STATUS_RANGES);
	if (config_setting_type(e) == CONFIG_TYPE_INT) {
		lo = hi = config_setting_get_int(e);
	} else if (config_setting_type(e) == CONFIG_TYPE_STRING) {
		str = config_setting_get_string(e);
		errno = 0;
		lo = hi = strtol(str, &end, 10);
		if (end != str && *end == '-') {
			str = end + 1;
			hi = strtol(str, &end, 10);
		}
		if (errno != 0 || end == str || *end != '\0')
			return qosd_cfg_error(e, err, errlen, "\"%s\" is not "
			    "a status code or a range such as \"200-299\"",
			    config_setting_get_string(e));
	} else
		return qosd_cfg_error(e, err, errlen, "expected a status "
		    "code or a range such as \"200-299\"");
	if (lo < 100 || hi > 599 || lo > hi)
		return qosd_cfg_error(e, err, errlen, "status codes are 100 "
		    "to 599, a range low to high");
	st->expect[st->nexpect].lo = (int)lo;
	st->expect[st->nexpect].hi = (int)hi;
	st->nexpect++;
	return 0;
}

static int
parse_expect(struct http_conf *st, const config_setting_t *job, char *err,
    size_t errlen)
{
	const config_setting_t	*s;
	int			 i, n;

	if ((s = config_setting_get_member(job, "expect_status")) == NULL)
		return 0;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
		if ((n = config_setting_length(s)) == 0)
			return qosd_cfg_error(s, err, errlen, "expected a "
			    "status code, a range or a non-empty list of them");
		for (i = 0; i < n; i++)
			if (parse_status_elem(st, config_setting_get_elem(s,
			    (unsigned int)i), err, errlen) == -1)
				return -1;
		return 1;
	default:
		return parse_status_elem(st, s, err, errlen) == -1 ? -1 : 1;
	}
}

static int
copy_string(const config_setting_t *job, const char *name, int absolute,
    char **dst, char *err, size_t errlen)
{
	const char	*str;
	int		 r;

	if ((r = qosd_cfg_string(job, name, 0, &str, err, errlen)) != 1)
		return r;
	if (absolute && str[0] != '/')
		return qosd_cfg_error(config_setting_get_member(job, name), err,
		    errlen, "\"%s\" is not an absolute path", str);
	if ((*dst = strdup(str)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 1;
}

/* url, download_url and upload_url: at least one. */
static int
parse_urls(struct http_conf *st, const config_setting_t *job, char *err,
    size_t errlen)
{
	int	k, any = 0, r;

	for (k = 0; k < HTTP_NKINDS; k++) {
		if ((r = parse_url(st, k, job, err, errlen)) == -1)
			return -1;
		any |= r;
	}
	if (!any)
		return qosd_cfg_error(job, err, errlen, "url, download_url or "
		    "upload_url: give at least one, e.g. url = "
		    "\"https://www.example/\"");
	return 0;
}

/* The settings given as long integers into the conf's longs. */
static int
parse_longs(struct http_conf *st, const config_setting_t *job, char *err,
    size_t errlen)
{
	long long	ll;

	ll = st->max_redirects;
	if (qosd_cfg_int(job, "max_redirects", 0, 50, &ll, err, errlen) == -1)
		return -1;
	st->max_redirects = (long)ll;
	ll = 0;
	if (qosd_cfg_int(job, "low_speed_limit", 0, 1LL << 40, &ll, err,
	    errlen) == -1)
		return -1;
	st->low_speed_limit = (long)ll;
	ll = st->low_speed_time;
	if (qosd_cfg_int(job, "low_speed_time", 1, 86400, &ll, err,
	    errlen) == -1)
		return -1;
	st->low_speed_time = (long)ll;
	return 0;
}

/*
 * A request_timeout given must fit within the run's timeout (the default
 * one is cut to what the run has left).
 */
static int
fits(const struct http_conf *st, const config_setting_t *job, char *err,
    size_t errlen)
{
	const config_setting_t	*s = config_setting_get_member(job,
				    "request_timeout");
	uint64_t		 run = qosd_cfg_run_timeout_us(job);

	if (run == 0 || s == NULL || st->timeout * 1e6 <= (double)run)
		return 0;
	return qosd_cfg_error(s, err, errlen, "request_timeout (%g s) is "
	    "longer than the run's timeout of %g s (its own, or "
	    "defaults.timeout): a request could never take it", st->timeout,
	    (double)run / 1e6);
}

struct http_conf *
http_conf_new(const config_setting_t *job, char *err, size_t errlen)
{
	struct http_conf	*st;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->upload_bytes = DEFAULT_UPLOAD_BYTES;
	st->timeout = DEFAULT_TIMEOUT;
	st->max_redirects = DEFAULT_REDIRECTS;
	st->tls_verify = 1;
	st->max_bytes = DEFAULT_MAX_BYTES;
	st->dscp = -1;
	st->low_speed_time = DEFAULT_LOW_SPEED_TIME;
	if (parse_urls(st, job, err, errlen) == -1 ||
	    qosd_cfg_size(job, "upload_bytes", 0, 1ULL << 40,
	    &st->upload_bytes, err, errlen) == -1 ||
	    qosd_cfg_enum(job, "method", get_methods, &st->get_method, err,
	    errlen) == -1 ||
	    qosd_cfg_enum(job, "upload_method", upload_methods,
	    &st->upload_method, err, errlen) == -1 ||
	    parse_headers(st, job, err, errlen) == -1 ||
	    qosd_cfg_float(job, "request_timeout", 0.001, 86400, &st->timeout,
	    err, errlen) == -1 ||
	    parse_expect(st, job, err, errlen) == -1 ||
	    copy_string(job, "ca_file", 1, &st->ca_file, err, errlen) == -1 ||
	    qosd_cfg_bool(job, "tls_verify", &st->tls_verify, err,
	    errlen) == -1 ||
	    qosd_cfg_size(job, "max_bytes", 1, 1ULL << 50, &st->max_bytes,
	    err, errlen) == -1 ||
	    copy_string(job, "proxy", 0, &st->proxy, err, errlen) == -1 ||
	    qosd_cfg_enum(job, "family", families, &st->family, err,
	    errlen) == -1 ||
	    qosd_cfg_dscp(job, "dscp", &st->dscp, err, errlen) == -1 ||
	    parse_longs(st, job, err, errlen) == -1 ||
	    fits(st, job, err, errlen) == -1) {
		http_conf_free(st);
		return NULL;
	}
	return st;
}

void
http_conf_free(void *state)
{
	struct http_conf	*c = state;
	int			 k;

	if (c == NULL)
		return;
	for (k = 0; k < HTTP_NKINDS; k++) {
		free(c->url[k]);
		free(c->url_tag[k]);
		free(c->host[k]);
	}
	strv_free(c->headers);
	free(c->ca_file);
	free(c->proxy);
	free(c);
}

const char *
http_method(const struct http_conf *st, enum http_kind kind)
{
	if (kind == HTTP_UPLOAD)
		return upload_methods[st->upload_method];
	if (kind == HTTP_GET)
		return get_methods[st->get_method];
	return "GET";
}

int
http_status_expected(const struct http_conf *st, enum http_kind kind,
    long status)
{
	size_t	i;

	if (st->nexpect == 0)
		return status >= 200 &&
		    status <= (kind == HTTP_GET ? 399 : 299);
	for (i = 0; i < st->nexpect; i++)
		if (status >= st->expect[i].lo && status <= st->expect[i].hi)
			return 1;
	return 0;
}

