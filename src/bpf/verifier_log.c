/* SPDX-License-Identifier: MIT */
#include "bpf/verifier_log.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static const char *find(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (!memcmp(hay + i, needle, n))
			return hay + i;
	return NULL;
}

/* A verifier line worth showing: not libbpf's framing, not the closing statistics. */
static bool says_something(const char *l, size_t n)
{
	static const char *const skip[] = { "libbpf:", "-- ", "processed ", "verification time", "stack depth" };

	if (n < 2)
		return false;
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (n >= strlen(skip[i]) && !memcmp(l, skip[i], strlen(skip[i])))
			return false;
	return true;
}

int pw_verifier_verdict(const char *log, size_t len, char *name, size_t name_len, char *why, size_t why_len)
{
	static const char fail[] = "': failed to load", prog[] = "prog '";
	const char *end = find(log, len, fail), *start = NULL, *p, *log_end;
	const char *best = NULL;
	size_t best_len = 0;

	if (!end)
		return -ENOENT;
	/* the name starts after the last "prog '" before the failure */
	for (p = log; (p = find(p, (size_t)(end - p), prog)); p++)
		start = p + strlen(prog);
	if (!start || start > end)
		return -ENOENT;
	if (memchr(start, '\'', (size_t)(end - start)))
		return -EINVAL; /* not a C identifier: not libbpf's message */
	if ((size_t)(end - start) >= name_len)
		return -E2BIG;
	memcpy(name, start, (size_t)(end - start));
	name[end - start] = '\0';

	/* the verifier log printed before the failure, if any */
	log_end = find(log, (size_t)(end - log), "-- END PROG LOAD LOG --");
	if (!log_end)
		log_end = end;
	for (const char *l = log; l < log_end;) {
		const char *nl = memchr(l, '\n', (size_t)(log_end - l));
		size_t n = nl ? (size_t)(nl - l) : (size_t)(log_end - l);

		if (says_something(l, n)) {
			best = l;
			best_len = n;
		}
		l = nl ? nl + 1 : log_end;
	}
	if (why_len) {
		if (best_len >= why_len)
			best_len = why_len - 1;
		if (best)
			memcpy(why, best, best_len);
		why[best ? best_len : 0] = '\0';
	}
	return 0;
}
