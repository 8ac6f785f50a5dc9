// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * PerfWatch's kernel side: CO-RE programs on BTF tracepoints (tp_btf: no tracefs needed)
 * that only increment per-CPU counters and histogram buckets, and read the counting perf
 * events of their CPU with bpf_perf_event_read_value() when userspace asks for it.
 *
 * Perf events are read by a timer pinned to each CPU at every collection tick (kernel
 * 6.7+), or else at the first context switch on each CPU after pw_pmu_request was raised
 * to the tick. A CPU read by neither by the time of the drain gets the reader program run
 * on it (BPF_PROG_TEST_RUN with BPF_F_TEST_RUN_ON_CPU): on another CPU that is an IPI the
 * caller spins on until that CPU has run it, which cost more than the rest of the drain
 * when that CPU was an idle vCPU.
 *
 * Hot paths (sched_switch, page faults) touch only their CPU's slot of one array: no hash
 * lookups, no locks, no atomics, no clock reads. Each field is written by one program only,
 * and the kernel never nests a program inside itself on one CPU, so plain increments
 * cannot lose updates.
 *
 * Run-queue latency needs no wakeup probes and no per-task storage: the scheduler already
 * stamps every task with the run-queue clock when it is queued (sched_info.last_queued,
 * set on wakeup and on preemption, as /proc/<pid>/schedstat uses it), and sched_switch
 * fires before the kernel consumes that stamp. The latency is rq->clock - last_queued;
 * rq->clock was updated by __schedule() just before the switch.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "perfwatch.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define TASK_RUNNING 0
#define PW_REQ_OP_MASK 0xff /* REQ_OP_BITS is 8 since v4.10 */

/* Set by userspace before load. */
const volatile __u32 pw_nr_cpus = 1; /* possible CPUs: stride of pmu_events */

/*
 * The tick every CPU is asked to read its perf events for (CLOCK_MONOTONIC ns): raised by
 * userspace (src/bpf/bpf_read.c, src/bpf/cpu_poke.c) and by the timers, never lowered by them.
 */
__u64 pw_pmu_request;

/*
 * Set when this kernel's task_struct has no sched_info.last_queued (no CONFIG_SCHED_INFO):
 * userspace learns it here, without parsing the kernel's BTF itself (src/bpf/bpf_load.c).
 */
__u32 pw_no_sched_info;

/* One pw_cpu_slot per possible CPU (max_entries set at load), indexed by CPU number. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_cpu_slot);
} cpu_slots SEC(".maps");

/* In-flight block requests: request pointer -> issue time. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, __u64);
} blk_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 256);
	__type(key, __u32); /* dev_t of the whole disk, kernel encoding (major << 20 | minor) */
	__type(value, struct pw_blk_counters);
} blk_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct pw_net_key);
	__type(value, struct pw_net_counters);
} net_stats SEC(".maps");

/* Counting perf events: slot s on CPU c at s * pw_nr_cpus + c (max_entries set at open). */
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} pmu_events SEC(".maps");

static const struct pw_blk_counters zero_blk;
static const struct pw_net_counters zero_net;

/* Older kernels named these differently; CO-RE picks what this kernel has. */
struct task_struct___pre516 {
	unsigned int cpu;
} __attribute__((preserve_access_index));

struct request___pre515 {
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xffffffffULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xffff) << 4; v >>= shift; r |= shift;
	shift = (v > 0xff) << 3; v >>= shift; r |= shift;
	shift = (v > 0xf) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline void hist_add(struct pw_hist *h, __u64 delta_ns)
{
	__u32 slot = log2_u64(delta_ns / 1000);

	if (slot >= PW_HIST_SLOTS)
		slot = PW_HIST_SLOTS - 1;
	/* clang drops a mask it can prove redundant; the verifier needs it on this register */
	asm volatile("" : "+r"(slot));
	h->slots[slot & (PW_HIST_SLOTS - 1)]++;
	h->count++;
	h->sum_ns += delta_ns;
}

static __always_inline struct pw_cpu_slot *cpu_slot(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&cpu_slots, &cpu);
}

static __always_inline struct pw_cpu_counters *cpu_ctr(void)
{
	struct pw_cpu_slot *s = cpu_slot();

	return s ? &s->counters : NULL;
}

