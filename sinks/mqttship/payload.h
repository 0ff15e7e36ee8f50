/*
 * payload.h: a point as the JSON payload of an mqtt message: one object
 *
 *   {"measurement":"tcp","tags":{"agent":"edge-1","job":"gw",...},
 *    "fields":{"rtt_avg_ms":0.042,"sent":5,"result":"ok",...},
 *    "time":1764612000000000000}
 *
 * tags sorted by key (as the point keeps them), fields in the point's
 * order, time in nanoseconds since the epoch (absent if the point has
 * none).  Integers are JSON integers; floats are written with the fewest
 * digits that read back to the same double, with ".0" when that reads as
 * an integer, so that a float stays a float; strings are escaped as RFC
 * 8259 says (the point's strings are UTF-8 already).  Written by hand:
 * jansson 2.14 writes 0.1 as 0.10000000000000001.
 */
#ifndef SINKS_MQTTSHIP_PAYLOAD_H
#define SINKS_MQTTSHIP_PAYLOAD_H

struct buf;
struct lp_point;

/*
 * Append point p as one JSON object (no newline) to out.  0, or -1 if
 * out is full (out is then cut back to what it held).
 */
int	mqtt_payload_json(const struct lp_point *p, struct buf *out);

#endif /* SINKS_MQTTSHIP_PAYLOAD_H */
