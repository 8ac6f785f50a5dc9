/* SPDX-License-Identifier: MIT */
/*
 * Socket counts from the BPF source (collect/conncount.h) against netlink's, in a network
 * namespace of the test's own on the real kernel: known sockets of every counted state,
 * the FIN_WAIT2 timewait sockets that /proc/net/sockstat counts as "tw", thousands of
 * connections opened and closed between two reads, the periodic and the forced netlink
 * count, and the fallback. Also the pure parts: totals, lookups' answers, ids.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "collect/conncount.h"
#include "collect/sockbpf.h"
#include "collect/sockstat.h"
#include "collect/sockstate.h"
#include "nlmsg_buf.h"
#include "sock_kernel.h"

#define FMT "est %lu tw %lu cw %lu listen %lu udp %lu"
#define SHOW(c) \
	(unsigned long)(c)->tcp_established, (unsigned long)(c)->tcp_time_wait, (unsigned long)(c)->tcp_close_wait, \
		(unsigned long)(c)->tcp_listen, (unsigned long)(c)->udp_count

static bool same(const struct pw_connections *a, const struct pw_connections *b)
{
	return a->tcp_established == b->tcp_established && a->tcp_time_wait == b->tcp_time_wait &&
	       a->tcp_close_wait == b->tcp_close_wait && a->tcp_listen == b->tcp_listen &&
	       a->udp_count == b->udp_count;
}

/* ---------------------------------------------------------------- pure parts */

static struct pw_sock_counters cpu_with(int state_in, uint64_t in, int state_out, uint64_t out)
{
	struct pw_sock_counters c;

	memset(&c, 0, sizeof(c));
	c.enter[state_in] = in;
	c.leave[state_out] = out;
	return c;
}

Test(sockbpf, sum_over_cpus)
{
	struct pw_sock_counters cpus[3] = {
		cpu_with(PW_TCP_ESTABLISHED, 10, PW_TCP_ESTABLISHED, 4),
		cpu_with(PW_TCP_LISTEN, 2, PW_TCP_CLOSE_WAIT, 1),
		cpu_with(PW_TCP_CLOSE_WAIT, 3, 7 /* CLOSE: not reported */, 9),
	};
	struct pw_sock_totals t;

	cpus[2].fw2_lost = 2;
	cpus[2].enter[15] = 100; /* a state we do not report */
	pw_sockbpf_sum(cpus, 3, &t);
	cr_expect_eq(t.in[PW_SS_ESTABLISHED], 10);
	cr_expect_eq(t.out[PW_SS_ESTABLISHED], 4);
	cr_expect_eq(t.in[PW_SS_LISTEN], 2);
	cr_expect_eq(t.in[PW_SS_CLOSE_WAIT], 3);
	cr_expect_eq(t.out[PW_SS_CLOSE_WAIT], 1);
	cr_expect_eq(t.events, 10 + 4 + 2 + 3 + 1);
	cr_expect_eq(t.lost, 2);
}

Test(sockbpf, apply)
{
	static const struct {
		uint64_t base, in_at, out_at, in, out;
		int ret;
		uint64_t want;
	} cases[] = {
		{ 5, 0, 0, 0, 0, 0, 5 },
		{ 5, 10, 3, 12, 3, 0, 7 },
		{ 5, 10, 3, 10, 8, 0, 0 },
		{ 5, 10, 3, 10, 9, -ERANGE, 0 },        /* would be -1: count again */
		{ 0, UINT64_MAX - 1, 0, 1, 0, 0, 3 },  /* the totals wrapped */
		{ UINT64_MAX, 0, 0, 1, 0, -ERANGE, 0 }, /* past the top */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pw_connections base = { .tcp_established = cases[i].base, .tcp_listen = 1 };
		struct pw_connections got = { .tcp_time_wait = 77, .udp_count = 88 };
		struct pw_sock_totals at = { 0 }, now = { 0 };

		at.in[PW_SS_ESTABLISHED] = cases[i].in_at;
		at.out[PW_SS_ESTABLISHED] = cases[i].out_at;
		now.in[PW_SS_ESTABLISHED] = cases[i].in;
		now.out[PW_SS_ESTABLISHED] = cases[i].out;
		cr_expect_eq(pw_sockbpf_apply(&base, &at, &now, &got), cases[i].ret, "case %zu", i);
		if (cases[i].ret)
			continue;
		cr_expect_eq(got.tcp_established, cases[i].want, "case %zu", i);
		cr_expect_eq(got.tcp_listen, 1, "case %zu: unchanged listeners", i);
		cr_expect(got.tcp_time_wait == 77 && got.udp_count == 88, "case %zu: other fields left alone", i);
	}
}

