/*
 * sink.h: where points go after the parent has validated them.
 *
 * A sink type validates its settings at configure() time (in the parent,
 * no I/O, like a collector).  The scheduler then start()s one instance per
 * configured sink, write()s it complete lines of line protocol (never
 * blocking on the network: a sink that delivers remotely spools and ships
 * from a process of its own), flush()es it after each run, adds its figures
 * to the self-metrics with stats(), and stop()s it at exit or when a reload
 * changes it.
 */
#ifndef SINKS_SINK_H
#define SINKS_SINK_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>
#include <systemd/sd-event.h>

struct lp_point;

struct sink_type {
	const char	*name;		/* the `type` setting: "file" */
	const char *const *settings;	/* its settings besides type, name */
	int		(*configure)(const config_setting_t *s, void **state,
			    char *err, size_t errlen);
	void		(*release)(void *state);
	/* Whether two configured states are the same (keep the sink). */
	int		(*same)(const void *a, const void *b);
	/*
	 * Start an instance from a configured state (borrowed: copy what
	 * is kept).  NULL with a reason in err.
	 */
	void		*(*start)(const void *state, const char *name,
			    sd_event *ev, char *err, size_t errlen);
	/* Take len bytes of complete lines.  0, or -1 if they were lost. */
	int		(*write)(void *sink, const char *lines, size_t len);
	/* Push out what is buffered (end of a run). */
	void		(*flush)(void *sink);
	/*
	 * Wait until what was written is on disk, before a reload starts
	 * new sinks that may take over the same files; NULL if not needed.
	 */
	void		(*sync)(void *sink);
	/* Add the sink's figures as fields of p (measurement qosd_sink). */
	void		(*stats)(void *sink, struct lp_point *p);
	/* Flush, release everything; NULL is fine. */
	void		(*stop)(void *sink);
	/*
	 * Optional: the n configured jobs (names borrowed for the call),
	 * after start() and after each reload, for a sink that keeps
	 * series per job (prometheus): those of other jobs go.
	 */
	void		(*jobs)(void *sink, const char *const *names,
			    size_t n);
	/*
	 * How full the sink's queue is, in percent of its cap: the daemon
	 * stops reading runs' output at SINK_FILL_HIGH and goes on at
	 * SINK_FILL_LOW, so that a slow sink holds runs back instead of
	 * losing their points.  NULL: never full.
	 */
	unsigned int	(*fill)(void *sink);
	/*
	 * --check-config, beyond configure(): read what the sink will need
	 * from outside the configuration (a secret), as the service would,
	 * and let go of it.  0, or -1 with "FILE:LINE: ..." in err.  NULL if
	 * there is nothing to check.
	 */
	int		(*check)(const void *state, const char *name,
			    char *err, size_t errlen);
	/*
	 * The directory the sink called name keeps to itself (a spool), a
	 * malloc()ed path, or NULL; no two sinks may share one.  NULL if
	 * the type keeps none.
	 */
	char		*(*dir)(const void *state, const char *name);
};

#define SINK_FILL_HIGH	75
#define SINK_FILL_LOW	25

/* The sink type called name, or NULL. */
const struct sink_type *sink_type_find(const char *name);
/* A comma-separated list of the known types, for error messages. */
const char *sink_type_names(void);

#endif /* SINKS_SINK_H */
