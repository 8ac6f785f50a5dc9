/* SPDX-License-Identifier: MIT */
/* Prometheus rendering of a hand-filled snapshot: names, units, labels, escaping, nulls. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/metrics.h"
#include "snapshot.h"

static struct snapshot snap;

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
	lacks(t, "event=\"cycles\"");
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
		cr_assert(!strncmp(line, fam, fl) && (line[fl] == ' ' || line[fl] == '{'),
			  "sample %s outside its family %s", line, fam);
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

/* The real linter, where it is installed (Debian's prometheus package). */
Test(metrics, promtool_accepts_it)
{
	struct pw_server_stats st = { 0 };
	struct pw_metrics_opts o = { .per_cpu = true };
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
