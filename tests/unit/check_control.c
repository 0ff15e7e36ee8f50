/*
 * check_control.c: the control core's pure parts: the allow-list of
 * probe targets (scheduler/ctlacl.c: addresses, prefixes, names,
 * domains, URLs' hosts) and the strict conversion of a probe's JSON
 * settings into libconfig text (scheduler/probecfg.c), which libconfig
 * must read back to the same values; the results ring's bounds
 * (scheduler/ctlres.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <check.h>
#include <jansson.h>
#include <libconfig.h>

#include "lib/buf.h"
#include "scheduler/ctlacl.h"
#include "scheduler/ctlres.h"
#include "scheduler/probecfg.h"
#include "tests/unit/suites.h"

START_TEST(test_control_acl_matches_hosts_prefixes_and_domains)
{
	static const struct {
		const char	*value;
		int		 allowed;
	} cases[] = {
		{ "192.0.2.1", 1 },
		{ "192.0.2.255", 1 },
		{ "192.0.3.1", 0 },
		{ "10.0.0.1", 0 },
		{ "127.0.0.1", 1 },
		{ "127.0.0.2", 0 },
		{ "::ffff:192.0.2.7", 1 },
		{ "2001:db8::1", 1 },
		{ "[2001:db8::1]", 1 },
		{ "2001:db9::1", 0 },
		{ "gw.example.net", 1 },
		{ "GW.Example.NET.", 1 },
		{ "a.b.example.net", 1 },
		{ "example.net", 0 },
		{ "badexample.net", 0 },
		{ "example.net.evil.org", 0 },
		{ "host.lab", 1 },
		{ "other.lab", 0 },
		{ "http://gw.example.net/x", 1 },
		{ "https://user:pw@gw.example.net:8443/x?y", 1 },
		{ "http://[2001:db8::5]:80/", 1 },
		{ "http://192.0.2.9:8080", 1 },
		{ "http://evil.org/gw.example.net", 0 },
		{ "http://gw.example.net@evil.org/", 0 },
		{ "", 0 },
		{ "http://", 0 },
	};
	char *const	 pats[] = { "192.0.2.0/24", "127.0.0.1", "2001:db8::/32",
			    "*.example.net", "host.lab" };
	struct ctlacl	*a = ctlacl_new(pats, 5);
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(ctlacl_allows(a, cases[i].value) ==
		    cases[i].allowed, "\"%s\": expected %s", cases[i].value,
		    cases[i].allowed ? "allowed" : "refused");
	ctlacl_free(a);
	ck_assert_int_eq(ctlacl_allows(NULL, "127.0.0.1"), 0);
}
END_TEST

START_TEST(test_control_acl_refuses_malformed_patterns)
{
	static const char *const bad[] = { "192.0.2.0/33", "2001:db8::/129",
	    "*", "*.", "a*.example.net", "exa mple", "1.2.3.4/", "x/8",
	    "::ffff:1.2.3.4/90", NULL };
	static const char *const good[] = { "0.0.0.0/0", "::/0",
	    "::ffff:10.0.0.0/104", "localhost", "*.a-b.c", NULL };
	char	err[256];
	size_t	i;

	for (i = 0; bad[i] != NULL; i++) {
		ck_assert_msg(ctlacl_check(bad[i], err, sizeof(err)) == -1,
		    "%s passed", bad[i]);
		ck_assert_ptr_nonnull(strstr(err, "is not an address"));
	}
	for (i = 0; good[i] != NULL; i++)
		ck_assert_msg(ctlacl_check(good[i], err, sizeof(err)) == 0,
		    "%s: %s", good[i], err);
}
END_TEST

/* settings as JSON -> text -> libconfig: 0 and the tree, or -1 and err. */
static int
convert(const char *json, config_t *c, char *err, size_t errlen)
{
	json_t		*j = json_loads(json, JSON_ALLOW_NUL, NULL);
	struct buf	 b;
	int		 r;

	ck_assert_ptr_nonnull(j);
	buf_init(&b, 4096);
	r = probecfg_text(j, 4096, &b, err, errlen);
	json_decref(j);
	if (r == 0) {
		config_init(c);
		ck_assert_msg(config_read_string(c, buf_str(&b)) == CONFIG_TRUE,
		    "libconfig: %s in %s", config_error_text(c), buf_str(&b));
	}
	buf_cleanup(&b);
	return r;
}

