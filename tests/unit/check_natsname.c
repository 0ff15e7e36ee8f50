/*
 * check_natsname.c: names on the NATS bus (lib/natsname.h): what an
 * agent id, a subject prefix and a bucket may be, the subjects and keys
 * made from them (a request id encoded so that a key stays one token);
 * and nats { } as the configuration reads it (scheduler/cfgnats.c):
 * defaults, a password file checked, not read, copies and equality.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "bus/bus.h"
#include "lib/natsname.h"
#include "lib/secret.h"
#include "scheduler/config.h"
#include "tests/unit/suites.h"

static const struct {
	const char	*s;
	int		 agent, prefix, bucket;
} names[] = {
	{ "edge-1", 0, 0, 0 },
	{ "qosd_results", 0, 0, 0 },
	{ "a.b", -1, 0, -1 },
	{ "a..b", -1, -1, -1 },
	{ ".a", -1, -1, -1 },
	{ "a.", -1, -1, -1 },
	{ "", -1, -1, -1 },
	{ "a b", -1, -1, -1 },
	{ "a*", -1, -1, -1 },
	{ "a.>", -1, -1, -1 },
	{ "fleet.qosd", -1, 0, -1 },
	{ "é", -1, -1, -1 },
	{ "0123456789012345678901234567890123456789012345678901234567890123",
	    0, 0, 0 },
	{ "01234567890123456789012345678901234567890123456789012345678901234",
	    -1, 0, -1 },
};

START_TEST(test_natsname_checks_tokens_prefixes_and_buckets)
{
	char	why[256];

	ck_assert_int_eq(natsname_agent_ok(names[_i].s, why, sizeof(why)),
	    names[_i].agent);
	ck_assert_int_eq(natsname_prefix_ok(names[_i].s, why, sizeof(why)),
	    names[_i].prefix);
	ck_assert_int_eq(natsname_bucket_ok(names[_i].s, NULL, 0),
	    names[_i].bucket);
}
END_TEST

START_TEST(test_natsname_makes_subjects_and_one_token_keys)
{
	char	s[NATSNAME_SUBJECT_MAX], k[NATSNAME_KEY_MAX], tiny[8];

	ck_assert_int_eq(natsname_subject(s, sizeof(s), "qosd", "heartbeat",
	    "edge-1", NULL), 0);
	ck_assert_str_eq(s, "qosd.heartbeat.edge-1");
	ck_assert_int_eq(natsname_subject(s, sizeof(s), "fleet.q", NULL,
	    "edge-1", "probe"), 0);
	ck_assert_str_eq(s, "fleet.q.agent.edge-1.probe");
	ck_assert_int_eq(natsname_subject(tiny, sizeof(tiny), "qosd", "state",
	    "edge-1", NULL), -1);
	ck_assert_int_eq(natsname_result_key("gw-check_1", k, sizeof(k)), 0);
	ck_assert_str_eq(k, "result.gw-check_1");
	ck_assert_int_eq(natsname_result_key("a.b:c=", k, sizeof(k)), 0);
	ck_assert_str_eq(k, "result.a=2Eb=3Ac=3D");
	ck_assert_int_eq(natsname_result_key("abcdef", tiny, sizeof(tiny)),
	    -1);
	ck_assert_int_eq(natsname_agent_key("edge-1", k, sizeof(k)), 0);
	ck_assert_str_eq(k, "agent.edge-1");
	ck_assert_int_eq(natsname_points_subject(s, sizeof(s), "qosd",
	    "edge-1", "ping x", 4), 0);
	ck_assert_str_eq(s, "qosd.points.edge-1.ping");
	ck_assert_int_eq(natsname_points_subject(s, sizeof(s), "qosd",
	    "edge-1", "a\\ b.c*", 7), 0);
	ck_assert_str_eq(s, "qosd.points.edge-1.a=5C=20b=2Ec=2A");
	ck_assert_int_eq(natsname_points_subject(s, sizeof(s), "qosd",
	    "edge-1", "x", 0), -1);
}
END_TEST

/* A configuration in a temp dir with a password file of mode mode. */
static struct cfg *
load(const char *dir, const char *nats, int mode, char *err, size_t errlen)
{
	char	conf[512], pw[512];
	FILE	*f;
	int	 fd;

	snprintf(pw, sizeof(pw), "%s/pw", dir);
	fd = open(pw, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "s3cret\n", 7), 7);
	close(fd);
	chmod(pw, (mode_t)mode);
	snprintf(conf, sizeof(conf), "%s/q.conf", dir);
	ck_assert_ptr_nonnull(f = fopen(conf, "w"));
	fprintf(f, "agent = { id = \"edge-1\"; };\n"
	    "sinks = ( { type = \"file\"; path = \"-\"; } );\n"
	    "nats = { servers = [ \"nats://127.0.0.1:4222\" ]; %s };\n", nats);
	fclose(f);
	return cfg_load(conf, err, errlen);
}

