# /metrics with the bpf section: what one render costs, with and without it.
#   make bench-metrics            scripts/bench/metrics_bench.c (root: the eBPF collector)
#   BENCH_METRICS_ARGS="ROUNDS CPUS DISKS IFACES" to change the rounds and the grown host

BENCH_METRICS_ARGS ?= 2000 128 16 64

$(BUILD)/bench/metrics_bench: scripts/bench/metrics_bench.c $(BUILD)/libperfwatch.a
	@mkdir -p $(dir $@)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(filter-out %.h,$^) $(LDLIBS) -o $@

.PHONY: bench-metrics
bench-metrics: $(BUILD)/bench/metrics_bench
	$(Q)$< $(BENCH_METRICS_ARGS)
