/* SPDX-License-Identifier: MIT */
#include "bpf/bpf_section.h"

#include <stdlib.h>

/* Filled in by the eBPF collector (issue #3). */
struct pw_bpf {
	int programs_attached;
};

void pw_bpf_section_free(struct pw_bpf *b)
{
	free(b);
}

void pw_bpf_section_json(const struct pw_bpf *b, struct jw *w)
{
	jw_obj_begin(w);
	jw_kv_u64(w, "programs_attached", (uint64_t)b->programs_attached);
	jw_obj_end(w);
}
