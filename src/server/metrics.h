/* SPDX-License-Identifier: MIT */
/*
 * The Prometheus text exposition (format 0.0.4) of a snapshot, for GET /metrics.
 *
 * Names follow Prometheus' conventions: prefix perfwatch_, base units (bytes, seconds,
 * ratios 0..1 instead of percent, hertz), counters end in _total, one HELP and TYPE per
 * family, every family's samples together. Labels are cpu, mode, interface, state,
 * device, fstype, mountpoint, event, source, collector, version (and the bpf section's
 * op, program, reason, le: src/bpf/bpf_metrics.c): only values from the
 * snapshot, never from a request. A null value (NaN) leaves its sample out; a null
 * section leaves its families out. The output passes `promtool check metrics`.
 */
#ifndef PW_SERVER_METRICS_H
#define PW_SERVER_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "server/promtext.h" /* pw_prom_label_value(), for the fuzzer */
#include "snapshot.h"
#include "util/buf.h"

struct pw_metrics_opts {
	bool per_cpu; /* false with --no-per-cpu-metrics: no series labelled cpu="N" */
};

/* The web server's own counters, appended to each scrape by the server thread. */
struct pw_server_stats {
	uint64_t connections;          /* open now */
	uint64_t max_connections;
	uint64_t ws_clients;           /* open now */
	uint64_t connections_rejected; /* refused at accept: over --max-clients */
	uint64_t requests_rejected[8]; /* indexed by enum pw_reject */
	uint64_t scrapes_rejected;     /* over the concurrent /metrics cap */
	uint64_t metrics_renders;      /* snapshots rendered for /metrics: one per scraped snapshot */
	uint64_t broadcasts;           /* snapshots handed to the WebSocket clients */
	uint64_t thread_cpu_ns;        /* CPU time of the server thread, everything it did */
	uint64_t ws_messages;          /* snapshots sent, all clients together */
	uint64_t ws_skipped;           /* snapshots a slow client never got (it got a newer one) */
	uint64_t ws_stalled;           /* clients hung up for not reading */
	uint64_t ws_bad_frames;        /* clients closed for oversized or fragmented messages */
};

enum pw_reject {
	PW_REJECT_AUTH = 0,
	PW_REJECT_HOST,
	PW_REJECT_ORIGIN,
	PW_REJECT_METHOD,
	PW_REJECT_BODY,
	PW_REJECT_PATH,
	PW_REJECT_UPGRADE,
	PW_REJECT_N
};

extern const char *const pw_reject_names[PW_REJECT_N];

void pw_metrics_render(const struct snapshot *s, const struct pw_metrics_opts *o, struct pw_buf *out);
void pw_metrics_render_server(const struct pw_server_stats *st, struct pw_buf *out);

#endif
