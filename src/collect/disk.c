/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>

#include "collect/collector.h"

/* Placeholder until the disk collector lands (issue #2). */
static int disk_collect(void *state, const struct pw_env *env, struct snapshot *out, char *err, size_t errlen)
{
	(void)state;
	(void)env;
	(void)out;
	snprintf(err, errlen, "not collected yet");
	return -ENOTSUP;
}

const struct collector pw_disk_collector = {
	.name = "disk",
	.sections = PW_SEC_DISK,
	.collect = disk_collect,
};
