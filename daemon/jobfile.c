/* SPDX-License-Identifier: ISC */
/* Opening a job's files with the job user's rights (see jobfile.h). */
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include "jobfile.h"
#include "log.h"
#include "util.h"

/* As the kernel's own limit on links in one lookup. */
#define LINKS_MAX 40

/* A path component only root could have changed: owned by root or supd's
 * uid, writable by no one else. */
static bool only_root_can_change(const struct stat *st) {
	return (st->st_uid == 0 || st->st_uid == geteuid()) && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

/* supd's groups and capabilities while a walk runs with the job user's
 * rights. */
struct saved_cred {
	gid_t *groups;
	int n_groups;
	struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];
	bool active;
};

static int caps_get(struct __user_cap_data_struct *d) {
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	return syscall(SYS_capget, &h, d) < 0 ? -errno : 0;
}

static int caps_set(struct __user_cap_data_struct *d) {
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

static void cred_leave(struct saved_cred *s) {
	if (!s->active)
		return;
	/* undoing what supd did a moment ago cannot fail; if it did, supd
	 * would go on with a job user's rights: a broken invariant */
	if (caps_set(s->caps) < 0)
		fatal("cannot restore supd's capabilities");
	(void) setfsuid(geteuid());
	(void) setfsgid(getegid());
	if (syscall(SYS_setgroups, (size_t) s->n_groups, s->groups) < 0)
		fatal("cannot restore supd's groups");
	free(s->groups);
	s->groups = NULL;
	s->active = false;
}

/* The job user's rights for this thread (supd has one): its fs ids and
 * groups, and no capability in effect, since root keeps some that file
 * access checks honour (CAP_SYS_PTRACE for /proc, CAP_SYSLOG for
 * /dev/kmsg). The raw setgroups syscall, unlike glibc's, changes only the
 * caller. */
static int cred_enter(const struct jobfile_cred *cr, struct saved_cred *s) {
	int r, n = getgroups(0, NULL);

	if (n < 0)
		return -errno;
	if ((r = caps_get(s->caps)) < 0)
		return r;
	s->groups = xcalloc((size_t) n + 1, sizeof(gid_t));
	s->n_groups = getgroups(n, s->groups);
	if (s->n_groups < 0 || syscall(SYS_setgroups, cr->n_groups, cr->groups) < 0) {
		int e = errno;
		free(s->groups);
		s->groups = NULL;
		return -e;
	}
	s->active = true;
	struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3];
	for (size_t i = 0; i < ELEMENTSOF(none); i++)
		none[i] = (struct __user_cap_data_struct) { .permitted = s->caps[i].permitted };
	(void) setfsgid(cr->gid);
	(void) setfsuid(cr->uid);
	r = caps_set(none);
	/* setfsuid() reports no error; an invalid id reads the current one */
	if (r < 0 || (uid_t) setfsuid((uid_t) -1) != cr->uid || (gid_t) setfsgid((gid_t) -1) != cr->gid) {
		cred_leave(s);
		return r < 0 ? r : -EPERM;
	}
	return 0;
}

struct walk {
	const struct jobfile_cred *cr;
	uid_t link_owner;    /* besides root, who may own a link we follow */
	int dirfd;           /* the directory the next component is looked up in */
	bool trusted;        /* every directory so far only root could change */
	struct saved_cred saved;  /* active: the walk has the job user's rights */
	unsigned links, retries;
	char *path;          /* owned: the path as rewritten by links */
	char *pos;           /* the next component in path */
	const char **why;
};

static int walk_enter_dir(struct walk *w, int fd) {
	struct stat st;

	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	if (!S_ISDIR(st.st_mode)) {
		close(fd);
		return -ENOTDIR;
	}
	if (w->dirfd >= 0)
		close(w->dirfd);
	w->dirfd = fd;
	w->trusted = w->trusted && only_root_can_change(&st);
	/* from the first directory the job's user could change on, every
	 * lookup (and the open) has that user's rights, search permission of
	 * each directory included */
	if (!w->trusted && w->cr->as_user && !w->saved.active)
		return cred_enter(w->cr, &w->saved);
	return 0;
}

static int walk_enter_root(struct walk *w) {
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : walk_enter_dir(w, fd);
}

/* The link at fd replaces its name: its target, then what came after. */
static int walk_follow(struct walk *w, int fd, const struct stat *st, const char *next) {
	char target[PATH_MAX];

	if (st->st_uid != 0 && st->st_uid != w->link_owner) {
		*w->why = "a symbolic link on the path is owned by another user";
		return -ELOOP;
	}
	if (++w->links > LINKS_MAX)
		return -ELOOP;
	ssize_t n = readlinkat(fd, "", target, sizeof(target));
	if (n < 0)
		return -errno;
	if ((size_t) n >= sizeof(target) || (size_t) n + strlen(next) + 2 > PATH_MAX)
		return -ENAMETOOLONG;
	target[n] = '\0';
	char *p = *next ? xasprintf("%s/%s", target, next) : xstrdup(target);
	free(w->path);
	w->path = w->pos = p;
	return target[0] == '/' ? walk_enter_root(w) : 0;
}

/* Open name in the walk's directory, as supd or with the job user's rights
 * (which the walk may hold already). */
static int open_in_dir(struct walk *w, bool as_supd, const char *name, int flags) {
	struct saved_cred s = { 0 };
	bool switch_now = !as_supd && !w->saved.active;
	int r;

	if (switch_now && (r = cred_enter(w->cr, &s)) < 0)
		return r;
	int fd = openat(w->dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0666);
	int e = errno;
	if (switch_now)
		cred_leave(&s);
	return fd < 0 ? -e : fd;
}

