/* SPDX-License-Identifier: MIT */
/* The runner: parallel collectors, deadlines, sections moved only when finished in time. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "collect/runner.h"
#include "util/timeutil.h"

struct sleepy_state {
	int calls;
};

static int good_collect(void *state, const struct pw_env *env, struct snapshot *out, char *err, size_t errlen)
{
	struct sleepy_state *st = state;

	(void)env;
	(void)err;
	(void)errlen;
	st->calls++;
	out->memory.valid = true;
	out->memory.total_bytes = 1000u + (unsigned)st->calls;
	return 0;
}

static int failing_collect(void *state, const struct pw_env *env, struct snapshot *out, char *err, size_t errlen)
{
	(void)state;
	(void)env;
	out->cpu.valid = true; /* a failed collector's half-filled section must not show */
	snprintf(err, errlen, "cannot parse /proc/stat: garbage at line 1");
	return -EBADMSG;
}

static int slow_collect(void *state, const struct pw_env *env, struct snapshot *out, char *err, size_t errlen)
{
	struct sleepy_state *st = state;

	(void)env;
	(void)err;
	(void)errlen;
	if (st->calls++ == 0)
		usleep(400 * 1000); /* only the first run is slow */
	out->disk.valid = true;
	return 0;
}

static int init_fails(void *state, const struct pw_env *env, char *err, size_t errlen)
{
	(void)state;
	(void)env;
	snprintf(err, errlen, "no such thing here");
	return -ENOENT;
}

static const struct collector good = {
	.name = "memory", .sections = PW_SEC_MEMORY, .state_size = sizeof(struct sleepy_state), .collect = good_collect,
};
static const struct collector failing = { .name = "cpu", .sections = PW_SEC_CPU, .collect = failing_collect };
static const struct collector slow = {
	.name = "disk", .sections = PW_SEC_DISK, .state_size = sizeof(struct sleepy_state),
	.collect = slow_collect, .may_block = true,
};
/* the same, run in the caller's thread: it is waited for, the deadline cannot cut it short */
static const struct collector slow_inline = {
	.name = "disk", .sections = PW_SEC_DISK, .state_size = sizeof(struct sleepy_state), .collect = slow_collect,
};
/* may block, and says each time whether it does now; records the thread it ran on */
struct asks_state {
	bool blocks;
	int asked;
	pid_t ran_on;
};

static struct asks_state *asks_live; /* the runner's copy, found at init */

static int asks_init(void *state, const struct pw_env *env, char *err, size_t errlen)
{
	(void)env;
	(void)err;
	(void)errlen;
	asks_live = state;
	return 0;
}

static bool asks_blocks_now(void *state)
{
	struct asks_state *st = state;

	st->asked++;
	return st->blocks;
}

static int asks_collect(void *state, const struct pw_env *env, struct snapshot *out, char *err, size_t errlen)
{
	struct asks_state *st = state;

	(void)env;
	(void)err;
	(void)errlen;
	st->ran_on = gettid();
	out->disk.valid = true;
	return 0;
}

static const struct collector asks = {
	.name = "disk", .sections = PW_SEC_DISK, .state_size = sizeof(struct asks_state),
	.init = asks_init, .collect = asks_collect, .may_block = true, .blocks_now = asks_blocks_now,
};
static const struct collector broken = {
	.name = "perf", .sections = PW_SEC_PERF, .init = init_fails, .collect = good_collect,
};

static const char *error_of(const struct snapshot *s, const char *name)
{
	for (uint32_t i = 0; i < s->n_errors; i++)
		if (!strcmp(s->errors[i].collector, name))
			return s->errors[i].message;
	return NULL;
}

Test(runner, deadline_failure_and_success)
{
	const struct collector *list[] = { &good, &failing, &slow, &broken };
	struct pw_env env = { .proc_fd = -1, .sys_fd = -1 };
	struct runner *r;
	struct snapshot s;
	uint64_t t0, took;

	snapshot_init(&s);
	cr_assert_eq(runner_create(&r, list, 4, &env), 0);

	t0 = pw_mono_ns();
	runner_collect(r, &s, NULL, t0 + 100 * 1000000ull);
	took = pw_mono_ns() - t0;
	cr_expect_lt(took, 300 * 1000000ull, "the snapshot waited %llu ms for a late collector", (unsigned long long)(took / 1000000));
	cr_expect(s.memory.valid);
	cr_expect_eq(s.memory.total_bytes, 1001);
	cr_expect_not(s.cpu.valid);
	cr_expect_str_eq(error_of(&s, "cpu"), "cannot parse /proc/stat: garbage at line 1");
	cr_expect_not(s.disk.valid);
	cr_assert_not_null(error_of(&s, "disk"));
	cr_expect(strstr(error_of(&s, "disk"), "deadline") != NULL);
	cr_expect_not(s.perf.available);
	cr_expect_str_eq(s.perf.error, "no such thing here");
	cr_expect_str_eq(error_of(&s, "perf"), "no such thing here");

	/* next interval: the slow one is still busy with the first run, then catches up */
	snapshot_reset(&s);
	runner_collect(r, &s, NULL, pw_mono_ns() + 50 * 1000000ull);
	cr_expect_not(s.disk.valid);
	usleep(400 * 1000);
	snapshot_reset(&s);
	runner_collect(r, &s, NULL, pw_mono_ns() + 200 * 1000000ull);
	cr_expect(s.disk.valid, "the slow collector recovers once it is fast again");
	cr_expect_null(error_of(&s, "disk"));
	cr_expect_eq(s.memory.total_bytes, 1003);

	runner_destroy(r);
	snapshot_free(&s);
}

