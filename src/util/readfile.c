/* SPDX-License-Identifier: MIT */
#include "util/readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/vfs.h>
#include <unistd.h>

/*
 * A procfs read shorter than asked for that leaves room in a page for the longest record
 * ended at EOF: seq_file stops short of the request only at the end or when its buffer
 * (a page or more) cannot take the next record. The records of the files we keep open
 * are lines well under 2 KiB (the single-show files, /proc/stat and meminfo, hand over
 * everything at once); a file that says how long its lines can be (record_max) is known
 * to be whole sooner. It saves the second read per file and cycle that would only
 * return 0, and for a file like vmstat, which computes every counter again for it, more.
 */
#define PW_PROCFS_PAGE 4096u
#define PW_PROCFS_RECORD_MAX 2048u

/*
 * Reads fd from offset 0 to EOF into b (cleared first), NUL-terminated. With pread the
 * file position is left alone, so a kept fd can be read like this again and again.
 */
static long read_all(int fd, bool positional, struct pw_buf *b, size_t max, size_t record_max)
{
	size_t want;
	ssize_t n;

	pw_buf_clear(b);
	for (;;) {
		/* procfs files report size 0: read in chunks until EOF */
		if (pw_buf_reserve(b, b->cap - b->len < 4096 ? 4096 : b->cap - b->len - 1) < 0) {
			pw_buf_clear(b);
			return -ENOMEM;
		}
		want = b->cap - b->len - 1;
		if (positional)
			n = pread(fd, b->data + b->len, want, (off_t)b->len);
		else
			n = read(fd, b->data + b->len, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			pw_buf_clear(b);
			return (long)n;
		}
		if (n == 0)
			break;
		b->len += (size_t)n;
		if (b->len > max) {
			pw_buf_clear(b);
			return -E2BIG;
		}
		if (positional && (size_t)n < want && (size_t)n + record_max <= PW_PROCFS_PAGE)
			break; /* only kept procfs fds are read positionally */
	}
	b->data[b->len] = '\0';
	return (long)b->len;
}

long pw_read_file_at(int dirfd, const char *path, struct pw_buf *b, size_t max)
{
	long r;
	int fd;

	if (!max)
		max = PW_READFILE_MAX;
	pw_buf_clear(b);
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	r = read_all(fd, false, b, max, 0);
	close(fd);
	return r;
}

int pw_read_u64_at(int dirfd, const char *path, unsigned long long *ret)
{
	struct pw_buf b = { 0 };
	unsigned long long v;
	char *end;
	long n;

	n = pw_read_file_at(dirfd, path, &b, 4096);
	if (n < 0) {
		pw_buf_free(&b);
		return (int)n;
	}
	errno = 0;
	v = strtoull(b.data, &end, 10);
	if (errno || end == b.data || (*end && *end != '\n')) {
		pw_buf_free(&b);
		return -EINVAL;
	}
	pw_buf_free(&b);
	*ret = v;
	return 0;
}

void pw_file_close(struct pw_file *f)
{
	if (!f)
		return;
	if (f->kept)
		close(f->fd);
	f->kept = f->fresh = false;
	f->fd = -1;
}

/* Opens path and keeps it when it is a procfs file; else marks f fresh. 0 or -errno. */
static int file_open(struct pw_file *f, int dirfd, const char *path)
{
	struct statfs sfs;
	int fd;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	f->dirfd = dirfd;
	if (fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC) {
		f->fd = fd;
		f->kept = true;
	} else {
		/* a fixture file may be replaced (renamed over) between two reads */
		close(fd);
		f->fresh = true;
	}
	return 0;
}

long pw_file_read(struct pw_file *f, int dirfd, const char *path, struct pw_buf *b, size_t max)
{
	long r;
	int e;

	if (!max)
		max = PW_READFILE_MAX;
	if ((f->kept || f->fresh) && f->dirfd != dirfd)
		pw_file_close(f);
	if (!f->kept && !f->fresh) {
		e = file_open(f, dirfd, path);
		if (e < 0) {
			pw_buf_clear(b);
			return e; /* not there now: tried again next time */
		}
	}
	if (f->fresh)
		return pw_read_file_at(dirfd, path, b, max);
	r = read_all(f->fd, true, b, max,
		     f->record_max && f->record_max < PW_PROCFS_RECORD_MAX ? f->record_max : PW_PROCFS_RECORD_MAX);
	if (r == -ESPIPE) {
		/* a procfs file without pread (nonseekable): read it the old way from now on */
		pw_file_close(f);
		f->dirfd = dirfd;
		f->fresh = true;
		return pw_read_file_at(dirfd, path, b, max);
	}
	if (r < 0 && r != -E2BIG && r != -ENOMEM)
		pw_file_close(f); /* the kept fd went bad: open it afresh next time */
	return r;
}
