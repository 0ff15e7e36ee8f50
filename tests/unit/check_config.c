/*
 * check_config.c: configuration loading (config.c) and the typed readers
 * (cfgval.c).  Broken configurations live in tests/fixtures/config/bad,
 * each with the message it must produce on its first line.
 */
#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <libconfig.h>

#include "qosd/cfg.h"
#include "qosd/collector.h"
#include "scheduler/config.h"
#include "scheduler/plugin.h"
#include "sinks/sink.h"
#include "tests/unit/suites.h"

#define BAD_DIR		FIXTURES "/config/bad"
#define GOOD_DIR	FIXTURES "/config/good"
#define MAX_FIXTURES	256
#define EXPECT		"# expect: "

static char	*bad_files[MAX_FIXTURES];
static int	 nbad;
static char	*good_files[MAX_FIXTURES];
static int	 ngood;

static char	 err[4096];
static config_t	 tree;
static char	 tree_file[] = "/tmp/check_config.XXXXXX";
static int	 tree_fd = -1;

/* The test plugins are built into BUILD/tests/plugins, beside us. */
static void
setup_plugins(void)
{
	char	 exe[PATH_MAX], dir[PATH_MAX + 16];
	ssize_t	 n;
	char	*slash;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ck_assert_int_gt(n, 0);
	exe[n] = '\0';
	ck_assert_ptr_nonnull(slash = strrchr(exe, '/'));
	*slash = '\0';
	snprintf(dir, sizeof(dir), "%s/plugins", exe);
	plugin_set_dir(dir);
	err[0] = '\0';
}

static void
teardown_plugins(void)
{
	plugin_unload_all();
	plugin_set_dir(NULL);
}

static void
setup_tree(void)
{
	config_init(&tree);
	tree_fd = -1;
	err[0] = '\0';
}

static void
teardown_tree(void)
{
	config_destroy(&tree);
	if (tree_fd != -1) {
		close(tree_fd);
		unlink(tree_file);
		tree_fd = -1;
	}
}

/* Parse text from a file so that settings know their file and line. */
static config_setting_t *
parse(const char *text)
{
	FILE	*f;

	strcpy(tree_file, "/tmp/check_config.XXXXXX");
	ck_assert_int_ne(tree_fd = mkstemp(tree_file), -1);
	ck_assert_ptr_nonnull(f = fopen(tree_file, "w"));
	fputs(text, f);
	fclose(f);
	ck_assert_msg(config_read_file(&tree, tree_file) == CONFIG_TRUE,
	    "%s:%d: %s", tree_file, config_error_line(&tree),
	    config_error_text(&tree));
	return config_root_setting(&tree);
}

static config_setting_t *
group(const char *path)
{
	config_setting_t	*s;

	ck_assert_ptr_nonnull(s = config_lookup(&tree, path));
	return s;
}

/* err must be "TREE_FILE:line: rest". */
static void
assert_err(int line, const char *rest)
{
	char	want[4096];

	snprintf(want, sizeof(want), "%s:%d: %s", tree_file, line, rest);
	ck_assert_str_eq(err, want);
}

START_TEST(test_cfgval_error_names_list_members_by_name)
{
	long long	v = 7;

	parse("jobs = (\n { name = \"gw\";\n count = \"five\"; }\n);\n");
	ck_assert_int_eq(qosd_cfg_int(group("jobs.[0]"), "count", 1, 10000,
	    &v, err, sizeof(err)), -1);
	assert_err(3, "jobs.gw.count: expected an integer from 1 to 10000, "
	    "got the string \"five\"");
	ck_assert_int_eq(v, 7);
}
END_TEST

START_TEST(test_cfgval_error_names_unnamed_members_by_index)
{
	const char	*s;

	parse("sinks = ( { type = \"file\"; },\n { path = 5; } );\n");
	ck_assert_int_eq(qosd_cfg_string(group("sinks.[1]"), "path", 0, &s,
	    err, sizeof(err)), -1);
	assert_err(2, "sinks.1.path: expected a non-empty string, got the "
	    "integer 5");
}
END_TEST

