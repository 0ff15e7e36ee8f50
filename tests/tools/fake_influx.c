/*
 * fake_influx: a fault-injecting InfluxDB write endpoint for tests.
 *
 *   fake_influx -d DIR [-s SCRIPT] [-D ACTION]
 *
 * Listens on 127.0.0.1 (a free port, written to DIR/port), forks per
 * connection (keep-alive served), and answers request N (from 1, counted
 * across connections) by line N of SCRIPT, then by ACTION (default "ok"):
 *
 *   ok            204, the body's lines are stored
 *   status N [S]  answer N with an InfluxDB-style error body, and
 *                 Retry-After: S if given; nothing stored
 *   bad [N]       InfluxDB 2: any line containing "BAD" gets the whole
 *                 request refused (400, or N, naming the line); else ok
 *   bad1          InfluxDB 1.x: the other lines are stored, then 400
 *                 "partial write" if any line contains "BAD"
 *   max N         413 if the body has more than N lines; else ok
 *   reset         read half the body, then reset the connection
 *   delay S       wait S seconds, then ok
 *
 * Each request is recorded as DIR/req-NNNN.head (the request line, the
 * headers, then "x-fake-time: SECONDS" on the monotonic clock) and
 * DIR/req-NNNN.body (gunzipped when Content-Encoding: gzip); stored lines
 * are appended to DIR/stored.lp.
 */
#define _GNU_SOURCE

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#define HEAD_MAX	65536
#define BODY_MAX	(256 << 20)

static const char	*dir;
static char		**script;
static size_t		 nscript;
static const char	*dflt = "ok";
static unsigned long	*counter;	/* shared between connections */

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
write_file(const char *name, const char *data, size_t len, int append)
{
	char	path[4096];
	int	fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC),
	    0644);
	if (fd == -1)
		return;
	if (write(fd, data, len) != (ssize_t)len)
		perror("fake_influx: write");
	close(fd);
}

static int
send_all(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, p, len)) <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
answer(int fd, int status, const char *retry_after, const char *msg)
{
	char	head[1024], body[2048];
	int	hn, bn;

	bn = msg == NULL ? 0 : snprintf(body, sizeof(body),
	    "{\"code\":\"invalid\",\"message\":\"%s\"}", msg);
	if (bn >= (int)sizeof(body))
		bn = sizeof(body) - 1;
	hn = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\n"
	    "Content-Length: %d\r\n%s%s%s%s\r\n", status, bn,
	    bn > 0 ? "Content-Type: application/json\r\n" : "",
	    retry_after ? "Retry-After: " : "", retry_after ? retry_after : "",
	    retry_after ? "\r\n" : "");
	if (send_all(fd, head, (size_t)hn) == -1)
		return -1;
	return send_all(fd, body, (size_t)bn);
}

static char *
gunzip(const char *in, size_t len, size_t *outlen)
{
	z_stream	 z;
	size_t		 cap = len * 4 + 1024;
	char		*out = malloc(cap);
	int		 r;

	memset(&z, 0, sizeof(z));
	if (out == NULL || inflateInit2(&z, 31) != Z_OK)
		exit(1);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	for (;;) {
		z.next_out = (Bytef *)out + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
		r = inflate(&z, Z_NO_FLUSH);
		if (r == Z_STREAM_END)
			break;
		if (r != Z_OK && r != Z_BUF_ERROR) {
			inflateEnd(&z);
			free(out);
			return NULL;
		}
		if (z.avail_out == 0) {
			cap *= 2;
			if ((out = realloc(out, cap)) == NULL)
				exit(1);
		} else if (r == Z_BUF_ERROR) {
			inflateEnd(&z);
			free(out);
			return NULL;
		}
	}
	*outlen = z.total_out;
	inflateEnd(&z);
	return out;
}

static unsigned long
count_lines(const char *p, size_t len)
{
	unsigned long	n = 0;
	size_t		i;

	for (i = 0; i < len; i++)
		n += p[i] == '\n';
	return n;
}

