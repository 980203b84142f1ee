/* SPDX-License-Identifier: ISC */
/* The start times behind start_limit (see startlimit.h). */
#include <string.h>
#include "startlimit.h"

void startlimit_note(usec_t **times, unsigned *n_times, unsigned burst, usec_t interval, usec_t now) {
	unsigned n = 0;
	usec_t *t = *times;

	if (burst == 0)
		return;
	if (!t)
		t = *times = xcalloc(burst + 1, sizeof(usec_t));
	for (unsigned i = 0; i < *n_times; i++)
		if (now - t[i] < interval)
			t[n++] = t[i];
	if (n > burst)
		n = burst;     /* keep the newest burst entries */
	if (n == burst) {
		memmove(t, t + 1, (n - 1) * sizeof(usec_t));
		n--;
	}
	t[n++] = now;
	*n_times = n;
}

unsigned startlimit_count(const usec_t *times, unsigned n_times, usec_t interval, usec_t now) {
	unsigned n = 0;

	for (unsigned i = 0; i < n_times; i++)
		if (now - times[i] < interval)
			n++;
	return n;
}
