/* SPDX-License-Identifier: MIT */
/*
 * Can `perf stat -a` run here? The metrics specification's availability check, made
 * exact: the perf binary is found (and resolved once, at start, to the absolute path that
 * is exec'd later), and the kernel lets the perf we exec count system-wide.
 *
 * The kernel allows CPU-wide counting (what -a opens) when perf_event_paranoid <= 0 or
 * the caller has CAP_PERFMON (or CAP_SYS_ADMIN). What matters is the capabilities the
 * exec'd perf will have, not ours: root keeps its bounding set across exec; anyone else
 * keeps only ambient capabilities, or gets what file capabilities on perf grant.
 */
#ifndef PW_PERF_CAPS_H
#define PW_PERF_CAPS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The perf program: opt_path (--perf-binary) when given, else the first executable "perf"
 * in the absolute directories of path_env (NULL or empty: the system's default path).
 * An option without a '/' is looked up in path_env too. Fills ret with the canonical
 * absolute path. -ENOENT (or another negative errno) with "perf binary not found..." in err.
 */
int pw_perf_find_binary(const char *opt_path, const char *path_env, char *ret, size_t retlen, char *err,
			size_t errlen);

/* kernel.perf_event_paranoid read through the proc root. 0 or a negative errno. */
int pw_perf_read_paranoid(int proc_fd, int *ret);

/* Whether perf, exec'd by this process, will hold CAP_PERFMON or CAP_SYS_ADMIN. */
bool pw_perf_child_privileged(const char *perf_path);

/*
 * The policy itself: 0 when system-wide counting is allowed, else -EACCES with the reason
 * in err. paranoid_known false (the sysctl could not be read): allowed, as the spec says.
 */
int pw_perf_check_access(bool paranoid_known, int paranoid, bool privileged, char *err, size_t errlen);

/*
 * Whether the machine has a CPU PMU (hardware counters) at all, read through the sys
 * root: bus/event_source/devices/cpu (x86), cpu_core/cpu_atom (hybrid), or any PMU
 * with a "cpus" file (arm64 and other core PMUs). Unknown (no sysfs): true.
 */
bool pw_perf_has_hw_pmu(int sys_fd);

/* The number of CPUs in a kernel CPU list ("0-3,8,10-11\n"): > 0, or -EINVAL. */
int pw_perf_parse_cpu_list(const char *buf, size_t len);

/*
 * CPUs online now (devices/system/cpu/online through the sys root): the CPUs a starting
 * `perf stat -a` counts on. > 0, or a negative errno.
 */
int pw_perf_online_cpus(int sys_fd);

#endif
