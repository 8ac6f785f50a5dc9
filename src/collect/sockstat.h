/* SPDX-License-Identifier: MIT */
/*
 * /proc/net/sockstat and sockstat6: per network namespace socket totals the kernel keeps
 * as counters, so reading them costs the same with 10 sockets or 100,000. PerfWatch takes
 * two numbers from them (checked against netlink and psutil on kernel 6.18):
 *
 *   "UDP: inuse N" + "UDP6: inuse N" (sock_prot_inuse_get()): the UDP sockets in the
 *   kernel's UDP hash tables of this namespace (counted from bind/autobind to close),
 *   which are exactly the lines of /proc/net/udp + udp6 that psutil.net_connections('inet')
 *   reads. UDP-Lite ("UDPLITE:") and raw sockets are counted apart, as psutil leaves
 *   them out too.
 *
 *   "TCP: tw N" (tcp_death_row.tw_refcount - 1): every timewait socket of the namespace,
 *   IPv4 and IPv6, in substate TIME_WAIT and also in FIN_WAIT2 (an orphan whose peer has
 *   not closed yet), which psutil and netlink report as FIN_WAIT2, not TIME_WAIT.
 */
#ifndef PW_SOCKSTAT_H
#define PW_SOCKSTAT_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/readfile.h"

/*
 * Finds the line of sockstat text whose first token is `proto` (e.g. "UDP:") and in it
 * the number after the name `field` (e.g. "inuse"). 0, -ENOENT when either is missing,
 * -EBADMSG for a value that is no number, -ERANGE past UINT64_MAX.
 */
int pw_sockstat_parse(const char *buf, size_t len, const char *proto, const char *field, uint64_t *ret);

struct pw_sockstat {
	uint64_t udp;    /* "UDP: inuse" + "UDP6: inuse" */
	uint64_t tcp_tw; /* "TCP: tw" */
};

/*
 * Reads net/sockstat and net/sockstat6 under proc_fd (sockstat6 missing: a kernel without
 * IPv6, no UDP6 sockets). b is a scratch buffer. 0 or a negative errno.
 */
int pw_sockstat_read(int proc_fd, struct pw_buf *b, struct pw_sockstat *ret);

/* The same through files kept open from one call to the next (util/readfile.h). */
struct pw_sockstat_files {
	struct pw_file sockstat, sockstat6;
};
int pw_sockstat_read_kept(struct pw_sockstat_files *f, int proc_fd, struct pw_buf *b, struct pw_sockstat *ret);
void pw_sockstat_files_close(struct pw_sockstat_files *f); /* accepts a zeroed or closed one */

#endif
