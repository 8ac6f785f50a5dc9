/* SPDX-License-Identifier: MIT */
/*
 * One interval of the eBPF collector: run the reader program on each CPU (it copies that
 * CPU's perf event counts into pmu_values), drain every map, and turn the monotonically
 * increasing counters into counts over the interval. Maps are only ever read here.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf/bpf_internal.h"
#include "bpf/cpu_poke.h"
#include "bpf/perf_scale.h"
#include "perf/perf_events.h"
#include "util/strcopy.h"
#include "util/timeutil.h"

_Static_assert(PW_HIST_SLOTS == PW_BPF_HIST_SLOTS, "histogram sizes of the two sides differ");
_Static_assert((int)PW_BLK_OPS == (int)PW_BPF_BLK_OPS, "block op classes of the two sides differ");

static uint64_t sub_sat(uint64_t cur, uint64_t prev)
{
	return cur >= prev ? cur - prev : 0;
}

static void hist_delta(struct pw_bpf_hist *out, const struct pw_hist *cur, const struct pw_hist *prev)
{
	for (int i = 0; i < PW_HIST_SLOTS; i++)
		out->slots[i] = sub_sat(cur->slots[i], prev->slots[i]);
	out->count = sub_sat(cur->count, prev->count);
	out->sum_ns = sub_sat(cur->sum_ns, prev->sum_ns);
}

static void hist_copy(struct pw_bpf_hist *out, const struct pw_hist *v)
{
	memcpy(out->slots, v->slots, sizeof(out->slots));
	out->count = v->count;
	out->sum_ns = v->sum_ns;
}

static void hist_add(struct pw_hist *sum, const struct pw_hist *v)
{
	for (int i = 0; i < PW_HIST_SLOTS; i++)
		sum->slots[i] += v->slots[i];
	sum->count += v->count;
	sum->sum_ns += v->sum_ns;
}

static const struct pw_bpf_prog_state *prog_by_name(const struct pw_bpf_ctx *ctx, const char *name)
{
	for (uint32_t i = 0; i < ctx->n_progs; i++)
		if (!strcmp(ctx->progs[i].name, name))
			return &ctx->progs[i];
	return NULL;
}

/* ---------------------------------------------------------------- perf events */
void pw_bpf_begin(struct pw_bpf_ctx *ctx, const struct pw_tick *tick)
{
	ctx->pmu_asked = 0;
	if (!ctx->reader || !ctx->pmu_request || !ctx->switch_reads)
		return;
	if (tick && tick->interval_ns) {
		if (tick->interval_ns != ctx->timer_interval)
			pw_bpf_arm_pmu_timers(ctx, tick->at_ns + tick->interval_ns, tick->interval_ns);
		/* the tick is the request: on a schedule the timers and wake-up threads store the same one */
		ctx->pmu_asked = pw_cpu_poke_request_at_least(ctx->pmu_request, tick->at_ns);
		pw_cpu_poke_schedule(ctx->poke, tick->at_ns, tick->interval_ns);
		return;
	}
	ctx->pmu_asked = *ctx->pmu_request + 1;
	__atomic_store_n(ctx->pmu_request, ctx->pmu_asked, __ATOMIC_RELEASE);
	pw_cpu_poke_all(ctx->poke); /* idle CPUs switch too, by the time the drain comes */
}

/*
 * Every online CPU's perf events, read since pw_bpf_begin(): at a context switch on that
 * CPU, or now by the reader run on it (an IPI when it is not this CPU).
 */
static void run_reader(struct pw_bpf_ctx *ctx, struct pw_bpf *b)
{
	int fd = ctx->reader ? ctx->reader->fd : -1;

	b->pmu_read_by_timer = b->pmu_read_at_switch = b->pmu_read_by_reader = 0;
	for (int c = 0; c < ctx->ncpus; c++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .flags = BPF_F_TEST_RUN_ON_CPU, .cpu = (__u32)c);
		int e;

		ctx->pmu_cpu_ok[c] = false;
		if (fd < 0 || !ctx->online[c])
			continue;
		if (ctx->pmu_asked && __atomic_load_n(&ctx->cpu_slots[c].pmu_gen, __ATOMIC_ACQUIRE) == ctx->pmu_asked) {
			/* written before the generation */
			if (ctx->cpu_slots[c].pmu_read_by == PW_PMU_READ_BY_TIMER)
				b->pmu_read_by_timer++;
			else
				b->pmu_read_at_switch++;
			ctx->pmu_cpu_ok[c] = true;
			continue;
		}
		e = bpf_prog_test_run_opts(fd, &opts) ? errno : 0;
		if (e == ENXIO)
			continue; /* went offline: its events count nothing */
		if (e) {
			if (!b->pmu_read_error[0])
				snprintf(b->pmu_read_error, sizeof(b->pmu_read_error),
					 "running pw_read_pmu on CPU %d: %s", c, strerror(e));
			continue;
		}
		ctx->pmu_cpu_ok[c] = true;
		b->pmu_read_by_reader++;
	}
	ctx->pmu_asked = 0; /* answered: a read without a new request runs the reader everywhere */
}

