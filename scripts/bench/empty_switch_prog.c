/* SPDX-License-Identifier: MIT */
/*
 * The floor of a BPF program on sched_switch: a program that does nothing ("r0 = 0;
 * exit"), attached to the sched_switch raw tracepoint the way PerfWatch's is (the kernel
 * runs both through bpf_trace_run4), for scripts/bench/bpf_bench.py. What a pinned pipe
 * ping-pong loses with it attached is the kernel's cost of running any program there;
 * PerfWatch's own program can only add to it.
 *
 *   empty_switch_prog       prints "attached" once attached, holds it until SIGTERM/SIGINT
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct sigaction sa = { .sa_handler = on_signal };
	int prog, link;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	prog = bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "pw_bench_empty", "GPL", insns, 2, NULL);
	if (prog < 0) {
		fprintf(stderr, "empty_switch_prog: loading the program: %s (run as root)\n", strerror(errno));
		return 1;
	}
	link = bpf_raw_tracepoint_open("sched_switch", prog);
	if (link < 0) {
		fprintf(stderr, "empty_switch_prog: attaching to sched_switch: %s\n", strerror(errno));
		return 1;
	}
	printf("attached\n");
	fflush(stdout);
	while (!stop)
		pause();
	close(link);
	close(prog);
	return 0;
}
