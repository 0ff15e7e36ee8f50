/*
 * mqtt_topic.c: the mqtt sink's topic template (see mqtt_topic.h).
 */
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/lp.h"
#include "sinks/mqtt_topic.h"

#define TAG_PREFIX	"tag:"

enum ph {
	PH_BAD,
	PH_AGENT,
	PH_MEASUREMENT,
	PH_TAG
};

/*
 * The placeholder whose name is the n bytes at s (between the braces);
 * for {tag:NAME}, NAME's start and length.
 */
static enum ph
placeholder(const char *s, size_t n, const char **tag, size_t *taglen)
{
	size_t	pl = strlen(TAG_PREFIX);

	if (n == 5 && memcmp(s, "agent", 5) == 0)
		return PH_AGENT;
	if (n == 11 && memcmp(s, "measurement", 11) == 0)
		return PH_MEASUREMENT;
	if (n > pl && memcmp(s, TAG_PREFIX, pl) == 0) {
		*tag = s + pl;
		*taglen = n - pl;
		return PH_TAG;
	}
	return PH_BAD;
}

int
mqtt_topic_check(const char *tmpl, char *err, size_t errlen)
{
	const char	*p, *end, *tag;
	size_t		 len = strlen(tmpl), bad, taglen;

	if (len == 0) {
		snprintf(err, errlen, "empty: give the topic to publish to, "
		    "e.g. \"%s\"", MQTT_TOPIC_DEFAULT);
		return -1;
	}
	if (len > MQTT_TOPIC_TMPL_MAX) {
		snprintf(err, errlen, "%zu bytes: at most %d", len,
		    MQTT_TOPIC_TMPL_MAX);
		return -1;
	}
	if ((bad = lp_utf8_invalid(tmpl, len)) < len) {
		snprintf(err, errlen, "invalid UTF-8 at byte %zu", bad + 1);
		return -1;
	}
	if (tmpl[0] == '$') {
		snprintf(err, errlen, "a topic beginning with '$' is the "
		    "broker's own ($SYS): choose another first level");
		return -1;
	}
	for (p = tmpl; *p != '\0'; p++) {
		if (*p == '+' || *p == '#') {
			snprintf(err, errlen, "a wildcard '%c' at byte %zu: a "
			    "topic to publish to has none (wildcards are for "
			    "subscribers)", *p, (size_t)(p - tmpl) + 1);
			return -1;
		}
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen, "a control character (0x%02x) at "
			    "byte %zu", (unsigned char)*p,
			    (size_t)(p - tmpl) + 1);
			return -1;
		}
		if (*p == '}') {
			snprintf(err, errlen, "a '}' without its '{' at byte "
			    "%zu", (size_t)(p - tmpl) + 1);
			return -1;
		}
		if (*p != '{')
			continue;
		if ((end = strpbrk(p + 1, "{}")) == NULL || *end == '{') {
			snprintf(err, errlen, "a '{' without its '}' at byte "
			    "%zu", (size_t)(p - tmpl) + 1);
			return -1;
		}
		if (placeholder(p + 1, (size_t)(end - p - 1), &tag,
		    &taglen) == PH_BAD) {
			snprintf(err, errlen, "unknown placeholder \"%.*s\" at "
			    "byte %zu: known are {agent}, {measurement} and "
			    "{tag:NAME}", (int)(end - p + 1), p,
			    (size_t)(p - tmpl) + 1);
			return -1;
		}
		p = end;
	}
	return 0;
}

/* A value as one level: no separator, no wildcard; "_" if empty. */
static int
add_level(struct buf *out, const char *v)
{
	const char	*p;
	char		 c;

	if (v == NULL || *v == '\0')
		return buf_addc(out, '_');
	for (p = v; *p != '\0'; p++) {
		c = *p;
		if (c == '/' || c == '+' || c == '#' ||
		    (unsigned char)c < 0x20 || c == 0x7f)
			c = '_';
		if (buf_addc(out, c) == -1)
			return -1;
	}
	return 0;
}

/* The value of tag key (n bytes) of p, or NULL. */
static const char *
tag_value(const struct lp_point *p, const char *key, size_t n)
{
	size_t	i;

	for (i = 0; i < p->ntags; i++)
		if (strncmp(p->tags[i].key, key, n) == 0 &&
		    p->tags[i].key[n] == '\0')
			return p->tags[i].value;
	return NULL;
}

int
mqtt_topic_expand(const char *tmpl, const char *agent,
    const struct lp_point *p, struct buf *out)
{
	const char	*s, *end, *tag = NULL;
	size_t		 taglen = 0;
	int		 r = 0;

	buf_reset(out);
	for (s = tmpl; *s != '\0' && r == 0; s++) {
		if (*s != '{' || (end = strchr(s, '}')) == NULL) {
			r = buf_addc(out, *s);
			continue;
		}
		switch (placeholder(s + 1, (size_t)(end - s - 1), &tag,
		    &taglen)) {
		case PH_AGENT:
			r = add_level(out, agent);
			break;
		case PH_MEASUREMENT:
			r = add_level(out, p->measurement);
			break;
		case PH_TAG:
			r = add_level(out, tag_value(p, tag, taglen));
			break;
		case PH_BAD:
			r = buf_add(out, s, (size_t)(end - s + 1));
			break;
		}
		s = end;
	}
	if (r == -1 || out->len > MQTT_TOPIC_MAX || buf_str(out) == NULL)
		return -1;
	return 0;
}
