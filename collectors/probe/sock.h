/*
 * sock.h: a probe socket set up as the common settings say
 * (collectors/probe/conf.h): the same options in every probe collector.
 */
#ifndef COLLECTORS_PROBE_SOCK_H
#define COLLECTORS_PROBE_SOCK_H

struct probe_conf;

/*
 * Set up fd, a socket of family af (AF_INET or AF_INET6), as pc says: the
 * TTL or hop limit (when the collector takes ttl), the traffic class from
 * dscp (when not 0), the device, and bound to the source address.  Call it
 * before connect() or the first send.  Returns 0, or -1 with errno (fd is
 * left open for the caller to close).
 */
int	probe_sock_setup(int fd, int af, const struct probe_conf *pc);

#endif /* COLLECTORS_PROBE_SOCK_H */