/* Copies perf slot s of every CPU's slot into pmu_cur. */
static void fetch_slot(struct pw_bpf_ctx *ctx, int s)
{
	for (int c = 0; c < ctx->ncpus; c++)
		ctx->pmu_cur[pw_pmu_index(ctx, s, c)] = ctx->cpu_slots[c].pmu[s];
}

static void set_event(struct pw_perf *p, int idx, double value, double ratio)
{
	struct pw_perf_event *e = &p->events[idx];

	e->counted = true;
	e->value = value;
	e->unit = pw_perf_event_defs[idx].unit;
	e->running_ratio = ratio;
}

static void read_pmu(struct pw_bpf_ctx *ctx, struct snapshot *out, struct pw_bpf *b)
{
	bool any_online_failed = false;

	for (int c = 0; c < ctx->ncpus; c++)
		if (ctx->online[c] && !ctx->pmu_cpu_ok[c] && b->pmu_read_error[0])
			any_online_failed = true;

	for (int s = 0; s < PW_PMU_SLOTS; s++) {
		const struct pw_pmu_slot *slot = &ctx->slots[s];
		struct pw_scaled_sum sum = { 0 };
		bool bad = any_online_failed;

		if (!slot->cpus)
			continue;
		fetch_slot(ctx, s);
		for (int c = 0; c < ctx->ncpus; c++) {
			int i = pw_pmu_index(ctx, s, c);
			struct pw_pmu_value *cur = &ctx->pmu_cur[i], *prev = &ctx->pmu_prev[i];
			struct pw_pmu_reading rc, rp;
			struct pw_scaled_sum one = { 0 };

			if (!ctx->pmu_cpu_ok[c])
				continue;
			if (cur->err == -ENOENT && !cur->reads)
				continue; /* no event on this CPU (it was offline at start) */
			if (cur->err || cur->reads == prev->reads) {
				bad = true; /* this CPU's count is stale: the interval is unknown */
				if (!b->pmu_read_error[0])
					snprintf(b->pmu_read_error, sizeof(b->pmu_read_error),
						 "bpf_perf_event_read_value (%s, CPU %d): %s",
						 pw_perf_event_names[slot->event], c,
						 cur->err ? strerror((int)-cur->err) : "no new reading");
				continue;
			}
			rc = (struct pw_pmu_reading){ cur->counter, cur->enabled, cur->running };
			rp = (struct pw_pmu_reading){ prev->counter, prev->enabled, prev->running };
			pw_scaled_sum_add(&sum, &rp, &rc);
			if (s == 0) {
				pw_scaled_sum_add(&one, &rp, &rc);
				for (uint32_t k = 0; k < b->n_cpus; k++)
					if (b->cpus[k].cpu == (uint32_t)c)
						b->cpus[k].cpu_clock_ms = pw_scaled_sum_value(&one) / 1e6;
			}
			*prev = *cur;
		}
		double value = bad ? NAN : pw_scaled_sum_value(&sum);

		if (s == 0)
			value /= 1e6; /* cpu-clock counts ns; perf stat shows msec */
		set_event(&out->perf, slot->event, value, pw_scaled_sum_ratio(&sum));
	}
}

