/* SPDX-License-Identifier: MIT */
/*
 * Setting the eBPF collector up: load the CO-RE object embedded in the binary, attach
 * each program on its own (one failing never takes the others down), open one counting
 * perf event per CPU per event into the PERF_EVENT_ARRAY, and turn on BPF run-time stats
 * for self-accounting. Every part that cannot be set up says why.
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bpf/bpf_internal.h"
#include "bpf/bpf_testhook.h"
#include "bpf/cpu_poke.h"
#include "bpf/cpulist.h"
#include "bpf/fdinfo.h"
#include "bpf/verifier_log.h"
#include "log.h"
#include "perf/perf_events.h"
#include "perfwatch.skel.h"
#include "util/buf.h"
#include "util/readfile.h"

/*
 * libbpf reports through one process-wide print callback without a user pointer. Library
 * code does not log: the callback stays silent except while pw_bpf_load() collects the
 * messages of its own thread to find out which program the verifier rejected and why.
 */
static __thread struct pw_buf *libbpf_capture;

static int libbpf_print_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (libbpf_capture && level <= LIBBPF_INFO && libbpf_capture->len < 65536)
		pw_buf_vprintf(libbpf_capture, fmt, ap);
	return 0;
}

void pw_bpf_why(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, PW_BPF_WHY_MAX, fmt, ap);
	va_end(ap);
}

static void read_online_cpus(const struct pw_env *env, bool *online, int ncpus)
{
	struct pw_buf b = { 0 };
	long n;
	int err;

	n = pw_read_file_at(env->sys_fd, "devices/system/cpu/online", &b, 4096);
	err = n < 0 ? (int)n : pw_cpulist_parse(b.data, (size_t)n, online, (size_t)ncpus);
	pw_buf_free(&b);
	if (err) /* unknown: try every possible CPU, offline ones fail with ENODEV/ENXIO */
		for (int c = 0; c < ncpus; c++)
			online[c] = true;
}

/* The program libbpf's messages say the verifier refused, with the verifier's reason. */
static struct pw_bpf_prog_state *find_rejected(struct pw_bpf_ctx *ctx, const struct pw_buf *log, char *why)
{
	char name[64], verdict[PW_BPF_WHY_MAX - 32];

	if (pw_verifier_verdict(log->data, log->len, name, sizeof(name), verdict, sizeof(verdict)))
		return NULL;
	for (uint32_t i = 0; i < ctx->n_progs; i++) {
		if (strcmp(ctx->progs[i].name, name))
			continue;
		pw_bpf_why(why, "rejected by the verifier%s%s", verdict[0] ? ": " : "", verdict);
		return &ctx->progs[i];
	}
	return NULL;
}

/* Names and attach points from the opened libbpf object; programs the fallback leaves out (disabled, or NULL: none) are set aside. */
static void init_prog_table(struct pw_bpf_ctx *ctx, const bool *disabled, char (*disabled_why)[PW_BPF_WHY_MAX])
{
	struct bpf_program *prog;
	uint32_t n = 0;

	bpf_object__for_each_program(prog, ctx->skel->obj) {
		struct pw_bpf_prog_state *ps;

		if (n == PW_BPF_MAX_PROGS)
			break;
		ps = &ctx->progs[n];
		memset(ps, 0, sizeof(*ps));
		ps->fd = -1;
		ps->link_fd = -1;
		snprintf(ps->name, sizeof(ps->name), "%s", bpf_program__name(prog));
		snprintf(ps->attach, sizeof(ps->attach), "%s", bpf_program__section_name(prog));
		ps->reader = prog == ctx->skel->progs.pw_read_pmu;
		ps->arms_timers = prog == ctx->skel->progs.pw_arm_pmu_timer;
		pw_bpf_test_break(prog);
		if (disabled && disabled[n]) {
			bpf_program__set_autoload(prog, false);
			memcpy(ps->why, disabled_why[n], sizeof(ps->why));
		}
		n++;
	}
	ctx->n_progs = n;
}

