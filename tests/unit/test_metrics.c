/* SPDX-License-Identifier: MIT */
/* Prometheus rendering of a hand-filled snapshot: names, units, labels, escaping, nulls,
 * the bpf section's counters and histograms, and the real promtool on all of it. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf/bpf_section.h"
#include "server/metrics.h"
#include "snapshot.h"

static struct snapshot snap;

/* A bpf section as the reader leaves it (src/bpf/bpf_read.c), filled by hand. */
static void fill_bpf(struct snapshot *s)
{
	struct pw_bpf *b = calloc(1, sizeof(*b));

	cr_assert_not_null(b);
	s->bpf = b;
	s->bpf_valid = true;
	b->interval_s = 5;
	cr_assert_eq(pw_array_reserve(&b->cpus, &b->cap_cpus, 2, sizeof(*b->cpus)), 0);
	b->cpus[0] = (struct pw_bpf_cpu){ .cpu = 0, .context_switches = 10, .cpu_clock_ms = 5000,
					  .context_switches_total = 1000, .migrations_total = 7,
					  .faults_user_total = 300, .faults_kernel_total = 4 };
	b->cpus[1] = (struct pw_bpf_cpu){ .cpu = 3, .cpu_clock_ms = PW_NULL, /* CPUs 1, 2 offline */
					  .context_switches_total = 18446744073709551615ull };
	b->n_cpus = 2;
	b->context_switches_total = 2000;
	b->migrations_total = 8;
	b->faults_user_total = 301;
	b->faults_kernel_total = 5;

	/* run-queue: 5 under 2 us, 2 in [8, 16) us, 1 in the open last slot */
	b->runq_total.slots[0] = 5;
	b->runq_total.slots[3] = 2;
	b->runq_total.slots[PW_BPF_HIST_SLOTS - 1] = 1;
	b->runq_total.count = 8;
	b->runq_total.sum_ns = 1500000000;

	cr_assert_eq(pw_array_reserve(&b->block, &b->cap_block, 3, sizeof(*b->block)), 0);
	memset(b->block, 0, 3 * sizeof(*b->block));
	snprintf(b->block[0].name, PW_DEVNAME_MAX, "vda");
	b->block[0].requests_total[PW_BPF_BLK_READ] = 11;
	b->block[0].requests_total[PW_BPF_BLK_WRITE] = 12;
	b->block[0].bytes_total[PW_BPF_BLK_WRITE] = 49152;
	b->block[0].errors_total = 1;
	b->block[0].latency_total.slots[6] = 23; /* [64, 128) us */
	b->block[0].latency_total.count = 23;
	b->block[0].latency_total.sum_ns = 2300000;
	snprintf(b->block[1].name, PW_DEVNAME_MAX, "8:16");
	snprintf(b->block[2].name, PW_DEVNAME_MAX, "vda"); /* a duplicate name */
	b->block[2].requests_total[PW_BPF_BLK_READ] = 999;
	b->n_block = 3;

	cr_assert_eq(pw_array_reserve(&b->net, &b->cap_net, 2, sizeof(*b->net)), 0);
	memset(b->net, 0, 2 * sizeof(*b->net));
	snprintf(b->net[0].name, PW_IFNAME_MAX, "if4@netns4026532000");
	b->net[0].rx_packets_total = 5;
	b->net[0].tx_bytes_total = 700;
	snprintf(b->net[1].name, PW_IFNAME_MAX, "b\\a\"d\n\xc3");
	b->net[1].rx_bytes_total = 77;
	b->n_net = 2;

	b->ratios = (struct pw_bpf_ratios){ .ipc = 1.5, .branch_miss_percent = 2.5, .l1d_miss_percent = PW_NULL,
					    .llc_miss_percent = 40, .dtlb_miss_percent = PW_NULL,
					    .itlb_miss_percent = PW_NULL, .l1d_mpki = PW_NULL, .llc_mpki = 0.25,
					    .branch_mpki = PW_NULL };

	b->n_progs = 3;
	snprintf(b->progs[0].name, sizeof(b->progs[0].name), "pw_sched_switch");
	b->progs[0].attached = true;
	b->progs[0].run_count_total = 123456;
	b->progs[0].run_time_ns_total = 2500000;
	b->progs[0].recursion_misses_total = 2;
	snprintf(b->progs[1].name, sizeof(b->progs[1].name), "pw_block_rq_issue");
	snprintf(b->progs[1].why, sizeof(b->progs[1].why), "no such tracepoint");
	snprintf(b->progs[2].name, sizeof(b->progs[2].name), "pw_read_pmu");
	b->progs[2].attached = true;
	b->progs[2].run_count_total = 40;
	for (int i = 0; i < 4; i++) {
		b->events[i].counted = true;
		b->events[i].cpus = 2;
	}
	b->stats_enabled = true;
	b->n_maps = 9;
	b->map_memory_bytes = 1 << 20;
	b->drops.net_full = 3;
}

