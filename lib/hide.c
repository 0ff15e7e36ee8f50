/*
 * hide.c: hiding a directory from a process and all it forks, with
 * Landlock (Linux 5.13 and later), which needs no privilege: the process
 * may read every file but those in the directory.  Landlock allows, it
 * does not deny, so the rules allow reading files beneath each entry
 * along the way from / down to the directory except the one that leads
 * to it (and listing any directory: names are no secret).  A file made
 * later in one of those directories is not readable either (the
 * credentials directory lives under /run: nothing a run needs is made
 * there).
 *
 * Landlock denies every process it restricts to link or rename a file
 * into another directory unless the ruleset handles LANDLOCK_ACCESS_FS_REFER
 * (ABI 2, Linux 5.19): a writer could not move a segment into ready/, nor
 * a run a file between two of its directories.  So the rules handle it
 * and allow it everywhere (Landlock still refuses to move a file out of
 * the hidden directory to where it could be read), and on a kernel with
 * ABI 1 nothing is hidden (ENOTSUP): hiding must take nothing else away.
 */
#define _GNU_SOURCE

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/hide.h"

#define READ_RIGHTS	(LANDLOCK_ACCESS_FS_READ_FILE | \
			    LANDLOCK_ACCESS_FS_READ_DIR)

/* Allow reading beneath (or, for a file, of) the entry name of dirfd. */
static int
allow(int ruleset, int dirfd, const char *name)
{
	struct landlock_path_beneath_attr	pb;
	struct stat				st;
	int					fd, r;

	if ((fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) == -1) {
		close(fd);
		return -1;
	}
	/* A symlink leads to somewhere the rules already decide. */
	if (S_ISLNK(st.st_mode)) {
		close(fd);
		return 0;
	}
	memset(&pb, 0, sizeof(pb));
	pb.parent_fd = fd;
	pb.allowed_access = S_ISDIR(st.st_mode) ? READ_RIGHTS :
	    LANDLOCK_ACCESS_FS_READ_FILE;
	r = (int)syscall(SYS_landlock_add_rule, ruleset,
	    LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	close(fd);
	return r == -1 ? -1 : 0;
}

/* Listing any directory, and moving files between them, stay allowed. */
static int
allow_list(int ruleset)
{
	struct landlock_path_beneath_attr	pb;
	int					fd, r;

	if ((fd = open("/", O_PATH | O_CLOEXEC)) == -1)
		return -1;
	memset(&pb, 0, sizeof(pb));
	pb.parent_fd = fd;
	pb.allowed_access = LANDLOCK_ACCESS_FS_READ_DIR |
	    LANDLOCK_ACCESS_FS_REFER;
	r = (int)syscall(SYS_landlock_add_rule, ruleset,
	    LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	close(fd);
	return r == -1 ? -1 : 0;
}

/* Allow every entry of dir but skip. */
static int
allow_all_but(int ruleset, const char *dir, const char *skip)
{
	struct dirent	*de;
	DIR		*d;
	int		 rc = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, skip) == 0)
			continue;
		rc = allow(ruleset, dirfd(d), de->d_name);
	}
	closedir(d);
	return rc;
}

int
hide_dir(const char *path)
{
	struct landlock_ruleset_attr	 ra;
	char				 dir[PATH_MAX], *slash, *next;
	int				 ruleset, abi, rc = -1;

	if (path[0] != '/' || strlen(path) >= sizeof(dir) ||
	    strcmp(path, "/") == 0) {
		errno = EINVAL;
		return -1;
	}
	if ((abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION)) == -1)
		return -1;
	if (abi < 2) {
		errno = ENOTSUP;
		return -1;
	}
	memset(&ra, 0, sizeof(ra));
	ra.handled_access_fs = READ_RIGHTS | LANDLOCK_ACCESS_FS_REFER;
	if ((ruleset = (int)syscall(SYS_landlock_create_ruleset, &ra,
	    sizeof(ra), 0)) == -1)
		return -1;
	if (allow_list(ruleset) == -1)
		goto out;
	/* From /, each level: all but the component leading on. */
	snprintf(dir, sizeof(dir), "%s", path);
	for (slash = dir; slash != NULL; slash = next) {
		next = strchr(slash + 1, '/');
		if (next != NULL)
			*next = '\0';
		*slash = '\0';
		if (allow_all_but(ruleset, dir[0] ? dir : "/", slash + 1) ==
		    -1)
			goto out;
		*slash = '/';
		if (next != NULL)
			*next = '/';
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    syscall(SYS_landlock_restrict_self, ruleset, 0) == -1)
		goto out;
	rc = 0;
out:
	close(ruleset);
	return rc;
}