START_TEST(test_cfgval_error_truncates_to_errlen)
{
	config_setting_t	*root;
	char			 small[10];

	root = parse("a = 1;\n");
	memset(small, 'x', sizeof(small));
	ck_assert_int_eq(qosd_cfg_error(config_setting_get_member(root, "a"),
	    small, sizeof(small), "a long message %d", 42), -1);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	ck_assert_int_eq(qosd_cfg_error(NULL, small, sizeof(small), "bare"),
	    -1);
	ck_assert_str_eq(small, "bare");
}
END_TEST

START_TEST(test_cfgval_int_reads_int64_and_absent)
{
	config_setting_t	*root;
	long long		 v = 42;

	root = parse("big = 5000000000L;\nsmall = -3;\n");
	ck_assert_int_eq(qosd_cfg_int(root, "big", 0, LLONG_MAX, &v, err,
	    sizeof(err)), 1);
	ck_assert(v == 5000000000LL);
	ck_assert_int_eq(qosd_cfg_int(root, "small", LLONG_MIN, LLONG_MAX,
	    &v, err, sizeof(err)), 1);
	ck_assert(v == -3);
	v = 42;
	ck_assert_int_eq(qosd_cfg_int(root, "none", 0, 1, &v, err,
	    sizeof(err)), 0);
	ck_assert(v == 42);
	ck_assert_int_eq(qosd_cfg_int(root, "big", 0, 100, &v, err,
	    sizeof(err)), -1);
	assert_err(1, "big: expected an integer from 0 to 100, got "
	    "5000000000");
	ck_assert_int_eq(qosd_cfg_int(root, "small", 0, LLONG_MAX, &v, err,
	    sizeof(err)), -1);
	assert_err(2, "small: expected an integer of at least 0, got -3");
}
END_TEST

START_TEST(test_cfgval_float_accepts_integers)
{
	config_setting_t	*root;
	double			 v = 0;

	root = parse("i = 60;\nf = 0.25;\nb = true;\n");
	ck_assert_int_eq(qosd_cfg_float(root, "i", 0, 100, &v, err,
	    sizeof(err)), 1);
	ck_assert(v == 60.0);
	ck_assert_int_eq(qosd_cfg_float(root, "f", 0, 100, &v, err,
	    sizeof(err)), 1);
	ck_assert(v == 0.25);
	ck_assert_int_eq(qosd_cfg_float(root, "f", 1, 100, &v, err,
	    sizeof(err)), -1);
	assert_err(2, "f: expected a number from 1 to 100, got 0.25");
	ck_assert_int_eq(qosd_cfg_float(root, "b", 0, 100, &v, err,
	    sizeof(err)), -1);
	assert_err(3, "b: expected a number from 0 to 100, got the boolean "
	    "true");
}
END_TEST

