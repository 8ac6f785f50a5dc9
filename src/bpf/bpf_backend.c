/* SPDX-License-Identifier: MIT */
/*
 * The "bpf" source of the perf section: loads and attaches at open (bpf_load.c), fills
 * perf and the bpf section every read (bpf_read.c), detaches on close. When it cannot be
 * set up, open says why and the perf collector falls back to the next source.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "bpf/bpf_internal.h"
#include "perf/perf_backend.h"
#include "util/timeutil.h"

static int bpf_open(void **ret_ctx, const struct pw_env *env, char *err, size_t errlen)
{
	struct pw_bpf_ctx *ctx;
	int e;

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	e = pw_bpf_load(ctx, env, err, errlen);
	if (e) {
		free(ctx);
		return e;
	}
	ctx->prev_ns = pw_mono_ns(); /* the first read counts from here */
	*ret_ctx = ctx;
	return 0;
}

static int bpf_read(void *ctx, const struct pw_env *env, struct snapshot *out, char *err, size_t errlen)
{
	return pw_bpf_read(ctx, env, out, err, errlen);
}

static void bpf_begin(void *ctx, const struct pw_tick *tick)
{
	pw_bpf_begin(ctx, tick);
}

static void bpf_close(void *vctx)
{
	struct pw_bpf_ctx *ctx = vctx;

	if (!ctx)
		return;
	pw_bpf_unload(ctx);
	free(ctx);
}

const struct perf_backend pw_bpf_backend = {
	.name = "bpf",
	.source = PW_PERF_SOURCE_BPF,
	.open = bpf_open,
	.read = bpf_read,
	.close = bpf_close,
	.begin = bpf_begin,
};
