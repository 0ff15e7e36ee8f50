/*
 * influxdb.c: the influxdb sink in the parent: settings, the spool it
 * appends to, the flush timer, and the shipper it supervises (restarted
 * with backoff when it dies) and whose figures it reads from a pipe.
 *
 * Secrets (password_file, token_file, a systemd credential) are read at
 * start(), not at configure(): configure() does no I/O, and a credential
 * exists only in the service's environment, where start() runs; a missing
 * or empty secret file fails the start or the reload just the same.  The
 * one look at the disk configure() makes is stat(2) of the config file,
 * to refuse an inline secret that everybody can read.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libconfig.h>
#include <systemd/sd-event.h>

#include "lib/log.h"
#include "lib/super.h"
#include "lib/lp.h"
#include "qosd/cfg.h"
#include "sinks/influxdb.h"
#include "sinks/shipper/shipper.h"
#include "sinks/shipstart.h"
#include "sinks/sink.h"
#include "sinks/spool.h"
#include "sinks/writer.h"

#define SECRET_MAX	4096
#define RESTART_MIN	1.0		/* s, the shipper's restart backoff */
#define RESTART_MAX	60.0
#define STABLE_US	60000000	/* a shipper up this long was fine */

enum secret_src { SECRET_NONE, SECRET_INLINE, SECRET_FILE, SECRET_CRED };

struct influx_conf {
	struct shipper_conf sc;		/* sc.secret unset: read at start */
	enum secret_src	 src;
	char		*secret_arg;	/* the value, path or credential */
	const char	*secret_key;	/* "token" or "password", for logs */
	char		*state_dir;
	char		*spool_dir;	/* or NULL: STATE_DIR/spool/NAME */
	uint64_t	 spool_max;
	double		 flush_interval;
	int		 do_fsync;
};

struct influx_sink {
	char		*name;
	struct shipper_conf sc;
	char		*spool_dir;
	uint64_t	 spool_max;
	int		 do_fsync;
	uint64_t	 flush_us;
	struct writer	*w;		/* appends to the spool, seals */
	unsigned long	 open_lines;	/* since the last seal */
	uint64_t	 open_bytes;
	sd_event	*ev;
	sd_event_source	*timer;
	sd_event_source	*io;
	sd_event_source	*restart;
	pid_t		 pid;
	int		 rfd;
	uint64_t	 started_us;
	double		 restart_s;
	char		 msgbuf[sizeof(struct shipper_msg)];
	size_t		 msglen;
	/* figures since start */
	uint64_t	 spooled;
	uint64_t	 sent;
	uint64_t	 retries;
	uint64_t	 rejected;
	uint64_t	 restarts;
	char		 last_error[sizeof(((struct shipper_msg *)0)->error)];
};

static const char *const influx_settings[] = {
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

static void
sc_cleanup(struct shipper_conf *c)
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
	if (c->secret != NULL)
		shipper_wipe(c->secret, strlen(c->secret));
	free(c->secret);
	free(c->ca_file);
	memset(c, 0, sizeof(*c));
}

static void
sc_copy(struct shipper_conf *d, const struct shipper_conf *s)
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
	d->secret = xstrdup_or_null(s->secret);
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
 * The secret: at most one of KEY, KEY_file, KEY_credential.  An inline
 * one only in a file others cannot read.
 */
static int
get_secret(const config_setting_t *s, const char *key,
    struct influx_conf *ic, char *err, size_t errlen)
{
	char		 name[64];
	const char	*file;
	struct stat	 st;
	int		 n = 0, r;

