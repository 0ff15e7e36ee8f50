/*
 * msg.h: the one message layer between qosd's processes, after OpenBSD's
 * imsg: every message is a frame
 *
 *	uint16 type, uint8 version, uint8 flags, uint32 length, payload
 *
 * on a stream socket (a datagram or seqpacket socket would block at
 * net.unix.max_dgram_qlen, as low as 10), in host byte order (both ends
 * are forks of one process, or shipper.so loaded into one).  A frame may
 * carry up to MSG_FDS_MAX file descriptors (SCM_RIGHTS, attached to its
 * first byte; their number is in its flags); descriptors arrive in the
 * order they were sent, and each frame takes as many of the oldest ones
 * received as it says.  No pointer ever crosses: payloads are plain
 * structs and strings.
 *
 * The receiver names the types it accepts with their payload sizes; a
 * frame of an unknown type, a wrong version, a length outside its type's
 * bounds or a missing descriptor is a protocol error that msg_get()
 * reports (the caller logs it and drops the peer), never a misread
 * struct.  Both ends never block: output is queued (up to a cap) and
 * flushed as the socket takes it; input is read as it comes and
 * reassembled.
 */
#ifndef LIB_MSG_H
#define LIB_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/buf.h"

#define MSG_VERSION	1
#define MSG_HDR_LEN	8
#define MSG_F_FDS	0x07		/* flags: how many descriptors */
#define MSG_F_FD	0x01		/* one descriptor travels with it */
#define MSG_FDS_MAX	4		/* descriptors in one frame */
#define MSG_MAX_LEN	(1 << 20)	/* the longest payload of any type */
#define MSG_MAX_FDS	64		/* received and not yet claimed */

struct msg_hdr {
	uint16_t	 type;
	uint8_t		 version;
	uint8_t		 flags;
	uint32_t	 len;		/* payload bytes after the header */
};

/* A type a receiver accepts. */
struct msg_type {
	uint16_t	 type;
	const char	*name;		/* for errors */
	uint32_t	 min_len;	/* payload bounds, inclusive */
	uint32_t	 max_len;
	int		 fd;		/* the descriptors it carries */
};

/* A message received, from msg_get(). */
struct msg {
	uint16_t	 type;
	uint32_t	 len;
	const void	*data;		/* valid until the next msg_ call */
	int		 fd;		/* fds[0], or -1 */
	int		 fds[MSG_FDS_MAX];	/* the caller's to close */
	unsigned int	 nfds;
};

struct msg_fdq {			/* descriptors queued to send */
	size_t		 off;		/* at this offset of the output */
	int		 fds[MSG_FDS_MAX];	/* ours: closed once sent */
	unsigned int	 nfds;
};

struct msgchan {
	int		 sock;		/* non-blocking; the channel's own */
	const struct msg_type *types;
	size_t		 ntypes;
	struct buf	 in;		/* received, from inpos on */
	size_t		 inpos;
	int		 infd[MSG_MAX_FDS];	/* received, not yet claimed */
	size_t		 ninfd;
	struct buf	 out;		/* frames not yet sent, from outpos */
	size_t		 outpos;
	struct msg_fdq	*outfd;
	size_t		 noutfd, outfd_alloc;
	char		 err[160];	/* the last protocol error */
};

/*
 * Set up a channel on sock (adopted: msgchan_cleanup() closes it; made
 * non-blocking), accepting the ntypes types of types (borrowed for the
 * channel's life).  max_out caps the bytes queued to send.
 */
void	msgchan_init(struct msgchan *, int sock, const struct msg_type *types,
	    size_t ntypes, size_t max_out);
/* Close the socket and every descriptor still held.  Idempotent. */
void	msgchan_cleanup(struct msgchan *);
/*
 * Queue a message of len bytes (at most MSG_MAX_LEN) and, if fd is not -1,
 * a duplicate of fd (the caller keeps its own), then send what the socket
 * takes.  0, or -1 with errno: E2BIG when the queue is full (nothing was
 * queued), EMSGSIZE, or a send error (EPIPE: the peer is gone).
 */
int	msg_send(struct msgchan *, uint16_t type, const void *p, size_t len,
	    int fd);
/* The same with nfds (at most MSG_FDS_MAX) descriptors. */
int	msg_send_fds(struct msgchan *, uint16_t type, const void *p,
	    size_t len, const int *fds, unsigned int nfds);
/*
 * Send what is queued as far as the socket takes it: 1 when all is sent,
 * 0 when some is left (wait for POLLOUT), -1 on error (errno).
 */
int	msg_flush(struct msgchan *);
/* The bytes queued and not yet sent. */
size_t	msg_queued(const struct msgchan *);
/*
 * Read what the socket has: the bytes read (> 0), 0 at end of file, -1
 * with errno (EAGAIN: nothing now; EPROTO: more descriptors than
 * MSG_MAX_FDS, see msg_error()).
 */
ssize_t	msg_read(struct msgchan *);
/*
 * The next complete message: 1 (m filled), 0 when more bytes are needed,
 * -1 on a protocol error (msg_error() says which; the channel is then
 * unusable: drop the peer).
 */
int	msg_get(struct msgchan *, struct msg *m);
/*
 * Read what the socket has and call fn(arg, m) for each complete message
 * (m as from msg_get(); fn must not clean the channel up).  1 when all
 * there was is taken, 0 at end of file, -1 on an error (errno; EPROTO:
 * a protocol error, see msg_error()): then drop the peer.
 */
int	msg_receive(struct msgchan *,
	    void (*fn)(void *arg, const struct msg *m), void *arg);
/* The last protocol error, "" if none. */
const char *msg_error(const struct msgchan *);
/*
 * Block until every queued byte is sent, at most timeout_ms: 1 all sent,
 * 0 timed out, -1 on error.  For a process's last words.
 */
int	msg_drain(struct msgchan *, int timeout_ms);

#endif /* LIB_MSG_H */