/* ---------------------------------------------------------------- per-CPU counters */
static void read_cpu_counters(struct pw_bpf_ctx *ctx, struct snapshot *out, struct pw_bpf *b)
{
	struct pw_cpu_counters total = { 0 }, since_load = { 0 };
	const struct pw_bpf_prog_state *sw, *mig, *pfu, *pfk;
	uint32_t n = 0;

	for (int c = 0; c < ctx->ncpus; c++)
		ctx->cpu_cur[c] = ctx->cpu_slots[c].counters;
	for (int c = 0; c < ctx->ncpus; c++) {
		const struct pw_cpu_counters *cur = &ctx->cpu_cur[c], *prev = &ctx->cpu_prev[c];
		struct pw_cpu_counters d = {
			.ctx_switches = sub_sat(cur->ctx_switches, prev->ctx_switches),
			.migrations = sub_sat(cur->migrations, prev->migrations),
			.faults_user = sub_sat(cur->faults_user, prev->faults_user),
			.faults_kernel = sub_sat(cur->faults_kernel, prev->faults_kernel),
		};

		/* every CPU counts into the perf totals, one that went offline meanwhile too */
		total.ctx_switches += d.ctx_switches;
		total.migrations += d.migrations;
		total.faults_user += d.faults_user;
		total.faults_kernel += d.faults_kernel;
		since_load.ctx_switches += cur->ctx_switches;
		since_load.migrations += cur->migrations;
		since_load.faults_user += cur->faults_user;
		since_load.faults_kernel += cur->faults_kernel;
		if (!ctx->online[c])
			continue;
		b->cpus[n++] = (struct pw_bpf_cpu){
			.cpu = (uint32_t)c,
			.context_switches = d.ctx_switches,
			.migrations = d.migrations,
			.faults_user = d.faults_user,
			.faults_kernel = d.faults_kernel,
			.cpu_clock_ms = NAN,
			.context_switches_total = cur->ctx_switches,
			.migrations_total = cur->migrations,
			.faults_user_total = cur->faults_user,
			.faults_kernel_total = cur->faults_kernel,
		};
	}
	b->n_cpus = n;
	b->context_switches_total = since_load.ctx_switches;
	b->migrations_total = since_load.migrations;
	b->faults_user_total = since_load.faults_user;
	b->faults_kernel_total = since_load.faults_kernel;
	memcpy(ctx->cpu_prev, ctx->cpu_cur, (size_t)ctx->ncpus * sizeof(*ctx->cpu_cur));

	sw = prog_by_name(ctx, "pw_sched_switch");
	mig = prog_by_name(ctx, "pw_sched_migrate_task");
	pfu = prog_by_name(ctx, "pw_page_fault_user");
	pfk = prog_by_name(ctx, "pw_page_fault_kernel");
	if (sw && sw->attached)
		set_event(&out->perf, 1, (double)total.ctx_switches, 1.0);
	if (mig && mig->attached)
		set_event(&out->perf, 2, (double)total.migrations, 1.0);
	if (pfu && pfu->attached && pfk && pfk->attached)
		set_event(&out->perf, 3, (double)(total.faults_user + total.faults_kernel), 1.0);
}

static void read_runq(struct pw_bpf_ctx *ctx, struct pw_bpf *b)
{
	const struct pw_bpf_prog_state *sw;
	struct pw_hist sum = { 0 };

	for (int c = 0; c < ctx->ncpus; c++)
		hist_add(&sum, &ctx->cpu_slots[c].runq);
	hist_delta(&b->runq, &sum, &ctx->runq_prev);
	hist_copy(&b->runq_total, &sum);
	ctx->runq_prev = sum;
	sw = prog_by_name(ctx, "pw_sched_switch");
	if (ctx->no_sched_info && *ctx->no_sched_info)
		pw_bpf_why(b->runq_why, "this kernel has no sched_info.last_queued (CONFIG_SCHED_INFO)");
	else if (!sw || !sw->attached)
		pw_bpf_why(b->runq_why, "pw_sched_switch: %s",
			 sw && sw->why[0] ? sw->why : "not attached");
	else
		b->runq_why[0] = '\0';
}

static void read_drops(struct pw_bpf_ctx *ctx, struct pw_bpf *b)
{
	memset(&b->drops, 0, sizeof(b->drops));
	for (int c = 0; c < ctx->ncpus; c++) {
		const struct pw_drops *v = &ctx->cpu_slots[c].drops;

		b->drops.blk_start_full += v->blk_start_full;
		b->drops.blk_dev_full += v->blk_dev_full;
		b->drops.net_full += v->net_full;
	}
}

/* ---------------------------------------------------------------- per-CPU hash maps */
/* Keys asked for in one batch: as many as PW_BPF_BATCH_BYTES of values hold (at least 1). */
static uint32_t batch_keys(const struct pw_bpf_ctx *ctx, size_t value_size)
{
	size_t n = PW_BPF_BATCH_BYTES / (value_size * (size_t)ctx->ncpus);

	return n < 1 ? 1 : n > PW_BPF_BATCH_KEYS ? PW_BPF_BATCH_KEYS : (uint32_t)n;
}

/* What the programs wrote to blk_stats and net_stats so far, summed over the CPUs. */
static struct pw_map_writes map_writes(const struct pw_bpf_ctx *ctx)
{
	struct pw_map_writes sum = { 0 };

	for (int c = 0; c < ctx->ncpus; c++) {
		const volatile struct pw_map_writes *w = &ctx->cpu_slots[c].writes;

		sum.blk += w->blk;
		sum.net += w->net;
	}
	return sum;
}

