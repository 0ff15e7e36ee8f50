/*
 * mqtt_topic.h: the mqtt sink's topic template.  The daemon checks it at
 * configure() time; the sending process (sinks/mqttship/) expands it for
 * each point.
 *
 * A template is the topic to publish to, with placeholders: {agent} (the
 * agent id), {measurement}, {tag:NAME} (the point's tag NAME).  It is
 * refused when it holds a wildcard ('+', '#': a topic to publish to may
 * have none), a control character or invalid UTF-8, starts with '$'
 * (the broker's own topics), is empty or longer than MQTT_TOPIC_TMPL_MAX,
 * or has a placeholder it does not know or a lone '{' or '}'.
 *
 * A value put in (an agent id, a measurement, a tag value) is one level
 * of the topic: each '/', '+', '#' and control character in it becomes
 * '_', and an empty or missing value is "_".
 */
#ifndef SINKS_MQTT_TOPIC_H
#define SINKS_MQTT_TOPIC_H

#include <stddef.h>

struct buf;
struct lp_point;

#define MQTT_TOPIC_TMPL_MAX	1024		/* bytes of a template */
#define MQTT_TOPIC_MAX		65535		/* bytes of a topic (MQTT) */
#define MQTT_TOPIC_DEFAULT	"qosd/{agent}/{measurement}"

/*
 * Whether tmpl is a template that can be used.  0, or -1 with err saying
 * what is wrong and where ("a wildcard '+' at byte 5: ...").
 */
int	mqtt_topic_check(const char *tmpl, char *err, size_t errlen);
/*
 * The topic of point p with template tmpl (checked) and agent id agent,
 * into out (reset first, NUL-terminated: buf_str()).  0, or -1 if it is
 * longer than MQTT_TOPIC_MAX or out is full.
 */
int	mqtt_topic_expand(const char *tmpl, const char *agent,
	    const struct lp_point *p, struct buf *out);

#endif /* SINKS_MQTT_TOPIC_H */
