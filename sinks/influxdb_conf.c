/*
 * influxdb_conf.c: the influxdb sink's settings and where its secret is
 * (see influxdb_conf.h).
 */
#define _GNU_SOURCE

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "lib/log.h"
#include "lib/secret.h"
#include "qosd/cfg.h"
#include "sinks/influxdb_conf.h"
#include "sinks/shipper/shipper.h"
#include "sinks/spoolsink.h"

const char *const influx_conf_settings[] = {
	"url", "api", "database", "retention_policy", "username", "password",
	"password_file", "password_credential", "org", "bucket", "token",
	"token_file", "token_credential", "batch_size", "batch_bytes",
	"flush_interval", "fsync", "gzip", "tls_verify", "ca_file",
	"connect_timeout", "timeout", "backoff_max", "spool_dir", "spool_max",
	"rejected_max", NULL
};

static char *
xstrdup_or_null(const char *s)
{
	char	*p;

	if (s == NULL)
		return NULL;
	if ((p = strdup(s)) == NULL)
		fatal("influxdb: %m");
	return p;
}

void
influx_conf_cleanup(struct shipper_conf *c)
{
	size_t	i;

	for (i = 0; i < c->nurls; i++)
		free(c->urls[i]);
	free(c->urls);
	free(c->database);
	free(c->rp);
	free(c->username);
	free(c->org);
	free(c->bucket);
	free(c->secret_arg);
	secret_free(c->secret);
	free(c->ca_file);
	memset(c, 0, sizeof(*c));
}

void
influx_conf_copy(struct shipper_conf *d, const struct shipper_conf *s)
{
	size_t	i;

	*d = *s;
	if ((d->urls = calloc(s->nurls, sizeof(*d->urls))) == NULL)
		fatal("influxdb: %m");
	for (i = 0; i < s->nurls; i++)
		d->urls[i] = xstrdup_or_null(s->urls[i]);
	d->database = xstrdup_or_null(s->database);
	d->rp = xstrdup_or_null(s->rp);
	d->username = xstrdup_or_null(s->username);
	d->org = xstrdup_or_null(s->org);
	d->bucket = xstrdup_or_null(s->bucket);
	d->secret_arg = xstrdup_or_null(s->secret_arg);
	d->secret = NULL;
	d->ca_file = xstrdup_or_null(s->ca_file);
}

static int
streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Settings. */

static const config_setting_t *
mem(const config_setting_t *s, const char *name)
{
	return config_setting_get_member(s, name);
}

static int
get_str(const config_setting_t *s, const char *name, char **v, char *err,
    size_t errlen)
{
	const char	*p;
	int		 r;

	if ((r = qosd_cfg_string(s, name, 0, &p, err, errlen)) == 1)
		*v = xstrdup_or_null(p);
	return r;
}

static int
get_path(const config_setting_t *s, const char *name, char **v, char *err,
    size_t errlen)
{
	int	r;

	if ((r = get_str(s, name, v, err, errlen)) == 1 && (*v)[0] != '/')
		return qosd_cfg_error(mem(s, name), err, errlen, "\"%s\" is "
		    "not an absolute path", *v);
	return r;
}

/* Settings of the other API are mistakes, said plainly. */
static int
refuse(const config_setting_t *s, const char *const *names, const char *why,
    char *err, size_t errlen)
{
	for (; *names != NULL; names++)
		if (mem(s, *names) != NULL)
			return qosd_cfg_error(mem(s, *names), err, errlen,
			    "%s", why);
	return 0;
}

/*
 * A name InfluxDB knows (database, retention policy, user, org, bucket):
 * no control character, which would travel in a query or a header.
 */
