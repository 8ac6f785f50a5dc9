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

struct inet_diag_msg;

/* The state numbers of include/net/tcp_states.h, as /proc/net/tcp prints them in hex. */
enum {
	PW_TCP_ESTABLISHED = 1,
	PW_TCP_FIN_WAIT2 = 5,
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

/* The same walk over the messages, handing each socket's fixed part to visit. */
typedef void (*pw_sockdiag_visit_fn)(void *ctx, const struct inet_diag_msg *m);
int pw_sockdiag_parse_visit(const void *buf, size_t len, uint32_t seq, pw_sockdiag_visit_fn visit, void *ctx,
			    bool *done);

/*
 * A TCP socket's address as inet_diag names it (ports and addresses in network byte
 * order; an IPv4 address in src[0]/dst[0]); ifindex: the device it is bound to, or 0.
 * Zero it before filling: ids are compared as bytes.
 */
struct pw_sock_id {
	uint16_t family;
	uint16_t sport, dport;
	uint16_t pad;
	uint32_t ifindex;
	uint32_t src[4], dst[4];
};

/* A growable list of them, at most PW_SOCK_IDS_MAX. */
#define PW_SOCK_IDS_MAX (1u << 20)
struct pw_sock_ids {
	struct pw_sock_id *v;
	uint32_t n, cap;
};

int pw_sock_ids_add(struct pw_sock_ids *ids, const struct pw_sock_id *id); /* 0, -ENOMEM or -E2BIG */
void pw_sock_ids_unique(struct pw_sock_ids *ids); /* sorts, and drops repeats */
void pw_sock_ids_free(struct pw_sock_ids *ids);

/*
 * A timewait socket still in substate FIN_WAIT2 (an orphan whose peer has not sent its
 * FIN): inet_diag reports the substate, and timer 3 only for timewait sockets.
 */
bool pw_sockdiag_is_fw2_timewait(const struct inet_diag_msg *m);
void pw_sock_id_from_diag(const struct inet_diag_msg *m, struct pw_sock_id *ret);

/* What an exact lookup of one socket by its address found. */
enum { PW_LOOKUP_UNKNOWN = 0, PW_LOOKUP_FW2_TIMEWAIT, PW_LOOKUP_OTHER, PW_LOOKUP_GONE };

/*
 * Answers to n lookups sent with sequence numbers seq0 .. seq0 + n - 1: sets state[i]
 * (PW_LOOKUP_*) for each one answered here; "not found" (ENOENT) is PW_LOOKUP_GONE.
 * Returns how many were answered for the first time, or the kernel's negative errno
 * from another error, or -EBADMSG for a malformed message.
 */
int pw_sockdiag_parse_lookups(const void *buf, size_t len, uint32_t seq0, uint32_t n, uint8_t *state);

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
 * TCP counts only, by one dump that also lists the timewait sockets in substate
 * FIN_WAIT2 into *fw2 (emptied first). 0 or a negative errno.
 */
int pw_sockstate_read_netlink_tcp(struct pw_connections *ret, struct pw_sock_ids *fw2, void *buf, size_t buflen);

/* A NETLINK_SOCK_DIAG socket, or a negative errno. */
int pw_sockstate_open_diag(void);

/*
 * Asks the kernel, on the sock_diag socket fd (kept from one call to the next: making one
 * costs more than a few lookups), about each socket of *ids by its address (no table
 * walk: a hash lookup each, many per write) and keeps only those that are still timewait
 * sockets in FIN_WAIT2. On failure the ones not asked about yet stay. 0 or a negative
 * errno.
 */
int pw_sockstate_keep_fw2(int fd, struct pw_sock_ids *ids, void *buf, size_t buflen);

/*
 * Counts from <proc>/net/{tcp,tcp6,udp,udp6}, into *ret; the IPv6 files may be missing
 * (a kernel without IPv6). 0 or a negative errno.
 */
int pw_sockstate_read_proc(int proc_fd, struct pw_connections *ret, char *buf, size_t buflen);

#endif
