# The network and disk collectors' benchmark (scripts/bench/): `make bench-netdisk`.
# Needs root: it makes its own network namespace and fills it with sockets.

$(BUILD)/bench/bench_netdisk: scripts/bench/bench_netdisk.c $(BUILD)/libperfwatch.a
	@mkdir -p $(dir $@)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(filter-out %.h,$^) $(LDLIBS) -o $@

.PHONY: bench-netdisk
bench-netdisk: $(BUILD)/bench/bench_netdisk
	$(Q)$(PYTHON) scripts/bench/sockstate_bench.py $(abspath $(BUILD)/bench/bench_netdisk) $(BENCH_SOCKETS)
