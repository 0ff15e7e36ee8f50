/*
 * influxdb.h: the influxdb sink type.  The parent appends points to a
 * durable spool (spool.h) and never touches the network; a shipper
 * process per sink (shipper.h), supervised by the parent, delivers them.
 */
#ifndef SINKS_INFLUXDB_H
#define SINKS_INFLUXDB_H

#include "sinks/sink.h"

extern const struct sink_type sink_influxdb_type;

#endif /* SINKS_INFLUXDB_H */
