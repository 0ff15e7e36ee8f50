/*
 * qosd/collector.h: the collector plugin ABI of qosd.
 *
 * include/qosd/ is all a plugin sees: this header (the descriptor), the
 * point API (qosd/point.h), the config readers (qosd/cfg.h), logging
 * (qosd/log.h) and the clocks to measure with (qosd/clock.h).  The
 * functions they declare are exported by the qosd executable (the export
 * list is made from these headers); a plugin links against nothing of
 * qosd, only its own libraries (libcurl, libiperf), and exports exactly
 * one symbol.
 *
 * A collector is a shared object in the plugin directory that exports one
 * symbol, QOSD_COLLECTOR_SYMBOL, a struct qosd_collector, marked
 * QOSD_EXPORT (plugins are built with -fvisibility=hidden).  The daemon
 * dlopen()s it when a job names it, checks abi, and then:
 *
 *   configure()  in the daemon, at start and at each reload, once per job:
 *                validate the job's own settings (those listed in
 *                `settings`; the daemon has already refused any setting
 *                that is neither common nor listed) and build a typed
 *                state.  No I/O.  Strings from the config tree die with it:
 *                copy what you keep.  On failure return -1 with one reason
 *                in err, made with qosd_cfg_error() so that it reads
 *                "FILE:LINE: SETTING: what is wrong".
 *   run()        in a forked child, once per scheduled run: measure, and
 *                emit points through the point API.  Emit at least one
 *                point per target, also on failure, with a `result` string
 *                field.  Return 0 when the run itself worked (even if
 *                targets failed), -1 when it could not run at all.  Never
 *                call exit(); the daemon's timeout kills a run that does
 *                not return in time.
 *   release()    when the job goes away; NULL state is fine.
 */
#ifndef QOSD_COLLECTOR_H
#define QOSD_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

/* 2: one logging function per level (qosd/log.h). */
#define QOSD_COLLECTOR_ABI	2
#define QOSD_COLLECTOR_SYMBOL	"qosd_collector"

/* What a plugin exports: its descriptor, and nothing else. */
#define QOSD_EXPORT	__attribute__((visibility("default")))

struct qosd_out;

struct qosd_collector {
	int		 abi;		/* QOSD_COLLECTOR_ABI */
	const char	*name;		/* equals the file name without .so */
	const char *const *settings;	/* its job settings, NULL-terminated */
	int		(*configure)(const config_setting_t *job, void **state,
			    char *err, size_t errlen);
	int		(*run)(void *state, struct qosd_out *out);
	void		(*release)(void *state);
	unsigned int	 flags;		/* QOSD_COLLECTOR_* below */
	/*
	 * The exclusive group of the collector's jobs that set none (a job
	 * leaves every group with exclusive = false), or NULL for none.
	 */
	const char	*default_exclusive;
	/*
	 * The settings that name what the collector measures toward (host
	 * names, addresses, or URLs whose host counts), NULL-terminated;
	 * NULL for none.  The control API checks their values against its
	 * allow-list (control.targets) before an ad-hoc probe may run.
	 */
	const char *const *targets;
};

/* The collector's child keeps CAP_NET_RAW (ICMP); all others drop it. */
#define QOSD_COLLECTOR_NET_RAW	0x1

#endif /* QOSD_COLLECTOR_H */
