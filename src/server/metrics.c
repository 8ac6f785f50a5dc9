/* SPDX-License-Identifier: MIT */
#include "server/metrics.h"

#include "bpf/bpf_section.h"
#include "pw_version.h"
#include "server/promtext.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const pw_reject_names[PW_REJECT_N] = {
	[PW_REJECT_AUTH] = "auth",
	[PW_REJECT_HOST] = "host",
	[PW_REJECT_ORIGIN] = "origin",
	[PW_REJECT_METHOD] = "method",
	[PW_REJECT_BODY] = "body",
	[PW_REJECT_PATH] = "path",
	[PW_REJECT_UPGRADE] = "upgrade",
};

/* ---------------------------------------------------------------- sections */

static void render_meta(const struct snapshot *s, struct pw_buf *b)
{
	struct pw_prom_fam info = PW_PROM_FAM(b, "perfwatch_build_info", "gauge", "PerfWatch version (always 1).");
	struct pw_prom_label l = { "version", PW_VERSION };

	pw_prom_sample(&info, &l, 1, 1);
	pw_prom_gauge(b, "perfwatch_snapshot_timestamp_seconds",
	      "When the snapshot was taken, seconds since the Unix epoch.", s->timestamp);
	pw_prom_counter_u64(b, "perfwatch_snapshots_total", "Snapshots taken since the daemon started.",
		    s->seq + 1);
	pw_prom_gauge(b, "perfwatch_interval_seconds", "Seconds between snapshots.", s->interval_s);
}

static const char *error_of(const struct snapshot *s, const char *collector)
{
	for (uint32_t i = 0; i < s->n_errors && i < PW_MAX_ERRORS; i++)
		if (!strcmp(s->errors[i].collector, collector))
			return s->errors[i].message;
	return NULL;
}

static void render_collectors(const struct snapshot *s, struct pw_buf *b)
{
	struct pw_prom_fam f = PW_PROM_FAM(b, "perfwatch_collector_up", "gauge",
			   "1 when the collector filled its section of the last snapshot, 0 when it is null.");
	const struct {
		const char *name;
		bool valid;
	} secs[] = {
		{ "cpu", s->cpu.valid },
		{ "memory", s->memory.valid },
		{ "network", s->network.valid },
		{ "disk", s->disk.valid },
		{ "perf", !error_of(s, "perf") },
		{ "bpf", s->bpf_valid },
	};

	for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		struct pw_prom_label l = { "collector", secs[i].name };

		if (!strcmp(secs[i].name, "bpf") && !s->bpf)
			continue;
		pw_prom_sample(&f, &l, 1, secs[i].valid && !error_of(s, secs[i].name) ? 1 : 0);
	}
}

