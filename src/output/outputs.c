/* SPDX-License-Identifier: MIT */
#include "output/outputs.h"

const struct output *const pw_daemon_outputs[] = {
	NULL,
};
const size_t pw_n_daemon_outputs = 0;
