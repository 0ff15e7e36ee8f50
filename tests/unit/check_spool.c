/*
 * check_spool.c: segments sealed into ready/ in order, recovery of a
 * segment a crash left open (a torn last line is cut), the size cap that
 * drops the oldest segment and counts its lines, and never one that the
 * shipper holds.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "sinks/spool.h"
#include "tests/unit/suites.h"

static char	tmp[64];
static char	path[512];

static void
setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/check_spool.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void
teardown(void)
{
	char	cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmp);
}

static const char *
sub(const char *rel)
{
	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	return path;
}

/* The ready segments, sorted, as "NAME:CONTENT;" pairs. */
static char *
ready_list(char *out, size_t outlen, int with_content)
{
	char	 names[64][SPOOL_NAME_MAX], after[SPOOL_NAME_MAX] = "";
	char	 buf[4096], rd[1024];
	int	 n = 0, i, fd;
	ssize_t	 len;

	snprintf(rd, sizeof(rd), "%s/ready", tmp);
	while (n < 64 && spool_oldest(rd, after[0] ? after : NULL,
	    names[n]) == 1) {
		memcpy(after, names[n], sizeof(after));
		n++;
	}
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		snprintf(rd, sizeof(rd), "%s/ready/%.*s", tmp,
		    SPOOL_NAME_MAX, names[i]);
		len = 0;
		if (with_content && (fd = open(rd, O_RDONLY)) != -1) {
			len = read(fd, buf, sizeof(buf) - 1);
			close(fd);
		}
		buf[len > 0 ? len : 0] = '\0';
		snprintf(out + strlen(out), outlen - strlen(out), "%s%s%s;",
		    with_content ? "" : names[i], with_content ? "" : ":",
		    buf);
	}
	return out;
}

static int
count_ready(void)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	d = opendir(sub("ready"));
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		n += spool_is_segment(e->d_name);
	closedir(d);
	return n;
}

static void
put(const char *rel, const char *content)
{
	int	fd = open(sub(rel), O_WRONLY | O_CREAT | O_TRUNC, 0640);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, content, strlen(content)),
	    (int)strlen(content));
	close(fd);
}

START_TEST(test_spool_seals_segments_into_ready_in_order)
{
	struct spool	*sp;
	char		 err[256], out[4096];
	unsigned long	 lines;
	uint64_t	 bytes;

	sp = spool_open(tmp, "t", 1 << 20, 1, err, sizeof(err));
	ck_assert_msg(sp != NULL, "%s", err);
	ck_assert_int_eq(spool_append(sp, "a v=1\nb v=2\n", 12, 2), 0);
	spool_open_size(sp, &lines, &bytes);
	ck_assert_uint_eq(lines, 2);
	ck_assert_uint_eq(bytes, 12);
	ck_assert_int_eq(count_ready(), 0);
	ck_assert_int_eq(spool_seal(sp), 0);
	spool_open_size(sp, &lines, NULL);
	ck_assert_uint_eq(lines, 0);
	ck_assert_int_eq(spool_append(sp, "c v=3\n", 6, 1), 0);
	ck_assert_int_eq(spool_seal(sp), 0);
	/* Nothing open: sealing again does nothing. */
	ck_assert_int_eq(spool_seal(sp), 0);
	ck_assert_str_eq(ready_list(out, sizeof(out), 1),
	    "a v=1\nb v=2\n;c v=3\n;");
	ck_assert_uint_eq(spool_dropped(sp), 0);
	spool_close(sp);
	ck_assert_int_eq(access(sub("rejected"), F_OK), 0);
}
END_TEST

START_TEST(test_spool_close_seals_the_open_segment)
{
	struct spool	*sp;
	char		 err[256], out[4096];

	sp = spool_open(tmp, "t", 1 << 20, 0, err, sizeof(err));
	ck_assert_ptr_nonnull(sp);
	ck_assert_int_eq(spool_append(sp, "a v=1\n", 6, 1), 0);
	spool_close(sp);
	ck_assert_str_eq(ready_list(out, sizeof(out), 1), "a v=1\n;");
}
END_TEST

START_TEST(test_spool_recovers_a_torn_segment_first)
{
	struct spool	*sp;
	char		 err[256], out[4096];

	ck_assert_int_eq(mkdir(sub("ready"), 0750), 0);
	put("ready/0000000000000003-100.lp", "old v=1\n");
	/* Left open by a crash, its last line half written. */
	put("0000000000000007-200.lp", "x v=1\ny v=2\nz v=");
	put("0000000000000008-201.lp", "torn");
	sp = spool_open(tmp, "t", 1 << 20, 1, err, sizeof(err));
	ck_assert_msg(sp != NULL, "%s", err);
	ck_assert_str_eq(ready_list(out, sizeof(out), 0),
	    "0000000000000003-100.lp:;0000000000000007-200.lp:;");
	ck_assert_str_eq(ready_list(out, sizeof(out), 1),
	    "old v=1\n;x v=1\ny v=2\n;");
	ck_assert_int_eq(access(sub("0000000000000008-201.lp"), F_OK), -1);
	/* New segments sort after everything there was. */
	ck_assert_int_eq(spool_append(sp, "n v=1\n", 6, 1), 0);
	ck_assert_int_eq(spool_seal(sp), 0);
	ready_list(out, sizeof(out), 0);
	ck_assert_msg(strstr(out, ";0000000000000009-") != NULL, "%s", out);
	spool_close(sp);
}
END_TEST

