/* SPDX-License-Identifier: MIT */
#include "bpf/bpf_testhook.h"

#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>

void pw_bpf_test_break(struct bpf_program *prog)
{
	const char *victim = getenv(PW_TEST_BPF_REJECT_ENV);
	size_t n = bpf_program__insn_cnt(prog);
	struct bpf_insn *insns;

	if (!victim || strcmp(victim, bpf_program__name(prog)) || n == 0)
		return;
	insns = malloc(n * sizeof(*insns));
	if (!insns)
		return;
	memcpy(insns, bpf_program__insns(prog), n * sizeof(*insns));
	/*
	 * The program's final exit becomes "r0 = 0": it now runs off its end, which the
	 * verifier refuses. Only the last instruction changes, so every relocation (all on
	 * earlier instructions) still applies and the load reaches the verifier.
	 */
	insns[n - 1] = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 };
	bpf_program__set_insns(prog, insns, n);
	free(insns);
}
