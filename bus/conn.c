/*
 * conn.c: the bus's NATS connection (see conn.h).
 */
#define _GNU_SOURCE

#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nats/nats.h>

#include "bus/bus.h"
#include "bus/conn.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/secret.h"

#define CONNECT_MS	2000		/* one connection attempt */
#define PING_MS		5000		/* a dead server is seen in 2 pings */
#define RECONNECT_BUF	(256 * 1024)	/* published while reconnecting */

static atomic_ulong	reconnects;
static int		wake_fd = -1;

static void
wake(void)
{
	uint64_t	one = 1;

	if (wake_fd != -1 && write(wake_fd, &one, sizeof(one)) == -1)
		return;
}

static void
on_connected(natsConnection *nc, void *arg)
{
	(void)nc;
	(void)arg;
	wake();
}

static void
on_reconnected(natsConnection *nc, void *arg)
{
	(void)nc;
	(void)arg;
	atomic_fetch_add(&reconnects, 1);
	wake();
}

static void
on_error(natsConnection *nc, natsSubscription *sub, natsStatus s, void *arg)
{
	(void)nc;
	(void)sub;
	(void)arg;
	/* From libnats's thread: log.c writes one line with one write(). */
	log_warning("bus: NATS: %s", natsStatus_GetText(s));
}

/* Doubling from min to max, half of it random. */
static int64_t
on_delay(natsConnection *nc, int attempts, void *arg)
{
	const struct bus_conf	*c = arg;
	double			 d = c->reconnect_min_s;
	int			 i;

	(void)nc;
	for (i = 1; i < attempts && d < c->reconnect_max_s; i++)
		d *= 2;
	if (d > c->reconnect_max_s)
		d = c->reconnect_max_s;
	d = d / 2 + d / 2 * ((double)random() / (double)RAND_MAX);
	return (int64_t)(d * 1000);
}

int
conn_up(natsConnection *nc)
{
	return nc != NULL && natsConnection_Status(nc) ==
	    NATS_CONN_STATUS_CONNECTED;
}

unsigned long
conn_reconnects(void)
{
	return atomic_load(&reconnects);
}

/*
 * The file of secret s, checked (lib/secret.h: a regular file, not
 * empty, that others cannot read) for libnats to read it.
 */
static int
secret_file(const struct bus_secret *s, const char *what, char *path,
    size_t len, char *err, size_t errlen)
{
	char	why[PATH_MAX + 256];

	if (secret_path(s->src, s->arg, path, len, why, sizeof(why)) == -1 ||
	    secret_check(path, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "nats: the %s: %s", what, why);
		return -1;
	}
	return 0;
}

/* A password or token (lib/secret.h): NULL with err. */
static char *
read_secret(const struct bus_secret *s, const char *what, char *err,
    size_t errlen)
{
	char	path[PATH_MAX], why[PATH_MAX + 256], *out;

	if (secret_path(s->src, s->arg, path, sizeof(path), why,
	    sizeof(why)) == -1 || secret_read(path, &out, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "nats: the %s: %s", what, why);
		return NULL;
	}
	return out;
}

static int
nats_failed(natsStatus s, const char *what, char *err, size_t errlen)
{
	const char	*last = nats_GetLastError(NULL);

	snprintf(err, errlen, "nats: %s: %s%s%s", what, natsStatus_GetText(s),
	    last != NULL && *last != '\0' ? ": " : "", last != NULL ? last :
	    "");
	return -1;
}

/* The credentials: one way at most (the configuration checked it). */
static int
set_auth(natsOptions *o, const struct bus_conf *c, char *err, size_t errlen)
{
	char		 path[PATH_MAX], *secret;
	natsStatus	 s = NATS_OK;

	if (c->creds.src != SECRET_NONE) {
		if (secret_file(&c->creds, "creds", path, sizeof(path), err,
		    errlen) == -1)
			return -1;
		s = natsOptions_SetUserCredentialsFromFiles(o, path, NULL);
	} else if (c->nkey_seed.src != SECRET_NONE) {
		if (secret_file(&c->nkey_seed, "nkey seed", path, sizeof(path),
		    err, errlen) == -1)
			return -1;
		s = natsOptions_SetNKeyFromSeed(o, c->nkey, path);
	} else if (c->password.src != SECRET_NONE) {
		if ((secret = read_secret(&c->password, "password", err,
		    errlen)) == NULL)
			return -1;
		s = natsOptions_SetUserInfo(o, c->user, secret);
		secret_free(secret);
	} else if (c->token.src != SECRET_NONE) {
		if ((secret = read_secret(&c->token, "token", err,
		    errlen)) == NULL)
			return -1;
		s = natsOptions_SetToken(o, secret);
		secret_free(secret);
	}
	return s == NATS_OK ? 0 : nats_failed(s, "credentials", err, errlen);
}

