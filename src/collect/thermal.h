/* SPDX-License-Identifier: MIT */
/*
 * CPU temperatures, per core where the sensors expose it, from the places
 * psutil.sensors_temperatures() reads: hwmon (class/hwmon/hwmonN/tempK_input, or under
 * device/ on older kernels), and thermal zones only when there is no hwmon CPU sensor.
 *
 * Which sensors are "the CPU's", in this order (the specification's extract_core_temps):
 *  - coretemp (Intel): the "Core N" inputs, one per physical core, package by package;
 *    the "Package id N" ones only when a package shows no core;
 *  - k10temp / zenpower (AMD, no per-core sensors): the per-CCD "Tccd*" inputs, else all
 *    (Tctl, Tdie);
 *  - any other hwmon whose name says cpu (cpu_thermal on ARM boards): all its inputs;
 *  - else thermal zones whose type is x86_pkg_temp or says cpu.
 * A machine with none of these (a VM) has an empty list.
 */
#ifndef PW_THERMAL_H
#define PW_THERMAL_H

#include <stddef.h>
#include <stdint.h>

struct pw_thermal {
	uint32_t n;
	int *fds; /* the chosen inputs, kept open (see util/sysfs.h) */
};

/* (Re)discovers the sensors under the sys root. 0 (n may be 0) or a negative errno. */
int thermal_open(struct pw_thermal *th, int sys_fd);
void thermal_close(struct pw_thermal *th); /* accepts a zeroed one */

/* Reads the sensors into celsius (room for cap); an unreadable one is left out. */
uint32_t thermal_read(const struct pw_thermal *th, double *celsius, uint32_t cap);

/* Parses a sysfs temperature ("45000\n", "-5000\n": millidegrees Celsius). */
int thermal_parse_millicelsius(const char *buf, size_t len, double *ret_celsius);

#endif
