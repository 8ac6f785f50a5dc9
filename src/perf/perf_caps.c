/* SPDX-License-Identifier: MIT */
#include "perf/perf_caps.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/securebits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/readfile.h"

/* A regular file we may execute: realpath() of it into ret. */
static int usable_program(const char *path, char *ret, size_t retlen)
{
	char real[PATH_MAX];
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EACCES;
	if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) < 0)
		return -errno;
	if (!realpath(path, real))
		return -errno;
	if (strlen(real) >= retlen)
		return -ENAMETOOLONG;
	strcpy(ret, real);
	return 0;
}

static int search_path(const char *name, const char *path_env, char *ret, size_t retlen)
{
	char def[256], cand[PATH_MAX];
	const char *p, *end;
	int rc = -ENOENT;

	if (!path_env || !*path_env) {
		/* what execvp() uses without PATH */
		if (confstr(_CS_PATH, def, sizeof(def)) == 0 || def[0] == '\0')
			snprintf(def, sizeof(def), "/bin:/usr/bin");
		path_env = def;
	}
	for (p = path_env; *p; p = *end ? end + 1 : end) {
		size_t n;

		end = strchrnul(p, ':');
		n = (size_t)(end - p);
		/* "" and relative entries mean the current directory: never for a daemon */
		if (n == 0 || p[0] != '/')
			continue;
		if (n + 1 + strlen(name) >= sizeof(cand))
			continue;
		memcpy(cand, p, n);
		cand[n] = '/';
		strcpy(cand + n + 1, name);
		rc = usable_program(cand, ret, retlen);
		if (rc == 0)
			return 0;
	}
	return -ENOENT;
}

int pw_perf_find_binary(const char *opt_path, const char *path_env, char *ret, size_t retlen, char *err,
			size_t errlen)
{
	char found[PATH_MAX];
	int rc;

	if (opt_path && *opt_path) {
		if (strchr(opt_path, '/'))
			rc = usable_program(opt_path, found, sizeof(found));
		else
			rc = search_path(opt_path, path_env, found, sizeof(found));
		if (rc < 0) {
			snprintf(err, errlen, "perf binary not found: --perf-binary %s: %s", opt_path, strerror(-rc));
			return rc;
		}
	} else {
		rc = search_path("perf", path_env, found, sizeof(found));
		if (rc < 0) {
			snprintf(err, errlen, "perf binary not found");
			return rc;
		}
	}
	if (strlen(found) >= retlen) {
		snprintf(err, errlen, "perf binary path too long");
		return -ENAMETOOLONG;
	}
	strcpy(ret, found);
	return 0;
}

int pw_perf_read_paranoid(int proc_fd, int *ret)
{
	struct pw_buf b = { 0 };
	char *end;
	long v;
	long n;

	n = pw_read_file_at(proc_fd, "sys/kernel/perf_event_paranoid", &b, 64);
	if (n < 0) {
		pw_buf_free(&b);
		return (int)n;
	}
	errno = 0;
	v = strtol(b.data ? b.data : "", &end, 10);
	if (errno || !b.data || end == b.data || (*end && *end != '\n') || v < INT_MIN || v > INT_MAX) {
		pw_buf_free(&b);
		return -EINVAL;
	}
	pw_buf_free(&b);
	*ret = (int)v;
	return 0;
}

static bool file_grants(const char *path, cap_value_t c)
{
	cap_flag_value_t v = CAP_CLEAR;
	cap_t caps;

	if (!path || prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1)
		return false; /* no_new_privs: file capabilities are not applied on exec */
	caps = cap_get_file(path);
	if (!caps)
		return false;
	if (cap_get_flag(caps, c, CAP_PERMITTED, &v) < 0)
		v = CAP_CLEAR;
	cap_free(caps);
	return v == CAP_SET && cap_get_bound(c) > 0;
}

bool pw_perf_child_privileged(const char *perf_path)
{
	static const cap_value_t wanted[] = { CAP_PERFMON, CAP_SYS_ADMIN };
	int secbits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	bool root = (getuid() == 0 || geteuid() == 0) && !(secbits > 0 && (secbits & SECBIT_NOROOT));

	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
		cap_value_t c = wanted[i];

		if (!CAP_IS_SUPPORTED(c))
			continue; /* CAP_PERFMON before Linux 5.8 */
		/* root: exec gives perf every capability of the bounding set */
		if (root && cap_get_bound(c) > 0)
			return true;
		/* anyone: ambient capabilities survive exec of an ordinary file */
		if (cap_get_ambient(c) > 0)
			return true;
		if (file_grants(perf_path, c))
			return true;
	}
	return false;
}

int pw_perf_check_access(bool paranoid_known, int paranoid, bool privileged, char *err, size_t errlen)
{
	if (!paranoid_known || paranoid <= 0 || privileged)
		return 0;
	snprintf(err, errlen,
		 "perf_event_paranoid is %d (> 0) and not privileged (perf would run without root, "
		 "CAP_PERFMON or CAP_SYS_ADMIN): system-wide counting is not allowed",
		 paranoid);
	return -EACCES;
}

bool pw_perf_has_hw_pmu(int sys_fd)
{
	static const char *const core_pmus[] = { "cpu", "cpu_core", "cpu_atom" };
	struct dirent *de;
	bool found = false;
	DIR *d;
	int fd;

	fd = openat(sys_fd, "bus/event_source/devices", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return true; /* cannot tell: do not claim there is none */
	for (size_t i = 0; i < sizeof(core_pmus) / sizeof(core_pmus[0]) && !found; i++)
		found = faccessat(fd, core_pmus[i], F_OK, 0) == 0;
	if (found) {
		close(fd);
		return true;
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return true;
	}
	while (!found && (de = readdir(d))) {
		char p[NAME_MAX + 8];

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/cpus", de->d_name);
		found = faccessat(dirfd(d), p, F_OK, 0) == 0;
	}
	closedir(d);
	return found;
}

int pw_perf_parse_cpu_list(const char *buf, size_t len)
{
	unsigned long total = 0;
	size_t i = 0;

	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\0'))
		len--;
	if (!len)
		return -EINVAL;
	while (i < len) {
		unsigned long lo = 0, hi;
		size_t start = i;

		for (; i < len && buf[i] >= '0' && buf[i] <= '9' && lo <= 1u << 22; i++)
			lo = lo * 10 + (unsigned long)(buf[i] - '0');
		if (i == start || lo > 1u << 22)
			return -EINVAL;
		hi = lo;
		if (i < len && buf[i] == '-') {
			hi = 0;
			start = ++i;
			for (; i < len && buf[i] >= '0' && buf[i] <= '9' && hi <= 1u << 22; i++)
				hi = hi * 10 + (unsigned long)(buf[i] - '0');
			if (i == start || hi > 1u << 22 || hi < lo)
				return -EINVAL;
		}
		total += hi - lo + 1;
		if (i < len) {
			if (buf[i] != ',' || i + 1 == len)
				return -EINVAL;
			i++;
		}
	}
	return total > INT_MAX ? -EINVAL : (int)total;
}

int pw_perf_online_cpus(int sys_fd)
{
	struct pw_buf b = { 0 };
	long n;
	int rc;

	n = pw_read_file_at(sys_fd, "devices/system/cpu/online", &b, 64 * 1024);
	rc = n < 0 ? (int)n : pw_perf_parse_cpu_list(b.data, (size_t)n);
	pw_buf_free(&b);
	return rc;
}
