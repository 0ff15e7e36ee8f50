/*
 * ctlacl.c: the allow-list of probe targets (see ctlacl.h).
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "scheduler/ctlacl.h"

#define HOST_MAX	256

enum entry_kind { E_ADDR, E_NAME, E_DOMAIN };

struct entry {
	enum entry_kind	 kind;
	int		 af;
	unsigned char	 addr[16];
	unsigned int	 bits;
	char		*name;		/* E_NAME; E_DOMAIN: ".example.net" */
};

struct ctlacl {
	struct entry	*v;
	size_t		 n;
};

/* An address in a (16 bytes); IPv4-mapped IPv6 counts as IPv4. */
static int
parse_addr(const char *s, unsigned char *a, int *af)
{
	if (inet_pton(AF_INET, s, a) == 1) {
		*af = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a) != 1)
		return -1;
	*af = AF_INET6;
	if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		memmove(a, a + 12, 4);
		*af = AF_INET;
	}
	return 0;
}

static int
valid_name(const char *s)
{
	const char	*p;

	if (*s == '\0' || strlen(s) >= HOST_MAX)
		return 0;
	for (p = s; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' &&
		    *p != '_')
			return 0;
	return 1;
}

static int
parse_entry(const char *pat, struct entry *e, char *err, size_t errlen)
{
	char		 buf[HOST_MAX], *slash, *end;
	unsigned long	 bits;

	memset(e, 0, sizeof(*e));
	if (snprintf(buf, sizeof(buf), "%s", pat) >= (int)sizeof(buf))
		goto bad;
	if (strncmp(buf, "*.", 2) == 0) {
		if (!valid_name(buf + 2) || strchr(buf + 2, '*') != NULL)
			goto bad;
		e->kind = E_DOMAIN;
		e->name = strdup(buf + 1);
		return 0;
	}
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (parse_addr(buf, e->addr, &e->af) == 0) {
		e->kind = E_ADDR;
		e->bits = e->af == AF_INET ? 32 : 128;
		if (slash != NULL) {
			bits = strtoul(slash, &end, 10);
			if (*slash == '\0' || *end != '\0' ||
			    bits > (strchr(buf, ':') != NULL ? 128 : 32))
				goto bad;
			/* ::ffff:a.b.c.d/LEN names the IPv4 prefix. */
			if (e->af == AF_INET && strchr(buf, ':') != NULL) {
				if (bits < 96)
					goto bad;
				bits -= 96;
			}
			e->bits = (unsigned int)bits;
		}
		return 0;
	}
	if (slash != NULL || !valid_name(buf) || strchr(buf, '*') != NULL)
		goto bad;
	e->kind = E_NAME;
	e->name = strdup(buf);
	return 0;
bad:
	snprintf(err, errlen, "\"%s\" is not an address, a prefix "
	    "(ADDR/LEN), a host name or a domain (*.NAME)", pat);
	return -1;
}

int
ctlacl_check(const char *pattern, char *err, size_t errlen)
{
	struct entry	e;

	if (parse_entry(pattern, &e, err, errlen) == -1)
		return -1;
	free(e.name);
	return 0;
}

struct ctlacl *
ctlacl_new(char *const *patterns, size_t n)
{
	struct ctlacl	*a;
	char		 err[256];
	size_t		 i;

	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->v = calloc(n ? n : 1, sizeof(*a->v))) == NULL)
		fatal("ctlacl: %m");
	for (i = 0; i < n; i++) {
		if (parse_entry(patterns[i], &a->v[a->n], err,
		    sizeof(err)) == -1)
			continue;
		if (a->v[a->n].kind != E_ADDR && a->v[a->n].name == NULL)
			fatal("ctlacl: %m");
		a->n++;
	}
	return a;
}

void
ctlacl_free(struct ctlacl *a)
{
	size_t	i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++)
		free(a->v[i].name);
	free(a->v);
	free(a);
}

int
ctlacl_host(const char *value, char *host, size_t len)
{
	const char	*p = value, *end, *at, *q;
	size_t		 n, i;

	if ((q = strstr(value, "://")) != NULL) {
		p = q + 3;
		end = p + strcspn(p, "/?#");
		/* user:password@ goes. */
		for (at = p; at < end; at++)
			if (*at == '@')
				p = at + 1;
		if (*p == '[') {
			if ((q = memchr(p, ']', (size_t)(end - p))) == NULL)
				return -1;
			p++;
			end = q;
		} else if ((q = memchr(p, ':', (size_t)(end - p))) != NULL)
			end = q;
	} else {
		end = p + strlen(p);
		if (*p == '[' && end > p + 1 && end[-1] == ']') {
			p++;
			end--;
		}
	}
	n = (size_t)(end - p);
	if (n > 0 && p[n - 1] == '.')
		n--;
	if (n == 0 || n >= len)
		return -1;
	for (i = 0; i < n; i++)
		host[i] = (char)tolower((unsigned char)p[i]);
	host[n] = '\0';
	return 0;
}

static int
prefix_match(const unsigned char *a, const unsigned char *b,
    unsigned int bits)
{
	unsigned int	full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[full] ^ b[full]) & (0xff << (8 - rest))) == 0;
}

int
ctlacl_allows(const struct ctlacl *a, const char *value)
{
	char		 host[HOST_MAX];
	unsigned char	 addr[16];
	size_t		 i, hl, dl;
	int		 af, is_addr;

	if (a == NULL || ctlacl_host(value, host, sizeof(host)) == -1)
		return 0;
	is_addr = parse_addr(host, addr, &af) == 0;
	hl = strlen(host);
	for (i = 0; i < a->n; i++) {
		const struct entry *e = &a->v[i];

		if (is_addr) {
			if (e->kind == E_ADDR && e->af == af &&
			    prefix_match(addr, e->addr, e->bits))
				return 1;
			continue;
		}
		if (e->kind == E_NAME && strcasecmp(e->name, host) == 0)
			return 1;
		if (e->kind == E_DOMAIN && hl > (dl = strlen(e->name)) &&
		    strcasecmp(host + hl - dl, e->name) == 0)
			return 1;
	}
	return 0;
}
