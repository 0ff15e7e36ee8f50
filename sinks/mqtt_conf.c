/*
 * mqtt_conf.c: the mqtt sink's settings and where its secrets are (see
 * mqtt_conf.h).
 */
#define _GNU_SOURCE

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "lib/log.h"
#include "lib/secret.h"
#include "qosd/cfg.h"
#include "sinks/mqtt_conf.h"
#include "sinks/mqtt_topic.h"
#include "sinks/mqttship/mqttship.h"
#include "sinks/spoolsink.h"

#define CLIENT_ID_MAX	64		/* bytes of a client id we make */

const char *const mqtt_conf_settings[] = {
	"host", "port", "topic", "payload", "qos", "retain", "tls",
	"username", "password", "password_file", "password_credential",
	"client_id", "keepalive", "batch_size", "batch_bytes",
	"flush_interval", "fsync", "max_inflight", "connect_timeout",
	"backoff_max", "spool_dir", "spool_max", NULL
};

static const char *const tls_settings[] = {
	"ca_file", "ca_path", "cert_file", "key_file", "verify", NULL
};

static const char *const payloads[] = { "lineprotocol", "json", NULL };

static char *
xstrdup_or_null(const char *s)
{
	char	*p;

	if (s == NULL)
		return NULL;
	if ((p = strdup(s)) == NULL)
		fatal("mqtt: %m");
	return p;
}

static int
streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

void
mqtt_conf_cleanup(struct mqttship_conf *c)
{
	free(c->host);
	free(c->topic);
	free(c->agent);
	free(c->client_id);
	free(c->ca_file);
	free(c->ca_path);
	free(c->cert_file);
	free(c->key_file);
	free(c->username);
	free(c->secret_arg);
	memset(c, 0, sizeof(*c));
}

