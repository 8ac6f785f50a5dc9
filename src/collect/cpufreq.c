/* SPDX-License-Identifier: MIT */
#include "collect/cpufreq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "util/scan.h"
#include "util/sysfs.h"

/* NR_CPUS of the largest kernel config (x86 MAXSMP) */
#define MAX_POLICIES 8192

int cpufreq_parse_khz(const char *buf, size_t len, double *ret_mhz)
{
	const char *p = buf, *end = buf + len;
	uint64_t khz;
	int r;

	r = pw_scan_u64(&p, end, &khz);
	if (r < 0)
		return r;
	if (!pw_at_value_end(p, end))
		return -EBADMSG;
	*ret_mhz = (double)khz / 1000.0;
	return 0;
}

int cpuinfo_parse_mhz(const char *buf, size_t len, double *mhz, uint32_t cap)
{
	const char *p = buf, *end = buf + len;
	uint32_t n = 0;

	for (; p < end; p = pw_next_line(p, end)) {
		const char *q = p + 7;
		double v;

		/* psutil matches the start of the line case-insensitively */
		if (end - p < 7 || strncasecmp(p, "cpu mhz", 7))
			continue;
		q = pw_skip_blanks(q, end);
		/* s390's "cpu MHz dynamic"/"cpu MHz static": not one value per CPU */
		if (q == end || *q != ':')
			continue;
		q++;
		if (pw_scan_udecimal(&q, end, &v) < 0)
			return -EBADMSG;
		if (n == INT32_MAX)
			return -EBADMSG;
		if (n < cap)
			mhz[n] = v;
		n++;
	}
	return (int)n;
}

void cpufreq_close(struct pw_cpufreq *cf)
{
	if (cf)
		pw_close_values(&cf->fds, &cf->n);
}

/* The value file of one policy directory: scaling_cur_freq, else cpuinfo_cur_freq. */
static int open_policy(int sys_fd, const char *dir)
{
	char path[192];
	int fd;

	snprintf(path, sizeof(path), "%s/scaling_cur_freq", dir);
	fd = pw_open_value(sys_fd, path);
	if (fd >= 0)
		return fd;
	/* old RedHat kernels (psutil issue 1071) */
	snprintf(path, sizeof(path), "%s/cpuinfo_cur_freq", dir);
	return pw_open_value(sys_fd, path);
}

int cpufreq_open(struct pw_cpufreq *cf, int sys_fd)
{
	uint32_t *nums = NULL, n = 0, i;
	bool policies = true;
	char dir[128];
	int r;

	cpufreq_close(cf);
	r = pw_list_numbered(sys_fd, "devices/system/cpu/cpufreq", "policy", "", MAX_POLICIES, &nums, &n);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r < 0 || !n) {
		free(nums);
		nums = NULL;
		policies = false;
		r = pw_list_numbered(sys_fd, "devices/system/cpu", "cpu", "", MAX_POLICIES, &nums, &n);
		if (r == -ENOENT)
			return 0;
		if (r < 0)
			return r;
	}
	cf->fds = calloc(n ? n : 1, sizeof(*cf->fds));
	if (!cf->fds) {
		free(nums);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		int fd;

		if (policies)
			snprintf(dir, sizeof(dir), "devices/system/cpu/cpufreq/policy%u", nums[i]);
		else
			snprintf(dir, sizeof(dir), "devices/system/cpu/cpu%u/cpufreq", nums[i]);
		fd = open_policy(sys_fd, dir);
		if (fd >= 0)
			cf->fds[cf->n++] = fd; /* a cpuN without cpufreq: not a policy */
	}
	free(nums);
	return 0;
}

uint32_t cpufreq_read(const struct pw_cpufreq *cf, double *mhz, uint32_t cap)
{
	return pw_read_values(cf->fds, cf->n, cpufreq_parse_khz, mhz, cap);
}
