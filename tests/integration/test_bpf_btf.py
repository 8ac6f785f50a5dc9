"""Start-up memory and the kernel's BTF (issue #9, src/bpf/btf_min.c, src/bpf/bpf_load.c,
src/bpf/bpf_lskel.c).

libbpf parses all of /sys/kernel/btf/vmlinux (5.5 MB here, and a transient copy of it)
for every object with CO-RE relocations it loads, unless given a BTF of its own.
- The socket counts' object (raw_tp, rare events) relocates against the minimized BTF
  embedded at build time: on the kernel PerfWatch was built on, `--perf-source none`
  starts without ever parsing the kernel's BTF, and needs no more memory than it keeps.
- The perf source's object keeps tp_btf programs (direct reads on the scheduler's hot
  path, ~70 ns per context switch less than raw_tp with probe reads). It loads as a light
  skeleton: a loader program in the kernel relocates it against the BTF the kernel holds,
  and the daemon never parses it. With PW_TEST_NO_LIGHT_SKELETON=1 (what happens when the
  light skeleton cannot load) libbpf loads it, parsing the kernel's BTF once, never twice
  at the same time.
- PW_TEST_BTF_FINGERPRINT_MISMATCH=1 takes the kernel for another one: the socket counts
  fall back to the kernel's BTF and still count.
The memory checks tell the paths apart: the whole kernel BTF cannot be parsed in less
memory than its size, and not twice at once in less than twice that.
"""
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import PW_BIN

KERNEL_BTF = "/sys/kernel/btf/vmlinux"
MISMATCH_ENV = "PW_TEST_BTF_FINGERPRINT_MISMATCH"
NO_LIGHT_ENV = "PW_TEST_NO_LIGHT_SKELETON"


def status_kib(pid):
    """VmHWM and VmRSS of a running process in KiB, or None once it has exited."""
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return int(fields["VmHWM"].split()[0]), int(fields["VmRSS"].split()[0])
    except (OSError, KeyError):
        return None


def run_watched(perf_source, env=None):
    """`perfwatch --json --count 3 --interval 0.5`: its snapshots, and its VmHWM and VmRSS
    as last seen while it ran (after the last snapshot: set-up long done)."""
    cmd = [PW_BIN, "--json", "--count", "3", "--interval", "0.5", "--perf-source", perf_source]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, **(env or {})})
    seen = None
    try:
        deadline = time.monotonic() + 60
        while p.poll() is None and time.monotonic() < deadline:
            seen = status_kib(p.pid) or seen
            time.sleep(0.02)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, f"{cmd} exited {p.returncode}: {err}"
    assert seen, "never saw the process's status"
    snaps = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert len(snaps) == 3, out
    return snaps, seen[0], seen[1]


def start_up_excess_bytes(hwm_kib, rss_kib):
    """What start-up needed beyond what the daemon keeps."""
    return (hwm_kib - rss_kib) * 1024


def embedded_blob_bytes():
    """The size of the minimized BTF the binary was built with (0: none), from the build's
    generated header next to the binary."""
    header = Path(PW_BIN).resolve().parent / "gen" / "btf_min_blob.h"
    m = re.search(r"#define PW_BTF_MIN_LEN (\d+)", header.read_text()) if header.exists() else None
    return int(m.group(1)) if m else 0


def check_collects(snaps, perf_source):
    """The socket counts come from BPF, and for the bpf source the scheduler programs count
    (context switches, run-queue latency) with every program attached."""
    for s in snaps:
        assert s["network"]["connections_source"] == "bpf", s["errors"]
    if perf_source != "bpf":
        return
    rest = snaps[1:]
    for s in rest:
        assert s["perf"]["source"] == "bpf", s["perf"]["error"]
        assert all(p["attached"] for p in s["bpf"]["programs"].values()), s["bpf"]["programs"]
        assert s["bpf"]["programs"]["pw_sched_switch"]["attach"] == "tp_btf/sched_switch"
    assert sum(s["perf"]["events"]["context-switches"]["value"] for s in rest) > 0
    assert sum(s["bpf"]["runq_latency"]["count"] for s in rest) > 0, rest[-1]["bpf"]["runq_latency_error"]


def check_no_parse(hwm, rss):
    """Start-up needed less beyond what the daemon keeps than parsing the kernel's BTF would."""
    excess = start_up_excess_bytes(hwm, rss)
    assert excess < os.path.getsize(KERNEL_BTF), (
        f"VmHWM {hwm} KiB, VmRSS {rss} KiB: start-up took {excess >> 10} KiB more than it keeps, "
        f"as much as parsing {KERNEL_BTF} would")
    assert hwm < 16 * 1024, f"VmHWM {hwm} KiB"


def test_socket_counts_start_without_parsing_the_kernels_btf():
    if not embedded_blob_bytes():
        pytest.skip("this build embeds no minimized BTF (no bpftool or kernel BTF at build time)")
    snaps, hwm, rss = run_watched("none")
    check_collects(snaps, "none")
    check_no_parse(hwm, rss)


def test_the_perf_source_loads_without_parsing_the_kernels_btf():
    snaps, hwm, rss = run_watched("bpf")
    check_collects(snaps, "bpf")
    loader = snaps[-1]["bpf"]["loader"]
    assert loader == {"kind": "light_skeleton", "btf": "kernel", "kernel_btf_parsed_in_userspace": False,
                      "why_libbpf": None}, loader
    check_no_parse(hwm, rss)


def test_without_the_light_skeleton_libbpf_parses_the_kernels_btf_once():
    snaps, hwm, rss = run_watched("bpf", env={NO_LIGHT_ENV: "1"})
    check_collects(snaps, "bpf")
    loader = snaps[-1]["bpf"]["loader"]
    assert loader["kind"] == "libbpf" and loader["kernel_btf_parsed_in_userspace"], loader
    assert NO_LIGHT_ENV in loader["why_libbpf"], loader
    size = os.path.getsize(KERNEL_BTF)
    excess = start_up_excess_bytes(hwm, rss)
    assert excess > size, f"VmHWM {hwm} KiB, VmRSS {rss} KiB: the kernel's BTF was not parsed?"
    # one parse: the file and libbpf's copy of it (2x); two at once, as before, took ~4x
    assert excess < 3 * size, f"VmHWM {hwm} KiB, VmRSS {rss} KiB: the kernel's BTF parsed twice at once?"


def test_another_kernel_falls_back_to_the_kernels_btf():
    snaps, hwm, rss = run_watched("none", env={MISMATCH_ENV: "1"})
    check_collects(snaps, "none")
    # the kernel's BTF really was parsed: what tells the two paths apart above
    assert start_up_excess_bytes(hwm, rss) > os.path.getsize(KERNEL_BTF), f"VmHWM {hwm} KiB, VmRSS {rss} KiB"
