/* SPDX-License-Identifier: MIT */
/*
 * The bpf perf backend's private state, shared by bpf_load.c (open/close: load, attach,
 * perf events, stats) and bpf_read.c (one interval: run the reader, drain the maps).
 */
#ifndef PW_BPF_INTERNAL_H
#define PW_BPF_INTERNAL_H

#include <linux/types.h>
#include <stdbool.h>
#include <stdint.h>

#include "bpf/bpf_section.h"
#include "collect/collector.h"
#include "../../bpf/perfwatch.h"

struct perfwatch_bpf;
struct perfwatch_lskel;

#define PW_BPF_BLK_MAX 256  /* blk_stats max_entries */
#define PW_BPF_NET_MAX 1024 /* net_stats max_entries */
#define PW_BPF_BATCH_BYTES (16 * 1024) /* per-CPU hash values read in one bpf() call */
#define PW_BPF_BATCH_KEYS 256

struct pw_bpf_prog_state {
	int fd;        /* the loaded program; -1 when it did not load */
	int link_fd;   /* its raw tracepoint attachment; -1 when not attached */
	char name[32];
	char attach[48];
	bool loaded;   /* passed the verifier */
	bool attached;
	bool reader;   /* pw_read_pmu: loaded, never attached */
	bool arms_timers; /* pw_arm_pmu_timer: loaded, attached only while arming */
	char why[PW_BPF_WHY_MAX];
	uint64_t prev_run_cnt, prev_run_time_ns, prev_recursion_misses;
};

struct pw_pmu_slot {
	int event;        /* index into pw_perf_event_defs */
	uint32_t cpus;    /* CPUs its perf event is open on */
	char why[PW_BPF_WHY_MAX]; /* why it is not open (on some or all CPUs) */
};

/* A summed, keyed row of a per-CPU hash map, kept from one read to the next. */
struct pw_blk_row {
	__u32 dev;
	struct pw_blk_counters c;
	char name[PW_DEVNAME_MAX]; /* resolved once, kept from read to read */
};

struct pw_net_row {
	struct pw_net_key key;
	struct pw_net_counters c;
	char name[PW_IFNAME_MAX];
};

/* The maps userspace reads or writes, by name: the same list names them in both loaders. */
#define PW_BPF_USED_MAPS(X) X(cpu_slots) X(pmu_events) X(blk_stats) X(net_stats)
#define PW_BPF_MAX_MAPS 16

struct pw_bpf_maps {
#define PW_BPF_MAP_FD(name) int name;
	PW_BPF_USED_MAPS(PW_BPF_MAP_FD)
#undef PW_BPF_MAP_FD
	uint32_t n_all;
	int all[PW_BPF_MAX_MAPS]; /* every map of the object, for accounting */
};

/* How long a device's or interface's name is trusted before it is looked up again (renames). */
#define PW_BPF_NAMES_TTL_NS (60ull * 1000000000ull)

/* Most online CPUs for which cpu_poke.h's threads are started (each costs ~20 KiB). */
#define PW_BPF_POKE_MAX_CPUS 64

/* perf.error as last described, for the events' report it described (bpf_read.c) */
struct pw_bpf_missing {
	bool valid, test_sw, available, has_error;
	struct pw_bpf_event events[PW_PERF_NUM_EVENTS];
	char error[sizeof(((struct pw_perf *)0)->error)];
};

struct pw_bpf_ctx {
	/* exactly one of the two holds the loaded object (bpf_load.c says which is tried first) */
	struct perfwatch_lskel *lskel;
	struct perfwatch_bpf *skel;
	char loader_why[PW_BPF_WHY_MAX]; /* why libbpf loaded it, not the light skeleton */
	struct pw_bpf_maps maps;
	const volatile __u32 *no_sched_info; /* the object's pw_no_sched_info, in its mmapped .bss */
	volatile __u64 *pmu_request;         /* the object's pw_pmu_request, in its mmapped .bss */
	volatile struct pw_pmu_arm_args *pmu_arm; /* its pw_pmu_arm, in its mmapped .data */
	__u64 pmu_asked;                     /* the request of this interval, 0: none */
	bool switch_reads;                   /* readings taken at context switches are used */
	struct pw_cpu_poke *poke;            /* makes every CPU switch at each tick, or NULL */
	bool want_pokers;                    /* they would help: started unless every timer is armed */
	const struct pw_cpu_slot *cpu_slots;  /* [ncpus], the mmapped cpu_slots map */
	size_t cpu_slots_bytes;
	int ncpus;      /* possible CPUs: per-CPU map values come in this many */
	bool *online;   /* [ncpus] */
	bool test_sw;   /* PW_TEST_SOFTWARE_EVENTS=1 */
	struct pw_bpf_missing missing;
	uint32_t own_netns;

