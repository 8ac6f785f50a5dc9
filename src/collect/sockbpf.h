/* SPDX-License-Identifier: MIT */
/*
 * TCP socket counts kept up to date by BPF (bpf/sockstate.bpf.c): a program that sees
 * every state change of a TCP socket of our network namespace. It only counts; its
 * totals, added to a netlink count taken after it was attached, are the counts of
 * ESTABLISHED, CLOSE_WAIT and LISTEN sockets now, at the cost of one map read instead of
 * a walk of the kernel's TCP hash tables. It also reports the addresses of sockets that
 * may have left a timewait socket in substate FIN_WAIT2 behind (see conncount.c).
 */
#ifndef PW_SOCKBPF_H
#define PW_SOCKBPF_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collect/sockstate.h"
#include "snapshot.h"
#include "../../bpf/sockstate_counters.h"

/* The full-socket states PerfWatch reports, as indexes of the totals. */
enum { PW_SS_ESTABLISHED = 0, PW_SS_CLOSE_WAIT, PW_SS_LISTEN, PW_SS_N };

/* What the programs have counted since they were attached (summed over CPUs). */
struct pw_sock_totals {
	uint64_t in[PW_SS_N];  /* sockets that came into each state */
	uint64_t out[PW_SS_N]; /* that left it */
	uint64_t events;       /* the sum of in and out: did anything happen? */
	uint64_t lost;         /* changes missed (a program run skipped, a full ring): count again */
};

/* Sums the per-CPU values (ncpus of them, one after the other) into *ret. */
void pw_sockbpf_sum(const struct pw_sock_counters *percpu, size_t ncpus, struct pw_sock_totals *ret);

/*
 * The counts now: base (a netlink count) plus what changed between the totals `at` (read
 * around that count) and `now`, for tcp_established, tcp_close_wait and tcp_listen (the
 * other fields of *ret are left alone). -ERANGE when a count would be negative (base or
 * totals are off: count again).
 */
int pw_sockbpf_apply(const struct pw_connections *base, const struct pw_sock_totals *at,
		     const struct pw_sock_totals *now, struct pw_connections *ret);

/* The totals halfway between a and b (for a count that changes were racing with). */
void pw_sockbpf_midpoint(const struct pw_sock_totals *a, const struct pw_sock_totals *b,
			 struct pw_sock_totals *ret);

struct pw_sockbpf;

/*
 * Loads and attaches the program, counting the namespace whose /proc/self/ns/net inode
 * is netns_ino. On failure, why says why (no BTF, no such tracepoint, no CAP_BPF and
 * CAP_PERFMON, ...) and nothing stays loaded. 0 or a negative errno.
 */
int pw_sockbpf_open(struct pw_sockbpf **ret, uint32_t netns_ino, char *why, size_t whylen);

/* Reads the totals: one map read and one program info call. 0 or a negative errno. */
int pw_sockbpf_read(struct pw_sockbpf *sb, struct pw_sock_totals *ret);

/*
 * Appends the addresses reported since the last call (sockets that went FIN_WAIT2 ->
 * CLOSE before the peer's FIN) to *ids. Reads shared memory only, no system call.
 * 0, or -ENOMEM / -E2BIG (then some were dropped: count again).
 */
int pw_sockbpf_take_fw2(struct pw_sockbpf *sb, struct pw_sock_ids *ids);

/* The ring record as a socket id (pure; for tests). */
void pw_sockbpf_event_id(const struct pw_fw2_event *e, struct pw_sock_id *ret);

/* The programs' run-time stats (the benchmark's ns per state change). */
struct pw_sockbpf_prog_stats {
	char name[32];
	uint64_t run_cnt, run_time_ns, recursion_misses;
};

/* Fills up to max entries; returns how many programs are attached (one). */
size_t pw_sockbpf_prog_stats(const struct pw_sockbpf *sb, struct pw_sockbpf_prog_stats *ret, size_t max);

/* Detaches and unloads; accepts NULL. */
void pw_sockbpf_close(struct pw_sockbpf *sb);

#endif
