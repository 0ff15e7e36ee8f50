/*
 * msg.c: framed messages with passed descriptors (see msg.h).
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/msg.h"

#define READ_CHUNK	65536
#define FDS_PER_READ	16

_Static_assert(sizeof(struct msg_hdr) == MSG_HDR_LEN, "msg_hdr");

void
msgchan_init(struct msgchan *c, int sock, const struct msg_type *types,
    size_t ntypes, size_t max_out)
{
	memset(c, 0, sizeof(*c));
	c->sock = sock;
	c->types = types;
	c->ntypes = ntypes;
	buf_init(&c->in, MSG_HDR_LEN + MSG_MAX_LEN + READ_CHUNK);
	buf_init(&c->out, max_out);
	if (sock != -1)
		fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
}

static void
close_fds(const int *fds, unsigned int n)
{
	unsigned int	i;

	for (i = 0; i < n; i++)
		close(fds[i]);
}

void
msgchan_cleanup(struct msgchan *c)
{
	size_t	i;

	for (i = 0; i < c->ninfd; i++)
		close(c->infd[i]);
	c->ninfd = 0;
	for (i = 0; i < c->noutfd; i++)
		close_fds(c->outfd[i].fds, c->outfd[i].nfds);
	free(c->outfd);
	c->outfd = NULL;
	c->noutfd = c->outfd_alloc = 0;
	buf_cleanup(&c->in);
	buf_cleanup(&c->out);
	c->inpos = c->outpos = 0;
	if (c->sock != -1)
		close(c->sock);
	c->sock = -1;
}

static int __attribute__((format(printf, 2, 3)))
proto_error(struct msgchan *c, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	errno = EPROTO;
	return -1;
}

const char *
msg_error(const struct msgchan *c)
{
	return c->err;
}

/* Sending. */

/* Drop the sent part of the output; descriptor offsets follow. */
static void
out_compact(struct msgchan *c)
{
	size_t	i;

	if (c->outpos == 0)
		return;
	buf_consume(&c->out, c->outpos);
	for (i = 0; i < c->noutfd; i++)
		c->outfd[i].off -= c->outpos;
	c->outpos = 0;
}

static int
fdq_push(struct msgchan *c, size_t off, const int *fds, unsigned int nfds)
{
	struct msg_fdq	*q, e;
	size_t		 n;

	memset(&e, 0, sizeof(e));
	e.off = off;
	for (e.nfds = 0; e.nfds < nfds; e.nfds++)
		if ((e.fds[e.nfds] = fcntl(fds[e.nfds], F_DUPFD_CLOEXEC,
		    3)) == -1) {
			close_fds(e.fds, e.nfds);
			return -1;
		}
	if (c->noutfd == c->outfd_alloc) {
		n = c->outfd_alloc ? c->outfd_alloc * 2 : 8;
		if (n > SIZE_MAX / sizeof(*q) ||
		    (q = realloc(c->outfd, n * sizeof(*q))) == NULL) {
			close_fds(e.fds, e.nfds);
			return -1;
		}
		c->outfd = q;
		c->outfd_alloc = n;
	}
	c->outfd[c->noutfd++] = e;
	return 0;
}

int
msg_send(struct msgchan *c, uint16_t type, const void *p, size_t len, int fd)
{
	return msg_send_fds(c, type, p, len, &fd, fd != -1 ? 1 : 0);
}

int
msg_send_fds(struct msgchan *c, uint16_t type, const void *p, size_t len,
    const int *fds, unsigned int nfds)
{
	struct msg_hdr	h;
	size_t		at;

	if (nfds > MSG_FDS_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (len > MSG_MAX_LEN) {
		errno = EMSGSIZE;
		return -1;
	}
	if (c->outpos > 0 && (c->outpos == c->out.len ||
	    c->out.len - c->outpos + MSG_HDR_LEN + len >
	    c->out.cap - c->outpos))
		out_compact(c);
	h.type = type;
	h.version = MSG_VERSION;
	h.flags = (uint8_t)nfds;
	h.len = (uint32_t)len;
	at = c->out.len;
	if (c->out.cap - at < MSG_HDR_LEN + len) {
		errno = E2BIG;
		return -1;
	}
	if (buf_add(&c->out, &h, sizeof(h)) == -1 ||
	    buf_add(&c->out, p, len) == -1 ||
	    (nfds > 0 && fdq_push(c, at, fds, nfds) == -1)) {
		buf_truncate(&c->out, at);
		return -1;
	}
	return msg_flush(c) == -1 ? -1 : 0;
}

/* One sendmsg() from outpos: up to the next descriptor's frame. */
static ssize_t
send_some(struct msgchan *c)
{
	union {
		struct cmsghdr	 h;
		char		 b[CMSG_SPACE(MSG_FDS_MAX * sizeof(int))];
	}		 cbuf;
	struct iovec	 iov;
	struct msghdr	 mh;
	struct cmsghdr	*cm;
	size_t		 end = c->out.len;
	int		 withfd = 0;
	ssize_t		 n;

	memset(&mh, 0, sizeof(mh));
	if (c->noutfd > 0 && c->outfd[0].off == c->outpos) {
		withfd = 1;
		if (c->noutfd > 1)
			end = c->outfd[1].off;
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.b;
		mh.msg_controllen = CMSG_SPACE(c->outfd[0].nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(c->outfd[0].nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), c->outfd[0].fds,
		    c->outfd[0].nfds * sizeof(int));
	} else if (c->noutfd > 0)
		end = c->outfd[0].off;
	iov.iov_base = c->out.data + c->outpos;
	iov.iov_len = end - c->outpos;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	n = sendmsg(c->sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n > 0 && withfd) {
		/* The descriptors went with the frame's first bytes. */
		close_fds(c->outfd[0].fds, c->outfd[0].nfds);
		memmove(c->outfd, c->outfd + 1,
		    (c->noutfd - 1) * sizeof(*c->outfd));
		c->noutfd--;
	}
	return n;
}

int
msg_flush(struct msgchan *c)
{
	ssize_t	n;

	while (c->outpos < c->out.len) {
		if ((n = send_some(c)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -1;
		}
		c->outpos += (size_t)n;
	}
	buf_reset(&c->out);
	c->outpos = 0;
	return 1;
}

size_t
msg_queued(const struct msgchan *c)
{
	return c->out.len - c->outpos;
}

int
msg_drain(struct msgchan *c, int timeout_ms)
{
	uint64_t	 end = clock_mono_us() + (uint64_t)timeout_ms * 1000;
	uint64_t	 now;
	struct pollfd	 pfd;
	int		 r;

	while ((r = msg_flush(c)) == 0) {
		if ((now = clock_mono_us()) >= end)
			return 0;
		pfd.fd = c->sock;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, (int)((end - now) / 1000) + 1) == -1 &&
		    errno != EINTR)
			return -1;
	}
	return r;
}

