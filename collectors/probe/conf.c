/*
 * conf.c: the settings every probe collector shares.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/probe/conf.h"
#include "qosd/cfg.h"

#define HOST_MAX	253	/* the longest DNS name */

static const char *const families[] = { "any", "ipv4", "ipv6", NULL };
static const int family_af[] = { AF_UNSPEC, AF_INET, AF_INET6 };

/* targets: present, and every one could be a host name or an address. */
static int
read_targets(struct probe_conf *pc, const config_setting_t *job, char *err,
    size_t errlen)
{
	const config_setting_t	 *s;
	const char		**list = NULL;
	size_t			  n = 0, i;
	int			  r;

	if ((r = qosd_cfg_strings(job, "targets", &list, &n, err,
	    errlen)) == -1)
		return -1;
	if (r == 0)
		return qosd_cfg_error(job, err, errlen, "targets: missing: "
		    "give the %s, e.g. targets = [ \"192.0.2.1\" ]",
		    pc->spec->targets_hint);
	s = config_setting_get_member(job, "targets");
	for (i = 0; i < n; i++) {
		if (strpbrk(list[i], " \t\r\n") != NULL ||
		    strlen(list[i]) > HOST_MAX) {
			qosd_cfg_error(s, err, errlen, "\"%s\" is not a host "
			    "name or address", list[i]);
			goto fail;
		}
		/* Each target is the value of the tag target. */
		if (qosd_cfg_tag(s, NULL, list[i], err, errlen) == -1)
			goto fail;
	}
	if ((pc->targets = calloc(n, sizeof(*pc->targets))) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		if ((pc->targets[i] = strdup(list[i])) == NULL)
			goto nomem;
		pc->ntargets++;
	}
	free(list);
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	free(list);
	return -1;
}

/* source: a numeric address, which sets the family (fam, an index). */
static int
read_source(struct probe_conf *pc, const config_setting_t *job, int fam,
    char *err, size_t errlen)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&pc->source;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&pc->source;
	const char		*src = NULL;
	int			 r;

	if ((r = qosd_cfg_string(job, "source", 0, &src, err,
	    errlen)) != 1)
		return r;
	if (inet_pton(AF_INET, src, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, src, &s6->sin6_addr) == 1)
		s6->sin6_family = AF_INET6;
	else
		return qosd_cfg_error(config_setting_get_member(job, "source"),
		    err, errlen, "\"%s\" is not an IPv4 or IPv6 address", src);
	if (pc->family != AF_UNSPEC && pc->family != pc->source.ss_family)
		return qosd_cfg_error(config_setting_get_member(job, "source"),
		    err, errlen, "\"%s\" is not of the family \"%s\"", src,
		    families[fam]);
	pc->family = pc->source.ss_family;
	return 1;
}

static int
read_device(struct probe_conf *pc, const config_setting_t *job, char *err,
    size_t errlen)
{
	const char	*dev = NULL;
	int		 r;

	if ((r = qosd_cfg_string(job, "device", 0, &dev, err, errlen)) != 1)
		return r;
	if (strlen(dev) >= IF_NAMESIZE)
		return qosd_cfg_error(config_setting_get_member(job, "device"),
		    err, errlen, "\"%s\" is longer than an interface name (%d)",
		    dev, IF_NAMESIZE - 1);
	if ((pc->device = strdup(dev)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 1;
}

/*
 * The probes of a target take (count - 1) x interval for the sends and a
 * timeout for the last reply: more than the run's timeout, and the last
 * replies would always count as lost.
 */
static int
fits(const struct probe_conf *pc, const config_setting_t *job, char *err,
    size_t errlen)
{
	uint64_t	run = qosd_cfg_run_timeout_us(job);
	double		need = (double)(pc->count - 1) * pc->interval +
			    pc->timeout;

	if (run == 0 || need * 1e6 <= (double)run)
		return 0;
	return qosd_cfg_error(job, err, errlen, "%lld probes take %g s "
	    "((count - 1) x %s + %s), more than the run's timeout of %g s "
	    "(its own, or defaults.timeout): raise timeout, or lower count, "
	    "%s or %s", pc->count, need, pc->spec->interval,
	    pc->spec->timeout, (double)run / 1e6, pc->spec->interval,
	    pc->spec->timeout);
}

int
probe_conf_read(struct probe_conf *pc, const struct probe_spec *sp,
    const config_setting_t *job, char *err, size_t errlen)
{
	int	fam = 0;

	memset(pc, 0, sizeof(*pc));
	pc->spec = sp;
	pc->count = 5;
	pc->interval = 0.2;
	pc->timeout = 1.0;
	pc->ttl = 64;
	pc->size = sp->size_def;
	pc->source.ss_family = AF_UNSPEC;
	if (read_targets(pc, job, err, errlen) == -1 ||
	    qosd_cfg_int(job, "count", 1, 10000, &pc->count, err,
	    errlen) == -1 ||
	    qosd_cfg_float(job, sp->interval, 0.001, 3600, &pc->interval, err,
	    errlen) == -1 ||
	    qosd_cfg_float(job, sp->timeout, 0.001, 3600, &pc->timeout, err,
	    errlen) == -1 ||
	    ((sp->opts & PROBE_TTL) && qosd_cfg_int(job, "ttl", 1, 255,
	    &pc->ttl, err, errlen) == -1) ||
	    qosd_cfg_int(job, "size", sp->size_min, sp->size_max, &pc->size,
	    err, errlen) == -1 ||
	    qosd_cfg_dscp(job, "dscp", &pc->dscp, err, errlen) == -1 ||
	    qosd_cfg_enum(job, "family", families, &fam, err, errlen) == -1)
		goto fail;
	pc->family = family_af[fam];
	if (read_source(pc, job, fam, err, errlen) == -1 ||
	    ((sp->opts & PROBE_DEVICE) && read_device(pc, job, err,
	    errlen) == -1) ||
	    fits(pc, job, err, errlen) == -1)
		goto fail;
	return 0;
fail:
	probe_conf_cleanup(pc);
	return -1;
}

void
probe_conf_cleanup(struct probe_conf *pc)
{
	size_t	i;

	if (pc == NULL)
		return;
	for (i = 0; i < pc->ntargets; i++)
		free(pc->targets[i]);
	free(pc->targets);
	pc->targets = NULL;
	pc->ntargets = 0;
	free(pc->device);
	pc->device = NULL;
}

void *
probe_job_new(size_t size, const struct probe_spec *sp,
    const config_setting_t *job, char *err, size_t errlen)
{
	struct probe_conf	*pc;

	if ((pc = calloc(1, size)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (probe_conf_read(pc, sp, job, err, errlen) == -1) {
		free(pc);
		return NULL;
	}
	return pc;
}

void
probe_job_free(void *state)
{
	probe_conf_cleanup(state);
	free(state);
}