static void render_cpu(const struct snapshot *s, const struct pw_metrics_opts *o, struct pw_buf *b)
{
	const struct pw_cpu *c = &s->cpu;
	struct pw_prom_fam mode = PW_PROM_FAM(b, "perfwatch_cpu_mode_ratio", "gauge",
			      "Share of CPU time in each mode over the last interval, all CPUs together (0..1).");
	const struct {
		const char *name;
		double pct;
	} modes[] = {
		{ "user", c->user },	 { "system", c->system }, { "idle", c->idle },
		{ "iowait", c->iowait }, { "irq", c->irq },	  { "softirq", c->softirq },
	};
	char idx[16];

	if (!c->valid)
		return;
	pw_prom_gauge(b, "perfwatch_cpu_usage_ratio", "CPU busy share over the last interval, all CPUs (0..1).",
	      pw_prom_pct_ratio(c->usage_percent));
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct pw_prom_label l = { "mode", modes[i].name };

		pw_prom_sample(&mode, &l, 1, pw_prom_pct_ratio(modes[i].pct));
	}
	pw_prom_counter_u64(b, "perfwatch_cpu_interrupts_total", "Interrupts serviced since boot.", c->interrupts);
	pw_prom_counter_u64(b, "perfwatch_cpu_context_switches_total", "Context switches since boot.", c->ctx_switches);
	if (c->n_cpus_online)
		pw_prom_gauge_u64(b, "perfwatch_cpus_online", "Online CPUs.", c->n_cpus_online);
	if (!o->per_cpu)
		return;

	struct pw_prom_fam core = PW_PROM_FAM(b, "perfwatch_cpu_core_usage_ratio", "gauge",
			      "CPU busy share of each CPU over the last interval (0..1).");
	struct pw_prom_fam freq = PW_PROM_FAM(b, "perfwatch_cpu_frequency_hertz", "gauge",
					      "Current frequency of each CPU.");
	struct pw_prom_fam temp = PW_PROM_FAM(b, "perfwatch_cpu_temperature_celsius", "gauge",
			      "Temperature of each core, where the sensors expose it.");

	for (uint32_t i = 0; c->per_core && i < c->n_per_core; i++) {
		struct pw_prom_label l = { "cpu", idx };

		snprintf(idx, sizeof(idx), "%u", i);
		pw_prom_sample(&core, &l, 1, pw_prom_pct_ratio(c->per_core[i]));
	}
	for (uint32_t i = 0; c->frequency_mhz && i < c->n_freq; i++) {
		struct pw_prom_label l = { "cpu", idx };

		snprintf(idx, sizeof(idx), "%u", i);
		pw_prom_sample(&freq, &l, 1, pw_is_null(c->frequency_mhz[i]) ? NAN : c->frequency_mhz[i] * 1e6);
	}
	for (uint32_t i = 0; c->temperature_celsius && i < c->n_temp; i++) {
		struct pw_prom_label l = { "cpu", idx };

		snprintf(idx, sizeof(idx), "%u", i);
		pw_prom_sample(&temp, &l, 1, pw_is_null(c->temperature_celsius[i]) ? NAN : c->temperature_celsius[i]);
	}
}

static void render_memory(const struct snapshot *s, struct pw_buf *b)
{
	const struct pw_memory *m = &s->memory;
	const struct {
		const char *name, *help;
		uint64_t v;
	} g[] = {
		{ "perfwatch_memory_total_bytes", "Usable RAM (MemTotal).", m->total_bytes },
		{ "perfwatch_memory_used_bytes", "RAM in use.", m->used_bytes },
		{ "perfwatch_memory_available_bytes", "RAM available for new work (MemAvailable).", m->available_bytes },
		{ "perfwatch_memory_free_bytes", "Unused RAM (MemFree).", m->free_bytes },
		{ "perfwatch_memory_cached_bytes", "Page cache.", m->cached_bytes },
		{ "perfwatch_memory_buffers_bytes", "Block device buffers.", m->buffers_bytes },
		{ "perfwatch_memory_swap_total_bytes", "Swap space.", m->swap_total_bytes },
		{ "perfwatch_memory_swap_used_bytes", "Swap in use.", m->swap_used_bytes },
		{ "perfwatch_memory_swap_free_bytes", "Swap free.", m->swap_free_bytes },
		{ "perfwatch_memory_hugepages", "Huge pages in the pool.", m->hugepages_total },
		{ "perfwatch_memory_hugepages_free", "Huge pages not yet allocated.", m->hugepages_free },
		{ "perfwatch_memory_hugepages_reserved", "Huge pages reserved but not yet allocated.",
		  m->hugepages_reserved },
	};
	const struct {
		const char *name, *help;
		double v;
	} r[] = {
		{ "perfwatch_memory_page_in_bytes_per_second", "Bytes paged in from disk per second (pgpgin).",
		  pw_prom_scaled(m->pgpgin_per_sec, 1024) },
		{ "perfwatch_memory_page_out_bytes_per_second", "Bytes paged out to disk per second (pgpgout).",
		  pw_prom_scaled(m->pgpgout_per_sec, 1024) },
		{ "perfwatch_memory_swap_in_pages_per_second", "Pages swapped in per second.", m->pswpin_per_sec },
		{ "perfwatch_memory_swap_out_pages_per_second", "Pages swapped out per second.", m->pswpout_per_sec },
		{ "perfwatch_memory_page_io_bytes_per_second", "Paging I/O, in and out, bytes per second.",
		  m->page_io_bytes_per_sec },
		{ "perfwatch_memory_swap_io_bytes_per_second", "Swap I/O, in and out, bytes per second.",
		  m->swap_io_bytes_per_sec },
		{ "perfwatch_memory_page_faults_per_second", "Page faults per second.", m->pgfault_per_sec },
		{ "perfwatch_memory_major_page_faults_per_second", "Major page faults per second.",
		  m->pgmajfault_per_sec },
	};

	if (!m->valid)
		return;
	pw_prom_gauge(b, "perfwatch_memory_usage_ratio", "(total - available) / total.",
		      pw_prom_pct_ratio(m->usage_percent));
	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++)
		pw_prom_gauge_u64(b, g[i].name, g[i].help, g[i].v);
	if (m->hugepage_size_bytes)
		pw_prom_gauge_u64(b, "perfwatch_memory_hugepage_size_bytes", "Size of one huge page.",
				  m->hugepage_size_bytes);
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		pw_prom_gauge(b, r[i].name, r[i].help, r[i].v);
}

