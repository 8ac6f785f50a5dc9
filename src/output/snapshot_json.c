/* SPDX-License-Identifier: MIT */
#include "output/snapshot_json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bpf/bpf_section.h"
#include "output/jsonw.h"
#include "util/decimal.h"

static void json_doubles(struct jw *w, const char *key, const double *v, uint32_t n)
{
	jw_key(w, key);
	jw_arr_begin(w);
	for (uint32_t i = 0; i < n; i++)
		jw_double(w, v[i]);
	jw_arr_end(w);
}

static void json_cpu(struct jw *w, const struct pw_cpu *c)
{
	jw_key(w, "cpu");
	if (!c->valid) {
		jw_null(w);
		return;
	}
	jw_obj_begin(w);
	jw_kv_double(w, "usage_percent", c->usage_percent);
	json_doubles(w, "per_core", c->per_core, c->n_per_core);
	jw_kv_double(w, "user", c->user);
	jw_kv_double(w, "system", c->system);
	jw_kv_double(w, "idle", c->idle);
	jw_kv_double(w, "iowait", c->iowait);
	jw_kv_double(w, "irq", c->irq);
	jw_kv_double(w, "softirq", c->softirq);
	json_doubles(w, "frequency_mhz", c->frequency_mhz, c->n_freq);
	json_doubles(w, "temperature_celsius", c->temperature_celsius, c->n_temp);
	jw_kv_u64(w, "interrupts", c->interrupts);
	jw_kv_double(w, "interrupts_per_sec", c->interrupts_per_sec);
	jw_kv_u64(w, "ctx_switches", c->ctx_switches);
	jw_kv_u64(w, "cpus_online", c->n_cpus_online);
	jw_obj_end(w);
}

static void json_memory(struct jw *w, const struct pw_memory *m)
{
	jw_key(w, "memory");
	if (!m->valid) {
		jw_null(w);
		return;
	}
	jw_obj_begin(w);
	jw_kv_double(w, "usage_percent", m->usage_percent);
	jw_kv_u64(w, "total_bytes", m->total_bytes);
	jw_kv_u64(w, "used_bytes", m->used_bytes);
	jw_kv_u64(w, "available_bytes", m->available_bytes);
	jw_kv_u64(w, "free_bytes", m->free_bytes);
	jw_kv_u64(w, "cached_bytes", m->cached_bytes);
	jw_kv_u64(w, "buffers_bytes", m->buffers_bytes);
	jw_kv_u64(w, "swap_total_bytes", m->swap_total_bytes);
	jw_kv_u64(w, "swap_used_bytes", m->swap_used_bytes);
	jw_kv_u64(w, "swap_free_bytes", m->swap_free_bytes);
	jw_kv_u64(w, "hugepages_total", m->hugepages_total);
	jw_kv_u64(w, "hugepages_free", m->hugepages_free);
	jw_kv_u64(w, "hugepages_reserved", m->hugepages_reserved);
	jw_kv_u64(w, "hugepage_size_bytes", m->hugepage_size_bytes);
	jw_kv_double(w, "pgpgin_per_sec", m->pgpgin_per_sec);
	jw_kv_double(w, "pgpgout_per_sec", m->pgpgout_per_sec);
	jw_kv_double(w, "pswpin_per_sec", m->pswpin_per_sec);
	jw_kv_double(w, "pswpout_per_sec", m->pswpout_per_sec);
	jw_kv_double(w, "page_io_bytes_per_sec", m->page_io_bytes_per_sec);
	jw_kv_double(w, "swap_io_bytes_per_sec", m->swap_io_bytes_per_sec);
	jw_kv_double(w, "pgfault_per_sec", m->pgfault_per_sec);
	jw_kv_double(w, "pgmajfault_per_sec", m->pgmajfault_per_sec);
	jw_obj_end(w);
}

/* "connections_source": "bpf" | "netlink" | "proc" (null with the counts), and why not bpf. */
static void json_connections_source(struct jw *w, const struct pw_network *n)
{
	static const char *const names[] = {
		[PW_CONN_SOURCE_BPF] = "bpf",
		[PW_CONN_SOURCE_NETLINK] = "netlink",
		[PW_CONN_SOURCE_PROC] = "proc",
	};
	unsigned src = (unsigned)n->connections_source;

	jw_key(w, "connections_source");
	if (n->connections.valid && src < sizeof(names) / sizeof(names[0]) && names[src])
		jw_str(w, names[src]);
	else
		jw_null(w);
	jw_key(w, "connections_bpf_error");
	if (src != PW_CONN_SOURCE_BPF && n->connections_bpf_error[0])
		jw_strn(w, n->connections_bpf_error, strnlen(n->connections_bpf_error, sizeof(n->connections_bpf_error)));
	else
		jw_null(w);
}