	uint32_t n_progs;
	struct pw_bpf_prog_state progs[PW_BPF_MAX_PROGS];
	struct pw_bpf_prog_state *reader; /* NULL when it did not load */
	struct pw_bpf_prog_state *timer_arm; /* pw_arm_pmu_timer; NULL when it did not load or is not to be used */
	uint64_t timer_interval;  /* the schedule the timers were (tried to be) armed for; 0: not yet */
	uint32_t timer_cpus;      /* CPUs whose perf timer is armed */
	bool timer_arm_ran;       /* arming ran since the programs' counts were last read */
	char timer_why[PW_BPF_WHY_MAX]; /* why not every online CPU's is */

	struct pw_pmu_slot slots[PW_PMU_SLOTS];

	int stats_fd;   /* held BPF_ENABLE_STATS fd, or -1 */
	char stats_why[PW_BPF_WHY_MAX]; /* why we hold none */
	uint32_t n_maps;
	uint64_t map_memory_bytes;

	/* the previous read: every delta is taken against it */
	uint64_t prev_ns;
	uint64_t names_ns; /* when names were last looked up for every row */
	struct pw_pmu_value *pmu_prev; /* [PW_PMU_SLOTS * ncpus] */
	struct pw_pmu_value *pmu_cur;
	bool *pmu_cpu_ok;              /* [ncpus]: read on it this interval */
	struct pw_cpu_counters *cpu_prev, *cpu_cur; /* [ncpus] */
	struct pw_hist runq_prev;
	/* grown to the rows the map holds (a few disks and interfaces, not max_entries) */
	uint32_t n_blk_prev, cap_blk_prev, cap_blk_cur;
	struct pw_blk_row *blk_prev, *blk_cur;   /* sorted by dev */
	uint32_t n_net_prev, cap_net_prev, cap_net_cur;
	struct pw_net_row *net_prev, *net_cur;   /* sorted by key */
	bool rows_read;                          /* blk_prev and net_prev hold a read of the maps */
	struct pw_map_writes writes_read;        /* the writes summed over the CPUs before that read */
	void *percpu_buf;                        /* a batch of per-CPU hash values, all CPUs */
	bool batch_ok;                           /* batch lookups work here (until one fails) */
};

/* Writes a reason into a PW_BPF_WHY_MAX buffer, truncating when it must. */
void pw_bpf_why(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * bpf_lskel.c: loads the object as a light skeleton, filling each ctx->progs[].fd (the
 * table comes from the libbpf object, in the same order), ctx->maps and no_sched_info.
 * 0, or -errno with why filled and nothing left loaded.
 */
int pw_bpf_lskel_load(struct pw_bpf_ctx *ctx, char *why, size_t whylen);
void pw_bpf_lskel_destroy(struct pw_bpf_ctx *ctx); /* closes what pw_bpf_lskel_load() loaded */

int pw_bpf_load(struct pw_bpf_ctx *ctx, const struct pw_env *env, char *err, size_t errlen);
void pw_bpf_unload(struct pw_bpf_ctx *ctx);
int pw_bpf_read(struct pw_bpf_ctx *ctx, const struct pw_env *env, struct snapshot *out,
		char *err, size_t errlen);
/*
 * Asks every CPU for a perf reading (before the collectors run). With a tick, the request
 * is the tick: the timers are armed at the first one, the wake-up threads keep that
 * schedule where there are no timers. Without one, the next request number and a poke.
 */
void pw_bpf_begin(struct pw_bpf_ctx *ctx, const struct pw_tick *tick);
/*
 * Arms every online CPU's perf timer (pmu_timer.c) to read at first_tick and every
 * interval_ns after it; when not all are, the wake-up threads are started. timer_cpus
 * and timer_why say how it went.
 */
void pw_bpf_arm_pmu_timers(struct pw_bpf_ctx *ctx, uint64_t first_tick, uint64_t interval_ns);
/* Starts the wake-up threads when they would help and are not running yet (bpf_load.c). */
void pw_bpf_start_pokers(struct pw_bpf_ctx *ctx);

/* Index of pmu slot s's event on CPU c in pmu_events, pmu_prev and pmu_cur. */
static inline int pw_pmu_index(const struct pw_bpf_ctx *ctx, int slot, int cpu)
{
	return slot * ctx->ncpus + cpu;
}

#endif
