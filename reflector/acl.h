/*
 * acl.h: the reflector's allow-list of client prefixes (CIDR, IPv4 and
 * IPv6).  IPv4 addresses are kept as IPv4-mapped IPv6 addresses
 * (::ffff:a.b.c.d), so that one list serves IPv4 sockets and the IPv4
 * peers of dual-stack ones alike.
 */
#ifndef REFLECTOR_ACL_H
#define REFLECTOR_ACL_H

#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>

struct sockaddr;

#define ACL_MAX	256	/* prefixes */

struct acl_prefix {
	struct in6_addr	 addr;		/* host bits zero */
	unsigned	 len;		/* 0 to 128, IPv4 ones from 96 */
};

struct acl {
	struct acl_prefix v[ACL_MAX];
	size_t		 n;
	int		 any;		/* "any": everyone */
};

/* An empty list: it allows no one. */
void	acl_init(struct acl *);
/*
 * Allow "ADDR/LEN", "ADDR" (one host) or "any".  A prefix with host bits
 * set is refused, as is a list longer than ACL_MAX.  0, or -1 with a
 * reason in err.
 */
int	acl_add(struct acl *, const char *prefix, char *err, size_t errlen);
/* Whether the list allows a (IPv4-mapped for IPv4). */
int	acl_allows(const struct acl *, const struct in6_addr *a);
/*
 * The address of sa (AF_INET or AF_INET6) as an IPv6 address, IPv4
 * mapped; the port in *port if not NULL.  0, or -1 for another family.
 */
int	acl_addr(const struct sockaddr *sa, struct in6_addr *a,
	    uint16_t *port);
/* a as text (IPv4 for a mapped one) into buf of INET6_ADDRSTRLEN. */
const char *acl_ntop(const struct in6_addr *a, char *buf, size_t len);

#endif /* REFLECTOR_ACL_H */
