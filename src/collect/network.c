/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>

#include "collect/collector.h"

/* Placeholder until the network collector lands (issue #2). */
static int network_collect(void *state, const struct pw_env *env, struct snapshot *out, char *err, size_t errlen)
{
	(void)state;
	(void)env;
	(void)out;
	snprintf(err, errlen, "not collected yet");
	return -ENOTSUP;
}

const struct collector pw_network_collector = {
	.name = "network",
	.sections = PW_SEC_NETWORK,
	.collect = network_collect,
};
