/* SPDX-License-Identifier: MIT */
/* The thin reader under every parser: a whole procfs/sysfs file into a buffer. */
#ifndef PW_READFILE_H
#define PW_READFILE_H

#include <stddef.h>

#include "util/buf.h"

/* Largest file we read: anything bigger is refused with -E2BIG, never half-parsed. */
#define PW_READFILE_MAX (256u << 20)

/*
 * Reads path (relative to dirfd, or absolute) into b (cleared first). The content is
 * NUL-terminated. Returns the length, -E2BIG when larger than max (0 = PW_READFILE_MAX),
 * or a negative errno.
 */
long pw_read_file_at(int dirfd, const char *path, struct pw_buf *b, size_t max);

/* Reads a small sysfs value ("1234\n") as an unsigned integer. 0 or a negative errno. */
int pw_read_u64_at(int dirfd, const char *path, unsigned long long *ret);

#endif
