/* SPDX-License-Identifier: ISC */
/* Users and groups by name or number (see userdb.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "userdb.h"

/* getpwnam(3) says "not found" with errno 0, ENOENT, ESRCH, EBADF or
 * EPERM; anything else is the back-end failing (EIO, ENOMEM, ...). */
static int lookup_error(int e) {
	if (e == 0 || e == ENOENT || e == ESRCH || e == EBADF || e == EPERM)
		return -ESRCH;
	return -e;
}

/* The number NAME spells: decimal digits only, below (id_t) -1. */
static bool parse_id(const char *name, unsigned long *ret) {
	char *end;

	if (!*name || name[strspn(name, "0123456789")])
		return false;
	errno = 0;
	*ret = strtoul(name, &end, 10);
	/* (uid_t) -1 means "no change" to setresuid(): never a user */
	return errno == 0 && *ret < 0xffffffffUL;
}

int userdb_user(const char *name, struct passwd **ret) {
	unsigned long id;
	int r;

	errno = 0;
	if ((*ret = getpwnam(name)))
		return 0;
	r = lookup_error(errno);
	if (r != -ESRCH || !parse_id(name, &id))
		return r;
	errno = 0;
	if ((*ret = getpwuid((uid_t) id)))
		return 0;
	return lookup_error(errno);
}

int userdb_group(const char *name, struct group **ret) {
	unsigned long id;
	int r;

	errno = 0;
	if ((*ret = getgrnam(name)))
		return 0;
	r = lookup_error(errno);
	if (r != -ESRCH || !parse_id(name, &id))
		return r;
	errno = 0;
	if ((*ret = getgrgid((gid_t) id)))
		return 0;
	return lookup_error(errno);
}