static void fill(struct snapshot *s)
{
	snapshot_init(s);
	s->timestamp = 1700000000.25;
	s->seq = 41;
	s->interval_s = 5;
	snprintf(s->hostname, sizeof(s->hostname), "host");

	s->cpu.valid = true;
	s->cpu.usage_percent = 25;
	s->cpu.user = 20;
	s->cpu.system = 5;
	s->cpu.idle = 75;
	s->cpu.iowait = 0;
	s->cpu.irq = 0;
	s->cpu.softirq = PW_NULL;
	s->cpu.interrupts = 123456789012345ull;
	s->cpu.ctx_switches = 42;
	s->cpu.n_cpus_online = 2;
	cr_assert_eq(pw_array_reserve(&s->cpu.per_core, &s->cpu.cap_per_core, 2, sizeof(double)), 0);
	s->cpu.per_core[0] = 50;
	s->cpu.per_core[1] = PW_NULL;
	s->cpu.n_per_core = 2;
	cr_assert_eq(pw_array_reserve(&s->cpu.frequency_mhz, &s->cpu.cap_freq, 1, sizeof(double)), 0);
	s->cpu.frequency_mhz[0] = 2400.5;
	s->cpu.n_freq = 1;

	s->memory.valid = true;
	s->memory.usage_percent = 12.5;
	s->memory.total_bytes = 8ull << 30;
	s->memory.available_bytes = 7ull << 30;
	s->memory.hugepages_total = 3;
	s->memory.pgpgin_per_sec = 2; /* KB/s */
	s->memory.pgpgout_per_sec = PW_NULL;
	s->memory.pswpin_per_sec = 0;
	s->memory.pswpout_per_sec = 0;
	s->memory.page_io_bytes_per_sec = PW_NULL;
	s->memory.swap_io_bytes_per_sec = 0;
	s->memory.pgfault_per_sec = 0.1;
	s->memory.pgmajfault_per_sec = 0;

	s->network.valid = true;
	cr_assert_eq(pw_array_reserve(&s->network.interfaces, &s->network.cap_interfaces, 3,
				      sizeof(struct pw_netif)), 0);
	memset(s->network.interfaces, 0, 3 * sizeof(struct pw_netif));
	snprintf(s->network.interfaces[0].name, PW_IFNAME_MAX, "eth0");
	s->network.interfaces[0].bytes_recv = 1000;
	s->network.interfaces[0].bytes_sent = 2000;
	/* a name a hostile interface could carry: quote, backslash, newline, bad UTF-8 */
	snprintf(s->network.interfaces[1].name, PW_IFNAME_MAX, "we\"ird\\na\nme\xff");
	s->network.interfaces[1].bytes_recv = 7;
	snprintf(s->network.interfaces[2].name, PW_IFNAME_MAX, "eth0"); /* a duplicate */
	s->network.interfaces[2].bytes_recv = 99;
	s->network.n_interfaces = 3;
	s->network.connections.valid = true;
	s->network.connections.tcp_established = 4;

	s->disk.valid = true;
	cr_assert_eq(pw_array_reserve(&s->disk.devices, &s->disk.cap_devices, 1, sizeof(struct pw_blockdev)), 0);
	memset(s->disk.devices, 0, sizeof(struct pw_blockdev));
	snprintf(s->disk.devices[0].name, PW_DEVNAME_MAX, "vda");
	s->disk.devices[0].read_time_ms = 1500;
	s->disk.devices[0].read_latency_ms = 0.5;
	s->disk.devices[0].write_latency_ms = PW_NULL;
	s->disk.n_devices = 1;
	cr_assert_eq(pw_array_reserve(&s->disk.partitions, &s->disk.cap_partitions, 1, sizeof(struct pw_partition)), 0);
	memset(s->disk.partitions, 0, sizeof(struct pw_partition));
	snprintf(s->disk.partitions[0].device, PW_PATH_MAX, "/dev/vda1");
	snprintf(s->disk.partitions[0].fstype, PW_FSTYPE_MAX, "ext4");
	snprintf(s->disk.partitions[0].mountpoint, PW_PATH_MAX, "/mnt/my disk");
	s->disk.partitions[0].total_bytes = 1000;
	s->disk.partitions[0].usage_percent = 40;
	s->disk.n_partitions = 1;

	s->perf.source = PW_PERF_SOURCE_PERF_STAT;
	s->perf.available = false;
	s->perf.events[0].counted = true; /* cpu-clock */
	s->perf.events[0].value = 2500;
	s->perf.events[0].unit = "msec";
	s->perf.events[0].running_ratio = 1;
	s->perf.events[1].counted = true; /* context-switches */
	s->perf.events[1].value = 321;
	s->perf.events[1].running_ratio = 0.5;
	s->perf.events[4].counted = true; /* cycles: counted, value unknown */
	s->perf.events[4].value = PW_NULL;
	s->perf.events[4].running_ratio = PW_NULL;

	s->self.rss_bytes = 4096;
	s->self.uptime_s = 10;

	fill_bpf(s);
}