/* The rows of the last read, as a read of an unchanged map would give them again. */
static long keep_rows(void *cur_ptr, uint32_t *cap_cur, const void *prev, uint32_t n, size_t size)
{
	if (pw_array_reserve(cur_ptr, cap_cur, n, size) < 0)
		return -ENOMEM;
	if (n)
		memcpy(*(void **)cur_ptr, prev, n * size);
	return n;
}

/* qsort() and bsearch() for row arrays that may be empty, and NULL before their first row */
static void sort_rows(void *rows, uint32_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(rows, n, size, cmp);
}

static const void *find_row(const void *key, const void *rows, uint32_t n, size_t size,
			    int (*cmp)(const void *, const void *))
{
	return n ? bsearch(key, rows, n, size, cmp) : NULL;
}

/* The current rows become the previous ones; the old previous array is reused as current. */
static void swap_rows(void *prev_ptr, uint32_t *cap_prev, void *cur_ptr, uint32_t *cap_cur)
{
	void **prev = prev_ptr, **cur = cur_ptr, *t = *prev;
	uint32_t cap = *cap_prev;

	*prev = *cur;
	*cap_prev = *cap_cur;
	*cur = t;
	*cap_cur = cap;
}

/*
 * Hands each entry of per-CPU hash map fd (up to max) to row(): its key and its ncpus
 * values. Whole batches come in one bpf() call each; a kernel without batch lookups
 * (before 5.6), or a hash bucket larger than the batch, gets the key-by-key walk.
 * The number of entries handed over, or -errno (-ENOMEM: row() could not take one).
 */
static long drain_hash(struct pw_bpf_ctx *ctx, int fd, size_t key_size, size_t value_size, uint32_t max,
		       int (*row)(struct pw_bpf_ctx *ctx, const void *key, const void *values, uint32_t i))
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint8_t keys[PW_BPF_BATCH_KEYS * 8] = { 0 }, next[8], *prevp = NULL, cur[8];
	size_t stride = value_size * (size_t)ctx->ncpus;
	uint32_t per = batch_keys(ctx, value_size), n = 0, count;
	__u64 token = 0;
	bool first = true;
	int e;

	if (key_size > 8)
		return -EINVAL;
	while (ctx->batch_ok && n < max) {
		count = per < max - n ? per : max - n;
		e = bpf_map_lookup_batch(fd, first ? NULL : &token, &token, keys, ctx->percpu_buf, &count, &opts)
			    ? -errno : 0;
		first = false;
		if (e && e != -ENOENT) {
			if (n > 0)
				return e; /* a walk from the start would hand rows over twice */
			ctx->batch_ok = false; /* EINVAL/ENOTSUPP: too old a kernel; ENOSPC: a big bucket */
			break;
		}
		for (uint32_t i = 0; i < count; i++, n++)
			if (row(ctx, keys + i * key_size, (const uint8_t *)ctx->percpu_buf + i * stride, n) < 0)
				return -ENOMEM;
		if (e == -ENOENT || count == 0)
			return n;
	}
	if (ctx->batch_ok)
		return n;
	while (n < max && !bpf_map_get_next_key(fd, prevp, next)) {
		memcpy(cur, next, key_size);
		prevp = cur;
		if (bpf_map_lookup_elem(fd, cur, ctx->percpu_buf))
			continue; /* deleted meanwhile (never by us) */
		if (row(ctx, cur, ctx->percpu_buf, n++) < 0)
			return -ENOMEM;
	}
	return n;
}

/* ---------------------------------------------------------------- block devices */
static int cmp_blk(const void *a, const void *b)
{
	__u32 x = ((const struct pw_blk_row *)a)->dev, y = ((const struct pw_blk_row *)b)->dev;

	return x < y ? -1 : x > y;
}

/* The kernel's name for a disk: /sys/dev/block/MAJ:MIN links to .../block/<name>. */
static void blk_name(const struct pw_env *env, uint32_t major, uint32_t minor, char *name, size_t len)
{
	char path[48], target[512];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "dev/block/%u:%u", major, minor);
	n = readlinkat(env->sys_fd, path, target, sizeof(target) - 1);
	if (n <= 0) {
		snprintf(name, len, "%u:%u", major, minor);
		return;
	}
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len) /* not a name the kernel gives a disk: keep the numbers */
		snprintf(name, len, "%u:%u", major, minor);
	else
		memcpy(name, base, strlen(base) + 1);
}

