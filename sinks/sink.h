/*
 * sink.h: where points go after the parent has validated them.
 *
 * A sink type validates its settings at configure() time (in the parent,
 * no I/O, like a collector) and is started by the scheduler.  The runtime
 * half of this interface is completed by the scheduler.
 */
#ifndef SINKS_SINK_H
#define SINKS_SINK_H

#include <stddef.h>

#include <libconfig.h>

struct sink_type {
	const char	*name;		/* the `type` setting: "file" */
	const char *const *settings;	/* its settings besides type, name */
	int		(*configure)(const config_setting_t *s, void **state,
			    char *err, size_t errlen);
	void		(*release)(void *state);
};

/* The sink type called name, or NULL. */
const struct sink_type *sink_type_find(const char *name);
/* A comma-separated list of the known types, for error messages. */
const char *sink_type_names(void);

#endif /* SINKS_SINK_H */
