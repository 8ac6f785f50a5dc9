#!/bin/sh
# Generates vmlinux.h (all kernel types, for CO-RE BPF programs) from the running
# kernel's BTF. The result lives in the build folder and is never committed.
set -eu
bpftool=${1:-bpftool}
out=${2:?usage: gen-vmlinux.sh BPFTOOL OUT}
btf=${VMLINUX_BTF:-/sys/kernel/btf/vmlinux}
if [ ! -r "$btf" ]; then
	echo "gen-vmlinux: $btf is missing: this kernel has no BTF (CONFIG_DEBUG_INFO_BTF=y is needed for CO-RE)" >&2
	exit 1
fi
"$bpftool" btf dump file "$btf" format c > "$out.tmp"
mv "$out.tmp" "$out"