/*
 * What the kernel's BTF says before libbpf's load: programs on tracepoints this kernel
 * lacks are left out. Freed before the load, which parses it once more: the two copies
 * never coexist.
 */
static int check_kernel(struct pw_bpf_ctx *ctx, bool *disabled, char (*disabled_why)[PW_BPF_WHY_MAX], char *err,
			size_t errlen)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	char type[96];
	int e;

	if (!vmlinux) {
		e = -errno;
		snprintf(err, errlen, "reading the kernel's BTF: %s", strerror(-e));
		return e;
	}
	for (uint32_t i = 0; i < ctx->n_progs; i++) {
		const char *sec = ctx->progs[i].attach, *tp;

		if (strncmp(sec, "tp_btf/", 7))
			continue;
		tp = sec + 7;
		snprintf(type, sizeof(type), "btf_trace_%s", tp);
		if (btf__find_by_name_kind(vmlinux, type, BTF_KIND_TYPEDEF) >= 0)
			continue;
		disabled[i] = true;
		pw_bpf_why(disabled_why[i], "missing tracepoint: this kernel has no %s", tp);
	}
	btf__free(vmlinux);
	return 0;
}

static int open_skeleton(struct pw_bpf_ctx *ctx, char *err, size_t errlen)
{
	int e;

	ctx->skel = perfwatch_bpf__open();
	if (!ctx->skel) {
		e = -errno;
		snprintf(err, errlen, "opening the BPF object: %s", strerror(-e));
		return e;
	}
	ctx->skel->rodata->pw_nr_cpus = (__u32)ctx->ncpus;
	e = bpf_map__set_max_entries(ctx->skel->maps.pmu_events, (__u32)(PW_PMU_SLOTS * ctx->ncpus));
	if (!e)
		e = bpf_map__set_max_entries(ctx->skel->maps.cpu_slots, (__u32)ctx->ncpus);
	if (!e)
		e = bpf_map__set_max_entries(ctx->skel->maps.pmu_timers, (__u32)ctx->ncpus);
	if (e) {
		snprintf(err, errlen, "sizing the per-CPU maps: %s", strerror(-e));
		perfwatch_bpf__destroy(ctx->skel);
		ctx->skel = NULL;
		return e;
	}
	return 0;
}

static void close_skeleton(struct pw_bpf_ctx *ctx)
{
	perfwatch_bpf__destroy(ctx->skel);
	ctx->skel = NULL;
}

static const char *load_hint(int e)
{
	if (e == -EPERM || e == -EACCES)
		return " (needs root, or CAP_BPF and CAP_PERFMON; kernel.unprivileged_bpf_disabled does not allow it otherwise)";
	if (e == -ENOMEM)
		return " (out of memory, or RLIMIT_MEMLOCK too low on an old kernel)";
	return "";
}

/* The loaded libbpf object's program fds, maps and .bss, as the light skeleton gives them. */
static void take_libbpf_fds(struct pw_bpf_ctx *ctx, const bool *disabled)
{
	struct bpf_program *prog;
	struct bpf_map *map;
	uint32_t i = 0;

	bpf_object__for_each_program(prog, ctx->skel->obj) {
		if (i == ctx->n_progs)
			break;
		ctx->progs[i].fd = disabled[i] ? -1 : bpf_program__fd(prog);
		i++;
	}
#define PW_BPF_MAP_FROM_SKEL(name) ctx->maps.name = bpf_map__fd(ctx->skel->maps.name);
	PW_BPF_USED_MAPS(PW_BPF_MAP_FROM_SKEL)
#undef PW_BPF_MAP_FROM_SKEL
	ctx->maps.n_all = 0;
	bpf_object__for_each_map(map, ctx->skel->obj)
		if (bpf_map__fd(map) >= 0 && ctx->maps.n_all < PW_BPF_MAX_MAPS)
			ctx->maps.all[ctx->maps.n_all++] = bpf_map__fd(map);
	ctx->no_sched_info = &ctx->skel->bss->pw_no_sched_info;
	ctx->pmu_request = &ctx->skel->bss->pw_pmu_request;
	ctx->pmu_arm = &ctx->skel->data->pw_pmu_arm;
}

