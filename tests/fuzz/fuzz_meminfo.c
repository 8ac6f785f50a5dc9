/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: /proc/meminfo (and /proc/zoneinfo, the same module). Whatever parses
 * must give psutil's figures without wrapping around: used, available, cached within
 * their bounds, usage in [0, 100].
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "collect/meminfo.h"

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct pw_meminfo mi;
	struct pw_memory m;
	uint64_t pages, bytes;
	char err[128];

	if (meminfo_parse(buf, size, &mi, err, sizeof(err)) == 0) {
		/* with and without the old kernels' watermark estimate */
		for (int w = 0; w < 2; w++) {
			bytes = (uint64_t)size * 4096;
			memset(&m, 0, sizeof(m));
			meminfo_fill_memory(&mi, w ? &bytes : NULL, &m);
			CHECK(m.total_bytes > 0);
			CHECK(m.used_bytes <= m.total_bytes);
			CHECK(m.available_bytes <= m.total_bytes || m.available_bytes == m.free_bytes);
			CHECK(m.usage_percent >= 0 && m.usage_percent <= 100);
			CHECK(m.swap_used_bytes <= m.swap_total_bytes);
		}
	} else {
		CHECK(err[0]);
	}
	if (zoneinfo_parse_low(buf, size, &pages) == 0)
		CHECK(pages <= UINT64_MAX);
	return 0;
}
