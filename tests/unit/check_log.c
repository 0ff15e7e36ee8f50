/*
 * check_log.c: where log lines go and how they look: plain on a terminal
 * or file, with "<N>" priority prefixes when stderr is the journal (the
 * JOURNAL_STREAM device:inode names stderr), debug only with -v, errno
 * kept.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <check.h>

#include "lib/log.h"
#include "tests/unit/suites.h"

static char	path[64];
static int	saved_stderr = -1;

/* Point stderr at a fresh file; returns what was logged at teardown. */
static void
capture(void)
{
	int	fd;

	snprintf(path, sizeof(path), "/tmp/qosd-log.XXXXXX");
	ck_assert_int_ge(fd = mkstemp(path), 0);
	saved_stderr = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

static char *
captured(void)
{
	static char	 text[4096];
	FILE		*f;
	size_t		 n;

	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	unlink(path);
	return text;
}

START_TEST(test_log_plain_lines_without_journal)
{
	unsetenv("JOURNAL_STREAM");
	capture();
	log_init(1, 0, "qosd-test");
	log_err("ping[gw]: ping_send: %s", "no route");
	log_info("started");
	log_debug("not shown without -v");
	ck_assert_str_eq(captured(),
	    "ping[gw]: ping_send: no route\nstarted\n");
}
END_TEST

START_TEST(test_log_priority_prefix_when_stderr_is_the_journal)
{
	struct stat	st;
	char		js[64];

	capture();
	ck_assert_int_eq(fstat(STDERR_FILENO, &st), 0);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	log_init(0, 1, "qosd-test");
	log_err("err");
	log_warning("warning");
	log_notice("notice");
	log_info("info");
	log_debug("debug");
	unsetenv("JOURNAL_STREAM");
	ck_assert_str_eq(captured(),
	    "<3>err\n<4>warning\n<5>notice\n<6>info\n<7>debug\n");
}
END_TEST

START_TEST(test_log_journal_stream_of_another_file_is_ignored)
{
	capture();
	setenv("JOURNAL_STREAM", "1:2", 1);
	log_init(1, 0, "qosd-test");
	log_notice("plain");
	unsetenv("JOURNAL_STREAM");
	ck_assert_str_eq(captured(), "plain\n");
}
END_TEST

START_TEST(test_log_warn_appends_strerror_and_keeps_errno)
{
	unsetenv("JOURNAL_STREAM");
	capture();
	log_init(1, 0, "qosd-test");
	errno = ENOENT;
	log_err("open \"%s\": %m", "/x");
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_str_eq(captured(),
	    "open \"/x\": No such file or directory\n");
}
END_TEST

static Suite *
log_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("log");

	tcase_add_test(tc, test_log_plain_lines_without_journal);
	tcase_add_test(tc, test_log_priority_prefix_when_stderr_is_the_journal);
	tcase_add_test(tc, test_log_journal_stream_of_another_file_is_ignored);
	tcase_add_test(tc, test_log_warn_appends_strerror_and_keeps_errno);
	suite_add_tcase(s, tc);
	return s;
}

QOSD_SUITE(log)