START_TEST(test_spool_cap_drops_the_oldest_and_counts_its_lines)
{
	struct spool	*sp;
	char		 err[256], out[4096];
	int		 i;

	/* Three segments of 5 lines (30 bytes) each; room for two. */
	sp = spool_open(tmp, "t", 70, 1, err, sizeof(err));
	ck_assert_ptr_nonnull(sp);
	for (i = 0; i < 3; i++) {
		char	seg[128];

		snprintf(seg, sizeof(seg), "%d v=1\n%d v=2\n%d v=3\n%d v=4\n"
		    "%d v=5\n", i, i, i, i, i);
		ck_assert_int_eq(spool_append(sp, seg, strlen(seg), 5), 0);
		ck_assert_int_eq(spool_seal(sp), 0);
	}
	ck_assert_uint_eq(spool_dropped(sp), 5);
	ck_assert_int_eq(count_ready(), 2);
	ready_list(out, sizeof(out), 1);
	ck_assert_msg(strncmp(out, "1 v=1\n", 6) == 0, "%s", out);
	spool_close(sp);
}
END_TEST

START_TEST(test_spool_cap_spares_the_segment_the_shipper_holds)
{
	struct spool	*sp;
	struct flock	 fl;
	char		 err[256], out[4096], first[SPOOL_NAME_MAX], c;
	int		 i, p[2], q[2], fd, status;
	pid_t		 pid;

	sp = spool_open(tmp, "t", 70, 1, err, sizeof(err));
	ck_assert_ptr_nonnull(sp);
	ck_assert_int_eq(spool_append(sp, "a v=1\na v=2\na v=3\n", 18, 3), 0);
	ck_assert_int_eq(spool_seal(sp), 0);
	ck_assert_int_eq(spool_oldest(sub("ready"), NULL, first), 1);
	snprintf(out, sizeof(out), "%s/ready/%s", tmp, first);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(pipe(q), 0);
	if ((pid = fork()) == 0) {
		/* The shipper: hold the oldest segment. */
		fd = open(out, O_RDWR);
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fd == -1 || fcntl(fd, F_SETLKW, &fl) == -1)
			_exit(1);
		if (write(p[1], "l", 1) != 1 || read(q[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(spool_append(sp, "b v=1\nb v=2\nb v=3\nb v=4\n"
		    "b v=5\n", 30, 5), 0);
		ck_assert_int_eq(spool_seal(sp), 0);
	}
	/* 18 + 30 + 30 > 70: the first b segment went, not the held a. */
	ck_assert_int_eq(access(out, F_OK), 0);
	ck_assert_uint_eq(spool_dropped(sp), 5);
	ck_assert_int_eq(count_ready(), 2);
	ck_assert_int_eq(write(q[1], "x", 1), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	spool_close(sp);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}
END_TEST

START_TEST(test_spool_names_and_usage)
{
	struct spool	*sp;
	char		 err[256];
	uint64_t	 bytes;
	unsigned long	 n;

	ck_assert(spool_is_segment("0000000000000001-1795314593.lp"));
	ck_assert(!spool_is_segment("000000000000001-1795314593.lp"));
	ck_assert(!spool_is_segment("0000000000000001-1795314593.lp.tmp"));
	ck_assert(!spool_is_segment(".."));
	ck_assert_uint_eq(spool_count_lines("a\nb\nc", 5), 2);
	sp = spool_open(tmp, "t", 1 << 20, 0, err, sizeof(err));
	ck_assert_ptr_nonnull(sp);
	ck_assert_int_eq(spool_append(sp, "a v=1\n", 6, 1), 0);
	ck_assert_int_eq(spool_seal(sp), 0);
	ck_assert_int_eq(spool_append(sp, "bb v=1\n", 7, 1), 0);
	spool_usage(sp, &bytes, &n);
	ck_assert_uint_eq(bytes, 13);
	ck_assert_uint_eq(n, 1);
	spool_close(sp);
}
END_TEST

START_TEST(test_spool_open_fails_with_a_reason)
{
	char	err[256];

	put("file", "x");
	ck_assert_ptr_null(spool_open(sub("file/spool"), "t", 1 << 20, 0, err,
	    sizeof(err)));
	ck_assert_msg(strstr(err, "cannot create") != NULL, "%s", err);
}
END_TEST

static Suite *
spool_suite(void)
{
	Suite	*s = suite_create("spool");
	TCase	*tc;

	tc = tcase_create("segments");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_spool_seals_segments_into_ready_in_order);
	tcase_add_test(tc, test_spool_close_seals_the_open_segment);
	tcase_add_test(tc, test_spool_recovers_a_torn_segment_first);
	tcase_add_test(tc, test_spool_names_and_usage);
	tcase_add_test(tc, test_spool_open_fails_with_a_reason);
	suite_add_tcase(s, tc);
	tc = tcase_create("cap");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_spool_cap_drops_the_oldest_and_counts_its_lines);
	tcase_add_test(tc, test_spool_cap_spares_the_segment_the_shipper_holds);
	suite_add_tcase(s, tc);
	return s;
}

QOSD_SUITE(spool)
