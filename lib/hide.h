/*
 * hide.h: keeping a process and all it forks from reading the files of
 * one directory (the service's credentials, hidden from collector runs),
 * with Landlock; no privilege needed, and it cannot be undone.
 */
#ifndef LIB_HIDE_H
#define LIB_HIDE_H

/*
 * From now on, the calling process and its children cannot read a file
 * beneath path (absolute); it may still list directories and move files
 * between them.  0, or -1 with errno (ENOSYS, EOPNOTSUPP: no Landlock
 * here; ENOTSUP: only Landlock ABI 1, which would deny moving files
 * between directories; EPERM: a system call filter refuses it).
 */
int	hide_dir(const char *path);

#endif /* LIB_HIDE_H */
