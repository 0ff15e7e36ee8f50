/*
 * config.c: loading and validating the configuration file.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <libconfig.h>

#include "lib/buf.h"
#include "lib/cfgval.h"
#include "lib/log.h"
#include "lib/strmap.h"
#include "qosd/cfg.h"
#include "qosd/collector.h"
#include "scheduler/cfgcheck.h"
#include "scheduler/cfgfile.h"
#include "scheduler/config.h"
#include "scheduler/plugin.h"
#include "scheduler/probecfg.h"
#include "sinks/sink.h"

#define DAY		86400.0

#define NO_SINKS_HINT	"no sinks: add one, e.g. " \
	"sinks = ( { type = \"file\"; path = \"-\"; } );"

struct loader {
	struct cfg	*cfg;
	struct cfgfile	**files;	/* the main file, then its drop-ins */
	size_t		 nfiles;
	struct strmap	*names;		/* job name -> its name setting */
	const config_setting_t **sink_set;	/* each sink's setting */
	char		*err;
	size_t		 errlen;
	double		 interval;	/* defaults { }, in seconds */
	double		 timeout;
	double		 splay;
	uint64_t	 max_output;
};

static const char *const top_settings[] = {
	"agent", "daemon", "defaults", "sinks", "jobs", "control", "nats",
	NULL
};
/* A drop-in adds jobs and sinks; the rest is the main file's. */
static const char *const dropin_settings[] = { "sinks", "jobs", NULL };
static const char *const agent_settings[] = { "id", "tags", NULL };
static const char *const daemon_settings[] = {
	"state_dir", "max_children", "self_interval", "stop_grace", "realtime",
	NULL
};
static const char *const defaults_settings[] = {
	"interval", "timeout", "splay", "max_output", NULL
};
static const char *const sink_settings[] = { "type", "name", NULL };
static const char *const job_settings[] = {
	"name", "collector", "interval", "timeout", "splay", "max_output",
	"tags", "exclusive", "enabled", NULL
};
static const char *const reserved_tags[] = { "agent", "job", "time", NULL };

/*
 * A tag (key NULL: the agent id, which becomes the value of the tag
 * agent): what line protocol can carry, the encoder's own rules.
 */
static int
check_tag(const config_setting_t *s, const char *key, char *err,
    size_t errlen)
{
	const char	*v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING ||
	    *(v = config_setting_get_string(s)) == '\0')
		return cfgval_expected(s, "a non-empty string", err, errlen);
	if (strpbrk(v, "\n\r") != NULL)
		return qosd_cfg_error(s, err, errlen, "a tag value cannot "
		    "contain a line break");
	return qosd_cfg_tag(s, key, v, err, errlen);
}

static void
tags_free(struct cfg_tag *tags, size_t n)
{
	size_t	i;

	for (i = 0; tags != NULL && i < n; i++) {
		free(tags[i].key);
		free(tags[i].value);
	}
	free(tags);
}

static int
load_tags(const config_setting_t *parent, struct cfg_tag **tagsp,
    size_t *np, char *err, size_t errlen)
{
	const config_setting_t	*g, *s;
	struct cfg_tag		*tags;
	const char		*key;
	size_t			 i, n;
	int			 r;

	r = cfgc_group(parent, "tags", "key = \"value\"; ...", &g, err,
	    errlen);
	if (r != 1)
		return r;
	n = (size_t)config_setting_length(g);
	if (n > CFG_TAGS_MAX)
		return qosd_cfg_error(g, err, errlen, "%zu tags: at most %d "
		    "(a point carries at most 256 tags in all)", n,
		    CFG_TAGS_MAX);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(g, (unsigned int)i);
		key = config_setting_name(s);
		if (cfgc_in_list(key, reserved_tags))
			return qosd_cfg_error(s, err, errlen, "the tag key "
			    "\"%s\" is reserved: %s", key,
			    strcmp(key, "time") == 0 ? "line protocol has no "
			    "tag called time" : "qosd sets it on every point");
		if (check_tag(s, key, err, errlen) == -1)
			return -1;
	}
	tags = cfgc_calloc(n, sizeof(*tags));
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(g, (unsigned int)i);
		tags[i].key = cfgc_strdup(config_setting_name(s));
		tags[i].value = cfgc_strdup(config_setting_get_string(s));
	}
	*tagsp = tags;
	*np = n;
	return 1;
}

