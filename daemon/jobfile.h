/* SPDX-License-Identifier: ISC */
/* Opening the files a job names (stdin, stdout, stderr, environment_file)
 * with no more privilege than the job's user has (SPEC §8 "Files", §11).
 *
 * The path is walked one component at a time without following anything
 * by itself. A symbolic link is followed only when root or the job's user
 * owns it. The last component is opened with the job user's uid, gid and
 * groups (setfsuid/setfsgid, undone at once), except when only root could
 * have changed the path: the file and every directory above it owned by
 * root or supd's uid and writable by no one else. A file supd creates
 * belongs to the job's user. Opens never block (O_NONBLOCK; FIFOs,
 * sockets and directories are refused). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Whose rights an open has. as_user false: supd's own (the job runs as
 * supd's uid, or supd is not root). */
struct jobfile_cred {
	bool as_user;
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t n_groups;
};

/* Most bytes supd reads from a file for a job (environment_file, secret). */
#define JOBFILE_DATA_MAX (1024 * 1024)

/* Open PATH (absolute) with flags O_RDONLY, or O_WRONLY with O_CREAT and
 * O_TRUNC or O_APPEND, for a job's stdio: a regular file or a character
 * device, returned in blocking mode. Returns the fd (O_CLOEXEC) or -errno;
 * *why is then a reason that strerror() would not give, or NULL. */
int jobfile_open_stdio(const char *path, int flags, const struct jobfile_cred *cr, const char **why);

/* Read all of the regular file PATH, at most JOBFILE_DATA_MAX bytes, into
 * a new NUL-terminated *data (*len without the NUL). Returns 0 or -errno,
 * with *why as for jobfile_open_stdio(). */
int jobfile_read(const char *path, const struct jobfile_cred *cr, char **data, size_t *len, const char **why);