START_TEST(test_cfgval_bool_string_enum)
{
	static const char *const choices[] = { "up", "down", NULL };
	config_setting_t	*root;
	const char		*s = NULL;
	int			 b = -1, e = -1;

	root = parse("b = false;\ns = \"\";\ne = \"down\";\nx = \"side\";\n");
	ck_assert_int_eq(qosd_cfg_bool(root, "b", &b, err, sizeof(err)), 1);
	ck_assert_int_eq(b, 0);
	ck_assert_int_eq(qosd_cfg_bool(root, "s", &b, err, sizeof(err)), -1);
	assert_err(2, "s: expected true or false, got the string \"\"");
	ck_assert_int_eq(qosd_cfg_string(root, "s", 1, &s, err, sizeof(err)),
	    1);
	ck_assert_str_eq(s, "");
	ck_assert_int_eq(qosd_cfg_string(root, "s", 0, &s, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(qosd_cfg_enum(root, "e", choices, &e, err,
	    sizeof(err)), 1);
	ck_assert_int_eq(e, 1);
	ck_assert_int_eq(qosd_cfg_enum(root, "x", choices, &e, err,
	    sizeof(err)), -1);
	assert_err(4, "x: expected one of \"up\", \"down\", got the string "
	    "\"side\"");
}
END_TEST

START_TEST(test_cfgval_dscp_takes_code_points_and_names)
{
	config_setting_t	*root;
	int			 v = -1;

	root = parse("a = 46;\nb = \"AF41\";\nc = \"le\";\nd = 64;\n"
	    "e = \"af44\";\nf = 1.5;\n");
	ck_assert_int_eq(qosd_cfg_dscp(root, "a", &v, err, sizeof(err)), 1);
	ck_assert_int_eq(v, 46);
	ck_assert_int_eq(qosd_cfg_dscp(root, "b", &v, err, sizeof(err)), 1);
	ck_assert_int_eq(v, 34);
	ck_assert_int_eq(qosd_cfg_dscp(root, "c", &v, err, sizeof(err)), 1);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(qosd_cfg_dscp(root, "zz", &v, err, sizeof(err)), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(qosd_cfg_dscp(root, "d", &v, err, sizeof(err)), -1);
	assert_err(4, "d: expected an integer from 0 to 63, got 64");
	ck_assert_int_eq(qosd_cfg_dscp(root, "e", &v, err, sizeof(err)), -1);
	assert_err(5, "e: unknown DSCP name \"af44\": give a code point "
	    "from 0 to 63 or a name: cs0 to cs7, af11 to af43, ef, va or le");
	ck_assert_int_eq(qosd_cfg_dscp(root, "f", &v, err, sizeof(err)), -1);
	ck_assert_int_eq(v, 1);
}
END_TEST

static const struct {
	const char	*text;
	int		 ok;
	uint64_t	 value;
} sizes[] = {
	{ "4096", 1, 4096 },
	{ "\"512\"", 1, 512 },
	{ "\"64K\"", 1, 64 << 10 },
	{ "\"1m\"", 1, 1 << 20 },
	{ "\"2G\"", 1, (uint64_t)2 << 30 },
	{ "\"1T\"", 1, (uint64_t)1 << 40 },
	{ "\"1X\"", 0, 0 },
	{ "\"K\"", 0, 0 },
	{ "\"1KB\"", 0, 0 },
	{ "\"-1\"", 0, 0 },
	{ "-1", 0, 0 },
	{ "\" 1K\"", 0, 0 },
	{ "\"99999999999999999999\"", 0, 0 },
	{ "\"18014398509481984K\"", 0, 0 },
	{ "1.5", 0, 0 },
};

START_TEST(test_cfgval_size_parses_suffixes)
{
	char		 text[128];
	uint64_t	 v = 0;
	int		 r;

	snprintf(text, sizeof(text), "s = %s;\n", sizes[_i].text);
	r = qosd_cfg_size(parse(text), "s", 0, UINT64_MAX, &v, err,
	    sizeof(err));
	if (sizes[_i].ok) {
		ck_assert_msg(r == 1, "%s: %s", sizes[_i].text, err);
		ck_assert(v == sizes[_i].value);
	} else {
		ck_assert_msg(r == -1, "%s accepted", sizes[_i].text);
		ck_assert_ptr_nonnull(strstr(err, "s: expected a size"));
	}
}
END_TEST

START_TEST(test_cfgval_strings_takes_one_or_many)
{
	config_setting_t	*root;
	const char		**l = NULL;
	size_t			 n = 0;

	root = parse("one = \"a\";\narr = [ \"b\", \"c\" ];\n"
	    "lst = ( \"d\", 5 );\nnone = [ ];\n");
	ck_assert_int_eq(qosd_cfg_strings(root, "one", &l, &n, err,
	    sizeof(err)), 1);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(l[0], "a");
	ck_assert_ptr_null(l[1]);
	free(l);
	ck_assert_int_eq(qosd_cfg_strings(root, "arr", &l, &n, err,
	    sizeof(err)), 1);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(l[1], "c");
	ck_assert_ptr_null(l[2]);
	free(l);
	ck_assert_int_eq(qosd_cfg_strings(root, "lst", &l, &n, err,
	    sizeof(err)), -1);
	assert_err(3, "lst.1: expected a non-empty string, got the integer 5");
	ck_assert_int_eq(qosd_cfg_strings(root, "none", &l, &n, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(qosd_cfg_strings(root, "absent", &l, &n, err,
	    sizeof(err)), 0);
}
END_TEST

START_TEST(test_cfgval_quotes_control_characters)
{
	config_setting_t	*root;
	long long		 v;

	root = parse("s = \"a\\tb\\\"c\";\n");
	ck_assert_int_eq(qosd_cfg_int(root, "s", 0, 1, &v, err, sizeof(err)),
	    -1);
	assert_err(1, "s: expected an integer from 0 to 1, got the string "
	    "\"a\\tb\\\"c\"");
}
END_TEST

START_TEST(test_cfg_minimal_gets_defaults)
{
	struct cfg	*cfg;
	char		 host[256];

	cfg = cfg_load(GOOD_DIR "/minimal.conf", err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_int_eq(gethostname(host, sizeof(host)), 0);
	host[sizeof(host) - 1] = '\0';
	ck_assert_str_eq(cfg->file, GOOD_DIR "/minimal.conf");
	ck_assert_str_eq(cfg->agent_id, host);
	ck_assert_uint_eq(cfg->nagent_tags, 0);
	ck_assert_str_eq(cfg->state_dir, STATEDIR);
	ck_assert_uint_eq(cfg->max_children, 64);
	ck_assert(cfg->self_interval_us == 60000000);
	ck_assert(cfg->stop_grace_us == 5000000);
	ck_assert_int_eq(cfg->realtime, 1);
	ck_assert_uint_eq(cfg->njobs, 0);
	ck_assert_uint_eq(cfg->nsinks, 1);
	ck_assert_str_eq(cfg->sinks[0].name, "file");
	ck_assert_str_eq(cfg->sinks[0].type->name, "file");
	ck_assert_ptr_nonnull(cfg->sinks[0].state);
	cfg_free(cfg);
}
END_TEST

static const struct cfg_job *
job(const struct cfg *cfg, const char *name)
{
	const struct cfg_job	*j;

	ck_assert_msg((j = cfg_job_find(cfg, name)) != NULL, "no job %s",
	    name);
	return j;
}

START_TEST(test_cfg_full_values)
{
	struct cfg		*cfg;
	const struct cfg_job	*j;

	cfg = cfg_load(GOOD_DIR "/full.conf", err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_str_eq(cfg->agent_id, "edge-1");
	ck_assert_uint_eq(cfg->nagent_tags, 2);
	ck_assert_str_eq(cfg->agent_tags[0].key, "site");
	ck_assert_str_eq(cfg->agent_tags[0].value, "lab");
	ck_assert_str_eq(cfg->agent_tags[1].key, "rack");
	ck_assert_str_eq(cfg->state_dir, "/tmp/qosd-state");
	ck_assert_uint_eq(cfg->max_children, 8);
	ck_assert(cfg->self_interval_us == 0);
	ck_assert(cfg->stop_grace_us == 2500000);
	ck_assert_int_eq(cfg->realtime, 0);

	ck_assert_uint_eq(cfg->nsinks, 3);
	ck_assert_str_eq(cfg->sinks[0].name, "file");
	ck_assert_str_eq(cfg->sinks[1].name, "archive");
	ck_assert_str_eq(cfg->sinks[2].name, "file-3");

	ck_assert_uint_eq(cfg->njobs, 4);
	j = job(cfg, "inherit");
	ck_assert_str_eq(j->collector, "testcoll");
	ck_assert_ptr_nonnull(j->plugin);
	ck_assert_ptr_nonnull(j->state);
	ck_assert(j->interval_us == 20000000);
	ck_assert(j->timeout_us == 15000000);
	ck_assert(j->splay_us == 5000000);
	ck_assert(j->max_output == 64 * 1024);
	ck_assert_ptr_null(j->exclusive);
	ck_assert_uint_eq(j->ntags, 0);
	ck_assert_int_eq(j->line, 24);

	j = job(cfg, "fast");
	ck_assert(j->interval_us == 500000);
	ck_assert(j->timeout_us == 500000);
	ck_assert(j->splay_us == 500000);

	j = job(cfg, "explicit");
	ck_assert(j->interval_us == 60000000);
	ck_assert(j->timeout_us == 60000000);
	ck_assert(j->splay_us == 30000000);
	ck_assert(j->max_output == 2048);
	ck_assert_str_eq(j->exclusive, "bw");
	ck_assert_uint_eq(j->ntags, 1);
	ck_assert_str_eq(j->tags[0].key, "role");
	ck_assert_str_eq(j->tags[0].value, "probe");

	ck_assert_ptr_null(cfg_job_find(cfg, "off"));
	ck_assert_ptr_nonnull(cfg_job_find(cfg, "lan-gw.v4"));
	ck_assert_ptr_eq(cfg->jobs[3].plugin, cfg->jobs[0].plugin);
	cfg_free(cfg);
}
END_TEST

START_TEST(test_cfg_collector_default_exclusive_group)
{
	struct cfg	*cfg;

	cfg = cfg_load(GOOD_DIR "/default-exclusive.conf", err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_str_eq(job(cfg, "dflt")->exclusive, "grouped");
	ck_assert_str_eq(job(cfg, "own")->exclusive, "mine");
	ck_assert_ptr_null(job(cfg, "none")->exclusive);
	ck_assert_ptr_null(job(cfg, "plain")->exclusive);
	ck_assert_ptr_null(job(cfg, "plain-none")->exclusive);
	cfg_free(cfg);
}
END_TEST

START_TEST(test_cfg_loads_twice_with_plugins_loaded)
{
	struct cfg	*a, *b;

	ck_assert_msg((a = cfg_load(GOOD_DIR "/full.conf", err,
	    sizeof(err))) != NULL, "%s", err);
	ck_assert_msg((b = cfg_load(GOOD_DIR "/full.conf", err,
	    sizeof(err))) != NULL, "%s", err);
	ck_assert_ptr_eq(a->jobs[0].plugin, b->jobs[0].plugin);
	ck_assert_ptr_ne(a->jobs[0].state, b->jobs[0].state);
	cfg_free(a);
	cfg_free(b);
	cfg_free(NULL);
}
END_TEST

START_TEST(test_cfg_missing_file_says_why)
{
	ck_assert_ptr_null(cfg_load(FIXTURES "/config/none.conf", err,
	    sizeof(err)));
	ck_assert_str_eq(err, FIXTURES "/config/none.conf: cannot open: "
	    "No such file or directory");
}
END_TEST

static void
read_expect(const char *path, char *out, size_t outlen)
{
	FILE	*f;
	char	 line[1024];
	size_t	 len;

	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	fclose(f);
	ck_assert_msg(strncmp(line, EXPECT, strlen(EXPECT)) == 0,
	    "%s: the first line is not \"" EXPECT "...\"", path);
	len = strlen(line);
	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	ck_assert_uint_gt(len, strlen(EXPECT));
	snprintf(out, outlen, "%s", line + strlen(EXPECT));
}

START_TEST(test_cfg_bad_fixture_gives_its_message)
{
	char		 path[PATH_MAX], want[1024];
	struct cfg	*cfg;

	snprintf(path, sizeof(path), "%s/%s", BAD_DIR, bad_files[_i]);
	read_expect(path, want, sizeof(want));
	cfg = cfg_load(path, err, sizeof(err));
	if (cfg != NULL) {
		cfg_free(cfg);
		ck_abort_msg("%s: loaded, expected: %s", path, want);
	}
	ck_assert_msg(strstr(err, want) != NULL, "%s:\n  expected: %s\n"
	    "  got:      %s", path, want, err);
	ck_assert_msg(strncmp(err, path, strlen(path)) == 0,
	    "%s: the message does not start with the file name: %s", path,
	    err);
}
END_TEST

START_TEST(test_cfg_good_fixture_loads)
{
	char		 path[PATH_MAX];
	struct cfg	*cfg;

	snprintf(path, sizeof(path), "%s/%s", GOOD_DIR, good_files[_i]);
	cfg = cfg_load(path, err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	cfg_free(cfg);
}
END_TEST

START_TEST(test_cfg_fixture_dirs_are_populated)
{
	ck_assert_int_ge(nbad, 25);
	ck_assert_int_ge(ngood, 2);
}
END_TEST

START_TEST(test_cfg_default_config_loads)
{
	struct cfg	*cfg;

	cfg = cfg_load("etc/qosd.conf", err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	cfg_free(cfg);
}
END_TEST

static int
conf_file(const struct dirent *de)
{
	size_t	len = strlen(de->d_name);

	return len > 5 && strcmp(de->d_name + len - 5, ".conf") == 0;
}

/* The *.conf files of dir, sorted, into files; returns how many. */
static int
list_fixtures(const char *dir, char **files)
{
	struct dirent	**des;
	int		  n, i, kept = 0;

	if ((n = scandir(dir, &des, conf_file, alphasort)) == -1)
		return 0;
	for (i = 0; i < n; i++) {
		if (kept < MAX_FIXTURES &&
		    (files[kept] = strdup(des[i]->d_name)) != NULL)
			kept++;
		free(des[i]);
	}
	free(des);
	return kept;
}

Suite *
config_suite(void)
{
	Suite	*s;
	TCase	*tc;

	nbad = list_fixtures(BAD_DIR, bad_files);
	ngood = list_fixtures(GOOD_DIR, good_files);
	s = suite_create("config");

	tc = tcase_create("cfgval");
	tcase_add_checked_fixture(tc, setup_tree, teardown_tree);
	tcase_add_test(tc, test_cfgval_error_names_list_members_by_name);
	tcase_add_test(tc, test_cfgval_error_names_unnamed_members_by_index);
	tcase_add_test(tc, test_cfgval_error_truncates_to_errlen);
	tcase_add_test(tc, test_cfgval_int_reads_int64_and_absent);
	tcase_add_test(tc, test_cfgval_float_accepts_integers);
	tcase_add_test(tc, test_cfgval_bool_string_enum);
	tcase_add_test(tc, test_cfgval_dscp_takes_code_points_and_names);
	tcase_add_loop_test(tc, test_cfgval_size_parses_suffixes, 0,
	    (int)(sizeof(sizes) / sizeof(sizes[0])));
	tcase_add_test(tc, test_cfgval_strings_takes_one_or_many);
	tcase_add_test(tc, test_cfgval_quotes_control_characters);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_checked_fixture(tc, setup_plugins, teardown_plugins);
	tcase_add_test(tc, test_cfg_minimal_gets_defaults);
	tcase_add_test(tc, test_cfg_full_values);
	tcase_add_test(tc, test_cfg_collector_default_exclusive_group);
	tcase_add_test(tc, test_cfg_loads_twice_with_plugins_loaded);
	tcase_add_test(tc, test_cfg_missing_file_says_why);
	tcase_add_test(tc, test_cfg_default_config_loads);
	suite_add_tcase(s, tc);

	tc = tcase_create("fixtures");
	tcase_add_checked_fixture(tc, setup_plugins, teardown_plugins);
	tcase_add_test(tc, test_cfg_fixture_dirs_are_populated);
	tcase_add_loop_test(tc, test_cfg_bad_fixture_gives_its_message, 0,
	    nbad);
	tcase_add_loop_test(tc, test_cfg_good_fixture_loads, 0, ngood);
	suite_add_tcase(s, tc);
	return s;
}

QOSD_SUITE(config)
