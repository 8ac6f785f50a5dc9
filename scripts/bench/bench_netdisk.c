/* SPDX-License-Identifier: MIT */
/*
 * What the network and disk collectors cost, measured (never asserted in a test):
 *
 *   bench_netdisk sockets ROUNDS          socket counts by netlink and by /proc/net, per call
 *   bench_netdisk netlink ROUNDS          the same, netlink only
 *   bench_netdisk collect ROUNDS          one network + one disk collection of this machine
 *   bench_netdisk network ROUNDS          the network collector alone, as configured
 *                                          (PW_TEST_NO_SOCK_BPF=1: the netlink source)
 *   bench_netdisk bpf-cost CONNECTIONS    the BPF program's cost per TCP state change, from
 *                                          BPF run-time stats, over that many loopback
 *                                          connections made and closed in this namespace
 *
 * Prints the median, the 90th percentile and the mean of wall and CPU time per call, in
 * µs, and the counts found (so a run on many sockets shows what it counted).
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collect/collector.h"
#include "collect/sockbpf.h"
#include "collect/sockstate.h"
#include "util/timeutil.h"

extern const struct collector pw_network_collector;
extern const struct collector pw_disk_collector;

struct sample {
	uint64_t wall_ns, cpu_ns;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, struct sample *s, int n)
{
	uint64_t *wall = calloc((size_t)n, sizeof(*wall)), *cpu = calloc((size_t)n, sizeof(*cpu));
	double cpu_sum = 0;

	for (int i = 0; i < n; i++) {
		wall[i] = s[i].wall_ns;
		cpu[i] = s[i].cpu_ns;
		cpu_sum += (double)s[i].cpu_ns;
	}
	qsort(wall, (size_t)n, sizeof(*wall), cmp_u64);
	qsort(cpu, (size_t)n, sizeof(*cpu), cmp_u64);
	printf("%-28s median wall %9.1f us  cpu %9.1f us   p90 wall %9.1f us  cpu %9.1f us   mean cpu %9.1f us  (%d rounds)\n",
	       what, wall[n / 2] / 1e3, cpu[n / 2] / 1e3, wall[n * 9 / 10] / 1e3, cpu[n * 9 / 10] / 1e3,
	       cpu_sum / n / 1e3, n);
	free(wall);
	free(cpu);
}

#define TIMED(s, expr)                                                     \
	do {                                                               \
		uint64_t w0 = pw_mono_ns(), c0 = pw_clock_ns(CLOCK_THREAD_CPUTIME_ID); \
		expr;                                                      \
		(s).cpu_ns = pw_clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;     \
		(s).wall_ns = pw_mono_ns() - w0;                           \
	} while (0)

static void show(const char *what, const struct pw_connections *c)
{
	printf("%-28s established %lu time_wait %lu close_wait %lu listen %lu udp %lu\n", what,
	       (unsigned long)c->tcp_established, (unsigned long)c->tcp_time_wait, (unsigned long)c->tcp_close_wait,
	       (unsigned long)c->tcp_listen, (unsigned long)c->udp_count);
}

static int bench_sockets(int rounds, bool with_proc)
{
	struct sample *s = calloc((size_t)rounds, sizeof(*s));
	char *buf = malloc(PW_SOCKSTATE_BUF_SIZE);
	struct pw_connections c = { 0 };
	int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	for (int i = 0; i < rounds && !r; i++)
		TIMED(s[i], r = pw_sockstate_read_netlink(&c, buf, PW_SOCKSTATE_BUF_SIZE, false));
	if (r) {
		fprintf(stderr, "netlink: %s\n", strerror(-r));
		return 1;
	}
	show("netlink counts", &c);
	report("sockets by netlink", s, rounds);
	if (!with_proc)
		rounds = 0;
	for (int i = 0; i < rounds && !r; i++)
		TIMED(s[i], r = pw_sockstate_read_proc(proc_fd, &c, buf, PW_SOCKSTATE_BUF_SIZE));
	if (r) {
		fprintf(stderr, "/proc/net: %s\n", strerror(-r));
		return 1;
	}
	if (with_proc) {
		show("/proc/net counts", &c);
		report("sockets by /proc/net", s, rounds);
	}
	close(proc_fd);
	free(buf);
	free(s);
	return 0;
}

static int bench_collector(const struct collector *col, int rounds)
{
	struct pw_env env = { .proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC),
			      .sys_fd = open("/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC) };
	struct sample *s = calloc((size_t)rounds, sizeof(*s)), first;
	void *state = calloc(1, col->state_size);
	struct snapshot snap;
	char err[PW_ERROR_MAX] = "", what[64];
	int r = 0;

	snapshot_init(&snap);
	if (col->init && (r = col->init(state, &env, err, sizeof(err))) < 0)
		goto out;
	/* the first collection of the BPF source takes its first netlink count: timed apart */
	TIMED(first, r = col->collect(state, &env, &snap, err, sizeof(err)));
	for (int i = 0; i < rounds && !r; i++)
		TIMED(s[i], r = col->collect(state, &env, &snap, err, sizeof(err)));
	if (r)
		goto out;
	if (col == &pw_network_collector) {
		static const char *const src[] = { "none", "bpf", "netlink", "proc" };

		snprintf(what, sizeof(what), "network (%s) first", src[snap.network.connections_source & 3]);
		report(what, &first, 1);
		snprintf(what, sizeof(what), "network (%s) collector", src[snap.network.connections_source & 3]);
		show(what, &snap.network.connections);
	} else {
		snprintf(what, sizeof(what), "%s collector", col->name);
	}
	report(what, s, rounds);