/*
 * The fallback: libbpf relocates in our process against the kernel's BTF, parsed once
 * (check_kernel's copy is freed first). A program the verifier rejects is left out and the
 * load retried, so one bad program costs only itself.
 */
static int load_with_libbpf(struct pw_bpf_ctx *ctx, char *err, size_t errlen)
{
	bool disabled[PW_BPF_MAX_PROGS] = { false };
	char disabled_why[PW_BPF_MAX_PROGS][PW_BPF_WHY_MAX];
	struct pw_buf log = { 0 };
	int e = 0;

	e = check_kernel(ctx, disabled, disabled_why, err, errlen);
	if (e)
		goto out_destroy;
	for (uint32_t attempt = 0; attempt <= ctx->n_progs; attempt++) {
		struct pw_bpf_prog_state *bad;
		char why[PW_BPF_WHY_MAX] = "";

		if (attempt || !ctx->skel) {
			close_skeleton(ctx);
			e = open_skeleton(ctx, err, errlen);
			if (e)
				goto out_free_log;
		}
		init_prog_table(ctx, disabled, disabled_why);
		pw_buf_clear(&log);
		libbpf_capture = &log;
		e = perfwatch_bpf__load(ctx->skel);
		libbpf_capture = NULL;
		if (!e)
			break;
		/* the verifier answers EACCES too: a named program is a rejection, not a permission */
		bad = log.data && e != -EPERM ? find_rejected(ctx, &log, why) : NULL;
		if (!bad) {
			snprintf(err, errlen, "loading BPF programs: %s%s", strerror(-e), load_hint(e));
			goto out_destroy;
		}
		disabled[bad - ctx->progs] = true;
		memcpy(disabled_why[bad - ctx->progs], why, sizeof(why));
	}
	if (e) {
		snprintf(err, errlen, "loading BPF programs: %s", strerror(-e));
		goto out_destroy;
	}
	take_libbpf_fds(ctx, disabled);
	pw_buf_free(&log);
	return 0;
out_destroy:
	close_skeleton(ctx);
out_free_log:
	pw_buf_free(&log);
	return e;
}

/* Whether environment variable name is set to 1 (the switches of this file and its tests). */
static bool env_is_1(const char *name)
{
	const char *v = getenv(name);

	return v && !strcmp(v, "1");
}

/* Why the light skeleton is not even tried; NULL when it is. */
static const char *light_skipped(void)
{
	if (getenv(PW_TEST_BPF_REJECT_ENV))
		return PW_TEST_BPF_REJECT_ENV " is set: only libbpf can load a program changed after the build";
	if (env_is_1(PW_TEST_NO_LIGHT_SKELETON_ENV))
		return PW_TEST_NO_LIGHT_SKELETON_ENV "=1";
	return NULL;
}

/*
 * Loads the object: as a light skeleton first (bpf_lskel.c: relocated in the kernel,
 * without parsing the kernel's BTF here), with libbpf when that fails. Both relocate
 * against the kernel's own BTF: the programs are tp_btf, which read kernel memory
 * directly. As raw_tp with probe reads, sched_switch measured 159 ns per run instead of
 * 87 ns here, and on the scheduler's hot path that costs the watched workload.
 *
 * The libbpf object is opened either way, for the programs' names and attach points.
 */
