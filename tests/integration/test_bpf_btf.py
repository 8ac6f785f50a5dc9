"""The minimized kernel BTF embedded at build time (issue #9, src/bpf/btf_min.c).

On the kernel PerfWatch was built on, both BPF objects (the perf source's and the socket
counts') relocate against the embedded BTF and libbpf never parses /sys/kernel/btf/vmlinux:
start-up then needs no more memory than the daemon keeps afterwards. With
PW_TEST_BTF_FINGERPRINT_MISMATCH=1 the kernel is taken for another one, and the kernel's
BTF is used as on any kernel the binary was not built on: collection works all the same,
and the memory its parsing took shows in VmHWM. The memory checks are what tells the two
paths apart, not a benchmark: the whole kernel BTF cannot be parsed in less memory than
its size.
"""
import json
import os
import subprocess
import time

import pytest

from conftest import PW_BIN

KERNEL_BTF = "/sys/kernel/btf/vmlinux"
MISMATCH_ENV = "PW_TEST_BTF_FINGERPRINT_MISMATCH"


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


def check_collects(snaps, perf_source):
    """Both BPF objects loaded and count: the socket counts, and for the bpf source the
    scheduler programs (context switches, run-queue latency) and every program attached."""
    for s in snaps:
        assert s["network"]["connections_source"] == "bpf", s["errors"]
    if perf_source != "bpf":
        return
    rest = snaps[1:]
    for s in rest:
        assert s["perf"]["source"] == "bpf", s["perf"]["error"]
        assert all(p["attached"] for p in s["bpf"]["programs"].values()), s["bpf"]["programs"]
    assert sum(s["perf"]["events"]["context-switches"]["value"] for s in rest) > 0
    assert sum(s["bpf"]["runq_latency"]["count"] for s in rest) > 0, rest[-1]["bpf"]["runq_latency_error"]


def embedded_or_skip(snaps):
    why = snaps[0]["bpf"]["btf"]["why_kernel"]
    if why and why.startswith("built without"):
        pytest.skip(f"this build embeds no minimized BTF: {why}")


@pytest.mark.parametrize("perf_source", ["bpf", "none"])
def test_embedded_btf_loads_counts_and_start_up_stays_small(perf_source):
    if perf_source == "none":  # no bpf section to ask: the bpf source's run says whether a blob is embedded
        embedded_or_skip(run_watched("bpf")[0])
    snaps, hwm, rss = run_watched(perf_source)
    check_collects(snaps, perf_source)
    if perf_source == "bpf":
        embedded_or_skip(snaps)
        for s in snaps:
            assert s["bpf"]["btf"] == {"source": "embedded", "why_kernel": None}, s["bpf"]["btf"]
    excess = start_up_excess_bytes(hwm, rss)
    # parsing the kernel's BTF once takes more than its size (file buffer, copy, indexes)
    assert excess < os.path.getsize(KERNEL_BTF), (
        f"VmHWM {hwm} KiB, VmRSS {rss} KiB: start-up took {excess >> 10} KiB more than the daemon keeps, "
        f"as much as parsing {KERNEL_BTF} would")
    assert hwm < 16 * 1024, f"VmHWM {hwm} KiB"


@pytest.mark.parametrize("perf_source", ["bpf", "none"])
def test_another_kernel_falls_back_to_the_kernels_btf(perf_source):
    snaps, hwm, rss = run_watched(perf_source, env={MISMATCH_ENV: "1"})
    check_collects(snaps, perf_source)
    if perf_source == "bpf":
        btf = snaps[-1]["bpf"]["btf"]
        assert btf["source"] == "kernel", btf
        assert "differs from the one PerfWatch was built on" in btf["why_kernel"], btf
    # the kernel's BTF really was parsed: what tells the two paths apart above
    assert start_up_excess_bytes(hwm, rss) > os.path.getsize(KERNEL_BTF), f"VmHWM {hwm} KiB, VmRSS {rss} KiB"
