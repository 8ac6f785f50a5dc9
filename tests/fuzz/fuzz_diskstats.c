/* SPDX-License-Identifier: MIT */
/* libFuzzer: /proc/diskstats text. */
#include <stdint.h>
#include <string.h>

#include "collect/diskstats.h"

static int check(void *ctx, const struct pw_diskstats_entry *e)
{
	size_t *n = ctx;

	if (!e->name[0] || strnlen(e->name, sizeof(e->name)) == sizeof(e->name))
		__builtin_trap();
	if (pw_sectors_to_bytes(e->read_sectors) < e->read_sectors)
		__builtin_trap();
	++*n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = 0;
	int r = pw_diskstats_parse((const char *)data, size, check, &n);

	if (r < 0 || (size_t)r != n)
		__builtin_trap();
	return 0;
}
