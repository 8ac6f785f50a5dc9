/* SPDX-License-Identifier: MIT */
/*
 * The "bpf" section of a snapshot: what the eBPF collector measured beyond the 17 perf
 * events (per-CPU counters, histograms, per-device and per-interface counts, derived
 * ratios, the capability report and PerfWatch's own BPF cost). Owned by the snapshot;
 * filled by the bpf perf backend (bpf_backend.c), read by the outputs.
 *
 * Counts are over the interval (interval_s) unless a name says "total": totals count since
 * the programs were loaded (the kernel's counters as read), for /metrics, where
 * Prometheus wants counters it can rate() over any window. JSON shows the interval ones.
 */
#ifndef PW_BPF_SECTION_H
#define PW_BPF_SECTION_H

#include <stdbool.h>
#include <stdint.h>

#include "output/jsonw.h"
#include "snapshot.h"
#include "util/buf.h"

#define PW_BPF_HIST_SLOTS 32 /* slot 0: [0, 2) usec; slot i > 0: [2^i, 2^(i+1)) usec */
#define PW_BPF_MAX_PROGS 16
#define PW_BPF_WHY_MAX 160

struct pw_bpf_hist {
	uint64_t slots[PW_BPF_HIST_SLOTS];
	uint64_t count;
	uint64_t sum_ns;
};

struct pw_bpf_cpu {
	uint32_t cpu;
	uint64_t context_switches, migrations, faults_user, faults_kernel;
	double cpu_clock_ms; /* from the cpu-clock perf event of this CPU; NAN when not counted */
	uint64_t context_switches_total, migrations_total, faults_user_total, faults_kernel_total;
};

enum { PW_BPF_BLK_READ, PW_BPF_BLK_WRITE, PW_BPF_BLK_OTHER, PW_BPF_BLK_OPS };

struct pw_bpf_blockdev {
	char name[PW_DEVNAME_MAX]; /* from /sys/dev/block/MAJ:MIN, else "MAJ:MIN" */
	uint32_t major, minor;
	uint64_t requests[PW_BPF_BLK_OPS]; /* completed */
	uint64_t bytes[PW_BPF_BLK_OPS];
	uint64_t errors;
	struct pw_bpf_hist latency; /* issue -> complete */
	uint64_t requests_total[PW_BPF_BLK_OPS], bytes_total[PW_BPF_BLK_OPS], errors_total;
	struct pw_bpf_hist latency_total;
};

struct pw_bpf_netif {
	char name[PW_IFNAME_MAX]; /* own netns: the interface name; other netns: "if<N>@netns<I>" */
	uint32_t ifindex;
	uint32_t netns;
	bool own_netns;
	uint64_t tx_packets, tx_bytes, rx_packets, rx_bytes;
	uint64_t tx_packets_total, tx_bytes_total, rx_packets_total, rx_bytes_total;
};

struct pw_bpf_prog {
	char name[32];
	char attach[48];  /* "tp_btf/sched_switch" */
	bool attached;
	char why[PW_BPF_WHY_MAX]; /* empty when attached */
	uint64_t run_count_total, run_time_ns_total, recursion_misses_total;
	uint64_t runs;        /* over the interval */
	uint64_t run_time_ns; /* over the interval */
};

struct pw_bpf_event {
	bool counted;
	const char *source;  /* "tracepoint" or "perf_event" */
	const char *standin; /* the software event counted instead (test mode), else NULL */
	uint32_t cpus;       /* CPUs it is counted on */
	char why[PW_BPF_WHY_MAX]; /* empty when counted */
};

struct pw_bpf_ratios {
	double ipc;                 /* instructions / cycles */
	double branch_miss_percent; /* branch-misses / branches */
	double l1d_miss_percent;    /* L1-dcache-load-misses / L1-dcache-loads */
	double llc_miss_percent;    /* LLC-load-misses / LLC-loads: the cache-miss % */
	double dtlb_miss_percent, itlb_miss_percent;
	double l1d_mpki, llc_mpki, branch_mpki; /* misses per 1000 instructions */
};

struct pw_bpf_drops {
	uint64_t blk_start_full, blk_dev_full, net_full; /* totals */
};

struct pw_bpf {
	double interval_s;
	bool test_software_events;

	uint32_t n_cpus, cap_cpus;
	struct pw_bpf_cpu *cpus; /* online CPUs */
	/* every possible CPU together, offline ones too: what /metrics shows without per-CPU series */
	uint64_t context_switches_total, migrations_total, faults_user_total, faults_kernel_total;

	struct pw_bpf_hist runq; /* queued (woken or preempted) -> on CPU */
	struct pw_bpf_hist runq_total;
	char runq_why[PW_BPF_WHY_MAX]; /* why runq is not measured; empty when it is */

	uint32_t n_block, cap_block;
	struct pw_bpf_blockdev *block;
	uint32_t n_net, cap_net;
	struct pw_bpf_netif *net;

	struct pw_bpf_ratios ratios;

	uint32_t n_progs;
	struct pw_bpf_prog progs[PW_BPF_MAX_PROGS];
	struct pw_bpf_event events[PW_PERF_NUM_EVENTS];
	char pmu_read_error[PW_BPF_WHY_MAX]; /* running the reader program failed; empty when fine */
	/* how the perf events are read at each tick (bpf/perfwatch.bpf.c) */
	uint32_t pmu_timer_cpus;              /* CPUs whose perf timer reads them */
	char pmu_timer_why[PW_BPF_WHY_MAX];   /* why not every online CPU has one; empty when fine */
	uint32_t wakeup_threads;              /* cpu_poke.h's threads running */
	/* CPUs whose reading of this interval came from: */
	uint32_t pmu_read_by_timer, pmu_read_at_switch, pmu_read_by_reader;

	bool stats_enabled; /* BPF run-time stats (kernel.bpf_stats_enabled or BPF_ENABLE_STATS) */
	char stats_why[PW_BPF_WHY_MAX];
	uint32_t n_maps;
	uint64_t map_memory_bytes; /* memlock of all maps; 0 when unknown */
	bool light_skeleton;       /* relocated by a loader program in the kernel, not by libbpf */
	char loader_why[PW_BPF_WHY_MAX]; /* why libbpf loaded the object; empty when it did not */
	struct pw_bpf_drops drops;
};

void pw_bpf_section_free(struct pw_bpf *b); /* accepts NULL */
void pw_bpf_section_json(const struct pw_bpf *b, struct jw *w); /* writes one JSON value */

/*
 * The section's Prometheus families (bpf_metrics.c), appended to /metrics when the
 * section is valid: the totals as counters and histograms, capabilities and ratios as
 * gauges. per_cpu false (--no-per-cpu-metrics): the per-CPU counters once, all CPUs.
 */
void pw_bpf_section_metrics(const struct pw_bpf *b, struct pw_buf *out, bool per_cpu);

/* Derived ratios from a filled perf section (NAN where an operand was not counted). */
void pw_bpf_ratios_compute(const struct pw_perf *p, struct pw_bpf_ratios *ret);

#endif