	snprintf(name, sizeof(name), "%s", key);
	if ((r = get_str(s, name, &ic->secret_arg, err, errlen)) == -1)
		return -1;
	if (r == 1) {
		n++;
		ic->src = SECRET_INLINE;
		file = config_setting_source_file(mem(s, name));
		if (file == NULL || stat(file, &st) == -1)
			return qosd_cfg_error(mem(s, name), err, errlen,
			    "cannot check who may read the file holding this "
			    "secret: move it to %s_file (mode 0600)", key);
		if (st.st_mode & S_IROTH)
			return qosd_cfg_error(mem(s, name), err, errlen,
			    "secret in a world-readable file: move it to "
			    "%s_file (mode 0600) or chmod o-r %s", key, file);
	}
	snprintf(name, sizeof(name), "%s_file", key);
	if (mem(s, name) != NULL) {
		if (n++ > 0)
			goto twice;
		free(ic->secret_arg);
		ic->secret_arg = NULL;
		if (get_path(s, name, &ic->secret_arg, err, errlen) == -1)
			return -1;
		ic->src = SECRET_FILE;
	}
	snprintf(name, sizeof(name), "%s_credential", key);
	if (mem(s, name) != NULL) {
		if (n++ > 0)
			goto twice;
		if (get_str(s, name, &ic->secret_arg, err, errlen) == -1)
			return -1;
		if (strchr(ic->secret_arg, '/') != NULL ||
		    strcmp(ic->secret_arg, "..") == 0 ||
		    strcmp(ic->secret_arg, ".") == 0)
			return qosd_cfg_error(mem(s, name), err, errlen,
			    "\"%s\" is not a credential name (as in "
			    "LoadCredential=NAME:/path)", ic->secret_arg);
		ic->src = SECRET_CRED;
	}
	ic->secret_key = key;
	return 0;
twice:
	return qosd_cfg_error(mem(s, name), err, errlen, "give the %s one "
	    "way only: %s, %s_file or %s_credential", key, key, key, key);
}

static void
influx_release(void *state)
{
	struct influx_conf	*ic = state;

	if (ic == NULL)
		return;
	sc_cleanup(&ic->sc);
	if (ic->secret_arg != NULL)
		shipper_wipe(ic->secret_arg, strlen(ic->secret_arg));
	free(ic->secret_arg);
	free(ic->state_dir);
	free(ic->spool_dir);
	free(ic);
}

