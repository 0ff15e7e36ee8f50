/*
 * check_spool.c: segments sealed into ready/ in order, recovery of a
 * segment a crash left open (a torn last line is cut), the size cap that
 * drops the oldest segment and counts its lines, and never one that the
 * shipper holds; the spool trusts nothing on disk (issue 15 item 4): a
 * planted symlink as a leftover segment, in ready/ or in rejected/ is
 * refused and left alone (its target untouched, nothing of it read), a
 * directory others may write or owned by another user is refused.
 */
#define _GNU_SOURCE

#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "lib/buf.h"
#include "sinks/shipper/batch.h"
#include "sinks/shipper/rejected.h"
#include "sinks/spool.h"
#include "tests/unit/suites.h"

static char	tmp[64];
static char	out_dir[64];	/* outside the spool: symlinks' targets */
static char	path[512];

static void
setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/check_spool.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	snprintf(out_dir, sizeof(out_dir), "/tmp/check_spool_out.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(out_dir));
}

static void
teardown(void)
{
	char	cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", tmp, out_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmp);
}

/* A descriptor of the spool's subdirectory rel. */
static int
dir_of(const char *rel)
{
	char	p[512];
	int	fd;

	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	ck_assert_int_ne(fd = open(p, O_RDONLY | O_DIRECTORY), -1);
	return fd;
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

	int	 rfd = dir_of("ready");

	while (n < 64 && spool_oldest(rfd, after[0] ? after : NULL,
	    names[n]) == 1) {
		memcpy(after, names[n], sizeof(after));
		n++;
	}
	close(rfd);
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
	fd = dir_of("ready");
	ck_assert_int_eq(spool_oldest(fd, NULL, first), 1);
	close(fd);
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

/* A file outside the spool, to plant links to: its path in out. */
static void
target(const char *content, char *out, size_t len)
{
	int	fd;

	snprintf(out, len, "%s/target", out_dir);
	ck_assert_int_ne(fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644),
	    -1);
	ck_assert_int_eq(write(fd, content, strlen(content)),
	    (int)strlen(content));
	close(fd);
}

static void
same_content(const char *file, const char *want)
{
	char	buf[256];
	ssize_t	n;
	int	fd;

	ck_assert_int_ne(fd = open(file, O_RDONLY), -1);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, want);
}

/*
 * A symlink planted as a leftover segment: recovery would have cut the
 * torn last line of its target and moved it to ready/ to be shipped.
 */
