/*
 * cfgcheck.c: checks the configuration's sections share (see cfgcheck.h).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "lib/buf.h"
#include "lib/cfgval.h"
#include "lib/log.h"
#include "qosd/cfg.h"
#include "scheduler/cfgcheck.h"

#define MSG_MAX		4096

char *
cfgc_strdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("strdup: %m");
	return p;
}

void *
cfgc_calloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size)) == NULL)
		fatal("calloc: %m");
	return p;
}

uint64_t
cfgc_us(double seconds)
{
	return (uint64_t)llround(seconds * 1e6);
}

int
cfgc_in_list(const char *s, const char *const *list)
{
	size_t	i;

	for (i = 0; list != NULL && list[i] != NULL; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

/* Levenshtein distance, for "did you mean"; large for long names. */
static size_t
distance(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b), i, j, prev, cur, tmp;
	size_t	row[CFGC_NAME_MAX + 1];

	if (la > CFGC_NAME_MAX || lb > CFGC_NAME_MAX)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			cur = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < cur)
				cur = row[j] + 1;
			if (row[j - 1] + 1 < cur)
				cur = row[j - 1] + 1;
			tmp = row[j];
			row[j] = cur;
			prev = tmp;
		}
	}
	return row[lb];
}

static void
closest(const char *name, const char *const *list, const char **best,
    size_t *bestd)
{
	size_t	i, d;

	for (i = 0; list != NULL && list[i] != NULL; i++)
		if ((d = distance(name, list[i])) < *bestd) {
			*bestd = d;
			*best = list[i];
		}
}

static void
add_list(struct buf *b, const char *what, const char *const *list)
{
	size_t	i;

	if (list == NULL || list[0] == NULL) {
		buf_addf(b, "%s has no settings of its own", what);
		return;
	}
	buf_addf(b, "%s settings are: ", what);
	for (i = 0; list[i] != NULL; i++)
		buf_addf(b, "%s%s", i ? ", " : "", list[i]);
}

/*
 * Refuse any member of g that is in neither known list; what and what2
 * name the lists in the message ("testcoll", "common job").
 */
int
cfgc_known(const config_setting_t *g, const char *what,
    const char *const *known, const char *what2, const char *const *known2,
    char *err, size_t errlen)
{
	const config_setting_t	*s;
	const char		*name, *best = NULL;
	size_t			 bestd = 3;
	struct buf		 b;
	int			 i, n;

	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(g, (unsigned int)i);
		name = config_setting_name(s);
		if (cfgc_in_list(name, known) || cfgc_in_list(name, known2))
			continue;
		closest(name, known, &best, &bestd);
		closest(name, known2, &best, &bestd);
		buf_init(&b, MSG_MAX);
		buf_adds(&b, "unknown setting");
		if (best != NULL && bestd < strlen(name))
			buf_addf(&b, " (did you mean \"%s\"?)", best);
		buf_adds(&b, "; ");
		add_list(&b, what, known);
		if (what2 != NULL) {
			buf_adds(&b, "; ");
			add_list(&b, what2, known2);
		}
		qosd_cfg_error(s, err, errlen, "%s", buf_str(&b));
		buf_cleanup(&b);
		return -1;
	}
	return 0;
}

/* A group, absent (NULL), or an error. */
int
cfgc_group(const config_setting_t *parent, const char *name,
    const char *example, const config_setting_t **g, char *err,
    size_t errlen)
{
	const config_setting_t	*s;
	char			 expect[256];

	*g = NULL;
	if ((s = config_setting_get_member(parent, name)) == NULL)
		return 0;
	if (!config_setting_is_group(s)) {
		snprintf(expect, sizeof(expect), "a group: %s = { %s }", name,
		    example);
		return cfgval_expected(s, expect, err, errlen);
	}
	*g = s;
	return 1;
}

/* A list of groups (an empty array will do), absent (NULL), or an error. */
int
cfgc_list(const config_setting_t *parent, const char *name,
    const char *example, const config_setting_t **l, char *err,
    size_t errlen)
{
	const config_setting_t	*s;
	char			 expect[256];

	*l = NULL;
	if ((s = config_setting_get_member(parent, name)) == NULL)
		return 0;
	if (!config_setting_is_list(s) && !(config_setting_is_array(s) &&
	    config_setting_length(s) == 0)) {
		snprintf(expect, sizeof(expect), "a list of groups: %s = ( "
		    "{ %s }, ... )", name, example);
		return cfgval_expected(s, expect, err, errlen);
	}
	*l = s;
	return 1;
}

/*
 * Where the setting s was written, for a message about a later setting
 * near: "line N" in the same file, else "FILE:LINE".
 */
const char *
cfgc_where(const config_setting_t *s, const config_setting_t *near, char *buf,
    size_t len)
{
	const char	*f = config_setting_source_file(s);
	const char	*nf = config_setting_source_file(near);

	if (f != NULL && nf != NULL && strcmp(f, nf) != 0)
		snprintf(buf, len, "%s:%u", f, config_setting_source_line(s));
	else
		snprintf(buf, len, "line %u", config_setting_source_line(s));
	return buf;
}

int
cfgc_valid_name(const char *s)
{
	const char	*p;

	if (*s == '\0' || strlen(s) > CFGC_NAME_MAX)
		return 0;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' ||
		    *p == '-'))
			return 0;
	return 1;
}

/* A name string member: 1 valid, 0 absent, -1 error. */
int
cfgc_name(const config_setting_t *g, const char *what, const char **v,
    char *err, size_t errlen)
{
	int	r;

	if ((r = qosd_cfg_string(g, "name", 0, v, err, errlen)) != 1)
		return r;
	if (!cfgc_valid_name(*v)) {
		struct buf	b;

		buf_init(&b, MSG_MAX);
		cfgval_quote(*v, &b);
		qosd_cfg_error(config_setting_get_member(g, "name"), err,
		    errlen, "%s is not a valid %s name: use 1 to %d letters, "
		    "digits, '_', '.' or '-'", buf_str(&b), what,
		    CFGC_NAME_MAX);
		buf_cleanup(&b);
		return -1;
	}
	return 1;
}

