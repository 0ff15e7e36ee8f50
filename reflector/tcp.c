/*
 * tcp.c: TCP echo, one fixed buffer per connection.
 */
#define _GNU_SOURCE

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "reflector/refl.h"
#include "reflector/tcp.h"

struct tcp_conn {
	struct refl_io		 io;	/* first: the loop hands it back */
	struct refl		*refl;
	struct refl_service	*svc;
	struct tcp_conn		*prev, *next;
	uint64_t		 last_us;
	size_t			 off, len;	/* buf[off, off+len) */
	int			 eof;		/* the client has said all */
	uint8_t			 buf[TCP_BUF];
};

int
tcp_listen_open(const char *addr, uint16_t port)
{
	struct sockaddr_in6	 sin6;
	struct sockaddr_in	 sin;
	struct sockaddr		*sa = (struct sockaddr *)&sin6;
	socklen_t		 salen = sizeof(sin6);
	int			 fd, family = AF_INET6, one = 1, zero = 0;

	memset(&sin6, 0, sizeof(sin6));
	memset(&sin, 0, sizeof(sin));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(port);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (addr != NULL && inet_pton(AF_INET, addr, &sin.sin_addr) == 1)
		family = AF_INET;
	else if (addr != NULL && inet_pton(AF_INET6, addr, &sin6.sin6_addr)
	    != 1) {
		log_err("listen address \"%s\": not a numeric address", addr);
		return -1;
	}
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 && addr == NULL && errno == EAFNOSUPPORT) {
		family = AF_INET;	/* no IPv6 here: the IPv4 wildcard */
		fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	}
	if (family == AF_INET) {
		sa = (struct sockaddr *)&sin;
		salen = sizeof(sin);
	}
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    (family == AF_INET6 && addr == NULL && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &zero, sizeof(zero)) == -1) ||
	    bind(fd, sa, salen) == -1 || listen(fd, 128) == -1) {
		log_err("tcp echo %s port %u: %m", addr != NULL ? addr : "*",
		    port);
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

static void
conn_close(struct tcp_conn *c)
{
	struct refl_service	*s = c->svc;

	refl_unwatch(c->refl, &c->io);
	close(c->io.fd);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	s->tcp.open--;
	free(c);
}

/* Echo what is buffered; 0, or -1 if the connection is gone. */
static int
conn_flush(struct tcp_conn *c)
{
	ssize_t	n;

	while (c->len > 0) {
		n = send(c->io.fd, c->buf + c->off, c->len, MSG_NOSIGNAL);
		if (n == -1)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->svc->tcp.bytes += (uint64_t)n;
		c->off += (size_t)n;
		c->len -= (size_t)n;
	}
	c->off = 0;
	return 0;
}

/* Read what fits; 0, or -1 if the connection is gone. */
static int
conn_read(struct tcp_conn *c)
{
	ssize_t	n;

	if (c->off > 0 && c->off + c->len == TCP_BUF) {
		memmove(c->buf, c->buf + c->off, c->len);
		c->off = 0;
	}
	while (!c->eof && c->off + c->len < TCP_BUF) {
		n = recv(c->io.fd, c->buf + c->off + c->len,
		    TCP_BUF - c->off - c->len, 0);
		if (n == 0)
			c->eof = 1;
		else if (n == -1)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		else
			c->len += (size_t)n;
	}
	return 0;
}

static void
conn_ready(struct refl_io *io, uint32_t events)
{
	struct tcp_conn	*c = (struct tcp_conn *)io;
	uint32_t	 want = 0;

	c->last_us = clock_mono_us();
	if (((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
	    conn_read(c) == -1) || conn_flush(c) == -1) {
		conn_close(c);
		return;
	}
	if (c->eof && c->len == 0) {
		conn_close(c);	/* all echoed: done */
		return;
	}
	if (!c->eof && c->off + c->len < TCP_BUF)
		want |= EPOLLIN;
	if (c->len > 0)
		want |= EPOLLOUT;
	if (refl_rewatch(c->refl, &c->io, want) == -1)
		conn_close(c);
}

/* Keep the connection fd: 0, or -1 (refused, counted; fd is closed). */
static int
admit(struct refl *r, struct refl_service *s, int fd,
    const struct sockaddr *sa)
{
	struct in6_addr	 a = IN6ADDR_ANY_INIT;
	char		 ip[INET6_ADDRSTRLEN];

	if (acl_addr(sa, &a, NULL) == -1 || !acl_allows(&r->acl, &a)) {
		s->tcp.refused_acl++;
		log_debug("tcp echo: %s refused: not allowed",
		    acl_ntop(&a, ip, sizeof(ip)) ? ip : "?");
		close(fd);
		return -1;
	}
	if (s->tcp.open >= r->tcp_max) {
		s->tcp.refused_busy++;
		close(fd);
		return -1;
	}
	return 0;
}

void
tcp_accept(struct refl *r, struct refl_service *s, int lfd)
{
	struct sockaddr_in6	 sa;
	struct tcp_conn		*c;
	socklen_t		 salen;
	int			 fd;

	for (;;) {
		salen = sizeof(sa);
		fd = accept4(lfd, (struct sockaddr *)&sa, &salen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warning("tcp echo port %u: accept: %m",
				    s->port);
			return;
		}
		if (admit(r, s, fd, (struct sockaddr *)&sa) == -1)
			continue;
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			log_err("tcp echo: out of memory: connection closed");
			close(fd);
			continue;
		}
		c->io.fd = fd;
		c->io.ready = conn_ready;
		c->refl = r;
		c->svc = s;
		c->last_us = clock_mono_us();
		if ((c->next = s->conns) != NULL)
			c->next->prev = c;
		s->conns = c;
		s->tcp.open++;
		s->tcp.accepted++;
		if (refl_watch(r, &c->io, EPOLLIN) == -1)
			conn_close(c);
	}
}

void
tcp_sweep(struct refl *r, struct refl_service *s, uint64_t now_us)
{
	struct tcp_conn	*c, *next;

	for (c = s->conns; c != NULL; c = next) {
		next = c->next;
		if (now_us - c->last_us > r->tcp_idle_us) {
			s->tcp.closed_idle++;
			conn_close(c);
		}
	}
}

void
tcp_close_all(struct refl_service *s)
{
	while (s->conns != NULL)
		conn_close(s->conns);
}
