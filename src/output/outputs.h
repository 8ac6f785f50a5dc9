/* SPDX-License-Identifier: MIT */
#ifndef PW_OUTPUTS_H
#define PW_OUTPUTS_H

#include "output/output.h"

extern const struct output pw_stdout_output;  /* --json */
/* The daemon's outputs, in the order they see each snapshot (history before the server). */
extern const struct output *const pw_daemon_outputs[];
extern const size_t pw_n_daemon_outputs;

#endif