static int blk_row(struct pw_bpf_ctx *ctx, const void *key, const void *values, uint32_t i)
{
	const struct pw_blk_counters *v = values;
	struct pw_blk_row *row;

	if (pw_array_reserve(&ctx->blk_cur, &ctx->cap_blk_cur, i + 1, sizeof(*ctx->blk_cur)) < 0)
		return -ENOMEM;
	row = &ctx->blk_cur[i];

	memset(row, 0, sizeof(*row));
	memcpy(&row->dev, key, sizeof(row->dev));
	for (int c = 0; c < ctx->ncpus; c++) {
		for (int o = 0; o < PW_BLK_OPS; o++) {
			row->c.requests[o] += v[c].requests[o];
			row->c.bytes[o] += v[c].bytes[o];
		}
		row->c.errors += v[c].errors;
		hist_add(&row->c.latency, &v[c].latency);
	}
	return 0;
}

/* unchanged: no program wrote the map since the last read, which keep_rows() repeats */
static int read_block(struct pw_bpf_ctx *ctx, const struct pw_env *env, struct pw_bpf *b, bool unchanged,
		      bool renew_names)
{
	long got = unchanged
			   ? keep_rows(&ctx->blk_cur, &ctx->cap_blk_cur, ctx->blk_prev, ctx->n_blk_prev, sizeof(*ctx->blk_cur))
			   : drain_hash(ctx, ctx->maps.blk_stats, sizeof(__u32), sizeof(struct pw_blk_counters),
					PW_BPF_BLK_MAX, blk_row);
	uint32_t n;
	int e;

	if (got < 0)
		return (int)got;
	n = (uint32_t)got;
	sort_rows(ctx->blk_cur, n, sizeof(*ctx->blk_cur), cmp_blk);
	e = pw_array_reserve(&b->block, &b->cap_block, n, sizeof(*b->block));
	if (e)
		return e;
	for (uint32_t i = 0; i < n; i++) {
		const struct pw_blk_row *cur = &ctx->blk_cur[i];
		const struct pw_blk_row *prev = find_row(cur, ctx->blk_prev, ctx->n_blk_prev,
							 sizeof(*ctx->blk_prev), cmp_blk);
		static const struct pw_blk_row zero;
		struct pw_bpf_blockdev *d = &b->block[i];

		if (!prev)
			prev = &zero;
		memset(d, 0, sizeof(*d));
		d->major = cur->dev >> 20;
		d->minor = cur->dev & 0xfffff;
		if (renew_names || !prev->name[0])
			blk_name(env, d->major, d->minor, ctx->blk_cur[i].name, sizeof(ctx->blk_cur[i].name));
		else
			memcpy(ctx->blk_cur[i].name, prev->name, sizeof(prev->name));
		memcpy(d->name, cur->name, sizeof(d->name));
		for (int o = 0; o < PW_BLK_OPS; o++) {
			d->requests[o] = sub_sat(cur->c.requests[o], prev->c.requests[o]);
			d->bytes[o] = sub_sat(cur->c.bytes[o], prev->c.bytes[o]);
		}
		d->errors = sub_sat(cur->c.errors, prev->c.errors);
		hist_delta(&d->latency, &cur->c.latency, &prev->c.latency);
		memcpy(d->requests_total, cur->c.requests, sizeof(d->requests_total));
		memcpy(d->bytes_total, cur->c.bytes, sizeof(d->bytes_total));
		d->errors_total = cur->c.errors;
		hist_copy(&d->latency_total, &cur->c.latency);
	}
	b->n_block = n;
	swap_rows(&ctx->blk_prev, &ctx->cap_blk_prev, &ctx->blk_cur, &ctx->cap_blk_cur);
	ctx->n_blk_prev = n;
	return 0;
}

/* ---------------------------------------------------------------- network interfaces */
static int cmp_net(const void *a, const void *b)
{
	const struct pw_net_key *x = &((const struct pw_net_row *)a)->key;
	const struct pw_net_key *y = &((const struct pw_net_row *)b)->key;

	if (x->netns != y->netns)
		return x->netns < y->netns ? -1 : 1;
	return x->ifindex < y->ifindex ? -1 : x->ifindex > y->ifindex;
}

/* An interface's name, as read_net() shows it. */
static void net_name(const struct pw_bpf_netif *f, char *name, size_t len)
{
	char ifname[IF_NAMESIZE];

	if (f->own_netns && if_indextoname(f->ifindex, ifname))
		snprintf(name, len, "%s", ifname);
	else if (f->own_netns)
		snprintf(name, len, "if%u", f->ifindex); /* gone since */
	else
		snprintf(name, len, "if%u@netns%u", f->ifindex, f->netns);
}

