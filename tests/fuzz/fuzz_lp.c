/*
 * fuzz_lp.c: libFuzzer harness for lp_parse() and the round trip
 * parse -> encode -> parse, which must give back the same point.
 * The input is split at '\n' so that the fixture files, one line per
 * record, serve as seeds as they are; every line is parsed, and the whole
 * input once more so that the parser also meets embedded newlines.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/lp.h"
#include "lib/lp_enc.h"
#include "lib/lp_parse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
same(const struct lp_point *a, const struct lp_point *b)
{
	size_t	 i;

	if (strcmp(a->measurement, b->measurement) != 0 ||
	    a->ntags != b->ntags || a->nfields != b->nfields ||
	    a->has_time != b->has_time || (a->has_time && a->time != b->time))
		return 0;
	for (i = 0; i < a->ntags; i++)
		if (strcmp(a->tags[i].key, b->tags[i].key) != 0 ||
		    strcmp(a->tags[i].value, b->tags[i].value) != 0)
			return 0;
	for (i = 0; i < a->nfields; i++) {
		const struct lp_field *x = &a->fields[i], *y = &b->fields[i];

		if (strcmp(x->key, y->key) != 0 || x->type != y->type)
			return 0;
		if (x->type == LP_STRING ? strcmp(x->v.s, y->v.s) != 0 :
		    memcmp(&x->v, &y->v, sizeof(x->v)) != 0)
			return 0;
	}
	return 1;
}

static void
one(const char *line, size_t len)
{
	struct lp_point	 p, q;
	struct buf	 b;
	char		 err[256], *copy;

	/* An exact-size copy lets ASan catch any read past len. */
	if ((copy = malloc(len ? len : 1)) == NULL)
		return;
	memcpy(copy, line, len);
	lp_point_init(&p);
	lp_point_init(&q);
	buf_init(&b, 4 * LP_MAX_LINE);
	if (lp_parse(copy, len, &p, err, sizeof(err)) == 0) {
		if (lp_encode(&p, &b, err, sizeof(err)) == -1) {
			fprintf(stderr, "parsed but not encoded: %s\n", err);
			abort();
		}
		if (lp_parse(b.data, b.len - 1, &q, err, sizeof(err)) == -1) {
			fprintf(stderr, "re-parse of '%s': %s\n", b.data, err);
			abort();
		}
		if (!same(&p, &q)) {
			fprintf(stderr, "round trip differs: '%s'\n", b.data);
			abort();
		}
	} else if (strlen(err) == 0 || p.ntags != 0 || p.nfields != 0) {
		fprintf(stderr, "refused without a reason or left data\n");
		abort();
	}
	buf_cleanup(&b);
	lp_point_cleanup(&p);
	lp_point_cleanup(&q);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*s = (const char *)data, *nl;
	size_t		 off = 0;

	one(s, size);
	while (off < size) {
		nl = memchr(s + off, '\n', size - off);
		if (nl == NULL) {
			one(s + off, size - off);
			break;
		}
		one(s + off, (size_t)(nl - (s + off)));
		off = (size_t)(nl - s) + 1;
	}
	return 0;
}
