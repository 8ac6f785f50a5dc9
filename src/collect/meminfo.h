/* SPDX-License-Identifier: MIT */
/*
 * /proc/meminfo, and the memory figures psutil 5.9 derives from it on Linux
 * (psutil/_pslinux.py virtual_memory() and swap_memory(), which follow procps "free").
 */
#ifndef PW_MEMINFO_H
#define PW_MEMINFO_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

enum pw_meminfo_field {
	PW_MI_MEM_TOTAL,
	PW_MI_MEM_FREE,
	PW_MI_MEM_AVAILABLE, /* Linux 3.14 */
	PW_MI_BUFFERS,
	PW_MI_CACHED,
	PW_MI_SRECLAIMABLE,  /* 2.6.19 */
	PW_MI_ACTIVE_FILE,   /* 2.6.28 */
	PW_MI_INACTIVE_FILE, /* 2.6.28 */
	PW_MI_SWAP_TOTAL,
	PW_MI_SWAP_FREE,
	PW_MI_HUGEPAGES_TOTAL, /* a count, not kB */
	PW_MI_HUGEPAGES_FREE,
	PW_MI_HUGEPAGES_RSVD,
	PW_MI_HUGEPAGESIZE,
	PW_MI_NUM
};

struct pw_meminfo {
	uint64_t v[PW_MI_NUM]; /* bytes (kB lines times 1024) or counts; 0 when absent */
	uint32_t have;         /* bit (1u << field) set when the line was there */
};

/*
 * Parses the text of /proc/meminfo. Every line must read "Name: <number>[ kB]"; MemTotal
 * (not 0) and MemFree must be there. 0; -EBADMSG (empty, truncated, garbage); -ERANGE
 * (a number, or a kB value in bytes, over UINT64_MAX). err (may be NULL) gets the reason.
 * *ret is filled only on success.
 */
int meminfo_parse(const char *buf, size_t len, struct pw_meminfo *ret, char *err, size_t errlen);

/*
 * Sum of the "low" watermarks of /proc/zoneinfo, in pages: what psutil needs to estimate
 * available memory on kernels older than 3.14 (no MemAvailable). 0 or -EBADMSG.
 */
int zoneinfo_parse_low(const char *buf, size_t len, uint64_t *ret_pages);

/*
 * The memory figures of psutil: cached = Cached + SReclaimable, used = total - free -
 * buffers - cached (total - free when that is negative), available = MemAvailable (or
 * psutil's estimate from *watermark_low_bytes when the kernel has none, NULL when
 * /proc/zoneinfo could not be read; free when it is over total), usage = (total - available) / total, swap used = total - free; hugepages.
 * Leaves the /proc/vmstat rates of m alone.
 */
void meminfo_fill_memory(const struct pw_meminfo *mi, const uint64_t *watermark_low_bytes,
			 struct pw_memory *m);

#endif
