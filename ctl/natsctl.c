/*
 * natsctl.c: qosctl over NATS (see natsctl.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <nats/nats.h>

#include "ctl/natsctl.h"
#include "lib/natsname.h"

#define ALIVE_INTERVALS	3	/* heartbeats missed: dead */
#define AGENTS_MAX	100000	/* heartbeats read, at most */

struct natsctl {
	natsConnection	*nc;
	jsCtx		*js;
	kvStore		*kv;
	const char	*prefix;
	const char	*bucket;
	int64_t		 timeout_ms;
};

static int
failed(natsStatus s, const char *what, char *err, size_t errlen)
{
	const char	*last = nats_GetLastError(NULL);

	snprintf(err, errlen, "%s: %s%s%s", what, natsStatus_GetText(s),
	    last != NULL && *last != '\0' ? ": " : "", last != NULL ? last :
	    "");
	return -1;
}

struct natsctl *
natsctl_open(const struct natsctl_opts *o, char *err, size_t errlen)
{
	struct natsctl	*n;
	natsOptions	*no = NULL;
	natsStatus	 s;
	char		 why[256];

	if (natsname_prefix_ok(o->prefix, why, sizeof(why)) == -1 ||
	    natsname_bucket_ok(o->bucket, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s", why);
		return NULL;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n->prefix = o->prefix;
	n->bucket = o->bucket;
	n->timeout_ms = (int64_t)(o->timeout_s * 1000);
	if ((s = natsOptions_Create(&no)) != NATS_OK ||
	    (s = natsOptions_SetServers(no, (const char *[]){ o->url },
	    1)) != NATS_OK ||
	    (s = natsOptions_SetName(no, "qosctl")) != NATS_OK ||
	    (s = natsOptions_SetTimeout(no, n->timeout_ms)) != NATS_OK ||
	    (s = natsOptions_SetMaxReconnect(no, 0)) != NATS_OK ||
	    (o->creds != NULL && (s = natsOptions_SetUserCredentialsFromFiles(
	    no, o->creds, NULL)) != NATS_OK) ||
	    (o->ca != NULL && ((s = natsOptions_SetSecure(no, true)) !=
	    NATS_OK || (s = natsOptions_LoadCATrustedCertificates(no,
	    o->ca)) != NATS_OK))) {
		failed(s, "nats options", err, errlen);
		goto bad;
	}
	if ((s = natsConnection_Connect(&n->nc, no)) != NATS_OK) {
		failed(s, o->url, err, errlen);
		goto bad;
	}
	natsOptions_Destroy(no);
	return n;
bad:
	natsOptions_Destroy(no);
	natsctl_close(n);
	return NULL;
}

void
natsctl_close(struct natsctl *n)
{
	if (n == NULL)
		return;
	if (n->kv != NULL)
		kvStore_Destroy(n->kv);
	if (n->js != NULL)
		jsCtx_Destroy(n->js);
	if (n->nc != NULL)
		natsConnection_Destroy(n->nc);
	free(n);
	nats_Close();
}

/* The bucket, bound once. */
static int
bucket(struct natsctl *n, char *err, size_t errlen)
{
	jsOptions	jo;
	natsStatus	s;
	char		what[256];

	if (n->kv != NULL)
		return 0;
	jsOptions_Init(&jo);
	jo.Wait = n->timeout_ms;
	if (n->js == NULL && (s = natsConnection_JetStream(&n->js, n->nc,
	    &jo)) != NATS_OK)
		return failed(s, "JetStream", err, errlen);
	if ((s = js_KeyValue(&n->kv, n->js, n->bucket)) != NATS_OK) {
		snprintf(what, sizeof(what), "the bucket \"%s\"%s", n->bucket,
		    s == NATS_NOT_FOUND ? " (no agent has written to it yet)" :
		    "");
		return failed(s, what, err, errlen);
	}
	return 0;
}

static double
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static json_t *
rfc3339(int64_t ns)
{
	time_t		t = (time_t)(ns / 1000000000);
	struct tm	tm;
	char		buf[64];

	gmtime_r(&t, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ns % 1000000000 / 1000000));
	return json_string(buf);
}

/* One heartbeat of the bucket as an agent's line. */
static json_t *
agent_of(kvEntry *e)
{
	json_t		*hb, *o;
	double		 iv, age;
	const char	*key = kvEntry_Key(e);

	if ((hb = json_loadb(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), 0,
	    NULL)) == NULL || !json_is_object(hb)) {
		json_decref(hb);
		return NULL;
	}
	iv = json_number_value(json_object_get(hb, "heartbeat_interval_s"));
	if (iv <= 0)
		iv = 10;
	age = (now_ns() - (double)kvEntry_Created(e)) / 1e9;
	o = json_pack("{s:s, s:b, s:o, s:f, s:O?, s:o}", "agent",
	    json_string_value(json_object_get(hb, "agent")) ?: key + 6,
	    "alive", age < ALIVE_INTERVALS * iv, "last_seen",
	    rfc3339(kvEntry_Created(e)), "age_s", age < 0 ? 0 : age,
	    "version", json_object_get(hb, "version"), "heartbeat", hb);
	return o;
}

