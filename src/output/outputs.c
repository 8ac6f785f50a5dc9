/* SPDX-License-Identifier: MIT */
#include "output/outputs.h"

const struct output *const pw_daemon_outputs[] = {
	&pw_history_output,
	NULL,
};
const size_t pw_n_daemon_outputs = sizeof(pw_daemon_outputs) / sizeof(pw_daemon_outputs[0]) - 1;
