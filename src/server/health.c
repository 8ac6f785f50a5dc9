/* SPDX-License-Identifier: MIT */
/* GET /healthz: the collectors, the perf source, history and the server, as JSON. */
#include <string.h>
#include <time.h>

#include "output/jsonw.h"
#include "pw_version.h"
#include "server/server.h"
#include "util/timeutil.h"

static int error_index(const struct pw_health *h, const char *collector)
{
	for (uint32_t i = 0; i < h->n_errors; i++)
		if (!strcmp(h->errors[i].collector, collector))
			return (int)i;
	return -1;
}

void pw_health_fill(struct pw_health *h, const struct snapshot *s, const struct pw_daemon *d, double published_at)
{
	const struct {
		const char *name;
		bool valid;
		bool present;
	} secs[PW_HEALTH_SECTIONS] = {
		{ "cpu", s->cpu.valid, true },
		{ "memory", s->memory.valid, true },
		{ "network", s->network.valid, true },
		{ "disk", s->disk.valid, true },
		{ "perf", true, true }, /* never null: a failure shows in error and available */
		{ "bpf", s->bpf_valid, s->bpf != NULL },
	};

	h->have = true;
	h->seq = s->seq;
	h->timestamp = s->timestamp;
	h->published_at = published_at;
	h->n_errors = s->n_errors < PW_MAX_ERRORS ? s->n_errors : PW_MAX_ERRORS;
	memcpy(h->errors, s->errors, h->n_errors * sizeof(h->errors[0]));
	h->n_sections = 0;
	for (size_t i = 0; i < PW_HEALTH_SECTIONS; i++) {
		int e;

		if (!secs[i].present)
			continue;
		e = error_index(h, secs[i].name);
		h->sections[h->n_sections].name = secs[i].name;
		h->sections[h->n_sections].error = e >= 0 ? e : secs[i].valid ? -1 : -2;
		h->n_sections++;
	}
	h->perf_source = pw_perf_source_name(s->perf.source);
	h->perf_available = s->perf.available;
	memcpy(h->perf_error, s->perf.error, sizeof(h->perf_error));
	h->perf_error[sizeof(h->perf_error) - 1] = '\0';
	h->history_error = error_index(h, "history");
	if (h->history_error >= 0)
		h->history = "error";
	else if (d->opts->no_db)
		h->history = "disabled";
	else if (d->history)
		h->history = "ok";
	else
		h->history = "unavailable";
}

void pw_health_json(const struct pw_server *srv, struct pw_buf *out)
{
	const struct pw_health *h = &srv->health;
	const struct pw_server_stats *st = &srv->stats;
	bool degraded = false;
	struct jw w;

	for (uint32_t i = 0; h->have && i < h->n_sections; i++)
		degraded |= h->sections[i].error != -1;
	degraded |= h->have && h->n_errors > 0;

	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kv_str(&w, "status", !h->have ? "starting" : degraded ? "degraded" : "ok");
	jw_kv_str(&w, "version", PW_VERSION);
	jw_kv_double(&w, "uptime_s", (double)(pw_mono_ns() - srv->d->start_mono_ns) / 1e9);
	jw_kv_double(&w, "interval_s", srv->opts->interval_s);

	jw_key(&w, "snapshot");
	if (h->have) {
		jw_obj_begin(&w);
		jw_kv_u64(&w, "seq", h->seq);
		jw_kv_double(&w, "timestamp", h->timestamp);
		jw_kv_double(&w, "age_s", (double)pw_clock_ns(CLOCK_REALTIME) / 1e9 - h->timestamp);
		jw_obj_end(&w);
	} else {
		jw_null(&w);
	}

	jw_key(&w, "collectors");
	jw_obj_begin(&w);
	for (uint32_t i = 0; h->have && i < h->n_sections; i++) {
		int e = h->sections[i].error;

		jw_key(&w, h->sections[i].name);
		jw_obj_begin(&w);
		jw_kv_str(&w, "status", e == -1 ? "ok" : "error");
		if (e >= 0)
			jw_kv_str(&w, "error", h->errors[e].message);
		else if (e == -2)
			jw_kv_str(&w, "error", "no data");
		jw_obj_end(&w);
	}
	jw_obj_end(&w);

	jw_key(&w, "perf");
	if (h->have) {
		jw_obj_begin(&w);
		jw_kv_str(&w, "source", h->perf_source);
		jw_kv_bool(&w, "available", h->perf_available);
		jw_kv_str_or_null(&w, "error", h->perf_error);
		jw_obj_end(&w);
	} else {
		jw_null(&w);
	}

	jw_key(&w, "history");
	jw_obj_begin(&w);
	jw_kv_str(&w, "status", h->have ? h->history : srv->opts->no_db ? "disabled" : "starting");
	if (h->have && h->history_error >= 0)
		jw_kv_str(&w, "error", h->errors[h->history_error].message);
	jw_obj_end(&w);

	jw_key(&w, "errors");
	jw_obj_begin(&w);
	for (uint32_t i = 0; h->have && i < h->n_errors; i++)
		jw_kv_str(&w, h->errors[i].collector, h->errors[i].message);
	jw_obj_end(&w);

	jw_key(&w, "server");
	jw_obj_begin(&w);
	jw_kv_u64(&w, "connections", st->connections);
	jw_kv_u64(&w, "max_connections", st->max_connections);
	jw_kv_u64(&w, "websocket_clients", st->ws_clients);
	jw_kv_u64(&w, "connections_rejected", st->connections_rejected);
	jw_key(&w, "requests_rejected");
	jw_obj_begin(&w);
	for (int i = 0; i < PW_REJECT_N; i++)
		jw_kv_u64(&w, pw_reject_names[i], st->requests_rejected[i]);
	jw_obj_end(&w);
	jw_kv_u64(&w, "scrapes_rejected", st->scrapes_rejected);
	jw_kv_u64(&w, "metrics_renders", st->metrics_renders);
	jw_kv_u64(&w, "broadcasts", st->broadcasts);
	jw_kv_u64(&w, "thread_cpu_ns", pw_clock_ns(CLOCK_THREAD_CPUTIME_ID)); /* we run on it */
	jw_kv_u64(&w, "websocket_messages", st->ws_messages);
	jw_kv_u64(&w, "websocket_skipped", st->ws_skipped);
	jw_kv_u64(&w, "websocket_stalled", st->ws_stalled);
	jw_kv_u64(&w, "websocket_bad_messages", st->ws_bad_frames);
	jw_kv_bool(&w, "tls", srv->tls);
	jw_kv_bool(&w, "auth", srv->auth);
	jw_obj_end(&w);

	jw_obj_end(&w);
}
