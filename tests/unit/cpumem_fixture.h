/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the cpu/memory unit tests: fixture files read with the daemon's own reader,
 * and a scratch proc root whose files a test swaps between two collector cycles.
 * Tests run from the repository root (scripts/run-unit-tests.sh does cd there).
 */
#ifndef PW_TEST_CPUMEM_FIXTURE_H
#define PW_TEST_CPUMEM_FIXTURE_H

#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/collector.h"
#include "util/readfile.h"

#define FIXTURES "tests/fixtures"

/* Fills b with tests/fixtures/<rel>; fails the test when it cannot. */
static inline void fixture_read(const char *rel, struct pw_buf *b)
{
	char path[512];
	long n;

	snprintf(path, sizeof(path), FIXTURES "/%s", rel);
	n = pw_read_file_at(AT_FDCWD, path, b, 0);
	cr_assert(n >= 0, "cannot read %s: %s", path, strerror((int)-n));
}

/* |a - b| <= tol, with NAN equal to NAN (a null that was expected) */
static inline int near(double a, double b, double tol)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	return fabs(a - b) <= tol;
}

/* A scratch directory that plays a proc root. */
struct scratch_root {
	char path[64];
};

static inline void scratch_make(struct scratch_root *r)
{
	snprintf(r->path, sizeof(r->path), "/tmp/pw-cpumem-XXXXXX");
	cr_assert(mkdtemp(r->path), "mkdtemp: %s", strerror(errno));
}

/* Writes <root>/<name> with len bytes of text. */
static inline void scratch_write(struct scratch_root *r, const char *name, const char *text, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", r->path, name);
	f = fopen(path, "w");
	cr_assert(f, "cannot write %s", path);
	cr_assert_eq(fwrite(text, 1, len, f), len);
	fclose(f);
}

/* Copies tests/fixtures/<rel> to <root>/<name>. */
static inline void scratch_put(struct scratch_root *r, const char *rel, const char *name)
{
	struct pw_buf b = { 0 };

	fixture_read(rel, &b);
	scratch_write(r, name, b.data, b.len);
	pw_buf_free(&b);
}

static inline void scratch_remove(struct scratch_root *r)
{
	static const char *const names[] = { "stat", "meminfo", "vmstat", "cpuinfo", "zoneinfo" };
	char path[256];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", r->path, names[i]);
		unlink(path);
	}
	rmdir(r->path);
}

/* One collector with its state over the proc/sys roots given, as the runner drives it. */
struct collector_run {
	const struct collector *c;
	struct pw_options opts;
	struct pw_env env;
	void *state;
	struct snapshot snap;
	char err[PW_ERROR_MAX];
};

static inline void run_start(struct collector_run *run, const struct collector *c, const char *proc_root,
			     const char *sys_root)
{
	char err[256] = "";

	memset(run, 0, sizeof(*run));
	run->c = c;
	run->opts.proc_root = proc_root;
	run->opts.sys_root = sys_root;
	cr_assert_eq(pw_env_open(&run->env, &run->opts, err, sizeof(err)), 0, "%s", err);
	run->state = calloc(1, c->state_size);
	cr_assert(run->state);
	snapshot_init(&run->snap);
	if (c->init)
		cr_assert_eq(c->init(run->state, &run->env, err, sizeof(err)), 0, "%s", err);
}

static inline int run_collect(struct collector_run *run)
{
	run->err[0] = '\0';
	snapshot_reset(&run->snap);
	return run->c->collect(run->state, &run->env, &run->snap, run->err, sizeof(run->err));
}

static inline void run_stop(struct collector_run *run)
{
	if (run->c->destroy)
		run->c->destroy(run->state);
	free(run->state);
	snapshot_free(&run->snap);
	pw_env_close(&run->env);
}

#endif
