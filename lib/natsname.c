/*
 * natsname.c: names on the NATS bus (see natsname.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/natsname.h"

static int
plain(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int __attribute__((format(printf, 3, 4)))
why_not(char *why, size_t whylen, const char *fmt, ...)
{
	va_list	ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* 1 to max plain characters. */
static int
token_ok(const char *s, size_t max)
{
	size_t	n;

	for (n = 0; s[n] != '\0'; n++)
		if (!plain(s[n]))
			return 0;
	return n > 0 && n <= max;
}

int
natsname_agent_ok(const char *s, char *why, size_t whylen)
{
	if (token_ok(s, NATSNAME_AGENT_MAX))
		return 0;
	return why_not(why, whylen, "the agent id \"%.80s\" cannot be a NATS "
	    "subject token: use 1 to 64 of A-Z a-z 0-9 _ - (no dot, space or "
	    "wildcard)", s);
}

int
natsname_prefix_ok(const char *s, char *why, size_t whylen)
{
	const char	*p = s, *dot;
	char		 tok[NATSNAME_PREFIX_MAX + 1];
	size_t		 n;

	if (strlen(s) > NATSNAME_PREFIX_MAX || *s == '\0')
		goto bad;
	for (;;) {
		dot = strchr(p, '.');
		n = dot != NULL ? (size_t)(dot - p) : strlen(p);
		memcpy(tok, p, n);
		tok[n] = '\0';
		if (!token_ok(tok, NATSNAME_PREFIX_MAX))
			goto bad;
		if (dot == NULL)
			return 0;
		p = dot + 1;
	}
bad:
	return why_not(why, whylen, "\"%.80s\" is not a subject prefix: "
	    "tokens of A-Z a-z 0-9 _ - separated by single dots, no "
	    "wildcard, at most 128 bytes", s);
}

int
natsname_bucket_ok(const char *s, char *why, size_t whylen)
{
	if (token_ok(s, NATSNAME_BUCKET_MAX))
		return 0;
	return why_not(why, whylen, "\"%.80s\" is not a bucket name: 1 to 64 "
	    "of A-Z a-z 0-9 _ -", s);
}

/* Append len bytes of s to out (at n), encoded: 0, or -1. */
static int
encode(char *out, size_t outlen, size_t n, const char *s, size_t len)
{
	static const char	hex[] = "0123456789ABCDEF";
	size_t			i;

	for (i = 0; i < len; i++) {
		if (n + 4 > outlen)
			return -1;
		if (plain(s[i]))
			out[n++] = s[i];
		else {
			out[n++] = '=';
			out[n++] = hex[(unsigned char)s[i] >> 4];
			out[n++] = hex[(unsigned char)s[i] & 15];
		}
	}
	if (n >= outlen)
		return -1;
	out[n] = '\0';
	return 0;
}

int
natsname_result_key(const char *id, char *key, size_t keylen)
{
	size_t	n;

	if ((n = (size_t)snprintf(key, keylen, "result.")) >= keylen)
		return -1;
	return encode(key, keylen, n, id, strlen(id));
}

int
natsname_points_subject(char *subj, size_t len, const char *prefix,
    const char *agent, const char *meas, size_t mlen)
{
	int	n;

	n = snprintf(subj, len, "%s.points.%s.", prefix, agent);
	if (n < 0 || (size_t)n >= len || mlen == 0)
		return -1;
	return encode(subj, len, (size_t)n, meas, mlen);
}

int
natsname_agent_key(const char *agent, char *key, size_t keylen)
{
	return (size_t)snprintf(key, keylen, "agent.%s", agent) >= keylen ?
	    -1 : 0;
}

int
natsname_subject(char *subj, size_t len, const char *prefix,
    const char *what, const char *agent, const char *verb)
{
	int	n;

	if (verb != NULL)
		n = snprintf(subj, len, "%s.agent.%s.%s", prefix, agent, verb);
	else
		n = snprintf(subj, len, "%s.%s.%s", prefix, what, agent);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}
