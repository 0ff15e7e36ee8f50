/*
 * nats_sub.c: print what is published on a NATS subject, for tests.
 *
 *	nats_sub [-j] [-l] URL SUBJECT SECONDS [MAX]
 *
 * Subscribes to SUBJECT (wildcards allowed) and prints each message as
 * one line, "SUBJECT PAYLOAD" (newlines in the payload as spaces), for
 * SECONDS or until MAX messages (default 100000) came; SECONDS is also
 * the longest wait for one message.  -l prints each line of a payload
 * as "SUBJECT LINE".  -j reads what a JetStream stream holds of SUBJECT
 * from its start (an ephemeral consumer) instead.  "ready" on stderr
 * once subscribed.  Exit 0, or 1 when it could not subscribe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

int
main(int argc, char *argv[])
{
	natsConnection		*nc = NULL;
	jsCtx			*js = NULL;
	jsSubOptions		 so;
	jsErrCode		 jerr = 0;
	int			 opt_j = 0, opt_l = 0;
	natsSubscription	*sub = NULL;
	natsMsg			*m;
	natsStatus		 s;
	struct timespec		 t0, t;
	double			 secs, left;
	long			 max, n = 0;
	const char		*d;
	int			 i, len;

	for (; argc > 1 && argv[1][0] == '-'; argc--, argv++) {
		opt_j |= strcmp(argv[1], "-j") == 0;
		opt_l |= strcmp(argv[1], "-l") == 0;
	}
	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: nats_sub [-j] [-l] URL SUBJECT SECONDS "
		    "[MAX]\n");
		return 2;
	}
	secs = atof(argv[3]);
	max = argc == 5 ? atol(argv[4]) : 100000;
	if ((s = natsConnection_ConnectTo(&nc, argv[1])) != NATS_OK)
		goto bad;
	if (opt_j) {
		jsSubOptions_Init(&so);
		so.Config.DeliverPolicy = js_DeliverAll;
		so.Config.AckPolicy = js_AckNone;
		s = natsConnection_JetStream(&js, nc, NULL);
		if (s == NATS_OK)
			s = js_SubscribeSync(&sub, js, argv[2], NULL, &so,
			    &jerr);
	} else
		s = natsConnection_SubscribeSync(&sub, nc, argv[2]);
	if (s != NATS_OK || (s = natsConnection_Flush(nc)) != NATS_OK) {
bad:
		fprintf(stderr, "nats_sub: %s: %s\n", argv[1],
		    natsStatus_GetText(s));
		return 1;
	}
	fprintf(stderr, "ready\n");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (n < max) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = secs - ((double)(t.tv_sec - t0.tv_sec) +
		    (double)(t.tv_nsec - t0.tv_nsec) / 1e9);
		if (left <= 0)
			break;
		s = natsSubscription_NextMsg(&m, sub, (int64_t)(left * 1000) +
		    1);
		if (s == NATS_TIMEOUT)
			break;
		if (s != NATS_OK)
			continue;
		d = natsMsg_GetData(m);
		len = natsMsg_GetDataLength(m);
		printf("%s ", natsMsg_GetSubject(m));
		for (i = 0; i < len; i++) {
			if (d[i] != '\n')
				putchar(d[i]);
			else if (!opt_l)
				putchar(' ');
			else if (i + 1 < len)
				printf("\n%s ", natsMsg_GetSubject(m));
		}
		putchar('\n');
		fflush(stdout);
		natsMsg_Destroy(m);
		n++;
	}
	natsSubscription_Destroy(sub);
	if (js != NULL)
		jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	nats_Close();
	return 0;
}
