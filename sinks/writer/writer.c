/*
 * writer/writer.c: the writer process (see writer.h): one poll(2) loop
 * over its channel.  It writes each DATA message as it comes, seals on
 * SEAL, and says how far it got each time it has read all there was.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/msg.h"
#include "sinks/spool.h"
#include "sinks/writer/writer.h"

#define OUT_MAX		65536		/* figures queued for the daemon */
#define LAST_WORDS_MS	1000		/* for the last figures to go */

static const struct msg_type to_writer[] = {
	{ WRITER_DATA, "data", 1, WRITER_DATA_MAX, 0 },
	{ WRITER_SEAL, "seal", 0, 0, 0 },
};

struct wproc {
	const char		*name;		/* the sink's */
	const struct writer_ops	*ops;
	void			*t;
	struct msgchan		 ch;
	struct writer_figs	 f;
	int			 told;	/* f was sent as it is */
};

/* A WRITER_DATA or WRITER_SEAL. */
static void
take(void *arg, const struct msg *m)
{
	struct wproc	*wp = arg;

	if (m->type == WRITER_DATA) {
		wp->ops->append(wp->t, m->data, m->len,
		    spool_count_lines(m->data, m->len), &wp->f);
		wp->f.consumed += m->len;
	} else {
		wp->ops->seal(wp->t, &wp->f);
		wp->f.consumed++;
	}
	wp->told = 0;
}

/* Report f unless it was; a full queue: at the next report. */
static void
tell(struct wproc *wp)
{
	if (!wp->told && msg_send(&wp->ch, WRITER_FIGS, &wp->f,
	    sizeof(wp->f), -1) == 0)
		wp->told = 1;
}

/*
 * Take what the daemon sent: 1 when all there was is taken, 0 at the end
 * of the stream, -1 on an error (logged).
 */
static int
read_all(struct wproc *wp)
{
	int	r;

	if ((r = msg_receive(&wp->ch, take, wp)) == -1 && errno == EPROTO)
		log_err("sink %s: writer: from the daemon: %s", wp->name,
		    msg_error(&wp->ch));
	else if (r == -1)
		log_err("sink %s: writer: reading from the daemon: %m",
		    wp->name);
	return r;
}

void
writer_main(const char *name, const struct writer_ops *ops, void *t,
    int sock)
{
	struct wproc	wp;
	struct pollfd	pfd;
	int		r;

	memset(&wp, 0, sizeof(wp));
	wp.name = name;
	wp.ops = ops;
	wp.t = t;
	wp.told = 1;
	msgchan_init(&wp.ch, sock, to_writer, 2, OUT_MAX);
	while ((r = read_all(&wp)) == 1) {
		/* Caught up: say how far. */
		tell(&wp);
		pfd.fd = sock;
		pfd.events = POLLIN | (msg_queued(&wp.ch) > 0 ? POLLOUT : 0);
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			break;
		if ((pfd.revents & POLLOUT) && msg_flush(&wp.ch) == 1)
			tell(&wp);
	}
	ops->close(t, &wp.f);
	wp.told = 0;
	tell(&wp);
	msg_drain(&wp.ch, LAST_WORDS_MS);
	_exit(r == -1 ? 1 : 0);
}