static void render_network(const struct snapshot *s, struct pw_buf *b)
{
	const struct pw_network *n = &s->network;
	const struct {
		const char *name, *help;
		size_t off;
	} fams[] = {
		{ "perfwatch_network_receive_bytes_total", "Bytes received.", offsetof(struct pw_netif, bytes_recv) },
		{ "perfwatch_network_transmit_bytes_total", "Bytes sent.", offsetof(struct pw_netif, bytes_sent) },
		{ "perfwatch_network_receive_packets_total", "Packets received.",
		  offsetof(struct pw_netif, packets_recv) },
		{ "perfwatch_network_transmit_packets_total", "Packets sent.", offsetof(struct pw_netif, packets_sent) },
		{ "perfwatch_network_receive_errors_total", "Receive errors.", offsetof(struct pw_netif, errors_in) },
		{ "perfwatch_network_transmit_errors_total", "Transmit errors.", offsetof(struct pw_netif, errors_out) },
		{ "perfwatch_network_receive_drops_total", "Received packets dropped.",
		  offsetof(struct pw_netif, drops_in) },
		{ "perfwatch_network_transmit_drops_total", "Outgoing packets dropped.",
		  offsetof(struct pw_netif, drops_out) },
	};
	uint32_t n_ifs = n->interfaces ? n->n_interfaces : 0;
	bool *dup;

	if (!n->valid)
		return;
	dup = pw_prom_duplicates(b, n->interfaces, sizeof(*n->interfaces), offsetof(struct pw_netif, name), n_ifs);
	if (!dup)
		return;
	for (size_t k = 0; k < sizeof(fams) / sizeof(fams[0]); k++) {
		struct pw_prom_fam f = PW_PROM_FAM(b, fams[k].name, "counter", fams[k].help);

		for (uint32_t i = 0; i < n_ifs; i++) {
			const struct pw_netif *ifc = &n->interfaces[i];
			struct pw_prom_label l = { "interface", ifc->name };
			uint64_t v;

			if (dup[i])
				continue;
			memcpy(&v, (const char *)ifc + fams[k].off, sizeof(v));
			pw_prom_sample_u64(&f, &l, 1, v);
		}
	}
	free(dup);
	if (n->connections.valid) {
		const struct pw_connections *c = &n->connections;
		struct pw_prom_fam f = PW_PROM_FAM(b, "perfwatch_network_tcp_connections", "gauge",
						   "TCP sockets by state.");
		const struct {
			const char *state;
			uint64_t v;
		} st[] = {
			{ "established", c->tcp_established },
			{ "time_wait", c->tcp_time_wait },
			{ "close_wait", c->tcp_close_wait },
			{ "listen", c->tcp_listen },
		};

		for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
			struct pw_prom_label l = { "state", st[i].state };

			pw_prom_sample_u64(&f, &l, 1, st[i].v);
		}
		pw_prom_gauge_u64(b, "perfwatch_network_udp_sockets", "UDP sockets.", c->udp_count);
	}
}

