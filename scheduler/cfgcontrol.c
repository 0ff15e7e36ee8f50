/*
 * cfgcontrol.c: the configuration's control { } group: the control API's
 * socket, its limits, its results, and what ad-hoc probes may do.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "lib/cfgval.h"
#include "lib/log.h"
#include "qosd/cfg.h"
#include "qosd/collector.h"
#include "scheduler/cfgcheck.h"
#include "scheduler/config.h"
#include "scheduler/ctlacl.h"
#include "scheduler/plugin.h"

#define CTL_SOCKET	"/run/qosd/control"
#define DAY		86400.0

static const char *const control_settings[] = {
	"socket", "socket_mode", "socket_group", "max_connections",
	"connection_timeout", "max_request", "results_max", "results_age",
	"allow_probes", "collectors", "targets", "max_per_minute",
	"probe_timeout", NULL
};
static const char *const default_collectors[] = {
	"ping", "tcp", "udp", "http", NULL
};

/* "0660": an octal mode, owner bits at least rw (the daemon's socket). */
static int
read_mode(const config_setting_t *g, unsigned int *mode, char *err,
    size_t errlen)
{
	const char	*s;
	char		*end;
	unsigned long	 m;
	int		 r;

	if ((r = qosd_cfg_string(g, "socket_mode", 0, &s, err, errlen)) != 1)
		return r;
	m = strtoul(s, &end, 8);
	if (*end != '\0' || m > 0777 || (m & 0600) != 0600 || (m & 0111))
		return qosd_cfg_error(config_setting_get_member(g,
		    "socket_mode"), err, errlen, "expected an octal mode such "
		    "as \"0660\" (read and write for the owner, no execute), "
		    "got \"%s\"", s);
	*mode = (unsigned int)m;
	return 1;
}

static char **
copy_list(const char **list, size_t n)
{
	char	**v;
	size_t	  i;

	v = cfgc_calloc(n + 1, sizeof(*v));
	for (i = 0; i < n; i++)
		v[i] = cfgc_strdup(list[i]);
	return v;
}

/* Each collector probes may use, loaded: its target settings copied. */
static int
load_collectors(struct cfg_control *c, const config_setting_t *g, char *err,
    size_t errlen)
{
	const struct qosd_collector	*p;
	const config_setting_t		*s;
	const char			**list = NULL;
	size_t				  n, i, k;
	char				  perr[2048];
	int				  r;

	if ((r = g != NULL ? qosd_cfg_strings(g, "collectors", &list, &n,
	    err, errlen) : 0) == -1)
		return -1;
	s = g != NULL ? config_setting_get_member(g, "collectors") : NULL;
	if (r == 0) {
		for (n = 0; default_collectors[n] != NULL; n++)
			;
		c->collectors = copy_list((const char **)(uintptr_t)
		    default_collectors, n);
	} else {
		c->collectors = copy_list(list, n);
		free(list);
	}
	c->ncollectors = n;
	c->collector_targets = cfgc_calloc(n + 1, sizeof(char **));
	/* Only when probes are on: their plugins must then exist. */
	if (!c->allow_probes)
		return 0;
	for (i = 0; i < n; i++) {
		if ((p = plugin_get(c->collectors[i], perr,
		    sizeof(perr))) == NULL)
			return qosd_cfg_error(s, err, errlen, "%s", perr);
		/* A probe whose targets cannot be held to the list: none. */
		if (p->targets == NULL || p->targets[0] == NULL)
			return qosd_cfg_error(s, err, errlen, "\"%s\" names "
			    "no settings that hold its targets, so its probes "
			    "could not be held to control.targets: leave it "
			    "out", c->collectors[i]);
		for (k = 0; p->targets[k] != NULL; k++)
			;
		c->collector_targets[i] = copy_list((const char **)(uintptr_t)
		    p->targets, k);
	}
	return 0;
}