static int net_row(struct pw_bpf_ctx *ctx, const void *key, const void *values, uint32_t i)
{
	const struct pw_net_counters *v = values;
	struct pw_net_row *row;

	if (pw_array_reserve(&ctx->net_cur, &ctx->cap_net_cur, i + 1, sizeof(*ctx->net_cur)) < 0)
		return -ENOMEM;
	row = &ctx->net_cur[i];

	memset(row, 0, sizeof(*row));
	memcpy(&row->key, key, sizeof(row->key));
	for (int c = 0; c < ctx->ncpus; c++) {
		row->c.tx_packets += v[c].tx_packets;
		row->c.tx_bytes += v[c].tx_bytes;
		row->c.rx_packets += v[c].rx_packets;
		row->c.rx_bytes += v[c].rx_bytes;
	}
	return 0;
}

static int read_net(struct pw_bpf_ctx *ctx, struct pw_bpf *b, bool unchanged, bool renew_names)
{
	long got = unchanged
			   ? keep_rows(&ctx->net_cur, &ctx->cap_net_cur, ctx->net_prev, ctx->n_net_prev, sizeof(*ctx->net_cur))
			   : drain_hash(ctx, ctx->maps.net_stats, sizeof(struct pw_net_key),
					sizeof(struct pw_net_counters), PW_BPF_NET_MAX, net_row);
	uint32_t n;
	int e;

	if (got < 0)
		return (int)got;
	n = (uint32_t)got;
	sort_rows(ctx->net_cur, n, sizeof(*ctx->net_cur), cmp_net);
	e = pw_array_reserve(&b->net, &b->cap_net, n, sizeof(*b->net));
	if (e)
		return e;
	for (uint32_t i = 0; i < n; i++) {
		const struct pw_net_row *cur = &ctx->net_cur[i];
		const struct pw_net_row *prev = find_row(cur, ctx->net_prev, ctx->n_net_prev,
							 sizeof(*ctx->net_prev), cmp_net);
		static const struct pw_net_row zero;
		struct pw_bpf_netif *f = &b->net[i];

		if (!prev)
			prev = &zero;
		memset(f, 0, sizeof(*f));
		f->ifindex = cur->key.ifindex;
		f->netns = cur->key.netns;
		f->own_netns = ctx->own_netns && cur->key.netns == ctx->own_netns;
		if (renew_names || !prev->name[0])
			net_name(f, ctx->net_cur[i].name, sizeof(ctx->net_cur[i].name));
		else
			memcpy(ctx->net_cur[i].name, prev->name, sizeof(prev->name));
		memcpy(f->name, cur->name, sizeof(f->name));
		f->tx_packets = sub_sat(cur->c.tx_packets, prev->c.tx_packets);
		f->tx_bytes = sub_sat(cur->c.tx_bytes, prev->c.tx_bytes);
		f->rx_packets = sub_sat(cur->c.rx_packets, prev->c.rx_packets);
		f->rx_bytes = sub_sat(cur->c.rx_bytes, prev->c.rx_bytes);
		f->tx_packets_total = cur->c.tx_packets;
		f->tx_bytes_total = cur->c.tx_bytes;
		f->rx_packets_total = cur->c.rx_packets;
		f->rx_bytes_total = cur->c.rx_bytes;
	}
	b->n_net = n;
	swap_rows(&ctx->net_prev, &ctx->cap_net_prev, &ctx->net_cur, &ctx->cap_net_cur);
	ctx->n_net_prev = n;
	return 0;
}

/* ---------------------------------------------------------------- self-accounting */
/* One program's counters, up to recursion_misses: the kernel copies no more in or out. */
static int prog_info(const struct pw_bpf_prog_state *ps, struct bpf_prog_info *info)
{
	__u32 len = offsetof(struct bpf_prog_info, recursion_misses) + sizeof(info->recursion_misses);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(ps->fd, info, &len);
}

/*
 * Each program's counts, and whether run-time stats were on this interval: held on by us
 * (--bpf-stats), or a run count moved, which the kernel counts only while they are on
 * (sysctl kernel.bpf_stats_enabled=1, or another holder). sched_switch runs in every
 * interval, so its count alone tells (no sysctl read: ~12 µs of a cold cycle here); while
 * it stands still the other programs' counts cannot have moved either, and only their
 * recursion misses could: those are read with the names, once a minute (renew), which
 * spares ~11 µs of bpf() calls per cycle.
 */
