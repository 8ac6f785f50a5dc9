/* SPDX-License-Identifier: MIT */
/*
 * The perf section has one contract and several sources. A backend is one source:
 * "bpf" (src/bpf/) or "perf-stat" (src/perf/). The perf collector (perf_collector.c)
 * opens them in the order --perf-source asks and keeps the first that opens.
 */
#ifndef PW_PERF_BACKEND_H
#define PW_PERF_BACKEND_H

#include <stddef.h>

#include "collect/collector.h"

struct perf_backend {
	const char *name;            /* "bpf", "perf-stat" */
	enum pw_perf_source source;
	/*
	 * Sets up (load BPF, start the child, ...). On failure returns a negative errno
	 * and says why in err (shown to the user when no source could be opened).
	 */
	int (*open)(void **ret_ctx, const struct pw_env *env, char *err, size_t errlen);
	/*
	 * Fills out->perf (counts over the interval since the last read; on the first read,
	 * since open) and, for bpf, out->bpf. 0 or a negative errno with err.
	 */
	int (*read)(void *ctx, const struct pw_env *env, struct snapshot *out, char *err, size_t errlen);
	void (*close)(void *ctx); /* accepts NULL */
	void (*begin)(void *ctx, const struct pw_tick *tick); /* optional: collector.h's begin */
};

extern const struct perf_backend pw_bpf_backend;
extern const struct perf_backend pw_perfstat_backend;

#endif
