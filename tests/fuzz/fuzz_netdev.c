/* SPDX-License-Identifier: MIT */
/* libFuzzer: /proc/net/dev text. */
#include <stdint.h>
#include <string.h>

#include "collect/netdev.h"

static int check(void *ctx, const struct pw_netdev_entry *e)
{
	size_t *n = ctx;

	/* a name is never empty, always terminated inside its buffer */
	if (!e->name[0] || strnlen(e->name, sizeof(e->name)) == sizeof(e->name))
		__builtin_trap();
	++*n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = 0;
	int r = pw_netdev_parse((const char *)data, size, check, &n);

	if (r < 0 || (size_t)r != n)
		__builtin_trap();
	return 0;
}