static void json_network(struct jw *w, const struct pw_network *n)
{
	const struct pw_connections *c = &n->connections;

	jw_key(w, "network");
	if (!n->valid) {
		jw_null(w);
		return;
	}
	jw_obj_begin(w);
	jw_key(w, "interfaces");
	jw_obj_begin(w);
	for (uint32_t i = 0; i < n->n_interfaces; i++) {
		const struct pw_netif *f = &n->interfaces[i];

		jw_key(w, f->name);
		jw_obj_begin(w);
		jw_kv_u64(w, "bytes_sent", f->bytes_sent);
		jw_kv_u64(w, "bytes_recv", f->bytes_recv);
		jw_kv_double(w, "bytes_sent_per_sec", f->bytes_sent_per_sec);
		jw_kv_double(w, "bytes_recv_per_sec", f->bytes_recv_per_sec);
		jw_kv_u64(w, "packets_sent", f->packets_sent);
		jw_kv_u64(w, "packets_recv", f->packets_recv);
		jw_kv_double(w, "packets_sent_per_sec", f->packets_sent_per_sec);
		jw_kv_double(w, "packets_recv_per_sec", f->packets_recv_per_sec);
		jw_kv_u64(w, "errors_in", f->errors_in);
		jw_kv_u64(w, "errors_out", f->errors_out);
		jw_kv_u64(w, "drops_in", f->drops_in);
		jw_kv_u64(w, "drops_out", f->drops_out);
		jw_obj_end(w);
	}
	jw_obj_end(w);
	jw_key(w, "connections");
	if (!c->valid) {
		jw_null(w);
	} else {
		jw_obj_begin(w);
		jw_kv_u64(w, "tcp_established", c->tcp_established);
		jw_kv_u64(w, "tcp_time_wait", c->tcp_time_wait);
		jw_kv_u64(w, "tcp_close_wait", c->tcp_close_wait);
		jw_kv_u64(w, "tcp_listen", c->tcp_listen);
		jw_kv_u64(w, "udp_count", c->udp_count);
		jw_obj_end(w);
	}
	json_connections_source(w, n);
	jw_obj_end(w);
}

static void json_disk(struct jw *w, const struct pw_disk *d)
{
	jw_key(w, "disk");
	if (!d->valid) {
		jw_null(w);
		return;
	}
	jw_obj_begin(w);
	jw_key(w, "devices");
	jw_obj_begin(w);
	for (uint32_t i = 0; i < d->n_devices; i++) {
		const struct pw_blockdev *b = &d->devices[i];

		jw_key(w, b->name);
		jw_obj_begin(w);
		jw_kv_u64(w, "read_bytes", b->read_bytes);
		jw_kv_u64(w, "write_bytes", b->write_bytes);
		jw_kv_double(w, "read_bytes_per_sec", b->read_bytes_per_sec);
		jw_kv_double(w, "write_bytes_per_sec", b->write_bytes_per_sec);
		jw_kv_u64(w, "read_count", b->read_count);
		jw_kv_u64(w, "write_count", b->write_count);
		jw_kv_double(w, "read_iops", b->read_iops);
		jw_kv_double(w, "write_iops", b->write_iops);
		jw_kv_u64(w, "read_time_ms", b->read_time_ms);
		jw_kv_u64(w, "write_time_ms", b->write_time_ms);
		jw_kv_double(w, "read_latency_ms", b->read_latency_ms);
		jw_kv_double(w, "write_latency_ms", b->write_latency_ms);
		jw_obj_end(w);
	}
	jw_obj_end(w);
	jw_key(w, "partitions");
	jw_obj_begin(w);
	for (uint32_t i = 0; i < d->n_partitions; i++) {
		const struct pw_partition *p = &d->partitions[i];

		jw_key(w, p->mountpoint);
		jw_obj_begin(w);
		jw_kv_str(w, "device", p->device);
		jw_kv_str(w, "fstype", p->fstype);
		jw_kv_str(w, "mountpoint", p->mountpoint);
		jw_kv_u64(w, "total_bytes", p->total_bytes);
		jw_kv_u64(w, "used_bytes", p->used_bytes);
		jw_kv_u64(w, "free_bytes", p->free_bytes);
		jw_kv_double(w, "usage_percent", p->usage_percent);
		jw_obj_end(w);
	}
	jw_obj_end(w);
	jw_obj_end(w);
}