static int
load_agent(struct loader *ld, const config_setting_t *root)
{
	const config_setting_t	*g, *s;
	const char		*id = NULL;
	char			 host[HOST_NAME_MAX + 1];

	if (cfgc_group(root, "agent", "id = \"...\"; tags = { ... };", &g,
	    ld->err, ld->errlen) == -1)
		return -1;
	if (g != NULL) {
		if (cfgc_known(g, "agent", agent_settings, NULL, NULL,
		    ld->err, ld->errlen) == -1)
			return -1;
		if ((s = config_setting_get_member(g, "id")) != NULL &&
		    check_tag(s, NULL, ld->err, ld->errlen) == -1)
			return -1;
		if (qosd_cfg_string(g, "id", 0, &id, ld->err,
		    ld->errlen) == -1)
			return -1;
		if (load_tags(g, &ld->cfg->agent_tags, &ld->cfg->nagent_tags,
		    ld->err, ld->errlen) == -1)
			return -1;
	}
	if (id == NULL) {
		if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0') {
			snprintf(ld->err, ld->errlen, "%s: agent.id is not set "
			    "and the host name is unknown (%s): set agent.id",
			    ld->cfg->file, strerror(errno));
			return -1;
		}
		host[sizeof(host) - 1] = '\0';
		id = host;
	}
	ld->cfg->agent_id = cfgc_strdup(id);
	return 0;
}

static int
load_daemon(struct loader *ld, const config_setting_t *root)
{
	struct cfg		*cfg = ld->cfg;
	const config_setting_t	*g;
	const char		*dir = STATEDIR;
	long long		 children = 64;
	double			 self = 60, grace = 5;
	int			 rt = 1;

	if (cfgc_group(root, "daemon", "state_dir = \"...\"; ...", &g,
	    ld->err, ld->errlen) == -1)
		return -1;
	if (g != NULL) {
		if (cfgc_known(g, "daemon", daemon_settings, NULL, NULL,
		    ld->err, ld->errlen) == -1 ||
		    qosd_cfg_string(g, "state_dir", 0, &dir, ld->err,
		    ld->errlen) == -1 ||
		    qosd_cfg_int(g, "max_children", 1, 10000, &children,
		    ld->err, ld->errlen) == -1 ||
		    qosd_cfg_float(g, "self_interval", 0, DAY, &self, ld->err,
		    ld->errlen) == -1 ||
		    qosd_cfg_float(g, "stop_grace", 0, 3600, &grace, ld->err,
		    ld->errlen) == -1 ||
		    qosd_cfg_bool(g, "realtime", &rt, ld->err,
		    ld->errlen) == -1)
			return -1;
		if (dir[0] != '/')
			return qosd_cfg_error(config_setting_get_member(g,
			    "state_dir"), ld->err, ld->errlen, "\"%s\" is not "
			    "an absolute path", dir);
		if (self > 0 && self < 1)
			return qosd_cfg_error(config_setting_get_member(g,
			    "self_interval"), ld->err, ld->errlen, "expected 0 "
			    "(off) or a number from 1 to %g, got %g", DAY,
			    self);
	}
	cfg->state_dir = cfgc_strdup(dir);
	cfg->max_children = (unsigned int)children;
	cfg->self_interval_us = cfgc_us(self);
	cfg->stop_grace_us = cfgc_us(grace);
	cfg->realtime = rt;
	return 0;
}

static int
load_defaults(struct loader *ld, const config_setting_t *root)
{
	const config_setting_t	*g;

	ld->interval = 60;
	ld->timeout = 30;
	ld->splay = 10;
	ld->max_output = 1 << 20;
	if (cfgc_group(root, "defaults", "interval = 60; ...", &g, ld->err,
	    ld->errlen) == -1)
		return -1;
	if (g == NULL)
		return 0;
	if (cfgc_known(g, "defaults", defaults_settings, NULL, NULL,
	    ld->err, ld->errlen) == -1 ||
	    qosd_cfg_float(g, "interval", 0.1, DAY, &ld->interval, ld->err,
	    ld->errlen) == -1 ||
	    qosd_cfg_float(g, "timeout", 0.001, DAY, &ld->timeout, ld->err,
	    ld->errlen) == -1 ||
	    qosd_cfg_float(g, "splay", 0, DAY, &ld->splay, ld->err,
	    ld->errlen) == -1 ||
	    qosd_cfg_size(g, "max_output", 1024, (uint64_t)1 << 30,
	    &ld->max_output, ld->err, ld->errlen) == -1)
		return -1;
	return 0;
}