static int load_object(struct pw_bpf_ctx *ctx, char *err, size_t errlen)
{
	const char *skipped = light_skipped();
	char why[PW_BPF_WHY_MAX - 64];
	int e;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(err, errlen, "this kernel has no BTF (/sys/kernel/btf/vmlinux: %s); CO-RE needs CONFIG_DEBUG_INFO_BTF=y",
			 strerror(errno));
		return -ENOTSUP;
	}
	libbpf_set_print(libbpf_print_quiet);
	e = open_skeleton(ctx, err, errlen);
	if (e)
		return e;
	init_prog_table(ctx, NULL, NULL);
	if (skipped) {
		pw_bpf_why(ctx->loader_why, "%s", skipped);
	} else {
		close_skeleton(ctx); /* its memory is not needed while the kernel loads */
		e = pw_bpf_lskel_load(ctx, why, sizeof(why));
		if (!e)
			goto loaded;
		pw_bpf_why(ctx->loader_why, "the light skeleton did not load: %s", why);
	}
	e = load_with_libbpf(ctx, err, errlen);
	if (e)
		return e;
loaded:
	for (uint32_t i = 0; i < ctx->n_progs; i++) {
		ctx->progs[i].loaded = ctx->progs[i].fd >= 0;
		if (ctx->progs[i].reader && ctx->progs[i].loaded)
			ctx->reader = &ctx->progs[i];
		if (ctx->progs[i].arms_timers && ctx->progs[i].loaded)
			ctx->timer_arm = &ctx->progs[i];
	}
	return 0;
}

static void attach_programs(struct pw_bpf_ctx *ctx)
{
	for (uint32_t i = 0; i < ctx->n_progs; i++) {
		struct pw_bpf_prog_state *ps = &ctx->progs[i];
		int fd;

		if (!ps->loaded || ps->reader || ps->arms_timers)
			continue;
		/* every attached program is tp_btf: the kernel knows its tracepoint from the load */
		fd = bpf_raw_tracepoint_open(NULL, ps->fd);
		if (fd < 0) {
			/* a tracepoint this kernel lacks was found at load (check_kernel, or the light skeleton failing) */
			pw_bpf_why(ps->why, "attaching to %s: %s", ps->attach, strerror(errno));
			continue;
		}
		ps->link_fd = fd;
		ps->attached = true;
	}
}