static void read_programs(struct pw_bpf_ctx *ctx, struct pw_bpf *b, bool renew)
{
	const struct pw_bpf_prog_state *probe = prog_by_name(ctx, "pw_sched_switch");
	struct bpf_prog_info info, probe_info;
	bool probe_read = probe && probe->loaded && probe->attached && prog_info(probe, &probe_info) == 0;
	bool all = ctx->stats_fd >= 0 || renew || !probe_read || probe_info.run_cnt != probe->prev_run_cnt;

	b->stats_enabled = ctx->stats_fd >= 0;
	b->n_progs = 0;
	for (uint32_t i = 0; i < ctx->n_progs && i < PW_BPF_MAX_PROGS; i++) {
		struct pw_bpf_prog_state *ps = &ctx->progs[i];
		struct pw_bpf_prog *p = &b->progs[b->n_progs++];

		memset(p, 0, sizeof(*p));
		pw_str_copy(p->name, sizeof(p->name), ps->name);
		pw_str_copy(p->attach, sizeof(p->attach),
			    ps->reader ? "test_run, on each CPU" : ps->arms_timers ? "tp_btf/task_rename, while arming" : ps->attach);
		p->attached = ps->reader || ps->arms_timers ? ps->loaded : ps->attached;
		memcpy(p->why, ps->why, sizeof(p->why));
		if (!ps->loaded)
			continue;
		if ((ps->arms_timers && !ctx->timer_arm_ran) || (ps->reader && !b->pmu_read_by_reader) ||
		    (!all && ps != probe)) {
			/* its counts stand, without a system call: it did not run, or they did not move */
			p->run_count_total = ps->prev_run_cnt;
			p->run_time_ns_total = ps->prev_run_time_ns;
			p->recursion_misses_total = ps->prev_recursion_misses;
			continue;
		}
		if (ps == probe && probe_read)
			info = probe_info;
		else if (prog_info(ps, &info))
			continue;
		if (info.run_cnt != ps->prev_run_cnt)
			b->stats_enabled = true;
		p->run_count_total = info.run_cnt;
		p->run_time_ns_total = info.run_time_ns;
		p->recursion_misses_total = info.recursion_misses;
		p->runs = sub_sat(info.run_cnt, ps->prev_run_cnt);
		p->run_time_ns = sub_sat(info.run_time_ns, ps->prev_run_time_ns);
		ps->prev_run_cnt = info.run_cnt;
		ps->prev_run_time_ns = info.run_time_ns;
		ps->prev_recursion_misses = info.recursion_misses;
	}
	ctx->timer_arm_ran = false;
}

/* ---------------------------------------------------------------- capability report */
static void tracepoint_event(const struct pw_bpf_ctx *ctx, struct pw_bpf_event *e, const char *prog1,
			     const char *prog2)
{
	const char *names[2] = { prog1, prog2 };

	e->source = "tracepoint";
	e->counted = true;
	for (int i = 0; i < 2 && names[i]; i++) {
		const struct pw_bpf_prog_state *ps = prog_by_name(ctx, names[i]);

		if (ps && ps->attached)
			continue;
		e->counted = false;
		if (!e->why[0])
			pw_bpf_why(e->why, "%s: %s", names[i],
				 ps && ps->why[0] ? ps->why : "not attached");
	}
	if (e->counted) {
		for (int c = 0; c < ctx->ncpus; c++)
			e->cpus += ctx->online[c];
	}
}

static void fill_capabilities(const struct pw_bpf_ctx *ctx, struct pw_bpf *b)
{
	memset(b->events, 0, sizeof(b->events));
	tracepoint_event(ctx, &b->events[1], "pw_sched_switch", NULL);
	tracepoint_event(ctx, &b->events[2], "pw_sched_migrate_task", NULL);
	tracepoint_event(ctx, &b->events[3], "pw_page_fault_user", "pw_page_fault_kernel");
	for (int s = 0; s < PW_PMU_SLOTS; s++) {
		const struct pw_pmu_slot *slot = &ctx->slots[s];
		struct pw_bpf_event *e = &b->events[slot->event];
		const struct pw_perf_event_def *def = &pw_perf_event_defs[slot->event];

		e->source = "perf_event";
		e->counted = slot->cpus > 0;
		e->cpus = slot->cpus;
		e->standin = ctx->test_sw && def->hardware ? def->standin : NULL;
		memcpy(e->why, slot->why, sizeof(e->why));
	}
}

/*
 * perf.error's text: the events that could not be counted, grouped by reason. Returns
 * whether there is one (none when all are counted outside test mode).
 */
