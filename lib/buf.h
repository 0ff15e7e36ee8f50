/*
 * buf.h: a growable byte buffer with a hard cap, after curl's dynbuf.
 *
 * The contents are always NUL-terminated (the terminator is not counted in
 * the length and not counted against the cap).  An append that would exceed
 * the cap fails with -1 and errno E2BIG and leaves the buffer unchanged.
 */
#ifndef LIB_BUF_H
#define LIB_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;		/* NULL until the first append */
	size_t	 len;
	size_t	 alloc;
	size_t	 cap;		/* the most bytes len may reach */
};

/* Initialise an empty buffer that may hold at most cap bytes. */
void	buf_init(struct buf *, size_t cap);
/* Free the storage; the buffer is empty and may be reused.  NULL is fine. */
void	buf_cleanup(struct buf *);
/* Empty the buffer, keeping its storage. */
void	buf_reset(struct buf *);
/* Append n bytes.  0, or -1 with errno E2BIG (cap) or ENOMEM. */
int	buf_add(struct buf *, const void *, size_t n);
/* Append a C string.  Same returns as buf_add(). */
int	buf_adds(struct buf *, const char *);
/* Append one byte.  Same returns as buf_add(). */
int	buf_addc(struct buf *, char);
/* Append printf output.  Same returns as buf_add(). */
int	buf_addf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes (n <= len), moving the rest to the front. */
void	buf_consume(struct buf *, size_t n);
/* Cut the length to n (n <= len). */
void	buf_truncate(struct buf *, size_t n);
/* The contents, "" when empty; valid until the next change. */
const char *buf_str(const struct buf *);
/*
 * Hand the storage to the caller (who frees it) and leave the buffer
 * empty.  Returns NULL for an empty buffer.
 */
char	*buf_take(struct buf *, size_t *lenp);

#endif /* LIB_BUF_H */
