/*
 * cfgval.c: typed readers for libconfig settings, with error messages that
 * name the file, the line and the setting's path.
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libconfig.h>

#include "lib/buf.h"
#include "lib/cfgval.h"
#include "lib/lp.h"
#include "qosd/cfg.h"

#define QUOTE_MAX	60	/* characters of a string in messages */
#define MSG_MAX		4096
#define NAME_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZ" \
	"abcdefghijklmnopqrstuvwxyz0123456789_.-"

static const config_setting_t *
member(const config_setting_t *g, const char *name)
{
	if (g == NULL || !config_setting_is_group(g))
		return NULL;
	return config_setting_get_member(g, name);
}

void
cfgval_path(const config_setting_t *s, struct buf *b)
{
	const config_setting_t	*p, *nm;
	const char		*name;

	if (s == NULL || (p = config_setting_parent(s)) == NULL)
		return;
	if (config_setting_parent(p) != NULL) {
		cfgval_path(p, b);
		buf_addc(b, '.');
	}
	if (config_setting_is_group(p)) {
		buf_adds(b, config_setting_name(s));
		return;
	}
	if (config_setting_is_group(s) &&
	    (nm = config_setting_get_member(s, "name")) != NULL &&
	    config_setting_type(nm) == CONFIG_TYPE_STRING &&
	    (name = config_setting_get_string(nm)) != NULL && *name != '\0' &&
	    strlen(name) <= QUOTE_MAX && strspn(name, NAME_CHARS) ==
	    strlen(name))
		buf_adds(b, name);
	else
		buf_addf(b, "%d", config_setting_index(s));
}

void
cfgval_quote(const char *str, struct buf *b)
{
	const unsigned char	*p;
	size_t			 n = 0;

	buf_addc(b, '"');
	for (p = (const unsigned char *)str; *p != '\0'; p++, n++) {
		if (n == QUOTE_MAX) {
			buf_adds(b, "...");
			break;
		}
		if (*p == '"' || *p == '\\')
			buf_addf(b, "\\%c", *p);
		else if (*p == '\n')
			buf_adds(b, "\\n");
		else if (*p == '\r')
			buf_adds(b, "\\r");
		else if (*p == '\t')
			buf_adds(b, "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			buf_addf(b, "\\x%02x", *p);
		else
			buf_addc(b, (char)*p);
	}
	buf_addc(b, '"');
}

static void
describe(const config_setting_t *s, int bare_numbers, struct buf *b)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		buf_addf(b, "%s%lld", bare_numbers ? "" : "the integer ",
		    config_setting_get_int64(s));
		break;
	case CONFIG_TYPE_FLOAT:
		buf_addf(b, "%s%g", bare_numbers ? "" : "the number ",
		    config_setting_get_float(s));
		break;
	case CONFIG_TYPE_STRING:
		buf_adds(b, "the string ");
		cfgval_quote(config_setting_get_string(s), b);
		break;
	case CONFIG_TYPE_BOOL:
		buf_adds(b, config_setting_get_bool(s) ? "the boolean true" :
		    "the boolean false");
		break;
	case CONFIG_TYPE_GROUP:
		buf_adds(b, "a group { ... }");
		break;
	case CONFIG_TYPE_ARRAY:
		buf_adds(b, "an array [ ... ]");
		break;
	case CONFIG_TYPE_LIST:
		buf_adds(b, "a list ( ... )");
		break;
	default:
		buf_adds(b, "nothing");
		break;
	}
}

void
cfgval_describe(const config_setting_t *s, struct buf *b)
{
	describe(s, 0, b);
}

/* "FILE:LINE: PATH: expected EXPECT, got WHAT" */
static int
expected(const config_setting_t *s, const char *expect, int bare_numbers,
    char *err, size_t errlen)
{
	struct buf	b;

	buf_init(&b, MSG_MAX);
	describe(s, bare_numbers, &b);
	qosd_cfg_error(s, err, errlen, "expected %s, got %s", expect,
	    buf_str(&b));
	buf_cleanup(&b);
	return -1;
}

int
cfgval_expected(const config_setting_t *s, const char *expect, char *err,
    size_t errlen)
{
	return expected(s, expect, 0, err, errlen);
}

