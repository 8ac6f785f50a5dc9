/* SPDX-License-Identifier: MIT */
#include "bpf/bpf_section.h"

#include <stdio.h>
#include <stdlib.h>

void pw_bpf_section_free(struct pw_bpf *b)
{
	if (!b)
		return;
	free(b->cpus);
	free(b->block);
	free(b->net);
	free(b);
}

/* {"count": N, "mean_us": x, "log2_us": [slot counts, trailing zeros left out]} */
static void json_hist(struct jw *w, const char *key, const struct pw_bpf_hist *h)
{
	int last = -1;

	for (int i = 0; i < PW_BPF_HIST_SLOTS; i++)
		if (h->slots[i])
			last = i;
	jw_key(w, key);
	jw_obj_begin(w);
	jw_kv_u64(w, "count", h->count);
	jw_kv_double(w, "mean_us", h->count ? (double)h->sum_ns / (double)h->count / 1000.0 : NAN);
	jw_key(w, "log2_us");
	jw_arr_begin(w);
	for (int i = 0; i <= last; i++)
		jw_u64(w, h->slots[i]);
	jw_arr_end(w);
	jw_obj_end(w);
}

static void json_cpus(struct jw *w, const struct pw_bpf *b)
{
	jw_key(w, "cpus");
	jw_arr_begin(w);
	for (uint32_t i = 0; i < b->n_cpus; i++) {
		const struct pw_bpf_cpu *c = &b->cpus[i];

		jw_obj_begin(w);
		jw_kv_u64(w, "cpu", c->cpu);
		jw_kv_u64(w, "context_switches", c->context_switches);
		jw_kv_u64(w, "cpu_migrations", c->migrations);
		jw_kv_u64(w, "page_faults", c->faults_user + c->faults_kernel);
		jw_kv_u64(w, "page_faults_user", c->faults_user);
		jw_kv_u64(w, "page_faults_kernel", c->faults_kernel);
		jw_kv_double(w, "cpu_clock_ms", c->cpu_clock_ms);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void json_block(struct jw *w, const struct pw_bpf *b)
{
	char dev[24];

	jw_key(w, "block");
	jw_obj_begin(w);
	for (uint32_t i = 0; i < b->n_block; i++) {
		const struct pw_bpf_blockdev *d = &b->block[i];

		jw_key(w, d->name);
		jw_obj_begin(w);
		snprintf(dev, sizeof(dev), "%u:%u", d->major, d->minor);
		jw_kv_str(w, "dev", dev);
		jw_kv_u64(w, "reads", d->requests[PW_BPF_BLK_READ]);
		jw_kv_u64(w, "writes", d->requests[PW_BPF_BLK_WRITE]);
		jw_kv_u64(w, "other", d->requests[PW_BPF_BLK_OTHER]);
		jw_kv_u64(w, "read_bytes", d->bytes[PW_BPF_BLK_READ]);
		jw_kv_u64(w, "write_bytes", d->bytes[PW_BPF_BLK_WRITE]);
		jw_kv_u64(w, "other_bytes", d->bytes[PW_BPF_BLK_OTHER]);
		jw_kv_u64(w, "errors", d->errors);
		json_hist(w, "latency", &d->latency);
		jw_obj_end(w);
	}
	jw_obj_end(w);
}

static void json_net(struct jw *w, const struct pw_bpf *b)
{
	jw_key(w, "net");
	jw_obj_begin(w);
	for (uint32_t i = 0; i < b->n_net; i++) {
		const struct pw_bpf_netif *n = &b->net[i];

		jw_key(w, n->name);
		jw_obj_begin(w);
		jw_kv_u64(w, "ifindex", n->ifindex);
		jw_kv_u64(w, "netns", n->netns);
		jw_kv_bool(w, "own_netns", n->own_netns);
		jw_kv_u64(w, "packets_sent", n->tx_packets);
		jw_kv_u64(w, "bytes_sent", n->tx_bytes);
		jw_kv_u64(w, "packets_recv", n->rx_packets);
		jw_kv_u64(w, "bytes_recv", n->rx_bytes);
		jw_obj_end(w);
	}
	jw_obj_end(w);
}

static void json_ratios(struct jw *w, const struct pw_bpf_ratios *r)
{
	jw_key(w, "ratios");
	jw_obj_begin(w);
	jw_kv_double(w, "ipc", r->ipc);
	jw_kv_double(w, "branch_miss_percent", r->branch_miss_percent);
	jw_kv_double(w, "l1d_miss_percent", r->l1d_miss_percent);
	jw_kv_double(w, "llc_miss_percent", r->llc_miss_percent);
	jw_kv_double(w, "dtlb_miss_percent", r->dtlb_miss_percent);
	jw_kv_double(w, "itlb_miss_percent", r->itlb_miss_percent);
	jw_kv_double(w, "l1d_mpki", r->l1d_mpki);
	jw_kv_double(w, "llc_mpki", r->llc_mpki);
	jw_kv_double(w, "branch_mpki", r->branch_mpki);
	jw_obj_end(w);
}

static void json_programs(struct jw *w, const struct pw_bpf *b)
{
	jw_key(w, "programs");
	jw_obj_begin(w);
	for (uint32_t i = 0; i < b->n_progs; i++) {
		const struct pw_bpf_prog *p = &b->progs[i];

		jw_key(w, p->name);
		jw_obj_begin(w);
		jw_kv_str(w, "attach", p->attach);
		jw_kv_bool(w, "attached", p->attached);
		jw_kv_str_or_null(w, "error", p->why);
		/* the kernel counts runs only while run-time stats are on */
		jw_kv_u64_or_null(w, "runs", b->stats_enabled, p->runs);
		jw_kv_u64_or_null(w, "run_time_ns", b->stats_enabled, p->run_time_ns);
		jw_kv_double(w, "ns_per_run", b->stats_enabled && p->runs ?
				 (double)p->run_time_ns / (double)p->runs : NAN);
		jw_kv_u64(w, "run_count_total", p->run_count_total);
		jw_kv_u64(w, "run_time_ns_total", p->run_time_ns_total);
		jw_kv_u64(w, "recursion_misses_total", p->recursion_misses_total);
		jw_obj_end(w);
	}
	jw_obj_end(w);
}

static void json_events(struct jw *w, const struct pw_bpf *b)
{
	jw_key(w, "events");
	jw_obj_begin(w);
	for (int i = 0; i < PW_PERF_NUM_EVENTS; i++) {
		const struct pw_bpf_event *e = &b->events[i];

		jw_key(w, pw_perf_event_names[i]);
		jw_obj_begin(w);
		jw_kv_bool(w, "counted", e->counted);
		jw_kv_str(w, "source", e->source);
		jw_kv_str(w, "standin", e->standin);
		jw_kv_u64(w, "cpus", e->cpus);
		jw_kv_str_or_null(w, "error", e->why);
		jw_obj_end(w);
	}
	jw_obj_end(w);
}

void pw_bpf_section_json(const struct pw_bpf *b, struct jw *w)
{
	jw_obj_begin(w);
	jw_kv_double(w, "interval_s", b->interval_s);
	jw_kv_bool(w, "test_software_events", b->test_software_events);
	json_cpus(w, b);
	json_hist(w, "runq_latency", &b->runq);
	jw_kv_str_or_null(w, "runq_latency_error", b->runq_why);
	json_block(w, b);
	json_net(w, b);
	json_ratios(w, &b->ratios);
	json_events(w, b);
	jw_kv_str_or_null(w, "pmu_read_error", b->pmu_read_error);
	jw_key(w, "pmu_reading");
	jw_obj_begin(w);
	jw_kv_u64(w, "timer_cpus", b->pmu_timer_cpus);
	jw_kv_str_or_null(w, "timer_error", b->pmu_timer_why);
	jw_kv_u64(w, "wakeup_threads", b->wakeup_threads);
	jw_key(w, "cpus_read");
	jw_obj_begin(w);
	jw_kv_u64(w, "by_timer", b->pmu_read_by_timer);
	jw_kv_u64(w, "at_context_switch", b->pmu_read_at_switch);
	jw_kv_u64(w, "by_reader", b->pmu_read_by_reader);
	jw_obj_end(w);
	jw_obj_end(w);
	json_programs(w, b);
	jw_key(w, "stats");
	jw_obj_begin(w);
	jw_kv_bool(w, "enabled", b->stats_enabled);
	jw_kv_str_or_null(w, "error", b->stats_why);
	jw_obj_end(w);
	/*
	 * who relocated the programs, both against the kernel's own BTF (tp_btf reads kernel
	 * memory directly): the light skeleton's loader in the kernel, or libbpf here, which
	 * parses /sys/kernel/btf/vmlinux to do it (bpf_load.c, bpf_lskel.c)
	 */
	jw_key(w, "loader");
	jw_obj_begin(w);
	jw_kv_str(w, "kind", b->light_skeleton ? "light_skeleton" : "libbpf");
	jw_kv_str(w, "btf", "kernel");
	jw_kv_bool(w, "kernel_btf_parsed_in_userspace", !b->light_skeleton);
	jw_kv_str_or_null(w, "why_libbpf", b->loader_why);
	jw_obj_end(w);
	jw_key(w, "maps");
	jw_obj_begin(w);
	jw_kv_u64(w, "count", b->n_maps);
	jw_kv_u64_or_null(w, "memory_bytes", b->map_memory_bytes != 0, b->map_memory_bytes);
	jw_obj_end(w);
	jw_key(w, "drops");
	jw_obj_begin(w);
	jw_kv_u64(w, "block_inflight_full", b->drops.blk_start_full);
	jw_kv_u64(w, "block_devices_full", b->drops.blk_dev_full);
	jw_kv_u64(w, "net_interfaces_full", b->drops.net_full);
	jw_obj_end(w);
	jw_obj_end(w);
}