static int
load_sink(struct loader *ld, const config_setting_t *list, unsigned int i)
{
	struct cfg		*cfg = ld->cfg;
	const config_setting_t	*s, *ts;
	const struct sink_type	*type;
	const char		*tname, *name = NULL;
	char			 what[64], defname[CFGC_NAME_MAX + 16];
	char			 wbuf[PATH_MAX + 32];
	struct cfg_sink		*sk;
	size_t			 k, same = 0;
	int			 r;

	s = config_setting_get_elem(list, i);
	if (!config_setting_is_group(s))
		return cfgval_expected(s, "a sink group { type = \"...\"; "
		    "... }", ld->err, ld->errlen);
	if ((r = qosd_cfg_string(s, "type", 0, &tname, ld->err,
	    ld->errlen)) == -1)
		return -1;
	if (r == 0)
		return qosd_cfg_error(s, ld->err, ld->errlen, "missing setting "
		    "\"type\": say what kind of sink this is (known types: %s)",
		    sink_type_names());
	ts = config_setting_get_member(s, "type");
	if ((type = sink_type_find(tname)) == NULL)
		return qosd_cfg_error(ts, ld->err, ld->errlen, "unknown sink "
		    "type \"%s\" (known types: %s)", tname, sink_type_names());
	snprintf(what, sizeof(what), "%s sink", type->name);
	if (cfgc_known(s, what, type->settings, "common sink",
	    sink_settings, ld->err, ld->errlen) == -1)
		return -1;
	if (cfgc_name(s, "sink", &name, ld->err, ld->errlen) == -1)
		return -1;
	if (name == NULL) {
		for (k = 0; k < cfg->nsinks; k++)
			if (cfg->sinks[k].type == type)
				same++;
		if (same == 0)
			snprintf(defname, sizeof(defname), "%s", type->name);
		else
			snprintf(defname, sizeof(defname), "%s-%zu",
			    type->name, same + 1);
		name = defname;
	}
	for (k = 0; k < cfg->nsinks; k++) {
		if (strcmp(cfg->sinks[k].name, name) != 0)
			continue;
		return qosd_cfg_error(s, ld->err, ld->errlen, "the sink name "
		    "\"%s\" is already used by the sink at %s: give each sink "
		    "its own name", name, cfgc_where(ld->sink_set[k], s, wbuf,
		    sizeof(wbuf)));
	}
	ld->sink_set[cfg->nsinks] = s;
	sk = &cfg->sinks[cfg->nsinks];
	ld->err[0] = '\0';
	if (type->configure(s, &sk->state, ld->err, ld->errlen) == -1) {
		if (ld->err[0] == '\0')
			qosd_cfg_error(s, ld->err, ld->errlen, "the %s sink "
			    "refused its settings", type->name);
		return -1;
	}
	sk->name = cfgc_strdup(name);
	sk->type = type;
	cfg->nsinks++;
	return 0;
}

/*
 * The list called name in every file (the main file, then the drop-ins),
 * each checked; *n their elements in all.  0, or -1 with err.
 */
static int
get_lists(struct loader *ld, const char *name, const char *example,
    const config_setting_t **lists, size_t *n)
{
	size_t	i;

	*n = 0;
	for (i = 0; i < ld->nfiles; i++) {
		if (cfgc_list(cfgfile_root(ld->files[i]), name, example,
		    &lists[i], ld->err, ld->errlen) == -1)
			return -1;
		if (lists[i] != NULL)
			*n += (size_t)config_setting_length(lists[i]);
	}
	return 0;
}

/* path with "//" as "/" and no trailing "/", in place. */
static char *
tidy_path(char *path)
{
	char	*r, *w;

	for (r = w = path; *r != '\0'; r++)
		if (*r != '/' || w == path || w[-1] != '/')
			*w++ = *r;
	while (w > path + 1 && w[-1] == '/')
		w--;
	*w = '\0';
	return path;
}

/*
 * No two sinks keep one directory (a spool): the second one's spool_dir
 * (or the sink) is the error.  Whether one is beneath state_dir.
 */
