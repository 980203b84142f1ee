/* SPDX-License-Identifier: ISC */
/* Users and groups as the configuration names them: a name, or a number
 * (SPEC §8). The same rule when the config is loaded and when each run
 * starts. */
#pragma once

#include <grp.h>
#include <pwd.h>

/* The passwd entry of NAME, or of the uid NAME spells when no user has
 * that name (as chown(1)). Returns 0 with *ret (static storage, valid
 * until the next lookup), -ESRCH for an unknown user, or another -errno
 * when the NSS back-end failed. */
int userdb_user(const char *name, struct passwd **ret);
/* The same for a group. */
int userdb_group(const char *name, struct group **ret);
