/* SPDX-License-Identifier: MIT */
/* The thin reader under every parser: a whole procfs/sysfs file into a buffer. */
#ifndef PW_READFILE_H
#define PW_READFILE_H

#include <stdbool.h>
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

/*
 * A file read again every cycle. On procfs it is opened once and re-read with pread()
 * from offset 0 (a seq_file regenerates its text when read from 0): a collector then
 * pays neither the path walk nor the open/close of every cycle. Anywhere else (a fixture
 * tree given with --proc-root) it is opened afresh each time, exactly as
 * pw_read_file_at() does, so a file replaced between two reads is seen. A zeroed struct
 * is a closed one.
 */
struct pw_file {
	int fd;     /* valid while kept */
	int dirfd;  /* what it was opened against: another dirfd reopens it */
	bool kept;  /* fd is open and is re-read with pread */
	bool fresh; /* not keepable (not procfs, or no pread): open it every time */
	/* the longest line the file can hold, set by its reader (0: up to 2 KiB): a read
	 * that leaves room for one more in a page reached the end */
	unsigned record_max;
};

/* pw_read_file_at() through f: the same results, contents and errors. */
long pw_file_read(struct pw_file *f, int dirfd, const char *path, struct pw_buf *b, size_t max);

/* The kept fd (for poll()), or -1 when the file is not kept open. */
static inline int pw_file_fd(const struct pw_file *f) { return f->kept ? f->fd : -1; }

void pw_file_close(struct pw_file *f); /* accepts a zeroed or closed one; it can be read again */

#endif
