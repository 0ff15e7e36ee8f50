/*
 * cfgnats.c: the configuration's nats { } group (docs/nats.md): the
 * bus's servers, credentials (files or systemd credentials, read by the
 * bus process only), TLS, subjects and bucket, and its limits; and the
 * agent id, which must be a subject token when the bus is on.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "bus/bus.h"
#include "lib/natsname.h"
#include "lib/secret.h"
#include "qosd/cfg.h"
#include "scheduler/cfgcheck.h"
#include "scheduler/config.h"

#define DAY		86400.0

static const char *const nats_settings[] = {
	"servers", "creds_file", "creds_credential", "nkey", "nkey_file",
	"nkey_credential", "user", "password_file", "password_credential",
	"token_file", "token_credential", "tls", "subject_prefix",
	"heartbeat_interval", "kv_bucket", "kv_ttl", "max_request",
	"max_per_minute", "reconnect_min", "reconnect_max", "points",
	"points_stream", NULL
};
static const char *const tls_settings[] = {
	"ca_file", "cert_file", "key_file", "key_credential", "verify",
	"server_name", NULL
};

static const config_setting_t *
mem(const config_setting_t *g, const char *name)
{
	return g != NULL ? config_setting_get_member(g, name) : NULL;
}

static int
get_str(const config_setting_t *g, const char *name, char **v, char *err,
    size_t errlen)
{
	const char	*s;
	int		 r;

	if ((r = qosd_cfg_string(g, name, 0, &s, err, errlen)) == 1)
		*v = cfgc_strdup(s);
	return r;
}

static int
get_path(const config_setting_t *g, const char *name, char **v, char *err,
    size_t errlen)
{
	int	r;

	if ((r = get_str(g, name, v, err, errlen)) == 1 && (*v)[0] != '/')
		return qosd_cfg_error(mem(g, name), err, errlen, "\"%s\" is "
		    "not an absolute path", *v);
	return r;
}

/*
 * The daemon never reads a secret: it checks that the bus will find it
 * (lib/secret.h: a regular file, not empty, others cannot read it).
 * 1, or -1 with FILE:LINE of the setting.
 */
static int
check_secret(const config_setting_t *g, const char *key, const char *how,
    const struct bus_secret *sec, char *err, size_t errlen)
{
	char	name[64], path[PATH_MAX], why[PATH_MAX + 256];

	snprintf(name, sizeof(name), "%s%s", key, how);
	if (secret_path(sec->src, sec->arg, path, sizeof(path), why,
	    sizeof(why)) == -1 || secret_check(path, why, sizeof(why)) == -1)
		return qosd_cfg_error(mem(g, name), err, errlen, "%s", why);
	return 1;
}

/* KEY_file or KEY_credential, not both: 1 given, 0 not, -1 wrong. */
static int
get_secret(const config_setting_t *g, const char *key,
    struct bus_secret *sec, char *err, size_t errlen)
{
	char	name[64];
	int	r;

	snprintf(name, sizeof(name), "%s_file", key);
	if ((r = get_path(g, name, &sec->arg, err, errlen)) == -1)
		return -1;
	if (r == 1)
		sec->src = SECRET_FILE;
	snprintf(name, sizeof(name), "%s_credential", key);
	if (mem(g, name) == NULL)
		return r == 1 ? check_secret(g, key, "_file", sec, err,
		    errlen) : r;
	if (r == 1)
		return qosd_cfg_error(mem(g, name), err, errlen, "give the %s "
		    "one way only: %s_file or %s_credential", key, key, key);
	if (get_str(g, name, &sec->arg, err, errlen) == -1)
		return -1;
	if (strchr(sec->arg, '/') != NULL || strcmp(sec->arg, "..") == 0 ||
	    strcmp(sec->arg, ".") == 0)
		return qosd_cfg_error(mem(g, name), err, errlen, "\"%s\" is "
		    "not a credential name (as in LoadCredential=NAME:/path)",
		    sec->arg);
	sec->src = SECRET_CRED;
	return check_secret(g, key, "_credential", sec, err, errlen);
}