Test(sockbpf, midpoint)
{
	struct pw_sock_totals a = { .in = { 10, 0, 4 }, .out = { 2, 0, 0 }, .events = 16, .lost = 1 };
	struct pw_sock_totals b = { .in = { 20, 0, 4 }, .out = { 3, 0, 0 }, .events = 27, .lost = 5 };
	struct pw_sock_totals m;

	pw_sockbpf_midpoint(&a, &b, &m);
	cr_expect_eq(m.in[PW_SS_ESTABLISHED], 15);
	cr_expect_eq(m.out[PW_SS_ESTABLISHED], 2);
	cr_expect_eq(m.in[PW_SS_LISTEN], 4);
	cr_expect_eq(m.lost, 5, "the later lost count: a later change compares against it");
}

Test(sockbpf, event_to_id)
{
	struct pw_fw2_event e = { .family = AF_INET6, .sport = htons(80), .dport = htons(5555), .bound_dev_if = 3 };
	struct pw_sock_id id;

	e.saddr[3] = htonl(1);
	e.daddr[0] = htonl(0x20010db8);
	pw_sockbpf_event_id(&e, &id);
	cr_expect(id.family == AF_INET6 && id.sport == htons(80) && id.dport == htons(5555) && id.ifindex == 3);
	cr_expect(id.src[3] == htonl(1) && id.dst[0] == htonl(0x20010db8) && id.pad == 0);
}

Test(sock_ids, unique)
{
	struct pw_sock_ids ids = { 0 };
	struct pw_sock_id a = { .family = AF_INET, .sport = 1 }, b = { .family = AF_INET, .sport = 2 };

	pw_sock_ids_unique(&ids); /* empty */
	cr_assert_eq(pw_sock_ids_add(&ids, &b), 0);
	cr_assert_eq(pw_sock_ids_add(&ids, &a), 0);
	cr_assert_eq(pw_sock_ids_add(&ids, &b), 0);
	cr_assert_eq(pw_sock_ids_add(&ids, &a), 0);
	cr_assert_eq(pw_sock_ids_add(&ids, &b), 0);
	pw_sock_ids_unique(&ids);
	cr_expect_eq(ids.n, 2);
	cr_expect(ids.v[0].sport != ids.v[1].sport);
	for (int i = 0; i < 200; i++) {
		a.sport = (uint16_t)i;
		cr_assert_eq(pw_sock_ids_add(&ids, &a), 0, "grows");
	}
	pw_sock_ids_unique(&ids);
	cr_expect_eq(ids.n, 200, "ports 0..199, b's port 2 among them");
	pw_sock_ids_free(&ids);
	cr_expect(!ids.v && !ids.n && !ids.cap);
}

/* ---------------------------------------------------------------- lookup answers */

static void put_found(struct msgbuf *m, uint32_t seq, uint8_t state, uint8_t timer)
{
	struct inet_diag_msg d = { .idiag_family = AF_INET, .idiag_state = state, .idiag_timer = timer };

	msgbuf_put(m, SOCK_DIAG_BY_FAMILY, seq, &d, sizeof(d));
}

static void put_error(struct msgbuf *m, uint32_t seq, int error)
{
	struct nlmsgerr e = { .error = error };

	msgbuf_put(m, NLMSG_ERROR, seq, &e, sizeof(e));
}

