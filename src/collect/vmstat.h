/* SPDX-License-Identifier: MIT */
/* /proc/vmstat: the paging counters behind the memory section's rates. */
#ifndef PW_VMSTAT_H
#define PW_VMSTAT_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

enum pw_vmstat_field {
	PW_VM_PGPGIN,  /* KiB read from block devices since boot */
	PW_VM_PGPGOUT, /* KiB written */
	PW_VM_PSWPIN,  /* pages swapped in */
	PW_VM_PSWPOUT,
	PW_VM_PGFAULT,
	PW_VM_PGMAJFAULT,
	PW_VM_NUM
};

struct pw_vmstat {
	uint64_t v[PW_VM_NUM];
	uint32_t have; /* bit (1u << field): the kernel prints it (not without VM event counters) */
};

/*
 * Parses the text of /proc/vmstat: every line must read "name <number>". 0; -EBADMSG
 * (empty, truncated, garbage); -ERANGE (a number over UINT64_MAX). err (may be NULL)
 * gets the reason. *ret is filled only on success.
 */
int vmstat_parse(const char *buf, size_t len, struct pw_vmstat *ret, char *err, size_t errlen);

/*
 * The rates of the memory section from two samples dt_s seconds apart (prev NULL on the
 * first one): each null when there is no previous sample, the counter is missing from
 * either, or it went backwards. page_io = (pgpgin + pgpgout) * 1024 bytes/s,
 * swap_io = (pswpin + pswpout) * page_size bytes/s.
 */
void vmstat_fill_memory(const struct pw_vmstat *prev, const struct pw_vmstat *cur, double dt_s,
			uint64_t page_size, struct pw_memory *m);

#endif
