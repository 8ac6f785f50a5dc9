/* SPDX-License-Identifier: MIT */
/*
 * struct snapshot — the one data model of PerfWatch.
 *
 * Collectors fill it, outputs (JSON, history, /metrics, WebSocket) read it and never go
 * back to procfs or BPF maps. Its shape follows ../shared/snapshot.schema.json.
 *
 * Conventions:
 *  - A double that is "null" in JSON (a rate on the first sample, a percentage that
 *    cannot be computed) is stored as NAN: use PW_NULL / pw_is_null(). The JSON writer
 *    turns NaN and infinities into null, so they can never reach the output.
 *  - Counters are uint64_t (the schema's "count").
 *  - Variable-length parts are arrays owned by the snapshot, grown with
 *    pw_array_reserve() and reused from one snapshot to the next.
 *  - A section whose collector failed has `valid == false` and an entry in `errors`.
 */
#ifndef PW_SNAPSHOT_H
#define PW_SNAPSHOT_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PW_NULL NAN
static inline bool pw_is_null(double v) { return !isfinite(v); }

#define PW_IFNAME_MAX 64   /* /proc/net/dev names are at most IFNAMSIZ-1, with room for odd ones */
#define PW_DEVNAME_MAX 64  /* /proc/diskstats device names */
#define PW_PATH_MAX 512    /* mount points, devices of partitions */
#define PW_FSTYPE_MAX 32
#define PW_ERROR_MAX 256

/* ---------------------------------------------------------------- cpu */
struct pw_cpu {
	bool valid;
	double usage_percent; /* 100 - idle% over the interval (psutil.cpu_percent) */
	double user, system, idle, iowait, irq, softirq; /* psutil.cpu_times_percent */
	uint32_t n_per_core;
	uint32_t cap_per_core;
	double *per_core; /* usage_percent of each online CPU, in /proc/stat order */
	uint32_t n_freq;
	uint32_t cap_freq;
	double *frequency_mhz; /* per CPU: cpufreq scaling_cur_freq, else /proc/cpuinfo */
	uint32_t n_temp;
	uint32_t cap_temp;
	double *temperature_celsius; /* per core from hwmon/thermal; empty when none */
	uint64_t interrupts;         /* total since boot (/proc/stat "intr") */
	double interrupts_per_sec;   /* extra: rate of the above */
	uint64_t ctx_switches;       /* extra: /proc/stat "ctxt" */
	uint32_t n_cpus_online;
};

/* ---------------------------------------------------------------- memory */
struct pw_memory {
	bool valid;
	double usage_percent; /* (total - available) / total * 100 */
	uint64_t total_bytes, used_bytes, available_bytes, free_bytes, cached_bytes, buffers_bytes;
	uint64_t swap_total_bytes, swap_used_bytes, swap_free_bytes;
	uint64_t hugepages_total, hugepages_free, hugepages_reserved;
	uint64_t hugepage_size_bytes; /* extra */
	/* /proc/vmstat rates */
	double pgpgin_per_sec, pgpgout_per_sec; /* KB/s, as the kernel counts pgpgin/pgpgout */
	double pswpin_per_sec, pswpout_per_sec; /* pages/s */
	double page_io_bytes_per_sec;           /* (pgpgin + pgpgout) * 1024 */
	double swap_io_bytes_per_sec;           /* (pswpin + pswpout) * page size */
	double pgfault_per_sec, pgmajfault_per_sec;
};

/* ---------------------------------------------------------------- network */
struct pw_netif {
	char name[PW_IFNAME_MAX];
	uint64_t bytes_sent, bytes_recv, packets_sent, packets_recv;
	uint64_t errors_in, errors_out, drops_in, drops_out;
	double bytes_sent_per_sec, bytes_recv_per_sec, packets_sent_per_sec, packets_recv_per_sec;
};

struct pw_connections {
	bool valid;
	uint64_t tcp_established, tcp_time_wait, tcp_close_wait, tcp_listen, udp_count;
};

/* Where network.connections came from ("connections_source"). */
enum pw_conn_source { PW_CONN_SOURCE_NONE = 0, PW_CONN_SOURCE_BPF, PW_CONN_SOURCE_NETLINK, PW_CONN_SOURCE_PROC };
#define PW_CONN_WHY_MAX 160

struct pw_network {
	bool valid;
	uint32_t n_interfaces;
	uint32_t cap_interfaces;
	struct pw_netif *interfaces; /* loopback left out */
	struct pw_connections connections; /* !valid -> "connections": null */
	enum pw_conn_source connections_source;
	char connections_bpf_error[PW_CONN_WHY_MAX]; /* why the source is not bpf ("" when it is) */
};

