// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * TCP socket counts by state, followed as they change instead of counted by walking the
 * kernel's hash tables (src/collect/sockbpf.c adds these changes to a netlink count).
 * One raw tracepoint, no tracefs (raw_tp rather than tp_btf, so that libbpf needs no
 * kernel BTF beyond the minimized one embedded in the binary; see perfwatch.bpf.c):
 * sock:inet_sock_set_state fires on every state change
 * of a TCP socket (tcp_set_state(), and inet_sk_set_state() for a child cloned from a
 * listener) with the old and the new state. A socket is born in CLOSE without it and
 * leaves through CLOSE, so enter[s] - leave[s] is the change of the number in state s.
 * A child cloned from a listener reports LISTEN -> SYN_RECV (the clone copied the
 * listener's state): the listener stays, so that is no LISTEN leaving.
 *
 * TIME_WAIT is not a state of full sockets (kernel 6.18: FIN_WAIT2 or CLOSING goes to
 * CLOSE). tcp_time_wait() replaces the socket by an inet_timewait_sock that no tracepoint
 * follows, born in TIME_WAIT, or in FIN_WAIT2 for an orphan whose peer has not closed yet;
 * when the peer's FIN comes, it turns into TIME_WAIT without a trace. Userspace counts
 * them all with /proc/net/sockstat "tw" (a per-namespace counter) and takes away the ones
 * still in FIN_WAIT2, which it asks netlink about one by one: this program reports their
 * addresses (FIN_WAIT2 -> CLOSE before the peer's FIN: SOCK_DONE not set) in a ring buffer.
 *
 * Only TCP sockets of one network namespace (pw_netns_ino, set before load) are counted.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "sockstate_counters.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define PW_AF_INET 2
#define PW_AF_INET6 10

/* Set by userspace before load: the inode number of /proc/self/ns/net. */
const volatile __u32 pw_netns_ino = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_sock_counters);
} sock_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PW_SS_RING_BYTES);
} fw2_ring SEC(".maps");

static __always_inline void report_fw2(const struct sock *sk, struct pw_sock_counters *c)
{
	const struct sock_common *skc = &sk->__sk_common;
	struct pw_fw2_event *e;

	e = bpf_ringbuf_reserve(&fw2_ring, sizeof(*e), 0);
	if (!e) {
		c->fw2_lost++;
		return;
	}
	e->family = BPF_CORE_READ(skc, skc_family);
	/* skc_num is 0 by now (tcp_set_state(CLOSE) put the port); inet_sport stays */
	e->sport = BPF_CORE_READ((const struct inet_sock *)sk, inet_sport);
	e->dport = BPF_CORE_READ(skc, skc_dport);
	e->pad = 0;
	e->bound_dev_if = BPF_CORE_READ(skc, skc_bound_dev_if);
	__builtin_memset(e->saddr, 0, sizeof(e->saddr));
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	if (e->family == PW_AF_INET) {
		e->saddr[0] = BPF_CORE_READ(skc, skc_rcv_saddr);
		e->daddr[0] = BPF_CORE_READ(skc, skc_daddr);
	} else if (bpf_core_field_exists(skc->skc_v6_daddr)) { /* a kernel with IPv6 */
		BPF_CORE_READ_INTO(&e->saddr, skc, skc_v6_rcv_saddr.in6_u.u6_addr32);
		BPF_CORE_READ_INTO(&e->daddr, skc, skc_v6_daddr.in6_u.u6_addr32);
	}
	bpf_ringbuf_submit(e, 0);
	c->fw2_events++;
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(pw_ss_state, const struct sock *sk, const int oldstate, const int newstate)
{
	const struct sock_common *skc = &sk->__sk_common;
	struct pw_sock_counters *c;
	__u16 family = BPF_CORE_READ(skc, skc_family);
	__u32 zero = 0;

	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP || (family != PW_AF_INET && family != PW_AF_INET6) ||
	    BPF_CORE_READ(skc, skc_net.net, ns.inum) != pw_netns_ino)
		return 0;
	c = bpf_map_lookup_elem(&sock_counters, &zero);
	if (!c)
		return 0;
	c->enter[newstate & (PW_SS_STATES - 1)]++;
	if (oldstate == TCP_LISTEN && newstate != TCP_CLOSE)
		c->listen_children++;
	else
		c->leave[oldstate & (PW_SS_STATES - 1)]++;
	if (oldstate == TCP_FIN_WAIT2 && newstate == TCP_CLOSE &&
	    !(BPF_CORE_READ(skc, skc_flags) & (1UL << bpf_core_enum_value(enum sock_flags, SOCK_DONE))))
		report_fw2(sk, c);
	return 0;
}
