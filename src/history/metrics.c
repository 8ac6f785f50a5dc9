/* SPDX-License-Identifier: MIT */
/*
 * One table per snapshot struct says which fields history keeps and how: the writer
 * walks the tables over a snapshot, the query side checks names against the same
 * tables, so the two cannot disagree.
 */
#include "history/metrics.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

enum ctype { CT_DBL, CT_U64, CT_U32 };

struct field {
	const char *name;
	uint16_t off;
	uint8_t ctype;
	uint8_t kind;
};

#define DBL(s, f) { #f, offsetof(s, f), CT_DBL, PWH_KIND_DOUBLE }
#define CNT(s, f) { #f, offsetof(s, f), CT_U64, PWH_KIND_COUNTER }
#define GAU(s, f) { #f, offsetof(s, f), CT_U64, PWH_KIND_GAUGE }
#define END { NULL, 0, 0, 0 }

static const struct field cpu_fields[] = {
	DBL(struct pw_cpu, usage_percent), DBL(struct pw_cpu, user), DBL(struct pw_cpu, system),
	DBL(struct pw_cpu, idle), DBL(struct pw_cpu, iowait), DBL(struct pw_cpu, irq), DBL(struct pw_cpu, softirq),
	CNT(struct pw_cpu, interrupts), DBL(struct pw_cpu, interrupts_per_sec), CNT(struct pw_cpu, ctx_switches),
	{ "cpus_online", offsetof(struct pw_cpu, n_cpus_online), CT_U32, PWH_KIND_GAUGE },
	END,
};

static const struct field memory_fields[] = {
	DBL(struct pw_memory, usage_percent),
	GAU(struct pw_memory, total_bytes), GAU(struct pw_memory, used_bytes), GAU(struct pw_memory, available_bytes),
	GAU(struct pw_memory, free_bytes), GAU(struct pw_memory, cached_bytes), GAU(struct pw_memory, buffers_bytes),
	GAU(struct pw_memory, swap_total_bytes), GAU(struct pw_memory, swap_used_bytes),
	GAU(struct pw_memory, swap_free_bytes), GAU(struct pw_memory, hugepages_total),
	GAU(struct pw_memory, hugepages_free), GAU(struct pw_memory, hugepages_reserved),
	GAU(struct pw_memory, hugepage_size_bytes),
	DBL(struct pw_memory, pgpgin_per_sec), DBL(struct pw_memory, pgpgout_per_sec),
	DBL(struct pw_memory, pswpin_per_sec), DBL(struct pw_memory, pswpout_per_sec),
	DBL(struct pw_memory, page_io_bytes_per_sec), DBL(struct pw_memory, swap_io_bytes_per_sec),
	DBL(struct pw_memory, pgfault_per_sec), DBL(struct pw_memory, pgmajfault_per_sec),
	END,
};

static const struct field netif_fields[] = {
	CNT(struct pw_netif, bytes_sent), CNT(struct pw_netif, bytes_recv),
	CNT(struct pw_netif, packets_sent), CNT(struct pw_netif, packets_recv),
	CNT(struct pw_netif, errors_in), CNT(struct pw_netif, errors_out),
	CNT(struct pw_netif, drops_in), CNT(struct pw_netif, drops_out),
	DBL(struct pw_netif, bytes_sent_per_sec), DBL(struct pw_netif, bytes_recv_per_sec),
	DBL(struct pw_netif, packets_sent_per_sec), DBL(struct pw_netif, packets_recv_per_sec),
	END,
};

static const struct field conn_fields[] = {
	GAU(struct pw_connections, tcp_established), GAU(struct pw_connections, tcp_time_wait),
	GAU(struct pw_connections, tcp_close_wait), GAU(struct pw_connections, tcp_listen),
	GAU(struct pw_connections, udp_count),
	END,
};

static const struct field blockdev_fields[] = {
	CNT(struct pw_blockdev, read_bytes), CNT(struct pw_blockdev, write_bytes),
	CNT(struct pw_blockdev, read_count), CNT(struct pw_blockdev, write_count),
	CNT(struct pw_blockdev, read_time_ms), CNT(struct pw_blockdev, write_time_ms),
	DBL(struct pw_blockdev, read_bytes_per_sec), DBL(struct pw_blockdev, write_bytes_per_sec),
	DBL(struct pw_blockdev, read_iops), DBL(struct pw_blockdev, write_iops),
	DBL(struct pw_blockdev, read_latency_ms), DBL(struct pw_blockdev, write_latency_ms),
	END,
};

static const struct field partition_fields[] = {
	GAU(struct pw_partition, total_bytes), GAU(struct pw_partition, used_bytes),
	GAU(struct pw_partition, free_bytes), DBL(struct pw_partition, usage_percent),
	END,
};