static __always_inline struct pw_drops *drops_ctr(void)
{
	struct pw_cpu_slot *s = cpu_slot();

	return s ? &s->drops : NULL;
}

/* After a change to blk_stats (net: net_stats), which it announces: see struct pw_map_writes. */
static __always_inline void wrote(bool net)
{
	struct pw_cpu_slot *s = cpu_slot();

	if (!s)
		return;
	asm volatile("" ::: "memory");
	if (net)
		s->writes.net++;
	else
		s->writes.blk++;
}

static __always_inline int task_cpu(struct task_struct *t)
{
	if (bpf_core_field_exists(t->thread_info.cpu))
		return t->thread_info.cpu;
	return BPF_CORE_READ((struct task_struct___pre516 *)t, cpu);
}

/* The run-queue clock of the CPU a task is on (for prev in sched_switch: this CPU). */
static __always_inline __u64 task_rq_clock(struct task_struct *t)
{
	struct cfs_rq *cfs = t->se.cfs_rq;
	struct rq *rq;

	if (bpf_core_field_exists(cfs->rq))
		return cfs->rq->clock;
	/* without group scheduling, the cfs_rq is the one embedded in the rq */
	rq = (struct rq *)((__u64)cfs - bpf_core_field_offset(struct rq, cfs));
	return BPF_CORE_READ(rq, clock);
}

/*
 * Reads this CPU's counting perf events (time_enabled/time_running included, for
 * multiplexing) into its slot, then records which request the reading answers. A failed
 * read keeps the last good values and records the error.
 */
static __always_inline void read_pmu(struct pw_cpu_slot *s, __u32 cpu, __u64 gen, __u32 by)
{
#pragma unroll
	for (int slot = 0; slot < PW_PMU_SLOTS; slot++) {
		struct pw_pmu_value *out = &s->pmu[slot];
		struct bpf_perf_event_value v;
		long err;

		err = bpf_perf_event_read_value(&pmu_events, (__u64)slot * pw_nr_cpus + cpu, &v, sizeof(v));
		if (err) {
			out->err = err;
			continue;
		}
		out->counter = v.counter;
		out->enabled = v.enabled;
		out->running = v.running;
		out->err = 0;
		out->reads++;
	}
	/*
	 * The generation last, after the values: x86 keeps stores in order, and the compiler
	 * is told to. Where stores may be seen out of order, a reader that sees the new
	 * generation early takes a value a moment old, counted in the next interval instead.
	 */
	s->pmu_read_by = by;
	asm volatile("" ::: "memory");
	s->pmu_gen = gen;
}

/* ---------------------------------------------------------------- scheduler */
SEC("tp_btf/sched_switch")
int BPF_PROG(pw_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct pw_cpu_slot *s = cpu_slot();
	__u64 now, queued, req;

	if (!s)
		return 0;
	s->counters.ctx_switches++;
	req = *(volatile __u64 *)&pw_pmu_request;
	if (req != s->pmu_gen)
		read_pmu(s, bpf_get_smp_processor_id(), req, PW_PMU_READ_AT_SWITCH);
	if (!bpf_core_field_exists(next->sched_info.last_queued)) {
		pw_no_sched_info = 1; /* no CONFIG_SCHED_INFO: no run-queue latency */
		return 0;
	}
	queued = next->sched_info.last_queued;
	if (!queued || !next->pid)
		return 0;
	now = task_rq_clock(prev);
	if (now > queued)
		hist_add(&s->runq, now - queued);
	return 0;
}

/* The tracepoint fires for every set_task_cpu(); perf counts only real moves. */
SEC("tp_btf/sched_migrate_task")
int BPF_PROG(pw_sched_migrate_task, struct task_struct *p, int dest_cpu)
{
	struct pw_cpu_counters *c;

	if (task_cpu(p) == dest_cpu)
		return 0;
	c = cpu_ctr();
	if (c)
		c->migrations++;
	return 0;
}

/* ---------------------------------------------------------------- page faults (x86) */
SEC("tp_btf/page_fault_user")
int BPF_PROG(pw_page_fault_user)
{
	struct pw_cpu_counters *c = cpu_ctr();

	if (c)
		c->faults_user++;
	return 0;
}

SEC("tp_btf/page_fault_kernel")
int BPF_PROG(pw_page_fault_kernel)
{
	struct pw_cpu_counters *c = cpu_ctr();

	if (c)
		c->faults_kernel++;
	return 0;
}