static bool describe_missing(const struct pw_bpf *b, char *error, size_t cap, bool *available)
{
	bool done[PW_PERF_NUM_EVENTS] = { false };
	size_t used = 0;
	int missing = 0;

	for (int i = 0; i < PW_PERF_NUM_EVENTS; i++)
		missing += !b->events[i].counted;
	*available = missing == 0;
	if (!missing) {
		if (!b->test_software_events)
			return false;
		snprintf(error, cap, "test mode (" PW_TEST_SOFTWARE_EVENTS_ENV "=1): the 13 hardware "
				     "events count software stand-ins, see bpf.events");
		return true;
	}
	used = (size_t)snprintf(error, cap, "%d of %d events not counted: ", missing, PW_PERF_NUM_EVENTS);
	for (int i = 0; i < PW_PERF_NUM_EVENTS && used < cap; i++) {
		const char *why = b->events[i].why;
		bool first = true;

		if (b->events[i].counted || done[i])
			continue;
		if (used > 0 && error[used - 1] != ' ')
			used += (size_t)snprintf(error + used, cap - used, "; ");
		for (int j = i; j < PW_PERF_NUM_EVENTS && used < cap; j++) {
			if (b->events[j].counted || done[j] || strcmp(b->events[j].why, why))
				continue;
			done[j] = true;
			used += (size_t)snprintf(error + used, cap - used, "%s%s", first ? "" : ", ",
						 pw_perf_event_names[j]);
			first = false;
		}
		if (used < cap)
			used += (size_t)snprintf(error + used, cap - used, " (%s)", why[0] ? why : "unknown reason");
	}
	return true;
}

/* perf.available and perf.error, described again only when the events' report changed. */
static void report_missing(struct pw_bpf_ctx *ctx, const struct pw_bpf *b, struct pw_perf *p)
{
	struct pw_bpf_missing *m = &ctx->missing;

	if (!m->valid || m->test_sw != b->test_software_events || memcmp(m->events, b->events, sizeof(m->events))) {
		m->has_error = describe_missing(b, m->error, sizeof(m->error), &m->available);
		memcpy(m->events, b->events, sizeof(m->events));
		m->test_sw = b->test_software_events;
		m->valid = true;
	}
	p->available = m->available;
	if (m->has_error)
		memcpy(p->error, m->error, strlen(m->error) + 1);
}

int pw_bpf_read(struct pw_bpf_ctx *ctx, const struct pw_env *env, struct snapshot *out, char *err, size_t errlen)
{
	uint64_t now = pw_mono_ns();
	struct pw_bpf *b = out->bpf;
	struct pw_map_writes writes;
	bool renew_names;
	int e;

	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		out->bpf = b;
	}
	out->bpf_valid = false;
	b->interval_s = (double)(now - ctx->prev_ns) / 1e9;
	ctx->prev_ns = now;
	b->test_software_events = ctx->test_sw;
	b->pmu_read_error[0] = '\0';
	b->pmu_timer_cpus = ctx->timer_cpus;
	memcpy(b->pmu_timer_why, ctx->timer_why, sizeof(b->pmu_timer_why));
	b->wakeup_threads = (uint32_t)pw_cpu_poke_threads(ctx->poke);
	b->n_maps = ctx->n_maps;
	b->map_memory_bytes = ctx->map_memory_bytes;
	b->light_skeleton = ctx->lskel != NULL;
	if (ctx->loader_why[0])
		memcpy(b->loader_why, ctx->loader_why, sizeof(b->loader_why));
	else
		b->loader_why[0] = '\0';

	e = pw_array_reserve(&b->cpus, &b->cap_cpus, (uint32_t)ctx->ncpus, sizeof(*b->cpus));
	if (e) {
		snprintf(err, errlen, "out of memory");
		return e;
	}
	/* perf events first: they are read on every CPU at nearly the same moment */
	run_reader(ctx, b);
	read_cpu_counters(ctx, out, b);
	read_pmu(ctx, out, b);
	read_runq(ctx, b);
	read_drops(ctx, b);
	renew_names = now - ctx->names_ns >= PW_BPF_NAMES_TTL_NS;
	if (renew_names)
		ctx->names_ns = now;
	read_programs(ctx, b, renew_names);
	if (b->stats_enabled)
		b->stats_why[0] = '\0';
	else
		memcpy(b->stats_why, ctx->stats_why, sizeof(b->stats_why));
	writes = map_writes(ctx); /* before the maps: a write after this is read next time */
	e = read_block(ctx, env, b, ctx->rows_read && writes.blk == ctx->writes_read.blk, renew_names);
	if (!e)
		e = read_net(ctx, b, ctx->rows_read && writes.net == ctx->writes_read.net, renew_names);
	if (e) {
		ctx->rows_read = false;
		snprintf(err, errlen, "reading BPF maps: %s", strerror(-e));
		return e;
	}
	ctx->rows_read = true;
	ctx->writes_read = writes;
	fill_capabilities(ctx, b);
	report_missing(ctx, b, &out->perf);
	pw_bpf_ratios_compute(&out->perf, &b->ratios);
	out->bpf_valid = true;
	return 0;
}
