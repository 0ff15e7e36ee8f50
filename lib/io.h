/*
 * io.h: small I/O helpers every process of qosd uses.
 */
#ifndef LIB_IO_H
#define LIB_IO_H

#include <stddef.h>

/* write(2) all of p, through EINTR and short writes.  0, or -1 with errno. */
int	io_write_all(int fd, const void *p, size_t len);
/* "a/b", malloc()ed (the caller frees it); fatal() on ENOMEM. */
char	*io_path_join(const char *a, const char *b);

#endif /* LIB_IO_H */
