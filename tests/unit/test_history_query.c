/* SPDX-License-Identifier: MIT */
/* The /api/history query string and metric names: tables of good and bad input. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "history/metrics.h"
#include "history/query.h"

#define NOW 1700000000000LL /* ms */

struct good_case {
	const char *qs;
	int64_t from_ms, to_ms;
	uint32_t points;
	const char *metrics[4];
};

Test(history_query, good_queries)
{
	static const struct good_case cases[] = {
		{ "metrics=cpu.usage_percent", NOW - 3600000, NOW, 1000, { "cpu.usage_percent" } },
		{ "from=1699990000&to=1700000000&metrics=cpu.usage_percent,memory.used_bytes&points=10",
		  1699990000000, 1700000000000, 10, { "cpu.usage_percent", "memory.used_bytes" } },
		{ "from=-3600&metrics=cpu.user", NOW - 3600000, NOW, 1000, { "cpu.user" } },
		{ "from=-90m&to=now&metrics=cpu.user", NOW - 5400000, NOW, 1000, { "cpu.user" } },
		{ "from=-24h&to=-1h&metrics=cpu.user", NOW - 86400000, NOW - 3600000, 1000, { "cpu.user" } },
		{ "from=-7d&metrics=cpu.user&points=1", NOW - 604800000, NOW, 1, { "cpu.user" } },
		{ "from=-2w&metrics=cpu.user&points=10000", NOW - 1209600000, NOW, 10000, { "cpu.user" } },
		{ "from=1699999999.5&to=1700000000.25&metrics=cpu.user", 1699999999500, 1700000000250, 1000, { "cpu.user" } },
		{ "from=-1.5h&metrics=cpu.user", NOW - 5400000, NOW, 1000, { "cpu.user" } },
		/* names with dots and slashes: the key is everything up to the last dot */
		{ "metrics=disk.partitions./.usage_percent,disk.partitions./mnt/a.b.used_bytes", NOW - 3600000, NOW, 1000,
		  { "disk.partitions./.usage_percent", "disk.partitions./mnt/a.b.used_bytes" } },
		{ "metrics=disk.partitions.%2Fhome%2Fmy%20files.free_bytes", NOW - 3600000, NOW, 1000,
		  { "disk.partitions./home/my files.free_bytes" } },
		{ "metrics=disk.partitions./srv/a+b.free_bytes", NOW - 3600000, NOW, 1000, { "disk.partitions./srv/a b.free_bytes" } },
		{ "metrics=disk.partitions./x%2Cy.free_bytes", NOW - 3600000, NOW, 1000, { "disk.partitions./x,y.free_bytes" } },
		{ "metrics=network.interfaces.eth0.100.bytes_recv_per_sec", NOW - 3600000, NOW, 1000,
		  { "network.interfaces.eth0.100.bytes_recv_per_sec" } },
		{ "metrics=perf.events.cycles.value,perf.events.L1-dcache-load-misses.value", NOW - 3600000, NOW, 1000,
		  { "perf.events.cycles.value", "perf.events.L1-dcache-load-misses.value" } },
		{ "metrics=cpu.per_core.0,cpu.per_core.15,cpu.frequency_mhz.3,cpu.temperature_celsius.0", NOW - 3600000,
		  NOW, 1000, { "cpu.per_core.0", "cpu.per_core.15", "cpu.frequency_mhz.3", "cpu.temperature_celsius.0" } },
		/* repeated metrics keys add up, duplicates answered once, unknown keys ignored */
		{ "metrics=cpu.user&token=abc&metrics=cpu.user,cpu.system&_=123&&", NOW - 3600000, NOW, 1000,
		  { "cpu.user", "cpu.system" } },
		{ "metrics=self.rss_bytes,network.connections.tcp_established", NOW - 3600000, NOW, 1000,
		  { "self.rss_bytes", "network.connections.tcp_established" } },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct good_case *c = &cases[i];
		struct pwh_query q;
		char err[256] = "";
		uint32_t n = 0;

		cr_assert_eq(pwh_query_parse(c->qs, strlen(c->qs), NOW, &q, err, sizeof(err)), 0, "%s: %s", c->qs, err);
		cr_assert_eq(q.from_ms, c->from_ms, "%s: from %lld", c->qs, (long long)q.from_ms);
		cr_assert_eq(q.to_ms, c->to_ms, "%s: to %lld", c->qs, (long long)q.to_ms);
		cr_assert_eq(q.points, c->points, "%s", c->qs);
		while (n < 4 && c->metrics[n])
			n++;
		cr_assert_eq(q.n_metrics, n, "%s: %u metrics", c->qs, q.n_metrics);
		for (uint32_t m = 0; m < n; m++)
			cr_assert_str_eq(q.metrics[m], c->metrics[m], "%s", c->qs);
		pwh_query_free(&q);
	}
}

