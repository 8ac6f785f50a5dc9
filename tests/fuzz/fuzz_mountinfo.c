/* SPDX-License-Identifier: MIT */
/* libFuzzer: /proc/self/mountinfo, /proc/filesystems and /proc/partitions text. */
#include <stdint.h>
#include <string.h>

#include "collect/mountinfo.h"

static int check(void *ctx, const struct pw_mount_entry *e)
{
	const struct pw_fstype_set *set = ctx;

	if (strnlen(e->mountpoint, sizeof(e->mountpoint)) == sizeof(e->mountpoint) ||
	    strnlen(e->device, sizeof(e->device)) == sizeof(e->device) ||
	    strnlen(e->fstype, sizeof(e->fstype)) == sizeof(e->fstype))
		__builtin_trap();
	(void)pw_mount_is_physical(e, set);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pw_fstype_set set;
	const char *buf = (const char *)data;
	char name[32], dec[64];

	/* the same bytes as each of the three files: every parser sees every input */
	pw_filesystems_parse(buf, size, &set);
	if (set.n > PW_FSTYPES_MAX)
		__builtin_trap();
	if (pw_mountinfo_parse(buf, size, check, &set) < 0)
		__builtin_trap();
	(void)pw_partitions_find(buf, size, 8, 1, name, sizeof(name));
	if (pw_mount_decode(buf, size, dec, sizeof(dec)) && strlen(dec) > size)
		__builtin_trap();
	return 0;
}