Test(sockdiag_lookups, answers)
{
	struct msgbuf m = { .len = 0 };
	uint8_t st[4] = { 0 };

	put_found(&m, 10, PW_TCP_FIN_WAIT2, 3); /* a FIN_WAIT2 timewait socket */
	put_found(&m, 11, PW_TCP_TIME_WAIT, 3); /* turned TIME_WAIT */
	put_found(&m, 9, PW_TCP_FIN_WAIT2, 3);  /* not ours (seq below) */
	put_found(&m, 14, PW_TCP_FIN_WAIT2, 3); /* not ours (seq past n) */
	put_error(&m, 12, -ENOENT);             /* gone */
	cr_expect_eq(pw_sockdiag_parse_lookups(m.b, m.len, 10, 4, st), 3);
	cr_expect_eq(st[0], PW_LOOKUP_FW2_TIMEWAIT);
	cr_expect_eq(st[1], PW_LOOKUP_OTHER);
	cr_expect_eq(st[2], PW_LOOKUP_GONE);
	cr_expect_eq(st[3], PW_LOOKUP_UNKNOWN, "not answered yet: read on");

	m.len = 0;
	put_found(&m, 13, PW_TCP_FIN_WAIT2, 2); /* a full FIN_WAIT2 socket (keepalive timer): no timewait one */
	put_found(&m, 13, PW_TCP_FIN_WAIT2, 3); /* the same answer twice counts once */
	cr_expect_eq(pw_sockdiag_parse_lookups(m.b, m.len, 10, 4, st), 1);
	cr_expect_eq(st[3], PW_LOOKUP_FW2_TIMEWAIT, "the last answer wins");
}

Test(sockdiag_lookups, errors_and_malformed)
{
	struct msgbuf m = { .len = 0 };
	uint8_t st[2] = { 0 };

	put_error(&m, 1, -EPERM);
	cr_expect_eq(pw_sockdiag_parse_lookups(m.b, m.len, 1, 2, st), -EPERM);
	m.len = 0;
	put_error(&m, 1, 7);
	cr_expect_eq(pw_sockdiag_parse_lookups(m.b, m.len, 1, 2, st), -EBADMSG, "not an errno");
	m.len = 0;
	put_found(&m, 1, 1, 0);
	cr_expect_eq(pw_sockdiag_parse_lookups(m.b, m.len - 1, 1, 2, st), -EBADMSG, "cut short");
	m.len = 0;
	msgbuf_put(&m, SOCK_DIAG_BY_FAMILY, 1, st, 2);
	cr_expect_eq(pw_sockdiag_parse_lookups(m.b, m.len, 1, 2, st), -EBADMSG, "too short for an inet_diag_msg");
	cr_expect_eq(pw_sockdiag_parse_lookups(m.b, 3, 1, 2, st), 0, "less than a header: nothing");
}

/* ---------------------------------------------------------------- the real kernel */

struct world {
	struct pw_env env;
	struct pw_conncount cc;
	struct pw_connections want;
	struct sockaddr_storage a4, a6, any6;
	socklen_t l4, l6, lany6;
	int l4fd, l6fd, lany6fd;
};

static void raise_fd_limit(rlim_t need)
{
	struct rlimit rl;

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	cr_assert_geq(rl.rlim_cur, need, "too few file descriptors allowed");
}

/* A dual-stack listener on [::]: IPv4 clients reach it with v4-mapped addresses. */
static int listener_any6(struct sockaddr_storage *ret_addr, socklen_t *ret_len)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in6 *mapped = (struct sockaddr_in6 *)ret_addr;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), off = 0;

	cr_assert(fd >= 0);
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(fd, 4096), 0);
	getsockname(fd, (struct sockaddr *)&a, &len);
	/* connect to ::ffff:127.0.0.1 */
	memset(ret_addr, 0, sizeof(*ret_addr));
	mapped->sin6_family = AF_INET6;
	mapped->sin6_port = a.sin6_port;
	mapped->sin6_addr.s6_addr[10] = mapped->sin6_addr.s6_addr[11] = 0xff;
	mapped->sin6_addr.s6_addr[12] = 127;
	mapped->sin6_addr.s6_addr[15] = 1;
	*ret_len = sizeof(*mapped);
	return fd;
}

/* A namespace of our own with listeners, and the BPF source set up in it. */
static void world_init(struct world *w)
{
	char err[256];

	memset(w, 0, sizeof(*w));
	if (unshare(CLONE_NEWNET) < 0)
		cr_skip_test("cannot make a network namespace (%s): needs root or CAP_SYS_ADMIN", strerror(errno));
	lo_up();
	raise_fd_limit(8000);
	w->env.proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	w->env.sys_fd = -1;
	cr_assert(w->env.proc_fd >= 0);
	cr_assert_eq(pw_conncount_init(&w->cc, &w->env, err, sizeof(err)), 0, "%s", err);
	w->want.valid = true;
}

