/* SPDX-License-Identifier: ISC */
/* Binding the control socket without a path race (SPEC §11).
 *
 * chown/chmod by path after bind let whoever owns the socket's directory
 * swap in a symlink and have root change any file; fchmod on a socket fd
 * does not change the file on Linux. So the socket is bound (under a tight
 * umask) in a fresh directory only supd's uid can write, made next to the
 * target, given its owner and mode there through that directory's fd, and
 * renamed into place: it appears at PATH complete, and nothing is ever
 * done by a path another user can change. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "control.h"
#include "log.h"

/* Whether a process listens on path: 1 (its pid in *pid), 0 for a stale
 * socket file, or -errno. */
static int socket_in_use(const char *path, pid_t *pid) {
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (fd < 0)
		return -errno;
	strcpy(sa.sun_path, path);      /* length checked by the caller */
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
		return errno == ECONNREFUSED ? 0 : errno == EAGAIN ? 1 : -errno;
	*pid = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 ? cred.pid : 0;
	return 1;
}

/* Bind fd at NAME inside the directory dirfd refers to. Through
 * /proc/self/fd, the directory cannot be swapped under us; without /proc,
 * by its path (then only supd's uid can write inside it, still). */
static int bind_in(int fd, int dirfd, const char *dir_path, const char *name) {
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int r, e;

	for (int by_path = 0; by_path < 2; by_path++) {
		if (by_path)
			r = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir_path, name);
		else
			r = snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dirfd, name);
		if (r < 0 || (size_t) r >= sizeof(sa.sun_path)) {
			e = ENAMETOOLONG;
			continue;
		}
		mode_t old = umask(0177);    /* no window where others can connect */
		r = bind(fd, (struct sockaddr *) &sa, sizeof(sa));
		e = errno;
		umask(old);
		if (r == 0)
			return 0;
		if (e != ENOENT && e != ENOTDIR)     /* no /proc: try the path */
			break;
	}
	return -e;
}

int control_bind(const char *path, mode_t mode, gid_t group, bool have_group, int *ret_fd) {
	struct sockaddr_un sa;
	_cleanup_close_ int fd = -1, dirfd = -1, tmpfd = -1;
	_cleanup_free_ char *dir = NULL, *tmp = NULL;
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	struct stat st;
	pid_t holder = 0;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return log_error_errno(ENAMETOOLONG, "socket path %s", path);
	if (!*base)
		return log_error_errno(EINVAL, "socket path %s names a directory", path);
	dir = !slash ? xstrdup(".") : slash == path ? xstrdup("/") : xstrndup(path, (size_t) (slash - path));
	dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return log_error_errno(errno, "cannot open the directory of socket %s", path);

	/* a live process on this path keeps it; a stale socket is replaced */
	bool present = fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (!present && errno != ENOENT)
		return log_error_errno(errno, "cannot check socket path %s", path);
	if (present && !S_ISSOCK(st.st_mode))
		return log_error_errno(EEXIST, "socket path %s exists and is not a socket; not replacing it", path);
	if (present) {
		r = socket_in_use(path, &holder);
		if (r < 0)
			return log_error_errno(r, "cannot check whether socket %s is in use", path);
		if (r > 0 && holder > 0)
			return log_error_errno(EADDRINUSE, "socket %s is in use by pid %d (another supd?)", path,
					       (int) holder);
		if (r > 0)
			return log_error_errno(EADDRINUSE, "socket %s is in use by another process", path);
	}

	tmp = xasprintf("%s/.supd-bind-XXXXXX", dir);
	if (!mkdtemp(tmp))
		return log_error_errno(errno, "cannot make a private directory next to %s", path);
	const char *tmp_base = strrchr(tmp, '/') + 1;
	tmpfd = open(tmp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	/* only ours if we made it: our uid, 0700, a directory */
	if (tmpfd < 0 || fstat(tmpfd, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 07777) != 0700) {
		r = tmpfd < 0 ? -errno : -EPERM;
		(void) unlinkat(dirfd, tmp_base, AT_REMOVEDIR);
		return log_error_errno(r, "private directory %s was changed by someone else", tmp);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = log_error_errno(errno, "socket");
		goto fail_dir;
	}
	r = bind_in(fd, tmpfd, tmp, "s");
	if (r < 0) {
		r = log_error_errno(r, "cannot bind %s", path);
		goto fail_dir;
	}
	if (have_group && fchownat(tmpfd, "s", (uid_t) -1, group, AT_SYMLINK_NOFOLLOW) < 0) {
		r = log_error_errno(errno, "cannot give %s to group %u", path, (unsigned) group);
		goto fail_sock;
	}
	if (fchmodat(tmpfd, "s", mode, 0) < 0) {
		r = log_error_errno(errno, "cannot set the mode of %s", path);
		goto fail_sock;
	}
	if (listen(fd, SOMAXCONN) < 0) {
		r = log_error_errno(errno, "cannot listen on %s", path);
		goto fail_sock;
	}
	/* onto a stale socket: replaced at once, clients never see no socket;
	 * onto nothing: fail if another process made one meanwhile */
	r = present ? renameat(tmpfd, "s", dirfd, base) : renameat2(tmpfd, "s", dirfd, base, RENAME_NOREPLACE);
	if (r < 0 && !present && errno == EINVAL)    /* a file system without RENAME_NOREPLACE */
		r = renameat(tmpfd, "s", dirfd, base);
	if (r < 0) {
		r = log_error_errno(errno == EEXIST ? EADDRINUSE : errno, "cannot put the socket in place at %s", path);
		goto fail_sock;
	}
	if (unlinkat(dirfd, tmp_base, AT_REMOVEDIR) < 0)
		log_warn("cannot remove %s", tmp);
	*ret_fd = TAKE_FD(fd);
	return 0;

fail_sock:
	(void) unlinkat(tmpfd, "s", 0);
fail_dir:
	(void) unlinkat(dirfd, tmp_base, AT_REMOVEDIR);
	return r;
}
