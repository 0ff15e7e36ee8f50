/*
 * probecfg.c: an ad-hoc probe's settings (see probecfg.h).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libconfig.h>

#include "lib/buf.h"
#include "qosd/cfg.h"
#include "qosd/collector.h"
#include "scheduler/cfgcheck.h"
#include "scheduler/plugin.h"
#include "scheduler/probecfg.h"

const char *const probecfg_common[] = { "timeout", NULL };

/* A setting's name as libconfig reads one: [a-z_][a-z0-9_]*, <= 64. */
static int
valid_key(const char *k)
{
	const char	*p;

	if (*k == '\0' || strlen(k) > CFGC_NAME_MAX ||
	    (*k >= '0' && *k <= '9'))
		return 0;
	for (p = k; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '_'))
			return 0;
	return 1;
}

static int
add_string(const char *key, const json_t *v, struct buf *out, char *err,
    size_t errlen)
{
	const char	*s = json_string_value(v);
	size_t		 i, n = json_string_length(v);

	if (strlen(s) != n) {
		snprintf(err, errlen, "settings.%s: a string with a NUL byte",
		    key);
		return -1;
	}
	buf_addc(out, '"');
	for (i = 0; i < n; i++) {
		unsigned char	c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			buf_addf(out, "\\%c", c);
		else if (c == '\n')
			buf_adds(out, "\\n");
		else if (c == '\t')
			buf_adds(out, "\\t");
		else if (c < 0x20 || c == 0x7f) {
			snprintf(err, errlen, "settings.%s: a control "
			    "character (0x%02x) in a string", key, c);
			return -1;
		} else
			buf_addc(out, (char)c);
	}
	return buf_addc(out, '"');
}

/* One scalar; an array or object is refused. */
static int
add_scalar(const char *key, const json_t *v, struct buf *out, char *err,
    size_t errlen)
{
	char		num[64];
	double		d;
	json_int_t	i;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return add_string(key, v, out, err, errlen);
	case JSON_INTEGER:
		i = json_integer_value(v);
		/* libconfig reads an integer beyond 32 bits with an L. */
		return buf_addf(out, "%lld%s", (long long)i,
		    i > INT32_MAX || i < INT32_MIN ? "L" : "");
	case JSON_REAL:
		d = json_real_value(v);
		if (!isfinite(d)) {
			snprintf(err, errlen, "settings.%s: not a finite "
			    "number", key);
			return -1;
		}
		snprintf(num, sizeof(num), "%.17g", d);
		if (strpbrk(num, ".e") == NULL)
			strcat(num, ".0");
		return buf_adds(out, num);
	case JSON_TRUE:
		return buf_adds(out, "true");
	case JSON_FALSE:
		return buf_adds(out, "false");
	default:
		snprintf(err, errlen, "settings.%s: only strings, numbers, "
		    "booleans and arrays of them are settings", key);
		return -1;
	}
}

/* An array: [ ] when its values are of one type, else a list ( ). */
static int
add_array(const char *key, const json_t *v, struct buf *out, char *err,
    size_t errlen)
{
	size_t		 i, n = json_array_size(v);
	int		 same = 1;
	json_type	 t0;

	if (n > PROBECFG_ELEMS_MAX) {
		snprintf(err, errlen, "settings.%s: %zu values, at most %d",
		    key, n, PROBECFG_ELEMS_MAX);
		return -1;
	}
	t0 = n > 0 ? json_typeof(json_array_get(v, 0)) : JSON_STRING;
	for (i = 0; i < n; i++) {
		json_type	t = json_typeof(json_array_get(v, i));

		if (t == JSON_TRUE || t == JSON_FALSE)
			t = JSON_TRUE;
		if (t != (t0 == JSON_FALSE ? JSON_TRUE : t0))
			same = 0;
	}
	buf_adds(out, same ? "[ " : "( ");
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_adds(out, ", ");
		if (add_scalar(key, json_array_get(v, i), out, err,
		    errlen) == -1)
			return -1;
	}
	return buf_adds(out, same ? " ]" : " )");
}

