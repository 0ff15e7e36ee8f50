/*
 * ctlacl.h: the control API's allow-list of ad-hoc probe targets
 * (control.targets): addresses and prefixes ("192.0.2.0/24",
 * "2001:db8::/32", "127.0.0.1"), host names ("gw.example.net") and
 * domains ("*.example.net": any name under it, not the domain itself).
 * A target is a setting's value as the collector names it (ping and tcp
 * "targets", iperf "server", http URLs): its host is what is checked.  A
 * name is matched as a name, never resolved: an address entry never
 * allows a name, nor a name entry an address.
 */
#ifndef SCHEDULER_CTLACL_H
#define SCHEDULER_CTLACL_H

#include <stddef.h>

struct ctlacl;

/* Whether pattern is one of the forms above: 0, or -1 with err. */
int	ctlacl_check(const char *pattern, char *err, size_t errlen);
/* A list of n patterns (each checked with ctlacl_check(); copied). */
struct ctlacl *ctlacl_new(char *const *patterns, size_t n);
/* NULL is fine. */
void	ctlacl_free(struct ctlacl *);
/*
 * The host that value names: a URL's host ("http://[::1]:80/x" -> "::1"),
 * else the value without brackets, lower case, without a final dot.
 * Into host (len bytes); 0, or -1 when there is none.
 */
int	ctlacl_host(const char *value, char *host, size_t len);
/* Whether value's host is on the list. */
int	ctlacl_allows(const struct ctlacl *, const char *value);

#endif /* SCHEDULER_CTLACL_H */
