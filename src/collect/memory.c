/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>

#include "collect/collector.h"

/* Placeholder until the memory collector lands (issue #2). */
static int memory_collect(void *state, const struct pw_env *env, struct snapshot *out, char *err, size_t errlen)
{
	(void)state;
	(void)env;
	(void)out;
	snprintf(err, errlen, "not collected yet");
	return -ENOTSUP;
}

const struct collector pw_memory_collector = {
	.name = "memory",
	.sections = PW_SEC_MEMORY,
	.collect = memory_collect,
};