static void render_disk(const struct snapshot *s, struct pw_buf *b)
{
	const struct pw_disk *d = &s->disk;
	const struct {
		const char *name, *help;
		size_t off;
		double k; /* 0: an integer counter as is */
	} cnt[] = {
		{ "perfwatch_disk_read_bytes_total", "Bytes read.", offsetof(struct pw_blockdev, read_bytes), 0 },
		{ "perfwatch_disk_written_bytes_total", "Bytes written.", offsetof(struct pw_blockdev, write_bytes), 0 },
		{ "perfwatch_disk_reads_completed_total", "Reads completed.", offsetof(struct pw_blockdev, read_count), 0 },
		{ "perfwatch_disk_writes_completed_total", "Writes completed.",
		  offsetof(struct pw_blockdev, write_count), 0 },
		{ "perfwatch_disk_read_time_seconds_total", "Time spent reading.",
		  offsetof(struct pw_blockdev, read_time_ms), 1e-3 },
		{ "perfwatch_disk_write_time_seconds_total", "Time spent writing.",
		  offsetof(struct pw_blockdev, write_time_ms), 1e-3 },
	};
	const struct {
		const char *name, *help;
		size_t off;
	} lat[] = {
		{ "perfwatch_disk_read_latency_seconds", "Mean time per completed read over the last interval.",
		  offsetof(struct pw_blockdev, read_latency_ms) },
		{ "perfwatch_disk_write_latency_seconds", "Mean time per completed write over the last interval.",
		  offsetof(struct pw_blockdev, write_latency_ms) },
	};
	const struct {
		const char *name, *help;
		size_t off;
	} fs[] = {
		{ "perfwatch_filesystem_size_bytes", "Filesystem size.", offsetof(struct pw_partition, total_bytes) },
		{ "perfwatch_filesystem_used_bytes", "Filesystem space used.", offsetof(struct pw_partition, used_bytes) },
		{ "perfwatch_filesystem_free_bytes", "Filesystem space free for unprivileged users.",
		  offsetof(struct pw_partition, free_bytes) },
	};
	uint32_t n_devs = d->devices ? d->n_devices : 0, n_parts = d->partitions ? d->n_partitions : 0;
	bool *dev_dup, *part_dup;

	if (!d->valid)
		return;
	dev_dup = pw_prom_duplicates(b, d->devices, sizeof(*d->devices), offsetof(struct pw_blockdev, name), n_devs);
	part_dup = pw_prom_duplicates(b, d->partitions, sizeof(*d->partitions),
				      offsetof(struct pw_partition, mountpoint), n_parts);
	if (!dev_dup || !part_dup)
		goto out_free;
	for (size_t k = 0; k < sizeof(cnt) / sizeof(cnt[0]); k++) {
		struct pw_prom_fam f = PW_PROM_FAM(b, cnt[k].name, "counter", cnt[k].help);

		for (uint32_t i = 0; i < n_devs; i++) {
			const struct pw_blockdev *dev = &d->devices[i];
			struct pw_prom_label l = { "device", dev->name };
			uint64_t v;

			if (dev_dup[i])
				continue;
			memcpy(&v, (const char *)dev + cnt[k].off, sizeof(v));
			if (cnt[k].k)
				pw_prom_sample(&f, &l, 1, (double)v * cnt[k].k);
			else
				pw_prom_sample_u64(&f, &l, 1, v);
		}
	}
	for (size_t k = 0; k < sizeof(lat) / sizeof(lat[0]); k++) {
		struct pw_prom_fam f = PW_PROM_FAM(b, lat[k].name, "gauge", lat[k].help);

		for (uint32_t i = 0; i < n_devs; i++) {
			const struct pw_blockdev *dev = &d->devices[i];
			struct pw_prom_label l = { "device", dev->name };
			double v;

			if (dev_dup[i])
				continue;
			memcpy(&v, (const char *)dev + lat[k].off, sizeof(v));
			pw_prom_sample(&f, &l, 1, pw_prom_scaled(v, 1e-3));
		}
	}
	for (size_t k = 0; k <= sizeof(fs) / sizeof(fs[0]); k++) {
		bool ratio = k == sizeof(fs) / sizeof(fs[0]);
		struct pw_prom_fam f = PW_PROM_FAM(b, ratio ? "perfwatch_filesystem_usage_ratio" : fs[k].name, "gauge",
						   ratio ? "used / (used + free for unprivileged users), as df shows it."
							 : fs[k].help);

		for (uint32_t i = 0; i < n_parts; i++) {
			const struct pw_partition *p = &d->partitions[i];
			struct pw_prom_label l[] = { { "device", p->device }, { "fstype", p->fstype },
						     { "mountpoint", p->mountpoint } };
			uint64_t v;

			if (part_dup[i])
				continue;
			if (ratio) {
				pw_prom_sample(&f, l, 3, pw_prom_pct_ratio(p->usage_percent));
				continue;
			}
			memcpy(&v, (const char *)p + fs[k].off, sizeof(v));
			pw_prom_sample_u64(&f, l, 3, v);
		}
	}
out_free:
	free(dev_dup);
	free(part_dup);
}

