# Operations (issue #8): privileges, lifecycle, fault and soak tests.

# Capabilities and no_new_privs are per thread; PerfWatch drops them (--user) when its
# collector and server threads already run. libpsx makes libcap change every thread at
# once (see cap_get_proc(3), "POSIX semantics"); it needs pthread_create wrapped, and
# libpsx ahead of libcap, whose weak stand-in for psx_load_syscalls would win otherwise.
LDLIBS := -lpsx -Wl,-wrap,pthread_create $(LDLIBS)

SOAK_SECONDS ?= 600

.PHONY: soak
# The long soak: interval 0.1 s, 20 WebSocket clients coming and going, RSS and fd count
# sampled every few seconds, without and with history (the curves are printed and written
# to $(BUILD)/soak-no-db.csv and $(BUILD)/soak-history.csv).
soak: $(BUILD)/perfwatch
	$(Q)PW_BIN=$(abspath $(BUILD)/perfwatch) PW_SAN_BIN=$(abspath $(BUILD)/perfwatch-san) \
		PW_BUILD=$(abspath $(BUILD)) PW_SOAK_SECONDS=$(SOAK_SECONDS) \
		PW_SOAK_CSV=$(abspath $(BUILD)/soak.csv) \
		$(PYTHON) -m pytest -q -s -p no:cacheprovider tests/integration/test_soak.py
