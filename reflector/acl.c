/*
 * acl.c: the allow-list of client prefixes.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reflector/acl.h"

void
acl_init(struct acl *acl)
{
	memset(acl, 0, sizeof(*acl));
}

/* Whether the bits of a past len are all zero. */
static int
host_bits_zero(const struct in6_addr *a, unsigned len)
{
	unsigned	i;

	for (i = len; i < 128; i++)
		if (a->s6_addr[i / 8] & (0x80 >> (i % 8)))
			return 0;
	return 1;
}

static int
parse_len(const char *s, unsigned max, unsigned *len)
{
	char		*end;
	unsigned long	 v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > max)
		return -1;
	*len = (unsigned)v;
	return 0;
}

int
acl_add(struct acl *acl, const char *prefix, char *err, size_t errlen)
{
	struct acl_prefix	 p;
	struct in_addr		 v4;
	char			 host[INET6_ADDRSTRLEN + 1], *slash;
	unsigned		 max;

	if (strcmp(prefix, "any") == 0) {
		acl->any = 1;
		return 0;
	}
	if (acl->n == ACL_MAX) {
		snprintf(err, errlen, "more than %d prefixes", ACL_MAX);
		return -1;
	}
	if (strlen(prefix) >= sizeof(host) + 4)
		goto bad;
	snprintf(host, sizeof(host), "%.*s", (int)strcspn(prefix, "/"),
	    prefix);
	slash = strchr(prefix, '/');
	memset(&p, 0, sizeof(p));
	if (inet_pton(AF_INET, host, &v4) == 1) {
		p.addr.s6_addr[10] = p.addr.s6_addr[11] = 0xff;
		memcpy(&p.addr.s6_addr[12], &v4, 4);
		max = 32;
	} else if (inet_pton(AF_INET6, host, &p.addr) == 1)
		max = 128;
	else
		goto bad;
	p.len = max;
	if (slash != NULL && parse_len(slash + 1, max, &p.len) == -1)
		goto bad;
	p.len += 128 - max;
	if (!host_bits_zero(&p.addr, p.len)) {
		snprintf(err, errlen, "\"%s\": host bits set past /%u", prefix,
		    p.len - (128 - max));
		return -1;
	}
	acl->v[acl->n++] = p;
	return 0;
bad:
	snprintf(err, errlen, "\"%s\": not an address or ADDR/LEN prefix",
	    prefix);
	return -1;
}

static int
matches(const struct acl_prefix *p, const struct in6_addr *a)
{
	unsigned	full = p->len / 8, rest = p->len % 8;

	if (memcmp(p->addr.s6_addr, a->s6_addr, full) != 0)
		return 0;
	return rest == 0 || ((p->addr.s6_addr[full] ^ a->s6_addr[full]) &
	    (0xff00 >> rest)) == 0;
}

int
acl_allows(const struct acl *acl, const struct in6_addr *a)
{
	size_t	i;

	if (acl->any)
		return 1;
	for (i = 0; i < acl->n; i++)
		if (matches(&acl->v[i], a))
			return 1;
	return 0;
}

int
acl_addr(const struct sockaddr *sa, struct in6_addr *a, uint16_t *port)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		memset(a, 0, sizeof(*a));
		a->s6_addr[10] = a->s6_addr[11] = 0xff;
		memcpy(&a->s6_addr[12], &sin->sin_addr, 4);
		if (port != NULL)
			*port = ntohs(sin->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		*a = sin6->sin6_addr;
		if (port != NULL)
			*port = ntohs(sin6->sin6_port);
		return 0;
	}
	return -1;
}

const char *
acl_ntop(const struct in6_addr *a, char *buf, size_t len)
{
	if (IN6_IS_ADDR_V4MAPPED(a))
		return inet_ntop(AF_INET, &a->s6_addr[12], buf, (socklen_t)len);
	return inet_ntop(AF_INET6, a, buf, (socklen_t)len);
}
