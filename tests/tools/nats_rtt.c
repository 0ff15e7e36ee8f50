/*
 * nats_rtt.c: request->reply latency of "run this job now", over NATS
 * and over the control API's Unix socket, for tests/bench/nats.sh.
 *
 *	nats_rtt NATS_URL SUBJECT SOCKET JOB N GAP_MS
 *
 * One NATS connection (libnats) and one HTTP handle (libcurl, kept
 * alive), as a long-lived client holds them; N rounds, each asking
 * once over NATS (SUBJECT, {"job": JOB}) and once over the socket
 * (POST /v1/jobs/JOB/run), in alternating order, GAP_MS apart so that
 * the job's previous run is over.  Prints one line per path:
 *
 *	nats|socket MEDIAN_US P99_US ACCEPTED OTHER
 *
 * ACCEPTED counts 202 answers; OTHER the rest (409: the run was still
 * going).  Exit 0, or 1 when a request got no answer at all.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <nats/nats.h>

#define MAX_N	100000

static uint64_t
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int
cmp(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static size_t
discard(void *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static void
report(const char *name, uint64_t *v, size_t n, size_t ok, size_t other)
{
	qsort(v, n, sizeof(*v), cmp);
	printf("%s %llu %llu %zu %zu\n", name,
	    (unsigned long long)v[n / 2],
	    (unsigned long long)v[(n * 99 + 99) / 100 - 1], ok, other);
}

int
main(int argc, char *argv[])
{
	natsConnection	*nc = NULL;
	natsMsg		*m;
	natsStatus	 s;
	CURL		*h;
	struct curl_slist *hdr = NULL;
	uint64_t	*tn, *ts, t0;
	size_t		 n, i, nok = 0, nother = 0, sok = 0, sother = 0;
	long		 code;
	char		 url[512], body[512];
	struct timespec	 gap;
	int		 round;

	if (argc != 7 || (n = strtoul(argv[5], NULL, 10)) == 0 ||
	    n > MAX_N) {
		fprintf(stderr, "usage: nats_rtt NATS_URL SUBJECT SOCKET JOB "
		    "N GAP_MS\n");
		return 2;
	}
	gap.tv_sec = atol(argv[6]) / 1000;
	gap.tv_nsec = atol(argv[6]) % 1000 * 1000000L;
	if ((s = natsConnection_ConnectTo(&nc, argv[1])) != NATS_OK) {
		fprintf(stderr, "nats_rtt: %s: %s\n", argv[1],
		    natsStatus_GetText(s));
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	h = curl_easy_init();
	snprintf(url, sizeof(url), "http://q/v1/jobs/%s/run", argv[4]);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, argv[3]);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, "{}");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	snprintf(body, sizeof(body), "{\"job\":\"%s\"}", argv[4]);
	tn = calloc(n, sizeof(*tn));
	ts = calloc(n, sizeof(*ts));
	if (tn == NULL || ts == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		for (round = 0; round < 2; round++) {
			nanosleep(&gap, NULL);
			if ((round == 0) == (i % 2 == 0)) {
				t0 = now_us();
				s = natsConnection_RequestString(&m, nc,
				    argv[2], body, 10000);
				tn[i] = now_us() - t0;
				if (s != NATS_OK) {
					fprintf(stderr, "nats_rtt: request: "
					    "%s\n", natsStatus_GetText(s));
					return 1;
				}
				if (strstr(natsMsg_GetData(m),
				    "\"code\":202") != NULL)
					nok++;
				else
					nother++;
				natsMsg_Destroy(m);
			} else {
				t0 = now_us();
				if (curl_easy_perform(h) != CURLE_OK) {
					fprintf(stderr, "nats_rtt: socket "
					    "request failed\n");
					return 1;
				}
				ts[i] = now_us() - t0;
				curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE,
				    &code);
				code == 202 ? sok++ : sother++;
			}
		}
	}
	report("nats", tn, n, nok, nother);
	report("socket", ts, n, sok, sother);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdr);
	curl_global_cleanup();
	natsConnection_Destroy(nc);
	nats_Close();
	free(tn);
	free(ts);
	return 0;
}