static int
check_sink_dirs(struct loader *ld)
{
	struct cfg		 *cfg = ld->cfg;
	const config_setting_t	 *s;
	char			**dirs, wbuf[PATH_MAX + 32];
	size_t			  i, k, n = strlen(cfg->state_dir);
	int			  rc = 0;

	while (n > 1 && cfg->state_dir[n - 1] == '/')
		n--;
	dirs = cfgc_calloc(cfg->nsinks + 1, sizeof(*dirs));
	for (i = 0; i < cfg->nsinks && rc == 0; i++) {
		if (cfg->sinks[i].type->dir == NULL || (dirs[i] =
		    cfg->sinks[i].type->dir(cfg->sinks[i].state,
		    cfg->sinks[i].name)) == NULL)
			continue;
		tidy_path(dirs[i]);
		if (strncmp(dirs[i], cfg->state_dir, n) == 0 &&
		    (dirs[i][n] == '/' || dirs[i][n] == '\0'))
			cfg->state_used = 1;
		for (k = 0; k < i && rc == 0; k++) {
			if (dirs[k] == NULL || strcmp(dirs[k], dirs[i]) != 0)
				continue;
			if ((s = config_setting_get_member(ld->sink_set[i],
			    "spool_dir")) == NULL)
				s = ld->sink_set[i];
			rc = qosd_cfg_error(s, ld->err, ld->errlen, "\"%s\" is "
			    "already the spool of the sink \"%s\" at %s: "
			    "give each sink its own spool_dir", dirs[i],
			    cfg->sinks[k].name, cfgc_where(ld->sink_set[k],
			    ld->sink_set[i], wbuf, sizeof(wbuf)));
		}
	}
	for (i = 0; i < cfg->nsinks; i++)
		free(dirs[i]);
	free(dirs);
	return rc;
}

static int
load_sinks(struct loader *ld)
{
	const config_setting_t	**l;
	size_t			 i, n;
	unsigned int		 k;
	int			 rc = -1;

	l = cfgc_calloc(ld->nfiles, sizeof(*l));
	if (get_lists(ld, "sinks", "type = \"file\"; path = \"-\";", l,
	    &n) == -1)
		goto out;
	if (n == 0) {
		if (l[0] != NULL)
			qosd_cfg_error(l[0], ld->err, ld->errlen,
			    NO_SINKS_HINT);
		else
			snprintf(ld->err, ld->errlen, "%s: " NO_SINKS_HINT,
			    ld->cfg->file);
		goto out;
	}
	ld->cfg->sinks = cfgc_calloc(n, sizeof(*ld->cfg->sinks));
	ld->sink_set = cfgc_calloc(n, sizeof(*ld->sink_set));
	for (i = 0; i < ld->nfiles; i++)
		for (k = 0; l[i] != NULL &&
		    k < (unsigned int)config_setting_length(l[i]); k++)
			if (load_sink(ld, l[i], k) == -1)
				goto out;
	rc = check_sink_dirs(ld);
out:
	free(l);
	return rc;
}

static void
job_cleanup(struct cfg_job *j)
{
	/* A forgotten plugin may be unloaded (cfg_forget_plugins()). */
	if (!j->forgotten && j->state != NULL && j->plugin != NULL &&
	    j->plugin->release != NULL)
		j->plugin->release(j->state);
	j->state = NULL;
	free(j->name);
	free(j->collector);
	free(j->exclusive);
	json_decref(j->settings);
	tags_free(j->tags, j->ntags);
	memset(j, 0, sizeof(*j));
}

/* An explicit timeout or splay must fit in the job's interval. */
static int
within_interval(const config_setting_t *s, const char *what, double v,
    double interval, const char *why, char *err, size_t errlen)
{
	if (v <= interval)
		return 0;
	return qosd_cfg_error(config_setting_get_member(s, what), err,
	    errlen, "%s (%g s) is longer than interval (%g s): %s", what, v,
	    interval, why);
}

