# The minimized kernel BTF embedded in the binary (issue #9): the types the socket counts'
# CO-RE relocations need, cut out of this machine's kernel BTF, so that loading that object
# does not parse all of /sys/kernel/btf/vmlinux (src/bpf/btf_min.c, vmlinux/gen-min-btf.sh).
# The perf source's object (perfwatch.bpf.o) attaches tp_btf programs, for which libbpf
# reads the kernel's BTF anyway (src/bpf/bpf_load.c says why they stay tp_btf).
# Made again when the BPF objects change or the kernel BTF does (a reboot into another
# kernel); without bpftool or kernel BTF the blob is empty and start-up falls back.

KERNEL_BTF ?= /sys/kernel/btf/vmlinux
BTF_MIN_H := $(BUILD)/gen/btf_min_blob.h

BTF_MIN_OBJS := $(filter %/sockstate.bpf.o,$(BPF_OBJS))

$(BTF_MIN_H): vmlinux/gen-min-btf.sh $(BTF_MIN_OBJS) $(wildcard $(KERNEL_BTF))
	@mkdir -p $(dir $@)
	$(call msg,BTF,$@)
	$(Q)VMLINUX_BTF=$(KERNEL_BTF) vmlinux/gen-min-btf.sh $(BPFTOOL) $@ $(BTF_MIN_OBJS)

# Every build of the library includes it: the binary, the sanitizer build, the fuzzers.
$(BUILD)/obj/src/bpf/btf_min.o $(BUILD)/san/src/bpf/btf_min.o $(BUILD)/fuzzobj/src/bpf/btf_min.o: $(BTF_MIN_H)
