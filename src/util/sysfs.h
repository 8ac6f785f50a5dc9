/* SPDX-License-Identifier: MIT */
/*
 * Helpers for sysfs trees of numbered entries (cpufreq/policyN, hwmon/hwmonN/tempN_input,
 * thermal/thermal_zoneN) and for small values read again and again through an fd kept
 * open: on sysfs, open+close costs several times the read itself, and a per-CPU file on a
 * 96-CPU machine would pay it 96 times a snapshot. A pread at offset 0 makes the kernel
 * format the value afresh (seq_file restarts at position 0).
 */
#ifndef PW_SYSFS_H
#define PW_SYSFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The numbers N of the entries of directory path (relative to dirfd) named
 * prefix N suffix, N decimal, sorted ascending, at most max of them. *ret_nums is
 * malloc'd (free it); -ENOENT when the directory does not exist, or a negative errno.
 */
int pw_list_numbered(int dirfd, const char *path, const char *prefix, const char *suffix, uint32_t max,
		     uint32_t **ret_nums, uint32_t *ret_n);

/* Reads a small value through a kept fd into buf (NUL-terminated); the length or -errno. */
ssize_t pw_pread_value(int fd, char *buf, size_t size);

/* Opens path relative to dirfd read-only; the fd or -errno. */
int pw_open_value(int dirfd, const char *path);

/* Closes n kept value fds (negative ones are not open) and frees the array: *fds = NULL, *n = 0. */
void pw_close_values(int **fds, uint32_t *n);

/*
 * Reads each of n kept value fds and parses it into out (room for cap values); a value
 * that cannot be read or parsed right now is left out. Returns how many were written.
 */
uint32_t pw_read_values(const int *fds, uint32_t n, int (*parse)(const char *buf, size_t len, double *ret),
			double *out, uint32_t cap);

#endif
