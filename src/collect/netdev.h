/* SPDX-License-Identifier: MIT */
/*
 * /proc/net/dev: per-interface counters, with the meaning psutil 5.9 gives them
 * (net_io_counters(pernic=True)): the 16 columns after the last ':' of a line, of which
 * bytes, packets, errs and drop of each direction are kept.
 */
#ifndef PW_NETDEV_H
#define PW_NETDEV_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

struct pw_netdev_entry {
	char name[PW_IFNAME_MAX]; /* raw bytes as the kernel prints them, NUL-terminated */
	uint64_t bytes_recv, packets_recv, errors_in, drops_in;
	uint64_t bytes_sent, packets_sent, errors_out, drops_out;
};

/* Called once per interface line; a negative return stops parsing and is passed on. */
typedef int (*pw_netdev_cb)(void *ctx, const struct pw_netdev_entry *e);

/*
 * Parses /proc/net/dev text. Lines that are not an interface line (the two headers,
 * garbage, a last line cut short (no newline), a name too long, a number over u64) are skipped.
 * Returns the number of interfaces passed to cb, or cb's negative return.
 */
int pw_netdev_parse(const char *buf, size_t len, pw_netdev_cb cb, void *ctx);

#endif
