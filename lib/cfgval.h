/*
 * cfgval.h: describing libconfig settings in error messages.  The typed
 * readers themselves (qosd_cfg_*) are declared in collector.h because
 * plugins use them too; these are for config.c.
 */
#ifndef LIB_CFGVAL_H
#define LIB_CFGVAL_H

#include <stddef.h>

#include <libconfig.h>

struct buf;

/*
 * Append the path of s to b: "jobs.gw.count", members of a list named by
 * their `name` string setting, else by their index (from 0).  Nothing for
 * the root.
 */
void	cfgval_path(const config_setting_t *s, struct buf *b);
/*
 * Append what s holds, for "got ..." in messages: `the string "x"`, `the
 * integer 5`, `a list`, and so on.  Long strings are cut, control
 * characters escaped.
 */
void	cfgval_describe(const config_setting_t *s, struct buf *b);
/*
 * Write "FILE:LINE: PATH: expected EXPECT, got WHAT" for s into err, WHAT
 * as cfgval_describe() puts it.  Returns -1.
 */
int	cfgval_expected(const config_setting_t *s, const char *expect,
	    char *err, size_t errlen);
/* Append str quoted and escaped like cfgval_describe() does. */
void	cfgval_quote(const char *str, struct buf *b);

#endif /* LIB_CFGVAL_H */
