/* SPDX-License-Identifier: MIT */
/*
 * network.connections from the cheapest source that is right, in this order:
 *
 *  - "bpf": a BPF program follows every TCP state change of our network namespace
 *    (collect/sockbpf.h). ESTABLISHED, CLOSE_WAIT and LISTEN are a netlink count taken
 *    after it was attached plus the changes since; TIME_WAIT is /proc/net/sockstat "tw"
 *    (every timewait socket) less the timewait sockets still in substate FIN_WAIT2,
 *    which are followed one by one (the program reports their addresses, netlink is asked
 *    about each by address); UDP is sockstat "UDP: inuse" + sockstat6 "UDP6: inuse". A
 *    snapshot costs one map read, one program info call, two small procfs reads and,
 *    only while FIN_WAIT2 timewait sockets exist, one netlink lookup each (batched),
 *    or one walk when that costs less (the cheaper of the two, as last measured).
 *    The netlink count (a walk of the TCP hash table) is taken again every
 *    PW_SOCK_RESYNC_S seconds (600), and at once when a count would go negative or the
 *    program missed a change, so that no error can last;
 *  - "netlink": inet_diag dumps (collect/sockstate.h), when BPF cannot be used (no BTF,
 *    no CAP_BPF/CAP_PERFMON, PW_TEST_NO_SOCK_BPF=1) or a read of it failed;
 *  - "proc": /proc/net/{tcp,tcp6,udp,udp6}, for a --proc-root fixture tree or when
 *    netlink fails too.
 */
#ifndef PW_CONNCOUNT_H
#define PW_CONNCOUNT_H

#include <stdbool.h>
#include <stdint.h>

#include "collect/collector.h"
#include "collect/sockbpf.h"
#include "collect/sockstat.h"
#include "collect/sockstate.h"
#include "snapshot.h"
#include "util/buf.h"

#define PW_NO_SOCK_BPF_ENV "PW_TEST_NO_SOCK_BPF" /* 1: leave the BPF source off (tests) */
#define PW_SOCK_RESYNC_ENV "PW_SOCK_RESYNC_S"    /* seconds between netlink counts (0.1 .. 3600) */
/*
 * Every error the counts can tell (a count going negative, a missed run, a full ring) is
 * corrected at once; the periodic count only bounds what nothing could tell. It walks the
 * whole TCP hash table (262,144 buckets with 24 GB: ~0.7 ms even with no socket), which
 * once a minute was a tenth of the daemon's CPU; every 10 minutes it is 1 %.
 */
#define PW_SOCK_RESYNC_DEFAULT_S 600.0

/* A lookup's cost until one was measured (about 0.7 us of CPU, batched, on kernel 6.18). */
#define PW_FW2_LOOKUP_NS_GUESS 1000

struct pw_conncount {
	int proc_fd;   /* the collector's, not owned */
	bool use_netlink;
	struct pw_sockbpf *bpf; /* NULL: no BPF source */
	char bpf_why[PW_CONN_WHY_MAX];
	char *buf;     /* PW_SOCKSTATE_BUF_SIZE bytes: netlink answers, /proc/net chunks */
	struct pw_buf statbuf;
	struct pw_sockstat_files statfiles; /* net/sockstat{,6}, kept open */
	uint64_t resync_ns;

	/* the BPF source's reference: a netlink count and the BPF totals read around it */
	bool synced;
	uint64_t synced_at_ns;
	struct pw_connections base;
	struct pw_sock_totals at_base;
	struct pw_sock_ids fw2; /* timewait sockets that may still be in FIN_WAIT2 */
	uint64_t walk_ns;       /* CPU time of the last netlink count */
	uint64_t lookup_ns;     /* CPU time per lookup, smoothed */
	uint64_t n_syncs;       /* netlink counts taken for the BPF source (tests, benchmark) */
	int diag_fd;            /* sock_diag socket of the FIN_WAIT2 lookups, -1 until needed */
};

/*
 * Chooses the source: BPF when proc_fd is the real procfs and the program loads. Fails
 * only for lack of memory; cc->bpf_why says why BPF is not used.
 */
int pw_conncount_init(struct pw_conncount *cc, const struct pw_env *env, char *err, size_t errlen);

/*
 * The counts now into *ret, where they came from into *ret_source, and when that is not
 * "bpf" why into why (else why is ""). 0, or a negative errno when no source answered.
 */
int pw_conncount_read(struct pw_conncount *cc, struct pw_connections *ret, enum pw_conn_source *ret_source,
		      char *why, size_t whylen);

void pw_conncount_destroy(struct pw_conncount *cc); /* accepts a zeroed or failed one */

#endif