static void render_perf(const struct snapshot *s, struct pw_buf *b)
{
	const struct pw_perf *p = &s->perf;
	struct pw_prom_fam src = PW_PROM_FAM(b, "perfwatch_perf_source_info", "gauge",
			     "Where the perf counters come from (bpf, perf-stat or none); always 1.");
	struct pw_prom_fam cnt = PW_PROM_FAM(b, "perfwatch_perf_events", "gauge",
			     "Events counted over the last interval, system-wide, scaled for multiplexing.");
	struct pw_prom_fam secs = PW_PROM_FAM(b, "perfwatch_perf_event_seconds", "gauge",
			      "Time-based events (cpu-clock) over the last interval, in seconds.");
	struct pw_prom_fam run = PW_PROM_FAM(b, "perfwatch_perf_event_running_ratio", "gauge",
			     "Share of the interval each counter was scheduled (1 when not multiplexed).");
	struct pw_prom_label l = { "source", pw_perf_source_name(p->source) };

	pw_prom_gauge(b, "perfwatch_perf_available", "1 when all 17 perf events can be counted.", p->available ? 1 : 0);
	pw_prom_sample(&src, &l, 1, 1);
	for (int pass = 0; pass < 3; pass++) {
		for (int i = 0; i < PW_PERF_NUM_EVENTS; i++) {
			const struct pw_perf_event *e = &p->events[i];
			bool is_time = e->unit && (!strcmp(e->unit, "msec") || !strcmp(e->unit, "ms"));
			struct pw_prom_label el = { "event", pw_perf_event_names[i] };

			if (!e->counted)
				continue;
			if (pass == 0 && !is_time)
				pw_prom_sample(&cnt, &el, 1, e->value);
			else if (pass == 1 && is_time)
				pw_prom_sample(&secs, &el, 1, pw_prom_scaled(e->value, 1e-3));
			else if (pass == 2)
				pw_prom_sample(&run, &el, 1, e->running_ratio);
		}
	}
}