static void json_perf(struct jw *w, const struct pw_perf *p)
{
	jw_key(w, "perf");
	jw_obj_begin(w);
	jw_kv_bool(w, "available", p->available);
	jw_kv_str_or_null(w, "error", p->error);
	jw_kv_str(w, "source", pw_perf_source_name(p->source));
	if (p->skipped_sources[0])
		jw_kv_str(w, "skipped_sources", p->skipped_sources);
	jw_key(w, "events");
	jw_obj_begin(w);
	for (int i = 0; i < PW_PERF_NUM_EVENTS; i++) {
		const struct pw_perf_event *e = &p->events[i];

		if (!e->counted)
			continue;
		jw_key(w, pw_perf_event_names[i]);
		jw_obj_begin(w);
		jw_kv_double(w, "value", e->value);
		jw_key(w, "unit");
		jw_str(w, e->unit);
		jw_kv_double(w, "running_ratio", e->running_ratio);
		jw_obj_end(w);
	}
	jw_obj_end(w);
	jw_obj_end(w);
}

static void json_stage_costs(struct jw *w, const char *key, const struct pw_stage_cost *c, uint32_t n)
{
	jw_key(w, key);
	jw_obj_begin(w);
	for (uint32_t i = 0; i < n && i < PW_SELF_MAX_STAGES; i++)
		if (c[i].name)
			jw_kv_u64(w, c[i].name, c[i].cpu_ns);
	jw_obj_end(w);
}

/* Seconds with six decimals, as "%.6f" writes them, from whole microseconds. */
static void json_timestamp(struct jw *w, double t)
{
	char tmp[2 * PW_DEC_MAX + 1], frac[PW_DEC_MAX];
	int64_t us = llround(t * 1e6);
	char *p, *f;
	size_t n;

	if (!(t >= 0 && t < 1e12)) {
		jw_double(w, t);
		return;
	}
	p = pw_dec_u64(tmp, (uint64_t)us / 1000000);
	n = (size_t)(tmp + PW_DEC_MAX - p);
	memmove(tmp, p, n);
	tmp[n++] = '.';
	f = pw_dec_u64(frac, (uint64_t)us % 1000000 + 1000000); /* "1" and six digits */
	memcpy(tmp + n, f + 1, 6);
	jw_raw(w, tmp, n + 6);
}

void snapshot_to_json(const struct snapshot *s, struct pw_buf *out)
{
	struct jw w;

	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kv_u64(&w, "version", 1);
	jw_key(&w, "timestamp");
	json_timestamp(&w, s->timestamp);
	jw_kv_u64(&w, "seq", s->seq);
	jw_kv_str(&w, "hostname", s->hostname);
	jw_kv_double(&w, "interval_s", s->interval_s);
	json_cpu(&w, &s->cpu);
	json_memory(&w, &s->memory);
	json_network(&w, &s->network);
	json_disk(&w, &s->disk);
	json_perf(&w, &s->perf);
	jw_key(&w, "self");
	jw_obj_begin(&w);
	jw_kv_u64(&w, "cycle_cpu_ns", s->self.cycle_cpu_ns);
	jw_kv_u64(&w, "collect_cpu_ns", s->self.collect_cpu_ns);
	jw_kv_u64(&w, "json_cpu_ns", s->self.json_cpu_ns);
	jw_kv_u64(&w, "outputs_cpu_ns", s->self.outputs_cpu_ns);
	jw_kv_u64(&w, "rss_bytes", s->self.rss_bytes);
	jw_kv_u64(&w, "snapshots_late", s->self.snapshots_late);
	jw_kv_double(&w, "uptime_s", s->self.uptime_s);
	json_stage_costs(&w, "collector_cpu_ns", s->self.collectors, s->self.n_collectors);
	json_stage_costs(&w, "output_cpu_ns", s->self.outputs, s->self.n_outputs);
	jw_obj_end(&w);
	if (s->bpf) {
		jw_key(&w, "bpf");
		if (s->bpf_valid)
			pw_bpf_section_json(s->bpf, &w);
		else
			jw_null(&w);
	}
	jw_key(&w, "errors");
	jw_obj_begin(&w);
	for (uint32_t i = 0; i < s->n_errors; i++)
		jw_kv_str(&w, s->errors[i].collector, s->errors[i].message);
	jw_obj_end(&w);
	jw_obj_end(&w);
}
