/*
 * lp_check.c: read line protocol from standard input and parse every line
 * with lib/lp's strict parser: "ok N" and exit 0 when all parse (N lines),
 * else the first bad line and the parser's reason, exit 1.
 */
#include <stdio.h>
#include <string.h>

#include "lib/lp.h"

int
main(void)
{
	struct lp_point	 p;
	char		 line[LP_MAX_LINE + 2], err[256];
	unsigned long	 n = 0;
	size_t		 len;

	lp_point_init(&p);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		len = strlen(line);
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		n++;
		if (lp_parse(line, len, &p, err, sizeof(err)) == -1) {
			printf("line %lu: %s: %s\n", n, err, line);
			return 1;
		}
	}
	lp_point_cleanup(&p);
	printf("ok %lu\n", n);
	return n > 0 ? 0 : 1;
}