static int perf_event_open(struct perf_event_attr *attr, int cpu)
{
	return (int)syscall(SYS_perf_event_open, attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

static void perf_open_why(char *why, const struct pw_env *env, int e, int cpu)
{
	unsigned long long paranoid = 0;

	switch (e) {
	case ENOENT:
		pw_bpf_why(why, "no PMU: perf_event_open: ENOENT (this CPU or VM exposes no such hardware counter)");
		break;
	case EOPNOTSUPP:
		pw_bpf_why(why, "not supported by the PMU (perf_event_open: EOPNOTSUPP)");
		break;
	case EACCES:
	case EPERM:
		if (pw_read_u64_at(env->proc_fd, "sys/kernel/perf_event_paranoid", &paranoid) == 0)
			pw_bpf_why(why, "not permitted: kernel.perf_event_paranoid=%lld and no CAP_PERFMON (%s)",
				(long long)paranoid, strerror(e));
		else
			pw_bpf_why(why, "not permitted: no CAP_PERFMON (%s)", strerror(e));
		break;
	case EMFILE:
	case ENFILE:
		pw_bpf_why(why, "out of file descriptors (%s)", strerror(e));
		break;
	default:
		pw_bpf_why(why, "perf_event_open on CPU %d: %s", cpu, strerror(e));
	}
}

/* One counting perf event per online CPU per slot, stored in the PERF_EVENT_ARRAY. */
static void open_perf_events(struct pw_bpf_ctx *ctx, const struct pw_env *env)
{
	int map_fd = ctx->maps.pmu_events;

	for (int s = 0; s < PW_PMU_SLOTS; s++) {
		struct pw_pmu_slot *slot = &ctx->slots[s];
		const struct pw_perf_event_def *def;
		struct perf_event_attr attr;
		bool standin;

		slot->event = s == 0 ? 0 : 3 + s; /* cpu-clock, then cycles.. in table order */
		def = &pw_perf_event_defs[slot->event];
		standin = ctx->test_sw && def->hardware;
		memset(&attr, 0, sizeof(attr));
		attr.size = sizeof(attr);
		attr.type = standin ? PERF_TYPE_SOFTWARE : def->type;
		attr.config = standin ? def->standin_config : def->config;
		attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
		if (!ctx->reader) {
			pw_bpf_why(slot->why, "the reader program pw_read_pmu did not load (see bpf.programs)");
			continue;
		}
		for (int c = 0; c < ctx->ncpus; c++) {
			__u32 key = (__u32)pw_pmu_index(ctx, s, c);
			int fd, e;

			if (!ctx->online[c])
				continue;
			fd = perf_event_open(&attr, c);
			if (fd < 0) {
				e = errno;
				if (e != ENODEV && !slot->why[0]) /* ENODEV: the CPU went offline */
					perf_open_why(slot->why, env, e, c);
				continue;
			}
			/* the map holds the event from now on: our fd is not needed */
			e = bpf_map_update_elem(map_fd, &key, &fd, BPF_ANY) ? errno : 0;
			close(fd);
			if (e) {
				if (!slot->why[0])
					pw_bpf_why(slot->why, "storing the perf event in the BPF map: %s", strerror(e));
				continue;
			}
			slot->cpus++;
		}
	}
}

/*
 * BPF run-time stats for self-accounting, with --bpf-stats: off by default, because the
 * kernel then times every run of every BPF program on the host (two clock reads, ~100 ns
 * per run on this VM's sched_switch). Our own BPF_ENABLE_STATS reference keeps them on for
 * as long as we run, whoever else turns them off. Without it, or without CAP_SYS_ADMIN,
 * the sysctl decides: the run counts move while it has them on (read_programs).
 */
static void enable_stats(struct pw_bpf_ctx *ctx, const struct pw_env *env)
{
	int fd;

	ctx->stats_fd = -1;
	if (!env->opts || !env->opts->bpf_stats) {
		pw_bpf_why(ctx->stats_why, "off (--bpf-stats, or sysctl kernel.bpf_stats_enabled=1, turns them on)");
		return;
	}
	fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd < 0) {
		pw_bpf_why(ctx->stats_why, "BPF_ENABLE_STATS: %s (needs CAP_SYS_ADMIN, or sysctl kernel.bpf_stats_enabled=1)",
			   strerror(errno));
		return;
	}
	ctx->stats_fd = fd;
}

/* What the maps cost: memlock from /proc/self/fdinfo of each map fd. */
static void account_maps(struct pw_bpf_ctx *ctx, const struct pw_env *env)
{
	struct pw_buf b = { 0 };
	char path[64];

	for (uint32_t i = 0; i < ctx->maps.n_all; i++) {
		uint64_t memlock;

		ctx->n_maps++;
		snprintf(path, sizeof(path), "self/fdinfo/%d", ctx->maps.all[i]);
		if (pw_read_file_at(env->proc_fd, path, &b, 65536) > 0 &&
		    pw_fdinfo_u64(b.data, b.len, "memlock", &memlock) == 0)
			ctx->map_memory_bytes += memlock;
	}
	pw_buf_free(&b);
}

static int alloc_state(struct pw_bpf_ctx *ctx)
{
	size_t n = (size_t)ctx->ncpus;

	ctx->online = calloc(n, sizeof(*ctx->online));
	ctx->pmu_cpu_ok = calloc(n, sizeof(*ctx->pmu_cpu_ok));
	ctx->pmu_prev = calloc(PW_PMU_SLOTS * n, sizeof(*ctx->pmu_prev));
	ctx->pmu_cur = calloc(PW_PMU_SLOTS * n, sizeof(*ctx->pmu_cur));
	ctx->cpu_prev = calloc(n, sizeof(*ctx->cpu_prev));
	ctx->cpu_cur = calloc(n, sizeof(*ctx->cpu_cur));
	/* a batch of per-CPU hash values, or at least one of the largest; zeroed, as valgrind
	 * cannot tell that BPF_MAP_LOOKUP_BATCH fills it */
	ctx->percpu_buf = calloc(1, n * sizeof(struct pw_blk_counters) > PW_BPF_BATCH_BYTES ? n * sizeof(struct pw_blk_counters)
											    : PW_BPF_BATCH_BYTES);
	ctx->batch_ok = !env_is_1(PW_TEST_BPF_NO_BATCH_ENV);
	ctx->switch_reads = !env_is_1(PW_TEST_BPF_NO_SWITCH_READS_ENV);
	if (!ctx->online || !ctx->pmu_cpu_ok || !ctx->pmu_prev || !ctx->pmu_cur || !ctx->cpu_prev ||
	    !ctx->cpu_cur || !ctx->percpu_buf)
		return -ENOMEM;
	return 0;
}

static void free_state(struct pw_bpf_ctx *ctx)
{
	free(ctx->online);
	free(ctx->pmu_cpu_ok);
	free(ctx->pmu_prev);
	free(ctx->pmu_cur);
	free(ctx->cpu_prev);
	free(ctx->cpu_cur);
	free(ctx->blk_prev);
	free(ctx->blk_cur);
	free(ctx->net_prev);
	free(ctx->net_cur);
	free(ctx->percpu_buf);
}

/* Maps the cpu_slots array, read-only: each drain reads it with no bpf() call. */
static int map_cpu_slots(struct pw_bpf_ctx *ctx, char *err, size_t errlen)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t bytes = (size_t)ctx->ncpus * sizeof(struct pw_cpu_slot);
	void *p;

	bytes = (bytes + (size_t)page - 1) / (size_t)page * (size_t)page;
	p = mmap(NULL, bytes, PROT_READ, MAP_SHARED, ctx->maps.cpu_slots, 0);
	if (p == MAP_FAILED) {
		int e = -errno;

		snprintf(err, errlen, "mapping the per-CPU counters (cpu_slots) into memory: %s", strerror(-e));
		return e;
	}
	ctx->cpu_slots = p;
	ctx->cpu_slots_bytes = bytes;
	return 0;
}

