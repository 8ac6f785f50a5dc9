/* SPDX-License-Identifier: MIT */
#include "bpf/cpu_poke.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define POKE_STACK (64u << 10) /* the thread only ever sits in futex() */

struct pw_cpu_poke {
	_Atomic uint32_t word; /* the futex: bumped by every poke and every new schedule */
	atomic_bool quit;
	_Atomic uint64_t tick, interval; /* the schedule; interval 0: none, wait for pokes */
	volatile __u64 *request;         /* where a tick is stored (the BPF object's .bss) */
	int n;
	pthread_t *threads;
};

/* Sleeps while *w == seen, until a wake-up or, with deadline_ns, until then (CLOCK_MONOTONIC). */
static int futex_wait(_Atomic uint32_t *w, uint32_t seen, uint64_t deadline_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(deadline_ns / 1000000000u), .tv_nsec = (long)(deadline_ns % 1000000000u) };

	/* FUTEX_WAIT_BITSET: the timeout is absolute, on CLOCK_MONOTONIC */
	if (syscall(SYS_futex, w, FUTEX_WAIT_BITSET_PRIVATE, seen, deadline_ns ? &ts : NULL, NULL,
		    FUTEX_BITSET_MATCH_ANY) < 0)
		return errno;
	return 0;
}

static void futex_wake_all(_Atomic uint32_t *w)
{
	syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

__u64 pw_cpu_poke_request_at_least(volatile __u64 *request, __u64 tick)
{
	__u64 cur = __atomic_load_n(request, __ATOMIC_RELAXED);

	while (cur < tick && !__atomic_compare_exchange_n(request, &cur, tick, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
	return cur < tick ? tick : cur;
}

/* The first tick after now of the schedule through tick every interval. */
static uint64_t next_tick(uint64_t tick, uint64_t interval, uint64_t now)
{
	return now < tick ? tick : tick + ((now - tick) / interval + 1) * interval;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *poked(void *arg)
{
	struct pw_cpu_poke *p = arg;
	uint32_t seen = atomic_load(&p->word);

	/*
	 * Being woken is the whole job: on a schedule, the switch away from this thread after
	 * it stored the tick reads this CPU's events; after a poke, the caller stored it.
	 */
	while (!atomic_load(&p->quit)) {
		uint64_t interval = atomic_load(&p->interval), tick = atomic_load(&p->tick), at;

		if (!interval) {
			futex_wait(&p->word, seen, 0);
		} else {
			at = next_tick(tick, interval, mono_ns());
			if (futex_wait(&p->word, seen, at) == ETIMEDOUT)
				pw_cpu_poke_request_at_least(p->request, at);
		}
		seen = atomic_load(&p->word);
	}
	return NULL;
}

int pw_cpu_poke_start(struct pw_cpu_poke **ret, const bool *online, int ncpus, volatile __u64 *request)
{
	struct pw_cpu_poke *p;
	pthread_attr_t attr;
	int err = 0;

	*ret = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->request = request;
	p->threads = calloc((size_t)(ncpus > 0 ? ncpus : 1), sizeof(*p->threads));
	if (!p->threads) {
		free(p);
		return -ENOMEM;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, POKE_STACK);
	for (int c = 0; c < ncpus && !err; c++) {
		cpu_set_t set;
		char name[32]; /* the kernel keeps 15 bytes */

		if (!online[c])
			continue;
		CPU_ZERO(&set);
		CPU_SET(c, &set);
		/* born on its CPU: it never runs anywhere else (unless the CPU goes offline) */
		err = -pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		if (!err)
			err = -pthread_create(&p->threads[p->n], &attr, poked, p);
		if (err)
			break;
		snprintf(name, sizeof(name), "pw-cpu%d", c);
		name[15] = '\0';
		pthread_setname_np(p->threads[p->n], name);
		p->n++;
	}
	pthread_attr_destroy(&attr);
	if (err) {
		pw_cpu_poke_stop(p);
		return err;
	}
	*ret = p;
	return 0;
}

void pw_cpu_poke_all(struct pw_cpu_poke *p)
{
	if (!p)
		return;
	atomic_fetch_add(&p->word, 1);
	futex_wake_all(&p->word);
}

void pw_cpu_poke_schedule(struct pw_cpu_poke *p, uint64_t tick_ns, uint64_t interval_ns)
{
	if (!p)
		return;
	atomic_store(&p->tick, tick_ns);
	if (interval_ns && interval_ns == atomic_load(&p->interval))
		return; /* they wake by themselves */
	atomic_store(&p->interval, interval_ns);
	pw_cpu_poke_all(p); /* this tick's switches, and the new schedule taken up */
}

int pw_cpu_poke_threads(const struct pw_cpu_poke *p)
{
	return p ? p->n : 0;
}

void pw_cpu_poke_stop(struct pw_cpu_poke *p)
{
	if (!p)
		return;
	atomic_store(&p->quit, true);
	pw_cpu_poke_all(p);
	for (int i = 0; i < p->n; i++)
		pthread_join(p->threads[i], NULL);
	free(p->threads);
	free(p);
}
