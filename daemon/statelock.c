/* SPDX-License-Identifier: ISC */
/* The state_dir lock (see statelock.h). */
#include <fcntl.h>
#include <stdio.h>
#include "log.h"
#include "statelock.h"
#include "util.h"

int statelock_take(const char *state_dir) {
	_cleanup_free_ char *path = xasprintf("%s/lock", state_dir);
	_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char pid[32];

	if (fd < 0)
		return log_error_errno(errno, "cannot open %s", path);
	if (fcntl(fd, F_SETLK, &fl) < 0) {
		int e = errno;
		if (e != EAGAIN && e != EACCES)
			return log_error_errno(e, "cannot lock %s", path);
		struct flock who = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		if (fcntl(fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK)
			log_msg(LOG_ERR, "state_dir %s is in use by another supd (pid %d)", state_dir, (int) who.l_pid);
		else
			log_msg(LOG_ERR, "state_dir %s is in use by another supd", state_dir);
		return -EBUSY;
	}
	int n = snprintf(pid, sizeof(pid), "%d\n", (int) getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t) n, 0) != n)
		log_warn("cannot write supd's pid to %s", path);
	return TAKE_FD(fd);
}