static int
load_targets(struct cfg_control *c, const config_setting_t *g, char *err,
    size_t errlen)
{
	const char	**list = NULL;
	size_t		  n = 0, i;
	char		  why[512];
	int		  r;

	if ((r = g != NULL ? qosd_cfg_strings(g, "targets", &list, &n, err,
	    errlen) : 0) != 1)
		return r;
	for (i = 0; i < n; i++)
		if (ctlacl_check(list[i], why, sizeof(why)) == -1) {
			free(list);
			return qosd_cfg_error(config_setting_get_member(g,
			    "targets"), err, errlen, "%s", why);
		}
	c->targets = copy_list(list, n);
	c->ntargets = n;
	free(list);
	return 1;
}

int
cfg_load_control(struct cfg *cfg, const config_setting_t *root, char *err,
    size_t errlen)
{
	struct cfg_control	*c = &cfg->control;
	const config_setting_t	*g;
	const char		*sock = CTL_SOCKET, *group = "qosd";
	long long		 conns = 64, rmax = 1000, perm = 60;
	double			 ctimeout = 10, age = 3600, ptimeout = 60;
	uint64_t		 maxreq = 65536;
	unsigned int		 mode = 0660;
	int			 allow = 0;

	if (cfgc_group(root, "control", "allow_probes = false; ...", &g, err,
	    errlen) == -1)
		return -1;
	if (g != NULL && (cfgc_known(g, "control", control_settings, NULL,
	    NULL, err, errlen) == -1 ||
	    qosd_cfg_string(g, "socket", 1, &sock, err, errlen) == -1 ||
	    read_mode(g, &mode, err, errlen) == -1 ||
	    qosd_cfg_string(g, "socket_group", 1, &group, err, errlen) == -1 ||
	    qosd_cfg_int(g, "max_connections", 1, 10000, &conns, err,
	    errlen) == -1 ||
	    qosd_cfg_float(g, "connection_timeout", 0, 3600, &ctimeout, err,
	    errlen) == -1 ||
	    qosd_cfg_size(g, "max_request", 1024, 16 << 20, &maxreq, err,
	    errlen) == -1 ||
	    qosd_cfg_int(g, "results_max", 1, 1000000, &rmax, err,
	    errlen) == -1 ||
	    qosd_cfg_float(g, "results_age", 1, 30 * DAY, &age, err,
	    errlen) == -1 ||
	    qosd_cfg_bool(g, "allow_probes", &allow, err, errlen) == -1 ||
	    qosd_cfg_int(g, "max_per_minute", 1, 100000, &perm, err,
	    errlen) == -1 ||
	    qosd_cfg_float(g, "probe_timeout", 0.001, DAY, &ptimeout, err,
	    errlen) == -1))
		return -1;
	if (sock[0] != '\0' && sock[0] != '/')
		return qosd_cfg_error(config_setting_get_member(g, "socket"),
		    err, errlen, "\"%s\" is not an absolute path (\"\" turns "
		    "the control API off)", sock);
	c->socket = sock[0] != '\0' ? cfgc_strdup(sock) : NULL;
	c->socket_mode = mode;
	c->socket_group = group[0] != '\0' ? cfgc_strdup(group) : NULL;
	c->max_connections = (unsigned int)conns;
	c->connection_timeout_s = (unsigned int)(ctimeout + 0.5);
	c->max_request = maxreq;
	c->results_max = (unsigned int)rmax;
	c->results_age_us = cfgc_us(age);
	c->allow_probes = allow;
	c->max_per_minute = (unsigned int)perm;
	c->probe_timeout_us = cfgc_us(ptimeout);
	if (load_collectors(c, g, err, errlen) == -1 ||
	    load_targets(c, g, err, errlen) == -1)
		return -1;
	return 0;
}

static void
free_list(char **v)
{
	size_t	i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

void
cfg_control_free(struct cfg_control *c)
{
	size_t	i;

	free(c->socket);
	free(c->socket_group);
	for (i = 0; c->collector_targets != NULL && i < c->ncollectors; i++)
		free_list(c->collector_targets[i]);
	free(c->collector_targets);
	free_list(c->collectors);
	free_list(c->targets);
	memset(c, 0, sizeof(*c));
}
