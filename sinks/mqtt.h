/*
 * mqtt.h: the mqtt sink type.  As the influxdb sink (influxdb.h), the
 * daemon appends points to a durable spool through a writer process and
 * never touches the network; a sending process per sink (mqttship.h,
 * mqttship.so, the one that links libmosquitto), supervised by the
 * daemon, publishes them to the broker.
 */
#ifndef SINKS_MQTT_H
#define SINKS_MQTT_H

#include "sinks/sink.h"

extern const struct sink_type sink_mqtt_type;

#endif /* SINKS_MQTT_H */