/* A message is one log line: its line breaks are written \n and \r. */
static void
one_line(char *s, size_t len)
{
	char	*tmp;
	size_t	 i, k = 0;

	if (strpbrk(s, "\n\r") == NULL || (tmp = strdup(s)) == NULL)
		return;
	for (i = 0; tmp[i] != '\0' && k + 3 < len; i++) {
		if (tmp[i] == '\n' || tmp[i] == '\r') {
			s[k++] = '\\';
			s[k++] = tmp[i] == '\n' ? 'n' : 'r';
		} else
			s[k++] = tmp[i];
	}
	s[k] = '\0';
	free(tmp);
}

int
qosd_cfg_error(const config_setting_t *s, char *err, size_t errlen,
    const char *fmt, ...)
{
	struct buf	 b;
	const char	*file = NULL;
	unsigned int	 line = 0;
	va_list		 ap;
	int		 n;

	if (errlen == 0)
		return -1;
	buf_init(&b, MSG_MAX);
	if (s != NULL) {
		file = config_setting_source_file(s);
		line = config_setting_source_line(s);
	}
	if (file != NULL && line > 0)
		buf_addf(&b, "%s:%u: ", file, line);
	else if (file != NULL)
		buf_addf(&b, "%s: ", file);
	cfgval_path(s, &b);
	if (s != NULL && config_setting_parent(s) != NULL)
		buf_adds(&b, ": ");
	n = snprintf(err, errlen, "%s", buf_str(&b));
	buf_cleanup(&b);
	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	one_line(err, errlen);
	return -1;
}

int
qosd_cfg_tag(const config_setting_t *s, const char *key, const char *value,
    char *err, size_t errlen)
{
	char	why[256];

	if (key != NULL && (lp_check_name(LP_TAG_KEY, key, why,
	    sizeof(why)) == -1 || strlen(key) > QOSD_CFG_TAG_MAX))
		return qosd_cfg_error(s, err, errlen, "not a tag key line "
		    "protocol can carry: %s", strlen(key) > QOSD_CFG_TAG_MAX ?
		    "longer than 256 bytes" : why);
	if (lp_check_name(LP_TAG_VALUE, value, why, sizeof(why)) == -1)
		return qosd_cfg_error(s, err, errlen, "not a tag value line "
		    "protocol can carry: %s", why);
	if (strlen(value) > QOSD_CFG_TAG_MAX)
		return qosd_cfg_error(s, err, errlen, "a tag value of %zu "
		    "bytes: at most %d", strlen(value), QOSD_CFG_TAG_MAX);
	return 0;
}

static int
is_int(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_INT ||
	    config_setting_type(s) == CONFIG_TYPE_INT64;
}

int
qosd_cfg_int(const config_setting_t *g, const char *name, long long min,
    long long max, long long *v, char *err, size_t errlen)
{
	const config_setting_t	*s;
	long long		 x;
	char			 expect[128];

	if ((s = member(g, name)) == NULL)
		return 0;
	if (is_int(s)) {
		x = config_setting_get_int64(s);
		if (x >= min && x <= max) {
			*v = x;
			return 1;
		}
	}
	if (min == LLONG_MIN && max == LLONG_MAX)
		snprintf(expect, sizeof(expect), "an integer");
	else if (max == LLONG_MAX)
		snprintf(expect, sizeof(expect), "an integer of at least %lld",
		    min);
	else if (min == LLONG_MIN)
		snprintf(expect, sizeof(expect), "an integer of at most %lld",
		    max);
	else
		snprintf(expect, sizeof(expect), "an integer from %lld to %lld",
		    min, max);
	return expected(s, expect, is_int(s), err, errlen);
}

int
qosd_cfg_float(const config_setting_t *g, const char *name, double min,
    double max, double *v, char *err, size_t errlen)
{
	const config_setting_t	*s;
	double			 x;
	char			 expect[128];

	if ((s = member(g, name)) == NULL)
		return 0;
	if (!config_setting_is_number(s))
		goto bad;
	/* Without auto-conversion libconfig reads an integer as 0.0. */
	if (is_int(s))
		x = (double)config_setting_get_int64(s);
	else
		x = config_setting_get_float(s);
	if (isfinite(x) && x >= min && x <= max) {
		*v = x;
		return 1;
	}
bad:
	snprintf(expect, sizeof(expect), "a number from %g to %g", min, max);
	return expected(s, expect, config_setting_is_number(s), err, errlen);
}