static int
influx_configure(const config_setting_t *s, void **state, char *err,
    size_t errlen)
{
	static const char *const v1only[] = { "database",
	    "retention_policy", "username", "password", "password_file",
	    "password_credential", NULL };
	static const char *const v2only[] = { "org", "bucket", "token",
	    "token_file", "token_credential", NULL };
	struct influx_conf	*ic;
	struct shipper_conf	*c;
	const char		**urls = NULL, *sd = STATEDIR, *host;
	const config_setting_t	*d;
	long long		 api = 1, bs = 5000;
	double			 ct = 5, to = 30, bo = 60;
	size_t			 i;
	int			 r;

	if ((ic = calloc(1, sizeof(*ic))) == NULL)
		fatal("influxdb: %m");
	c = &ic->sc;
	c->batch_bytes = 4 << 20;
	c->gzip = 1;
	c->tls_verify = 1;
	c->rejected_max = 16 << 20;
	ic->spool_max = 512 << 20;
	ic->flush_interval = 1;
	ic->do_fsync = 1;
	if ((r = qosd_cfg_strings(s, "url", &urls, &c->nurls, err,
	    errlen)) == -1)
		goto bad;
	if (r == 0) {
		qosd_cfg_error(s, err, errlen, "url: missing: give the "
		    "InfluxDB address, e.g. url = \"http://127.0.0.1:8086\" "
		    "(a list fails over in order)");
		goto bad;
	}
	if ((c->urls = calloc(c->nurls, sizeof(*c->urls))) == NULL)
		fatal("influxdb: %m");
	for (i = 0; i < c->nurls; i++) {
		c->urls[i] = xstrdup_or_null(urls[i]);
		if (strncmp(urls[i], "http://", 7) != 0 &&
		    strncmp(urls[i], "https://", 8) != 0) {
			qosd_cfg_error(mem(s, "url"), err, errlen, "\"%s\" is "
			    "not an http:// or https:// URL", urls[i]);
			goto bad;
		}
		host = strstr(urls[i], "://") + 3;
		if (memchr(host, '@', strcspn(host, "/")) != NULL) {
			qosd_cfg_error(mem(s, "url"), err, errlen, "a URL with "
			    "credentials in it would be logged: give them as "
			    "username and password_file (api 1) or token_file "
			    "(api 2)");
			goto bad;
		}
		if (strchr(urls[i], '?') != NULL) {
			qosd_cfg_error(mem(s, "url"), err, errlen, "\"%s\": "
			    "give the server's base URL without a query: "
			    "qosd adds the write path", urls[i]);
			goto bad;
		}
	}
	free(urls);
	urls = NULL;
	if (qosd_cfg_int(s, "api", 1, 2, &api, err, errlen) == -1)
		goto bad;
	c->api = (int)api;
	if (c->api == INFLUX_API_V1) {
		if (refuse(s, v2only, "is for api = 2 (InfluxDB 2, 3 and "
		    "Cloud): with api = 1 give database, username and "
		    "password_file", err, errlen) == -1 ||
		    get_str(s, "database", &c->database, err, errlen) == -1 ||
		    get_str(s, "retention_policy", &c->rp, err, errlen) == -1 ||
		    get_str(s, "username", &c->username, err, errlen) == -1 ||
		    get_secret(s, "password", ic, err, errlen) == -1)
			goto bad;
		if (c->database == NULL) {
			qosd_cfg_error(s, err, errlen, "database: missing: "
			    "api = 1 writes to a database, e.g. database = "
			    "\"qos\"");
			goto bad;
		}
		if (ic->src != SECRET_NONE && c->username == NULL) {
			qosd_cfg_error(s, err, errlen, "username: missing: a "
			    "password needs the user it belongs to");
			goto bad;
		}
	} else {
		if (refuse(s, v1only, "is for api = 1 (InfluxDB 1.x): with "
		    "api = 2 give org, bucket and token_file", err,
		    errlen) == -1 ||
		    get_str(s, "org", &c->org, err, errlen) == -1 ||
		    get_str(s, "bucket", &c->bucket, err, errlen) == -1 ||
		    get_secret(s, "token", ic, err, errlen) == -1)
			goto bad;
		if (c->org == NULL || c->bucket == NULL) {
			qosd_cfg_error(s, err, errlen, "%s: missing: api = 2 "
			    "writes to a bucket of an organization, e.g. org = "
			    "\"lab\"; bucket = \"qos\";", c->org == NULL ?
			    "org" : "bucket");
			goto bad;
		}
	}
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
		goto bad;
	if (to < ct) {
		qosd_cfg_error(mem(s, "timeout"), err, errlen, "%g s is "
		    "shorter than connect_timeout (%g s): the timeout covers "
		    "the whole request", to, ct);
		goto bad;
	}
	c->batch_size = (unsigned long)bs;
	c->connect_timeout_ms = (uint64_t)(ct * 1000);
	c->timeout_ms = (uint64_t)(to * 1000);
	c->backoff_max = bo;
	/* The spool goes under the daemon's state_dir by default. */
	if ((d = config_lookup(s->config, "daemon.state_dir")) != NULL &&
	    config_setting_type(d) == CONFIG_TYPE_STRING)
		sd = config_setting_get_string(d);
	ic->state_dir = xstrdup_or_null(sd);
	*state = ic;
	return 0;
bad:
	free(urls);
	influx_release(ic);
	return -1;
}

static int
influx_same(const void *a, const void *b)
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
	    p->backoff_max == q->backoff_max && x->src == y->src &&
	    streq(x->secret_arg, y->secret_arg) &&
	    streq(x->state_dir, y->state_dir) &&
	    streq(x->spool_dir, y->spool_dir) &&
	    x->spool_max == y->spool_max &&
	    x->flush_interval == y->flush_interval &&
	    x->do_fsync == y->do_fsync;
}

/* Start. */

