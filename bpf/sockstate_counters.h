/* SPDX-License-Identifier: MIT */
/*
 * Plain fixed-width data shared by bpf/sockstate.bpf.c and src/collect/sockbpf.c (nothing
 * else). Every counter only ever increases; userspace sums the CPUs and takes differences
 * against the sums it read when it last counted the sockets by netlink.
 * The includer provides the __u8/__u16/__u32/__u64 types (vmlinux.h or <linux/types.h>).
 */
#ifndef PW_SOCKSTATE_COUNTERS_H
#define PW_SOCKSTATE_COUNTERS_H

/* TCP states are 1..12 (include/net/tcp_states.h); the tables are indexed by state & 15. */
#define PW_SS_STATES 16

/* The ring buffer of fw2_event records (a power of two, in bytes). */
#define PW_SS_RING_BYTES (1024 * 1024) /* 18,724 records between two reads */

/*
 * Per CPU (one PERCPU_ARRAY element), written by the one program; only TCP sockets of
 * PerfWatch's own network namespace are counted.
 */
struct pw_sock_counters {
	__u64 enter[PW_SS_STATES]; /* full sockets entering each state */
	__u64 leave[PW_SS_STATES]; /* and leaving it */
	__u64 listen_children;     /* LISTEN -> SYN_RECV: a child cloned from a listener, which stays */
	__u64 fw2_events;          /* fw2_event records written */
	__u64 fw2_lost;            /* fw2_event records the full ring buffer had no room for */
};

/*
 * A full socket that went FIN_WAIT2 -> CLOSE before the peer's FIN came: usually an
 * orphan replaced by a timewait socket in substate FIN_WAIT2 (psutil and netlink report
 * that substate, /proc/net/sockstat "tw" counts it). Its address, for a netlink lookup
 * of what became of it. Ports and addresses in network byte order, as inet_diag wants.
 */
struct pw_fw2_event {
	__u16 family;   /* AF_INET or AF_INET6 */
	__be16 sport;
	__be16 dport;
	__u16 pad;
	__u32 bound_dev_if;
	__u32 saddr[4]; /* AF_INET: saddr[0] */
	__u32 daddr[4];
};

#endif