static uint32_t own_netns_inode(const struct pw_env *env)
{
	struct stat st;

	if (fstatat(env->proc_fd, "self/ns/net", &st, 0))
		return 0;
	return (uint32_t)st.st_ino;
}

/*
 * How the perf events get read at each tick, best first: each CPU's timer (armed at the
 * first tick, pmu_timer.c); each CPU's first context switch, with threads that make idle
 * CPUs switch (cpu_poke.h); the reader, run on each CPU by the drain. The threads are
 * started here when there are no timers to arm, or later when arming fails. They are only
 * worth having when switches read perf events (events are open, sched_switch is attached)
 * and there is more than one CPU. Past PW_BPF_POKE_MAX_CPUS a thread per CPU costs more memory than it
 * saves: there, CPUs that did not switch by themselves get the reader run on them.
 */
static void choose_pmu_reading(struct pw_bpf_ctx *ctx)
{
	bool events = false, sched = false;
	int online = 0;

	for (int s = 0; s < PW_PMU_SLOTS; s++)
		events |= ctx->slots[s].cpus > 0;
	for (uint32_t i = 0; i < ctx->n_progs; i++)
		sched |= !strcmp(ctx->progs[i].name, "pw_sched_switch") && ctx->progs[i].attached;
	for (int c = 0; c < ctx->ncpus; c++)
		online += ctx->online[c];
	if (!ctx->timer_arm)
		pw_bpf_why(ctx->timer_why, "the program pw_arm_pmu_timer did not load (see bpf.programs)");
	else if (!events)
		pw_bpf_why(ctx->timer_why, "no perf event is open: nothing to read");
	else if (!ctx->switch_reads)
		pw_bpf_why(ctx->timer_why, "left unarmed (" PW_TEST_BPF_NO_SWITCH_READS_ENV "=1: the reader reads every CPU)");
	else if (env_is_1(PW_TEST_BPF_NO_PMU_TIMERS_ENV))
		pw_bpf_why(ctx->timer_why, "left unarmed (" PW_TEST_BPF_NO_PMU_TIMERS_ENV "=1)");
	if (ctx->timer_why[0])
		ctx->timer_arm = NULL;
	ctx->want_pokers = ctx->reader && ctx->switch_reads && events && sched && online >= 2 &&
			   online <= PW_BPF_POKE_MAX_CPUS;
	if (!ctx->timer_arm)
		pw_bpf_start_pokers(ctx); /* with timers, only if arming fails (pmu_timer.c) */
}