static int
set_tls(natsOptions *o, const struct bus_conf *c, char *err, size_t errlen)
{
	char		 key[PATH_MAX];
	natsStatus	 s;

	if (!c->tls)
		return 0;
	if ((s = natsOptions_SetSecure(o, true)) != NATS_OK)
		return nats_failed(s, "TLS", err, errlen);
	if (c->ca_file != NULL && (s = natsOptions_LoadCATrustedCertificates(o,
	    c->ca_file)) != NATS_OK)
		return nats_failed(s, "tls.ca_file", err, errlen);
	if (c->cert_file != NULL) {
		if (secret_file(&c->key, "TLS key", key, sizeof(key), err,
		    errlen) == -1)
			return -1;
		if ((s = natsOptions_LoadCertificatesChain(o, c->cert_file,
		    key)) != NATS_OK)
			return nats_failed(s, "tls.cert_file, tls.key_file",
			    err, errlen);
	}
	if (c->server_name != NULL && (s = natsOptions_SetExpectedHostname(o,
	    c->server_name)) != NATS_OK)
		return nats_failed(s, "tls.server_name", err, errlen);
	if (!c->tls_verify && (s = natsOptions_SkipServerVerification(o,
	    true)) != NATS_OK)
		return nats_failed(s, "tls.verify", err, errlen);
	return 0;
}

static natsOptions *
options(const struct bus_conf *c, char *err, size_t errlen)
{
	natsOptions	*o;
	natsStatus	 s;
	const char	**servers;
	size_t		 i;
	char		 name[128];

	if (natsOptions_Create(&o) != NATS_OK)
		fatal("bus: natsOptions_Create");
	snprintf(name, sizeof(name), "qosd %s", c->agent);
	if ((servers = calloc(c->nservers, sizeof(*servers))) == NULL)
		fatal("bus: %m");
	for (i = 0; i < c->nservers; i++)
		servers[i] = c->servers[i];
	s = natsOptions_SetServers(o, servers, (int)c->nservers);
	free(servers);
	if (s != NATS_OK ||
	    (s = natsOptions_SetName(o, name)) != NATS_OK ||
	    (s = natsOptions_SetTimeout(o, CONNECT_MS)) != NATS_OK ||
	    (s = natsOptions_SetPingInterval(o, PING_MS)) != NATS_OK ||
	    (s = natsOptions_SetMaxReconnect(o, -1)) != NATS_OK ||
	    (s = natsOptions_SetCustomReconnectDelay(o, on_delay,
	    (void *)(uintptr_t)c)) != NATS_OK ||
	    (s = natsOptions_SetReconnectBufSize(o, RECONNECT_BUF)) !=
	    NATS_OK ||
	    (s = natsOptions_SetRetryOnFailedConnect(o, true, on_connected,
	    NULL)) != NATS_OK ||
	    (s = natsOptions_SetDisconnectedCB(o, on_connected, NULL)) !=
	    NATS_OK ||
	    (s = natsOptions_SetReconnectedCB(o, on_reconnected, NULL)) !=
	    NATS_OK ||
	    (s = natsOptions_SetClosedCB(o, on_connected, NULL)) != NATS_OK ||
	    (s = natsOptions_SetErrorHandler(o, on_error, NULL)) != NATS_OK) {
		nats_failed(s, "options", err, errlen);
		natsOptions_Destroy(o);
		return NULL;
	}
	if (set_auth(o, c, err, errlen) == -1 ||
	    set_tls(o, c, err, errlen) == -1) {
		natsOptions_Destroy(o);
		return NULL;
	}
	return o;
}

int
conn_open(const struct bus_conf *c, int wakefd, natsConnection **nc,
    char *err, size_t errlen)
{
	natsOptions	*o;
	natsStatus	 s = NATS_ERR;

	wake_fd = wakefd;
	srandom((unsigned int)((uint64_t)getpid() ^ clock_mono_us()));
	if ((o = options(c, err, errlen)) == NULL)
		return -1;
	/*
	 * One try here first: libnats says why it failed (a refused
	 * connection, a certificate that does not verify, an authorization
	 * violation) only to the thread that tried.
	 */
	if (natsOptions_SetRetryOnFailedConnect(o, false, NULL, NULL) ==
	    NATS_OK && (s = natsConnection_Connect(nc, o)) == NATS_OK) {
		natsOptions_Destroy(o);
		return 0;
	}
	log_warning("bus: NATS not reached (%s%s): %s: %s; trying again in "
	    "the background", c->servers[0], c->nservers > 1 ? " and others" :
	    "", natsStatus_GetText(s), nats_GetLastError(NULL) ?: "");
	natsOptions_SetRetryOnFailedConnect(o, true, on_connected, NULL);
	s = natsConnection_Connect(nc, o);
	natsOptions_Destroy(o);
	/* Not yet: it goes on trying in the background. */
	if (s == NATS_OK || s == NATS_NOT_YET_CONNECTED)
		return 0;
	*nc = NULL;
	return nats_failed(s, "connect", err, errlen);
}
