/*
 * check_mqtt.c: the mqtt sink's topic template (what it refuses, how it
 * expands), the JSON payload (exact objects), and its settings as the
 * configuration loader reads them (FILE:LINE errors, inline password
 * refused).
 */
#define _GNU_SOURCE

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "lib/buf.h"
#include "lib/lp.h"
#include "scheduler/config.h"
#include "sinks/mqtt.h"
#include "sinks/mqtt_conf.h"
#include "sinks/mqtt_topic.h"
#include "sinks/mqttship/payload.h"
#include "tests/unit/suites.h"

static char	tmp[64];
static char	conf[256];
static char	err[2048];

static void
setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/check_mqtt.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	snprintf(conf, sizeof(conf), "%s/qosd.conf", tmp);
}

static void
teardown(void)
{
	char	cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmp);
}

/* The topic template. */

static const struct {
	const char	*tmpl;
	const char	*why;		/* NULL: accepted */
} templates[] = {
	{ "qosd/{agent}/{measurement}", NULL },
	{ "netstats/{agent}/minute", NULL },
	{ "site/{tag:site}/{agent}/{tag:job}/{measurement}", NULL },
	{ "plain", NULL },
	{ "/leading/slash", NULL },
	{ "caf\xc3\xa9/{agent}", NULL },
	{ "", "empty" },
	{ "qosd/+/x", "a wildcard '+' at byte 6" },
	{ "qosd/#", "a wildcard '#' at byte 6" },
	{ "$SYS/qosd", "'$'" },
	{ "a\tb", "a control character (0x09) at byte 2" },
	{ "bad\xff", "invalid UTF-8 at byte 4" },
	{ "qosd/{agent", "a '{' without its '}' at byte 6" },
	{ "qosd/{a{gent}", "a '{' without its '}' at byte 6" },
	{ "qosd/agent}", "a '}' without its '{' at byte 11" },
	{ "qosd/{host}", "unknown placeholder \"{host}\" at byte 6" },
	{ "qosd/{tag:}", "unknown placeholder \"{tag:}\"" },
	{ "qosd/{}", "unknown placeholder \"{}\"" },
};

START_TEST(test_mqtt_topic_check_refuses_wildcards_and_unknown_placeholders)
{
	const char	*t = templates[_i].tmpl, *why = templates[_i].why;
	int		 r;

	err[0] = '\0';
	r = mqtt_topic_check(t, err, sizeof(err));
	if (why == NULL)
		ck_assert_msg(r == 0, "\"%s\" refused: %s", t, err);
	else
		ck_assert_msg(r == -1 && strstr(err, why) != NULL,
		    "\"%s\": want \"%s\", got %d \"%s\"", t, why, r, err);
}
END_TEST

START_TEST(test_mqtt_topic_check_refuses_overlong_templates)
{
	char	t[MQTT_TOPIC_TMPL_MAX + 2];

	memset(t, 'a', sizeof(t) - 1);
	t[sizeof(t) - 1] = '\0';
	ck_assert_int_eq(mqtt_topic_check(t, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "at most 1024"));
	t[MQTT_TOPIC_TMPL_MAX] = '\0';
	ck_assert_int_eq(mqtt_topic_check(t, err, sizeof(err)), 0);
}
END_TEST

static void
parse(const char *line, struct lp_point *p)
{
	lp_point_init(p);
	ck_assert_msg(lp_parse(line, strlen(line), p, err,
	    sizeof(err)) == 0, "%s: %s", line, err);
}

static void
expand_is(const char *tmpl, const char *agent, const char *line,
    const char *want)
{
	struct lp_point	p;
	struct buf	b;

	parse(line, &p);
	buf_init(&b, MQTT_TOPIC_MAX);
	ck_assert_int_eq(mqtt_topic_check(tmpl, err, sizeof(err)), 0);
	ck_assert_int_eq(mqtt_topic_expand(tmpl, agent, &p, &b), 0);
	ck_assert_str_eq(buf_str(&b), want);
	buf_cleanup(&b);
	lp_point_cleanup(&p);
}

START_TEST(test_mqtt_topic_expands_each_value_as_one_level)
{
	expand_is("netstats/{agent}/minute", "edge-1",
	    "udp,agent=edge-1,job=echo rtt_avg_ms=1.5 1",
	    "netstats/edge-1/minute");
	expand_is("qosd/{agent}/{measurement}", "edge-1", "tcp x=1i",
	    "qosd/edge-1/tcp");
	expand_is("s/{tag:site}/{tag:job}/{measurement}", "a",
	    "ping,job=gw,site=lab x=1", "s/lab/gw/ping");
	/* Separators and wildcards in a value are not levels. */
	expand_is("q/{agent}/{tag:target}", "a/b+c#",
	    "ping,target=http://h/x+y#z x=1", "q/a_b_c_/http:__h_x_y_z");
	/* A missing tag is "_". */
	expand_is("q/{tag:site}/{measurement}", "a", "ping x=1", "q/_/ping");
}
END_TEST