static void world_listen(struct world *w)
{
	w->l4fd = listener(AF_INET, &w->a4, &w->l4);
	cr_assert_geq(w->l4fd, 0);
	w->l6fd = listener(AF_INET6, &w->a6, &w->l6);
	cr_assert_geq(w->l6fd, 0, "IPv6 on lo: %s", strerror(-w->l6fd));
	w->lany6fd = listener_any6(&w->any6, &w->lany6);
	w->want.tcp_listen += 3;
}

static void world_destroy(struct world *w)
{
	pw_conncount_destroy(&w->cc);
	close(w->env.proc_fd);
}

/*
 * Reads the counts until they are what the test made and what netlink says (a close's
 * effects are asynchronous: a moment), then checks all three.
 */
static void expect_counts(struct world *w, const struct pw_connections *want, const char *when)
{
	struct pw_connections got = { 0 }, nl = { 0 };
	enum pw_conn_source src = PW_CONN_SOURCE_NONE;
	char why[PW_CONN_WHY_MAX];

	for (int tries = 0; tries < 300; tries++) {
		cr_assert_eq(pw_conncount_read(&w->cc, &got, &src, why, sizeof(why)), 0);
		cr_assert_eq(pw_sockstate_read_netlink(&nl, w->cc.buf, PW_SOCKSTATE_BUF_SIZE, false), 0);
		if (same(&got, &nl) && (!want || same(&got, want)))
			break;
		sleep_ms(10);
	}
	cr_expect_eq(src, PW_CONN_SOURCE_BPF, "%s: source %d (%s)", when, src, why);
	cr_expect(got.valid, "%s", when);
	cr_expect(same(&got, &nl), "%s: bpf " FMT ", netlink " FMT, when, SHOW(&got), SHOW(&nl));
	if (want)
		cr_expect(same(&got, want), "%s: bpf " FMT ", made " FMT, when, SHOW(&got), SHOW(want));
}

static uint64_t lost(struct world *w)
{
	struct pw_sock_totals t;

	cr_assert_eq(pw_sockbpf_read(w->cc.bpf, &t), 0);
	return t.lost;
}

/* No netlink count since the first, unless the program missed a change (then one is due). */
static void expect_no_resync(struct world *w, const char *when)
{
	if (lost(w))
		return;
	cr_expect_eq(w->cc.n_syncs, 1, "%s: %lu netlink counts, the counts did not come from BPF alone", when,
		     (unsigned long)w->cc.n_syncs);
}

static uint64_t sockstat_tw(struct world *w)
{
	struct pw_sockstat ss;

	cr_assert_eq(pw_sockstat_read(w->env.proc_fd, &w->cc.statbuf, &ss), 0);
	return ss.tcp_tw;
}

#define M_PAIRS 300
#define K_CLOSE_WAIT 6 /* 2 of them over v4-mapped IPv6 */
#define T_TIME_WAIT 7
#define U_UDP 5

Test(conncount_kernel, bpf_counts_what_was_made)
{
	int cw_server[K_CLOSE_WAIT], c, s;
	struct world w;

	world_init(&w);
	cr_assert(w.cc.bpf, "the BPF source did not load: %s", w.cc.bpf_why);
	expect_counts(&w, &w.want, "an empty namespace");
	world_listen(&w);

	for (int i = 0; i < M_PAIRS; i++)
		connect_pair(i % 2 ? w.l4fd : w.l6fd, i % 2 ? &w.a4 : &w.a6, i % 2 ? w.l4 : w.l6, &c, &s);
	w.want.tcp_established += 2 * M_PAIRS;
	for (int i = 0; i < K_CLOSE_WAIT; i++) {
		if (i < 2)
			connect_pair(w.lany6fd, &w.any6, w.lany6, &c, &cw_server[i]);
		else
			connect_pair(w.l4fd, &w.a4, w.l4, &c, &cw_server[i]);
		close_to_fin_wait2_timewait(c); /* the server waits in CLOSE_WAIT */
	}
	w.want.tcp_close_wait += K_CLOSE_WAIT;
	for (int i = 0; i < T_TIME_WAIT; i++) {
		connect_pair(w.l6fd, &w.a6, w.l6, &c, &s);
		close(c);
		sleep_ms(2);
		close(s); /* the client, which closed first, goes to TIME_WAIT */
	}
	w.want.tcp_time_wait += T_TIME_WAIT;
	for (int i = 0; i < U_UDP; i++)
		udp_socket(i % 2 ? AF_INET : AF_INET6);
	w.want.udp_count += U_UDP;
	expect_counts(&w, &w.want, "made");
	cr_expect_eq(sockstat_tw(&w), T_TIME_WAIT + K_CLOSE_WAIT,
		     "sockstat counts the FIN_WAIT2 timewait sockets too: the lookups took them away");
	expect_no_resync(&w, "made");

	/* the servers close too: FIN_WAIT2 timewait sockets turn TIME_WAIT, without a trace */
	for (int i = 0; i < K_CLOSE_WAIT; i++)
		close(cw_server[i]);
	w.want.tcp_close_wait -= K_CLOSE_WAIT;
	w.want.tcp_time_wait += K_CLOSE_WAIT;
	expect_counts(&w, &w.want, "the peers closed");
	cr_expect_eq(w.cc.fw2.n, 0, "no FIN_WAIT2 timewait socket left to follow");
	expect_no_resync(&w, "the peers closed");
	world_destroy(&w);
}

