/* SPDX-License-Identifier: ISC */
/* Run scopes as process groups (see scope.h). */
#include <errno.h>
#include <signal.h>
#include "scope.h"

int scope_signal(const struct scope *s, int sig, bool and_continue) {
	if (s->pgid <= 0)
		return -ESRCH;
	if (kill(-s->pgid, sig) < 0)
		return -errno;
	if (and_continue && sig != SIGKILL && sig != SIGCONT)
		(void) kill(-s->pgid, SIGCONT);   /* a stopped process must see the signal */
	return 0;
}

bool scope_alive(const struct scope *s) {
	return s->pgid > 0 && kill(-s->pgid, 0) == 0;
}