/* PerfWatch's own cost: the two numbers worth a chart; the rest is live only. */
static const struct field self_fields[] = {
	{ "cycle_cpu_ns", offsetof(struct pw_self, cycle_cpu_ns), CT_U64, PWH_KIND_DOUBLE },
	GAU(struct pw_self, rss_bytes),
	END,
};

static const struct field perf_value_field = { "value", offsetof(struct pw_perf_event, value), CT_DBL,
					       PWH_KIND_DOUBLE };

/* cpu arrays: cpu.<name>.<index> */
static const char *const cpu_arrays[] = { "per_core", "frequency_mhz", "temperature_celsius" };

/* ------------------------------------------------------------ visiting a snapshot */
struct walker {
	char path[PWH_PATH_MAX];
	size_t len;
	pwh_visit_fn fn;
	void *ctx;
};

/* Sets the path to prefix; false when it does not fit (such an instance is skipped). */
static bool set_prefix(struct walker *w, const char *a, const char *b)
{
	int n = snprintf(w->path, sizeof(w->path), "%s%s", a, b ? b : "");

	if (n < 0 || (size_t)n >= sizeof(w->path) - 64)
		return false;
	w->len = (size_t)n;
	return true;
}

static void emit(struct walker *w, const char *name, enum pwh_kind kind, bool null, uint64_t q)
{
	size_t n = strlen(name);

	memcpy(w->path + w->len, name, n + 1);
	w->fn(w->ctx, w->path, w->len + n, kind, null, q);
}

static void emit_double(struct walker *w, const char *name, double v)
{
	bool null = pw_is_null(v);

	emit(w, name, PWH_KIND_DOUBLE, null, null ? 0 : pwh_q_from_double(v));
}

static void emit_fields(struct walker *w, const struct field *f, const void *base)
{
	for (; f->name; f++) {
		const char *p = (const char *)base + f->off;
		uint64_t u;
		uint32_t u32;
		double d;

		switch (f->ctype) {
		case CT_DBL:
			memcpy(&d, p, sizeof(d));
			emit_double(w, f->name, d);
			break;
		case CT_U32:
			memcpy(&u32, p, sizeof(u32));
			emit(w, f->name, (enum pwh_kind)f->kind, false, u32);
			break;
		default:
			memcpy(&u, p, sizeof(u));
			if (f->kind == PWH_KIND_DOUBLE)
				emit_double(w, f->name, (double)u);
			else
				emit(w, f->name, (enum pwh_kind)f->kind, false, u);
			break;
		}
	}
}

static void emit_array(struct walker *w, const char *name, const double *v, uint32_t n)
{
	char idx[16];

	if (!set_prefix(w, "cpu.", name))
		return;
	w->path[w->len++] = '.';
	for (uint32_t i = 0; i < n; i++) {
		snprintf(idx, sizeof(idx), "%u", i);
		emit_double(w, idx, v[i]);
	}
}

void pwh_snapshot_visit(const struct snapshot *s, pwh_visit_fn fn, void *ctx)
{
	struct walker w = { .fn = fn, .ctx = ctx };

	if (s->cpu.valid) {
		set_prefix(&w, "cpu.", NULL);
		emit_fields(&w, cpu_fields, &s->cpu);
		emit_array(&w, cpu_arrays[0], s->cpu.per_core, s->cpu.n_per_core);
		emit_array(&w, cpu_arrays[1], s->cpu.frequency_mhz, s->cpu.n_freq);
		emit_array(&w, cpu_arrays[2], s->cpu.temperature_celsius, s->cpu.n_temp);
	}
	if (s->memory.valid) {
		set_prefix(&w, "memory.", NULL);
		emit_fields(&w, memory_fields, &s->memory);
	}
	if (s->network.valid) {
		for (uint32_t i = 0; i < s->network.n_interfaces; i++) {
			const struct pw_netif *f = &s->network.interfaces[i];

			if (!f->name[0] || !set_prefix(&w, "network.interfaces.", f->name))
				continue;
			w.path[w.len++] = '.';
			emit_fields(&w, netif_fields, f);
		}
		if (s->network.connections.valid) {
			set_prefix(&w, "network.connections.", NULL);
			emit_fields(&w, conn_fields, &s->network.connections);
		}
	}
	if (s->disk.valid) {
		for (uint32_t i = 0; i < s->disk.n_devices; i++) {
			const struct pw_blockdev *b = &s->disk.devices[i];

			if (!b->name[0] || !set_prefix(&w, "disk.devices.", b->name))
				continue;
			w.path[w.len++] = '.';
			emit_fields(&w, blockdev_fields, b);
		}
		for (uint32_t i = 0; i < s->disk.n_partitions; i++) {
			const struct pw_partition *p = &s->disk.partitions[i];

			if (!p->mountpoint[0] || !set_prefix(&w, "disk.partitions.", p->mountpoint))
				continue;
			w.path[w.len++] = '.';
			emit_fields(&w, partition_fields, p);
		}
	}
	for (int i = 0; i < PW_PERF_NUM_EVENTS; i++) {
		const struct pw_perf_event *e = &s->perf.events[i];

		if (!e->counted || !set_prefix(&w, "perf.events.", pw_perf_event_names[i]))
			continue;
		w.path[w.len++] = '.';
		emit_double(&w, perf_value_field.name, e->value);
	}
	set_prefix(&w, "self.", NULL);
	emit_fields(&w, self_fields, &s->self);
}