/* The JSON payload. */

static void
json_is(const char *line, const char *want)
{
	struct lp_point	p;
	struct buf	b;

	parse(line, &p);
	buf_init(&b, 1 << 20);
	ck_assert_int_eq(mqtt_payload_json(&p, &b), 0);
	ck_assert_str_eq(buf_str(&b), want);
	buf_cleanup(&b);
	lp_point_cleanup(&p);
}

START_TEST(test_mqtt_json_payload_is_one_exact_object)
{
	json_is("udp,agent=edge-1,job=echo,target=127.0.0.1 "
	    "rtt_avg_ms=0.1,loss_pct=0,sent=10i,lost=0u,result=\"ok\","
	    "up=true 1764612000000000000",
	    "{\"measurement\":\"udp\",\"tags\":{\"agent\":\"edge-1\","
	    "\"job\":\"echo\",\"target\":\"127.0.0.1\"},\"fields\":{"
	    "\"rtt_avg_ms\":0.1,\"loss_pct\":0.0,\"sent\":10,\"lost\":0,"
	    "\"result\":\"ok\",\"up\":true},\"time\":1764612000000000000}");
	/* No time: no "time" member. */
	json_is("m x=-2.5e-07", "{\"measurement\":\"m\",\"tags\":{},"
	    "\"fields\":{\"x\":-2.5e-07}}");
}
END_TEST

START_TEST(test_mqtt_json_payload_escapes_strings)
{
	json_is("m\\ x,k\\=1=a\\,b s=\"q\\\"b\\\\s\\tt\u00e9\" 5",
	    "{\"measurement\":\"m x\",\"tags\":{\"k=1\":\"a,b\"},"
	    "\"fields\":{\"s\":\"q\\\"b\\\\s\\\\tt\u00e9\"},\"time\":5}");
}
END_TEST

START_TEST(test_mqtt_json_payload_floats_read_back)
{
	static const double	v[] = { 0.1, 1.0 / 3, 1e300, -0.0, 123456.0,
				    5e-324 };
	struct lp_point		p;
	struct buf		b;
	const char		*s;
	char			*end;
	size_t			i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		lp_point_init(&p);
		ck_assert_int_eq(lp_point_set_measurement(&p, "m", err,
		    sizeof(err)), 0);
		ck_assert_int_eq(lp_point_field_float(&p, "x", v[i], err,
		    sizeof(err)), 0);
		buf_init(&b, 4096);
		ck_assert_int_eq(mqtt_payload_json(&p, &b), 0);
		s = strstr(buf_str(&b), "\"x\":") + 4;
		ck_assert_msg(memcmp(&(double){ strtod(s, &end) }, &v[i],
		    sizeof(double)) == 0, "%.17g written as %s", v[i], s);
		ck_assert_msg(strpbrk(s, ".e") != NULL && strpbrk(s, ".e") <
		    end, "a float without '.' or 'e': %s", s);
		buf_cleanup(&b);
		lp_point_cleanup(&p);
	}
}
END_TEST

/* Settings, through the configuration loader. */

static struct cfg *
load(const char *settings, mode_t mode)
{
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(conf, "w"));
	fprintf(f, "agent: { id = \"edge-1\"; };\n"
	    "daemon: { state_dir = \"%s/state\"; };\n"
	    "sinks = (\n  { type = \"mqtt\"; name = \"mq\";\n"
	    "    %s\n  }\n);\n", tmp, settings);
	fclose(f);
	ck_assert_int_eq(chmod(conf, mode), 0);
	err[0] = '\0';
	return cfg_load(conf, err, sizeof(err));
}

static void
expect_error(const char *settings, const char *want)
{
	struct cfg	*c = load(settings, 0644);

	if (c != NULL) {
		cfg_free(c);
		ck_abort_msg("loaded: %s", settings);
	}
	ck_assert_msg(strstr(err, want) != NULL, "%s\n  want: %s\n  got:  %s",
	    settings, want, err);
	ck_assert_msg(strncmp(err, conf, strlen(conf)) == 0, "no FILE:LINE: "
	    "%s", err);
}

static const struct mqtt_conf *
expect_ok(struct cfg **c, const char *settings)
{
	*c = load(settings, 0644);
	ck_assert_msg(*c != NULL, "%s: %s", settings, err);
	ck_assert_uint_eq((*c)->nsinks, 1);
	ck_assert_ptr_eq((*c)->sinks[0].type, &sink_mqtt_type);
	return (*c)->sinks[0].state;
}

