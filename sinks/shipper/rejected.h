/*
 * rejected.h: the lines InfluxDB refused, kept in the spool's rejected/
 * (bounded: the oldest files go first) with one log line each time.
 */
#ifndef SINKS_SHIPPER_REJECTED_H
#define SINKS_SHIPPER_REJECTED_H

#include <stdint.h>

struct buf;

struct rejected {
	int		 dfd;		/* the spool's rejected/ */
	char		*dir;		/* its path, for logs */
	uint64_t	 max;		/* bytes it may hold */
	const char	*sink;		/* the sink's name, for logs */
};

/*
 * Keep lines, the nrej lines of the batch whose first segment is seg that
 * InfluxDB refused, in a file named seg, and log it once with why (its
 * answer); cut says that lines only partly fit in memory.  A file seg
 * that is not a regular file of ours (a planted symbolic link) is never
 * appended to: the lines are not kept, and the log says why.
 */
void	rejected_keep(const struct rejected *r, const char *seg,
	    const struct buf *lines, uint64_t nrej, int cut, const char *why);

#endif /* SINKS_SHIPPER_REJECTED_H */
