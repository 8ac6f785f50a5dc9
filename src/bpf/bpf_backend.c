/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>

#include "perf/perf_backend.h"

/* Replaced by the eBPF collector (issue #3). */
static int bpf_open(void **ret_ctx, const struct pw_env *env, char *err, size_t errlen)
{
	(void)ret_ctx;
	(void)env;
	snprintf(err, errlen, "the eBPF collector is not built yet");
	return -ENOTSUP;
}

static int bpf_read(void *ctx, const struct pw_env *env, struct snapshot *out, char *err, size_t errlen)
{
	(void)ctx;
	(void)env;
	(void)out;
	(void)err;
	(void)errlen;
	return -ENOTSUP;
}

static void bpf_close(void *ctx) { (void)ctx; }

const struct perf_backend pw_bpf_backend = {
	.name = "bpf",
	.source = PW_PERF_SOURCE_BPF,
	.open = bpf_open,
	.read = bpf_read,
	.close = bpf_close,
};