START_TEST(test_mqtt_settings_and_their_defaults)
{
	const struct mqtt_conf	*mq;
	struct mqttship_conf	 copy;
	struct cfg		*c;

	mq = expect_ok(&c, "");
	ck_assert_str_eq(mq->mc.host, "localhost");
	ck_assert_int_eq(mq->mc.port, 1883);
	ck_assert_str_eq(mq->mc.topic, "qosd/{agent}/{measurement}");
	ck_assert_str_eq(mq->mc.agent, "edge-1");
	ck_assert_int_eq(mq->mc.qos, 1);
	ck_assert_int_eq(mq->mc.retain, 0);
	ck_assert_int_eq(mq->mc.payload, MQTT_PAYLOAD_LP);
	ck_assert_int_eq(mq->mc.tls, 0);
	mqtt_conf_copy(&copy, &mq->mc, "mq", mq->client_id_set);
	ck_assert_str_eq(copy.client_id, "qosd-edge-1-mq");
	mqtt_conf_cleanup(&copy);
	cfg_free(c);

	mq = expect_ok(&c, "host = \"broker\"; topic = "
	    "\"netstats/{agent}/minute\"; payload = \"json\"; qos = 0; "
	    "retain = true; keepalive = 30; client_id = \"probe-7\"; "
	    "username = \"u\"; password_file = \"/etc/qosd/mqtt-pw\"; "
	    "tls = { ca_file = \"/etc/ssl/ca.pem\"; verify = false; }; "
	    "batch_size = 10; max_inflight = 5; backoff_max = 2; "
	    "spool_max = \"1M\"; flush_interval = 0.2; fsync = false;");
	ck_assert_int_eq(mq->mc.port, 8883);
	ck_assert_int_eq(mq->mc.tls_verify, 0);
	ck_assert_int_eq(mq->mc.payload, MQTT_PAYLOAD_JSON);
	mqtt_conf_copy(&copy, &mq->mc, "mq", mq->client_id_set);
	ck_assert_str_eq(copy.client_id, "probe-7");
	mqtt_conf_cleanup(&copy);
	cfg_free(c);

	/* TLS without a CA file: the system's. */
	mq = expect_ok(&c, "tls = { };");
	ck_assert_int_eq(mq->mc.tls_verify, 1);
	ck_assert_str_eq(mq->mc.ca_path, "/etc/ssl/certs");
	cfg_free(c);
}
END_TEST

START_TEST(test_mqtt_refuses_bad_settings_with_file_line_setting)
{
	expect_error("topic = \"qosd/+/x\";", ":5: sinks.mq.topic: "
	    "\"qosd/+/x\": a wildcard '+' at byte 6");
	expect_error("topic = \"q/{host}\";", "unknown placeholder");
	expect_error("password = \"hunter2\";", ":5: sinks.mq.password: an "
	    "inline password would stay in the memory");
	expect_error("password_file = \"/etc/qosd/pw\";", "username: missing");
	expect_error("username = \"u\"; password_file = \"pw\";",
	    "is not an absolute path");
	expect_error("qos = 2;", "sinks.mq.qos");
	expect_error("payload = \"xml\";", "sinks.mq.payload");
	expect_error("tls = { ca = \"/x\"; };", "sinks.mq.tls.ca: unknown "
	    "setting");
	expect_error("tls = { cert_file = \"/c.pem\"; };", "needs both "
	    "cert_file and key_file");
	expect_error("host = \"a\\nb\";", "a control character (0x0a)");
	expect_error("username = \"u\"; password_file = \"/p\"; "
	    "password_credential = \"c\";", "one way only");
}
END_TEST

static Suite *
mqtt_suite(void)
{
	Suite	*s = suite_create("mqtt");
	TCase	*tc;

	tc = tcase_create("topic");
	tcase_add_loop_test(tc,
	    test_mqtt_topic_check_refuses_wildcards_and_unknown_placeholders,
	    0, (int)(sizeof(templates) / sizeof(templates[0])));
	tcase_add_test(tc, test_mqtt_topic_check_refuses_overlong_templates);
	tcase_add_test(tc, test_mqtt_topic_expands_each_value_as_one_level);
	suite_add_tcase(s, tc);
	tc = tcase_create("json");
	tcase_add_test(tc, test_mqtt_json_payload_is_one_exact_object);
	tcase_add_test(tc, test_mqtt_json_payload_escapes_strings);
	tcase_add_test(tc, test_mqtt_json_payload_floats_read_back);
	suite_add_tcase(s, tc);
	tc = tcase_create("settings");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_mqtt_settings_and_their_defaults);
	tcase_add_test(tc, test_mqtt_refuses_bad_settings_with_file_line_setting);
	suite_add_tcase(s, tc);
	return s;
}

QOSD_SUITE(mqtt)
