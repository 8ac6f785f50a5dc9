/* SPDX-License-Identifier: MIT */
#include "util/sysfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot.h"

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* N of name = prefix N suffix; -1 when name has another shape */
static int64_t entry_number(const char *name, const char *prefix, const char *suffix)
{
	size_t lp = strlen(prefix), ls = strlen(suffix), ln = strlen(name), i;
	uint64_t v = 0;

	if (ln <= lp + ls || strncmp(name, prefix, lp) || strcmp(name + ln - ls, suffix))
		return -1;
	for (i = lp; i < ln - ls; i++) {
		if (name[i] < '0' || name[i] > '9' || v > UINT32_MAX / 10)
			return -1;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	return v > UINT32_MAX ? -1 : (int64_t)v;
}

int pw_list_numbered(int dirfd, const char *path, const char *prefix, const char *suffix, uint32_t max,
		     uint32_t **ret_nums, uint32_t *ret_n)
{
	uint32_t *nums = NULL, n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int fd, err;

	fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		err = -errno;
		close(fd);
		return err;
	}
	while ((de = readdir(d))) {
		int64_t num = entry_number(de->d_name, prefix, suffix);

		if (num < 0 || n >= max)
			continue;
		if (pw_array_reserve(&nums, &cap, n + 1, sizeof(*nums)) < 0) {
			err = -ENOMEM;
			goto out_free;
		}
		nums[n++] = (uint32_t)num;
	}
	closedir(d);
	if (n)
		qsort(nums, n, sizeof(*nums), cmp_u32);
	*ret_nums = nums;
	*ret_n = n;
	return 0;
out_free:
	free(nums);
	closedir(d);
	return err;
}

ssize_t pw_pread_value(int fd, char *buf, size_t size)
{
	ssize_t n;

	if (size < 2)
		return -EINVAL;
	do
		n = pread(fd, buf, size - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

int pw_open_value(int dirfd, const char *path)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	return fd < 0 ? -errno : fd;
}

void pw_close_values(int **fds, uint32_t *n)
{
	for (uint32_t i = 0; i < *n; i++)
		if ((*fds)[i] >= 0)
			close((*fds)[i]);
	free(*fds);
	*fds = NULL;
	*n = 0;
}

uint32_t pw_read_values(const int *fds, uint32_t n, int (*parse)(const char *buf, size_t len, double *ret),
			double *out, uint32_t cap)
{
	uint32_t i, got = 0;
	char buf[32];

	for (i = 0; i < n && got < cap; i++) {
		ssize_t len = pw_pread_value(fds[i], buf, sizeof(buf));

		if (len > 0 && parse(buf, (size_t)len, &out[got]) == 0)
			got++;
	}
	return got;
}
