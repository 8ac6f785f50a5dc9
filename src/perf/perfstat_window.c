/* SPDX-License-Identifier: MIT */
#include "perf/perfstat_window.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void pw_perfstat_window_init(struct pw_perfstat_window *w, unsigned n_cpus)
{
	memset(w, 0, sizeof(*w));
	w->n_cpus = n_cpus;
	w->drop_first = true;
	w->last_taken = true;
}

/*
 * The length of the interval as the kernel measured it: the enabled time of an event that
 * counts on every CPU (the software events always do), per CPU. Lines of a PMU that
 * covers only some CPUs (one side of a hybrid machine) have less, hence the maximum.
 */
static double interval_length(const struct pw_perfstat_window *w, double ts_length)
{
	double most = 0.0;

	if (!w->n_cpus)
		return ts_length;
	for (int e = 0; e < PW_PERF_NUM_EVENTS; e++)
		if (w->group[e].n_counted && !w->group[e].times_unknown && w->group[e].enabled_ns > most)
			most = w->group[e].enabled_ns;
	return most > 0 ? most / 1e9 / w->n_cpus : ts_length;
}

static void close_group(struct pw_perfstat_window *w)
{
	double dur = interval_length(w, w->group_ts - w->last_ts);

	if (w->drop_first) {
		/* counts from before perf's time 0: only where the next interval starts is kept */
		w->drop_first = false;
		w->n_dropped++;
		goto out_reset;
	}
	for (int e = 0; e < PW_PERF_NUM_EVENTS; e++) {
		const struct pw_perfstat_group_event *g = &w->group[e];
		struct pw_perfstat_acc *a = &w->pending.acc[e];

		if (g->n_counted) {
			a->sum += g->sum;
			a->counted_s += dur;
			a->msec |= g->msec;
			a->run_ns += g->run_ns;
			a->enabled_ns += g->enabled_ns;
			a->running_unknown |= g->times_unknown;
		} else if (g->n_not_supported) {
			a->not_supported = true;
		} else if (g->n_not_counted) {
			/* enabled all along, never ran: counts in the share of time it ran */
			a->not_counted = true;
			a->enabled_ns += dur * 1e9 * (w->n_cpus ? w->n_cpus : 1);
		}
	}
	w->pending.n_intervals++;
	w->pending.covered_s += dur;
	w->last_taken = false;
out_reset:
	w->last_ts = w->group_ts;
	w->group_open = false;
	w->group_seen = 0;
	memset(w->group, 0, sizeof(w->group));
}

void pw_perfstat_window_add(struct pw_perfstat_window *w, const struct pw_perfstat_record *rec)
{
	pw_perfstat_window_add_event(w, rec, pw_perfstat_event_index(rec->event));
}

void pw_perfstat_window_add_event(struct pw_perfstat_window *w, const struct pw_perfstat_record *rec, int e)
{
	if (e >= PW_PERF_NUM_EVENTS)
		e = -1;
	if (!isfinite(rec->timestamp) || rec->timestamp < 0)
		return;
	if (w->group_open && rec->timestamp > w->group_ts)
		close_group(w);
	if (!w->group_open) {
		if (rec->timestamp <= w->last_ts) {
			/*
			 * A line for the interval that just closed (a second PMU's line on a
			 * hybrid machine, printed after every event had one): its count still
			 * belongs to that interval if no snapshot took it yet.
			 */
			if (rec->timestamp == w->last_ts && !w->last_taken && e >= 0 &&
			    rec->status == PW_PERFSTAT_COUNTED && w->pending.acc[e].counted_s > 0) {
				struct pw_perfstat_acc *a = &w->pending.acc[e];

				a->sum += rec->value;
				if (isfinite(rec->run_ns) && isfinite(rec->running_pct) && rec->running_pct > 0) {
					a->run_ns += rec->run_ns;
					a->enabled_ns += rec->run_ns * 100.0 / rec->running_pct;
				}
			} else {
				w->n_late++;
			}
			return;
		}
		w->group_open = true;
		w->group_ts = rec->timestamp;
	} else if (rec->timestamp < w->group_ts) {
		w->n_late++;
		return;
	}

	if (e < 0) {
		w->n_foreign++;
		return;
	}
	struct pw_perfstat_group_event *g = &w->group[e];

	if (!g->n_counted && !g->n_not_supported && !g->n_not_counted)
		w->group_seen++;
	switch (rec->status) {
	case PW_PERFSTAT_COUNTED:
		g->n_counted++;
		g->sum += rec->value;
		/* enabled = running / share of the time it ran */
		if (isfinite(rec->run_ns) && isfinite(rec->running_pct) && rec->running_pct > 0) {
			g->run_ns += rec->run_ns;
			g->enabled_ns += rec->run_ns * 100.0 / rec->running_pct;
		} else {
			g->times_unknown = true;
		}
		g->msec |= !strcmp(rec->unit, "msec");
		break;
	case PW_PERFSTAT_NOT_SUPPORTED:
		g->n_not_supported++;
		break;
	case PW_PERFSTAT_NOT_COUNTED:
		g->n_not_counted++;
		break;
	}
	if (w->group_seen == PW_PERF_NUM_EVENTS)
		close_group(w);
}

