/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the small CPU value parsers: /proc/cpuinfo "cpu MHz" lines, cpufreq
 * kHz files, hwmon/thermal millidegrees. The count cpuinfo_parse_mhz() returns must not
 * depend on the room it was given, and nothing may be written past that room.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "collect/cpufreq.h"
#include "collect/thermal.h"

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	double mhz[8], small[2], v;
	int n, n2;

	n = cpuinfo_parse_mhz(buf, size, mhz, 8);
	n2 = cpuinfo_parse_mhz(buf, size, small, 2);
	CHECK(n == n2);
	for (int i = 0; i < n && i < 8; i++)
		CHECK(mhz[i] >= 0 && isfinite(mhz[i]));
	if (cpufreq_parse_khz(buf, size, &v) == 0)
		CHECK(v >= 0 && isfinite(v));
	if (thermal_parse_millicelsius(buf, size, &v) == 0)
		CHECK(isfinite(v));
	return 0;
}