static char *render(bool per_cpu)
{
	struct pw_metrics_opts o = { .per_cpu = per_cpu };
	struct pw_buf b = { 0 };

	pw_metrics_render(&snap, &o, &b);
	cr_assert(!b.oom);
	return b.data;
}

static void setup(void)
{
	fill(&snap);
}

static void teardown(void)
{
	snapshot_free(&snap);
}

TestSuite(metrics, .init = setup, .fini = teardown);

static void has_line(const char *text, const char *line)
{
	char *want;

	cr_assert(asprintf(&want, "\n%s\n", line) > 0);
	cr_assert(strstr(text, want) != NULL, "missing line: %s", line);
	free(want);
}

static void lacks(const char *text, const char *what)
{
	cr_assert(strstr(text, what) == NULL, "unexpected: %s", what);
}

Test(metrics, base_units_and_values)
{
	char *t = render(true);

	has_line(t, "perfwatch_snapshots_total 42");
	has_line(t, "perfwatch_interval_seconds 5");
	has_line(t, "perfwatch_snapshot_timestamp_seconds 1700000000.25");
	has_line(t, "perfwatch_cpu_usage_ratio 0.25");
	has_line(t, "perfwatch_cpu_mode_ratio{mode=\"user\"} 0.2");
	has_line(t, "perfwatch_cpu_interrupts_total 123456789012345");
	has_line(t, "perfwatch_cpu_frequency_hertz{cpu=\"0\"} 2400500000");
	has_line(t, "perfwatch_memory_total_bytes 8589934592");
	has_line(t, "perfwatch_memory_usage_ratio 0.125");
	has_line(t, "perfwatch_memory_hugepages 3");
	has_line(t, "perfwatch_memory_page_in_bytes_per_second 2048");
	has_line(t, "perfwatch_network_receive_bytes_total{interface=\"eth0\"} 1000");
	has_line(t, "perfwatch_network_transmit_bytes_total{interface=\"eth0\"} 2000");
	has_line(t, "perfwatch_network_tcp_connections{state=\"established\"} 4");
	has_line(t, "perfwatch_disk_read_time_seconds_total{device=\"vda\"} 1.5");
	has_line(t, "perfwatch_disk_read_latency_seconds{device=\"vda\"} 0.0005");
	has_line(t, "perfwatch_filesystem_size_bytes{device=\"/dev/vda1\",fstype=\"ext4\",mountpoint=\"/mnt/my disk\"} 1000");
	has_line(t, "perfwatch_filesystem_usage_ratio{device=\"/dev/vda1\",fstype=\"ext4\",mountpoint=\"/mnt/my disk\"} 0.4");
	has_line(t, "perfwatch_perf_event_seconds{event=\"cpu-clock\"} 2.5");
	has_line(t, "perfwatch_perf_events{event=\"context-switches\"} 321");
	has_line(t, "perfwatch_perf_event_running_ratio{event=\"context-switches\"} 0.5");
	has_line(t, "perfwatch_perf_source_info{source=\"perf-stat\"} 1");
	has_line(t, "perfwatch_perf_available 0");
	has_line(t, "perfwatch_self_resident_memory_bytes 4096");
	free(t);
}