int
qosd_cfg_bool(const config_setting_t *g, const char *name, int *v,
    char *err, size_t errlen)
{
	const config_setting_t	*s;

	if ((s = member(g, name)) == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return expected(s, "true or false", 0, err, errlen);
	*v = config_setting_get_bool(s) != 0;
	return 1;
}

int
qosd_cfg_string(const config_setting_t *g, const char *name,
    int allow_empty, const char **v, char *err, size_t errlen)
{
	const config_setting_t	*s;
	const char		*str;

	if ((s = member(g, name)) == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING ||
	    (str = config_setting_get_string(s)) == NULL ||
	    (!allow_empty && *str == '\0'))
		return expected(s, allow_empty ? "a string" :
		    "a non-empty string", 0, err, errlen);
	*v = str;
	return 1;
}

/* The DiffServ code points with names (RFC 2474, 2597, 3246, 5865, 8622). */
static const struct {
	const char	*name;
	int		 value;
} dscp_names[] = {
	{ "cs0", 0 }, { "cs1", 8 }, { "cs2", 16 }, { "cs3", 24 },
	{ "cs4", 32 }, { "cs5", 40 }, { "cs6", 48 }, { "cs7", 56 },
	{ "af11", 10 }, { "af12", 12 }, { "af13", 14 },
	{ "af21", 18 }, { "af22", 20 }, { "af23", 22 },
	{ "af31", 26 }, { "af32", 28 }, { "af33", 30 },
	{ "af41", 34 }, { "af42", 36 }, { "af43", 38 },
	{ "ef", 46 }, { "va", 44 }, { "le", 1 },
};

int
qosd_cfg_dscp(const config_setting_t *g, const char *name, int *v,
    char *err, size_t errlen)
{
	const config_setting_t	*s;
	const char		*str;
	long long		 n;
	size_t			 i;
	int			 r;

	if ((s = config_setting_get_member(g, name)) == NULL)
		return 0;
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		str = config_setting_get_string(s);
		for (i = 0; i < sizeof(dscp_names) / sizeof(dscp_names[0]);
		    i++)
			if (strcasecmp(str, dscp_names[i].name) == 0) {
				*v = dscp_names[i].value;
				return 1;
			}
		return qosd_cfg_error(s, err, errlen, "unknown DSCP name "
		    "\"%s\": give a code point from 0 to 63 or a name: cs0 to "
		    "cs7, af11 to af43, ef, va or le", str);
	}
	if ((r = qosd_cfg_int(g, name, 0, 63, &n, err, errlen)) == 1)
		*v = (int)n;
	return r;
}

int
qosd_cfg_enum(const config_setting_t *g, const char *name,
    const char *const *choices, int *v, char *err, size_t errlen)
{
	const config_setting_t	*s;
	const char		*str;
	struct buf		 b;
	int			 i;

	if ((s = member(g, name)) == NULL)
		return 0;
	if (config_setting_type(s) == CONFIG_TYPE_STRING &&
	    (str = config_setting_get_string(s)) != NULL)
		for (i = 0; choices[i] != NULL; i++)
			if (strcmp(str, choices[i]) == 0) {
				*v = i;
				return 1;
			}
	buf_init(&b, MSG_MAX);
	buf_adds(&b, "one of ");
	for (i = 0; choices[i] != NULL; i++) {
		if (i > 0)
			buf_adds(&b, ", ");
		cfgval_quote(choices[i], &b);
	}
	expected(s, buf_str(&b), 0, err, errlen);
	buf_cleanup(&b);
	return -1;
}