/* ---------------------------------------------------------------- block I/O */
static __always_inline __u32 rq_dev(struct request *rq)
{
	struct gendisk *disk;

	if (bpf_core_field_exists(((struct request_queue *)0)->disk))
		disk = rq->q->disk;
	else
		disk = BPF_CORE_READ((struct request___pre515 *)rq, rq_disk);
	if (!disk)
		return 0;
	return ((__u32)disk->major << 20) | (__u32)disk->first_minor;
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(pw_block_rq_issue, struct request *rq)
{
	__u64 key = (__u64)rq, now = bpf_ktime_get_ns();

	if (bpf_map_update_elem(&blk_start, &key, &now, BPF_ANY)) {
		struct pw_drops *d = drops_ctr();

		if (d)
			d->blk_start_full++;
	}
	return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(pw_block_rq_complete, struct request *rq, blk_status_t error, unsigned int nr_bytes)
{
	__u64 key = (__u64)rq, *start, now;
	struct pw_blk_counters *s;
	bool final;
	__u32 dev, op;

	start = bpf_map_lookup_elem(&blk_start, &key);
	if (!start)
		return 0; /* issued before we attached */
	now = bpf_ktime_get_ns();
	dev = rq_dev(rq);
	op = rq->cmd_flags & PW_REQ_OP_MASK;
	op = op == 0 ? PW_BLK_READ : op == 1 ? PW_BLK_WRITE : PW_BLK_OTHER;
	/* a partial completion (nr_bytes < what is left) comes again for the rest */
	final = nr_bytes >= rq->__data_len;

	s = bpf_map_lookup_elem(&blk_stats, &dev);
	if (!s) {
		bpf_map_update_elem(&blk_stats, &dev, &zero_blk, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&blk_stats, &dev);
	}
	if (!s) {
		struct pw_drops *d = drops_ctr();

		if (d)
			d->blk_dev_full++;
	} else {
		s->bytes[op] += nr_bytes;
		if (final) {
			s->requests[op]++;
			if (error)
				s->errors++;
			if (now > *start)
				hist_add(&s->latency, now - *start);
		}
		wrote(false);
	}
	if (final)
		bpf_map_delete_elem(&blk_start, &key);
	return 0;
}

/* ---------------------------------------------------------------- network */
static __always_inline struct pw_net_counters *net_ctr(struct net_device *dev)
{
	struct pw_net_key k = {
		.ifindex = dev->ifindex,
		.netns = dev->nd_net.net->ns.inum,
	};
	struct pw_net_counters *n;

	n = bpf_map_lookup_elem(&net_stats, &k);
	if (n)
		return n;
	bpf_map_update_elem(&net_stats, &k, &zero_net, BPF_NOEXIST);
	n = bpf_map_lookup_elem(&net_stats, &k);
	if (!n) {
		struct pw_drops *d = drops_ctr();

		if (d)
			d->net_full++;
	}
	return n;
}

SEC("tp_btf/net_dev_xmit")
int BPF_PROG(pw_net_dev_xmit, struct sk_buff *skb, int rc, struct net_device *dev, unsigned int skb_len)
{
	struct pw_net_counters *n;

	if (rc != 0 || !dev) /* NETDEV_TX_OK only */
		return 0;
	n = net_ctr(dev);
	if (n) {
		n->tx_packets++;
		n->tx_bytes += skb_len;
		wrote(true);
	}
	return 0;
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(pw_netif_receive_skb, struct sk_buff *skb)
{
	struct net_device *dev = skb->dev;
	struct pw_net_counters *n;
	__u64 len, head, data;
	__u16 mac;

	if (!dev)
		return 0;
	/* eth_type_trans() pulled the link-layer header; count it, as the drivers do */
	len = skb->len;
	mac = skb->mac_header;
	head = (__u64)skb->head;
	data = (__u64)skb->data;
	if (mac != (__u16)~0U && data >= head + mac && data - head - mac < 256)
		len += data - head - mac;
	n = net_ctr(dev);
	if (n) {
		n->rx_packets++;
		n->rx_bytes += len;
		wrote(true);
	}
	return 0;
}

/* ---------------------------------------------------------------- perf event timers */
#define PW_CLOCK_MONOTONIC 1

/*
 * One timer per CPU, pinned there, firing at each collection tick: it reads that CPU's
 * perf events at the tick itself, busy or idle, with no thread woken and no IPI. Armed
 * by pw_arm_pmu_timer, run by userspace once on each CPU; each firing arms the next.
 */
struct pw_pmu_timer {
	struct bpf_timer timer;
	__u64 tick;     /* when it fires next (CLOCK_MONOTONIC ns): the request its reading answers */
	__u64 interval; /* ns between ticks */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* possible CPUs, set at load */
	__type(key, __u32);
	__type(value, struct pw_pmu_timer);
} pmu_timers SEC(".maps");

static int pmu_timer_fired(void *map, __u32 *key, struct pw_pmu_timer *t)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct pw_cpu_slot *s = bpf_map_lookup_elem(&cpu_slots, &cpu);
	__u64 now = bpf_ktime_get_ns(), next;

	/*
	 * The request goes up to this tick first: a switch here after the reading then finds
	 * it answered, instead of reading again for the older request until userspace raises
	 * it. A timer a whole interval late could lower it; the next drain raises it again.
	 */
	if (*(volatile __u64 *)&pw_pmu_request < t->tick)
		pw_pmu_request = t->tick;
	if (s)
		read_pmu(s, cpu, t->tick, PW_PMU_READ_BY_TIMER);
	if (!t->interval)
		return 0;
	next = t->tick + t->interval;
	if (next <= now) /* ticks missed (a long stop): the next one on the same grid */
		next += ((now - next) / t->interval + 1) * t->interval;
	t->tick = next;
	bpf_timer_start(&t->timer, next, BPF_F_TIMER_ABS | BPF_F_TIMER_CPU_PIN);
	return 0;
}

/* What pw_arm_pmu_timer is to do, set by userspace before each run; cpu -1: nothing. */
struct pw_pmu_arm_args pw_pmu_arm = { .cpu = -1 };

/*
 * Arms this CPU's timer for pw_pmu_arm.tick, then every pw_pmu_arm.interval ns, when the
 * thread pw_pmu_arm.tid renames itself on CPU pw_pmu_arm.cpu, and says how it went in
 * pw_pmu_arm.result (0 or -errno; the flags need kernel 6.7). Attached only while
 * userspace arms, from a thread pinned to each CPU in turn: a tp_btf program may use
 * timers and read perf events in the timer's callback, and renaming is a tracepoint a
 * thread can fire at will, where it runs. (An fentry program's test run would do it
 * without the tracepoint, but not every kernel has BPF trampolines: this VM's has none.)
 */
SEC("tp_btf/task_rename")
int BPF_PROG(pw_arm_pmu_timer, struct task_struct *task, const char *comm)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct pw_pmu_timer *t;
	long e;

	if ((__u32)bpf_get_current_pid_tgid() != pw_pmu_arm.tid || (__s32)cpu != pw_pmu_arm.cpu)
		return 0; /* another task renamed, or not on the CPU asked for: the result stays unset */
	pw_pmu_arm.cpu = -1;
	t = bpf_map_lookup_elem(&pmu_timers, &cpu);
	if (!t) {
		pw_pmu_arm.result = -2; /* ENOENT */
		return 0;
	}
	e = bpf_timer_init(&t->timer, &pmu_timers, PW_CLOCK_MONOTONIC);
	if (e && e != -16) { /* EBUSY: armed before, re-armed now */
		pw_pmu_arm.result = e;
		return 0;
	}
	e = bpf_timer_set_callback(&t->timer, pmu_timer_fired);
	if (!e) {
		t->tick = pw_pmu_arm.tick;
		t->interval = pw_pmu_arm.interval;
		e = bpf_timer_start(&t->timer, pw_pmu_arm.tick, BPF_F_TIMER_ABS | BPF_F_TIMER_CPU_PIN);
	}
	pw_pmu_arm.result = e;
	return 0;
}

/* ---------------------------------------------------------------- perf event reader */
/* Not attached anywhere: userspace runs it on a CPU that did not switch since it asked. */
SEC("raw_tp/perfwatch_reader_never_attached")
int pw_read_pmu(void *ctx)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct pw_cpu_slot *s = bpf_map_lookup_elem(&cpu_slots, &cpu);

	if (s)
		read_pmu(s, cpu, *(volatile __u64 *)&pw_pmu_request, PW_PMU_READ_BY_READER);
	return 0;
}