Test(metrics, nulls_leave_samples_out)
{
	char *t = render(true);

	lacks(t, "perfwatch_cpu_mode_ratio{mode=\"softirq\"}");
	lacks(t, "perfwatch_cpu_core_usage_ratio{cpu=\"1\"}");
	lacks(t, "perfwatch_memory_page_out_bytes_per_second");
	lacks(t, "perfwatch_memory_page_io_bytes_per_second");
	lacks(t, "perfwatch_disk_write_latency_seconds");
	lacks(t, "perfwatch_perf_events{event=\"cycles\"}");
	lacks(t, "perfwatch_perf_event_running_ratio{event=\"cycles\"}");
	lacks(t, "NaN");
	free(t);
}

Test(metrics, null_sections_leave_families_out)
{
	char *t;

	snap.cpu.valid = false;
	snap.network.valid = false;
	snapshot_add_error(&snap, "cpu", "boom");
	t = render(true);
	lacks(t, "perfwatch_cpu_");
	lacks(t, "perfwatch_network_");
	has_line(t, "perfwatch_collector_up{collector=\"cpu\"} 0");
	has_line(t, "perfwatch_collector_up{collector=\"memory\"} 1");
	has_line(t, "perfwatch_collector_up{collector=\"network\"} 0");
	free(t);
}

Test(metrics, per_cpu_series_can_be_turned_off)
{
	char *on = render(true), *off = render(false);

	has_line(on, "perfwatch_cpu_core_usage_ratio{cpu=\"0\"} 0.5");
	lacks(off, "cpu=\"");
	has_line(off, "perfwatch_cpu_usage_ratio 0.25");
	free(on);
	free(off);
}

Test(metrics, label_values_are_escaped)
{
	char *t = render(true);

	/* \" \\ \n escaped; the invalid byte became U+FFFD */
	has_line(t, "perfwatch_network_receive_bytes_total{interface=\"we\\\"ird\\\\na\\nme\xef\xbf\xbd\"} 7");
	free(t);
}

Test(metrics, duplicate_series_are_dropped)
{
	char *t = render(true);

	lacks(t, "perfwatch_network_receive_bytes_total{interface=\"eth0\"} 99");
	free(t);
}

/* Every family: one HELP and one TYPE, before its samples, samples contiguous; counters
 * and only counters end in _total. */
Test(metrics, families_are_well_formed)
{
	char *t = render(true), *save = NULL, *line;
	char fam[128] = "", type[16] = "", seen[256][128];
	int n_seen = 0;

	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128];

		if (!strncmp(line, "# HELP ", 7)) {
			cr_assert_eq(sscanf(line + 7, "%127s", name), 1);
			for (int i = 0; i < n_seen; i++)
				cr_assert_str_neq(seen[i], name, "family %s twice", name);
			cr_assert_lt(n_seen, 256);
			snprintf(seen[n_seen++], 128, "%s", name);
			snprintf(fam, sizeof(fam), "%s", name);
			type[0] = '\0';
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			cr_assert_eq(sscanf(line + 7, "%127s %15s", name, type), 2);
			cr_assert_str_eq(name, fam);
			size_t nl = strlen(name);
			bool total = nl > 6 && !strcmp(name + nl - 6, "_total");
			cr_assert_eq(total, !strcmp(type, "counter"), "%s is a %s", name, type);
			continue;
		}
		cr_assert(type[0], "sample before TYPE: %s", line);
		size_t fl = strlen(fam);
		const char *rest = line + fl;

		cr_assert(!strncmp(line, fam, fl), "sample %s outside its family %s", line, fam);
		if (!strcmp(type, "histogram")) {
			if (!strncmp(rest, "_bucket", 7))
				rest += 7;
			else if (!strncmp(rest, "_sum", 4))
				rest += 4;
			else if (!strncmp(rest, "_count", 6))
				rest += 6;
		}
		cr_assert(*rest == ' ' || *rest == '{', "sample %s outside its family %s", line, fam);
	}
	free(t);
}

