/* SPDX-License-Identifier: MIT */
/*
 * The bpf section in Prometheus' text format (part of GET /metrics).
 *
 * Counters are the section's *_total fields, counted since the programs were loaded:
 * Prometheus computes rates over any window from them, and a daemon restart is just a
 * counter reset. The log2 histograms become real histograms with buckets in seconds.
 * Only what is per interval by nature (cpu-clock per CPU, the derived ratios) is a gauge
 * of the last interval, and its HELP says so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/bpf_section.h"
#include "server/promtext.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Indexes into pw_perf_event_names: the tracepoint events of the capability report. */
enum { EV_CONTEXT_SWITCHES = 1, EV_CPU_MIGRATIONS = 2, EV_PAGE_FAULTS = 3 };

/* "2e-06" ... : the upper bound of slot i, 2^(i+1) usec, in seconds. The last slot is open. */
#define N_BOUNDS (PW_BPF_HIST_SLOTS - 1)
struct bounds {
	char text[N_BOUNDS][24];
	const char *le[N_BOUNDS];
};

static void bounds_init(struct bounds *bd)
{
	/* 2^k * 1e-6 is exact in %.15g: scaling by a power of two keeps the nearest double */
	for (int i = 0; i < N_BOUNDS; i++) {
		snprintf(bd->text[i], sizeof(bd->text[i]), "%.15g", (double)(UINT64_C(2) << i) * 1e-6);
		bd->le[i] = bd->text[i];
	}
}

static void histogram(struct pw_prom_fam *f, const struct bounds *bd, const struct pw_prom_label *l,
		      size_t nl, const struct pw_bpf_hist *h)
{
	pw_prom_histogram(f, l, nl, bd->le, h->slots, N_BOUNDS, (double)h->sum_ns / 1e9);
}

static void render_cpus(const struct pw_bpf *b, struct pw_buf *out, bool per_cpu)
{
	struct pw_prom_fam sw = PW_PROM_FAM(out, "perfwatch_bpf_context_switches_total", "counter",
					    "Context switches (sched_switch) since the BPF programs were loaded.");
	struct pw_prom_fam mig = PW_PROM_FAM(out, "perfwatch_bpf_cpu_migrations_total", "counter",
					     "Tasks moved to another CPU since the BPF programs were loaded.");
	struct pw_prom_fam pf = PW_PROM_FAM(out, "perfwatch_bpf_page_faults_total", "counter",
					    "Page faults taken in user or kernel mode since the BPF programs were "
					    "loaded.");
	struct pw_prom_fam clk = PW_PROM_FAM(out, "perfwatch_bpf_cpu_clock_seconds", "gauge",
					     "cpu-clock of each CPU over the last interval "
					     "(perfwatch_bpf_interval_seconds).");
	bool sw_ok = b->events[EV_CONTEXT_SWITCHES].counted, mig_ok = b->events[EV_CPU_MIGRATIONS].counted;
	bool pf_ok = b->events[EV_PAGE_FAULTS].counted;
	struct pw_prom_label l[2] = { { "cpu", NULL }, { "mode", NULL } };
	char idx[12];

	if (!per_cpu) {
		if (sw_ok)
			pw_prom_sample_u64(&sw, NULL, 0, b->context_switches_total);
		if (mig_ok)
			pw_prom_sample_u64(&mig, NULL, 0, b->migrations_total);
		if (pf_ok) {
			l[1].val = "user";
			pw_prom_sample_u64(&pf, &l[1], 1, b->faults_user_total);
			l[1].val = "kernel";
			pw_prom_sample_u64(&pf, &l[1], 1, b->faults_kernel_total);
		}
		return;
	}
	l[0].val = idx;
	for (uint32_t i = 0; sw_ok && b->cpus && i < b->n_cpus; i++) {
		snprintf(idx, sizeof(idx), "%u", b->cpus[i].cpu);
		pw_prom_sample_u64(&sw, l, 1, b->cpus[i].context_switches_total);
	}
	for (uint32_t i = 0; mig_ok && b->cpus && i < b->n_cpus; i++) {
		snprintf(idx, sizeof(idx), "%u", b->cpus[i].cpu);
		pw_prom_sample_u64(&mig, l, 1, b->cpus[i].migrations_total);
	}
	for (uint32_t i = 0; pf_ok && b->cpus && i < b->n_cpus; i++) {
		snprintf(idx, sizeof(idx), "%u", b->cpus[i].cpu);
		l[1].val = "user";
		pw_prom_sample_u64(&pf, l, 2, b->cpus[i].faults_user_total);
		l[1].val = "kernel";
		pw_prom_sample_u64(&pf, l, 2, b->cpus[i].faults_kernel_total);
	}
	for (uint32_t i = 0; b->cpus && i < b->n_cpus; i++) {
		snprintf(idx, sizeof(idx), "%u", b->cpus[i].cpu);
		pw_prom_sample(&clk, l, 1, pw_prom_scaled(b->cpus[i].cpu_clock_ms, 1e-3));
	}
}

