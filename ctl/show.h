/*
 * show.h: qosctl's output: the control API's JSON as tables for people,
 * or as it came (--json).
 */
#ifndef CTL_SHOW_H
#define CTL_SHOW_H

#include <jansson.h>

/* The JSON, indented, on stdout. */
void	show_json(const json_t *);
/* GET /v1/status */
void	show_status(const json_t *);
/* GET /v1/jobs: one line per job. */
void	show_jobs(const json_t *);
/* GET /v1/jobs/NAME: one job, its settings. */
void	show_job(const json_t *);
/* One agent of qosctl --nats agents: a line. */
void	show_agent(const json_t *);
/* GET /v1/results/ID: its state, then one line per point. */
void	show_result(const json_t *);

#endif /* CTL_SHOW_H */