Test(metrics, server_stats)
{
	struct pw_server_stats st = { .connections = 3, .max_connections = 256, .broadcasts = 7,
				      .thread_cpu_ns = 1500000 };
	struct pw_buf b = { 0 };

	st.requests_rejected[PW_REJECT_ORIGIN] = 2;
	pw_metrics_render_server(&st, &b);
	has_line(b.data, "perfwatch_server_connections 3");
	has_line(b.data, "perfwatch_server_requests_rejected_total{reason=\"origin\"} 2");
	has_line(b.data, "perfwatch_server_thread_cpu_seconds_total 0.0015");
	pw_buf_free(&b);
}

/* ---------------------------------------------------------------- the bpf section */

Test(metrics, bpf_counters_are_totals_with_labels)
{
	char *t = render(true);

	has_line(t, "perfwatch_bpf_context_switches_total{cpu=\"0\"} 1000");
	has_line(t, "perfwatch_bpf_context_switches_total{cpu=\"3\"} 18446744073709551615");
	has_line(t, "perfwatch_bpf_cpu_migrations_total{cpu=\"0\"} 7");
	has_line(t, "perfwatch_bpf_page_faults_total{cpu=\"0\",mode=\"user\"} 300");
	has_line(t, "perfwatch_bpf_page_faults_total{cpu=\"0\",mode=\"kernel\"} 4");
	has_line(t, "perfwatch_bpf_cpu_clock_seconds{cpu=\"0\"} 5");
	lacks(t, "perfwatch_bpf_cpu_clock_seconds{cpu=\"3\"}");
	has_line(t, "perfwatch_bpf_block_requests_total{device=\"vda\",op=\"read\"} 11");
	has_line(t, "perfwatch_bpf_block_requests_total{device=\"vda\",op=\"write\"} 12");
	has_line(t, "perfwatch_bpf_block_requests_total{device=\"8:16\",op=\"other\"} 0");
	has_line(t, "perfwatch_bpf_block_bytes_total{device=\"vda\",op=\"write\"} 49152");
	has_line(t, "perfwatch_bpf_block_errors_total{device=\"vda\"} 1");
	has_line(t, "perfwatch_bpf_network_receive_packets_total{interface=\"if4@netns4026532000\"} 5");
	has_line(t, "perfwatch_bpf_network_transmit_bytes_total{interface=\"if4@netns4026532000\"} 700");
	/* \\, \" and \n escaped, a cut UTF-8 sequence replaced */
	has_line(t, "perfwatch_bpf_network_receive_bytes_total{interface=\"b\\\\a\\\"d\\n\xef\xbf\xbd\"} 77");
	has_line(t, "perfwatch_bpf_interval_seconds 5");
	has_line(t, "perfwatch_bpf_test_software_events 0");
	free(t);
}

Test(metrics, bpf_duplicate_names_keep_the_first)
{
	char *t = render(true);

	lacks(t, "999");
	has_line(t, "perfwatch_bpf_block_errors_total{device=\"vda\"} 1");
	free(t);
}

/* The cumulative bucket of le="x" holds every observation up to x; +Inf and _count all. */
static void has_bucket(const char *t, const char *series, const char *le, const char *v)
{
	char *line;

	cr_assert(asprintf(&line, "%s%sle=\"%s\"} %s", series, strchr(series, '{') ? "," : "{", le, v) > 0);
	has_line(t, line);
	free(line);
}

