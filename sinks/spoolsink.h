/*
 * spoolsink.h: the daemon's side of a sink that delivers through a
 * durable spool: the influxdb and mqtt sinks.  It appends lines to the
 * spool through a writer process (writer.h), seals the open segment each
 * flush interval or when it holds a batch, and keeps the process that
 * delivers ready segments running (shipctl.h, of the sink's kind).  A
 * sink type keeps its own settings and secret check, and hands the rest
 * of struct sink_type's calls to these.
 *
 * At stop the writer seals the open segment, then the shipping process
 * delivers what is ready (at the daemon's exit) or only finishes what is
 * under way (a reload, whose new sink delivers the rest), and both are
 * reaped.
 */
#ifndef SINKS_SPOOLSINK_H
#define SINKS_SPOOLSINK_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>
#include <systemd/sd-event.h>

struct lp_point;
struct shipctl_kind;
struct spoolsink;

struct spoolsink_params {
	const char	*spool_dir;
	uint64_t	 spool_max;	/* bytes: ready/ and the open segment */
	int		 do_fsync;
	double		 flush_interval;	/* s; 0: seal after every run */
	unsigned long	 batch_size;	/* lines: seal when the segment has */
	uint64_t	 batch_bytes;	/* bytes: likewise */
	const struct shipctl_kind *kind;	/* the shipping process */
	const void	*ship_conf;	/* its settings, borrowed for the sink's
					   life */
};

/*
 * The daemon's state_dir as a sink's settings s see it (daemon.state_dir
 * of their configuration, else STATEDIR), a copy; and the spool of the
 * sink called name: spool_dir when set, else STATE_DIR/spool/NAME, a copy.
 */
char		*spoolsink_state_dir(const config_setting_t *s);
char		*spoolsink_dir(const char *spool_dir, const char *state_dir,
		    const char *name);

/*
 * Lock and open the spool, start its writer and its shipping process on
 * ev, for the sink called name.  NULL with a reason in err.
 */
struct spoolsink *spoolsink_start(const char *name, sd_event *ev,
		    const struct spoolsink_params *p, char *err,
		    size_t errlen);
/* struct sink_type's write(), flush(), sync(), stats() and fill(). */
int		 spoolsink_write(struct spoolsink *, const char *lines,
		    size_t len);
void		 spoolsink_flush(struct spoolsink *);
void		 spoolsink_sync(struct spoolsink *);
void		 spoolsink_stats(struct spoolsink *, struct lp_point *p);
unsigned int	 spoolsink_fill(struct spoolsink *);
/* Stop in order (above) and free.  NULL is fine. */
void		 spoolsink_stop(struct spoolsink *);

#endif /* SINKS_SPOOLSINK_H */
