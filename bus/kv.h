/*
 * kv.h: the bus's JetStream key/value bucket (see bus.h, docs/nats.md):
 * bound when NATS is there, made (with the configured TTL, history 1,
 * file storage) when it does not exist yet.
 */
#ifndef BUS_KV_H
#define BUS_KV_H

#include <stddef.h>

#include <nats/nats.h>

struct bus_conf;
struct kv;

/* A bucket of c's on nc, not bound yet. */
struct kv	*kv_new(const struct bus_conf *c, natsConnection *nc);
void		 kv_free(struct kv *);
/*
 * Bind the bucket if it is not bound (made if missing); at most once in
 * a few seconds after a failure, which is logged once.  1 bound, 0 not.
 */
int		 kv_ready(struct kv *);
/* Put value (len bytes) at key.  0, or -1 (logged, rate-limited). */
int		 kv_put(struct kv *, const char *key, const char *value,
		    size_t len);

#endif /* BUS_KV_H */