static void render_self(const struct snapshot *s, struct pw_buf *b)
{
	const struct pw_self *p = &s->self;

	pw_prom_gauge(b, "perfwatch_self_cycle_cpu_seconds", "CPU time PerfWatch used for its previous snapshot.",
	      (double)p->cycle_cpu_ns / 1e9);
	pw_prom_gauge(b, "perfwatch_self_collect_cpu_seconds", "CPU time of all collectors in the previous cycle.",
	      (double)p->collect_cpu_ns / 1e9);
	pw_prom_gauge(b, "perfwatch_self_json_cpu_seconds", "CPU time spent serializing the snapshot once.",
	      (double)p->json_cpu_ns / 1e9);
	pw_prom_gauge(b, "perfwatch_self_outputs_cpu_seconds",
		      "CPU time of history, server and stdout in the previous cycle.",
	      (double)p->outputs_cpu_ns / 1e9);
	pw_prom_gauge_u64(b, "perfwatch_self_resident_memory_bytes", "PerfWatch's resident memory.", p->rss_bytes);
	pw_prom_counter_u64(b, "perfwatch_self_late_snapshots_total", "Cycles whose collectors missed their deadline.",
		    p->snapshots_late);
	pw_prom_gauge(b, "perfwatch_self_uptime_seconds", "Seconds since the daemon started.", p->uptime_s);
}

void pw_metrics_render(const struct snapshot *s, const struct pw_metrics_opts *o, struct pw_buf *out)
{
	render_meta(s, out);
	render_collectors(s, out);
	render_cpu(s, o, out);
	render_memory(s, out);
	render_network(s, out);
	render_disk(s, out);
	render_perf(s, out);
	if (s->bpf && s->bpf_valid)
		pw_bpf_section_metrics(s->bpf, out, o->per_cpu);
	render_self(s, out);
}

void pw_metrics_render_server(const struct pw_server_stats *st, struct pw_buf *b)
{
	struct pw_prom_fam rej = PW_PROM_FAM(b, "perfwatch_server_requests_rejected_total", "counter",
			     "Requests refused, by reason (auth, host, origin, method, body, path, upgrade).");

	pw_prom_gauge_u64(b, "perfwatch_server_connections", "Open HTTP and WebSocket connections.", st->connections);
	pw_prom_gauge_u64(b, "perfwatch_server_connections_limit", "Most concurrent connections (--max-clients).",
		  st->max_connections);
	pw_prom_gauge_u64(b, "perfwatch_server_websocket_clients", "Open WebSocket streams.", st->ws_clients);
	pw_prom_counter_u64(b, "perfwatch_server_connections_rejected_total",
		    "Connections closed at accept because --max-clients were open.", st->connections_rejected);
	for (int i = 0; i < PW_REJECT_N; i++) {
		struct pw_prom_label l = { "reason", pw_reject_names[i] };

		pw_prom_sample_u64(&rej, &l, 1, st->requests_rejected[i]);
	}
	pw_prom_counter_u64(b, "perfwatch_server_scrapes_rejected_total",
		    "Scrapes answered 503 because too many were in flight.", st->scrapes_rejected);
	pw_prom_counter_u64(b, "perfwatch_server_metrics_renders_total",
		    "Snapshots rendered for /metrics: only scraped ones, each once.", st->metrics_renders);
	pw_prom_counter_u64(b, "perfwatch_server_broadcasts_total", "Snapshots handed to the WebSocket clients.",
		    st->broadcasts);
	{
		struct pw_prom_fam f = PW_PROM_FAM(b, "perfwatch_server_thread_cpu_seconds_total", "counter",
				   "CPU time of the server thread: broadcasts, HTTP, TLS, everything.");

		pw_prom_sample(&f, NULL, 0, (double)st->thread_cpu_ns / 1e9);
	}
	pw_prom_counter_u64(b, "perfwatch_server_websocket_messages_total", "Snapshots sent, all clients together.",
		    st->ws_messages);
	pw_prom_counter_u64(b, "perfwatch_server_websocket_skipped_total",
		    "Snapshots a slow client never got because a newer one replaced it.", st->ws_skipped);
	pw_prom_counter_u64(b, "perfwatch_server_websocket_stalled_total", "WebSocket clients hung up for not reading.",
		    st->ws_stalled);
	pw_prom_counter_u64(b, "perfwatch_server_websocket_bad_messages_total",
		    "WebSocket clients closed for a message over the size or fragment limit.", st->ws_bad_frames);
}