/* Receiving. */

static int
take_fds(struct msgchan *c, struct msghdr *mh)
{
	struct cmsghdr	*cm;
	size_t		 n, i;
	int		 fd, over = 0;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
			    sizeof(int));
			if (c->ninfd == MSG_MAX_FDS) {
				close(fd);
				over = 1;
			} else
				c->infd[c->ninfd++] = fd;
		}
	}
	if (over)
		return proto_error(c, "more than %d descriptors unclaimed",
		    MSG_MAX_FDS);
	if (mh->msg_flags & MSG_CTRUNC)
		return proto_error(c, "descriptors lost (control data cut)");
	return 0;
}

ssize_t
msg_read(struct msgchan *c)
{
	union {
		struct cmsghdr	 h;
		char		 b[CMSG_SPACE(FDS_PER_READ * sizeof(int))];
	}		 cbuf;
	char		 chunk[READ_CHUNK];
	struct iovec	 iov = { chunk, sizeof(chunk) };
	struct msghdr	 mh;
	ssize_t		 n;

	if (c->inpos > 0 && c->inpos * 2 >= c->in.len) {
		buf_consume(&c->in, c->inpos);
		c->inpos = 0;
	}
	if (c->in.cap - c->in.len < sizeof(chunk)) {
		/* A frame longer than any type allows never gets here. */
		errno = ENOBUFS;
		return -1;
	}
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.b;
	mh.msg_controllen = sizeof(cbuf.b);
	do
		n = recvmsg(c->sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if (take_fds(c, &mh) == -1)
		return -1;
	if (n > 0 && buf_add(&c->in, chunk, (size_t)n) == -1)
		return -1;
	return n;
}

static const struct msg_type *
find_type(const struct msgchan *c, uint16_t type)
{
	size_t	i;

	for (i = 0; i < c->ntypes; i++)
		if (c->types[i].type == type)
			return &c->types[i];
	return NULL;
}

int
msg_get(struct msgchan *c, struct msg *m)
{
	const struct msg_type	*t;
	struct msg_hdr		 h;
	size_t			 avail = c->in.len - c->inpos;

	if (avail < MSG_HDR_LEN)
		return 0;
	memcpy(&h, c->in.data + c->inpos, sizeof(h));
	if (h.version != MSG_VERSION)
		return proto_error(c, "message version %u, expected %u",
		    h.version, MSG_VERSION);
	if ((t = find_type(c, h.type)) == NULL)
		return proto_error(c, "unknown message type %u", h.type);
	if (h.len < t->min_len || h.len > t->max_len)
		return proto_error(c, "%s: %u bytes, expected %u to %u",
		    t->name, h.len, t->min_len, t->max_len);
	if ((h.flags & MSG_F_FDS) != (unsigned int)t->fd) {
		if (t->fd == 0)
			return proto_error(c, "%s: an unexpected descriptor",
			    t->name);
		if ((h.flags & MSG_F_FDS) == 0)
			return proto_error(c, "%s: no descriptor with it",
			    t->name);
		return proto_error(c, "%s: %u descriptors, expected %d",
		    t->name, h.flags & MSG_F_FDS, t->fd);
	}
	if (avail < MSG_HDR_LEN + h.len)
		return 0;
	if (c->ninfd < (size_t)t->fd)
		return proto_error(c, "%s: its descriptor did not arrive",
		    t->name);
	m->nfds = (unsigned int)t->fd;
	memcpy(m->fds, c->infd, m->nfds * sizeof(int));
	c->ninfd -= m->nfds;
	memmove(c->infd, c->infd + m->nfds, c->ninfd * sizeof(int));
	m->fd = m->nfds > 0 ? m->fds[0] : -1;
	m->type = h.type;
	m->len = h.len;
	m->data = c->in.data + c->inpos + MSG_HDR_LEN;
	c->inpos += MSG_HDR_LEN + h.len;
	return 1;
}

int
msg_receive(struct msgchan *c, void (*fn)(void *, const struct msg *),
    void *arg)
{
	struct msg	m;
	ssize_t		n;
	int		r;

	for (;;) {
		while ((r = msg_get(c, &m)) == 1)
			fn(arg, &m);
		if (r == -1)
			return -1;
		if ((n = msg_read(c)) == 0)
			return 0;
		if (n == -1)
			return errno == EAGAIN ? 1 : -1;
	}
}
