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
#include <unistd.h>

#define POKE_STACK (64u << 10) /* the thread only ever sits in futex() */

struct pw_cpu_poke {
	_Atomic uint32_t word; /* the futex: bumped by every poke */
	atomic_bool quit;
	int n;
	pthread_t *threads;
};

static void futex_wait(_Atomic uint32_t *w, uint32_t seen)
{
	syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
}

static void futex_wake_all(_Atomic uint32_t *w)
{
	syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static void *poked(void *arg)
{
	struct pw_cpu_poke *p = arg;
	uint32_t seen = atomic_load(&p->word);

	/* being woken is the whole job: the switch to this thread is what the CPU was asked for */
	while (!atomic_load(&p->quit)) {
		futex_wait(&p->word, seen);
		seen = atomic_load(&p->word);
	}
	return NULL;
}

int pw_cpu_poke_start(struct pw_cpu_poke **ret, const bool *online, int ncpus)
{
	struct pw_cpu_poke *p;
	pthread_attr_t attr;
	int err = 0;

	*ret = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
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
