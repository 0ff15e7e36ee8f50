/*
 * prometheus.h: the prometheus sink: the latest value of every series
 * (sinks/promstore.h) served at http://LISTEN/metrics in the text
 * exposition format, on the daemon's loop (lib/httpd.h).  Off unless a
 * sink of type "prometheus" is configured.
 */
#ifndef SINKS_PROMETHEUS_H
#define SINKS_PROMETHEUS_H

#include "sinks/sink.h"

extern const struct sink_type sink_prometheus_type;

#endif /* SINKS_PROMETHEUS_H */