static void render_block(const struct pw_bpf *b, uint32_t n, const struct bounds *bd, const bool *dup,
			 struct pw_buf *out)
{
	static const char *const ops[PW_BPF_BLK_OPS] = {
		[PW_BPF_BLK_READ] = "read", [PW_BPF_BLK_WRITE] = "write", [PW_BPF_BLK_OTHER] = "other",
	};
	struct pw_prom_fam req = PW_PROM_FAM(out, "perfwatch_bpf_block_requests_total", "counter",
					     "Block requests completed, by disk and operation (read, write, other).");
	struct pw_prom_fam bytes = PW_PROM_FAM(out, "perfwatch_bpf_block_bytes_total", "counter",
					       "Bytes of the completed block requests, by disk and operation.");
	struct pw_prom_fam err = PW_PROM_FAM(out, "perfwatch_bpf_block_errors_total", "counter",
					     "Block requests completed with an error.");
	struct pw_prom_fam lat = PW_PROM_FAM(out, "perfwatch_bpf_block_latency_seconds", "histogram",
					     "Block request latency, issue to completion (log2 buckets).");

	for (uint32_t i = 0; i < n; i++) {
		struct pw_prom_label l[2] = { { "device", b->block[i].name }, { "op", NULL } };

		for (int o = 0; o < PW_BPF_BLK_OPS && !dup[i]; o++) {
			l[1].val = ops[o];
			pw_prom_sample_u64(&req, l, 2, b->block[i].requests_total[o]);
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		struct pw_prom_label l[2] = { { "device", b->block[i].name }, { "op", NULL } };

		for (int o = 0; o < PW_BPF_BLK_OPS && !dup[i]; o++) {
			l[1].val = ops[o];
			pw_prom_sample_u64(&bytes, l, 2, b->block[i].bytes_total[o]);
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		struct pw_prom_label l = { "device", b->block[i].name };

		if (!dup[i])
			pw_prom_sample_u64(&err, &l, 1, b->block[i].errors_total);
	}
	for (uint32_t i = 0; i < n; i++) {
		struct pw_prom_label l = { "device", b->block[i].name };

		if (!dup[i])
			histogram(&lat, bd, &l, 1, &b->block[i].latency_total);
	}
}

static void render_net(const struct pw_bpf *b, uint32_t n, const bool *dup, struct pw_buf *out)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} fams[] = {
		{ "perfwatch_bpf_network_receive_packets_total",
		  "Packets received (netif_receive_skb; a GRO packet is one).",
		  offsetof(struct pw_bpf_netif, rx_packets_total) },
		{ "perfwatch_bpf_network_receive_bytes_total", "Bytes received, link-layer header included.",
		  offsetof(struct pw_bpf_netif, rx_bytes_total) },
		{ "perfwatch_bpf_network_transmit_packets_total", "Packets sent (net_dev_xmit; a GSO packet is one).",
		  offsetof(struct pw_bpf_netif, tx_packets_total) },
		{ "perfwatch_bpf_network_transmit_bytes_total", "Bytes sent.",
		  offsetof(struct pw_bpf_netif, tx_bytes_total) },
	};

	for (size_t k = 0; k < ARRAY_SIZE(fams); k++) {
		struct pw_prom_fam f = PW_PROM_FAM(out, fams[k].name, "counter", fams[k].help);

		for (uint32_t i = 0; i < n; i++) {
			struct pw_prom_label l = { "interface", b->net[i].name };
			uint64_t v;

			if (dup[i])
				continue;
			memcpy(&v, (const char *)&b->net[i] + fams[k].off, sizeof(v));
			pw_prom_sample_u64(&f, &l, 1, v);
		}
	}
}