/* nats:// or tls:// URLs, no credentials in them (they would be logged). */
static int
get_servers(const config_setting_t *g, struct bus_conf *c, char *err,
    size_t errlen)
{
	const char	**list;
	const char	 *h;
	size_t		  i, n;
	int		  r;

	if ((r = qosd_cfg_strings(g, "servers", &list, &n, err,
	    errlen)) != 1)
		return r == 0 ? qosd_cfg_error(g, err, errlen, "missing "
		    "setting \"servers\": e.g. servers = [ "
		    "\"nats://127.0.0.1:4222\" ];") : -1;
	c->servers = cfgc_calloc(n + 1, sizeof(char *));
	for (i = 0; i < n; i++) {
		h = strncmp(list[i], "nats://", 7) == 0 ? list[i] + 7 :
		    strncmp(list[i], "tls://", 6) == 0 ? list[i] + 6 : NULL;
		if (h != NULL && strchr(h, '@') != NULL) {
			/* Never quoted: it would log the secret. */
			r = qosd_cfg_error(mem(g, "servers"), err, errlen,
			    "server %zu holds credentials (USER:PASSWORD@): "
			    "give them as creds_file, nkey_file, "
			    "password_file or token_file", i + 1);
			free(list);
			return r;
		}
		if (h == NULL || *h == '\0' || strpbrk(h, "/ ") != NULL) {
			r = qosd_cfg_error(mem(g, "servers"), err, errlen,
			    "\"%s\": expected nats://HOST:PORT or "
			    "tls://HOST:PORT", list[i]);
			free(list);
			return r;
		}
		c->servers[i] = cfgc_strdup(list[i]);
		if (h == list[i] + 6)
			c->tls = 1;
	}
	c->nservers = n;
	free(list);
	return 1;
}

/* At most one way to authenticate, each complete. */
static int
get_auth(const config_setting_t *g, struct bus_conf *c, char *err,
    size_t errlen)
{
	static const char *const inline_secrets[] = { "password", "token",
	    NULL };
	const char *const	*p;
	int			 n = 0, r;

	for (p = inline_secrets; *p != NULL; p++)
		if (mem(g, *p) != NULL)
			return qosd_cfg_error(mem(g, *p), err, errlen, "a "
			    "secret is never written here: give %s_file (mode "
			    "0640, root:qosd) or %s_credential", *p, *p);
	if ((r = get_secret(g, "creds", &c->creds, err, errlen)) == -1)
		return -1;
	n += r;
	if ((r = get_secret(g, "nkey", &c->nkey_seed, err, errlen)) == -1 ||
	    get_str(g, "nkey", &c->nkey, err, errlen) == -1)
		return -1;
	n += r;
	if ((r != 0) != (c->nkey != NULL))
		return qosd_cfg_error(g, err, errlen, "nkey (the public key, "
		    "U...) and nkey_file (its seed) go together");
	if ((r = get_secret(g, "password", &c->password, err, errlen)) == -1 ||
	    get_str(g, "user", &c->user, err, errlen) == -1)
		return -1;
	n += r;
	if ((r != 0) != (c->user != NULL))
		return qosd_cfg_error(g, err, errlen, "user and password_file "
		    "go together");
	if ((r = get_secret(g, "token", &c->token, err, errlen)) == -1)
		return -1;
	if (n + r > 1)
		return qosd_cfg_error(g, err, errlen, "give one way to "
		    "authenticate: creds_file, nkey with nkey_file, user with "
		    "password_file, or token_file");
	return 0;
}

static int
get_tls(const config_setting_t *g, struct bus_conf *c, char *err,
    size_t errlen)
{
	const config_setting_t	*t;
	int			 r;

	c->tls_verify = 1;
	if ((r = cfgc_group(g, "tls", "ca_file = \"...\"; verify = true;", &t,
	    err, errlen)) != 1)
		return r;
	c->tls = 1;
	if (cfgc_known(t, "nats.tls", tls_settings, NULL, NULL, err,
	    errlen) == -1 ||
	    get_path(t, "ca_file", &c->ca_file, err, errlen) == -1 ||
	    get_path(t, "cert_file", &c->cert_file, err, errlen) == -1 ||
	    (r = get_secret(t, "key", &c->key, err, errlen)) == -1 ||
	    get_str(t, "server_name", &c->server_name, err, errlen) == -1 ||
	    qosd_cfg_bool(t, "verify", &c->tls_verify, err, errlen) == -1)
		return -1;
	if ((r != 0) != (c->cert_file != NULL))
		return qosd_cfg_error(t, err, errlen, "cert_file and key_file "
		    "(or key_credential) go together");
	return 0;
}

