/*
 * tcp.h: the reflector's TCP echo service (RFC 862): every byte a client
 * sends comes back on its connection, in order.
 *
 * A connection from outside the allow-list is closed at once
 * (refused_acl), as is one beyond the limit of connections at once
 * (refused_busy).  Each connection has a fixed buffer: while it is full
 * (the client does not read), the reflector stops reading from it, so a
 * client can only slow itself down.  A connection quiet for the idle
 * time is closed (closed_idle).  TCP cannot carry a forged source
 * address past the handshake, so no rate limit applies here.
 */
#ifndef REFLECTOR_TCP_H
#define REFLECTOR_TCP_H

#include <stdint.h>

struct refl;
struct refl_service;

#define TCP_BUF	65536	/* per connection */

/*
 * A non-blocking listening socket on addr (numeric; NULL for every
 * address, IPv6 and IPv4) and port.  The socket, or -1 after logging why.
 */
int	tcp_listen_open(const char *addr, uint16_t port);
/* Accept the connections pending on the listening socket lfd of s. */
void	tcp_accept(struct refl *, struct refl_service *s, int lfd);
/* Close the connections of s idle since before now_us - the idle time. */
void	tcp_sweep(struct refl *, struct refl_service *s, uint64_t now_us);
/* Close every connection of s. */
void	tcp_close_all(struct refl_service *s);

#endif /* REFLECTOR_TCP_H */
