/*
 * config.h: loading and validating /etc/qosd/qosd.conf (libconfig).
 *
 * cfg_load() reads the whole file, validates every setting (unknown names,
 * types, ranges, duplicates, collectors and sinks, each collector's and
 * sink's own settings through its configure()), and returns a struct cfg
 * that owns copies of everything it keeps: the libconfig tree is gone when
 * cfg_load() returns.  Errors read "FILE:LINE: SETTING: what is wrong".
 */
#ifndef SCHEDULER_CONFIG_H
#define SCHEDULER_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

struct bus_conf;
struct json_t;
struct qosd_collector;
struct sink_type;
struct strmap;

#define CFG_DEFAULT_FILE	"/etc/qosd/qosd.conf"
/* Tags a tags group may hold (agent's, job's). */
#define CFG_TAGS_MAX		64

struct cfg_tag {
	char		*key;
	char		*value;
};

struct cfg_job {
	char		*name;
	char		*collector;	/* plugin name */
	uint64_t	 interval_us;
	uint64_t	 timeout_us;	/* <= interval_us */
	uint64_t	 splay_us;	/* offsets fall in [0, splay) */
	uint64_t	 max_output;	/* bytes a run may print */
	char		*exclusive;	/* group name, or NULL */
	struct cfg_tag	*tags;		/* the job's own tags */
	size_t		 ntags;
	int		 line;		/* where the job starts in the file */
	struct json_t	*settings;	/* its collector's settings as
					   written (probecfg_json()), or NULL */
	const struct qosd_collector *plugin;	/* borrowed, from plugin.c */
	void		*state;		/* from plugin->configure(), owned */
	int		 forgotten;	/* plugin, state: the spawner's */
};

struct cfg_sink {
	char		*name;		/* "name", else TYPE or TYPE-N */
	const struct sink_type *type;
	void		*state;		/* from type->configure(), owned */
};

/* control { }: the control API (scheduler/control.h), cfgcontrol.c. */
struct cfg_control {
	char		*socket;	/* NULL: no control API */
	unsigned int	 socket_mode;
	char		*socket_group;	/* NULL: the process's group */
	unsigned int	 max_connections;
	unsigned int	 connection_timeout_s;
	uint64_t	 max_request;	/* bytes of a request's body */
	unsigned int	 results_max;
	uint64_t	 results_age_us;
	int		 allow_probes;
	char		**collectors;	/* probes may use these */
	char		***collector_targets;	/* each one's target settings,
					   NULL-terminated, or NULL */
	size_t		 ncollectors;
	char		**targets;	/* the allow-list (ctlacl.h) */
	size_t		 ntargets;
	unsigned int	 max_per_minute;	/* probes */
	uint64_t	 probe_timeout_us;	/* a probe's longest timeout */
};

struct cfg {
	char		*file;
	char		*agent_id;	/* default: the host name */
	struct cfg_tag	*agent_tags;
	size_t		 nagent_tags;
	/* daemon { } */
	char		*state_dir;	/* default /var/lib/qosd */
	int		 state_used;	/* a sink keeps its spool in it */
	unsigned int	 max_children;	/* concurrent runs, default 64 */
	uint64_t	 self_interval_us;	/* 0: no self-metrics */
	uint64_t	 stop_grace_us;	/* for running children at exit */
	int		 realtime;	/* SCHED_FIFO 1 for daemon, spawner */
	struct cfg_job	*jobs;
	size_t		 njobs;
	struct strmap	*jobmap;	/* name -> job, for cfg_job_find() */
	struct cfg_sink	*sinks;
	size_t		 nsinks;
	struct cfg_control control;
	struct bus_conf	*nats;		/* nats { }, or NULL: no bus */
};

/*
 * Load and validate path.  Collector plugins are looked up with
 * plugin_get() (plugin.h).  Returns NULL with the reason in err (the whole
 * message, ready to print).
 */
struct cfg *cfg_load(const char *path, char *err, size_t errlen);
/* Release a config, its jobs' and sinks' states.  NULL is fine. */
void	cfg_free(struct cfg *);
/*
 * Release every job's configured state in this process, after a spawner
 * forked with them has its own copies: plugin and state then stand for
 * that spawner's objects, never to be used here, and the plugins may be
 * unloaded (plugin_unload_all()).  cfg_free() is still fine.
 */
void	cfg_forget_plugins(struct cfg *);
/*
 * Index the jobs by name for cfg_job_find() (cfg_load() does; a struct
 * cfg made another way, a test's, calls it once its jobs are in place).
 */
void	cfg_index(struct cfg *);
/*
 * cfgcontrol.c: read control { } of root into cfg->control (collectors
 * named there are loaded to learn their target settings).  0, or -1
 * with err.
 */
int	cfg_load_control(struct cfg *cfg, const config_setting_t *root,
	    char *err, size_t errlen);
/* Free what cfg_load_control() set. */
void	cfg_control_free(struct cfg_control *);
/*
 * cfgnats.c: read nats { } of root into cfg->nats (NULL when absent;
 * after the agent's id is read).  0, or -1 with err.
 */
int	cfg_load_nats(struct cfg *cfg, const config_setting_t *root,
	    char *err, size_t errlen);
/*
 * --check-config: read nats { }'s password or token as the bus will
 * (and wipe it).  0, or -1 with err.  NULL is fine.
 */
int	cfg_nats_check(const struct bus_conf *c, char *err, size_t errlen);
/* Free a bus_conf of cfg_load_nats() or cfg_nats_copy().  NULL is fine. */
void	cfg_nats_free(struct bus_conf *);
/* A deep copy of c. */
struct bus_conf *cfg_nats_copy(const struct bus_conf *c);
/* Whether a and b would start the same bus (heartbeat_interval and
   max_per_minute are the daemon's, and change without a restart). */
int	cfg_nats_equal(const struct bus_conf *a, const struct bus_conf *b);
/* The job named name, or NULL. */
const struct cfg_job *cfg_job_find(const struct cfg *, const char *name);

#endif /* SCHEDULER_CONFIG_H */
