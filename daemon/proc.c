/* SPDX-License-Identifier: ISC */
/* Facts about processes from /proc (see proc.h). */
#include <fcntl.h>
#include <stdio.h>
#include "proc.h"
#include "util.h"

/* This boot's id (/proc/sys/kernel/random/boot_id), read once. */
const char *proc_boot_id(void) {
	static char id[64];

	if (!id[0]) {
		_cleanup_close_ int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, id, sizeof(id) - 1) : -1;
		if (n <= 0)
			snprintf(id, sizeof(id), "unknown");
		else
			id[strcspn(id, "\n")] = '\0';
	}
	return id;
}

/* Field 22 of /proc/PID/stat: when the process started, in clock ticks
 * since boot; with the pid, it names one process of this boot. */
int proc_start_time(pid_t pid, unsigned long long *ret) {
	char path[64], text[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, text, sizeof(text) - 1);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	text[n] = '\0';
	const char *p = strrchr(text, ')');   /* the name may hold anything */
	if (!p)
		return -EIO;
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return -EIO;
	*ret = strtoull(p + 1, NULL, 10);
	return 0;
}

