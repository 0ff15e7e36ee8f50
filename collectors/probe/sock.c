/*
 * sock.c: probe sockets set up as the common settings say.  Linux:
 * SO_BINDTODEVICE.
 */
#define _GNU_SOURCE
#include <sys/socket.h>

#include <netinet/in.h>
#include <string.h>

#include "collectors/probe/conf.h"
#include "collectors/probe/sock.h"

int
probe_sock_setup(int fd, int af, const struct probe_conf *pc)
{
	int	v6 = af == AF_INET6, v;

	v = (int)pc->ttl;
	if ((pc->spec->opts & PROBE_TTL) && (v6 ?
	    setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, sizeof(v)) :
	    setsockopt(fd, IPPROTO_IP, IP_TTL, &v, sizeof(v))) == -1)
		return -1;
	v = pc->dscp << 2;
	if (v != 0 && (v6 ?
	    setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof(v)) :
	    setsockopt(fd, IPPROTO_IP, IP_TOS, &v, sizeof(v))) == -1)
		return -1;
	if (pc->device != NULL && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE,
	    pc->device, (socklen_t)strlen(pc->device) + 1) == -1)
		return -1;
	if (pc->source.ss_family != AF_UNSPEC && bind(fd,
	    (const struct sockaddr *)&pc->source, v6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) == -1)
		return -1;
	return 0;
}
