/* SPDX-License-Identifier: MIT */
/*
 * Current CPU frequencies, as psutil.cpu_freq(percpu=True) lists them: one value per
 * cpufreq policy (sysfs devices/system/cpu/cpufreq/policyN, or cpuN/cpufreq on kernels
 * without policy directories), in numeric order, from scaling_cur_freq (cpuinfo_cur_freq
 * when that is missing); and where the machine has no cpufreq at all (most VMs), the
 * "cpu MHz" lines of /proc/cpuinfo.
 */
#ifndef PW_CPUFREQ_H
#define PW_CPUFREQ_H

#include <stddef.h>
#include <stdint.h>

/* The value files found by cpufreq_open(), kept open (see util/sysfs.h). */
struct pw_cpufreq {
	uint32_t n;
	int *fds; /* one per policy, numeric order */
};

/*
 * (Re)discovers the policies under the sys root. 0 also when the machine has none
 * (n == 0: use /proc/cpuinfo), or a negative errno. Safe to call again (hot-plug).
 */
int cpufreq_open(struct pw_cpufreq *cf, int sys_fd);
void cpufreq_close(struct pw_cpufreq *cf); /* accepts a zeroed one */

/*
 * Reads each policy's current frequency into mhz (room for cap values). A policy whose
 * value cannot be read right now (its CPUs are offline: -EBUSY) is left out. Returns how
 * many values were written.
 */
uint32_t cpufreq_read(const struct pw_cpufreq *cf, double *mhz, uint32_t cap);

/* Parses a cpufreq value file ("2400000\n", kHz) as MHz. 0, -EBADMSG or -ERANGE. */
int cpufreq_parse_khz(const char *buf, size_t len, double *ret_mhz);

/*
 * Parses the "cpu MHz" lines of /proc/cpuinfo (x86; other architectures have none) into
 * mhz, up to cap values, in file order. Returns how many lines there are (may exceed
 * cap: grow and parse again), or -EBADMSG when such a line has no number.
 */
int cpuinfo_parse_mhz(const char *buf, size_t len, double *mhz, uint32_t cap);

#endif
