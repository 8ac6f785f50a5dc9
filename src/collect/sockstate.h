/* SPDX-License-Identifier: MIT */
/*
 * TCP and UDP socket counts, as psutil.net_connections('inet') would count them (tcp4,
 * tcp6, udp4, udp6 of the current network namespace): established, time-wait,
 * close-wait and listening TCP sockets, and every UDP socket.
 *
 * Two sources, both cheap with 100,000 sockets:
 *  - netlink NETLINK_SOCK_DIAG (inet_diag): the kernel walks its hash tables and sends
 *    88 bytes per socket, only for the TCP states we count; no text is formatted;
 *  - /proc/net/{tcp,tcp6,udp,udp6}: the fallback (a fixture tree, or no netlink), read in
 *    fixed-size chunks, only the state column of each line looked at.
 */
#ifndef PW_SOCKSTATE_H
#define PW_SOCKSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

/* The state numbers of include/net/tcp_states.h, as /proc/net/tcp prints them in hex. */
enum {
	PW_TCP_ESTABLISHED = 1,
	PW_TCP_TIME_WAIT = 6,
	PW_TCP_CLOSE_WAIT = 8,
	PW_TCP_LISTEN = 10,
};

/* Adds one socket in `state` to the counts (every state counts for UDP). */
void pw_sockstate_account(struct pw_connections *acc, bool tcp, unsigned state);

/*
 * Counts the socket lines of /proc/net/{tcp,tcp6,udp,udp6} text in buf. Only complete
 * lines are looked at, unless `final` (the text ended there, a last line without '\n'
 * is looked at too). Returns the bytes consumed: a caller reading in chunks keeps the
 * rest and appends the next chunk to it. The header line and malformed lines are skipped.
 */
size_t pw_proc_net_sock_parse(const char *buf, size_t len, bool tcp, bool final, struct pw_connections *acc);

/*
 * Counts a buffer of netlink messages answering an inet_diag dump with sequence number
 * `seq`. Sets *done on NLMSG_DONE. Returns 0, the kernel's negative errno from an
 * NLMSG_ERROR, or -EBADMSG for a malformed message.
 */
int pw_sockdiag_parse(const void *buf, size_t len, uint32_t seq, bool tcp, struct pw_connections *acc,
		      bool *done);

/* Buffer size for the readers below: netlink sends at most 32 KiB per read. */
#define PW_SOCKSTATE_BUF_SIZE (64u * 1024)

/*
 * Counts by inet_diag over netlink, into *ret. TCP of both families comes from one
 * dump (the TCPDIAG_GETSOCK compat request walks the established hash table once, not
 * once per family); per_family (or a kernel that refuses the compat request) asks
 * AF_INET and AF_INET6 apart. 0 or a negative errno.
 */
int pw_sockstate_read_netlink(struct pw_connections *ret, void *buf, size_t buflen, bool per_family);

/*
 * Counts from <proc>/net/{tcp,tcp6,udp,udp6}, into *ret; the IPv6 files may be missing
 * (a kernel without IPv6). 0 or a negative errno.
 */
int pw_sockstate_read_proc(int proc_fd, struct pw_connections *ret, char *buf, size_t buflen);

#endif
