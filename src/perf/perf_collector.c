/* SPDX-License-Identifier: MIT */
/* The "perf" collector: picks a source once at start (--perf-source) and reads it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "perf/perf_backend.h"

struct perf_state {
	const struct perf_backend *backend;
	void *ctx;
	char why_none[768]; /* why no source could be opened */
};

static int perf_init(void *state, const struct pw_env *env, char *err, size_t errlen)
{
	static const struct perf_backend *const order[] = { &pw_bpf_backend, &pw_perfstat_backend };
	struct perf_state *st = state;
	enum pw_perf_source_opt want = env->opts ? env->opts->perf_source : PW_PERF_AUTO;
	size_t used = 0;
	char why[PW_ERROR_MAX];

	(void)err;
	(void)errlen;
	if (want == PW_PERF_OPT_NONE) {
		snprintf(st->why_none, sizeof(st->why_none), "disabled by --perf-source none");
		return 0;
	}
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const struct perf_backend *b = order[i];

		if ((want == PW_PERF_OPT_BPF && b->source != PW_PERF_SOURCE_BPF) ||
		    (want == PW_PERF_OPT_PERF_STAT && b->source != PW_PERF_SOURCE_PERF_STAT))
			continue;
		why[0] = '\0';
		if (b->open(&st->ctx, env, why, sizeof(why)) == 0) {
			st->backend = b;
			return 0;
		}
		used += (size_t)snprintf(st->why_none + used, sizeof(st->why_none) - used, "%s%s: %s",
					 used ? "; " : "", b->name, why[0] ? why : "unavailable");
		if (used >= sizeof(st->why_none))
			used = sizeof(st->why_none) - 1;
	}
	return 0;
}

static int perf_collect(void *state, const struct pw_env *env, struct snapshot *out, char *err, size_t errlen)
{
	struct perf_state *st = state;
	int rc;

	memset(&out->perf, 0, sizeof(out->perf));
	if (!st->backend) {
		out->perf.available = false;
		out->perf.source = PW_PERF_SOURCE_NONE;
		snprintf(out->perf.error, sizeof(out->perf.error), "no perf source: %s", st->why_none);
		return 0;
	}
	out->perf.source = st->backend->source;
	rc = st->backend->read(st->ctx, env, out, err, errlen);
	/* a fallback in use says why the preferred source is not */
	snprintf(out->perf.skipped_sources, sizeof(out->perf.skipped_sources), "%s", st->why_none);
	return rc;
}

static void perf_begin(void *state, const struct pw_tick *tick)
{
	struct perf_state *st = state;

	if (st->backend && st->backend->begin)
		st->backend->begin(st->ctx, tick);
}

static void perf_destroy(void *state)
{
	struct perf_state *st = state;

	if (st->backend)
		st->backend->close(st->ctx);
}

const struct collector pw_perf_collector = {
	.name = "perf",
	.sections = PW_SEC_PERF | PW_SEC_BPF,
	.state_size = sizeof(struct perf_state),
	.init = perf_init,
	.collect = perf_collect,
	.destroy = perf_destroy,
	.begin = perf_begin,
};