/* A string setting that must pass check(); default def. */
static int
get_name(const config_setting_t *g, const char *name, const char *def,
    int (*check)(const char *, char *, size_t), char **v, char *err,
    size_t errlen)
{
	char	why[256];

	if (get_str(g, name, v, err, errlen) == -1)
		return -1;
	if (*v == NULL)
		*v = cfgc_strdup(def);
	if (check(*v, why, sizeof(why)) == -1)
		return qosd_cfg_error(mem(g, name), err, errlen, "%s", why);
	return 0;
}

static int
get_limits(const config_setting_t *g, struct bus_conf *c, char *err,
    size_t errlen)
{
	long long	perm = 600;
	uint64_t	maxreq = 65536;
	double		hb = 10, ttl = DAY, rmin = 0.5, rmax = 10;

	if (qosd_cfg_float(g, "heartbeat_interval", 1, 3600, &hb, err,
	    errlen) == -1 ||
	    qosd_cfg_float(g, "kv_ttl", 60, 365 * DAY, &ttl, err,
	    errlen) == -1 ||
	    qosd_cfg_size(g, "max_request", 256, 1 << 20, &maxreq, err,
	    errlen) == -1 ||
	    qosd_cfg_int(g, "max_per_minute", 1, 100000, &perm, err,
	    errlen) == -1 ||
	    qosd_cfg_float(g, "reconnect_min", 0.1, 60, &rmin, err,
	    errlen) == -1 ||
	    qosd_cfg_float(g, "reconnect_max", 0.1, 3600, &rmax, err,
	    errlen) == -1)
		return -1;
	if (rmax < rmin)
		return qosd_cfg_error(mem(g, "reconnect_max"), err, errlen,
		    "%g s is less than reconnect_min (%g s)", rmax, rmin);
	c->heartbeat_s = hb;
	c->kv_ttl_s = ttl;
	c->max_request = (uint32_t)maxreq;
	c->max_per_minute = (unsigned int)perm;
	c->reconnect_min_s = rmin;
	c->reconnect_max_s = rmax;
	return 0;
}

/* points = true publishes every point; points_stream keeps them. */
static int
get_points(const config_setting_t *g, struct bus_conf *c, char *err,
    size_t errlen)
{
	char	why[256];

	if (qosd_cfg_bool(g, "points", &c->points, err, errlen) == -1 ||
	    get_str(g, "points_stream", &c->points_stream, err,
	    errlen) == -1)
		return -1;
	if (c->points_stream == NULL)
		return 0;
	if (natsname_bucket_ok(c->points_stream, why, sizeof(why)) == -1)
		return qosd_cfg_error(mem(g, "points_stream"), err, errlen,
		    "%s", why);
	if (!c->points)
		return qosd_cfg_error(mem(g, "points_stream"), err, errlen,
		    "a stream of points needs points = true");
	return 0;
}

/* The agent id names subjects and keys: a token, or an error here. */
static int
check_agent(const struct cfg *cfg, const config_setting_t *root,
    const config_setting_t *g, char *err, size_t errlen)
{
	const config_setting_t	*a = mem(root, "agent");
	char			 why[256];

	if (natsname_agent_ok(cfg->agent_id, why, sizeof(why)) == 0)
		return 0;
	if (mem(a, "id") != NULL)
		return qosd_cfg_error(mem(a, "id"), err, errlen, "%s (nats { } "
		    "is on)", why);
	return qosd_cfg_error(g, err, errlen, "%s: the id is the host name; "
	    "set agent.id", why);
}

int
cfg_load_nats(struct cfg *cfg, const config_setting_t *root, char *err,
    size_t errlen)
{
	const config_setting_t	*g;
	struct bus_conf		*c;
	int			 r;

	if ((r = cfgc_group(root, "nats", "servers = [ \"nats://HOST:4222\" "
	    "];", &g, err, errlen)) != 1)
		return r;
	c = cfg->nats = cfgc_calloc(1, sizeof(*c));
	if (get_auth(g, c, err, errlen) == -1 ||
	    cfgc_known(g, "nats", nats_settings, NULL, NULL, err,
	    errlen) == -1 ||
	    get_servers(g, c, err, errlen) == -1 ||
	    get_tls(g, c, err, errlen) == -1 ||
	    get_name(g, "subject_prefix", "qosd", natsname_prefix_ok,
	    &c->prefix, err, errlen) == -1 ||
	    get_name(g, "kv_bucket", "qosd_results", natsname_bucket_ok,
	    &c->bucket, err, errlen) == -1 ||
	    get_limits(g, c, err, errlen) == -1 ||
	    check_agent(cfg, root, g, err, errlen) == -1 ||
	    get_points(g, c, err, errlen) == -1)
		return -1;
	c->agent = cfgc_strdup(cfg->agent_id);
	return 0;
}