static int
job_timing(struct loader *ld, const config_setting_t *s, struct cfg_job *j)
{
	double	interval = ld->interval, timeout, splay;
	int	rt, rs;

	if (qosd_cfg_float(s, "interval", 0.1, DAY, &interval, ld->err,
	    ld->errlen) == -1)
		return -1;
	timeout = ld->timeout < interval ? ld->timeout : interval;
	splay = ld->splay < interval ? ld->splay : interval;
	if ((rt = qosd_cfg_float(s, "timeout", 0.001, DAY, &timeout,
	    ld->err, ld->errlen)) == -1 ||
	    (rs = qosd_cfg_float(s, "splay", 0, DAY, &splay, ld->err,
	    ld->errlen)) == -1)
		return -1;
	if (rt == 1 && within_interval(s, "timeout", timeout, interval,
	    "a run would still be going when the next one is due", ld->err,
	    ld->errlen) == -1)
		return -1;
	if (rs == 1 && within_interval(s, "splay", splay, interval,
	    "a run's offset must fall within one interval", ld->err,
	    ld->errlen) == -1)
		return -1;
	j->interval_us = cfgc_us(interval);
	j->timeout_us = cfgc_us(timeout);
	j->splay_us = cfgc_us(splay);
	j->max_output = ld->max_output;
	return qosd_cfg_size(s, "max_output", 1024, (uint64_t)1 << 30,
	    &j->max_output, ld->err, ld->errlen) == -1 ? -1 : 0;
}

/*
 * The job's exclusive group: its own, none for exclusive = false, else the
 * collector's default.  *excl is borrowed (config tree or plugin), or NULL.
 */
static int
job_exclusive(const config_setting_t *s, const struct qosd_collector *plugin,
    const char **excl, char *err, size_t errlen)
{
	const config_setting_t	*e;
	int			 r;

	*excl = NULL;
	if ((e = config_setting_get_member(s, "exclusive")) != NULL &&
	    config_setting_type(e) == CONFIG_TYPE_BOOL) {
		if (config_setting_get_bool(e))
			return cfgval_expected(e, "a group name, or false for "
			    "none", err, errlen);
		return 0;
	}
	if ((r = qosd_cfg_string(s, "exclusive", 0, excl, err,
	    errlen)) == -1)
		return -1;
	if (r == 0)
		*excl = plugin->default_exclusive;
	return 0;
}

static int
load_job(struct loader *ld, const config_setting_t *list, unsigned int i,
    struct cfg_job *j)
{
	const config_setting_t	*s;
	const struct qosd_collector *plugin;
	const config_setting_t	*nm, *earlier;
	const char		*name, *coll, *excl = NULL;
	char			 perr[2048], wbuf[PATH_MAX + 32];
	int			 r, enabled = 1;

	s = config_setting_get_elem(list, i);
	if (!config_setting_is_group(s))
		return cfgval_expected(s, "a job group { name = \"...\"; "
		    "collector = \"...\"; ... }", ld->err, ld->errlen);
	if ((r = cfgc_name(s, "job", &name, ld->err, ld->errlen)) == -1)
		return -1;
	if (r == 0)
		return qosd_cfg_error(s, ld->err, ld->errlen, "missing setting "
		    "\"name\": every job needs a unique name");
	/* A map, not a scan of the earlier jobs: 20,000 jobs load fast. */
	nm = config_setting_get_member(s, "name");
	if ((earlier = strmap_put(ld->names, name,
	    (void *)(uintptr_t)nm)) != NULL)
		return qosd_cfg_error(nm, ld->err, ld->errlen, "duplicate job "
		    "name \"%s\": %s already has a job of that name", name,
		    cfgc_where(earlier, nm, wbuf, sizeof(wbuf)));
	if ((r = qosd_cfg_string(s, "collector", 0, &coll, ld->err,
	    ld->errlen)) == -1)
		return -1;
	if (r == 0)
		return qosd_cfg_error(s, ld->err, ld->errlen, "missing setting "
		    "\"collector\": name the collector that runs this job");
	if ((plugin = plugin_get(coll, perr, sizeof(perr))) == NULL)
		return qosd_cfg_error(config_setting_get_member(s,
		    "collector"), ld->err, ld->errlen, "%s", perr);
	if (cfgc_known(s, plugin->name, plugin->settings, "common job",
	    job_settings, ld->err, ld->errlen) == -1 ||
	    qosd_cfg_bool(s, "enabled", &enabled, ld->err, ld->errlen) == -1 ||
	    job_exclusive(s, plugin, &excl, ld->err, ld->errlen) == -1 ||
	    job_timing(ld, s, j) == -1 ||
	    load_tags(s, &j->tags, &j->ntags, ld->err, ld->errlen) == -1)
		return -1;
	j->name = cfgc_strdup(name);
	j->collector = cfgc_strdup(coll);
	j->exclusive = excl != NULL ? cfgc_strdup(excl) : NULL;
	j->line = (int)config_setting_source_line(s);
	j->settings = probecfg_json(s, plugin->settings);
	j->plugin = plugin;
	ld->err[0] = '\0';
	/* For qosd_cfg_run_timeout_us(), during configure() only. */
	config_setting_set_hook((config_setting_t *)(uintptr_t)s,
	    &j->timeout_us);
	r = plugin->configure(s, &j->state, ld->err, ld->errlen);
	config_setting_set_hook((config_setting_t *)(uintptr_t)s, NULL);
	if (r == -1) {
		j->state = NULL;
		if (ld->err[0] == '\0')
			qosd_cfg_error(s, ld->err, ld->errlen, "the %s "
			    "collector refused the job's settings",
			    plugin->name);
		return -1;
	}
	return enabled;
}

