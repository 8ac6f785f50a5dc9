/* SPDX-License-Identifier: MIT */
#include "collect/runner.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/timeutil.h"

enum worker_state { W_IDLE, W_RUN, W_DONE };

struct worker {
	struct runner *r;
	const struct collector *c;
	pthread_t thread;
	bool started;  /* init succeeded: it runs every interval */
	bool threaded; /* runs in a thread of its own (may_block, or the hang hook) */
	bool has_thread; /* that thread is started: at once, or when blocks_now first says so */
	int spawn_err;   /* its thread could not be started for this collection (-errno) */
	bool inline_now; /* this collection runs in the runner's thread */
	pthread_cond_t go;
	enum worker_state state;
	uint64_t gen, done_gen;
	int rc;
	int init_rc;
	bool hang; /* fault injection: PW_TEST_HANG_COLLECTOR names this collector */
	char err[PW_ERROR_MAX];
	char init_err[PW_ERROR_MAX];
	void *state_mem;
	struct snapshot snap;
	struct runner_stats stats;
	uint64_t started_ns;
};

struct runner {
	pthread_mutex_t lock;
	pthread_cond_t done;
	bool quit;
	uint64_t gen;
	const struct pw_env *env;
	const sigset_t *interrupt; /* stop waiting when one of these is pending */
	size_t n;
	struct worker *w;
};

static void swap_bytes(void *a, void *b, size_t n)
{
	unsigned char tmp[256], *pa = a, *pb = b;

	while (n) {
		size_t k = n < sizeof(tmp) ? n : sizeof(tmp);

		memcpy(tmp, pa, k);
		memcpy(pa, pb, k);
		memcpy(pb, tmp, k);
		pa += k;
		pb += k;
		n -= k;
	}
}

static void move_sections(struct snapshot *dst, struct snapshot *src, unsigned sections)
{
	if (sections & PW_SEC_CPU)
		swap_bytes(&dst->cpu, &src->cpu, sizeof(dst->cpu));
	if (sections & PW_SEC_MEMORY)
		swap_bytes(&dst->memory, &src->memory, sizeof(dst->memory));
	if (sections & PW_SEC_NETWORK)
		swap_bytes(&dst->network, &src->network, sizeof(dst->network));
	if (sections & PW_SEC_DISK)
		swap_bytes(&dst->disk, &src->disk, sizeof(dst->disk));
	if (sections & PW_SEC_PERF)
		swap_bytes(&dst->perf, &src->perf, sizeof(dst->perf));
	if (sections & PW_SEC_BPF) {
		swap_bytes(&dst->bpf, &src->bpf, sizeof(dst->bpf));
		swap_bytes(&dst->bpf_valid, &src->bpf_valid, sizeof(dst->bpf_valid));
	}
}

static void null_sections(struct snapshot *s, unsigned sections, const char *why)
{
	if (sections & PW_SEC_CPU)
		s->cpu.valid = false;
	if (sections & PW_SEC_MEMORY)
		s->memory.valid = false;
	if (sections & PW_SEC_NETWORK)
		s->network.valid = false;
	if (sections & PW_SEC_DISK)
		s->disk.valid = false;
	if (sections & PW_SEC_PERF) {
		memset(&s->perf, 0, sizeof(s->perf));
		s->perf.source = PW_PERF_SOURCE_NONE;
		snprintf(s->perf.error, sizeof(s->perf.error), "%s", why);
	}
	if (sections & PW_SEC_BPF)
		s->bpf_valid = false;
}

/*
 * One run of a worker's collector, timed on the calling thread's CPU clock from *cpu
 * (read before), which is left at the end: runs one after another share the readings
 * (reading a thread's CPU clock is a system call).
 */