/* A hung collector misses the deadline; one that may block does, whatever blocks_now says. */
Test(runner, hang_hook_and_clean_destroy)
{
	static const struct {
		const struct collector *c;
		const char *name;
	} cases[] = { { &good, "memory" }, { &asks, "disk" } };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct collector *list[] = { cases[i].c };
		struct pw_options o = { .test_hang_collector = cases[i].name };
		struct pw_env env = { .proc_fd = -1, .sys_fd = -1, .opts = &o };
		struct runner *r;
		struct snapshot s;

		snapshot_init(&s);
		cr_assert_eq(runner_create(&r, list, 1, &env), 0);
		runner_collect(r, &s, NULL, pw_mono_ns() + 50 * 1000000ull);
		cr_expect_not(s.memory.valid || s.disk.valid, "%s", cases[i].name);
		cr_expect(error_of(&s, cases[i].name) && strstr(error_of(&s, cases[i].name), "deadline"), "%s",
			  cases[i].name);
		runner_destroy(r); /* the hung worker is woken and joined: no leak under ASan */
		snapshot_free(&s);
	}
}

Test(runner, inline_collectors_run_in_the_callers_thread)
{
	const struct collector *list[] = { &good, &slow_inline };
	struct pw_env env = { .proc_fd = -1, .sys_fd = -1 };
	struct runner *r;
	struct snapshot s;
	uint64_t t0, took;

	snapshot_init(&s);
	cr_assert_eq(runner_create(&r, list, 2, &env), 0);
	t0 = pw_mono_ns();
	runner_collect(r, &s, NULL, t0 + 50 * 1000000ull);
	took = pw_mono_ns() - t0;
	/* not a timing assertion: the 400 ms sleep either happened in this thread or not */
	cr_expect_geq(took, 400 * 1000000ull, "an inline collector was not waited for");
	cr_expect(s.disk.valid, "an inline collector that finished late still counts");
	cr_expect(s.memory.valid);
	cr_expect_null(error_of(&s, "disk"));
	cr_expect_gt(runner_stats(r, 1).wall_ns, 399 * 1000000ull);
	runner_destroy(r);
	snapshot_free(&s);
}

/* Threads of this process now. */
static int count_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

Test(runner, may_block_collector_runs_inline_when_it_cannot_block_now)
{
	const struct collector *list[] = { &good, &asks };
	struct pw_env env = { .proc_fd = -1, .sys_fd = -1 };
	struct asks_state *st;
	struct runner *r;
	struct snapshot s;

	int threads = count_threads();

	snapshot_init(&s);
	cr_assert_eq(runner_create(&r, list, 2, &env), 0);
	st = asks_live;
	cr_assert_not_null(st);
	/* its thread starts only when first needed: never on a machine where it cannot block */
	runner_collect(r, &s, NULL, pw_mono_ns() + 2000 * 1000000ull);
	cr_expect_eq(st->ran_on, gettid());
	cr_expect_eq(count_threads(), threads, "a thread started although no collection needed it");

	for (int round = 0; round < 4; round++) {
		st->blocks = round % 2 == 0;
		snapshot_reset(&s);
		runner_collect(r, &s, NULL, pw_mono_ns() + 2000 * 1000000ull);
		cr_expect(s.disk.valid, "round %d", round);
		cr_expect_null(error_of(&s, "disk"));
		cr_expect_eq(st->asked, round + 2, "asked once per collection");
		if (st->blocks)
			cr_expect_neq(st->ran_on, gettid(), "round %d: ran in the caller's thread although it may block", round);
		else
			cr_expect_eq(st->ran_on, gettid(), "round %d: woke its thread although it cannot block", round);
	}
	cr_expect_eq(count_threads(), threads + 1, "one thread, started once");
	runner_destroy(r);
	snapshot_free(&s);
}