static void render_ratios(const struct pw_bpf_ratios *r, struct pw_buf *out)
{
	const struct {
		const char *event; /* the miss event */
		double pct;
	} miss[] = {
		{ "branch-misses", r->branch_miss_percent },
		{ "L1-dcache-load-misses", r->l1d_miss_percent },
		{ "LLC-load-misses", r->llc_miss_percent },
		{ "dTLB-load-misses", r->dtlb_miss_percent },
		{ "iTLB-load-misses", r->itlb_miss_percent },
	};
	const struct {
		const char *event;
		double v;
	} mpki[] = {
		{ "branch-misses", r->branch_mpki },
		{ "L1-dcache-load-misses", r->l1d_mpki },
		{ "LLC-load-misses", r->llc_mpki },
	};
	struct pw_prom_fam fm = PW_PROM_FAM(out, "perfwatch_bpf_miss_ratio", "gauge",
					    "Misses per access over the last interval (0..1): "
					    "branch-misses/branches, L1-dcache-load-misses/L1-dcache-loads, "
					    "LLC-load-misses/LLC-loads (the cache-miss ratio), "
					    "dTLB-load-misses/dTLB-loads, iTLB-load-misses/iTLB-loads.");
	struct pw_prom_fam fk = PW_PROM_FAM(out, "perfwatch_bpf_misses_per_kilo_instructions", "gauge",
					    "Misses of the event per 1000 instructions over the last interval (MPKI).");

	pw_prom_gauge(out, "perfwatch_bpf_instructions_per_cycle", "Instructions per cycle over the last interval.",
		      r->ipc);
	for (size_t i = 0; i < ARRAY_SIZE(miss); i++) {
		struct pw_prom_label l = { "event", miss[i].event };

		pw_prom_sample(&fm, &l, 1, pw_prom_pct_ratio(miss[i].pct));
	}
	for (size_t i = 0; i < ARRAY_SIZE(mpki); i++) {
		struct pw_prom_label l = { "event", mpki[i].event };

		pw_prom_sample(&fk, &l, 1, mpki[i].v);
	}
}

static void render_capabilities(const struct pw_bpf *b, struct pw_buf *out)
{
	struct pw_prom_fam att = PW_PROM_FAM(out, "perfwatch_bpf_program_attached", "gauge",
					     "1 when the BPF program is loaded and attached (the reader and the timer arming one: loaded), 0 "
					     "when not; the snapshot's bpf.programs says why.");
	struct pw_prom_fam cnt = PW_PROM_FAM(out, "perfwatch_bpf_event_counted", "gauge",
					     "1 when the perf event is counted by the eBPF collector, 0 when not; the "
					     "snapshot's bpf.events says why.");
	struct pw_prom_fam cpus = PW_PROM_FAM(out, "perfwatch_bpf_event_cpus", "gauge",
					      "CPUs the event is counted on.");

	for (uint32_t i = 0; i < b->n_progs && i < PW_BPF_MAX_PROGS; i++) {
		struct pw_prom_label l = { "program", b->progs[i].name };

		pw_prom_sample(&att, &l, 1, b->progs[i].attached);
	}
	for (int i = 0; i < PW_PERF_NUM_EVENTS; i++) {
		struct pw_prom_label l = { "event", pw_perf_event_names[i] };

		pw_prom_sample(&cnt, &l, 1, b->events[i].counted);
	}
	for (int i = 0; i < PW_PERF_NUM_EVENTS; i++) {
		struct pw_prom_label l = { "event", pw_perf_event_names[i] };

		pw_prom_sample_u64(&cpus, &l, 1, b->events[i].cpus);
	}
}