static uint64_t
mono_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Read a secret file: its first line, without the newline. */
static char *
read_secret(const char *path, const char *what, const char *name,
    char *err, size_t errlen)
{
	char	 buf[SECRET_MAX + 1];
	ssize_t	 n;
	size_t	 len = 0;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "sink %s: cannot read the %s \"%s\": %s",
		    name, what, path, strerror(errno));
		return NULL;
	}
	while (len < SECRET_MAX && (n = read(fd, buf + len,
	    SECRET_MAX - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "sink %s: cannot read the %s "
			    "\"%s\": %s", name, what, path, strerror(errno));
			close(fd);
			shipper_wipe(buf, sizeof(buf));
			return NULL;
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0') {
		snprintf(err, errlen, "sink %s: the %s \"%s\" is empty", name,
		    what, path);
		return NULL;
	}
	return xstrdup_or_null(buf);
}

static char *
get_secret_value(const struct influx_conf *ic, const char *name, char *err,
    size_t errlen)
{
	const char	*dir;
	char		 what[64], path[4096];

	switch (ic->src) {
	case SECRET_NONE:
		return NULL;
	case SECRET_INLINE:
		return xstrdup_or_null(ic->secret_arg);
	case SECRET_FILE:
		snprintf(what, sizeof(what), "%s_file", ic->secret_key);
		return read_secret(ic->secret_arg, what, name, err, errlen);
	case SECRET_CRED:
		if ((dir = getenv("CREDENTIALS_DIRECTORY")) == NULL) {
			snprintf(err, errlen, "sink %s: %s_credential \"%s\": "
			    "$CREDENTIALS_DIRECTORY is not set: give the "
			    "service LoadCredential=%s:/path/to/secret",
			    name, ic->secret_key, ic->secret_arg,
			    ic->secret_arg);
			return NULL;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, ic->secret_arg);
		snprintf(what, sizeof(what), "%s credential",
		    ic->secret_key);
		return read_secret(path, what, name, err, errlen);
	}
	return NULL;
}

static void	shipper_spawn(struct influx_sink *);

static int
on_restart(sd_event_source *src, uint64_t usec, void *arg)
{
	struct influx_sink	*f = arg;

	(void)usec;
	f->restart = sd_event_source_disable_unref(src);
	shipper_spawn(f);
	return 0;
}

static void
schedule_restart(struct influx_sink *f)
{
	if (f->restart != NULL)
		return;
	if (sd_event_add_time_relative(f->ev, &f->restart, CLOCK_MONOTONIC,
	    (uint64_t)(f->restart_s * 1e6), 0, on_restart, f) < 0)
		fatal("sink %s: cannot arm the restart timer", f->name);
}

static void
on_msg(struct influx_sink *f, const struct shipper_msg *m)
{
	f->sent += m->sent;
	f->retries += m->retries;
	f->rejected += m->rejected;
	if (m->has_error) {
		memcpy(f->last_error, m->error, sizeof(f->last_error));
		f->last_error[sizeof(f->last_error) - 1] = '\0';
	}
}