int
probecfg_text(const json_t *settings, size_t max, struct buf *out,
    char *err, size_t errlen)
{
	const char	*key;
	json_t		*v;
	struct buf	 b;
	int		 rc = -1;

	if (!json_is_object(settings)) {
		snprintf(err, errlen, "settings: expected an object of "
		    "settings");
		return -1;
	}
	if (json_object_size(settings) > PROBECFG_MEMBERS_MAX) {
		snprintf(err, errlen, "settings: %zu settings, at most %d",
		    json_object_size(settings), PROBECFG_MEMBERS_MAX);
		return -1;
	}
	/* Room for any request body; the cap is checked at the end. */
	buf_init(&b, max + (64 << 20));
	buf_adds(&b, "settings = {\n");
	json_object_foreach((json_t *)(uintptr_t)settings, key, v) {
		if (!valid_key(key)) {
			snprintf(err, errlen, "settings: \"%.64s\" is not a "
			    "setting name ([a-z_][a-z0-9_]*)", key);
			goto out;
		}
		buf_addf(&b, "  %s = ", key);
		if ((json_is_array(v) ? add_array(key, v, &b, err, errlen) :
		    add_scalar(key, v, &b, err, errlen)) == -1)
			goto out;
		buf_adds(&b, ";\n");
	}
	if (buf_adds(&b, "};\n") == -1 || b.len > max) {
		snprintf(err, errlen, "settings: more than %zu bytes", max);
		goto out;
	}
	if (buf_add(out, b.data, b.len) == -1) {
		snprintf(err, errlen, "settings: too long");
		goto out;
	}
	rc = 0;
out:
	buf_cleanup(&b);
	return rc;
}

/* A setting's value as JSON (a group: an object of its members). */
static json_t *
value_json(const config_setting_t *s)
{
	const config_setting_t	*e;
	json_t			*v;
	unsigned int		 i;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		return json_integer(config_setting_get_int(s));
	case CONFIG_TYPE_INT64:
		return json_integer(config_setting_get_int64(s));
	case CONFIG_TYPE_FLOAT:
		return json_real(config_setting_get_float(s));
	case CONFIG_TYPE_BOOL:
		return json_boolean(config_setting_get_bool(s));
	case CONFIG_TYPE_STRING:
		return json_string(config_setting_get_string(s));
	case CONFIG_TYPE_GROUP:
		v = json_object();
		for (i = 0; (e = config_setting_get_elem(s, i)) != NULL; i++)
			json_object_set_new(v, config_setting_name(e),
			    value_json(e));
		return v;
	default:
		v = json_array();
		for (i = 0; (e = config_setting_get_elem(s, i)) != NULL; i++)
			json_array_append_new(v, value_json(e));
		return v;
	}
}

json_t *
probecfg_json(const config_setting_t *g, const char *const *names)
{
	const config_setting_t	*s;
	json_t			*o = json_object();
	size_t			 i;

	for (i = 0; names != NULL && names[i] != NULL; i++)
		if ((s = config_setting_get_member(g, names[i])) != NULL)
			json_object_set_new(o, names[i], value_json(s));
	if (json_object_size(o) == 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
probecfg_configure(const char *collector, const char *text, size_t len,
    uint64_t timeout_us, const struct qosd_collector **plugin, void **state,
    char *err, size_t errlen)
{
	const struct qosd_collector	*p;
	config_setting_t		*s;
	config_t			 c;
	char				*copy;
	int				 rc = -1;

	if ((p = plugin_get(collector, err, errlen)) == NULL)
		return -1;
	if ((copy = strndup(text, len)) == NULL) {
		snprintf(err, errlen, "settings: out of memory");
		return -1;
	}
	config_init(&c);
	/* As the configuration files are read: no conversions. */
	config_set_options(&c, 0);
	if (config_read_string(&c, copy) != CONFIG_TRUE) {
		snprintf(err, errlen, "settings: line %d: %s",
		    config_error_line(&c), config_error_text(&c));
		goto out;
	}
	if ((s = config_lookup(&c, "settings")) == NULL ||
	    !config_setting_is_group(s)) {
		snprintf(err, errlen, "settings: not a group");
		goto out;
	}
	if (cfgc_known(s, p->name, p->settings, "common probe",
	    probecfg_common, err, errlen) == -1)
		goto out;
	err[0] = '\0';
	/* For qosd_cfg_run_timeout_us(), during configure() only. */
	config_setting_set_hook(s, &timeout_us);
	rc = p->configure(s, state, err, errlen);
	config_setting_set_hook(s, NULL);
	if (rc == -1 && err[0] == '\0')
		snprintf(err, errlen, "the %s collector refused the settings",
		    p->name);
	if (rc == 0)
		*plugin = p;
out:
	config_destroy(&c);
	free(copy);
	return rc == 0 ? 0 : -1;
}