static void render_self(const struct pw_bpf *b, struct pw_buf *out)
{
	struct pw_prom_fam runs = PW_PROM_FAM(out, "perfwatch_bpf_program_runs_total", "counter",
					      "Runs of each attached BPF program while BPF run-time stats were on.");
	struct pw_prom_fam time = PW_PROM_FAM(out, "perfwatch_bpf_program_run_time_seconds_total", "counter",
					      "Time each attached BPF program ran while BPF run-time stats were on.");
	struct pw_prom_fam rec = PW_PROM_FAM(out, "perfwatch_bpf_program_recursion_misses_total", "counter",
					     "Runs of each attached BPF program the kernel skipped to avoid recursion.");
	struct pw_prom_fam lost = PW_PROM_FAM(out, "perfwatch_bpf_events_lost_total", "counter",
					      "Events the BPF programs could not record because a map was full.");
	const struct {
		const char *reason;
		uint64_t v;
	} drops[] = {
		{ "block_inflight_full", b->drops.blk_start_full },
		{ "block_devices_full", b->drops.blk_dev_full },
		{ "net_interfaces_full", b->drops.net_full },
	};
	uint32_t n = b->n_progs < PW_BPF_MAX_PROGS ? b->n_progs : PW_BPF_MAX_PROGS;

	pw_prom_gauge(out, "perfwatch_bpf_stats_enabled",
		      "1 when BPF run-time stats are on, so the program run counts and times are counted.",
		      b->stats_enabled);
	/* without run-time stats the kernel's run counters stand still: no series rather than a false 0 rate */
	for (uint32_t i = 0; b->stats_enabled && i < n; i++) {
		struct pw_prom_label l = { "program", b->progs[i].name };

		if (b->progs[i].attached)
			pw_prom_sample_u64(&runs, &l, 1, b->progs[i].run_count_total);
	}
	for (uint32_t i = 0; b->stats_enabled && i < n; i++) {
		struct pw_prom_label l = { "program", b->progs[i].name };

		if (b->progs[i].attached)
			pw_prom_sample(&time, &l, 1, (double)b->progs[i].run_time_ns_total / 1e9);
	}
	for (uint32_t i = 0; i < n; i++) {
		struct pw_prom_label l = { "program", b->progs[i].name };

		if (b->progs[i].attached)
			pw_prom_sample_u64(&rec, &l, 1, b->progs[i].recursion_misses_total);
	}
	pw_prom_gauge_u64(out, "perfwatch_bpf_maps", "BPF maps PerfWatch holds.", b->n_maps);
	if (b->map_memory_bytes)
		pw_prom_gauge_u64(out, "perfwatch_bpf_map_memory_bytes", "Memory of PerfWatch's BPF maps (memlock).",
				  b->map_memory_bytes);
	for (size_t i = 0; i < ARRAY_SIZE(drops); i++) {
		struct pw_prom_label l = { "reason", drops[i].reason };

		pw_prom_sample_u64(&lost, &l, 1, drops[i].v);
	}
}

void pw_bpf_section_metrics(const struct pw_bpf *b, struct pw_buf *out, bool per_cpu)
{
	struct pw_prom_fam rq = PW_PROM_FAM(out, "perfwatch_bpf_runqueue_latency_seconds", "histogram",
					    "Time tasks waited runnable before they ran (wakeup or preemption to "
					    "sched_switch, log2 buckets), all CPUs.");
	uint32_t n_block = b->block ? b->n_block : 0, n_net = b->net ? b->n_net : 0;
	struct bounds bd;
	bool *blk_dup, *net_dup;

	/* names repeat only by accident (a device renamed or made anew), but one repeat would
	 * make Prometheus refuse the whole scrape */
	blk_dup = pw_prom_duplicates(out, b->block, sizeof(*b->block), offsetof(struct pw_bpf_blockdev, name), n_block);
	net_dup = pw_prom_duplicates(out, b->net, sizeof(*b->net), offsetof(struct pw_bpf_netif, name), n_net);
	if (!blk_dup || !net_dup)
		goto out_free; /* out->oom is set: no /metrics rather than a partial one */
	bounds_init(&bd);

	pw_prom_gauge(out, "perfwatch_bpf_interval_seconds", "Seconds the bpf section's last-interval gauges cover.",
		      b->interval_s);
	pw_prom_gauge(out, "perfwatch_bpf_test_software_events",
		      "1 when software stand-ins are counted in the hardware event slots (test mode).",
		      b->test_software_events);
	render_cpus(b, out, per_cpu);
	if (!b->runq_why[0])
		histogram(&rq, &bd, NULL, 0, &b->runq_total);
	render_block(b, n_block, &bd, blk_dup, out);
	render_net(b, n_net, net_dup, out);
	render_ratios(&b->ratios, out);
	render_capabilities(b, out);
	render_self(b, out);
out_free:
	free(blk_dup);
	free(net_dup);
}
