/* SPDX-License-Identifier: MIT */
/*
 * What rendering /metrics costs, with and without the bpf section (measured, never
 * asserted in a test). /metrics is rendered once per snapshot, at publish time.
 *
 *   metrics_bench [ROUNDS [CPUS DISKS IFACES]]
 *
 * Takes one real snapshot of this machine with the real collectors (the eBPF collector
 * needs root; without it there is no bpf section to measure), then renders it ROUNDS
 * times (default 2000) per case: per-CPU series on and off, the bpf section in and out.
 * Then the same snapshot grown to CPUS CPUs, DISKS disks and IFACES interfaces (default
 * 128 16 64: a big host), copies of this machine's rows, in the core sections and in bpf
 * alike. Prints median and p90 of wall and thread CPU time per render, in µs, and bytes.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bpf/bpf_section.h"
#include "collect/collector.h"
#include "collect/runner.h"
#include "options.h"
#include "server/metrics.h"
#include "util/timeutil.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void measure(const char *what, const struct snapshot *s, bool per_cpu, int rounds)
{
	struct pw_metrics_opts o = { .per_cpu = per_cpu };
	uint64_t *wall = calloc((size_t)rounds, sizeof(*wall)), *cpu = calloc((size_t)rounds, sizeof(*cpu));
	struct pw_buf b = { 0 };
	size_t bytes = 0;

	if (!wall || !cpu) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	for (int i = 0; i < rounds; i++) {
		uint64_t w0 = pw_mono_ns(), c0 = pw_clock_ns(CLOCK_THREAD_CPUTIME_ID);

		pw_buf_clear(&b); /* as the server does: one buffer, reused */
		pw_metrics_render(s, &o, &b);
		cpu[i] = pw_clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
		wall[i] = pw_mono_ns() - w0;
		bytes = b.len;
	}
	qsort(wall, (size_t)rounds, sizeof(*wall), cmp_u64);
	qsort(cpu, (size_t)rounds, sizeof(*cpu), cmp_u64);
	printf("%-44s median wall %7.1f us cpu %7.1f us   p90 wall %7.1f us cpu %7.1f us   %7zu bytes\n", what,
	       wall[rounds / 2] / 1e3, cpu[rounds / 2] / 1e3, wall[rounds * 9 / 10] / 1e3,
	       cpu[rounds * 9 / 10] / 1e3, bytes);
	pw_buf_free(&b);
	free(wall);
	free(cpu);
}

static void cases(const char *host, struct snapshot *s, int rounds)
{
	char what[96];
	bool had_bpf = s->bpf_valid;

	for (int per_cpu = 1; per_cpu >= 0; per_cpu--) {
		s->bpf_valid = false;
		snprintf(what, sizeof(what), "%s, %s, without bpf", host, per_cpu ? "per-CPU" : "no per-CPU");
		measure(what, s, per_cpu, rounds);
		s->bpf_valid = had_bpf;
		snprintf(what, sizeof(what), "%s, %s, with bpf", host, per_cpu ? "per-CPU" : "no per-CPU");
		measure(what, s, per_cpu, rounds);
	}
}

/* Grows an array of n items to want items, copies of the existing ones (names made unique). */
static void *grow(void *arr, uint32_t *n, uint32_t *cap, uint32_t want, size_t size, size_t name_off,
		  size_t name_len, const char *fmt)
{
	void *p = arr;

	if (*n == 0 || want <= *n)
		return arr;
	if (pw_array_reserve(&p, cap, want, size)) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	for (uint32_t i = *n; i < want; i++) {
		memcpy((char *)p + (size_t)i * size, (char *)p + (size_t)(i % *n) * size, size);
		if (fmt)
			snprintf((char *)p + (size_t)i * size + name_off, name_len, fmt, i);
	}
	*n = want;
	return p;
}

static void grow_doubles(double **arr, uint32_t *n, uint32_t *cap, uint32_t want)
{
	*arr = grow(*arr, n, cap, want, sizeof(double), 0, 0, NULL);
}