START_TEST(test_control_settings_read_back_as_given)
{
	config_t		 c;
	config_setting_t	*s;
	const char		*str;
	long long		 ll;
	double			 d;
	int			 i;
	char			 err[256];

	ck_assert_int_eq(convert("{\"targets\": [\"a\\\"b\", \"c\\\\d\\n\"],"
	    " \"count\": 4, \"big\": 5000000000, \"f\": 0.25, \"whole\": 3.0,"
	    " \"on\": true, \"mixed\": [1, \"x\"], \"empty\": [],"
	    " \"u\": \"\\u00e9\\t\"}", &c, err, sizeof(err)), 0);
	s = config_lookup(&c, "settings.targets");
	ck_assert_int_eq(config_setting_type(s), CONFIG_TYPE_ARRAY);
	ck_assert_str_eq(config_setting_get_string_elem(s, 0), "a\"b");
	ck_assert_str_eq(config_setting_get_string_elem(s, 1), "c\\d\n");
	ck_assert(config_lookup_int(&c, "settings.count", &i));
	ck_assert_int_eq(i, 4);
	ck_assert(config_lookup_int64(&c, "settings.big", &ll));
	ck_assert(ll == 5000000000LL);
	ck_assert(config_lookup_float(&c, "settings.f", &d));
	ck_assert(d == 0.25);
	s = config_lookup(&c, "settings.whole");
	ck_assert_int_eq(config_setting_type(s), CONFIG_TYPE_FLOAT);
	ck_assert(config_lookup_bool(&c, "settings.on", &i) && i == 1);
	s = config_lookup(&c, "settings.mixed");
	ck_assert_int_eq(config_setting_type(s), CONFIG_TYPE_LIST);
	ck_assert_int_eq(config_setting_length(config_lookup(&c,
	    "settings.empty")), 0);
	ck_assert(config_lookup_string(&c, "settings.u", &str));
	ck_assert_str_eq(str, "\xc3\xa9\t");
	config_destroy(&c);
}
END_TEST

START_TEST(test_control_settings_refused)
{
	static const struct {
		const char	*json;
		const char	*why;
	} cases[] = {
		{ "[1]", "expected an object" },
		{ "{\"Count\": 1}", "is not a setting name" },
		{ "{\"1x\": 1}", "is not a setting name" },
		{ "{\"a-b\": 1}", "is not a setting name" },
		{ "{\"a\": {\"b\": 1}}", "only strings, numbers" },
		{ "{\"a\": [[1]]}", "only strings, numbers" },
		{ "{\"a\": [{}]}", "only strings, numbers" },
		{ "{\"a\": null}", "only strings, numbers" },
		{ "{\"a\": \"x\\u0001\"}", "control character" },
		{ "{\"a\": \"x\\u0000y\"}", "NUL" },
		{ "{\"a\": \"x\\r\"}", "control character" },
	};
	config_t	c;
	char		err[256];
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(convert(cases[i].json, &c, err,
		    sizeof(err)) == -1, "%s passed", cases[i].json);
		ck_assert_msg(strstr(err, cases[i].why) != NULL, "%s: %s",
		    cases[i].json, err);
	}
}
END_TEST

START_TEST(test_control_settings_size_capped)
{
	json_t		*j = json_object(), *a = json_array();
	struct buf	 b;
	char		 err[256];
	int		 i;

	for (i = 0; i < 1000; i++)
		json_array_append_new(a, json_string("0123456789"));
	json_object_set_new(j, "targets", a);
	buf_init(&b, 1 << 20);
	ck_assert_int_eq(probecfg_text(j, 4096, &b, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "more than 4096 bytes"));
	ck_assert_uint_eq(b.len, 0);
	buf_cleanup(&b);
	json_decref(j);
}
END_TEST

START_TEST(test_control_results_ring_is_bounded)
{
	struct ctlres_ring	*r = ctlres_ring_new(3, 3600000000ULL);
	struct ctl_result	*x[5];
	char			 id[16];
	int			 i;

	for (i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "r%d", i);
		x[i] = ctlres_add(r, id, 0, "job", "ping");
		/* The first two end at once; the others go on. */
		if (i < 2)
			x[i]->live = 0;
	}
	/* Five, three allowed: the two that ended go, live ones stay. */
	ck_assert_uint_eq(ctlres_count(r), 3);
	ck_assert_ptr_null(ctlres_find(r, "r0"));
	ck_assert_ptr_null(ctlres_find(r, "r1"));
	ck_assert_ptr_nonnull(ctlres_find(r, "r4"));
	/* Live ones are never dropped, even over the count. */
	x[4] = ctlres_add(r, "r5", 0, "job", "ping");
	ck_assert_uint_eq(ctlres_count(r), 4);
	ck_assert(ctlres_valid_id("a-Z_0.9:x"));
	ck_assert(!ctlres_valid_id("a b"));
	ck_assert(!ctlres_valid_id(""));
	ck_assert(!ctlres_valid_id("../x"));
	ctlres_ring_free(r);
}
END_TEST

static Suite *
control_suite(void)
{
	Suite	*s = suite_create("control");
	TCase	*tc = tcase_create("control");

	tcase_add_test(tc,
	    test_control_acl_matches_hosts_prefixes_and_domains);
	tcase_add_test(tc, test_control_acl_refuses_malformed_patterns);
	tcase_add_test(tc, test_control_settings_read_back_as_given);
	tcase_add_test(tc, test_control_settings_refused);
	tcase_add_test(tc, test_control_settings_size_capped);
	tcase_add_test(tc, test_control_results_ring_is_bounded);
	suite_add_tcase(s, tc);
	return s;
}

QOSD_SUITE(control)