START_TEST(test_spool_refuses_a_planted_symlink_as_a_leftover_segment)
{
	struct spool	*sp;
	struct stat	 st;
	char		 err[256], out[4096], t[128], lnk[256];

	target("root v=1\nsecret v=2\ntorn v=", t, sizeof(t));
	ck_assert_int_eq(mkdir(sub("ready"), 0750), 0);
	snprintf(lnk, sizeof(lnk), "%s/0000000000000005-1.lp", tmp);
	ck_assert_int_eq(symlink(t, lnk), 0);
	put("0000000000000006-1.lp", "ok v=1\n");
	sp = spool_open(tmp, "t", 1 << 20, 1, err, sizeof(err));
	ck_assert_msg(sp != NULL, "%s", err);
	same_content(t, "root v=1\nsecret v=2\ntorn v=");
	ck_assert_int_eq(lstat(lnk, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	/* The real leftover went to ready/; the link stays, alone. */
	ck_assert_str_eq(ready_list(out, sizeof(out), 1), "ok v=1\n;");
	spool_close(sp);
	same_content(t, "root v=1\nsecret v=2\ntorn v=");
}
END_TEST

/* A regular file of another user as a leftover segment: left alone. */
START_TEST(test_spool_refuses_a_leftover_segment_of_another_user)
{
	struct spool	*sp;
	char		 err[256], out[4096];

	if (geteuid() != 0)
		return;
	put("0000000000000005-1.lp", "theirs v=1\ntorn v=");
	ck_assert_int_eq(chown(sub("0000000000000005-1.lp"), 65534, 65534),
	    0);
	sp = spool_open(tmp, "t", 1 << 20, 1, err, sizeof(err));
	ck_assert_msg(sp != NULL, "%s", err);
	same_content(sub("0000000000000005-1.lp"), "theirs v=1\ntorn v=");
	ck_assert_str_eq(ready_list(out, sizeof(out), 1), "");
	spool_close(sp);
}
END_TEST

/*
 * In ready/, a symlink named as the oldest segment: the cap neither
 * counts nor drops it, the shipper never reads it.
 */
START_TEST(test_spool_leaves_a_symlink_in_ready_alone)
{
	struct spool	*sp;
	struct batch	 b;
	char		 err[256], t[128], lnk[256];
	uint64_t	 bytes;
	unsigned long	 n;
	int		 rfd;

	target("secret v=1\nsecret v=2\nsecret v=3\nsecret v=4\n", t,
	    sizeof(t));
	sp = spool_open(tmp, "t", 70, 1, err, sizeof(err));
	ck_assert_ptr_nonnull(sp);
	snprintf(lnk, sizeof(lnk), "%s/ready/0000000000000000-0.lp", tmp);
	ck_assert_int_eq(symlink(t, lnk), 0);
	ck_assert_int_eq(spool_append(sp, "a v=1\na v=2\na v=3\n", 18, 3), 0);
	ck_assert_int_eq(spool_seal(sp), 0);
	spool_usage(sp, &bytes, &n);
	ck_assert_uint_eq(bytes, 18);
	ck_assert_uint_eq(n, 1);
	/* Over the cap: the real segment goes, the link stays. */
	ck_assert_int_eq(spool_append(sp, "b v=1\nb v=2\nb v=3\nb v=4\nb v=5\n"
	    "b v=6\nb v=7\nb v=8\nb v=9\n", 54, 9), 0);
	ck_assert_int_eq(spool_seal(sp), 0);
	ck_assert_int_eq(access(lnk, F_OK), 0);
	same_content(t, "secret v=1\nsecret v=2\nsecret v=3\nsecret v=4\n");
	ck_assert_uint_eq(spool_dropped(sp), 3);
	/* The shipper gathers the real segment only. */
	rfd = dir_of("ready");
	batch_init(&b);
	ck_assert_uint_eq(batch_gather(&b, rfd, NULL, 1000, 1 << 20, "t"),
	    1);
	ck_assert_uint_eq(b.lines.len, 54);
	ck_assert(memmem(b.lines.data, b.lines.len, "secret", 6) == NULL);
	batch_remove(&b, rfd, "t");
	batch_cleanup(&b);
	ck_assert_int_eq(access(lnk, F_OK), 0);
	close(rfd);
	spool_close(sp);
}
END_TEST

/* A symlink in rejected/: refused lines are never appended to its target. */
START_TEST(test_spool_rejected_never_follows_a_symlink)
{
	struct rejected	 r;
	struct buf	 lines;
	char		 t[128], lnk[256];
	int		 rfd;

	target("precious\n", t, sizeof(t));
	ck_assert_int_eq(mkdir(sub("rejected"), 0750), 0);
	snprintf(lnk, sizeof(lnk), "%s/rejected/0000000000000001-1.lp", tmp);
	ck_assert_int_eq(symlink(t, lnk), 0);
	rfd = dir_of("rejected");
	memset(&r, 0, sizeof(r));
	r.dfd = rfd;
	snprintf(lnk, sizeof(lnk), "%s/rejected", tmp);
	r.dir = lnk;
	r.max = 1 << 20;
	r.sink = "t";
	buf_init(&lines, 4096);
	ck_assert_int_eq(buf_adds(&lines, "m,t=BAD v=1\n"), 0);
	rejected_keep(&r, "0000000000000001-1.lp", &lines, 1, 0, "HTTP 400");
	same_content(t, "precious\n");
	/* A name of its own: kept there. */
	rejected_keep(&r, "0000000000000002-1.lp", &lines, 1, 0, "HTTP 400");
	same_content(sub("rejected/0000000000000002-1.lp"), "m,t=BAD v=1\n");
	buf_cleanup(&lines);
	close(rfd);
}
END_TEST

/* Directories others may write, or another user's, are refused. */
START_TEST(test_spool_refuses_directories_others_may_write)
{
	char	err[512];

	ck_assert_int_eq(chmod(tmp, 0770), 0);
	ck_assert_ptr_null(spool_open(tmp, "t", 1 << 20, 0, err,
	    sizeof(err)));
	ck_assert_msg(strstr(err, "may be written by its group or others "
	    "(mode 0770): chmod go-w") != NULL, "%s", err);
	ck_assert_int_eq(chmod(tmp, 0700), 0);
	ck_assert_int_eq(mkdir(sub("ready"), 0700), 0);
	ck_assert_int_eq(chmod(sub("ready"), 0777), 0);
	ck_assert_ptr_null(spool_open(tmp, "t", 1 << 20, 0, err,
	    sizeof(err)));
	ck_assert_msg(strstr(err, "/ready\" may be written by its group or "
	    "others (mode 0777)") != NULL, "%s", err);
	ck_assert_int_eq(chmod(sub("ready"), 0750), 0);
	ck_assert_int_eq(mkdir(sub("rejected"), 0720), 0);
	ck_assert_int_eq(chmod(sub("rejected"), 0720), 0);
	ck_assert_ptr_null(spool_open(tmp, "t", 1 << 20, 0, err,
	    sizeof(err)));
	ck_assert_msg(strstr(err, "/rejected\" may be written") != NULL, "%s",
	    err);
	ck_assert_int_eq(chmod(sub("rejected"), 0700), 0);
	if (geteuid() == 0) {
		ck_assert_int_eq(chown(tmp, 65534, 65534), 0);
		ck_assert_ptr_null(spool_open(tmp, "t", 1 << 20, 0, err,
		    sizeof(err)));
		ck_assert_msg(strstr(err, "is owned by uid 65534, not by the "
		    "user qosd runs as (uid 0): chown -R") != NULL, "%s",
		    err);
		ck_assert_int_eq(chown(tmp, 0, 0), 0);
	}
	/* The spool directory itself a symlink: not followed. */
	snprintf(path, sizeof(path), "%s/spool", out_dir);
	ck_assert_int_eq(symlink(tmp, path), 0);
	ck_assert_ptr_null(spool_open(path, "t", 1 << 20, 0, err,
	    sizeof(err)));
	ck_assert_msg(strstr(err, "a symbolic link is not followed") != NULL,
	    "%s", err);
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
	tc = tcase_create("distrust");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc,
	    test_spool_refuses_a_planted_symlink_as_a_leftover_segment);
	tcase_add_test(tc,
	    test_spool_refuses_a_leftover_segment_of_another_user);
	tcase_add_test(tc, test_spool_leaves_a_symlink_in_ready_alone);
	tcase_add_test(tc, test_spool_rejected_never_follows_a_symlink);
	tcase_add_test(tc, test_spool_refuses_directories_others_may_write);
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
