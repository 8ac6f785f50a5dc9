/* SPDX-License-Identifier: MIT */
/*
 * Fault injection for the operations tests (tests/integration/test_ops_faults.py): with
 * PW_TEST_BPF_REJECT=<program name> that program is made one the kernel's verifier
 * refuses, so the real "one program rejected, the others load and attach" path runs.
 * With PW_TEST_BTF_FINGERPRINT_MISMATCH=1 the running kernel is taken for another one
 * than PerfWatch was built on (bpf/btf_min.c): the loaders fall back to the kernel's BTF.
 * With PW_TEST_NO_LIGHT_SKELETON=1 the perf source's object is loaded by libbpf, as when
 * its light skeleton fails (bpf_load.c). With PW_TEST_BPF_NO_BATCH=1 the per-CPU hash maps
 * are read key by key, as on a kernel without batch lookups (bpf_read.c). With
 * PW_TEST_BPF_NO_SWITCH_READS=1 every CPU's perf events are read by running the reader on
 * it, none at a context switch (bpf_read.c). With PW_TEST_BPF_NO_PMU_TIMERS=1 no per-CPU
 * perf timer is armed, as on a kernel before 6.7: the wake-up threads make every CPU switch
 * (pmu_timer.c, cpu_poke.c).
 */
#ifndef PW_BPF_TESTHOOK_H
#define PW_BPF_TESTHOOK_H

#include <bpf/libbpf.h>

#define PW_TEST_BPF_REJECT_ENV "PW_TEST_BPF_REJECT"
#define PW_TEST_BTF_MISMATCH_ENV "PW_TEST_BTF_FINGERPRINT_MISMATCH"
#define PW_TEST_NO_LIGHT_SKELETON_ENV "PW_TEST_NO_LIGHT_SKELETON"
#define PW_TEST_BPF_NO_BATCH_ENV "PW_TEST_BPF_NO_BATCH"
#define PW_TEST_BPF_NO_SWITCH_READS_ENV "PW_TEST_BPF_NO_SWITCH_READS"
#define PW_TEST_BPF_NO_PMU_TIMERS_ENV "PW_TEST_BPF_NO_PMU_TIMERS"

/* Call after opening the object and before loading it; a no-op unless the variable names prog. */
void pw_bpf_test_break(struct bpf_program *prog);

#endif
