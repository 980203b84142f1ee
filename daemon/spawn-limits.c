/* SPDX-License-Identifier: ISC */
/* The limits a run's processes get (see spawn-limits.h). */
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "spawn-limits.h"

/* fs.nr_open: the most fds any process may have, or 0 if unknown. */
static rlim_t nr_open(void) {
	char buf[32];
	ssize_t n;
	int fd = open("/proc/sys/fs/nr_open", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (rlim_t) strtoull(buf, NULL, 10);
}

/* CAP_SYS_RESOURCE in effect: root has it, unless a container took it. */
static bool may_raise_limits(void) {
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, d) < 0)
		return geteuid() == 0;
	return d[CAP_TO_INDEX(CAP_SYS_RESOURCE)].effective & CAP_TO_MASK(CAP_SYS_RESOURCE);
}

static const char *rlim_str(rlim_t v, char *buf, size_t size) {
	if (v == RLIM_INFINITY)
		return "infinity";
	(void) snprintf(buf, size, "%llu", (unsigned long long) v);
	return buf;
}

int spawn_limits_prepare(const struct job_config *jc, struct spawn_limits *out, char **error) {
	char b1[32], b2[32];
	bool privileged = may_raise_limits();

	for (int l = 0; l < _LIMIT_MAX; l++) {
		const struct limit_spec *ls = &jc->limits[l];
		const char *key = job_limit_to_string((enum job_limit) l);
		struct rlimit want = { .rlim_cur = ls->soft, .rlim_max = ls->hard }, own;

		out->set[l] = false;
		out->resource[l] = job_limit_resource((enum job_limit) l);
		if (!ls->set)
			continue;
		if (l == LIMIT_NOFILE) {
			rlim_t max = nr_open();
			if (max > 0 && want.rlim_max == RLIM_INFINITY) {
				want.rlim_max = max;
				if (want.rlim_cur == RLIM_INFINITY)
					want.rlim_cur = max;
			}
			if (max > 0 && want.rlim_max > max) {
				*error = xasprintf("%s %s is above fs.nr_open (%llu)", key,
						   rlim_str(want.rlim_max, b1, sizeof(b1)), (unsigned long long) max);
				return -EPERM;
			}
		}
		if (!privileged && getrlimit(out->resource[l], &own) == 0 && want.rlim_max > own.rlim_max) {
			*error = xasprintf("%s %s is above supd's own hard limit (%s), which only root may raise", key,
					   rlim_str(want.rlim_max, b1, sizeof(b1)), rlim_str(own.rlim_max, b2, sizeof(b2)));
			return -EPERM;
		}
		out->set[l] = true;
		out->value[l] = want;
	}
	return 0;
}
