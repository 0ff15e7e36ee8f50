/*
 * kv.c: the bus's key/value bucket (see kv.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "bus/bus.h"
#include "bus/kv.h"
#include "lib/clock.h"
#include "lib/complain.h"
#include "lib/log.h"

#define RETRY_US	3000000ULL	/* binding again after a failure */
#define JS_WAIT_MS	2000		/* a JetStream request's answer */

struct kv {
	const struct bus_conf	*c;
	natsConnection		*nc;
	jsCtx			*js;
	kvStore			*kv;
	uint64_t		 next_try;
	struct complain		 bind_cp, put_cp;
};

struct kv *
kv_new(const struct bus_conf *c, natsConnection *nc)
{
	struct kv	*k;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		fatal("bus: %m");
	k->c = c;
	k->nc = nc;
	return k;
}

void
kv_free(struct kv *k)
{
	if (k == NULL)
		return;
	if (k->kv != NULL)
		kvStore_Destroy(k->kv);
	if (k->js != NULL)
		jsCtx_Destroy(k->js);
	free(k);
}

static natsStatus
bind(struct kv *k)
{
	jsOptions	 jo;
	kvConfig	 kc;
	natsStatus	 s;

	if (k->js == NULL) {
		jsOptions_Init(&jo);
		jo.Wait = JS_WAIT_MS;
		if ((s = natsConnection_JetStream(&k->js, k->nc, &jo)) !=
		    NATS_OK)
			return s;
	}
	if ((s = js_KeyValue(&k->kv, k->js, k->c->bucket)) != NATS_NOT_FOUND)
		return s;
	kvConfig_Init(&kc);
	kc.Bucket = k->c->bucket;
	kc.Description = "qosd: agents' heartbeats, requests' states and "
	    "results";
	kc.History = 1;
	kc.TTL = (int64_t)(k->c->kv_ttl_s * 1e9);
	kc.StorageType = js_FileStorage;
	return js_CreateKeyValue(&k->kv, k->js, &kc);
}

int
kv_ready(struct kv *k)
{
	uint64_t	now = clock_mono_us();
	natsStatus	s;

	if (k->kv != NULL)
		return 1;
	if (now < k->next_try)
		return 0;
	if ((s = bind(k)) == NATS_OK) {
		if (complain_ok(&k->bind_cp) > 0)
			log_notice("bus: the bucket \"%s\" is bound now",
			    k->c->bucket);
		else
			log_info("bus: bucket \"%s\"", k->c->bucket);
		return 1;
	}
	k->kv = NULL;
	k->next_try = now + RETRY_US;
	if (complain_fail(&k->bind_cp, now))
		log_warning("bus: cannot bind or make the bucket \"%s\" "
		    "(is JetStream on in the server?): %s: %s; results are "
		    "published, not kept", k->c->bucket, natsStatus_GetText(s),
		    nats_GetLastError(NULL) ?: "");
	return 0;
}

int
kv_put(struct kv *k, const char *key, const char *value, size_t len)
{
	natsStatus	s;

	if (!kv_ready(k))
		return -1;
	if ((s = kvStore_Put(NULL, k->kv, key, value, (int)len)) == NATS_OK) {
		if (complain_ok(&k->put_cp) > 0)
			log_notice("bus: keeping results in \"%s\" again",
			    k->c->bucket);
		return 0;
	}
	if (complain_fail(&k->put_cp, clock_mono_us()))
		log_warning("bus: cannot put \"%s\" in the bucket \"%s\": %s",
		    key, k->c->bucket, natsStatus_GetText(s));
	return -1;
}