Test(metrics, bpf_log2_histograms_become_prometheus_histograms)
{
	char *t = render(true);
	const char *rq = "perfwatch_bpf_runqueue_latency_seconds_bucket";
	const char *blk = "perfwatch_bpf_block_latency_seconds_bucket{device=\"vda\"";
	const char *p;
	int n = 0;

	has_line(t, "# TYPE perfwatch_bpf_runqueue_latency_seconds histogram");
	has_bucket(t, rq, "2e-06", "5");   /* slot 0: [0, 2) us */
	has_bucket(t, rq, "8e-06", "5");
	has_bucket(t, rq, "1.6e-05", "7"); /* slot 3: [8, 16) us */
	has_bucket(t, rq, "1.048576", "7");
	has_bucket(t, rq, "2147.483648", "7"); /* 2^31 us: the last finite bound */
	has_bucket(t, rq, "+Inf", "8");   /* the open last slot */
	has_line(t, "perfwatch_bpf_runqueue_latency_seconds_sum 1.5");
	has_line(t, "perfwatch_bpf_runqueue_latency_seconds_count 8");
	for (p = t; (p = strstr(p, rq)); p++)
		n++;
	cr_assert_eq(n, PW_BPF_HIST_SLOTS, "31 finite buckets and +Inf, got %d", n);

	has_bucket(t, blk, "6.4e-05", "0");
	has_bucket(t, blk, "0.000128", "23");
	has_bucket(t, blk, "+Inf", "23");
	has_line(t, "perfwatch_bpf_block_latency_seconds_sum{device=\"vda\"} 0.0023");
	has_line(t, "perfwatch_bpf_block_latency_seconds_count{device=\"vda\"} 23");
	has_line(t, "perfwatch_bpf_block_latency_seconds_count{device=\"8:16\"} 0");
	free(t);
}

Test(metrics, bpf_runq_left_out_when_not_measured)
{
	char *t;

	snprintf(snap.bpf->runq_why, PW_BPF_WHY_MAX, "pw_sched_switch: not attached");
	t = render(true);
	lacks(t, "perfwatch_bpf_runqueue_latency_seconds");
	free(t);
}

Test(metrics, bpf_ratios_capabilities_and_self)
{
	char *t = render(true);

	has_line(t, "perfwatch_bpf_instructions_per_cycle 1.5");
	has_line(t, "perfwatch_bpf_miss_ratio{event=\"branch-misses\"} 0.025");
	has_line(t, "perfwatch_bpf_miss_ratio{event=\"LLC-load-misses\"} 0.4");
	lacks(t, "perfwatch_bpf_miss_ratio{event=\"L1-dcache-load-misses\"}");
	has_line(t, "perfwatch_bpf_misses_per_kilo_instructions{event=\"LLC-load-misses\"} 0.25");
	lacks(t, "perfwatch_bpf_misses_per_kilo_instructions{event=\"branch-misses\"}");
	has_line(t, "perfwatch_bpf_program_attached{program=\"pw_sched_switch\"} 1");
	has_line(t, "perfwatch_bpf_program_attached{program=\"pw_block_rq_issue\"} 0");
	has_line(t, "perfwatch_bpf_event_counted{event=\"page-faults\"} 1");
	has_line(t, "perfwatch_bpf_event_counted{event=\"cycles\"} 0");
	has_line(t, "perfwatch_bpf_event_cpus{event=\"context-switches\"} 2");
	has_line(t, "perfwatch_bpf_stats_enabled 1");
	has_line(t, "perfwatch_bpf_program_runs_total{program=\"pw_sched_switch\"} 123456");
	has_line(t, "perfwatch_bpf_program_run_time_seconds_total{program=\"pw_sched_switch\"} 0.0025");
	has_line(t, "perfwatch_bpf_program_runs_total{program=\"pw_read_pmu\"} 40");
	lacks(t, "perfwatch_bpf_program_runs_total{program=\"pw_block_rq_issue\"}");
	has_line(t, "perfwatch_bpf_program_recursion_misses_total{program=\"pw_sched_switch\"} 2");
	has_line(t, "perfwatch_bpf_maps 9");
	has_line(t, "perfwatch_bpf_map_memory_bytes 1048576");
	has_line(t, "perfwatch_bpf_events_lost_total{reason=\"net_interfaces_full\"} 3");
	has_line(t, "perfwatch_bpf_events_lost_total{reason=\"block_inflight_full\"} 0");
	free(t);
}

