/* SPDX-License-Identifier: MIT */
/*
 * The perf source's object as a light skeleton (bpftool gen skeleton -L): a loader
 * program, run once in the kernel, does the CO-RE relocations and finds the tp_btf attach
 * points itself, against the BTF the kernel already holds. libbpf does the same in our
 * process by parsing all of /sys/kernel/btf/vmlinux (5.5 MB here, plus a copy of it): 11
 * MiB of start-up memory for a daemon that keeps 8. When the light skeleton cannot load
 * (a kernel without the loader's helpers, a tracepoint this kernel lacks, a program its
 * verifier refuses), bpf_load.c loads with libbpf, which can leave one program out.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>

#include "bpf/bpf_internal.h"
#include "perfwatch.lskel.h"

static int check_order(const struct pw_bpf_ctx *ctx, char *why, size_t whylen)
{
	/* both skeletons list the programs in the object's order: the kernel's names tell */
	for (uint32_t i = 0; i < ctx->n_progs; i++) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(ctx->progs[i].fd, &info, &len)) {
			int e = -errno;

			snprintf(why, whylen, "asking program %u for its name: %s", i, strerror(-e));
			return e;
		}
		if (strncmp(info.name, ctx->progs[i].name, sizeof(info.name) - 1)) {
			snprintf(why, whylen, "program %u is %s, not %s", i, info.name, ctx->progs[i].name);
			return -EINVAL;
		}
	}
	return 0;
}

int pw_bpf_lskel_load(struct pw_bpf_ctx *ctx, char *why, size_t whylen)
{
	struct perfwatch_lskel *s = perfwatch_lskel__open();
	const struct bpf_prog_desc *progs;
	const struct bpf_map_desc *maps;
	size_t n_progs, n_maps;
	int e;

	if (!s) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	progs = (const struct bpf_prog_desc *)&s->progs;
	maps = (const struct bpf_map_desc *)&s->maps;
	n_progs = sizeof(s->progs) / sizeof(*progs);
	n_maps = sizeof(s->maps) / sizeof(*maps);
	if (n_progs != ctx->n_progs || n_maps > PW_BPF_MAX_MAPS) {
		snprintf(why, whylen, "it holds %zu programs and %zu maps, the object %u programs", n_progs, n_maps,
			 ctx->n_progs);
		e = -EINVAL;
		goto out_destroy;
	}
	s->rodata->pw_nr_cpus = (__u32)ctx->ncpus;
	s->maps.pmu_events.max_entries = (__u32)(PW_PMU_SLOTS * ctx->ncpus);
	s->maps.cpu_slots.max_entries = (__u32)ctx->ncpus;
	s->maps.pmu_timers.max_entries = (__u32)ctx->ncpus;
	e = perfwatch_lskel__load(s);
	if (e) {
		e = e < 0 ? e : -EINVAL;
		snprintf(why, whylen, "its loader program failed: %s", strerror(-e));
		goto out_destroy;
	}
	for (size_t i = 0; i < n_progs; i++)
		ctx->progs[i].fd = progs[i].prog_fd;
	e = check_order(ctx, why, whylen);
	if (e)
		goto out_destroy;
#define PW_BPF_MAP_FROM_LSKEL(name) ctx->maps.name = s->maps.name.map_fd;
	PW_BPF_USED_MAPS(PW_BPF_MAP_FROM_LSKEL)
#undef PW_BPF_MAP_FROM_LSKEL
	ctx->maps.n_all = 0;
	for (size_t i = 0; i < n_maps; i++)
		if (maps[i].map_fd >= 0)
			ctx->maps.all[ctx->maps.n_all++] = maps[i].map_fd;
	ctx->no_sched_info = &s->bss->pw_no_sched_info;
	ctx->pmu_request = &s->bss->pw_pmu_request;
	ctx->pmu_arm = &s->data->pw_pmu_arm;
	ctx->lskel = s;
	return 0;
out_destroy:
	for (uint32_t i = 0; i < ctx->n_progs; i++)
		ctx->progs[i].fd = -1;
	perfwatch_lskel__destroy(s);
	return e;
}

void pw_bpf_lskel_destroy(struct pw_bpf_ctx *ctx)
{
	if (ctx->lskel)
		perfwatch_lskel__destroy(ctx->lskel);
	ctx->lskel = NULL;
}
