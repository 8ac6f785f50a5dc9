/* SPDX-License-Identifier: MIT */
/* Availability of the perf-stat source: the binary, perf_event_paranoid, privileges, PMU. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perf/perf_caps.h"

static char tmp[64];

static void make_tmp(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/pw-perfcaps-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
}

static void rm_tmp(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	cr_expect_eq(system(cmd), 0);
}

static void put(const char *rel, const char *content, mode_t mode)
{
	char path[PATH_MAX], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	/* parent directories */
	for (slash = strchr(path + strlen(tmp) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	if (!content) {
		cr_assert(mkdir(path, 0755) == 0 || errno == EEXIST, "%s", path);
		return;
	}
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(content, f);
	fclose(f);
	cr_assert_eq(chmod(path, mode), 0);
}

static char *at(const char *rel)
{
	static char buf[4][PATH_MAX];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmp, rel);
	return buf[k];
}

TestSuite(perf_caps, .init = make_tmp, .fini = rm_tmp);

Test(perf_caps, binary_from_path)
{
	char got[PATH_MAX], err[256] = "", path_env[3 * PATH_MAX];
	char real_b[PATH_MAX];

	put("a/perf", "not executable\n", 0644);
	put("b/perf", "#!/bin/sh\n", 0755);
	put("c/perf", NULL, 0); /* a directory named perf */
	cr_assert_not_null(realpath(at("b/perf"), real_b));

	/* first usable one wins; non-executable files and directories are skipped */
	snprintf(path_env, sizeof(path_env), "/nonexistent:%s:%s:%s", at("a"), at("c"), at("b"));
	cr_assert_eq(pw_perf_find_binary(NULL, path_env, got, sizeof(got), err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(got, real_b);

	/* relative and empty entries (the current directory) are never searched */
	cr_assert_eq(chdir(at("b")), 0);
	cr_expect_eq(pw_perf_find_binary(NULL, ".::b", got, sizeof(got), err, sizeof(err)), -ENOENT);
	cr_expect_str_eq(err, "perf binary not found");
	cr_assert_eq(chdir("/"), 0);

	cr_expect_eq(pw_perf_find_binary(NULL, at("a"), got, sizeof(got), err, sizeof(err)), -ENOENT);
	cr_expect_str_eq(err, "perf binary not found");

	/* a symlink is resolved to the file it names: that path is exec'd later */
	cr_assert_eq(symlink(at("b/perf"), at("perf-link")), 0);
	cr_assert_eq(pw_perf_find_binary(at("perf-link"), "/nonexistent", got, sizeof(got), err, sizeof(err)), 0);
	cr_expect_str_eq(got, real_b);
}

Test(perf_caps, binary_from_option)
{
	char got[PATH_MAX], err[512] = "", real_b[PATH_MAX];

	put("b/perf-6.1", "#!/bin/sh\n", 0755);
	put("a/perf", "not executable\n", 0644);
	cr_assert_not_null(realpath(at("b/perf-6.1"), real_b));

	cr_assert_eq(pw_perf_find_binary(at("b/perf-6.1"), NULL, got, sizeof(got), err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(got, real_b);
	/* a bare name is looked up in PATH */
	cr_assert_eq(pw_perf_find_binary("perf-6.1", at("b"), got, sizeof(got), err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(got, real_b);

	cr_expect_eq(pw_perf_find_binary(at("a/perf"), NULL, got, sizeof(got), err, sizeof(err)), -EACCES);
	cr_expect(!strncmp(err, "perf binary not found: --perf-binary ", strlen("perf binary not found: --perf-binary ")),
		  "%s", err);
	cr_expect_eq(pw_perf_find_binary(at("nope"), NULL, got, sizeof(got), err, sizeof(err)), -ENOENT);
	cr_expect(strstr(err, "No such file or directory") != NULL, "%s", err);
	cr_expect_eq(pw_perf_find_binary(at("b"), NULL, got, sizeof(got), err, sizeof(err)), -EACCES);

	/* a result that does not fit is refused, not truncated */
	cr_expect_eq(pw_perf_find_binary(at("b/perf-6.1"), NULL, got, 8, err, sizeof(err)), -ENAMETOOLONG);
}

Test(perf_caps, paranoid_from_the_proc_root)
{
	static const struct {
		const char *content;
		int rc, want;
	} cases[] = {
		{ "2\n", 0, 2 }, { "-1\n", 0, -1 }, { "4", 0, 4 }, { "0\n", 0, 0 },
		{ "two\n", -EINVAL, 0 }, { "\n", -EINVAL, 0 }, { "2 3\n", -EINVAL, 0 }, { "99999999999999999999\n", -EINVAL, 0 },
	};
	int fd, v;

	fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert(fd >= 0);
	cr_expect_eq(pw_perf_read_paranoid(fd, &v), -ENOENT); /* no perf events in this kernel */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = 12345;
		put("sys/kernel/perf_event_paranoid", cases[i].content, 0644);
		cr_expect_eq(pw_perf_read_paranoid(fd, &v), cases[i].rc, "case %zu", i);
		cr_expect_eq(v, cases[i].rc ? 12345 : cases[i].want, "case %zu", i);
	}
	close(fd);
}

Test(perf_caps, access_policy)
{
	static const struct {
		bool known;
		int paranoid;
		bool privileged;
		int rc;
	} cases[] = {
		{ true, -1, false, 0 }, { true, 0, false, 0 },          /* anyone may count system-wide */
		{ true, 1, false, -EACCES }, { true, 2, false, -EACCES }, /* CPU-wide needs CAP_PERFMON */
		{ true, 4, false, -EACCES },                              /* Debian's "no one" level */
		{ true, 2, true, 0 }, { true, 4, true, 0 },
		{ false, 0, false, 0 },                                   /* unreadable: as the spec, try */
	};
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		cr_expect_eq(pw_perf_check_access(cases[i].known, cases[i].paranoid, cases[i].privileged, err, sizeof(err)),
			     cases[i].rc, "case %zu", i);
		if (cases[i].rc)
			cr_expect(strstr(err, "perf_event_paranoid is ") && strstr(err, "not privileged"), "%s", err);
	}
}

Test(perf_caps, hardware_pmu_from_the_sys_root)
{
	int fd;

	fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert(fd >= 0);
	cr_expect(pw_perf_has_hw_pmu(fd), "no sysfs: cannot tell, so not 'no PMU'");
	/* this machine: software PMUs and an uncore one with a cpumask, no core PMU */
	put("bus/event_source/devices/software/type", "1\n", 0644);
	put("bus/event_source/devices/tracepoint/type", "2\n", 0644);
	put("bus/event_source/devices/power/cpumask", "0\n", 0644);
	cr_expect(!pw_perf_has_hw_pmu(fd));
	put("bus/event_source/devices/armv8_pmuv3_0/cpus", "0-3\n", 0644);
	cr_expect(pw_perf_has_hw_pmu(fd));
	cr_assert_eq(unlink(at("bus/event_source/devices/armv8_pmuv3_0/cpus")), 0);
	cr_expect(!pw_perf_has_hw_pmu(fd));
	put("bus/event_source/devices/cpu", NULL, 0);
	cr_expect(pw_perf_has_hw_pmu(fd));
	close(fd);
}

Test(perf_caps, privileged_as_this_process)
{
	/* the tests run as root, with a full bounding set, on this machine */
	if (geteuid() != 0 || cap_get_bound(CAP_SYS_ADMIN) <= 0)
		cr_skip_test("needs root with CAP_SYS_ADMIN in the bounding set");
	cr_expect(pw_perf_child_privileged("/usr/bin/perf"));
}

Test(perf_caps, cpu_lists)
{
	static const struct {
		const char *list;
		int want;
	} cases[] = {
		{ "0-1\n", 2 }, { "0", 1 }, { "0-3,8,10-11\n", 7 }, { "0,2,4,6", 4 },
		{ "", -EINVAL }, { "\n", -EINVAL }, { "3-1", -EINVAL }, { "0-", -EINVAL }, { "-1", -EINVAL },
		{ "0,,1", -EINVAL }, { "0,", -EINVAL }, { "a", -EINVAL }, { "0-99999999999", -EINVAL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(pw_perf_parse_cpu_list(cases[i].list, strlen(cases[i].list)), cases[i].want, "%s",
			     cases[i].list);
}