static int run_timed(struct worker *w, uint64_t *cpu)
{
	uint64_t wall0 = pw_mono_ns(), cpu0 = *cpu;
	int rc;

	w->err[0] = '\0';
	rc = w->c->collect(w->state_mem, w->r->env, &w->snap, w->err, sizeof(w->err));
	*cpu = pw_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	w->stats.cpu_ns = *cpu - cpu0;
	w->stats.wall_ns = pw_mono_ns() - wall0;
	return rc;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct runner *r = w->r;
	uint64_t gen, cpu;
	int rc;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (w->state != W_RUN && !r->quit)
			pthread_cond_wait(&w->go, &r->lock);
		if (r->quit)
			break;
		gen = w->gen;
		pthread_mutex_unlock(&r->lock);

		if (w->hang) {
			/* a collector stuck in the kernel, as statvfs on a dead NFS mount would be */
			pthread_mutex_lock(&r->lock);
			while (!r->quit)
				pthread_cond_wait(&w->go, &r->lock);
			break;
		}
		cpu = pw_clock_ns(CLOCK_THREAD_CPUTIME_ID);
		rc = run_timed(w, &cpu);

		pthread_mutex_lock(&r->lock);
		w->rc = rc;
		w->done_gen = gen;
		w->state = W_DONE;
		pthread_cond_broadcast(&r->done);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* Starts w's thread, named "pw-<collector>" for top -H and the tests. Returns 0 or -errno. */
static int start_thread(struct worker *w)
{
	char name[16];
	int err = -pthread_create(&w->thread, NULL, worker_main, w);

	if (err)
		return err;
	w->has_thread = true;
	snprintf(name, sizeof(name), "pw-%s", w->c->name);
	pthread_setname_np(w->thread, name);
	return 0;
}

int runner_create(struct runner **ret, const struct collector *const *list, size_t n,
		  const struct pw_env *env)
{
	pthread_condattr_t ca;
	struct runner *r;
	size_t i;
	int err;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->w = calloc(n ? n : 1, sizeof(*r->w));
	if (!r->w) {
		free(r);
		return -ENOMEM;
	}
	r->n = n;
	r->env = env;
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->done, &ca);
	pthread_condattr_destroy(&ca);

	for (i = 0; i < n; i++) {
		struct worker *w = &r->w[i];
		const char *hang = env->opts ? env->opts->test_hang_collector : NULL;

		w->r = r;
		w->c = list[i];
		w->hang = hang && !strcmp(hang, w->c->name);
		pthread_cond_init(&w->go, NULL);
		snapshot_init(&w->snap);
		w->state_mem = calloc(1, w->c->state_size ? w->c->state_size : 1);
		if (!w->state_mem) {
			err = -ENOMEM;
			goto out_destroy;
		}
		w->init_rc = w->c->init ? w->c->init(w->state_mem, env, w->init_err, sizeof(w->init_err)) : 0;
		if (w->init_rc < 0) {
			if (!w->init_err[0])
				snprintf(w->init_err, sizeof(w->init_err), "start-up failed: %s", strerror(-w->init_rc));
			continue;
		}
		w->threaded = w->c->may_block || w->hang; /* a hang is simulated in a thread */
		if (w->threaded && (w->hang || !w->c->blocks_now)) {
			err = start_thread(w);
			if (err)
				goto out_destroy;
		}
		w->started = true;
	}
	*ret = r;
	return 0;
out_destroy:
	runner_destroy(r);
	return err;
}

void runner_set_interrupt(struct runner *r, const sigset_t *sigs) { r->interrupt = sigs; }

static bool interrupted(const struct runner *r)
{
	sigset_t pending;

	if (!r->interrupt || sigpending(&pending) < 0)
		return false;
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(r->interrupt, sig) == 1 && sigismember(&pending, sig) == 1)
			return true;
	return false;
}

/* How often a wait for late collectors looks for a pending stop signal. */
#define INTERRUPT_CHECK_NS 20000000ull