void pw_bpf_start_pokers(struct pw_bpf_ctx *ctx)
{
	int e;

	if (!ctx->want_pokers || ctx->poke)
		return;
	ctx->want_pokers = false; /* tried once */
	e = pw_cpu_poke_start(&ctx->poke, ctx->online, ctx->ncpus, ctx->pmu_request);
	if (e)
		pw_warn("bpf: no per-CPU wake-up threads (%s): the perf reader runs on every CPU", strerror(-e));
}

int pw_bpf_load(struct pw_bpf_ctx *ctx, const struct pw_env *env, char *err, size_t errlen)
{
	bool attached = false;
	int e;

	ctx->stats_fd = -1;
	ctx->test_sw = env_is_1(PW_TEST_SOFTWARE_EVENTS_ENV);
	ctx->ncpus = libbpf_num_possible_cpus();
	if (ctx->ncpus <= 0) {
		snprintf(err, errlen, "cannot tell the number of possible CPUs: %s", strerror(-ctx->ncpus));
		return ctx->ncpus < 0 ? ctx->ncpus : -EINVAL;
	}
	e = alloc_state(ctx);
	if (e) {
		snprintf(err, errlen, "out of memory");
		goto out_free;
	}
	read_online_cpus(env, ctx->online, ctx->ncpus);
	ctx->own_netns = own_netns_inode(env);
	e = load_object(ctx, err, errlen);
	if (e)
		goto out_free;
	e = map_cpu_slots(ctx, err, errlen);
	if (e)
		goto out_unload;
	attach_programs(ctx);
	open_perf_events(ctx, env);
	for (uint32_t i = 0; i < ctx->n_progs; i++)
		attached |= ctx->progs[i].attached;
	if (!attached && !ctx->slots[0].cpus) {
		snprintf(err, errlen, "no BPF program attached and no perf event opened (%s: %s)",
			 ctx->progs[0].name, ctx->progs[0].why);
		e = -ENOTSUP;
		goto out_unload;
	}
	enable_stats(ctx, env);
	account_maps(ctx, env);
	choose_pmu_reading(ctx);
	return 0;
out_unload:
	pw_bpf_unload(ctx);
	return e;
out_free:
	free_state(ctx);
	memset(ctx, 0, sizeof(*ctx));
	return e;
}

void pw_bpf_unload(struct pw_bpf_ctx *ctx)
{
	pw_cpu_poke_stop(ctx->poke);
	ctx->poke = NULL;
	for (uint32_t i = 0; i < ctx->n_progs; i++)
		if (ctx->progs[i].link_fd >= 0)
			close(ctx->progs[i].link_fd);
	if (ctx->cpu_slots)
		munmap((void *)ctx->cpu_slots, ctx->cpu_slots_bytes);
	/* programs and maps, and with the maps the perf events */
	pw_bpf_lskel_destroy(ctx);
	close_skeleton(ctx);
	if (ctx->stats_fd >= 0)
		close(ctx->stats_fd);
	free_state(ctx);
	memset(ctx, 0, sizeof(*ctx));
	ctx->stats_fd = -1;
}
