/* SPDX-License-Identifier: MIT */
/*
 * /proc/diskstats, read the way psutil 5.9 reads it (disk_io_counters(perdisk=True)):
 *   14 fields          Linux 2.6 .. 4.17   major minor name + 11 counters
 *   18 fields          Linux 4.18 .. 5.4   + 4 discard counters
 *   20 fields          Linux 5.5+          + 2 flush counters
 *   (any count >= 18 is read like 18: later kernels only append)
 *    7 fields          a partition on Linux 2.6 .. 2.6.24: reads, sectors, writes, sectors
 * Other shapes (Linux 2.4's 15 fields among them) are skipped.
 * See Documentation/admin-guide/iostats.rst.
 */
#ifndef PW_DISKSTATS_H
#define PW_DISKSTATS_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

#define PW_DISK_SECTOR_SIZE 512 /* diskstats counts 512-byte sectors whatever the device's */

struct pw_diskstats_entry {
	char name[PW_DEVNAME_MAX];
	uint32_t major, minor;
	uint64_t read_count, read_sectors, read_time_ms;
	uint64_t write_count, write_sectors, write_time_ms;
};

typedef int (*pw_diskstats_cb)(void *ctx, const struct pw_diskstats_entry *e);

/*
 * Parses /proc/diskstats text; lines of another shape, a name too long, numbers over u64,
 * a last line cut short are skipped. Returns the number of devices passed to cb, or
 * cb's negative return.
 */
int pw_diskstats_parse(const char *buf, size_t len, pw_diskstats_cb cb, void *ctx);

/* sectors * 512, saturating at UINT64_MAX instead of wrapping (only garbage gets there). */
uint64_t pw_sectors_to_bytes(uint64_t sectors);

#endif
