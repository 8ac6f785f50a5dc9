/* SPDX-License-Identifier: MIT */
/* A stop signal pending while the runner waits for a late collector cuts the wait short. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "collect/runner.h"
#include "util/timeutil.h"

static int quick_collect(void *state, const struct pw_env *env, struct snapshot *out, char *err, size_t errlen)
{
	(void)state;
	(void)env;
	(void)err;
	(void)errlen;
	out->memory.valid = true;
	return 0;
}

static const struct collector quick = { .name = "memory", .sections = PW_SEC_MEMORY, .collect = quick_collect };

static struct runner *hung_runner(struct pw_options *o, struct pw_env *env, const sigset_t *stop)
{
	static const struct collector *list[] = { &quick };
	struct runner *r;

	o->test_hang_collector = "memory";
	env->proc_fd = env->sys_fd = -1;
	env->opts = o;
	cr_assert_eq(runner_create(&r, list, 1, env), 0);
	if (stop)
		runner_set_interrupt(r, stop);
	return r;
}

static sigset_t usr1_blocked(void)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	return s;
}

static void drain_usr1(const sigset_t *s)
{
	struct timespec zero = { 0, 0 };

	while (sigtimedwait(s, NULL, &zero) > 0)
		;
}

Test(runner_interrupt, pending_stop_signal_ends_the_wait)
{
	sigset_t stop = usr1_blocked();
	struct pw_options o = { 0 };
	struct pw_env env;
	struct runner *r = hung_runner(&o, &env, &stop);
	struct snapshot s;
	uint64_t t0, took;

	snapshot_init(&s);
	raise(SIGUSR1); /* blocked: stays pending, as SIGTERM does in the daemon */
	t0 = pw_mono_ns();
	runner_collect(r, &s, NULL, t0 + 2000 * 1000000ull);
	took = pw_mono_ns() - t0;
	cr_expect_lt(took, 500 * 1000000ull, "waited %llu ms despite a pending stop signal",
		     (unsigned long long)(took / 1000000));
	cr_expect_not(s.memory.valid, "the hung collector's section is null");
	drain_usr1(&stop);
	runner_destroy(r);
	snapshot_free(&s);
}

Test(runner_interrupt, other_signals_do_not_end_the_wait)
{
	sigset_t stop = usr1_blocked(), other;
	struct pw_options o = { 0 };
	struct pw_env env;
	struct runner *r;
	struct snapshot s;
	uint64_t t0, took;

	sigemptyset(&other);
	sigaddset(&other, SIGUSR2);
	r = hung_runner(&o, &env, &other);
	snapshot_init(&s);
	raise(SIGUSR1); /* pending, but not one the runner was told about */
	t0 = pw_mono_ns();
	runner_collect(r, &s, NULL, t0 + 300 * 1000000ull);
	took = pw_mono_ns() - t0;
	cr_expect_geq(took, 290 * 1000000ull, "gave up after %llu ms", (unsigned long long)(took / 1000000));
	drain_usr1(&stop);
	runner_destroy(r);
	snapshot_free(&s);
}