void runner_collect(struct runner *r, struct snapshot *out, const struct pw_tick *tick, uint64_t deadline_ns)
{
	struct timespec dl;
	uint64_t now = pw_mono_ns(), cpu;
	bool waiting;
	size_t i;

	pthread_mutex_lock(&r->lock);
	r->gen++;
	for (i = 0; i < r->n; i++) {
		struct worker *w = &r->w[i];

		w->inline_now = false;
		if (!w->started || w->state == W_RUN)
			continue; /* failed at start, or still busy with an earlier interval */
		if (w->c->begin)
			w->c->begin(w->state_mem, tick);
		/* W_RUN only for the thread: it must not start on a spurious wake-up */
		w->inline_now = !w->threaded || (!w->hang && w->c->blocks_now && !w->c->blocks_now(w->state_mem));
		w->gen = r->gen;
		w->started_ns = now;
		w->spawn_err = 0;
		if (!w->inline_now && !w->has_thread) {
			/* first needed now: a machine whose collections never block never starts it */
			w->spawn_err = start_thread(w);
		}
		w->state = w->inline_now || w->spawn_err ? W_IDLE : W_RUN;
	}
	/* the others here, while the threaded ones run: only this thread touches them */
	pthread_mutex_unlock(&r->lock);
	/* woken after the unlock: a worker woken under it would block on the lock at once */
	for (i = 0; i < r->n; i++)
		if (r->w[i].started && !r->w[i].inline_now && !r->w[i].spawn_err && r->w[i].gen == r->gen)
			pthread_cond_signal(&r->w[i].go);
	cpu = pw_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	for (i = 0; i < r->n; i++)
		if (r->w[i].inline_now)
			r->w[i].rc = run_timed(&r->w[i], &cpu);
	pthread_mutex_lock(&r->lock);
	for (i = 0; i < r->n; i++) {
		if (r->w[i].inline_now) {
			r->w[i].done_gen = r->w[i].gen;
			r->w[i].state = W_DONE;
		}
	}
	for (;;) {
		waiting = false;
		for (i = 0; i < r->n; i++)
			if (r->w[i].started && r->w[i].state == W_RUN)
				waiting = true;
		if (!waiting)
			break;
		now = pw_mono_ns();
		if (now >= deadline_ns)
			break;
		dl = pw_ns_to_ts(r->interrupt && deadline_ns - now > INTERRUPT_CHECK_NS ? now + INTERRUPT_CHECK_NS
										    : deadline_ns);
		if (pthread_cond_timedwait(&r->done, &r->lock, &dl) == ETIMEDOUT && interrupted(r))
			break;
	}
	now = pw_mono_ns();
	for (i = 0; i < r->n; i++) {
		struct worker *w = &r->w[i];
		const struct collector *c = w->c;
		char why[PW_ERROR_MAX];

		w->stats.late = false;
		if (!w->started) {
			null_sections(out, c->sections, w->init_err);
			snapshot_add_error(out, c->name, "%s", w->init_err);
		} else if (w->spawn_err && w->gen == r->gen) {
			snprintf(why, sizeof(why), "cannot start its thread: %s", strerror(-w->spawn_err));
			null_sections(out, c->sections, why);
			snapshot_add_error(out, c->name, "%s", why);
		} else if (w->state == W_DONE && w->done_gen == r->gen) {
			if (w->rc == 0) {
				move_sections(out, &w->snap, c->sections);
			} else {
				if (!w->err[0])
					snprintf(w->err, sizeof(w->err), "%s", strerror(-w->rc));
				null_sections(out, c->sections, w->err);
				snapshot_add_error(out, c->name, "%s", w->err);
			}
			w->state = W_IDLE;
		} else {
			snprintf(why, sizeof(why), "did not finish within its deadline (running for %llu ms)",
				 (unsigned long long)((now - w->started_ns) / 1000000));
			w->stats.late = true;
			null_sections(out, c->sections, why);
			snapshot_add_error(out, c->name, "%s", why);
			if (w->state == W_DONE)
				w->state = W_IDLE; /* a stale result from an earlier interval: dropped */
		}
	}
	pthread_mutex_unlock(&r->lock);
}

size_t runner_count(const struct runner *r) { return r->n; }
const char *runner_name(const struct runner *r, size_t i) { return r->w[i].c->name; }

struct runner_stats runner_stats(const struct runner *r, size_t i)
{
	struct runner_stats st;

	pthread_mutex_lock((pthread_mutex_t *)&r->lock);
	st = r->w[i].stats;
	pthread_mutex_unlock((pthread_mutex_t *)&r->lock);
	return st;
}

void runner_destroy(struct runner *r)
{
	struct timespec dl;
	bool leaked = false;
	size_t i;

	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->quit = true;
	for (i = 0; i < r->n; i++)
		pthread_cond_signal(&r->w[i].go);
	pthread_mutex_unlock(&r->lock);
	for (i = 0; i < r->n; i++) {
		struct worker *w = &r->w[i];

		if (w->has_thread) {
			dl = pw_ns_to_ts(pw_clock_ns(CLOCK_REALTIME) + 200000000ull);
			if (pthread_timedjoin_np(w->thread, NULL, &dl) != 0) {
				/* stuck in the kernel: leave it and its memory to process exit */
				pthread_detach(w->thread);
				leaked = true;
				continue;
			}
		}
		if (w->c->destroy && w->state_mem)
			w->c->destroy(w->state_mem);
		free(w->state_mem);
		snapshot_free(&w->snap);
		pthread_cond_destroy(&w->go);
	}
	if (leaked)
		return; /* the stuck thread still uses the runner's lock */
	free(r->w);
	pthread_cond_destroy(&r->done);
	pthread_mutex_destroy(&r->lock);
	free(r);
}
