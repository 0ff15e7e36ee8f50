/*
 * run.c: a collector run in its own process.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/prio.h"
#include "qosd/clock.h"
#include "qosd/collector.h"
#include "scheduler/spawner/point.h"
#include "scheduler/spawner/run.h"

/* Sleep until due (CLOCK_MONOTONIC us); return when it woke. */
static uint64_t
wait_due(uint64_t due)
{
	struct timespec	ts;

	ts.tv_sec = (time_t)(due / 1000000);
	ts.tv_nsec = (long)(due % 1000000) * 1000;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		;
	return qosd_mono_us();
}

int
run_main(void *arg)
{
	const struct run_args	*ra = arg;
	struct qosd_out		*out;
	uint64_t		 begin;
	int			 rc, fd = ra->fd;

	/*
	 * stderr is the daemon's to read and log (escaped, rate-limited,
	 * prefixed), and this process's log lines say their priority.
	 */
	if (dup2(ra->efd, STDERR_FILENO) == -1)
		return 127;
	if (ra->efd != RUN_FD && ra->efd != STDERR_FILENO)
		close(ra->efd);
	log_to_parent();
	/* Its only descriptor but stdio: put it where a reader expects it. */
	if (fd != RUN_FD) {
		if (dup2(fd, RUN_FD) == -1 ||
		    fcntl(RUN_FD, F_SETFD, FD_CLOEXEC) == -1)
			return 127;
		close(fd);
		fd = RUN_FD;
	}
	begin = qosd_mono_us();
	if (ra->due_us > begin)
		begin = wait_due(ra->due_us);
	/* Measurements never run real-time. */
	prio_normal();
	if ((out = point_out_new(fd, ra->job, ra->deadline_us)) == NULL)
		return 127;
	point_out_begin(out, begin);
	point_out_name(out, ra->plugin->name);
	rc = ra->plugin->run(ra->state, out);
	if (point_out_flush(out) == -1)
		rc = -1;
	return rc == 0 ? 0 : 1;
}