/*
 * Connections of every kind of ending, made and closed between two reads. One in 50
 * leaves a FIN_WAIT2 timewait socket (whose peer closes later): few enough that asking
 * about each costs less than a walk, so the counts come from BPF alone.
 */
static void churn(struct world *w, int n)
{
	struct linger rst = { .l_onoff = 1, .l_linger = 0 };
	int keep[64], n_keep = 0, c, s;

	for (int i = 0; i < n; i++) {
		int kind = i % 50 == 49 ? 7 : i % 7;

		if (kind < 3)
			connect_pair(w->l4fd, &w->a4, w->l4, &c, &s);
		else if (kind < 6)
			connect_pair(w->l6fd, &w->a6, w->l6, &c, &s);
		else
			connect_pair(w->lany6fd, &w->any6, w->lany6, &c, &s);
		switch (kind) {
		case 0: /* client first: the client ends in TIME_WAIT */
		case 3:
			close(c);
			close(s);
			break;
		case 1: /* server first: the accepted socket ends in TIME_WAIT */
		case 4:
			close(s);
			close(c);
			break;
		case 2: /* reset: no TIME_WAIT */
			setsockopt(c, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
			close(c);
			close(s);
			break;
		case 7: /* a FIN_WAIT2 timewait socket whose peer closes later */
			close_to_fin_wait2_timewait(c);
			if (n_keep < 64)
				keep[n_keep++] = s;
			else
				close(s);
			break;
		default: /* half-closed, then closed */
			shutdown(c, SHUT_WR);
			close(s);
			close(c);
			break;
		}
		if (i % 200 == 0) {
			int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			int u = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };

			listen(l, 1); /* a listener on an ephemeral port, gone again */
			close(l);
			bind(u, (struct sockaddr *)&a, sizeof(a));
			close(u);
		}
	}
	for (int i = 0; i < n_keep; i++)
		close(keep[i]);
}

Test(conncount_kernel, churn_between_reads, .timeout = 180)
{
	struct world w;

	world_init(&w);
	cr_assert(w.cc.bpf, "the BPF source did not load: %s", w.cc.bpf_why);
	world_listen(&w);
	expect_counts(&w, &w.want, "listening");
	churn(&w, 3000);
	expect_counts(&w, NULL, "after 3000 connections");
	expect_no_resync(&w, "after 3000 connections");
	churn(&w, 1000);
	close(w.l6fd);
	expect_counts(&w, NULL, "after 1000 more and a listener closed");
	expect_no_resync(&w, "after 1000 more");
	world_destroy(&w);
}

Test(conncount_kernel, periodic_netlink_count)
{
	struct world w;
	int c, s;

	setenv(PW_SOCK_RESYNC_ENV, "0.2", 1);
	world_init(&w);
	cr_assert(w.cc.bpf, "%s", w.cc.bpf_why);
	world_listen(&w);
	expect_counts(&w, &w.want, "first");
	for (int round = 0; round < 3; round++) {
		uint64_t before = w.cc.n_syncs;

		connect_pair(w.l4fd, &w.a4, w.l4, &c, &s);
		w.want.tcp_established += 2;
		sleep_ms(250);
		expect_counts(&w, &w.want, "after the period");
		cr_expect_gt(w.cc.n_syncs, before, "round %d: counted by netlink again", round);
	}
	world_destroy(&w);
}