/* ------------------------------------------------------------ checking a name */
static int find_field(const struct field *f, const char *name, size_t len, enum pwh_kind *ret_kind)
{
	for (; f->name; f++) {
		if (strlen(f->name) == len && !memcmp(f->name, name, len)) {
			*ret_kind = (enum pwh_kind)f->kind;
			return 0;
		}
	}
	return -ENOENT;
}

static bool has_prefix(const char *s, size_t len, const char *prefix, size_t *plen)
{
	size_t n = strlen(prefix);

	if (len < n || memcmp(s, prefix, n))
		return false;
	*plen = n;
	return true;
}

/* "<key>.<field>" after a prefix: the key is everything up to the last dot. */
static int keyed(const char *rest, size_t len, const struct field *fields, size_t key_max, enum pwh_kind *ret_kind)
{
	const char *dot = memrchr(rest, '.', len);
	size_t klen;

	if (!dot)
		return -EINVAL;
	klen = (size_t)(dot - rest);
	if (klen == 0 || klen >= key_max)
		return -EINVAL;
	return find_field(fields, dot + 1, len - klen - 1, ret_kind);
}

static int check(const char *path, size_t len, enum pwh_kind *kind)
{
	size_t n;

	if (has_prefix(path, len, "cpu.", &n)) {
		path += n;
		len -= n;
		for (size_t a = 0; a < sizeof(cpu_arrays) / sizeof(cpu_arrays[0]); a++) {
			size_t an = strlen(cpu_arrays[a]);

			if (len > an + 1 && !memcmp(path, cpu_arrays[a], an) && path[an] == '.') {
				size_t dl = len - an - 1;

				if (dl > 5 || (dl > 1 && path[an + 1] == '0'))
					return -EINVAL;
				for (size_t i = an + 1; i < len; i++)
					if (path[i] < '0' || path[i] > '9')
						return -EINVAL;
				*kind = PWH_KIND_DOUBLE;
				return 0;
			}
		}
		return find_field(cpu_fields, path, len, kind);
	}
	if (has_prefix(path, len, "memory.", &n))
		return find_field(memory_fields, path + n, len - n, kind);
	if (has_prefix(path, len, "network.interfaces.", &n))
		return keyed(path + n, len - n, netif_fields, PW_IFNAME_MAX, kind);
	if (has_prefix(path, len, "network.connections.", &n))
		return find_field(conn_fields, path + n, len - n, kind);
	if (has_prefix(path, len, "disk.devices.", &n))
		return keyed(path + n, len - n, blockdev_fields, PW_DEVNAME_MAX, kind);
	if (has_prefix(path, len, "disk.partitions.", &n))
		return keyed(path + n, len - n, partition_fields, PW_PATH_MAX, kind);
	if (has_prefix(path, len, "perf.events.", &n)) {
		static const char suffix[] = ".value";
		size_t sl = sizeof(suffix) - 1, el;
		char ev[64];

		path += n;
		len -= n;
		if (len <= sl || memcmp(path + len - sl, suffix, sl))
			return -EINVAL;
		el = len - sl;
		if (el >= sizeof(ev))
			return -EINVAL;
		memcpy(ev, path, el);
		ev[el] = '\0';
		if (pw_perf_event_index(ev) < 0)
			return -EINVAL;
		*kind = PWH_KIND_DOUBLE;
		return 0;
	}
	if (has_prefix(path, len, "self.", &n))
		return find_field(self_fields, path + n, len - n, kind);
	return -EINVAL;
}

int pwh_metric_check(const char *path, size_t len, enum pwh_kind *ret_kind, char *err, size_t errlen)
{
	enum pwh_kind kind;

	if (len == 0) {
		snprintf(err, errlen, "empty metric name");
		return -EINVAL;
	}
	if (len >= PWH_PATH_MAX || memchr(path, '\0', len)) {
		snprintf(err, errlen, "metric name too long or not text");
		return -EINVAL;
	}
	if (check(path, len, &kind) < 0) {
		snprintf(err, errlen, "unknown metric '%.*s' (a path into the snapshot, e.g. cpu.usage_percent)",
			 (int)(len > 200 ? 200 : len), path);
		return -EINVAL;
	}
	*ret_kind = kind;
	return 0;
}