out:
	if (r)
		fprintf(stderr, "%s: %s\n", col->name, err);
	if (col->destroy)
		col->destroy(state);
	free(state);
	free(s);
	snapshot_free(&snap);
	close(env.proc_fd);
	close(env.sys_fd);
	return r ? 1 : 0;
}

/* A listener on 127.0.0.1 and n connections to it, each closed by the client first. */
static int make_connections(int n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1024) ||
	    getsockname(l, (struct sockaddr *)&a, &len))
		return -1;
	for (int i = 0; i < n; i++) {
		int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), s;

		if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)))
			return -1;
		s = accept(l, NULL, NULL);
		if (s < 0)
			return -1;
		close(c);
		close(s);
	}
	close(l);
	return 0;
}

static int bench_bpf_cost(int connections)
{
	struct pw_sockbpf_prog_stats p0, p1;
	struct pw_sock_totals t;
	struct pw_sockbpf *sb;
	struct stat st;
	char why[256];
	uint64_t runs, ns, c0, c1;
	int stats_fd;

	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0) {
		fprintf(stderr, "BPF_ENABLE_STATS: %s\n", strerror(errno));
		return 1;
	}
	if (stat("/proc/self/ns/net", &st) || pw_sockbpf_open(&sb, (uint32_t)st.st_ino, why, sizeof(why))) {
		fprintf(stderr, "the BPF source: %s\n", why);
		return 1;
	}
	pw_sockbpf_prog_stats(sb, &p0, 1);
	c0 = pw_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	if (make_connections(connections)) {
		fprintf(stderr, "making connections: %s\n", strerror(errno));
		return 1;
	}
	c1 = pw_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	usleep(100000);
	pw_sockbpf_prog_stats(sb, &p1, 1);
	pw_sockbpf_read(sb, &t);
	runs = p1.run_cnt - p0.run_cnt;
	ns = p1.run_time_ns - p0.run_time_ns;
	printf("%-28s %lu runs (%.1f per connection), %.1f ns per run (BPF stats), %lu missed; "
	       "%.1f us of process CPU per connection\n",
	       p1.name, (unsigned long)runs, (double)runs / connections, runs ? (double)ns / (double)runs : 0.0,
	       (unsigned long)(p1.recursion_misses - p0.recursion_misses), (double)(c1 - c0) / connections / 1e3);
	pw_sockbpf_close(sb);
	close(stats_fd);
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = argc > 2 ? atoi(argv[2]) : 200;

	if (rounds < 1)
		rounds = 1;
	if (argc > 1 && !strcmp(argv[1], "sockets"))
		return bench_sockets(rounds, true);
	if (argc > 1 && !strcmp(argv[1], "netlink"))
		return bench_sockets(rounds, false);
	if (argc > 1 && !strcmp(argv[1], "collect"))
		return bench_collector(&pw_network_collector, rounds) | bench_collector(&pw_disk_collector, rounds);
	if (argc > 1 && !strcmp(argv[1], "network"))
		return bench_collector(&pw_network_collector, rounds);
	if (argc > 1 && !strcmp(argv[1], "bpf-cost"))
		return bench_bpf_cost(rounds);
	fprintf(stderr, "usage: %s sockets|netlink|collect|network [ROUNDS] | bpf-cost [CONNECTIONS]\n", argv[0]);
	return 2;
}