/* Store the lines without BAD; the first bad line in *bad (or NULL). */
static void
store_good(const char *p, size_t len, int store, char *bad, size_t badlen)
{
	const char	*e, *end = p + len;

	bad[0] = '\0';
	for (; p < end; p = e + 1) {
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		if (memmem(p, (size_t)(e - p), "BAD", 3) != NULL) {
			if (bad[0] == '\0')
				snprintf(bad, badlen, "%.*s",
				    (int)(e - p), p);
			continue;
		}
		if (store && e < end)
			write_file("stored.lp", p, (size_t)(e - p) + 1, 1);
	}
}

/* One request on fd; 0 to keep the connection, -1 to close it. */
static int
serve_one(int fd, char *head, size_t *hlen)
{
	char		*end, *p, *body, *plain, name[64], act[256];
	char		 bad[1024], msg[1400], ts[64], word[32], arg[64];
	size_t		 blen = 0, clen = 0, plen;
	ssize_t		 n;
	unsigned long	 id, lines;
	int		 gz = 0, args;
	struct linger	 lg = { 1, 0 };

	while ((end = memmem(head, *hlen, "\r\n\r\n", 4)) == NULL) {
		if (*hlen == HEAD_MAX)
			return -1;
		if ((n = read(fd, head + *hlen, HEAD_MAX - *hlen)) <= 0)
			return -1;
		*hlen += (size_t)n;
	}
	*end = '\0';
	for (p = head; (p = strchr(p, '\n')) != NULL; p++) {
		if (strncasecmp(p + 1, "content-length:", 15) == 0)
			clen = strtoul(p + 16, NULL, 10);
		if (strncasecmp(p + 1, "content-encoding:", 17) == 0 &&
		    strstr(p + 18, "gzip") != NULL)
			gz = 1;
	}
	id = __atomic_add_fetch(counter, 1, __ATOMIC_SEQ_CST);
	if (id <= nscript)
		snprintf(act, sizeof(act), "%s", script[id - 1]);
	else
		snprintf(act, sizeof(act), "%s", dflt);
	word[0] = arg[0] = '\0';
	args = sscanf(act, "%31s %63s", word, arg);
	snprintf(name, sizeof(name), "req-%04lu.head", id);
	snprintf(ts, sizeof(ts), "\r\nx-fake-time: %.6f\r\n", now_s());
	{
		size_t	hl = strlen(head);
		char	*h = malloc(hl + sizeof(ts));

		if (h == NULL)
			exit(1);
		memcpy(h, head, hl);
		memcpy(h + hl, ts, strlen(ts));
		write_file(name, h, hl + strlen(ts), 0);
		free(h);
	}
	if (clen > BODY_MAX || (body = malloc(clen + 1)) == NULL)
		return -1;
	/* What came after the headers is the start of the body. */
	blen = *hlen - (size_t)(end + 4 - head);
	if (blen > clen)
		blen = clen;
	memcpy(body, end + 4, blen);
	*hlen -= (size_t)(end + 4 - head) + blen;
	memmove(head, end + 4 + blen, *hlen);
	if (strcmp(word, "reset") == 0) {
		/* Half the body, then a reset. */
		while (blen < clen / 2 && (n = read(fd, body + blen,
		    clen / 2 - blen)) > 0)
			blen += (size_t)n;
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		free(body);
		return -1;
	}
	while (blen < clen) {
		if ((n = read(fd, body + blen, clen - blen)) <= 0) {
			free(body);
			return -1;
		}
		blen += (size_t)n;
	}
	if (gz) {
		if ((plain = gunzip(body, blen, &plen)) == NULL) {
			free(body);
			return answer(fd, 400, NULL, "bad gzip");
		}
		free(body);
	} else {
		plain = body;
		plen = blen;
	}
	snprintf(name, sizeof(name), "req-%04lu.body", id);
	write_file(name, plain, plen, 0);
	lines = count_lines(plain, plen);
	if (strcmp(word, "delay") == 0 && args == 2)
		sleep((unsigned int)atoi(arg));
	if (strcmp(word, "status") == 0) {
		int st = atoi(arg);
		char ra[32];

		ra[0] = '\0';
		sscanf(act, "%*s %*s %31s", ra);
		free(plain);
		return answer(fd, st, ra[0] ? ra : NULL, st == 401 ?
		    "unauthorized access" : st == 404 ?
		    "database not found: \\\"qos\\\"" : "fake failure");
	}
	if (strcmp(word, "max") == 0 && lines > strtoul(arg, NULL, 10)) {
		free(plain);
		return answer(fd, 413, NULL, "Request Entity Too Large");
	}
	if (strcmp(word, "bad") == 0) {
		store_good(plain, plen, 0, bad, sizeof(bad));
		if (bad[0] != '\0') {
			snprintf(msg, sizeof(msg), "unable to parse '%.200s': "
			    "invalid field format", bad);
			free(plain);
			return answer(fd, args == 2 ? atoi(arg) : 400, NULL,
			    msg);
		}
	}
	if (strcmp(word, "bad1") == 0) {
		store_good(plain, plen, 1, bad, sizeof(bad));
		free(plain);
		if (bad[0] != '\0') {
			snprintf(msg, sizeof(msg), "partial write: unable to "
			    "parse '%.200s': invalid field format dropped=1",
			    bad);
			return answer(fd, 400, NULL, msg);
		}
		return answer(fd, 204, NULL, NULL);
	}
	write_file("stored.lp", plain, plen, 1);
	free(plain);
	return answer(fd, 204, NULL, NULL);
}

