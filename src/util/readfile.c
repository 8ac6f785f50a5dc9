/* SPDX-License-Identifier: MIT */
#include "util/readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

long pw_read_file_at(int dirfd, const char *path, struct pw_buf *b, size_t max)
{
	int fd, err;
	ssize_t n;

	if (!max)
		max = PW_READFILE_MAX;
	pw_buf_clear(b);
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	for (;;) {
		/* procfs files report size 0: read in chunks until EOF */
		if (pw_buf_reserve(b, b->cap - b->len < 4096 ? 4096 : b->cap - b->len - 1) < 0) {
			err = -ENOMEM;
			goto out_close;
		}
		n = read(fd, b->data + b->len, b->cap - b->len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out_close;
		}
		if (n == 0)
			break;
		b->len += (size_t)n;
		if (b->len > max) {
			err = -E2BIG;
			goto out_close;
		}
	}
	b->data[b->len] = '\0';
	close(fd);
	return (long)b->len;
out_close:
	close(fd);
	pw_buf_clear(b);
	return err;
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
