/*
 * result.c: what one iperf3 test gave, read from its report and JSON.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <iperf_api.h>
#include <jansson.h>

#include "collectors/iperf/result.h"

static const char *const res_names[] = {
	"ok", "timeout", "unreachable", "dns_error", "refused", "busy",
	"error"
};

const char *
iperf_res_name(enum iperf_res res)
{
	return res_names[res];
}

static const json_t *
jpath(const json_t *j, const char *a, const char *b)
{
	if ((j = json_object_get(j, a)) == NULL || b == NULL)
		return j;
	return json_object_get(j, b);
}

static int
jnum(const json_t *obj, const char *key, double *v)
{
	const json_t	*j = json_object_get(obj, key);

	if (!json_is_number(j))
		return 0;
	*v = json_number_value(j);
	return 1;
}

static int
jint(const json_t *obj, const char *key, int64_t *v)
{
	const json_t	*j = json_object_get(obj, key);

	if (json_is_integer(j))
		*v = json_integer_value(j);
	else if (json_is_real(j))
		*v = (int64_t)llround(json_real_value(j));
	else
		return 0;
	return 1;
}

int
iperf_result_parse(const char *text, size_t len, int udp,
    struct iperf_result *r, char *msg, size_t msglen)
{
	json_t		*root;
	json_error_t	 jerr;
	const json_t	*end, *sent, *recv, *cpu, *e;
	int		 rc = -1;

	memset(r, 0, sizeof(*r));
	if ((root = json_loadb(text, len, 0, &jerr)) == NULL) {
		snprintf(msg, msglen, "iperf3's JSON does not parse: line %d: "
		    "%s", jerr.line, jerr.text);
		return -1;
	}
	if (!json_is_object(root)) {
		snprintf(msg, msglen, "iperf3's JSON is not an object");
		goto out;
	}
	if ((e = json_object_get(root, "error")) != NULL) {
		snprintf(msg, msglen, "%s", json_is_string(e) ?
		    json_string_value(e) : "iperf3 reported an error");
		rc = 1;
		goto out;
	}
	end = json_object_get(root, "end");
	sent = json_object_get(end, "sum_sent");
	recv = json_object_get(end, "sum_received");
	/* iperf3 before 3.10 sums UDP in end.sum only. */
	if (udp && sent == NULL)
		sent = json_object_get(end, "sum");
	if (udp && recv == NULL)
		recv = json_object_get(end, "sum");
	if (!jnum(sent, "bits_per_second", &r->sent_bps) ||
	    !jnum(recv, "bits_per_second", &r->received_bps)) {
		snprintf(msg, msglen, "iperf3's JSON has no end.sum_sent and "
		    "end.sum_received bits_per_second");
		goto out;
	}
	if (!udp && jint(sent, "retransmits", &r->retransmits))
		r->has |= IPERF_HAS_RETRANSMITS;
	if (udp && jnum(recv, "jitter_ms", &r->jitter_ms) &&
	    jnum(recv, "lost_percent", &r->lost_pct) &&
	    jint(recv, "lost_packets", &r->lost_packets))
		r->has |= IPERF_HAS_UDP;
	cpu = json_object_get(end, "cpu_utilization_percent");
	if (jnum(cpu, "host_total", &r->cpu_local_pct) &&
	    jnum(cpu, "remote_total", &r->cpu_remote_pct))
		r->has |= IPERF_HAS_CPU;
	if (jnum(recv, "seconds", &r->duration_s))
		r->has |= IPERF_HAS_DURATION;
	if (jint(jpath(root, "start", "test_start"), "num_streams",
	    &r->streams))
		r->has |= IPERF_HAS_STREAMS;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* The result of a failed test from libiperf's error and errno. */
static enum iperf_res
classify(const struct iperf_report *rep)
{
	switch (rep->ierr) {
	case IEACCESSDENIED:
		return IPERF_RES_BUSY;
	case IENOMSG:
		return IPERF_RES_TIMEOUT;
	case IECONNECT:
	case IESTREAMCONNECT:
		switch (rep->syserr) {
		case ECONNREFUSED:
			return IPERF_RES_REFUSED;
		case ETIMEDOUT:
		case EINPROGRESS:
			return IPERF_RES_TIMEOUT;
		case EHOSTUNREACH:
		case ENETUNREACH:
		case EHOSTDOWN:
		case ENETDOWN:
			return IPERF_RES_UNREACHABLE;
		}
		break;
	}
	return IPERF_RES_ERROR;
}

enum iperf_res
iperf_result_of(const struct iperf_report *rep, const char *json, size_t len,
    int udp, struct iperf_result *r, char *msg, size_t msglen)
{
	int	rc = -1;

	switch (rep->status) {
	case IPERF_TEST_RAN:
		break;
	case IPERF_TEST_DNS:
		snprintf(msg, msglen, "%s", rep->msg);
		return IPERF_RES_DNS;
	default:
		snprintf(msg, msglen, "%s", rep->msg);
		return IPERF_RES_ERROR;
	}
	if (rep->json)
		rc = iperf_result_parse(json, len, udp, r, msg, msglen);
	if (rc == 0 && rep->rc == 0)
		return IPERF_RES_OK;
	/* libiperf's own text names the errno; the JSON's may not. */
	if (rep->ierr != IENONE) {
		snprintf(msg, msglen, "%s", rep->msg);
		return classify(rep);
	}
	if (rc != -1 || !rep->json)
		snprintf(msg, msglen, "the test failed without saying why");
	return IPERF_RES_ERROR;
}

