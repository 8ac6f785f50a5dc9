/* SPDX-License-Identifier: MIT */
/*
 * The memory collector: /proc/meminfo (psutil's virtual_memory/swap_memory figures and
 * hugepages) and /proc/vmstat (paging rates from the previous sample it keeps).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "collect/collector.h"
#include "collect/meminfo.h"
#include "collect/vmstat.h"
#include "util/rate.h"
#include "util/readfile.h"
#include "util/timeutil.h"

struct memory_state {
	struct pw_vmstat prev;
	bool have_prev;
	uint64_t prev_ns;
	uint64_t page_size;
	struct pw_buf text; /* file contents, reused */
	struct pw_file meminfo, vmstat; /* kept open (util/readfile.h) */
};

static int memory_init(void *state, const struct pw_env *env, char *err, size_t errlen)
{
	struct memory_state *st = state;
	long ps = sysconf(_SC_PAGESIZE);

	(void)env;
	(void)err;
	(void)errlen;
	st->page_size = ps > 0 ? (uint64_t)ps : 4096;
	/* "name value\n": names are under 48 bytes, values 20 digits at most */
	st->vmstat.record_max = 128;
	return 0;
}

static void memory_destroy(void *state)
{
	struct memory_state *st = state;

	if (!st)
		return;
	pw_buf_free(&st->text);
	pw_file_close(&st->meminfo);
	pw_file_close(&st->vmstat);
}

/* Reads and parses one file; on failure err says which and why. */
static int read_file(struct memory_state *st, struct pw_file *f, const struct pw_env *env, const char *name,
		     char *err, size_t errlen)
{
	long n = pw_file_read(f, env->proc_fd, name, &st->text, 0);

	if (n < 0)
		snprintf(err, errlen, "cannot read proc/%s: %s", name, strerror((int)-n));
	return n < 0 ? (int)n : 0;
}

static int memory_collect(void *state, const struct pw_env *env, struct snapshot *out, char *err, size_t errlen)
{
	struct memory_state *st = state;
	uint64_t wmark_pages, wmark_bytes, now;
	const uint64_t *wmark = NULL;
	struct pw_meminfo mi;
	struct pw_vmstat vs;
	char why[160] = "";
	int r;

	r = read_file(st, &st->meminfo, env, "meminfo", err, errlen);
	if (r < 0)
		return r;
	r = meminfo_parse(st->text.data, st->text.len, &mi, why, sizeof(why));
	if (r < 0) {
		snprintf(err, errlen, "proc/meminfo: %s", why);
		return r;
	}
	if (!(mi.have & (1u << PW_MI_MEM_AVAILABLE)) &&
	    pw_read_file_at(env->proc_fd, "zoneinfo", &st->text, 0) >= 0 &&
	    zoneinfo_parse_low(st->text.data, st->text.len, &wmark_pages) == 0 &&
	    wmark_pages <= UINT64_MAX / st->page_size) {
		/* a kernel before 3.14: psutil estimates MemAvailable from the watermarks */
		wmark_bytes = wmark_pages * st->page_size;
		wmark = &wmark_bytes;
	}

	r = read_file(st, &st->vmstat, env, "vmstat", err, errlen);
	now = pw_mono_ns();
	if (r < 0)
		return r;
	r = vmstat_parse(st->text.data, st->text.len, &vs, why, sizeof(why));
	if (r < 0) {
		snprintf(err, errlen, "proc/vmstat: %s", why);
		return r;
	}

	meminfo_fill_memory(&mi, wmark, &out->memory);
	vmstat_fill_memory(st->have_prev ? &st->prev : NULL, &vs,
			   st->have_prev ? pw_dt_s(st->prev_ns, now) : NAN, st->page_size, &out->memory);
	out->memory.valid = true;
	st->prev = vs;
	st->prev_ns = now;
	st->have_prev = true;
	return 0;
}

const struct collector pw_memory_collector = {
	.name = "memory",
	.sections = PW_SEC_MEMORY,
	.state_size = sizeof(struct memory_state),
	.init = memory_init,
	.collect = memory_collect,
	.destroy = memory_destroy,
};