struct bad_case {
	const char *qs;
	const char *why; /* a part of the error message */
};

Test(history_query, bad_queries)
{
	static const struct bad_case cases[] = {
		{ "", "metrics: required" },
		{ "from=-1h", "metrics: required" },
		{ "metrics=", "metrics: empty" },
		{ "metrics=cpu.usage_percent,,cpu.user", "empty name" },
		{ "metrics=cpu.usage_percent,", "empty name" },
		{ "metrics=cpu.nope", "unknown metric 'cpu.nope'" },
		{ "metrics=cpu", "unknown metric" },
		{ "metrics=cpu.", "unknown metric" },
		{ "metrics=nosuch.thing", "unknown metric" },
		{ "metrics=cpu.per_core", "unknown metric" },
		{ "metrics=cpu.per_core.x", "unknown metric" },
		{ "metrics=cpu.per_core.01", "unknown metric" },
		{ "metrics=cpu.per_core.123456", "unknown metric" },
		{ "metrics=network.interfaces..bytes_recv", "unknown metric" },
		{ "metrics=network.interfaces.eth0", "unknown metric" },
		{ "metrics=network.interfaces.eth0.nope", "unknown metric" },
		{ "metrics=disk.partitions.usage_percent", "unknown metric" },
		{ "metrics=perf.events.cycles", "unknown metric" },
		{ "metrics=perf.events.nosuch.value", "unknown metric" },
		{ "metrics=perf.events..value", "unknown metric" },
		{ "metrics=memory.used_bytes%", "bad %-escape" },
		{ "metrics=memory.used_bytes%2", "bad %-escape" },
		{ "metrics=memory.used_bytes%zz", "bad %-escape" },
		{ "metrics=memory.used%00_bytes", "bad %-escape" },
		{ "metrics=cpu.user&from=yesterday", "from: 'yesterday' is not a time" },
		{ "metrics=cpu.user&from=", "from: '' is not a time" },
		{ "metrics=cpu.user&to=12abc", "to: '12abc' is not a time" },
		{ "metrics=cpu.user&from=100h", "not a time" }, /* units only on relative times */
		{ "metrics=cpu.user&from=-1y", "not a time" },
		{ "metrics=cpu.user&from=1.2.3", "not a time" },
		{ "metrics=cpu.user&from=--5", "not a time" },
		{ "metrics=cpu.user&from=1e10", "not a time" },
		{ "metrics=cpu.user&from=99999999999999999999", "not a time" },
		{ "metrics=cpu.user&from=-1h&from=-2h", "from given twice" },
		{ "metrics=cpu.user&to=now&to=now", "to given twice" },
		{ "metrics=cpu.user&from=now", "from must be before to" },
		{ "metrics=cpu.user&from=1700000000&to=1600000000", "from must be before to" },
		{ "metrics=cpu.user&from=-100000w", "before 1970" },
		{ "metrics=cpu.user&from=0&to=1000000000", "longer than 20 years" },
		{ "metrics=cpu.user&points=0", "points: '0'" },
		{ "metrics=cpu.user&points=10001", "points: '10001'" },
		{ "metrics=cpu.user&points=-5", "points" },
		{ "metrics=cpu.user&points=ten", "points" },
		{ "metrics=cpu.user&points=", "points" },
		{ "metrics=cpu.user&points=5&points=6", "points given twice" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pwh_query q;
		char err[256] = "";

		cr_assert_eq(pwh_query_parse(cases[i].qs, strlen(cases[i].qs), NOW, &q, err, sizeof(err)), -EINVAL, "%s",
			     cases[i].qs);
		cr_assert(strstr(err, cases[i].why), "'%s': error '%s' does not say '%s'", cases[i].qs, err, cases[i].why);
	}
}

Test(history_query, limits)
{
	char qs[PWH_QUERY_MAX_LEN + 64];
	struct pwh_query q;
	char err[256];
	int n = 0;

	/* 65 distinct metrics */
	n = snprintf(qs, sizeof(qs), "metrics=");
	for (int i = 0; i < 65; i++)
		n += snprintf(qs + n, sizeof(qs) - (size_t)n, "%scpu.per_core.%d", i ? "," : "", i);
	cr_assert_eq(pwh_query_parse(qs, (size_t)n, NOW, &q, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "at most 64"), "%s", err);

	/* 64 metrics x 10000 points is too much work for one answer */
	n = snprintf(qs, sizeof(qs), "points=10000&metrics=");
	for (int i = 0; i < 64; i++)
		n += snprintf(qs + n, sizeof(qs) - (size_t)n, "%scpu.per_core.%d", i ? "," : "", i);
	cr_assert_eq(pwh_query_parse(qs, (size_t)n, NOW, &q, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "too many values"), "%s", err);

	/* a query string longer than the limit */
	memset(qs, 'a', sizeof(qs));
	cr_assert_eq(pwh_query_parse(qs, PWH_QUERY_MAX_LEN + 1, NOW, &q, err, sizeof(err)), -EINVAL);

	/* a name longer than any path */
	n = snprintf(qs, sizeof(qs), "metrics=disk.partitions./");
	memset(qs + n, 'x', 1000);
	n += 1000;
	n += snprintf(qs + n, sizeof(qs) - (size_t)n, ".used_bytes");
	cr_assert_eq(pwh_query_parse(qs, (size_t)n, NOW, &q, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "too long"), "%s", err);

	/* NULL is an empty query */
	cr_assert_eq(pwh_query_parse(NULL, 0, NOW, &q, err, sizeof(err)), -EINVAL);
	/* a query string that is not NUL-terminated is read only to its length */
	static const char unterminated[] = { 'm', 'e', 't', 'r', 'i', 'c', 's', '=', 'c', 'p', 'u', '.', 'u', 's', 'e', 'r', 'X' };
	cr_assert_eq(pwh_query_parse(unterminated, sizeof(unterminated) - 1, NOW, &q, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(q.metrics[0], "cpu.user");
	pwh_query_free(&q);
}

struct visit_check {
	int n;
	int bad;
};

static void check_visited(void *ctx, const char *path, size_t len, enum pwh_kind kind, bool null, uint64_t q)
{
	struct visit_check *vc = ctx;
	enum pwh_kind k2;
	char err[256];

	(void)null;
	(void)q;
	vc->n++;
	if (strlen(path) != len || pwh_metric_check(path, len, &k2, err, sizeof(err)) < 0 || k2 != kind) {
		vc->bad++;
		cr_log_error("the writer emits '%s' (kind %d) that a query cannot name: %s", path, kind, err);
	}
}

/* The writer's walk and the query's check come from the same tables: every emitted path is
 * accepted with the same kind. */
Test(history_query, every_stored_path_can_be_queried)
{
	struct snapshot s;
	struct visit_check vc = { 0 };

	snapshot_init(&s);
	s.cpu.valid = s.memory.valid = s.network.valid = s.disk.valid = true;
	s.network.connections.valid = true;
	pw_array_reserve(&s.cpu.per_core, &s.cpu.cap_per_core, 3, sizeof(double));
	pw_array_reserve(&s.cpu.frequency_mhz, &s.cpu.cap_freq, 3, sizeof(double));
	pw_array_reserve(&s.cpu.temperature_celsius, &s.cpu.cap_temp, 3, sizeof(double));
	s.cpu.n_per_core = s.cpu.n_freq = s.cpu.n_temp = 3;
	pw_array_reserve(&s.network.interfaces, &s.network.cap_interfaces, 2, sizeof(struct pw_netif));
	s.network.n_interfaces = 2;
	snprintf(s.network.interfaces[0].name, PW_IFNAME_MAX, "eth0");
	snprintf(s.network.interfaces[1].name, PW_IFNAME_MAX, "br.lan");
	pw_array_reserve(&s.disk.devices, &s.disk.cap_devices, 1, sizeof(struct pw_blockdev));
	s.disk.n_devices = 1;
	snprintf(s.disk.devices[0].name, PW_DEVNAME_MAX, "nvme0n1");
	pw_array_reserve(&s.disk.partitions, &s.disk.cap_partitions, 2, sizeof(struct pw_partition));
	s.disk.n_partitions = 2;
	snprintf(s.disk.partitions[0].mountpoint, PW_PATH_MAX, "/");
	snprintf(s.disk.partitions[1].mountpoint, PW_PATH_MAX, "/mnt/backup.2024");
	for (int i = 0; i < PW_PERF_NUM_EVENTS; i++)
		s.perf.events[i].counted = true;

	pwh_snapshot_visit(&s, check_visited, &vc);
	cr_assert_eq(vc.bad, 0);
	/* 11 cpu + 9 arrays + 22 memory + 2x12 interfaces + 5 connections + 12 device + 2x4 partitions + 17 perf + 2 self */
	cr_assert_eq(vc.n, 11 + 9 + 22 + 24 + 5 + 12 + 8 + 17 + 2, "%d paths", vc.n);
	snapshot_free(&s);
}
