/* SPDX-License-Identifier: MIT */
#include "output/outputs.h"

extern const struct output pw_history_output;
extern const struct output pw_server_output;

const struct output *const pw_daemon_outputs[] = {
	&pw_history_output,
	&pw_server_output,
};
const size_t pw_n_daemon_outputs = sizeof(pw_daemon_outputs) / sizeof(pw_daemon_outputs[0]);
