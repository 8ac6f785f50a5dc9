# PerfWatch — top-level build.
#
#   make              build ./build/perfwatch (gcc by default; CC=clang works too)
#   sudo make run     install missing packages, build, start the daemon (dashboard + history)
#   sudo make test    install missing packages, build, run the whole suite
#   make fuzz         run every libFuzzer target for a bounded time
#   make bench        the side-by-side benchmark (see README)
#   V=1               show full commands
#
# Sources are picked up by wildcard: src/**/*.c, bpf/*.bpf.c, tests/unit/test_*.c,
# tests/fuzz/fuzz_*.c. Parts of the build that belong to one area live in mk/*.mk.

.DELETE_ON_ERROR:
.SECONDARY:
.DEFAULT_GOAL := all
SHELL := /bin/bash

BUILD ?= build
CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
PYTHON ?= /usr/bin/python3
PREFIX ?= /usr/local
DESTDIR ?=

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0)

PKGS := libbpf libwebsockets sqlite3
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -Wundef
CPPFLAGS += -D_GNU_SOURCE -Isrc -I$(BUILD)/gen $(PKG_CFLAGS)
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 $(WARN) -fno-strict-aliasing -MMD -MP
LDLIBS += $(PKG_LIBS) -lelf -lz -lcap -lpthread -lm

SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer

LIB_SRCS := $(filter-out src/main.c,$(shell find src -name '*.c' | LC_ALL=C sort))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
SAN_OBJS := $(LIB_SRCS:%.c=$(BUILD)/san/%.o)
FUZZ_OBJS := $(LIB_SRCS:%.c=$(BUILD)/fuzzobj/%.o)

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/gen/%.bpf.o)
BPF_SKELS := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/gen/%.skel.h)
# the perf source's object is also loaded as a light skeleton (src/bpf/bpf_lskel.c says why)
BPF_SKELS += $(BUILD)/gen/perfwatch.lskel.h
VMLINUX_H := $(BUILD)/gen/vmlinux.h
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SECONDS ?= 10

.PHONY: all deps run test unit integration fuzz bench clean install check-clang help

all: $(BUILD)/perfwatch

help:
	@sed -n '2,12p' Makefile | sed 's/^# \{0,1\}//'

deps:
	$(Q)scripts/install-deps.sh

# ---------------------------------------------------------------- BPF
$(VMLINUX_H):
	@mkdir -p $(dir $@)
	$(call msg,GEN,$@)
	$(Q)vmlinux/gen-vmlinux.sh $(BPFTOOL) $@

$(BUILD)/gen/%.bpf.o: bpf/%.bpf.c $(VMLINUX_H) $(wildcard bpf/*.h)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(BUILD)/gen -Ibpf \
		-Wall -Werror -c $< -o $@.tmp && $(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(BUILD)/gen/%.skel.h: $(BUILD)/gen/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

$(BUILD)/gen/%.lskel.h: $(BUILD)/gen/%.bpf.o
	$(call msg,LSKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton -L $< name $(subst -,_,$*)_lskel > $@.tmp && mv $@.tmp $@

# ---------------------------------------------------------------- C
$(BUILD)/obj/%.o: %.c | $(BPF_SKELS)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/san/%.o: %.c | $(BPF_SKELS)
	@mkdir -p $(dir $@)
	$(call msg,CC-SAN,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(BUILD)/fuzzobj/%.o: %.c | $(BPF_SKELS)
	@mkdir -p $(dir $@)
	$(call msg,CC-FUZZ,$@)
	$(Q)$(CLANG) $(CPPFLAGS) $(CFLAGS) -Wno-unused-command-line-argument -DPW_FUZZING \
		-fsanitize=fuzzer-no-link,address,undefined -c $< -o $@

$(BUILD)/libperfwatch.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/libperfwatch-san.a: $(SAN_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/libperfwatch-fuzz.a: $(FUZZ_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/perfwatch: $(BUILD)/obj/src/main.o $(BUILD)/libperfwatch.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

# The same program built with the sanitizers: the integration tests run it.
$(BUILD)/perfwatch-san: $(BUILD)/san/src/main.o $(BUILD)/libperfwatch-san.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/san/tests/unit/%.o $(BUILD)/libperfwatch-san.a
	@mkdir -p $(dir $@)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $(LDFLAGS) $^ $(LDLIBS) -lcriterion -o $@

$(BUILD)/fuzz/%: $(BUILD)/fuzzobj/tests/fuzz/%.o $(BUILD)/libperfwatch-fuzz.a
	@mkdir -p $(dir $@)
	$(call msg,LD,$@)
	$(Q)$(CLANG) $(CFLAGS) -fsanitize=fuzzer,address,undefined $^ $(LDLIBS) -o $@

# ---------------------------------------------------------------- run, test, fuzz
run: deps all
	$(Q)scripts/run.sh $(BUILD)/perfwatch

# The whole suite: gcc build, clang build, unit tests under ASan+UBSan, the integration
# tests against the real kernel and the real binary, the extra suites that mk/*.mk add
# to TEST_EXTRA (the browser test), then bounded fuzzing.
test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory check-clang
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory integration
	$(Q)$(if $(TEST_EXTRA),$(MAKE) --no-print-directory $(TEST_EXTRA))
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SECONDS)

check-clang:
	$(call msg,CLANG,build/clang)
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/clang CC=$(CLANG) $(BUILD)/clang/perfwatch

unit: $(UNIT_BINS)
	$(Q)scripts/run-unit-tests.sh $(UNIT_BINS)

integration: $(BUILD)/perfwatch $(BUILD)/perfwatch-san
	$(Q)PW_BIN=$(abspath $(BUILD)/perfwatch) PW_SAN_BIN=$(abspath $(BUILD)/perfwatch-san) \
		PW_BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest -q -p no:cacheprovider tests/integration

fuzz: $(FUZZ_BINS)
	$(Q)scripts/run-fuzzers.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

bench: deps all
	$(Q)scripts/bench.sh $(BUILD)

install: all
	$(Q)scripts/install.sh "$(DESTDIR)" "$(PREFIX)" $(BUILD)/perfwatch

clean:
	rm -rf $(BUILD)

-include $(wildcard mk/*.mk)
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
