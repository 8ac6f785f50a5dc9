/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>

#include "perf/perf_backend.h"

/* Replaced by the perf stat fallback (issue #4). */
static int perfstat_open(void **ret_ctx, const struct pw_env *env, char *err, size_t errlen)
{
	(void)ret_ctx;
	(void)env;
	snprintf(err, errlen, "the perf stat fallback is not built yet");
	return -ENOTSUP;
}

static int perfstat_read(void *ctx, const struct pw_env *env, struct snapshot *out, char *err, size_t errlen)
{
	(void)ctx;
	(void)env;
	(void)out;
	(void)err;
	(void)errlen;
	return -ENOTSUP;
}

static void perfstat_close(void *ctx) { (void)ctx; }

const struct perf_backend pw_perfstat_backend = {
	.name = "perf-stat",
	.source = PW_PERF_SOURCE_PERF_STAT,
	.open = perfstat_open,
	.read = perfstat_read,
	.close = perfstat_close,
};
