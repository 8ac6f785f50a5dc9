/* SPDX-License-Identifier: MIT */
/* /proc/net/dev parsing, and the network collector over fixture trees. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "collect/collector.h"
#include "collect/netdev.h"
#include "netdisk_fixture.h"

extern const struct collector pw_network_collector;

#define MAX_SEEN 32

struct seen {
	int n;
	struct pw_netdev_entry e[MAX_SEEN];
};

static int remember(void *ctx, const struct pw_netdev_entry *e)
{
	struct seen *s = ctx;

	if (s->n < MAX_SEEN)
		s->e[s->n] = *e;
	s->n++;
	return 0;
}

static const struct pw_netdev_entry *find(const struct seen *s, const char *name)
{
	for (int i = 0; i < s->n && i < MAX_SEEN; i++)
		if (!strcmp(s->e[i].name, name))
			return &s->e[i];
	return NULL;
}

static int parse_fixture(const char *machine, struct seen *s)
{
	struct pw_buf b = { 0 };
	long n = fixture_tree_read(machine, "net/dev", &b);
	int r;

	memset(s, 0, sizeof(*s));
	r = pw_netdev_parse(b.data, (size_t)n, remember, s);
	pw_buf_free(&b);
	return r;
}

#define U64MAX 18446744073709551615ull

/* One interface as psutil.net_io_counters(pernic=True) reports it for that fixture. */
struct expect_if {
	const char *name;
	uint64_t bytes_sent, bytes_recv, packets_sent, packets_recv, errin, errout, dropin, dropout;
};

static const struct {
	const char *machine;
	int count; /* interfaces in the file, lo included */
	struct expect_if want[4];
} cases[] = {
	{ "debian12-vm", 4, {
		{ "eth0", 176949, 226436553, 2353, 4626, 0, 0, 0, 0 },
		{ "lo", 10302, 10302, 57, 57, 0, 0, 0, 0 },
		{ "ifb1", 0, 0, 0, 0, 0, 0, 0, 0 } } },
	{ "odd-ifnames", 10, {
		{ "a@b", 176, 266, 2, 3, 0, 0, 0, 0 },
		{ "br-0.1_x-y", 266, 176, 3, 2, 0, 0, 0, 0 },
		{ "\xc3\xa9th\xff", 0, 0, 0, 0, 0, 0, 0, 0 },  /* not UTF-8: raw bytes kept */
		{ "abcdefghijklmno", 0, 0, 0, 0, 0, 0, 0, 0 } } }, /* IFNAMSIZ - 1 */
	{ "nvme-md-dm-server", 9, {
		{ "enp65s0f0", 1234567890123456ull, U64MAX, 987654321098ull, 9876543210123ull, 17, 2, 4242, 11 },
		{ "bond0.100", 987654321, 1234567890, 9876543, 12345678, 0, 0, 12, 0 },
		{ "br-3f2a9c1d7e5b", 3234567, 2234567, 31234, 21234, 0, 0, 0, 0 },
		{ "wg0", 88888888, 77777777, 55555, 66666, 1, 3, 2, 4 } } },
	{ "kernel-3.10-14-fields", 2, {
		{ "eth0", 2147483647, 4294967295u, 1073741823, 4294967295u, 0, 0, 0, 0 } } },
	{ "nasty-empty", 0, { { 0 } } },
	{ "nasty-garbage", 5, { /* tabs0 twice: the collector keeps the last, see below */
		{ "max0", U64MAX, U64MAX, U64MAX, U64MAX, U64MAX, U64MAX, U64MAX, U64MAX },
		{ "extra0", 9, 1, 10, 2, 3, 11, 4, 12 },
		{ "tabs0", 9, 1, 10, 2, 3, 11, 4, 12 },
		{ "a:b:c", 9, 1, 10, 2, 3, 11, 4, 12 } } }, /* split at the last ':', as psutil */
};

Test(netdev, fixtures_match_psutil)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct seen s;
		int r = parse_fixture(cases[i].machine, &s);

		cr_expect_eq(r, cases[i].count, "%s: %d interfaces, want %d", cases[i].machine, r, cases[i].count);
		for (int k = 0; k < 4 && cases[i].want[k].name; k++) {
			const struct expect_if *w = &cases[i].want[k];
			const struct pw_netdev_entry *e = find(&s, w->name);

			cr_expect(e, "%s: interface %s missing", cases[i].machine, w->name);
			if (!e)
				continue;
			cr_expect_eq(e->bytes_sent, w->bytes_sent, "%s %s bytes_sent", cases[i].machine, w->name);
			cr_expect_eq(e->bytes_recv, w->bytes_recv, "%s %s bytes_recv", cases[i].machine, w->name);
			cr_expect_eq(e->packets_sent, w->packets_sent, "%s %s packets_sent", cases[i].machine, w->name);
			cr_expect_eq(e->packets_recv, w->packets_recv, "%s %s packets_recv", cases[i].machine, w->name);
			cr_expect_eq(e->errors_in, w->errin, "%s %s errin", cases[i].machine, w->name);
			cr_expect_eq(e->errors_out, w->errout, "%s %s errout", cases[i].machine, w->name);
			cr_expect_eq(e->drops_in, w->dropin, "%s %s dropin", cases[i].machine, w->name);
			cr_expect_eq(e->drops_out, w->dropout, "%s %s dropout", cases[i].machine, w->name);
		}
	}
}