/* 1048576 -> "1M"; sizes that are not a whole K, M, G or T in bytes. */
static void
size_str(uint64_t n, char *out, size_t outlen)
{
	static const char	suffix[] = "KMGT";
	int			i;

	for (i = 3; i >= 0; i--) {
		uint64_t unit = (uint64_t)1 << (10 * (i + 1));

		if (n >= unit && n % unit == 0) {
			snprintf(out, outlen, "%llu%c",
			    (unsigned long long)(n / unit), suffix[i]);
			return;
		}
	}
	snprintf(out, outlen, "%llu", (unsigned long long)n);
}

static int
parse_size(const char *str, uint64_t *v)
{
	uint64_t	 n = 0, mult = 1;
	const char	*p;

	if (*str < '0' || *str > '9')
		return -1;
	for (p = str; *p >= '0' && *p <= '9'; p++) {
		if (n > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	switch (*p) {
	case '\0':
		break;
	case 'K': case 'k':
		mult = (uint64_t)1 << 10;
		break;
	case 'M': case 'm':
		mult = (uint64_t)1 << 20;
		break;
	case 'G': case 'g':
		mult = (uint64_t)1 << 30;
		break;
	case 'T': case 't':
		mult = (uint64_t)1 << 40;
		break;
	default:
		return -1;
	}
	if (*p != '\0' && p[1] != '\0')
		return -1;
	if (n > UINT64_MAX / mult)
		return -1;
	*v = n * mult;
	return 0;
}

int
qosd_cfg_size(const config_setting_t *g, const char *name, uint64_t min,
    uint64_t max, uint64_t *v, char *err, size_t errlen)
{
	const config_setting_t	*s;
	uint64_t		 x;
	long long		 ll;
	char			 lo[32], hi[32], expect[256];

	if ((s = member(g, name)) == NULL)
		return 0;
	if (is_int(s)) {
		ll = config_setting_get_int64(s);
		if (ll >= 0 && (x = (uint64_t)ll) >= min && x <= max) {
			*v = x;
			return 1;
		}
	} else if (config_setting_type(s) == CONFIG_TYPE_STRING &&
	    parse_size(config_setting_get_string(s), &x) == 0 &&
	    x >= min && x <= max) {
		*v = x;
		return 1;
	}
	size_str(min, lo, sizeof(lo));
	size_str(max, hi, sizeof(hi));
	snprintf(expect, sizeof(expect), "a size from %s to %s (a number of "
	    "bytes, or a string with a K, M, G or T suffix such as \"512M\")",
	    lo, hi);
	return expected(s, expect, 0, err, errlen);
}

static int
string_elem(const config_setting_t *e, char *err, size_t errlen)
{
	const char	*str;

	if (config_setting_type(e) != CONFIG_TYPE_STRING ||
	    (str = config_setting_get_string(e)) == NULL || *str == '\0')
		return expected(e, "a non-empty string", 0, err, errlen);
	return 0;
}

int
qosd_cfg_strings(const config_setting_t *g, const char *name,
    const char ***list, size_t *n, char *err, size_t errlen)
{
	const config_setting_t	*s, *e;
	const char		**l;
	size_t			 len, i;

	if ((s = member(g, name)) == NULL)
		return 0;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		if (string_elem(s, err, errlen) == -1)
			return -1;
		len = 1;
		break;
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
		len = (size_t)config_setting_length(s);
		if (len == 0)
			return expected(s, "a string or a non-empty list of "
			    "strings", 0, err, errlen);
		for (i = 0; i < len; i++)
			if (string_elem(config_setting_get_elem(s,
			    (unsigned int)i), err, errlen) == -1)
				return -1;
		break;
	default:
		return expected(s, "a string or a list of strings", 0, err,
		    errlen);
	}
	if ((l = calloc(len + 1, sizeof(*l))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		l[0] = config_setting_get_string(s);
	else
		for (i = 0; i < len; i++) {
			e = config_setting_get_elem(s, (unsigned int)i);
			l[i] = config_setting_get_string(e);
		}
	*list = l;
	*n = len;
	return 1;
}

uint64_t
qosd_cfg_run_timeout_us(const config_setting_t *job)
{
	const uint64_t	*t;

	/* The loader hangs the job's timeout on it (config.c, load_job). */
	if (job == NULL || (t = config_setting_get_hook(job)) == NULL)
		return 0;
	return *t;
}
