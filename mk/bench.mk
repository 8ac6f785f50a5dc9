# `make bench` (scripts/bench.sh): the benchmark's own C program, the procfs floor
# (scripts/bench/procfs_floor.c). It links the library for pw_read_file_at(), so the floor
# reads files exactly the way PerfWatch's collectors do, minus the parsing.

BENCH_FLOOR := $(BUILD)/bench/procfs_floor

$(BENCH_FLOOR): $(BUILD)/obj/scripts/bench/procfs_floor.o $(BUILD)/libperfwatch.a
	@mkdir -p $(dir $@)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(filter-out %.h,$^) $(LDLIBS) -o $@

# bpf_bench.py's floor of a program on sched_switch (scripts/bench/empty_switch_prog.c)
BENCH_EMPTY_PROG := $(BUILD)/bench/empty_switch_prog

$(BENCH_EMPTY_PROG): scripts/bench/empty_switch_prog.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $< $(LDFLAGS) -lbpf -o $@

bench: $(BENCH_FLOOR) $(BENCH_EMPTY_PROG)

# tests/integration/test_bench_tools.py runs the floor program and the empty one for real
integration: $(BENCH_FLOOR) $(BENCH_EMPTY_PROG)