static int
on_pipe(sd_event_source *src, int fd, uint32_t revents, void *arg)
{
	struct influx_sink	*f = arg;
	struct shipper_msg	 m;
	ssize_t			 n;

	(void)revents;
	for (;;) {
		n = read(fd, f->msgbuf + f->msglen,
		    sizeof(f->msgbuf) - f->msglen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			break;
		f->msglen += (size_t)n;
		if (f->msglen == sizeof(f->msgbuf)) {
			memcpy(&m, f->msgbuf, sizeof(m));
			on_msg(f, &m);
			f->msglen = 0;
		}
	}
	/* EOF: the shipper is gone; its child watch restarts it. */
	f->io = sd_event_source_disable_unref(src);
	close(f->rfd);
	f->rfd = -1;
	f->msglen = 0;
	return 0;
}

static void
on_exit_status(void *arg, int wstatus)
{
	struct influx_sink	*f = arg;

	f->pid = -1;
	f->restarts++;
	if (mono_us() - f->started_us > STABLE_US)
		f->restart_s = RESTART_MIN;
	if (WIFSIGNALED(wstatus))
		log_err("sink %s: the shipper was killed by signal %d: "
		    "restarting it in %g s", f->name, WTERMSIG(wstatus),
		    f->restart_s);
	else
		log_err("sink %s: the shipper exited with status %d: "
		    "restarting it in %g s", f->name, WEXITSTATUS(wstatus),
		    f->restart_s);
	schedule_restart(f);
	f->restart_s = f->restart_s * 2 < RESTART_MAX ? f->restart_s * 2 :
	    RESTART_MAX;
}

static void
shipper_spawn(struct influx_sink *f)
{
	int	rfd;

	if ((f->pid = shipper_start(&f->sc, f->name, f->spool_dir,
	    &rfd)) == -1) {
		schedule_restart(f);
		return;
	}
	f->started_us = mono_us();
	if (super_watch(f->pid, on_exit_status, f) == -1)
		fatal("sink %s: child_watch: %m", f->name);
	if (f->rfd != -1) {
		f->io = sd_event_source_disable_unref(f->io);
		close(f->rfd);
	}
	f->rfd = rfd;
	f->msglen = 0;
	if (fcntl(f->rfd, F_SETFL, O_NONBLOCK) == -1 ||
	    sd_event_add_io(f->ev, &f->io, f->rfd, EPOLLIN, on_pipe, f) < 0)
		fatal("sink %s: cannot watch the shipper's pipe", f->name);
}

static void
seal(struct influx_sink *f)
{
	if (f->open_bytes > 0)
		writer_seal(f->w);
	f->open_lines = 0;
	f->open_bytes = 0;
}

/* The spool, in its writer process (writer.h). */

static void *
spool_target_open(void *arg, char *err, size_t errlen)
{
	struct influx_sink	*f = arg;
	struct spool		*sp;
	char			 tmp[512];

	if ((sp = spool_open(f->spool_dir, f->name, f->spool_max,
	    f->do_fsync, tmp, sizeof(tmp))) == NULL)
		snprintf(err, errlen, "sink %s: spool: %s", f->name, tmp);
	return sp;
}

static void
spool_target_forget(void *t)
{
	spool_forget(t);
}

static int
spool_target_fd(void *t)
{
	return spool_fd(t);
}

static void
spool_target_append(void *t, const char *p, size_t len, unsigned long n,
    struct writer_figs *fg)
{
	if (spool_append(t, p, len, n) == 0)
		fg->lines += n;
	fg->dropped = spool_dropped(t);
}

static void
spool_target_seal(void *t, struct writer_figs *fg)
{
	unsigned long	segs;

	spool_seal(t);
	spool_usage(t, &fg->bytes, &segs);
	fg->segments = segs;
	fg->dropped = spool_dropped(t);
}

static void
spool_target_close(void *t, struct writer_figs *fg)
{
	spool_target_seal(t, fg);
	spool_close(t);
}

static const struct writer_ops spool_ops = {
	spool_target_open, spool_target_forget, spool_target_fd,
	spool_target_append, spool_target_seal, spool_target_close
};

static int
on_flush_timer(sd_event_source *src, uint64_t usec, void *arg)
{
	struct influx_sink	*f = arg;

	seal(f);
	sd_event_source_set_time(src, usec + f->flush_us);
	sd_event_source_set_enabled(src, SD_EVENT_ON);
	return 0;
}

static void	influx_stop(void *);

static void *
influx_start(const void *state, const char *name, sd_event *ev, char *err,
    size_t errlen)
{
	const struct influx_conf	*ic = state;
	struct influx_sink		*f;
	size_t				 n;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		fatal("influxdb: %m");
	f->name = xstrdup_or_null(name);
	f->ev = sd_event_ref(ev);
	f->pid = -1;
	f->rfd = -1;
	f->restart_s = RESTART_MIN;
	sc_copy(&f->sc, &ic->sc);
	if (ic->src != SECRET_NONE &&
	    (f->sc.secret = get_secret_value(ic, name, err, errlen)) == NULL)
		goto bad;
	if (ic->spool_dir != NULL)
		f->spool_dir = xstrdup_or_null(ic->spool_dir);
	else {
		n = strlen(ic->state_dir) + strlen(name) + 16;
		if ((f->spool_dir = malloc(n)) == NULL)
			fatal("influxdb: %m");
		snprintf(f->spool_dir, n, "%s/spool/%s", ic->state_dir, name);
	}
	f->spool_max = ic->spool_max;
	f->do_fsync = ic->do_fsync;
	if ((f->w = writer_start(name, ev, &spool_ops, f, err,
	    errlen)) == NULL)
		goto bad;
	f->flush_us = (uint64_t)(ic->flush_interval * 1e6);
	if (f->flush_us > 0 && sd_event_add_time_relative(ev, &f->timer,
	    CLOCK_MONOTONIC, f->flush_us, 0, on_flush_timer, f) < 0) {
		snprintf(err, errlen, "sink %s: cannot arm the flush timer",
		    name);
		goto bad;
	}
	shipper_spawn(f);
	return f;
bad:
	influx_stop(f);
	return NULL;
}

/* Points. */

static int
influx_write(void *sink, const char *lines, size_t len)
{
	struct influx_sink	*f = sink;
	unsigned long		 n = spool_count_lines(lines, len);

	if (writer_write(f->w, lines, len) == -1)
		return -1;
	f->spooled += n;
	f->open_lines += n;
	f->open_bytes += len;
	if (f->open_lines >= f->sc.batch_size ||
	    f->open_bytes >= f->sc.batch_bytes)
		seal(f);
	return 0;
}

static void
influx_flush(void *sink)
{
	struct influx_sink	*f = sink;

	if (f->flush_us == 0)
		seal(f);
	writer_flush(f->w);
}

static void
influx_sync(void *sink)
{
	struct influx_sink	*f = sink;

	writer_sync(f->w);
}

static void
influx_stats(void *sink, struct lp_point *p)
{
	struct influx_sink	*f = sink;
	struct writer_figs	 fg;
	uint64_t		 queued;
	char			 err[128];

	writer_figs(f->w, &fg, &queued);
	lp_point_field_int(p, "sent", (int64_t)f->sent, err, sizeof(err));
	lp_point_field_int(p, "dropped", (int64_t)fg.dropped, err,
	    sizeof(err));
	lp_point_field_int(p, "spooled", (int64_t)f->spooled, err,
	    sizeof(err));
	lp_point_field_int(p, "spooled_bytes", (int64_t)fg.bytes, err,
	    sizeof(err));
	lp_point_field_int(p, "segments", (int64_t)fg.segments, err,
	    sizeof(err));
	lp_point_field_int(p, "queued_bytes", (int64_t)queued, err,
	    sizeof(err));
	lp_point_field_int(p, "retries", (int64_t)f->retries, err,
	    sizeof(err));
	lp_point_field_int(p, "rejected", (int64_t)f->rejected, err,
	    sizeof(err));
	lp_point_field_int(p, "shipper_restarts", (int64_t)f->restarts, err,
	    sizeof(err));
	if (f->last_error[0] != '\0')
		lp_point_field_str(p, "last_error", f->last_error, err,
		    sizeof(err));
}

static void
influx_stop(void *sink)
{
	struct influx_sink	*f = sink;

	if (f == NULL)
		return;
	if (f->pid > 0) {
		super_unwatch(f->pid);
		kill(f->pid, SIGTERM);
	}
	f->timer = sd_event_source_disable_unref(f->timer);
	f->restart = sd_event_source_disable_unref(f->restart);
	f->io = sd_event_source_disable_unref(f->io);
	if (f->rfd != -1)
		close(f->rfd);
	writer_stop(f->w);
	sd_event_unref(f->ev);
	sc_cleanup(&f->sc);
	free(f->spool_dir);
	free(f->name);
	free(f);
}

const struct sink_type sink_influxdb_type = {
	.name = "influxdb",
	.settings = influx_settings,
	.configure = influx_configure,
	.release = influx_release,
	.same = influx_same,
	.start = influx_start,
	.write = influx_write,
	.flush = influx_flush,
	.sync = influx_sync,
	.stats = influx_stats,
	.stop = influx_stop,
};
