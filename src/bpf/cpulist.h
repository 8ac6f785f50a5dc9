/* SPDX-License-Identifier: MIT */
/* CPU lists as sysfs writes them ("0-3,8,10-11\n"), e.g. /sys/devices/system/cpu/online. */
#ifndef PW_CPULIST_H
#define PW_CPULIST_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Marks every CPU of the list in mask[0..n) (cleared first). CPUs >= n are an error
 * (-E2BIG), as is anything that is not a list of numbers and ranges (-EINVAL). A trailing
 * newline is allowed; an empty list is valid. 0 or a negative errno; mask is only
 * meaningful on success.
 */
int pw_cpulist_parse(const char *buf, size_t len, bool *mask, size_t n);

#endif
