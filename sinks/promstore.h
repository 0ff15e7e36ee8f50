/*
 * promstore.h: the prometheus sink's series: the latest value of every
 * numeric field of every point, named and labelled for Prometheus, and
 * their text exposition (format 0.0.4), written a piece at a time so
 * that a scrape of any size never holds the daemon's loop.
 *
 * Naming (docs/prometheus.md): a field F of measurement M is the metric
 * qosd_M_F (qosd's own measurements, qosd and qosd_*, are not prefixed
 * twice), its point's tags are labels; units become Prometheus's base
 * units: _ms and _us are converted to _seconds, _s is written _seconds,
 * _pct to _ratio (0 to 1), _bps (bits per second) to _bytes_per_second.
 * The daemon's counters (qosd's runs_*, lines_rejected, cpu_*_s;
 * qosd_sink's sent, dropped, spooled, retries, rejected,
 * shipper_restarts) are counters, named ..._total; everything else is a
 * gauge (a gauge whose name would end in _count, _sum, _bucket or _total,
 * suffixes Prometheus reserves, gets _value added).  A point's string
 * field result is the gauge qosd_M_result,
 * always 1, with the result as a label: one series per tag set, whose
 * label follows the latest result.  Points of a request (tagged
 * request=ID: run now, ad-hoc probes) are left out.
 */
#ifndef SINKS_PROMSTORE_H
#define SINKS_PROMSTORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct lp_point;
struct promstore;
struct promscrape;

/* A store of at most max_series series. */
struct promstore *promstore_new(size_t max_series);
/* Free it; scrapes still going must have ended.  NULL is fine. */
void		 promstore_free(struct promstore *);
/* Take the numeric fields (and result) of p. */
void		 promstore_point(struct promstore *, const struct lp_point *p);
/*
 * Keep only series whose job label is one of the n names (and those
 * with no job label: qosd's own), and from now on take points only of
 * those jobs (the last run of a removed job ends after the reload).
 */
void		 promstore_jobs(struct promstore *, const char *const *names,
		    size_t n);
/* Series held, and series refused because the store was full. */
size_t		 promstore_series(const struct promstore *);
uint64_t	 promstore_refused(const struct promstore *);

/* A scrape: the exposition of the store as it is while it is read. */
struct promscrape *promscrape_new(struct promstore *);
/* Up to max bytes of it into buf: the bytes written, 0 at the end. */
ssize_t		 promscrape_read(struct promscrape *, char *buf, size_t max);
/* The scrape is over (read to the end or not). */
void		 promscrape_free(struct promscrape *);

#endif /* SINKS_PROMSTORE_H */
