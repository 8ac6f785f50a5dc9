/* SPDX-License-Identifier: MIT */
/*
 * The "bpf" section of a snapshot: what the eBPF collector measured beyond the 17 perf
 * events (per-CPU counters, histograms, per-device and per-interface counts, the
 * capability report and PerfWatch's own BPF cost). Owned by the snapshot.
 */
#ifndef PW_BPF_SECTION_H
#define PW_BPF_SECTION_H

#include "output/jsonw.h"
#include "snapshot.h"

struct pw_bpf;

void pw_bpf_section_free(struct pw_bpf *b); /* accepts NULL */
void pw_bpf_section_json(const struct pw_bpf *b, struct jw *w); /* writes one JSON value */

#endif