static void
bsecret_free(struct bus_secret *s)
{
	free(s->arg);
	s->arg = NULL;
}

void
cfg_nats_free(struct bus_conf *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nservers; i++)
		free(c->servers[i]);
	free(c->servers);
	free(c->agent);
	free(c->prefix);
	bsecret_free(&c->creds);
	free(c->nkey);
	bsecret_free(&c->nkey_seed);
	free(c->user);
	bsecret_free(&c->password);
	bsecret_free(&c->token);
	free(c->ca_file);
	free(c->cert_file);
	bsecret_free(&c->key);
	free(c->server_name);
	free(c->bucket);
	free(c->points_stream);
	free(c);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? cfgc_strdup(s) : NULL;
}

static void
secret_copy(struct bus_secret *to, const struct bus_secret *from)
{
	to->src = from->src;
	to->arg = dup_or_null(from->arg);
}

struct bus_conf *
cfg_nats_copy(const struct bus_conf *c)
{
	struct bus_conf	*d = cfgc_calloc(1, sizeof(*d));
	size_t		 i;

	*d = *c;
	d->servers = cfgc_calloc(c->nservers + 1, sizeof(char *));
	for (i = 0; i < c->nservers; i++)
		d->servers[i] = cfgc_strdup(c->servers[i]);
	d->agent = dup_or_null(c->agent);
	d->prefix = dup_or_null(c->prefix);
	secret_copy(&d->creds, &c->creds);
	d->nkey = dup_or_null(c->nkey);
	secret_copy(&d->nkey_seed, &c->nkey_seed);
	d->user = dup_or_null(c->user);
	secret_copy(&d->password, &c->password);
	secret_copy(&d->token, &c->token);
	d->ca_file = dup_or_null(c->ca_file);
	d->cert_file = dup_or_null(c->cert_file);
	secret_copy(&d->key, &c->key);
	d->server_name = dup_or_null(c->server_name);
	d->bucket = dup_or_null(c->bucket);
	d->points_stream = dup_or_null(c->points_stream);
	return d;
}

static int
same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int
same_secret(const struct bus_secret *a, const struct bus_secret *b)
{
	return a->src == b->src && same(a->arg, b->arg);
}

int
cfg_nats_equal(const struct bus_conf *a, const struct bus_conf *b)
{
	size_t	i;

	if (a == NULL || b == NULL)
		return a == b;
	if (a->nservers != b->nservers)
		return 0;
	for (i = 0; i < a->nservers; i++)
		if (!same(a->servers[i], b->servers[i]))
			return 0;
	return same(a->agent, b->agent) && same(a->prefix, b->prefix) &&
	    same_secret(&a->creds, &b->creds) && same(a->nkey, b->nkey) &&
	    same_secret(&a->nkey_seed, &b->nkey_seed) &&
	    same(a->user, b->user) && same_secret(&a->password,
	    &b->password) && same_secret(&a->token, &b->token) &&
	    a->tls == b->tls && same(a->ca_file, b->ca_file) &&
	    same(a->cert_file, b->cert_file) && same_secret(&a->key, &b->key) &&
	    same(a->server_name, b->server_name) &&
	    a->tls_verify == b->tls_verify && same(a->bucket, b->bucket) &&
	    a->kv_ttl_s == b->kv_ttl_s && a->max_request == b->max_request &&
	    a->reconnect_min_s == b->reconnect_min_s &&
	    a->reconnect_max_s == b->reconnect_max_s &&
	    a->points == b->points && same(a->points_stream,
	    b->points_stream);
}

/* Read one secret as the bus will, and wipe it. */
static int
read_one(const struct bus_secret *sec, const char *what, char *err,
    size_t errlen)
{
	char	path[PATH_MAX], why[PATH_MAX + 256], *v;

	if (sec->src == SECRET_NONE)
		return 0;
	if (secret_path(sec->src, sec->arg, path, sizeof(path), why,
	    sizeof(why)) == 0 && secret_read(path, &v, why,
	    sizeof(why)) == 0) {
		secret_free(v);
		return 0;
	}
	snprintf(err, errlen, "nats.%s: %s", what, why);
	return -1;
}

int
cfg_nats_check(const struct bus_conf *c, char *err, size_t errlen)
{
	if (c == NULL)
		return 0;
	return read_one(&c->password, "password", err, errlen) == -1 ||
	    read_one(&c->token, "token", err, errlen) == -1 ? -1 : 0;
}