void pw_perfstat_window_flush(struct pw_perfstat_window *w)
{
	if (w->group_open)
		close_group(w);
}

void pw_perfstat_window_take(struct pw_perfstat_window *w, struct pw_perfstat_take *ret)
{
	*ret = w->pending;
	memset(&w->pending, 0, sizeof(w->pending));
	w->last_taken = true;
}

struct msg {
	char *buf;
	size_t cap, len;
};

static void __attribute__((format(printf, 2, 3))) msg_add(struct msg *m, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (m->len + 1 >= m->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(m->buf + m->len, m->cap - m->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		m->len += (size_t)n;
	if (m->len >= m->cap)
		m->len = m->cap - 1;
}

static void list_events(struct msg *m, const char *what, const bool *in)
{
	bool first = true;

	for (int e = 0; e < PW_PERF_NUM_EVENTS; e++) {
		if (!in[e])
			continue;
		if (first)
			msg_add(m, "%s%s: ", m->len ? "; " : "", what);
		msg_add(m, "%s%s", first ? "" : ", ", pw_perf_event_names[e]);
		first = false;
	}
}

void pw_perfstat_fill(const struct pw_perfstat_take *t, double span_s, bool has_hw_pmu, struct pw_perf *out)
{
	bool unsupported[PW_PERF_NUM_EVENTS] = { 0 }, uncounted[PW_PERF_NUM_EVENTS] = { 0 };
	bool missing[PW_PERF_NUM_EVENTS] = { 0 };
	struct msg m = { .buf = out->error, .cap = sizeof(out->error) };
	bool all = true;

	out->error[0] = '\0';
	memset(out->events, 0, sizeof(out->events));
	if (t->n_intervals == 0 || !(t->covered_s > 0)) {
		out->available = false;
		msg_add(&m, "no complete perf stat interval since the previous snapshot");
		return;
	}
	for (int e = 0; e < PW_PERF_NUM_EVENTS; e++) {
		const struct pw_perfstat_acc *a = &t->acc[e];
		struct pw_perf_event *ev = &out->events[e];

		if (a->counted_s > 0) {
			double scale = isfinite(span_s) && span_s > 0 ? span_s / a->counted_s : 1.0;

			ev->counted = true;
			ev->value = a->sum * scale;
			ev->unit = a->msec ? "msec" : NULL;
			ev->running_ratio = a->running_unknown || !(a->enabled_ns > 0) ? NAN : a->run_ns / a->enabled_ns;
			if (ev->running_ratio > 1.0)
				ev->running_ratio = 1.0;
			continue;
		}
		all = false;
		if (a->not_supported)
			unsupported[e] = true;
		else if (a->not_counted)
			uncounted[e] = true;
		else
			missing[e] = true;
	}
	out->available = all;
	list_events(&m, has_hw_pmu ? "not supported by this machine" : "not supported by this machine (no hardware PMU)",
		    unsupported);
	list_events(&m, "not counted (the counter never got to run)", uncounted);
	list_events(&m, "not reported by perf stat", missing);
}