static int
by_agent(const void *a, const void *b)
{
	const json_t *const	*x = a, *const *y = b;

	return strcmp(json_string_value(json_object_get(*x, "agent")),
	    json_string_value(json_object_get(*y, "agent")));
}

int
natsctl_agents(struct natsctl *n, json_t **out, char *err, size_t errlen)
{
	kvWatchOptions	 wo;
	kvWatcher	*w = NULL;
	kvEntry		*e;
	natsStatus	 s;
	json_t		*arr, *a, **v;
	size_t		 i, seen, count;

	if (bucket(n, err, errlen) == -1)
		return -1;
	kvWatchOptions_Init(&wo);
	wo.IgnoreDeletes = true;
	if ((s = kvStore_Watch(&w, n->kv, "agent.*", &wo)) != NATS_OK)
		return failed(s, "watching the heartbeats", err, errlen);
	arr = json_array();
	for (seen = 0; seen < AGENTS_MAX; seen++) {
		if ((s = kvWatcher_Next(&e, w, n->timeout_ms)) != NATS_OK) {
			kvWatcher_Destroy(w);
			json_decref(arr);
			return failed(s, "reading the heartbeats", err,
			    errlen);
		}
		if (e == NULL)		/* all initial values are in */
			break;
		if ((a = agent_of(e)) != NULL)
			json_array_append_new(arr, a);
		kvEntry_Destroy(e);
	}
	kvWatcher_Destroy(w);
	count = json_array_size(arr);
	if (count > 1 && (v = calloc(count, sizeof(*v))) != NULL) {
		for (i = 0; i < count; i++)
			v[i] = json_incref(json_array_get(arr, i));
		qsort(v, count, sizeof(*v), by_agent);
		json_array_clear(arr);
		for (i = 0; i < count; i++)
			json_array_append_new(arr, v[i]);
		free(v);
	}
	*out = json_pack("{s:o}", "agents", arr);
	return 0;
}

int
natsctl_request(struct natsctl *n, const char *agent, const char *verb,
    const json_t *body, json_t **out, char *err, size_t errlen)
{
	char		 subj[NATSNAME_SUBJECT_MAX], why[256], *s;
	natsMsg		*m = NULL;
	natsStatus	 st;
	json_error_t	 je;
	json_t		*code;

	if (natsname_agent_ok(agent, why, sizeof(why)) == -1 ||
	    natsname_subject(subj, sizeof(subj), n->prefix, NULL, agent,
	    verb) == -1) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	if ((s = json_dumps(body, JSON_COMPACT)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	st = natsConnection_RequestString(&m, n->nc, subj, s, n->timeout_ms);
	free(s);
	if (st == NATS_NO_RESPONDERS) {
		snprintf(err, errlen, "agent \"%s\" is not on the bus (no one "
		    "listens on %s)", agent, subj);
		return -1;
	}
	if (st != NATS_OK)
		return failed(st, subj, err, errlen);
	*out = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m),
	    0, &je);
	natsMsg_Destroy(m);
	if (*out == NULL || !json_is_object(*out)) {
		snprintf(err, errlen, "agent \"%s\" answered something that is "
		    "not a JSON object", agent);
		json_decref(*out);
		return -1;
	}
	code = json_object_get(*out, "code");
	return json_is_integer(code) ? (int)json_integer_value(code) : 200;
}

int
natsctl_result(struct natsctl *n, const char *id, json_t **out, char *err,
    size_t errlen)
{
	char		 key[NATSNAME_KEY_MAX];
	kvEntry		*e = NULL;
	natsStatus	 s;

	if (natsname_result_key(id, key, sizeof(key)) == -1) {
		snprintf(err, errlen, "the id \"%.80s\" is too long", id);
		return -1;
	}
	if (bucket(n, err, errlen) == -1)
		return -1;
	if ((s = kvStore_Get(&e, n->kv, key)) == NATS_NOT_FOUND) {
		snprintf(err, errlen, "no result \"%s\" in the bucket \"%s\"",
		    id, n->bucket);
		return 404;
	}
	if (s != NATS_OK)
		return failed(s, key, err, errlen);
	*out = json_loadb(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), 0,
	    NULL);
	kvEntry_Destroy(e);
	if (*out == NULL) {
		snprintf(err, errlen, "the result \"%s\" in the bucket is not "
		    "JSON", id);
		return -1;
	}
	return 200;
}
