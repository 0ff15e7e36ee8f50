/*
 * shipstart.h: starting an influxdb sink's shipper process.
 *
 * The shipper's code, with libcurl and zlib, is a shared object of its own
 * (shipper.so) that only the forked shipper process loads: the daemon,
 * which schedules and forks runs, never maps those libraries.
 */
#ifndef SINKS_SHIPSTART_H
#define SINKS_SHIPSTART_H

#include <stddef.h>
#include <sys/types.h>

struct shipper_conf;

/*
 * Fork the shipper for the spool in spooldir; *rfd is set to the read
 * end (close-on-exec, blocking) of the pipe of its messages (struct
 * shipper_msg, shipper.h).  name is the sink's.  The pid, or -1 after
 * logging why.
 */
pid_t	shipper_start(const struct shipper_conf *, const char *name,
	    const char *spooldir, int *rfd);
/* Overwrite len bytes at p (a secret) in a way the compiler keeps. */
void	shipper_wipe(void *p, size_t len);
/* The shipper.so to load: beside the binary in a build tree, or installed. */
const char *shipper_so_path(void);

#endif /* SINKS_SHIPSTART_H */