static void grow_host(struct snapshot *s, uint32_t cpus, uint32_t disks, uint32_t ifaces)
{
	struct pw_bpf *b = s->bpf;

	grow_doubles(&s->cpu.per_core, &s->cpu.n_per_core, &s->cpu.cap_per_core, cpus);
	grow_doubles(&s->cpu.frequency_mhz, &s->cpu.n_freq, &s->cpu.cap_freq, cpus);
	s->disk.devices = grow(s->disk.devices, &s->disk.n_devices, &s->disk.cap_devices, disks,
			       sizeof(struct pw_blockdev), offsetof(struct pw_blockdev, name), PW_DEVNAME_MAX, "sd%u");
	s->network.interfaces = grow(s->network.interfaces, &s->network.n_interfaces, &s->network.cap_interfaces,
				     ifaces, sizeof(struct pw_netif), offsetof(struct pw_netif, name), PW_IFNAME_MAX,
				     "eth%u");
	if (!b)
		return;
	b->cpus = grow(b->cpus, &b->n_cpus, &b->cap_cpus, cpus, sizeof(*b->cpus), 0, 0, NULL);
	for (uint32_t i = 0; i < b->n_cpus; i++)
		b->cpus[i].cpu = i;
	b->block = grow(b->block, &b->n_block, &b->cap_block, disks, sizeof(*b->block),
			offsetof(struct pw_bpf_blockdev, name), PW_DEVNAME_MAX, "sd%u");
	b->net = grow(b->net, &b->n_net, &b->cap_net, ifaces, sizeof(*b->net), offsetof(struct pw_bpf_netif, name),
		      PW_IFNAME_MAX, "eth%u");
}

int main(int argc, char **argv)
{
	char *pw_argv[] = { "perfwatch", "--json", "--interval", "0.5", NULL };
	int rounds = argc > 1 ? atoi(argv[1]) : 2000;
	uint32_t cpus = argc > 4 ? (uint32_t)atoi(argv[2]) : 128;
	uint32_t disks = argc > 4 ? (uint32_t)atoi(argv[3]) : 16, ifaces = argc > 4 ? (uint32_t)atoi(argv[4]) : 64;
	struct pw_options opts = { 0 };
	struct pw_env env;
	struct runner *r = NULL;
	struct snapshot s;
	char err[PW_ERROR_MAX] = "";
	char host[96];

	if (rounds < 10 || pw_parse_options(4, pw_argv, &opts) != 0) {
		fprintf(stderr, "usage: metrics_bench [ROUNDS>=10 [CPUS DISKS IFACES]]\n");
		return 2;
	}
	snapshot_init(&s);
	if (pw_env_open(&env, &opts, err, sizeof(err)) < 0 ||
	    runner_create(&r, pw_collectors, pw_n_collectors, &env) < 0) {
		fprintf(stderr, "cannot start the collectors: %s\n", err);
		return 1;
	}
	/* two snapshots half a second apart: the second has rates and interval counts */
	for (int i = 0; i < 2; i++) {
		if (i)
			nanosleep(&(struct timespec){ .tv_nsec = 500000000 }, NULL);
		snapshot_reset(&s);
		runner_collect(r, &s, NULL, pw_mono_ns() + 2000000000ull);
	}
	if (!s.bpf || !s.bpf_valid) {
		printf("no bpf section (perf source %s): run as root where the eBPF collector works\n",
		       pw_perf_source_name(s.perf.source));
		runner_destroy(r);
		pw_env_close(&env);
		snapshot_free(&s);
		return 0;
	}
	snprintf(host, sizeof(host), "this host (%u CPUs, %u disks, %u ifaces)", s.bpf->n_cpus, s.bpf->n_block,
		 s.bpf->n_net);
	cases(host, &s, rounds);
	grow_host(&s, cpus, disks, ifaces);
	snprintf(host, sizeof(host), "grown (%u CPUs, %u disks, %u ifaces)", cpus, disks, ifaces);
	cases(host, &s, rounds);
	runner_destroy(r);
	pw_env_close(&env);
	snapshot_free(&s);
	return 0;
}