/* Open the last component. Returns the fd, -EAGAIN when the name changed
 * under us (look again), or -errno. O_CREAT stays on for files that exist,
 * so that fs.protected_regular still guards sticky directories. */
static int walk_open_last(struct walk *w, const char *name, const char *next, int flags) {
	struct stat st;
	int fd = openat(w->dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0) {
		if (fstat(fd, &st) < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		if (S_ISLNK(st.st_mode)) {
			int r = walk_follow(w, fd, &st, next);
			close(fd);
			return r < 0 ? r : -EAGAIN;
		}
		close(fd);
		bool as_supd = !w->cr->as_user || (w->trusted && only_root_can_change(&st));
		fd = open_in_dir(w, as_supd, name, flags);
		/* it became a link since we looked */
		return fd == -ELOOP ? -EAGAIN : fd;
	}
	if (errno != ENOENT || !(flags & O_CREAT))
		return -errno;
	/* in a directory only root can change, supd creates the file and
	 * hands it to the job's user; elsewhere the user creates it */
	bool as_supd = !w->cr->as_user || w->trusted;
	fd = open_in_dir(w, as_supd, name, as_supd ? flags | O_EXCL : flags);
	if (fd == -EEXIST || fd == -ELOOP)
		return -EAGAIN;
	if (fd >= 0 && as_supd && w->cr->as_user && fchown(fd, w->cr->uid, w->cr->gid) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static int walk(struct walk *w, int flags) {
	for (;;) {
		char *name = w->pos + strspn(w->pos, "/");
		size_t len = strcspn(name, "/");
		if (len == 0)
			return -EISDIR;   /* "/" or a trailing slash: a directory */
		char *next = name + len + strspn(name + len, "/");
		bool last = *next == '\0' && name[len] == '\0';
		name[len] = '\0';

		if (last) {
			int fd = walk_open_last(w, name, next, flags);
			if (fd != -EAGAIN)
				return fd;
			if (++w->retries > LINKS_MAX)
				return -ELOOP;
			continue;
		}
		int fd = openat(w->dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (fd < 0)
			return -errno;
		if (fstat(fd, &st) < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		int r;
		if (S_ISLNK(st.st_mode)) {
			r = walk_follow(w, fd, &st, next);
			close(fd);
		} else {
			r = walk_enter_dir(w, fd);
			w->pos = next;
		}
		if (r < 0)
			return r;
	}
}

/* Open and check the type: regular files, and character devices when
 * allow_chr. Returns the fd or -errno. */
static int jobfile_open(const char *path, int flags, const struct jobfile_cred *cr, bool allow_chr, const char **why) {
	struct walk w = {
		.cr = cr, .link_owner = cr->as_user ? cr->uid : geteuid(), .dirfd = -1,
		.trusted = true, .path = xstrdup(path), .why = why,
	};
	struct stat st;
	int fd;

	*why = NULL;
	w.pos = w.path;
	if (path[0] != '/') {
		*why = "not an absolute path";
		fd = -EINVAL;
	} else if ((fd = walk_enter_root(&w)) >= 0)
		fd = walk(&w, flags);
	cred_leave(&w.saved);
	if (w.dirfd >= 0)
		close(w.dirfd);
	free(w.path);
	if (fd < 0)
		return fd;
	struct statfs sfs;
	if (fstat(fd, &st) < 0 || fstatfs(fd, &sfs) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	if (!S_ISREG(st.st_mode) && !(allow_chr && S_ISCHR(st.st_mode)))
		*why = allow_chr ? "not a regular file or character device" : "not a regular file";
	else if (sfs.f_type == PROC_SUPER_MAGIC)
		*why = "a file of /proc";          /* /proc/self would be supd's */
	else if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 5 && minor(st.st_rdev) == 0)
		*why = "/dev/tty";                 /* it would be supd's terminal */
	if (*why) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int jobfile_open_stdio(const char *path, int flags, const struct jobfile_cred *cr, const char **why) {
	int fd = jobfile_open(path, flags, cr, true, why);
	if (fd < 0)
		return fd;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int jobfile_read(const char *path, const struct jobfile_cred *cr, char **data, size_t *len, const char **why) {
	_cleanup_close_ int fd = jobfile_open(path, O_RDONLY, cr, false, why);
	struct buf b = { 0 };

	struct stat st;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size > JOBFILE_DATA_MAX) {
		*why = "larger than 1 MiB";
		return -EFBIG;
	}
	/* room for all of it at once: a secret is not left behind in memory
	 * a growing buffer gave back (unless the file grows meanwhile) */
	buf_reserve(&b, (size_t) st.st_size + 1);
	for (;;) {
		if (b.len > JOBFILE_DATA_MAX) {
			explicit_bzero(b.data, b.len);   /* it may be a secret */
			buf_free(&b);
			*why = "larger than 1 MiB";
			return -EFBIG;
		}
		if (b.cap - b.len < 2)
			buf_reserve(&b, b.cap);
		ssize_t n = read(fd, b.data + b.len, b.cap - b.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			explicit_bzero(b.data, b.len);
			buf_free(&b);
			return -e;
		}
		if (n == 0)
			break;
		b.len += (size_t) n;
	}
	b.data[b.len] = '\0';
	*data = b.data;
	*len = b.len;
	return 0;
}