/* Without run-time stats the kernel's run counters stand still: no series, not a false 0. */
Test(metrics, bpf_no_run_counts_without_stats)
{
	char *t;

	snap.bpf->stats_enabled = false;
	snap.bpf->map_memory_bytes = 0; /* unknown */
	t = render(true);
	has_line(t, "perfwatch_bpf_stats_enabled 0");
	lacks(t, "perfwatch_bpf_program_runs_total");
	lacks(t, "perfwatch_bpf_program_run_time_seconds_total");
	lacks(t, "perfwatch_bpf_map_memory_bytes");
	has_line(t, "perfwatch_bpf_program_recursion_misses_total{program=\"pw_sched_switch\"} 2");
	free(t);
}

/* A tracepoint that is not attached counts nothing: no counter that says 0 events. */
Test(metrics, bpf_uncounted_events_have_no_counters)
{
	char *t;

	snap.bpf->events[1].counted = false; /* context-switches */
	t = render(true);
	lacks(t, "perfwatch_bpf_context_switches_total");
	has_line(t, "perfwatch_bpf_cpu_migrations_total{cpu=\"0\"} 7");
	free(t);
	t = render(false);
	lacks(t, "perfwatch_bpf_context_switches_total");
	free(t);
}

/* --no-per-cpu-metrics: the same families once for all CPUs, so sum() works either way. */
Test(metrics, bpf_without_per_cpu_series)
{
	char *t = render(false);

	lacks(t, "cpu=\"");
	lacks(t, "perfwatch_bpf_cpu_clock_seconds");
	has_line(t, "perfwatch_bpf_context_switches_total 2000");
	has_line(t, "perfwatch_bpf_cpu_migrations_total 8");
	has_line(t, "perfwatch_bpf_page_faults_total{mode=\"user\"} 301");
	has_line(t, "perfwatch_bpf_page_faults_total{mode=\"kernel\"} 5");
	has_line(t, "perfwatch_bpf_runqueue_latency_seconds_count 8");
	free(t);
}

Test(metrics, bpf_null_section_leaves_its_families_out)
{
	char *t;

	snap.bpf_valid = false;
	t = render(true);
	lacks(t, "perfwatch_bpf_");
	has_line(t, "perfwatch_collector_up{collector=\"bpf\"} 0");
	free(t);
	pw_bpf_section_free(snap.bpf);
	snap.bpf = NULL;
	t = render(true);
	lacks(t, "perfwatch_bpf_");
	lacks(t, "collector=\"bpf\"");
	free(t);
}

Test(metrics, duplicates_are_marked_after_the_first)
{
	const char names[][8] = { "b", "a", "b", "c", "a", "b" };
	const bool want[] = { false, false, true, false, true, true };
	struct pw_buf b = { 0 };
	bool *dup = pw_prom_duplicates(&b, names, sizeof(names[0]), 0, 6);

	cr_assert_not_null(dup);
	for (int i = 0; i < 6; i++)
		cr_assert_eq(dup[i], want[i], "item %d", i);
	free(dup);
	dup = pw_prom_duplicates(&b, NULL, 8, 0, 0);
	cr_assert_not_null(dup);
	cr_assert(!b.oom);
	free(dup);
}

/* The real linter, where it is installed (Debian's prometheus package). */
static void promtool_check(bool per_cpu)
{
	struct pw_server_stats st = { 0 };
	struct pw_metrics_opts o = { .per_cpu = per_cpu };
	struct pw_buf b = { 0 };
	char path[] = "/tmp/pw-metrics-XXXXXX", cmd[256];
	int fd, rc;

	if (access("/usr/bin/promtool", X_OK) != 0)
		cr_skip_test("promtool is not installed (Debian package prometheus)");
	pw_metrics_render(&snap, &o, &b);
	pw_metrics_render_server(&st, &b);
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, b.data, b.len), (ssize_t)b.len);
	close(fd);
	snprintf(cmd, sizeof(cmd), "/usr/bin/promtool check metrics < %s", path);
	rc = system(cmd);
	unlink(path);
	pw_buf_free(&b);
	cr_assert_eq(rc, 0, "promtool check metrics failed");
}

Test(metrics, promtool_accepts_it)
{
	promtool_check(true);
}

Test(metrics, promtool_accepts_it_without_per_cpu_series)
{
	promtool_check(false);
}
