/* SPDX-License-Identifier: ISC */
/* libFuzzer target: the command-line splitter and %-substitution. The input
 * is one command string (a NUL ends it early, as in a config line). */
#include <stdint.h>
#include "cmdline.h"
#include "subst.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	_cleanup_free_ char *s = xstrndup((const char *) data, size);
	struct pipeline pl, copy;
	const char *error = NULL;
	char bad;

	if (cmdline_split(s, &pl, &error) == 0) {
		if (pl.n_stages == 0)
			abort();
		for (size_t i = 0; i < pl.n_stages; i++) {
			if (!pl.stages[i] || !pl.stages[i][0])
				abort();      /* no empty stage */
			for (char **a = pl.stages[i]; *a; a++) {
				_cleanup_free_ char *w = subst_expand(*a, "inst", "job@inst");
				(void) subst_valid(*a, &bad);
			}
		}
		pipeline_copy(&pl, &copy);
		pipeline_free(&copy);
		pipeline_free(&pl);
		if (pl.stages || pl.n_stages)
			abort();
	} else {
		if (!error || pl.stages || pl.n_stages)
			abort();
	}
	/* substitution over the raw string too: %i %n %% and stray '%' */
	_cleanup_free_ char *e = subst_expand(s, size % 2 ? NULL : "x", size % 3 ? "name" : NULL);
	(void) subst_valid(s, &bad);
	return 0;
}