START_TEST(test_natsname_config_defaults_and_a_checked_password_file)
{
	char		 dir[] = "/tmp/check_natsname.XXXXXX", err[1024];
	char		 set[256], path[600];
	struct cfg	*cfg;
	struct bus_conf	*c;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	cfg = load(dir, "", 0600, err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	c = cfg->nats;
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->prefix, "qosd");
	ck_assert_str_eq(c->bucket, "qosd_results");
	ck_assert_str_eq(c->agent, "edge-1");
	ck_assert(c->heartbeat_s == 10);
	ck_assert_int_eq(c->tls_verify, 1);
	ck_assert_int_eq(c->tls, 0);
	ck_assert_int_eq(c->password.src, SECRET_NONE);
	cfg_free(cfg);

	snprintf(set, sizeof(set), "user = \"q\"; password_file = \"%s/pw\"; "
	    "tls = { ca_file = \"/etc/ssl/ca.pem\"; };", dir);
	cfg = load(dir, set, 0640, err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	c = cfg->nats;
	ck_assert_int_eq(c->password.src, SECRET_FILE);
	ck_assert_int_eq(c->tls, 1);
	ck_assert_int_eq(c->tls_verify, 1);
	ck_assert_int_eq(cfg_nats_check(c, err, sizeof(err)), 0);
	{
		struct bus_conf	*d = cfg_nats_copy(c);

		ck_assert(cfg_nats_equal(c, d));
		free(d->bucket);
		d->bucket = strdup("other");
		ck_assert(!cfg_nats_equal(c, d));
		cfg_nats_free(d);
	}
	cfg_free(cfg);

	/* A stream of points needs points. */
	cfg = load(dir, "points_stream = \"qosd_points\";", 0600, err,
	    sizeof(err));
	ck_assert_ptr_null(cfg);
	ck_assert_msg(strstr(err, "needs points = true") != NULL, "%s", err);
	cfg = load(dir, "points = true; points_stream = \"q.p\";", 0600, err,
	    sizeof(err));
	ck_assert_ptr_null(cfg);
	cfg = load(dir, "points = true; points_stream = \"qp\";", 0600, err,
	    sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_int_eq(cfg->nats->points, 1);
	ck_assert_str_eq(cfg->nats->points_stream, "qp");
	cfg_free(cfg);

	/* Readable by others: refused at load, the secret never quoted. */
	cfg = load(dir, set, 0644, err, sizeof(err));
	ck_assert_ptr_null(cfg);
	ck_assert_msg(strstr(err, "nats.password_file") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "s3cret") == NULL, "%s", err);

	snprintf(path, sizeof(path), "%s/pw", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/q.conf", dir);
	unlink(path);
	rmdir(dir);
}
END_TEST

static Suite *
natsname_suite(void)
{
	Suite	*s = suite_create("natsname");
	TCase	*tc = tcase_create("names");
	TCase	*tcc = tcase_create("config");

	tcase_add_loop_test(tc, test_natsname_checks_tokens_prefixes_and_buckets,
	    0, sizeof(names) / sizeof(names[0]));
	tcase_add_test(tc, test_natsname_makes_subjects_and_one_token_keys);
	tcase_add_test(tcc,
	    test_natsname_config_defaults_and_a_checked_password_file);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tcc);
	return s;
}

QOSD_SUITE(natsname)
