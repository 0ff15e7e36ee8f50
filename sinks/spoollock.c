/*
 * spoollock.c: the daemon's locks of spool directories (see spoollock.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/lockfile.h"
#include "lib/log.h"
#include "sinks/spool.h"
#include "sinks/spoollock.h"

struct spool_lock {
	dev_t			 dev;	/* the spool directory's */
	ino_t			 ino;
	int			 fd;
	unsigned int		 refs;
	struct spool_lock	*next;
};

/* The spools this process holds. */
static struct spool_lock	*held;

struct spool_lock *
spool_lock(const char *dir, const char *name, char *err, size_t errlen)
{
	struct spool_lock	*l;
	struct stat		 st;
	char			 why[512];
	pid_t			 holder;
	int			 dfd, fd, busy;

	if (spool_dirs(dir, &dfd, NULL, NULL, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "sink %s: spool: %s", name, why);
		return NULL;
	}
	if (fstat(dfd, &st) == -1)
		fatal("sink %s: spool \"%s\": %m", name, dir);
	for (l = held; l != NULL; l = l->next)
		if (l->dev == st.st_dev && l->ino == st.st_ino) {
			close(dfd);
			l->refs++;
			return l;
		}
	fd = lockfile_take(dfd, SPOOL_LOCK, SPOOL_LOCK_WAIT_MS, &holder, why,
	    sizeof(why));
	busy = fd == -1 && errno == EWOULDBLOCK;
	close(dfd);
	if (fd == -1) {
		snprintf(err, errlen, "sink %s: spool \"%s\": %s%s", name, dir,
		    why, busy ? ": one qosd per spool (is "
		    "another one running on this state_dir or spool_dir?)" :
		    "");
		return NULL;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL)
		fatal("sink %s: %m", name);
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	l->fd = fd;
	l->refs = 1;
	l->next = held;
	held = l;
	return l;
}

int
spool_lock_fd(const struct spool_lock *l)
{
	return l->fd;
}

void
spool_unlock(struct spool_lock *l)
{
	struct spool_lock	**pp;

	if (l == NULL || --l->refs > 0)
		return;
	for (pp = &held; *pp != NULL; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	close(l->fd);
	free(l);
}
