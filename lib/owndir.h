/*
 * owndir.h: a directory that is qosd's alone (a spool, the state
 * directory): opened once, never through a symbolic link, owned by the
 * effective uid and writable by no one else, so that nobody can plant or
 * swap a file in it; everything in it is then opened relative to the
 * descriptor (openat(2)).
 */
#ifndef LIB_OWNDIR_H
#define LIB_OWNDIR_H

#include <stddef.h>

/*
 * Open directory name of atfd (AT_FDCWD, or a directory; path is how
 * messages show it), created (0750) if missing, with O_NOFOLLOW, and
 * check it.  alt, if not NULL, is the other way out a message offers
 * ("give the sink another spool_dir").  The descriptor (O_CLOEXEC), or
 * -1 with err saying what to fix.
 */
int	owndir_open(int atfd, const char *name, const char *path,
	    const char *alt, char *err, size_t errlen);
/* The same for path, its missing parents created first (mkdir -p). */
int	owndir_open_path(const char *path, const char *alt, char *err,
	    size_t errlen);

#endif /* LIB_OWNDIR_H */