void
mqtt_conf_copy(struct mqttship_conf *d, const struct mqttship_conf *s,
    const char *name, int client_id_set)
{
	char	id[CLIENT_ID_MAX + 1];

	*d = *s;
	d->host = xstrdup_or_null(s->host);
	d->topic = xstrdup_or_null(s->topic);
	d->agent = xstrdup_or_null(s->agent);
	if (client_id_set)
		d->client_id = xstrdup_or_null(s->client_id);
	else {
		snprintf(id, sizeof(id), "qosd-%s-%s", s->agent, name);
		d->client_id = xstrdup_or_null(id);
	}
	d->ca_file = xstrdup_or_null(s->ca_file);
	d->ca_path = xstrdup_or_null(s->ca_path);
	d->cert_file = xstrdup_or_null(s->cert_file);
	d->key_file = xstrdup_or_null(s->key_file);
	d->username = xstrdup_or_null(s->username);
	d->secret_arg = xstrdup_or_null(s->secret_arg);
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

	if ((r = qosd_cfg_string(s, name, 0, &p, err, errlen)) == 1) {
		free(*v);
		*v = xstrdup_or_null(p);
	}
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

/*
 * A string that travels in an MQTT packet (host, user, client id): no
 * control character, at most max bytes.
 */
static int
get_name(const config_setting_t *s, const char *name, size_t max, char **v,
    char *err, size_t errlen)
{
	const unsigned char	*p;
	int			 r;

	if ((r = get_str(s, name, v, err, errlen)) != 1)
		return r;
	if (strlen(*v) > max)
		return qosd_cfg_error(mem(s, name), err, errlen, "%zu bytes: "
		    "at most %zu", strlen(*v), max);
	for (p = (const unsigned char *)*v; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return qosd_cfg_error(mem(s, name), err, errlen, "a "
			    "control character (0x%02x) at byte %zu", *p,
			    (size_t)(p - (const unsigned char *)*v) + 1);
	return 1;
}

/* Where a setting is, "FILE:LINE: PATH: ", for --check-config. */
static char *
where(const config_setting_t *s)
{
	char	w[PATH_MAX + 256];

	qosd_cfg_error(s, w, sizeof(w), "%s", "");
	return xstrdup_or_null(w);
}

/*
 * The password: at most one of password_file, password_credential; an
 * inline password is refused, saying what to do instead.
 */
static int
get_secret(const config_setting_t *s, struct mqtt_conf *mq, char *err,
    size_t errlen)
{
	struct mqttship_conf	*c = &mq->mc;

	if (mem(s, "password") != NULL)
		return qosd_cfg_error(mem(s, "password"), err, errlen, "an "
		    "inline password would stay in the memory of qosd and of "
		    "every process it starts: put it in a file, root:qosd "
		    "mode 0640, and give password_file = "
		    "\"/etc/qosd/mqtt-password\"; or in "
		    "/etc/credstore/mqtt-password (root, mode 0600; "
		    "qosd.service has LoadCredential=mqtt-password) and give "
		    "password_credential = \"mqtt-password\"");
	if (mem(s, "password_file") != NULL && mem(s,
	    "password_credential") != NULL)
		return qosd_cfg_error(mem(s, "password_credential"), err,
		    errlen, "give the password one way only: password_file "
		    "or password_credential");
	if (mem(s, "password_file") != NULL) {
		if (get_path(s, "password_file", &c->secret_arg, err,
		    errlen) == -1)
			return -1;
		c->secret_src = SECRET_FILE;
		mq->secret_where = where(mem(s, "password_file"));
	} else if (mem(s, "password_credential") != NULL) {
		if (get_str(s, "password_credential", &c->secret_arg, err,
		    errlen) == -1)
			return -1;
		if (strchr(c->secret_arg, '/') != NULL ||
		    strcmp(c->secret_arg, "..") == 0 ||
		    strcmp(c->secret_arg, ".") == 0)
			return qosd_cfg_error(mem(s, "password_credential"),
			    err, errlen, "\"%s\" is not a credential name "
			    "(NAME as in the unit's LoadCredential=NAME, the "
			    "secret in /etc/credstore/NAME)", c->secret_arg);
		c->secret_src = SECRET_CRED;
		mq->secret_where = where(mem(s, "password_credential"));
	}
	if (c->secret_src != SECRET_NONE && c->username == NULL)
		return qosd_cfg_error(s, err, errlen, "username: missing: a "
		    "password needs the user it belongs to");
	return 0;
}

/* tls = { ca_file; ca_path; cert_file; key_file; verify; }; */
static int
get_tls(const config_setting_t *s, struct mqtt_conf *mq, char *err,
    size_t errlen)
{
	struct mqttship_conf	*c = &mq->mc;
	const config_setting_t	*t = mem(s, "tls"), *m;
	const char *const	*k;
	const char		*n;
	int			 i;

	if (t == NULL)
		return 0;
	if (!config_setting_is_group(t))
		return qosd_cfg_error(t, err, errlen, "a group: tls = { "
		    "ca_file = \"/etc/qosd/mqtt-ca.pem\"; };");
	for (i = 0; (m = config_setting_get_elem(t, (unsigned int)i)) != NULL;
	    i++) {
		n = config_setting_name(m);
		for (k = tls_settings; *k != NULL && strcmp(*k, n) != 0; k++)
			;
		if (*k == NULL)
			return qosd_cfg_error(m, err, errlen, "unknown "
			    "setting; tls takes ca_file, ca_path, cert_file, "
			    "key_file and verify");
	}
	c->tls = 1;
	if (get_path(t, "ca_file", &c->ca_file, err, errlen) == -1 ||
	    get_path(t, "ca_path", &c->ca_path, err, errlen) == -1 ||
	    get_path(t, "cert_file", &c->cert_file, err, errlen) == -1 ||
	    get_path(t, "key_file", &c->key_file, err, errlen) == -1 ||
	    qosd_cfg_bool(t, "verify", &c->tls_verify, err, errlen) == -1)
		return -1;
	if ((c->cert_file == NULL) != (c->key_file == NULL))
		return qosd_cfg_error(t, err, errlen, "a client certificate "
		    "needs both cert_file and key_file");
	if (c->key_file != NULL)
		mq->key_where = where(mem(t, "key_file"));
	if (c->ca_file == NULL && c->ca_path == NULL)
		c->ca_path = xstrdup_or_null("/etc/ssl/certs");
	return 0;
}

void
mqtt_conf_release(void *state)
{
	struct mqtt_conf	*mq = state;

	if (mq == NULL)
		return;
	mqtt_conf_cleanup(&mq->mc);
	free(mq->secret_where);
	free(mq->key_where);
	free(mq->state_dir);
	free(mq->spool_dir);
	free(mq);
}

/* The broker, the topic, the messages. */
static int
conf_broker(const config_setting_t *s, struct mqtt_conf *mq, char *err,
    size_t errlen)
{
	struct mqttship_conf	*c = &mq->mc;
	long long		 port = -1, qos = 1, ka = 60;
	const char		*t = MQTT_TOPIC_DEFAULT;
	char			 why[256];

	if (mem(s, "qos") != NULL &&
	    config_setting_type(mem(s, "qos")) == CONFIG_TYPE_INT &&
	    config_setting_get_int(mem(s, "qos")) == 2)
		return qosd_cfg_error(mem(s, "qos"), err, errlen, "QoS 2 is "
		    "not offered: qos = 1 with the spool delivers every point "
		    "at least once (a duplicate is possible), qos = 0 at most "
		    "once");
	if (get_name(s, "host", 255, &c->host, err, errlen) == -1 ||
	    qosd_cfg_int(s, "port", 1, 65535, &port, err, errlen) == -1 ||
	    qosd_cfg_string(s, "topic", 1, &t, err, errlen) == -1 ||
	    qosd_cfg_enum(s, "payload", payloads, &c->payload, err,
	    errlen) == -1 ||
	    qosd_cfg_int(s, "qos", 0, 1, &qos, err, errlen) == -1 ||
	    qosd_cfg_bool(s, "retain", &c->retain, err, errlen) == -1 ||
	    qosd_cfg_int(s, "keepalive", 5, 65535, &ka, err, errlen) == -1 ||
	    get_name(s, "username", 65535, &c->username, err, errlen) == -1 ||
	    get_name(s, "client_id", 65535, &c->client_id, err,
	    errlen) == -1)
		return -1;
	if (mqtt_topic_check(t, why, sizeof(why)) == -1)
		return qosd_cfg_error(mem(s, "topic") != NULL ? mem(s,
		    "topic") : s, err, errlen, "\"%s\": %s", t, why);
	if (c->host == NULL)
		c->host = xstrdup_or_null("localhost");
	c->topic = xstrdup_or_null(t);
	c->qos = (int)qos;
	c->keepalive = (int)ka;
	if (get_tls(s, mq, err, errlen) == -1)
		return -1;
	c->port = port > 0 ? (int)port : c->tls ? 8883 : 1883;
	mq->client_id_set = c->client_id != NULL;
	return get_secret(s, mq, err, errlen);
}

/* Segments, the window, timeouts, the spool. */
static int
conf_numbers(const config_setting_t *s, struct mqtt_conf *mq, char *err,
    size_t errlen)
{
	struct mqttship_conf	*c = &mq->mc;
	long long		 bs = 1000, inflight = 100;
	double			 ct = 10, bo = 60;

	if (qosd_cfg_int(s, "batch_size", 1, 1000000, &bs, err,
	    errlen) == -1 ||
	    qosd_cfg_size(s, "batch_bytes", 1024, (uint64_t)256 << 20,
	    &c->batch_bytes, err, errlen) == -1 ||
	    qosd_cfg_float(s, "flush_interval", 0, 3600, &mq->flush_interval,
	    err, errlen) == -1 ||
	    qosd_cfg_bool(s, "fsync", &mq->do_fsync, err, errlen) == -1 ||
	    qosd_cfg_int(s, "max_inflight", 1, 65535, &inflight, err,
	    errlen) == -1 ||
	    qosd_cfg_float(s, "connect_timeout", 0.1, 3600, &ct, err,
	    errlen) == -1 ||
	    qosd_cfg_float(s, "backoff_max", 0.5, 86400, &bo, err,
	    errlen) == -1 ||
	    get_path(s, "spool_dir", &mq->spool_dir, err, errlen) == -1 ||
	    qosd_cfg_size(s, "spool_max", 65536, (uint64_t)1 << 40,
	    &mq->spool_max, err, errlen) == -1)
		return -1;
	c->batch_size = (unsigned long)bs;
	c->max_inflight = (unsigned int)inflight;
	c->connect_timeout = ct;
	c->backoff_max = bo;
	return 0;
}

int
mqtt_conf_configure(const config_setting_t *s, void **state, char *err,
    size_t errlen)
{
	struct mqtt_conf	*mq;
	const config_setting_t	*d;
	const char		*agent = NULL;
	char			 host[HOST_NAME_MAX + 1];

	if ((mq = calloc(1, sizeof(*mq))) == NULL)
		fatal("mqtt: %m");
	mq->mc.batch_bytes = 1 << 20;
	mq->mc.tls_verify = 1;
	mq->spool_max = 512 << 20;
	mq->flush_interval = 1;
	mq->do_fsync = 1;
	if (conf_broker(s, mq, err, errlen) == -1 ||
	    conf_numbers(s, mq, err, errlen) == -1)
		goto bad;
	/* The spool goes under the daemon's state_dir by default. */
	mq->state_dir = spoolsink_state_dir(s);
	/* {agent}: the agent id as the daemon reads it (config.c). */
	if ((d = config_lookup(s->config, "agent.id")) != NULL &&
	    config_setting_type(d) == CONFIG_TYPE_STRING)
		agent = config_setting_get_string(d);
	if (agent == NULL) {
		if (gethostname(host, sizeof(host)) == -1)
			host[0] = '\0';
		host[sizeof(host) - 1] = '\0';
		agent = host;
	}
	mq->mc.agent = xstrdup_or_null(agent);
	*state = mq;
	return 0;
bad:
	mqtt_conf_release(mq);
	return -1;
}

char *
mqtt_conf_spool_dir(const struct mqtt_conf *mq, const char *name)
{
	return spoolsink_dir(mq->spool_dir, mq->state_dir, name);
}

int
mqtt_conf_same(const void *a, const void *b)
{
	const struct mqtt_conf		*x = a, *y = b;
	const struct mqttship_conf	*p = &x->mc, *q = &y->mc;

	return streq(p->host, q->host) && p->port == q->port &&
	    streq(p->topic, q->topic) && streq(p->agent, q->agent) &&
	    streq(p->client_id, q->client_id) && p->payload == q->payload &&
	    p->qos == q->qos && p->retain == q->retain &&
	    p->keepalive == q->keepalive && p->tls == q->tls &&
	    streq(p->ca_file, q->ca_file) && streq(p->ca_path, q->ca_path) &&
	    streq(p->cert_file, q->cert_file) &&
	    streq(p->key_file, q->key_file) &&
	    p->tls_verify == q->tls_verify &&
	    streq(p->username, q->username) &&
	    p->secret_src == q->secret_src &&
	    streq(p->secret_arg, q->secret_arg) &&
	    p->batch_size == q->batch_size &&
	    p->batch_bytes == q->batch_bytes &&
	    p->max_inflight == q->max_inflight &&
	    p->connect_timeout == q->connect_timeout &&
	    p->backoff_max == q->backoff_max &&
	    streq(x->state_dir, y->state_dir) &&
	    streq(x->spool_dir, y->spool_dir) &&
	    x->spool_max == y->spool_max &&
	    x->flush_interval == y->flush_interval &&
	    x->do_fsync == y->do_fsync;
}

/* The password's setting, as the sink's messages name it. */
static void
secret_setting(const struct mqttship_conf *c, char *buf, size_t len)
{
	if (c->secret_src == SECRET_FILE)
		snprintf(buf, len, "password_file");
	else
		snprintf(buf, len, "password_credential \"%s\"",
		    c->secret_arg);
}

int
mqtt_conf_secret_ok(const struct mqtt_conf *mq, const char *name,
    char *err, size_t errlen)
{
	const struct mqttship_conf	*c = &mq->mc;
	char				 path[PATH_MAX], why[PATH_MAX + 256];
	char				 what[128];

	if (c->key_file != NULL && secret_check(c->key_file, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "sink %s: tls.key_file: %s", name, why);
		return -1;
	}
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
mqtt_conf_check(const void *state, const char *name, char *err,
    size_t errlen)
{
	const struct mqtt_conf		*mq = state;
	const struct mqttship_conf	*c = &mq->mc;
	char				 path[PATH_MAX], why[PATH_MAX + 256];
	char				*secret;

	(void)name;
	if (c->key_file != NULL && secret_check(c->key_file, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "%s%s", mq->key_where, why);
		return -1;
	}
	if (c->secret_src == SECRET_NONE)
		return 0;
	if (secret_path(c->secret_src, c->secret_arg, path, sizeof(path),
	    why, sizeof(why)) == 0 && secret_read(path, &secret, why,
	    sizeof(why)) == 0) {
		secret_free(secret);
		return 0;
	}
	snprintf(err, errlen, "%s%s", mq->secret_where, why);
	return -1;
}