/* ---------------------------------------------------------------- disk */
struct pw_blockdev {
	char name[PW_DEVNAME_MAX];
	uint64_t read_bytes, write_bytes, read_count, write_count, read_time_ms, write_time_ms;
	double read_bytes_per_sec, write_bytes_per_sec, read_iops, write_iops;
	double read_latency_ms, write_latency_ms; /* mean over the interval; null when none completed */
};

struct pw_partition {
	char device[PW_PATH_MAX];
	char fstype[PW_FSTYPE_MAX];
	char mountpoint[PW_PATH_MAX];
	uint64_t total_bytes, used_bytes, free_bytes;
	double usage_percent; /* used / (used + free-for-users), as psutil/df */
};

struct pw_disk {
	bool valid;
	uint32_t n_devices;
	uint32_t cap_devices;
	struct pw_blockdev *devices; /* loop devices left out (ram*, zram* kept, as psutil) */
	uint32_t n_partitions;
	uint32_t cap_partitions;
	struct pw_partition *partitions; /* physical filesystems only, like psutil all=False */
};

/* ---------------------------------------------------------------- perf */
enum pw_perf_source { PW_PERF_SOURCE_NONE = 0, PW_PERF_SOURCE_BPF, PW_PERF_SOURCE_PERF_STAT };

#define PW_PERF_NUM_EVENTS 17

struct pw_perf_event {
	bool counted;        /* false: not in "events" */
	double value;        /* over the interval, scaled for multiplexing; NAN -> null */
	const char *unit;    /* "msec" for cpu-clock, NULL otherwise */
	double running_ratio; /* time_running / time_enabled, 1.0 when not multiplexed; NAN unknown */
};

struct pw_perf {
	bool available;
	enum pw_perf_source source;
	char error[1024]; /* empty -> null */
	char skipped_sources[768]; /* why the sources tried before this one could not run; "" none */
	struct pw_perf_event events[PW_PERF_NUM_EVENTS]; /* indexed like pw_perf_event_names */
};

extern const char *const pw_perf_event_names[PW_PERF_NUM_EVENTS];
const char *pw_perf_source_name(enum pw_perf_source s);
int pw_perf_event_index(const char *name); /* -1 when unknown */

/* ---------------------------------------------------------------- errors */
struct pw_error {
	char collector[32];
	char message[PW_ERROR_MAX];
};

#define PW_MAX_ERRORS 16

struct pw_bpf; /* src/bpf/bpf_section.h: the eBPF section, owned by the bpf collector */

/* ---------------------------------------------------------------- self */
/* What PerfWatch itself cost, measured over the previous cycle (extra section "self"). */
#define PW_SELF_MAX_STAGES 8
struct pw_stage_cost {
	const char *name; /* a collector's or output's static name */
	uint64_t cpu_ns;
};

struct pw_self {
	uint32_t n_collectors, n_outputs;
	struct pw_stage_cost collectors[PW_SELF_MAX_STAGES]; /* thread CPU of each collector */
	struct pw_stage_cost outputs[PW_SELF_MAX_STAGES];    /* CPU of each output's publish */
	uint64_t cycle_cpu_ns;   /* process CPU time of the whole previous cycle */
	uint64_t collect_cpu_ns; /* all collectors (thread CPU time) */
	uint64_t json_cpu_ns;    /* serializing the snapshot once */
	uint64_t outputs_cpu_ns; /* history insert + broadcast + stdout */
	uint64_t rss_bytes;
	uint64_t snapshots_late; /* cycles whose collectors missed the deadline */
	double uptime_s;
};

/* ---------------------------------------------------------------- snapshot */
struct snapshot {
	double timestamp;   /* seconds since the epoch (CLOCK_REALTIME) */
	uint64_t mono_ns;   /* CLOCK_MONOTONIC when taken: what rates are computed over */
	uint64_t seq;
	char hostname[256];
	double interval_s;

	struct pw_cpu cpu;
	struct pw_memory memory;
	struct pw_network network;
	struct pw_disk disk;
	struct pw_perf perf;
	struct pw_self self;
	struct pw_bpf *bpf; /* owned by the snapshot; NULL when the bpf collector is not in use */
	bool bpf_valid;     /* false: "bpf" is null (or left out when bpf is NULL) */

	uint32_t n_errors;
	struct pw_error errors[PW_MAX_ERRORS];
};

void snapshot_init(struct snapshot *s);
void snapshot_free(struct snapshot *s);        /* accepts a zeroed snapshot */
void snapshot_reset(struct snapshot *s);       /* clears values, keeps allocations */
void snapshot_add_error(struct snapshot *s, const char *collector, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Grow *arr (of elem_size items, capacity *cap) to hold at least n; 0 or -ENOMEM. */
int pw_array_reserve(void *arr_ptr, uint32_t *cap, uint32_t n, size_t elem_size);

#endif