static int
get_name(const config_setting_t *s, const char *name, char **v, char *err,
    size_t errlen)
{
	const unsigned char	*p;
	int			 r;

	if ((r = get_str(s, name, v, err, errlen)) != 1)
		return r;
	for (p = (const unsigned char *)*v; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return qosd_cfg_error(mem(s, name), err, errlen, "a "
			    "control character (0x%02x) at byte %zu: give the "
			    "name as InfluxDB knows it, on one line", *p,
			    (size_t)(p - (const unsigned char *)*v) + 1);
	return 1;
}

/* An inline secret: refused, saying what to do instead. */
static int
refuse_inline(const config_setting_t *s, const char *key, char *err,
    size_t errlen)
{
	return qosd_cfg_error(s, err, errlen, "an inline %s would stay in "
	    "the memory of qosd and of every process it starts: put it in a "
	    "file, root:qosd mode 0640, and give %s_file = "
	    "\"/etc/qosd/influxdb-%s\"; or in /etc/credstore/influxdb-%s "
	    "(root, mode 0600; qosd.service has LoadCredential=influxdb-%s) "
	    "and give %s_credential = \"influxdb-%s\"", key, key, key, key,
	    key, key, key);
}

/* Where the setting of a secret is, for --check-config's messages. */
static void
note_where(const config_setting_t *s, struct influx_conf *ic)
{
	char	where[PATH_MAX + 256];

	qosd_cfg_error(s, where, sizeof(where), "%s", "");
	free(ic->secret_where);
	ic->secret_where = xstrdup_or_null(where);
}

/*
 * The secret: at most one of KEY_file, KEY_credential; KEY itself (inline)
 * is refused.
 */
static int
get_secret(const config_setting_t *s, const char *key,
    struct influx_conf *ic, char *err, size_t errlen)
{
	struct shipper_conf	*c = &ic->sc;
	char			 name[64];
	int			 n = 0;

	if (mem(s, key) != NULL)
		return refuse_inline(mem(s, key), key, err, errlen);
	snprintf(name, sizeof(name), "%s_file", key);
	if (mem(s, name) != NULL) {
		n++;
		if (get_path(s, name, &c->secret_arg, err, errlen) == -1)
			return -1;
		c->secret_src = SECRET_FILE;
		note_where(mem(s, name), ic);
	}
	snprintf(name, sizeof(name), "%s_credential", key);
	if (mem(s, name) != NULL) {
		if (n++ > 0)
			return qosd_cfg_error(mem(s, name), err, errlen, "give "
			    "the %s one way only: %s_file or %s_credential",
			    key, key, key);
		if (get_str(s, name, &c->secret_arg, err, errlen) == -1)
			return -1;
		if (strchr(c->secret_arg, '/') != NULL ||
		    strcmp(c->secret_arg, "..") == 0 ||
		    strcmp(c->secret_arg, ".") == 0)
			return qosd_cfg_error(mem(s, name), err, errlen,
			    "\"%s\" is not a credential name (NAME as in the "
			    "unit's LoadCredential=NAME, the secret in "
			    "/etc/credstore/NAME)", c->secret_arg);
		c->secret_src = SECRET_CRED;
		note_where(mem(s, name), ic);
	}
	c->secret_key = key;
	return 0;
}

void
influx_conf_release(void *state)
{
	struct influx_conf	*ic = state;

	if (ic == NULL)
		return;
	influx_conf_cleanup(&ic->sc);
	free(ic->secret_where);
	free(ic->state_dir);
	free(ic->spool_dir);
	free(ic);
}

/* A URL of the url setting: http(s), no credentials, no query. */
static int
check_url(const config_setting_t *s, const char *url, char *err,
    size_t errlen)
{
	const char	*host;

	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return qosd_cfg_error(mem(s, "url"), err, errlen, "\"%s\" is "
		    "not an http:// or https:// URL", url);
	host = strstr(url, "://") + 3;
	if (memchr(host, '@', strcspn(host, "/")) != NULL)
		return qosd_cfg_error(mem(s, "url"), err, errlen, "a URL with "
		    "credentials in it would be logged: give them as "
		    "username and password_file (api 1) or token_file "
		    "(api 2)");
	if (strchr(url, '?') != NULL)
		return qosd_cfg_error(mem(s, "url"), err, errlen, "\"%s\": "
		    "give the server's base URL without a query: qosd adds "
		    "the write path", url);
	return 0;
}

/* url: one URL or a list of them, tried in order. */
static int
conf_urls(const config_setting_t *s, struct shipper_conf *c, char *err,
    size_t errlen)
{
	const char	**urls = NULL;
	size_t		  i;
	int		  r;

	if ((r = qosd_cfg_strings(s, "url", &urls, &c->nurls, err,
	    errlen)) == -1)
		return -1;
	if (r == 0)
		return qosd_cfg_error(s, err, errlen, "url: missing: give the "
		    "InfluxDB address, e.g. url = \"http://127.0.0.1:8086\" "
		    "(a list fails over in order)");
	if ((c->urls = calloc(c->nurls, sizeof(*c->urls))) == NULL)
		fatal("influxdb: %m");
	for (r = 0, i = 0; i < c->nurls && r == 0; i++) {
		c->urls[i] = xstrdup_or_null(urls[i]);
		r = check_url(s, urls[i], err, errlen);
	}
	free(urls);
	return r;
}

/* api = 1: InfluxDB 1.x, a database, a user and a password. */
static int
conf_v1(const config_setting_t *s, struct influx_conf *ic, char *err,
    size_t errlen)
{
	static const char *const v2only[] = { "org", "bucket", "token",
	    "token_file", "token_credential", NULL };
	struct shipper_conf	*c = &ic->sc;

	if (refuse(s, v2only, "is for api = 2 (InfluxDB 2, 3 and Cloud): "
	    "with api = 1 give database, username and password_file", err,
	    errlen) == -1 ||
	    get_name(s, "database", &c->database, err, errlen) == -1 ||
	    get_name(s, "retention_policy", &c->rp, err, errlen) == -1 ||
	    get_name(s, "username", &c->username, err, errlen) == -1 ||
	    get_secret(s, "password", ic, err, errlen) == -1)
		return -1;
	if (c->database == NULL)
		return qosd_cfg_error(s, err, errlen, "database: missing: "
		    "api = 1 writes to a database, e.g. database = \"qos\"");
	if (c->secret_src != SECRET_NONE && c->username == NULL)
		return qosd_cfg_error(s, err, errlen, "username: missing: a "
		    "password needs the user it belongs to");
	return 0;
}

/* api = 2: InfluxDB 2, 3 or Cloud, an org, a bucket and a token. */
static int
conf_v2(const config_setting_t *s, struct influx_conf *ic, char *err,
    size_t errlen)
{
	static const char *const v1only[] = { "database",
	    "retention_policy", "username", "password", "password_file",
	    "password_credential", NULL };
	struct shipper_conf	*c = &ic->sc;

	if (refuse(s, v1only, "is for api = 1 (InfluxDB 1.x): with api = 2 "
	    "give org, bucket and token_file or token_credential", err,
	    errlen) == -1 ||
	    get_name(s, "org", &c->org, err, errlen) == -1 ||
	    get_name(s, "bucket", &c->bucket, err, errlen) == -1 ||
	    get_secret(s, "token", ic, err, errlen) == -1)
		return -1;
	if (c->org == NULL || c->bucket == NULL)
		return qosd_cfg_error(s, err, errlen, "%s: missing: api = 2 "
		    "writes to a bucket of an organization, e.g. org = "
		    "\"lab\"; bucket = \"qos\";", c->org == NULL ? "org" :
		    "bucket");
	return 0;
}

/* Batches, timeouts, the spool: numbers, sizes and switches. */
static int
conf_numbers(const config_setting_t *s, struct influx_conf *ic, char *err,
    size_t errlen)
{
	struct shipper_conf	*c = &ic->sc;
	long long		 bs = 5000;
	double			 ct = 5, to = 30, bo = 60;

	if (qosd_cfg_int(s, "batch_size", 1, 1000000, &bs, err,
	    errlen) == -1 ||
	    qosd_cfg_size(s, "batch_bytes", 1024, (uint64_t)256 << 20,
	    &c->batch_bytes, err, errlen) == -1 ||
	    qosd_cfg_float(s, "flush_interval", 0, 3600, &ic->flush_interval,
	    err, errlen) == -1 ||
	    qosd_cfg_bool(s, "fsync", &ic->do_fsync, err, errlen) == -1 ||
	    qosd_cfg_bool(s, "gzip", &c->gzip, err, errlen) == -1 ||
	    qosd_cfg_bool(s, "tls_verify", &c->tls_verify, err,
	    errlen) == -1 ||
	    get_path(s, "ca_file", &c->ca_file, err, errlen) == -1 ||
	    qosd_cfg_float(s, "connect_timeout", 0.001, 3600, &ct, err,
	    errlen) == -1 ||
	    qosd_cfg_float(s, "timeout", 0.001, 3600, &to, err,
	    errlen) == -1 ||
	    qosd_cfg_float(s, "backoff_max", 0.5, 86400, &bo, err,
	    errlen) == -1 ||
	    get_path(s, "spool_dir", &ic->spool_dir, err, errlen) == -1 ||
	    qosd_cfg_size(s, "spool_max", 65536, (uint64_t)1 << 40,
	    &ic->spool_max, err, errlen) == -1 ||
	    qosd_cfg_size(s, "rejected_max", 0, (uint64_t)1 << 40,
	    &c->rejected_max, err, errlen) == -1)
		return -1;
	if (to < ct)
		return qosd_cfg_error(mem(s, "timeout"), err, errlen, "%g s is "
		    "shorter than connect_timeout (%g s): the timeout covers "
		    "the whole request", to, ct);
	c->batch_size = (unsigned long)bs;
	c->connect_timeout_ms = (uint64_t)(ct * 1000);
	c->timeout_ms = (uint64_t)(to * 1000);
	c->backoff_max = bo;
	return 0;
}

int
influx_conf_configure(const config_setting_t *s, void **state, char *err,
    size_t errlen)
{
	struct influx_conf	*ic;
	long long		 api = 1;

	if ((ic = calloc(1, sizeof(*ic))) == NULL)
		fatal("influxdb: %m");
	ic->sc.batch_bytes = 4 << 20;
	ic->sc.gzip = 1;
	ic->sc.tls_verify = 1;
	ic->sc.rejected_max = 16 << 20;
	ic->spool_max = 512 << 20;
	ic->flush_interval = 1;
	ic->do_fsync = 1;
	if (conf_urls(s, &ic->sc, err, errlen) == -1 ||
	    qosd_cfg_int(s, "api", 1, 2, &api, err, errlen) == -1)
		goto bad;
	ic->sc.api = (int)api;
	if ((ic->sc.api == INFLUX_API_V1 ? conf_v1(s, ic, err, errlen) :
	    conf_v2(s, ic, err, errlen)) == -1 ||
	    conf_numbers(s, ic, err, errlen) == -1)
		goto bad;
	/* The spool goes under the daemon's state_dir by default. */
	ic->state_dir = spoolsink_state_dir(s);
	*state = ic;
	return 0;
bad:
	influx_conf_release(ic);
	return -1;
}

char *
influx_conf_spool_dir(const struct influx_conf *ic, const char *name)
{
	return spoolsink_dir(ic->spool_dir, ic->state_dir, name);
}

int
influx_conf_same(const void *a, const void *b)
{
	const struct influx_conf	*x = a, *y = b;
	const struct shipper_conf	*p = &x->sc, *q = &y->sc;
	size_t				 i;

	if (p->nurls != q->nurls)
		return 0;
	for (i = 0; i < p->nurls; i++)
		if (strcmp(p->urls[i], q->urls[i]) != 0)
			return 0;
	return p->api == q->api && streq(p->database, q->database) &&
	    streq(p->rp, q->rp) && streq(p->username, q->username) &&
	    streq(p->org, q->org) && streq(p->bucket, q->bucket) &&
	    p->batch_size == q->batch_size &&
	    p->batch_bytes == q->batch_bytes && p->gzip == q->gzip &&
	    p->tls_verify == q->tls_verify && streq(p->ca_file, q->ca_file) &&
	    p->connect_timeout_ms == q->connect_timeout_ms &&
	    p->timeout_ms == q->timeout_ms &&
	    p->rejected_max == q->rejected_max &&
	    p->backoff_max == q->backoff_max &&
	    p->secret_src == q->secret_src &&
	    streq(p->secret_arg, q->secret_arg) &&
	    streq(x->state_dir, y->state_dir) &&
	    streq(x->spool_dir, y->spool_dir) &&
	    x->spool_max == y->spool_max &&
	    x->flush_interval == y->flush_interval &&
	    x->do_fsync == y->do_fsync;
}

/* The secret's setting, as the sink's messages name it. */
static void
secret_setting(const struct shipper_conf *c, char *buf, size_t len)
{
	if (c->secret_src == SECRET_FILE)
		snprintf(buf, len, "%s_file", c->secret_key);
	else
		snprintf(buf, len, "%s_credential \"%s\"", c->secret_key,
		    c->secret_arg);
}

int
influx_conf_secret_ok(const struct influx_conf *ic, const char *name,
    char *err, size_t errlen)
{
	const struct shipper_conf	*c = &ic->sc;
	char				 path[PATH_MAX], why[PATH_MAX + 256];
	char				 what[128];

	if (c->secret_src == SECRET_NONE)
		return 0;
	if (secret_path(c->secret_src, c->secret_arg, path, sizeof(path),
	    why, sizeof(why)) == 0 && secret_check(path, why,
	    sizeof(why)) == 0)
		return 0;
	secret_setting(c, what, sizeof(what));
	snprintf(err, errlen, "sink %s: %s: %s", name, what, why);
	return -1;
}

int
influx_conf_check(const void *state, const char *name, char *err,
    size_t errlen)
{
	const struct influx_conf	*ic = state;
	const struct shipper_conf	*c = &ic->sc;
	char				 path[PATH_MAX], why[PATH_MAX + 256];
	char				*secret;

	(void)name;
	if (c->secret_src == SECRET_NONE)
		return 0;
	if (secret_path(c->secret_src, c->secret_arg, path, sizeof(path),
	    why, sizeof(why)) == 0 && secret_read(path, &secret, why,
	    sizeof(why)) == 0) {
		secret_free(secret);
		return 0;
	}
	snprintf(err, errlen, "%s%s", ic->secret_where, why);
	return -1;
}
