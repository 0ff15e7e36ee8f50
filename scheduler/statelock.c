/*
 * statelock.c: one qosd per state directory (see daemon.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/lockfile.h"
#include "lib/log.h"
#include "lib/owndir.h"
#include "scheduler/config.h"
#include "scheduler/daemon.h"
#include "scheduler/sched.h"

#define STATE_LOCK	"qosd.lock"

static void
let_go(struct statelock *l)
{
	if (l->fd != -1)
		close(l->fd);
	free(l->dir);
	l->fd = -1;
	l->dir = NULL;
}

int
daemon_state_lock(struct daemon *d, const struct cfg *cfg)
{
	struct statelock	*l;
	char			 why[1024];
	pid_t			 holder;
	int			 dfd;

	if (d->opts->once || !cfg->state_used || (d->state.dir != NULL &&
	    strcmp(d->state.dir, cfg->state_dir) == 0))
		return 0;
	l = d->state.fd == -1 ? &d->state : &d->state_next;
	let_go(l);
	if ((dfd = owndir_open_path(cfg->state_dir, "give daemon.state_dir "
	    "a directory of its own", why, sizeof(why))) == -1) {
		log_err("state_dir: %s", why);
		return -1;
	}
	l->fd = lockfile_take(dfd, STATE_LOCK, 0, &holder, why, sizeof(why));
	close(dfd);
	if (l->fd == -1) {
		log_err("state_dir \"%s\": %s%s", cfg->state_dir, why,
		    holder > 0 ? ": one qosd per state_dir (stop that one, or "
		    "give this one a daemon.state_dir of its own)" : "");
		return -1;
	}
	if ((l->dir = strdup(cfg->state_dir)) == NULL)
		fatal("state_dir: %m");
	return 0;
}

void
daemon_state_done(struct daemon *d, int ok)
{
	if (d->state_next.fd == -1)
		return;
	if (ok) {
		let_go(&d->state);
		d->state = d->state_next;
		d->state_next.fd = -1;
		d->state_next.dir = NULL;
	} else
		let_go(&d->state_next);
}

void
daemon_state_release(struct daemon *d)
{
	let_go(&d->state);
	let_go(&d->state_next);
}
