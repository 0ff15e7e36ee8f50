/*
 * sink.c: the table of sink types.
 */
#include <stddef.h>
#include <string.h>

#include "sinks/file.h"
#include "sinks/influxdb.h"
#include "sinks/mqtt.h"
#include "sinks/prometheus.h"
#include "sinks/sink.h"

static const struct sink_type *const types[] = {
	&sink_file_type,
	&sink_influxdb_type,
	&sink_mqtt_type,
	&sink_prometheus_type,
};

const struct sink_type *
sink_type_find(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i]->name, name) == 0)
			return types[i];
	return NULL;
}

const char *
sink_type_names(void)
{
	return "file, influxdb, mqtt, prometheus";
}
