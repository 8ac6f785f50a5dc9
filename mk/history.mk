# History (issue #6): the synthetic-history generator and benchmark for `make bench`.
#   make $(BUILD)/bench/history_gen      the generator (scripts/bench/history_gen.c)
#   make bench-history                   scripts/bench/history_bench.sh (bytes/sample, insert CPU, query times)

HISTORY_GEN := $(BUILD)/bench/history_gen

$(HISTORY_GEN): scripts/bench/history_gen.c scripts/bench/history_synth.h $(BUILD)/libperfwatch.a
	@mkdir -p $(dir $@)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CPPFLAGS) -Iscripts/bench $(CFLAGS) $< $(BUILD)/libperfwatch.a $(LDLIBS) -o $@

.PHONY: bench-history
bench-history: $(HISTORY_GEN)
	$(Q)scripts/bench/history_bench.sh $(HISTORY_GEN)