/* Lines that must not become interfaces, each on its own. */
Test(netdev, rejected_lines)
{
	static const char *const bad[] = {
		"",
		"Inter-|   Receive                                                |  Transmit\n",
		"  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n",                    /* 15 columns */
		"  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",                   /* no newline: cut */
		"  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 1",                    /* ... mid-number */
		"  eth0: 18446744073709551616 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", /* u64 + 1 */
		"  eth0: +1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
		"  eth0: 0x1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
		"   : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
		"eth0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
		"  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16:\n",                /* last ':' at the end */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct seen s = { 0 };

		cr_expect_eq(pw_netdev_parse(bad[i], strlen(bad[i]), remember, &s), 0, "case %zu parsed: %s", i, bad[i]);
	}
}

Test(netdev, name_limits)
{
	char line[256];
	struct seen s = { 0 };
	int n;

	/* PW_IFNAME_MAX - 1 bytes fit; one more does not */
	n = snprintf(line, sizeof(line), "%.*s: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", PW_IFNAME_MAX - 1,
		     "iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii");
	cr_expect_eq(pw_netdev_parse(line, (size_t)n, remember, &s), 1);
	cr_expect_eq(strlen(s.e[0].name), PW_IFNAME_MAX - 1);
	n = snprintf(line, sizeof(line), "%.*s: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", PW_IFNAME_MAX,
		     "iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii");
	cr_expect_eq(pw_netdev_parse(line, (size_t)n, remember, &s), 0);
}

static int fail_second(void *ctx, const struct pw_netdev_entry *e)
{
	int *calls = ctx;

	(void)e;
	return ++*calls == 2 ? -ENOMEM : 0;
}

Test(netdev, callback_error_stops)
{
	static const char two[] = "a: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\nb: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
				  "c: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n";
	int calls = 0;

	cr_expect_eq(pw_netdev_parse(two, sizeof(two) - 1, fail_second, &calls), -ENOMEM);
	cr_expect_eq(calls, 2);
}

/* ---------------------------------------------------------------- the collector */

struct run {
	void *state;
	struct pw_env env;
	struct snapshot snap;
	char err[PW_ERROR_MAX];
};

static void run_init(struct run *r, const char *machine)
{
	memset(r, 0, sizeof(*r));
	r->state = calloc(1, pw_network_collector.state_size);
	r->env.proc_fd = fixture_tree_fd(machine);
	r->env.sys_fd = fixture_tree_fd(machine);
	snapshot_init(&r->snap);
	cr_assert_eq(pw_network_collector.init(r->state, &r->env, r->err, sizeof(r->err)), 0, "%s", r->err);
}

static void run_on(struct run *r, const char *machine)
{
	close(r->env.proc_fd);
	close(r->env.sys_fd);
	r->env.proc_fd = fixture_tree_fd(machine);
	r->env.sys_fd = fixture_tree_fd(machine);
}

static int run_collect(struct run *r)
{
	return pw_network_collector.collect(r->state, &r->env, &r->snap, r->err, sizeof(r->err));
}

static void run_free(struct run *r)
{
	pw_network_collector.destroy(r->state);
	free(r->state);
	snapshot_free(&r->snap);
	close(r->env.proc_fd);
	close(r->env.sys_fd);
}

static const struct pw_netif *iface(const struct pw_network *n, const char *name)
{
	for (uint32_t i = 0; i < n->n_interfaces; i++)
		if (!strcmp(n->interfaces[i].name, name))
			return &n->interfaces[i];
	return NULL;
}

static bool all_rates_null(const struct pw_netif *f)
{
	return isnan(f->bytes_sent_per_sec) && isnan(f->bytes_recv_per_sec) && isnan(f->packets_sent_per_sec) &&
	       isnan(f->packets_recv_per_sec);
}

Test(network_collector, loopback_left_out_first_rates_null)
{
	struct run r;

	run_init(&r, "nvme-md-dm-server");
	cr_assert_eq(run_collect(&r), 0, "%s", r.err);
	cr_expect(r.snap.network.valid);
	cr_expect_eq(r.snap.network.n_interfaces, 8);
	cr_expect_null(iface(&r.snap.network, "lo"));
	for (uint32_t i = 0; i < r.snap.network.n_interfaces; i++)
		cr_expect(all_rates_null(&r.snap.network.interfaces[i]), "first sample of %s has a rate",
			  r.snap.network.interfaces[i].name);
	run_free(&r);
}