static int
load_jobs(struct loader *ld)
{
	const config_setting_t	**l;
	struct cfg_job		  j;
	size_t			  i, n;
	unsigned int		  k;
	int			  r, rc = -1;

	l = cfgc_calloc(ld->nfiles, sizeof(*l));
	if (get_lists(ld, "jobs", "name = \"...\"; collector = \"...\";", l,
	    &n) == -1)
		goto out;
	ld->cfg->jobs = cfgc_calloc(n ? n : 1, sizeof(*ld->cfg->jobs));
	ld->names = strmap_new(n);
	for (i = 0; i < ld->nfiles; i++)
		for (k = 0; l[i] != NULL &&
		    k < (unsigned int)config_setting_length(l[i]); k++) {
			memset(&j, 0, sizeof(j));
			if ((r = load_job(ld, l[i], k, &j)) == 1)
				ld->cfg->jobs[ld->cfg->njobs++] = j;
			else
				job_cleanup(&j);
			if (r == -1)
				goto out;
		}
	rc = 0;
out:
	free(l);
	return rc;
}

/* A drop-in sets jobs and sinks only. */
static int
check_dropin(struct loader *ld, const config_setting_t *root)
{
	const config_setting_t	*s;
	unsigned int		 i;

	for (i = 0; (s = config_setting_get_elem(root, i)) != NULL; i++) {
		if (cfgc_in_list(config_setting_name(s), dropin_settings))
			continue;
		if (cfgc_in_list(config_setting_name(s), top_settings))
			return qosd_cfg_error(s, ld->err, ld->errlen, "not in "
			    "a drop-in: agent, daemon and defaults are set in "
			    "%s; a drop-in adds jobs and sinks",
			    ld->cfg->file);
		return cfgc_known(root, "drop-in", dropin_settings, NULL,
		    NULL, ld->err, ld->errlen);
	}
	return 0;
}

/*
 * A sink finds daemon.state_dir in its own tree (its spool goes under
 * it): a drop-in gets the main file's.
 */
static void
share_state_dir(const config_setting_t *top, config_setting_t *root)
{
	const config_setting_t	*g;
	config_setting_t	*d, *s;
	const char		*dir;

	if ((g = config_setting_get_member(top, "daemon")) == NULL ||
	    config_setting_lookup_string(g, "state_dir", &dir) != CONFIG_TRUE)
		return;
	if ((d = config_setting_add(root, "daemon", CONFIG_TYPE_GROUP)) ==
	    NULL || (s = config_setting_add(d, "state_dir",
	    CONFIG_TYPE_STRING)) == NULL || config_setting_set_string(s,
	    dir) != CONFIG_TRUE)
		fatal("config: cannot pass daemon.state_dir to a drop-in");
}