Test(conncount_kernel, a_count_gone_negative_is_counted_again)
{
	struct world w;

	world_init(&w);
	cr_assert(w.cc.bpf, "%s", w.cc.bpf_why);
	world_listen(&w);
	expect_counts(&w, &w.want, "listening");
	/* as if a change had been missed: the reference knows no listener */
	w.cc.base.tcp_listen = 0;
	close(w.l4fd);
	w.want.tcp_listen--;
	expect_counts(&w, &w.want, "a listener closed");
	cr_expect_eq(w.cc.n_syncs, 2, "the negative count made a netlink count");
	world_destroy(&w);
}

Test(conncount_kernel, many_fin_wait2_timewait_sockets_walk_instead)
{
	struct world w;
	int c, s;

	world_init(&w);
	cr_assert(w.cc.bpf, "%s", w.cc.bpf_why);
	world_listen(&w);
	expect_counts(&w, &w.want, "listening");
	for (int i = 0; i < 50; i++) {
		connect_pair(w.l4fd, &w.a4, w.l4, &c, &s);
		close_to_fin_wait2_timewait(c);
	}
	w.want.tcp_close_wait += 50;
	/* as if lookups were dear: one walk costs less than asking about 50 sockets */
	w.cc.lookup_ns = w.cc.walk_ns;
	expect_counts(&w, &w.want, "50 FIN_WAIT2 timewait sockets");
	cr_expect_gt(w.cc.n_syncs, 1, "a walk instead of lookups (fw2 %u, walk %lu ns, lookup %lu ns)", w.cc.fw2.n, (unsigned long)w.cc.walk_ns, (unsigned long)w.cc.lookup_ns);
	cr_expect_eq(sockstat_tw(&w), 50);
	world_destroy(&w);
}

Test(conncount_kernel, without_bpf_netlink_counts)
{
	struct pw_connections got = { 0 }, nl = { 0 };
	enum pw_conn_source src;
	char why[PW_CONN_WHY_MAX];
	struct world w;
	int c, s;

	setenv(PW_NO_SOCK_BPF_ENV, "1", 1);
	world_init(&w);
	cr_expect(!w.cc.bpf);
	cr_expect(strstr(w.cc.bpf_why, PW_NO_SOCK_BPF_ENV), "%s", w.cc.bpf_why);
	world_listen(&w);
	connect_pair(w.l4fd, &w.a4, w.l4, &c, &s);
	udp_socket(AF_INET);
	cr_assert_eq(pw_conncount_read(&w.cc, &got, &src, why, sizeof(why)), 0);
	cr_assert_eq(pw_sockstate_read_netlink(&nl, w.cc.buf, PW_SOCKSTATE_BUF_SIZE, false), 0);
	cr_expect_eq(src, PW_CONN_SOURCE_NETLINK);
	cr_expect(strstr(why, PW_NO_SOCK_BPF_ENV), "%s", why);
	cr_expect(same(&got, &nl), "fallback " FMT ", netlink " FMT, SHOW(&got), SHOW(&nl));
	cr_expect(got.tcp_listen == 3 && got.tcp_established == 2 && got.udp_count == 1, FMT, SHOW(&got));
	world_destroy(&w);
}

Test(conncount, fixture_tree_is_read_from_its_files)
{
	struct pw_env env = { .proc_fd = open("tests/fixtures/proc/odd-ifnames", O_RDONLY | O_DIRECTORY | O_CLOEXEC),
			      .sys_fd = -1 };
	struct pw_connections got = { 0 };
	struct pw_conncount cc;
	enum pw_conn_source src;
	char why[PW_CONN_WHY_MAX], err[128];

	cr_assert(env.proc_fd >= 0, "run from the repository root");
	cr_assert_eq(pw_conncount_init(&cc, &env, err, sizeof(err)), 0);
	cr_expect(!cc.bpf && !cc.use_netlink);
	cr_assert_eq(pw_conncount_read(&cc, &got, &src, why, sizeof(why)), 0);
	cr_expect_eq(src, PW_CONN_SOURCE_PROC);
	cr_expect(got.tcp_established == 8 && got.tcp_listen == 8 && got.udp_count == 4, FMT, SHOW(&got));
	pw_conncount_destroy(&cc);
	pw_conncount_destroy(&cc); /* twice: nothing left to free */
	close(env.proc_fd);
}