static void
serve(int fd)
{
	char	*head = malloc(HEAD_MAX);
	size_t	 hlen = 0;

	if (head == NULL)
		exit(1);
	while (serve_one(fd, head, &hlen) == 0)
		;
	close(fd);
	free(head);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in	 sa;
	socklen_t		 sl = sizeof(sa);
	char			 line[512], port[16];
	const char		*sfile = NULL;
	FILE			*f;
	int			 s, c, ch, one = 1;

	while ((ch = getopt(argc, argv, "d:s:D:")) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 's':
			sfile = optarg;
			break;
		case 'D':
			dflt = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (dir == NULL)
		goto usage;
	if (sfile != NULL) {
		if ((f = fopen(sfile, "r")) == NULL) {
			perror(sfile);
			return 1;
		}
		while (fgets(line, sizeof(line), f) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			if (line[0] == '\0' || line[0] == '#')
				continue;
			script = realloc(script, (nscript + 1) *
			    sizeof(*script));
			if (script == NULL ||
			    (script[nscript++] = strdup(line)) == NULL)
				return 1;
		}
		fclose(f);
	}
	counter = mmap(NULL, sizeof(*counter), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counter == MAP_FAILED)
		return 1;
	*counter = 0;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(s, 64) == -1 ||
	    getsockname(s, (struct sockaddr *)&sa, &sl) == -1) {
		perror("fake_influx: listen");
		return 1;
	}
	snprintf(port, sizeof(port), "%u\n", ntohs(sa.sin_port));
	write_file("port.tmp", port, strlen(port), 0);
	snprintf(line, sizeof(line), "%s/port.tmp", dir);
	{
		char	to[4096];

		snprintf(to, sizeof(to), "%s/port", dir);
		rename(line, to);
	}
	for (;;) {
		if ((c = accept(s, NULL, NULL)) == -1)
			continue;
		switch (fork()) {
		case 0:
			prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
			close(s);
			serve(c);
			_exit(0);
		case -1:
			close(c);
			break;
		default:
			close(c);
		}
	}
usage:
	fprintf(stderr, "usage: fake_influx -d DIR [-s SCRIPT] "
	    "[-D ACTION]\n");
	return 64;
}
