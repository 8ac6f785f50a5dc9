/* SPDX-License-Identifier: MIT */
/* The per-CPU wake-up threads: one on each online CPU, each switching in once per poke. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdint.h>
#include <unistd.h>

#include "bpf/cpu_poke.h"

#define MAXCPU 1024

struct poker {
	int cpu;
	char task[256];
};

/* The threads named pw-cpu<N> in this process. */
static int find_pokers(struct poker *out, int max)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)) && n < max) {
		char path[300], comm[32] = "";
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, "pw-cpu", 6)) {
			out[n].cpu = atoi(comm + 6);
			snprintf(out[n].task, sizeof(out[n].task), "%s", e->d_name);
			n++;
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

/* A line "key:\tvalue" of /proc/self/task/<task>/status, as text. */
static void status_field(const char *task, const char *key, char *val, size_t len)
{
	char path[300], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%s/status", task);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	val[0] = '\0';
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':') {
			snprintf(val, len, "%s", line + strlen(key) + 1 + strspn(line + strlen(key) + 1, " \t"));
			val[strcspn(val, "\n")] = '\0';
		}
	fclose(f);
}

static long switches(const char *task)
{
	char v[64];

	status_field(task, "voluntary_ctxt_switches", v, sizeof(v));
	return atol(v);
}

Test(cpu_poke, one_thread_per_online_cpu_each_switches_in_once_per_poke)
{
	static bool online[MAXCPU];
	static struct poker pk[MAXCPU];
	long before[MAXCPU];
	struct pw_cpu_poke *p = NULL;
	volatile __u64 request = 7;
	cpu_set_t set;
	int ncpus = 0, want = 0, n;

	cr_assert_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	for (int c = 0; c < MAXCPU && c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set)) {
			online[c] = true;
			ncpus = c + 1;
			want++;
		}
	cr_assert_eq(pw_cpu_poke_start(&p, online, ncpus, &request), 0);
	cr_assert_not_null(p);
	usleep(100 * 1000); /* each thread reaches its futex */
	n = find_pokers(pk, MAXCPU);
	cr_assert_eq(n, want, "%d threads for %d CPUs", n, want);
	for (int i = 0; i < n; i++) {
		char allowed[64], cpu[16];

		status_field(pk[i].task, "Cpus_allowed_list", allowed, sizeof(allowed));
		snprintf(cpu, sizeof(cpu), "%d", pk[i].cpu);
		cr_assert_str_eq(allowed, cpu, "pw-cpu%d may run on %s", pk[i].cpu, allowed);
		before[i] = switches(pk[i].task);
	}
	for (int round = 1; round <= 3; round++) {
		struct timespec t0, t;

		pw_cpu_poke_all(p);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int i = 0; i < n; i++) {
			while (switches(pk[i].task) < before[i] + round) {
				clock_gettime(CLOCK_MONOTONIC, &t);
				cr_assert_lt(t.tv_sec - t0.tv_sec, 5, "pw-cpu%d never woke", pk[i].cpu);
				usleep(1000);
			}
		}
	}
	usleep(50 * 1000);
	for (int i = 0; i < n; i++)
		cr_assert_eq(switches(pk[i].task), before[i] + 3, "pw-cpu%d woke more than it was poked", pk[i].cpu);
	cr_assert_eq(request, 7, "a poke leaves the request to the caller");
	pw_cpu_poke_stop(p);
	cr_assert_eq(find_pokers(pk, MAXCPU), 0, "the threads are gone");
}

Test(cpu_poke, offline_cpus_get_no_thread_and_null_is_fine)
{
	bool online[4] = { false, false, false, false };
	struct pw_cpu_poke *p = (struct pw_cpu_poke *)1;
	static struct poker pk[8];
	volatile __u64 request = 0;

	cr_assert_eq(pw_cpu_poke_start(&p, online, 4, &request), 0);
	cr_assert_eq(find_pokers(pk, 8), 0);
	pw_cpu_poke_all(p);
	pw_cpu_poke_stop(p);
	pw_cpu_poke_all(NULL);
	pw_cpu_poke_schedule(NULL, 1, 1);
	pw_cpu_poke_stop(NULL);
}

Test(cpu_poke, the_request_is_only_ever_raised)
{
	volatile __u64 r = 100;

	cr_assert_eq(pw_cpu_poke_request_at_least(&r, 50), 100);
	cr_assert_eq(r, 100);
	cr_assert_eq(pw_cpu_poke_request_at_least(&r, 150), 150);
	cr_assert_eq(r, 150);
}

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/*
 * On a schedule the threads wake by their own timers, one switch per tick, and store
 * each tick as the request; repeating the schedule (as every collection does) wakes
 * nobody.
 */
Test(cpu_poke, on_a_schedule_each_thread_wakes_once_per_tick_by_itself)
{
	static bool online[MAXCPU];
	static struct poker pk[MAXCPU];
	const uint64_t interval = 100 * 1000000ull;
	long before[MAXCPU], woke;
	struct pw_cpu_poke *p = NULL;
	volatile __u64 request = 0;
	uint64_t tick, now, ticks;
	cpu_set_t set;
	int ncpus = 0, n;

	cr_assert_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	for (int c = 0; c < MAXCPU && c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set)) {
			online[c] = true;
			ncpus = c + 1;
		}
	cr_assert_eq(pw_cpu_poke_start(&p, online, ncpus, &request), 0);
	usleep(100 * 1000);
	n = find_pokers(pk, MAXCPU);
	cr_assert_gt(n, 0);

	tick = mono_ns();
	cr_assert_eq(pw_cpu_poke_request_at_least(&request, tick), tick);
	pw_cpu_poke_schedule(p, tick, interval); /* the first one wakes them, to take it up */
	usleep(20 * 1000);
	for (int i = 0; i < n; i++)
		before[i] = switches(pk[i].task);
	/* ten ticks, each announced a thousand times: no wake-up comes from these calls */
	for (int k = 1; k <= 10; k++) {
		while (mono_ns() < tick + (uint64_t)k * interval + 5 * 1000000ull)
			for (int j = 0; j < 1000; j++)
				pw_cpu_poke_schedule(p, tick + (uint64_t)(k - 1) * interval, interval);
		cr_assert_eq(request, tick + (uint64_t)k * interval, "tick %d: the request is %llu ns past the schedule's start",
			     k, (unsigned long long)(request - tick));
	}
	now = mono_ns();
	ticks = (now - tick) / interval;
	for (int i = 0; i < n; i++) {
		woke = switches(pk[i].task) - before[i];
		/* one switch per tick passed since before[] was read (a timer may be a little late) */
		cr_assert(woke >= (long)ticks - 1 && woke <= (long)ticks, "pw-cpu%d switched %ld times in %llu ticks",
			  pk[i].cpu, woke, (unsigned long long)ticks);
	}
	/* back to pokes: the next tick wakes nobody by itself */
	pw_cpu_poke_schedule(p, tick + ticks * interval, 0);
	usleep(20 * 1000);
	request = 0;
	usleep(2 * interval / 1000);
	cr_assert_eq(request, 0, "a thread woke by itself without a schedule");
	pw_cpu_poke_stop(p);
}
