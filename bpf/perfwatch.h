/* SPDX-License-Identifier: MIT */
/*
 * Plain fixed-width data shared by bpf/perfwatch.bpf.c and src/bpf/ (nothing else).
 * Every counter here only ever increases; userspace computes deltas and never resets a
 * map. The includer provides the __u32/__u64 types (vmlinux.h or <linux/types.h>).
 */
#ifndef PW_BPF_SHARED_H
#define PW_BPF_SHARED_H

/* log2 histograms in usec: slot 0 counts [0, 2), slot i > 0 counts [2^i, 2^(i+1)); the last is open */
#define PW_HIST_SLOTS 32

/*
 * The counting perf events read by pw_read_pmu, in this order: slot 0 is cpu-clock, slots
 * 1..13 are the hardware events in the order of pw_perf_event_names (from "cycles").
 * The PERF_EVENT_ARRAY holds the event of slot s on CPU c at index s * nr_cpus + c.
 */
#define PW_PMU_SLOTS 14

/* Block request classes (from REQ_OP_*). */
enum pw_blk_op { PW_BLK_READ = 0, PW_BLK_WRITE = 1, PW_BLK_OTHER = 2, PW_BLK_OPS = 3 };

/* Per CPU (one PERCPU_ARRAY element): each field is written by one program only. */
struct pw_cpu_counters {
	__u64 ctx_switches;  /* tp_btf/sched_switch */
	__u64 migrations;    /* tp_btf/sched_migrate_task, when the CPU really changes */
	__u64 faults_user;   /* tp_btf/page_fault_user */
	__u64 faults_kernel; /* tp_btf/page_fault_kernel: kernel-mode faults (e.g. copy_to_user) */
};

struct pw_hist {
	__u64 slots[PW_HIST_SLOTS]; /* usec, log2 */
	__u64 count;
	__u64 sum_ns;
};

/* What pw_read_pmu last read from one perf event on one CPU (bpf_perf_event_read_value). */
struct pw_pmu_value {
	__u64 counter;
	__u64 enabled; /* ns the event was enabled */
	__u64 running; /* ns it was on the PMU (< enabled: multiplexed) */
	__s64 err;     /* 0, or the helper's negative errno (-ENOENT: no event in that slot) */
	__u64 reads;   /* successful reads */
};

struct pw_blk_counters {
	__u64 requests[PW_BLK_OPS]; /* completed requests */
	__u64 bytes[PW_BLK_OPS];
	__u64 errors;               /* completed with an error status */
	struct pw_hist latency;     /* issue -> complete */
};

/* Interfaces are keyed by ifindex and network namespace: ifindexes repeat across netns. */
struct pw_net_key {
	__u32 ifindex;
	__u32 netns; /* inode number of the namespace, as in /proc/self/ns/net */
};

struct pw_net_counters {
	__u64 tx_packets, tx_bytes; /* net_dev_xmit with NETDEV_TX_OK; skbs (a GSO skb is one) */
	__u64 rx_packets, rx_bytes; /* netif_receive_skb; bytes include the link-layer header */
};

/* Events the programs could not record because a map was full or storage was missing. */
struct pw_drops {
	__u64 blk_start_full; /* issue timestamps not stored: in-flight map full */
	__u64 blk_dev_full;   /* completions not counted: device map full */
	__u64 net_full;       /* packets not counted: interface map full */
};

/*
 * Bumped after every change a program makes to blk_stats or net_stats, on the CPU that
 * made it: a map whose sum over the CPUs has not moved since userspace last read it holds
 * what that read got, and is not read again (src/bpf/bpf_read.c). Bumped after the map
 * change, so a read that sees the old sum has at worst missed a change it reads next time.
 */
struct pw_map_writes {
	__u64 blk; /* tp_btf/block_rq_complete: counts added to blk_stats */
	__u64 net; /* tp_btf/net_dev_xmit, tp_btf/netif_receive_skb: counts added to net_stats */
};

/* Who read a CPU's perf events into its slot. */
enum pw_pmu_read_by {
	PW_PMU_READ_BY_TIMER = 1,  /* its timer, at the tick */
	PW_PMU_READ_AT_SWITCH = 2, /* sched_switch, at the first switch after the request */
	PW_PMU_READ_BY_READER = 3, /* pw_read_pmu, run there by the drain */
};

/*
 * Everything one CPU counts, at index <cpu> of the cpu_slots array. The array is
 * mmappable: userspace reads every CPU's slot from memory, with no bpf() call. Only
 * programs running on that CPU write a slot, and it fills whole cache lines, so CPUs
 * never share one.
 */
struct pw_cpu_slot {
	struct pw_cpu_counters counters;
	struct pw_drops drops;
	struct pw_map_writes writes;
	struct pw_hist runq;                  /* run-queue latency (sched_switch) */
	struct pw_pmu_value pmu[PW_PMU_SLOTS]; /* written by pw_read_pmu, or by sched_switch when asked */
	__u64 pmu_gen;                        /* the pw_pmu_request that pmu[] answers (written last) */
	__u32 pmu_read_by;                    /* who took the reading: PW_PMU_READ_* */
} __attribute__((aligned(64)));

/* What pw_arm_pmu_timer is asked to do (the object's pw_pmu_arm, in its .data). */
struct pw_pmu_arm_args {
	__u64 tick;     /* the first firing, CLOCK_MONOTONIC ns */
	__u64 interval; /* ns between firings; 0: fire once */
	__s32 cpu;      /* the CPU the caller is pinned to; -1: none (set back by the program) */
	__s32 result;   /* 0, or -errno */
	__u32 tid;      /* the caller: the thread whose rename arms the timer */
	__u32 pad;
};

#endif