Test(network_collector, counters_backwards_appearing_disappearing)
{
	const struct pw_netif *f;
	struct run r;

	run_init(&r, "counters-backwards-t0");
	cr_assert_eq(run_collect(&r), 0, "%s", r.err);
	cr_expect_eq(r.snap.network.n_interfaces, 4);
	run_on(&r, "counters-backwards-t1");
	cr_assert_eq(run_collect(&r), 0, "%s", r.err);
	cr_expect_eq(r.snap.network.n_interfaces, 4); /* eth1 wrap0 eth0 new0 */
	cr_expect_null(iface(&r.snap.network, "gone0"));
	cr_expect_null(iface(&r.snap.network, "lo"));

	f = iface(&r.snap.network, "eth1"); /* plain traffic, in a new position */
	cr_assert(f);
	cr_expect(f->bytes_recv_per_sec > 0 && f->packets_recv_per_sec > 0);
	cr_expect(f->bytes_sent_per_sec == 0 && f->packets_sent_per_sec == 0);

	f = iface(&r.snap.network, "eth0"); /* receive counters reset */
	cr_assert(f);
	cr_expect(isnan(f->bytes_recv_per_sec) && isnan(f->packets_recv_per_sec));
	cr_expect(f->bytes_sent_per_sec == 0);
	cr_expect_eq(f->bytes_recv, 100);

	f = iface(&r.snap.network, "wrap0"); /* u64 maximum, then small */
	cr_assert(f);
	cr_expect(isnan(f->bytes_recv_per_sec) && isnan(f->packets_recv_per_sec));
	cr_expect(f->bytes_sent_per_sec > 0, "615 bytes up to the u64 maximum");
	cr_expect_eq(f->bytes_sent, U64MAX);

	f = iface(&r.snap.network, "new0");
	cr_assert(f);
	cr_expect(all_rates_null(f), "an interface that just appeared has no rate");
	run_free(&r);
}

Test(network_collector, garbage_name_twice_last_wins)
{
	const struct pw_netif *f;
	struct run r;

	run_init(&r, "nasty-garbage");
	cr_assert_eq(run_collect(&r), 0, "%s", r.err);
	cr_expect_eq(r.snap.network.n_interfaces, 4, "max0 extra0 tabs0 a:b:c");
	cr_expect_str_eq(r.snap.network.interfaces[2].name, "tabs0", "the place of the first");
	f = iface(&r.snap.network, "tabs0");
	cr_assert(f);
	cr_expect_eq(f->bytes_recv, 100, "the values of the last");
	cr_expect_eq(f->bytes_sent, 900);
	/* and the next sample finds its previous one */
	cr_assert_eq(run_collect(&r), 0, "%s", r.err);
	f = iface(&r.snap.network, "tabs0");
	cr_expect(f && f->bytes_recv_per_sec == 0);
	run_free(&r);
}

Test(network_collector, connections_from_fixture_files)
{
	static const struct {
		const char *machine;
		bool valid;
		uint64_t est, tw, cw, listen, udp;
	} want[] = {
		/* psutil.net_connections('inet') counted over the same files (PROCFS_PATH) */
		{ "odd-ifnames", true, 8, 2, 2, 8, 4 },
		{ "debian12-vm", true, 0, 0, 0, 1, 0 },
		{ "kernel-3.10-14-fields", true, 0, 0, 0, 3, 1 }, /* no tcp6/udp6: a kernel without IPv6 */
		{ "nasty-garbage", true, 0, 1, 1, 2, 2 },
		{ "nasty-empty", true, 0, 0, 0, 0, 0 },
		{ "counters-backwards-t0", true, 0, 0, 0, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct run r;
		const struct pw_connections *c;

		run_init(&r, want[i].machine);
		cr_assert_eq(run_collect(&r), 0, "%s: %s", want[i].machine, r.err);
		c = &r.snap.network.connections;
		cr_expect_eq(c->valid, want[i].valid, "%s valid", want[i].machine);
		cr_expect_eq(c->tcp_established, want[i].est, "%s established %lu", want[i].machine, (unsigned long)c->tcp_established);
		cr_expect_eq(c->tcp_time_wait, want[i].tw, "%s time_wait %lu", want[i].machine, (unsigned long)c->tcp_time_wait);
		cr_expect_eq(c->tcp_close_wait, want[i].cw, "%s close_wait %lu", want[i].machine, (unsigned long)c->tcp_close_wait);
		cr_expect_eq(c->tcp_listen, want[i].listen, "%s listen %lu", want[i].machine, (unsigned long)c->tcp_listen);
		cr_expect_eq(c->udp_count, want[i].udp, "%s udp %lu", want[i].machine, (unsigned long)c->udp_count);
		run_free(&r);
	}
}

Test(network_collector, missing_files)
{
	struct run r;

	/* no net/dev: the section fails with the reason */
	run_init(&r, "kernel-4.19-18-fields");
	cr_expect_lt(run_collect(&r), 0);
	cr_expect(strstr(r.err, "net/dev"), "reason: %s", r.err);
	cr_expect(!r.snap.network.valid);
	run_free(&r);
}
