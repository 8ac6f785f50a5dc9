/* SPDX-License-Identifier: MIT */
/* The per-CPU wake-up threads: one on each online CPU, each switching in once per poke. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
	cpu_set_t set;
	int ncpus = 0, want = 0, n;

	cr_assert_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	for (int c = 0; c < MAXCPU && c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set)) {
			online[c] = true;
			ncpus = c + 1;
			want++;
		}
	cr_assert_eq(pw_cpu_poke_start(&p, online, ncpus), 0);
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
	pw_cpu_poke_stop(p);
	cr_assert_eq(find_pokers(pk, MAXCPU), 0, "the threads are gone");
}

Test(cpu_poke, offline_cpus_get_no_thread_and_null_is_fine)
{
	bool online[4] = { false, false, false, false };
	struct pw_cpu_poke *p = (struct pw_cpu_poke *)1;
	static struct poker pk[8];

	cr_assert_eq(pw_cpu_poke_start(&p, online, 4), 0);
	cr_assert_eq(find_pokers(pk, 8), 0);
	pw_cpu_poke_all(p);
	pw_cpu_poke_stop(p);
	pw_cpu_poke_all(NULL);
	pw_cpu_poke_stop(NULL);
}
