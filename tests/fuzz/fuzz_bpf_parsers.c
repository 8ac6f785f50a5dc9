/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the eBPF collector's parsers of sysfs CPU lists, fdinfo text and
 * libbpf's load-failure messages, and the GNU build-id in /sys/kernel/notes.
 * Anything must parse or be refused without reading past the buffer; a parsed CPU list
 * marks only CPUs inside the mask.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/btf_min.h"
#include "bpf/cpulist.h"
#include "bpf/fdinfo.h"
#include "bpf/verifier_log.h"

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly size bytes, so ASan sees any read past the end */
	char *buf = malloc(size ? size : 1);
	char name[32], why[64];
	const char *id;
	bool mask[64];
	uint64_t v;
	size_t n;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (pw_cpulist_parse(buf, size, mask, 64) == 0) {
		for (size_t i = 0; i < size; i++)
			CHECK(buf[i] == ',' || buf[i] == '-' || (buf[i] >= '0' && buf[i] <= '9') ||
			      (buf[i] == '\n' && i == size - 1));
	}
	(void)pw_cpulist_parse(buf, size, mask, 0);
	(void)pw_fdinfo_u64(buf, size, "memlock", &v);
	(void)pw_fdinfo_u64(buf, size, "", &v);
	if (pw_verifier_verdict(buf, size, name, sizeof(name), why, sizeof(why)) == 0)
		CHECK(strlen(name) < sizeof(name) && strlen(why) < sizeof(why));
	if (pw_notes_build_id(buf, size, &id, &n) == 0)
		CHECK(n > 0 && id >= buf && n <= size && id - buf <= (ptrdiff_t)(size - n));
	free(buf);
	return 0;
}