/* The main file and its drop-ins, each read and its top level checked. */
static int
read_files(struct loader *ld, const char *path)
{
	struct cfgfile	 *top;
	char		**dropins;
	size_t		  n, i;
	int		  rc = -1;

	if ((top = cfgfile_read(path, ld->err, ld->errlen)) == NULL)
		return -1;
	ld->files = cfgc_calloc(1, sizeof(*ld->files));
	ld->files[0] = top;
	ld->nfiles = 1;
	if (cfgc_known(cfgfile_root(top), "top-level", top_settings,
	    NULL, NULL, ld->err, ld->errlen) == -1)
		return -1;
	if (cfgfile_dropins(path, &dropins, &n, ld->err, ld->errlen) == -1)
		return -1;
	free(ld->files);
	ld->files = cfgc_calloc(n + 1, sizeof(*ld->files));
	ld->files[0] = top;
	for (i = 0; i < n; i++) {
		if ((ld->files[i + 1] = cfgfile_read(dropins[i], ld->err,
		    ld->errlen)) == NULL)
			goto out;
		ld->nfiles++;
		if (check_dropin(ld, cfgfile_root(ld->files[i + 1])) == -1)
			goto out;
		share_state_dir(cfgfile_root(top),
		    cfgfile_root(ld->files[i + 1]));
	}
	rc = 0;
out:
	for (i = 0; i < n; i++)
		free(dropins[i]);
	free(dropins);
	return rc;
}

struct cfg *
cfg_load(const char *path, char *err, size_t errlen)
{
	const config_setting_t	*root;
	struct loader		 ld;
	char			 scratch[2];
	size_t			 i;
	int			 rc = -1;

	memset(&ld, 0, sizeof(ld));
	/* err[0] is cleared to tell a configure() that gave no reason. */
	if (err == NULL || errlen == 0) {
		err = scratch;
		errlen = sizeof(scratch);
	}
	ld.err = err;
	ld.errlen = errlen;
	ld.cfg = cfgc_calloc(1, sizeof(*ld.cfg));
	ld.cfg->file = cfgc_strdup(path);
	if (read_files(&ld, path) == -1)
		goto out;
	root = cfgfile_root(ld.files[0]);
	if (load_agent(&ld, root) == -1 ||
	    load_daemon(&ld, root) == -1 ||
	    load_defaults(&ld, root) == -1 ||
	    load_sinks(&ld) == -1 ||
	    load_jobs(&ld) == -1 ||
	    cfg_load_control(ld.cfg, root, ld.err, ld.errlen) == -1 ||
	    cfg_load_nats(ld.cfg, root, ld.err, ld.errlen) == -1)
		goto out;
	cfg_index(ld.cfg);
	rc = 0;
out:
	strmap_free(ld.names);
	free(ld.sink_set);
	for (i = 0; i < ld.nfiles; i++)
		cfgfile_free(ld.files[i]);
	free(ld.files);
	if (rc == -1) {
		cfg_free(ld.cfg);
		return NULL;
	}
	return ld.cfg;
}

void
cfg_free(struct cfg *cfg)
{
	size_t	i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->njobs; i++)
		job_cleanup(&cfg->jobs[i]);
	free(cfg->jobs);
	strmap_free(cfg->jobmap);
	for (i = 0; i < cfg->nsinks; i++) {
		if (cfg->sinks[i].type != NULL &&
		    cfg->sinks[i].type->release != NULL)
			cfg->sinks[i].type->release(cfg->sinks[i].state);
		free(cfg->sinks[i].name);
	}
	free(cfg->sinks);
	free(cfg->file);
	free(cfg->agent_id);
	tags_free(cfg->agent_tags, cfg->nagent_tags);
	free(cfg->state_dir);
	cfg_control_free(&cfg->control);
	cfg_nats_free(cfg->nats);
	free(cfg);
}

void
cfg_forget_plugins(struct cfg *cfg)
{
	size_t	i;

	for (i = 0; i < cfg->njobs; i++) {
		struct cfg_job *j = &cfg->jobs[i];

		if (!j->forgotten && j->state != NULL &&
		    j->plugin->release != NULL)
			j->plugin->release(j->state);
		/* The values stand for the spawner's copies now. */
		j->forgotten = 1;
	}
}

void
cfg_index(struct cfg *cfg)
{
	size_t	i;

	strmap_free(cfg->jobmap);
	cfg->jobmap = strmap_new(cfg->njobs);
	for (i = 0; i < cfg->njobs; i++)
		strmap_put(cfg->jobmap, cfg->jobs[i].name, &cfg->jobs[i]);
}

const struct cfg_job *
cfg_job_find(const struct cfg *cfg, const char *name)
{
	return cfg->jobmap != NULL ? strmap_get(cfg->jobmap, name) : NULL;
}
