"""`perfwatch --json` on this machine: schema-valid, complete, on time, and equal to psutil.

psutil 5.9 (Debian's python3-psutil) is the reference the metrics specification is
written against: the same sets of interfaces, devices and partitions, equal totals, and
percentages and rates within the tolerances stated below, sampled over the same window.
"""
import os
import subprocess
import threading
import time

import psutil
import pytest

from conftest import PW_BIN, run_json, validate

# Tolerances: both tools sample the same counters, but not at the same microsecond.
PCT_POINTS = 5.0        # CPU percentages over the same ~1 s window
MEM_PCT_POINTS = 1.0    # memory usage percent
RATE_REL = 0.10         # rates: 10 %, or the absolute slack below for near-idle counters
RATE_ABS = {"bytes": 4096.0, "packets": 8.0, "ops": 4.0}


def test_one_snapshot_is_schema_valid_and_complete(schema):
    (snap,) = run_json("--interval", "1")
    validate(snap, schema)
    assert snap["seq"] == 0 and snap["version"] == 1
    assert snap["errors"] == {}, f"collectors failed on this machine: {snap['errors']}"
    for section in ("cpu", "memory", "network", "disk"):
        assert snap[section] is not None, section
    # measured over one interval: the rates are real numbers, not null
    assert snap["cpu"]["usage_percent"] is not None
    assert all(v is not None for v in snap["cpu"]["per_core"])
    assert snap["memory"]["pgfault_per_sec"] is not None
    for name, dev in snap["disk"]["devices"].items():
        assert dev["read_bytes_per_sec"] is not None, name
    for name, nic in snap["network"]["interfaces"].items():
        assert nic["bytes_recv_per_sec"] is not None, name
    assert snap["perf"]["source"] in ("bpf", "perf-stat", "none")


def test_count_prints_consecutive_snapshots_on_schedule(schema):
    t0 = time.monotonic()
    snaps = run_json("--interval", "0.5", "--count", "4")
    took = time.monotonic() - t0
    assert [s["seq"] for s in snaps] == [0, 1, 2, 3]
    for s in snaps:
        validate(s, schema)
        assert s["interval_s"] == 0.5
    gaps = [b["timestamp"] - a["timestamp"] for a, b in zip(snaps, snaps[1:])]
    assert all(0.4 < g < 0.6 for g in gaps), gaps
    # baseline + 4 intervals, plus start-up (BPF load) and exit
    assert took < 0.5 * 5 + 5, took


def _psutil_window(start_evt, done_evt, out):
    start_evt.wait()
    out["cpu0"] = psutil.cpu_times()
    out["percpu0"] = psutil.cpu_times(percpu=True)
    out["net0"] = psutil.net_io_counters(pernic=True)
    out["disk0"] = psutil.disk_io_counters(perdisk=True)
    out["t0"] = time.monotonic()
    done_evt.wait()
    out["t1"] = time.monotonic()
    out["cpu_pct"] = psutil.cpu_times_percent(interval=None)  # unused: psutil keeps global state
    out["cpu1"] = psutil.cpu_times()
    out["percpu1"] = psutil.cpu_times(percpu=True)
    out["net1"] = psutil.net_io_counters(pernic=True)
    out["disk1"] = psutil.disk_io_counters(perdisk=True)
    out["mem"] = psutil.virtual_memory()
    out["swap"] = psutil.swap_memory()
    out["parts"] = [p for p in psutil.disk_partitions(all=False) if "loop" not in p.device]
    out["usage"] = {p.mountpoint: psutil.disk_usage(p.mountpoint) for p in out["parts"]}


def _busy_pct(a, b):
    """psutil.cpu_percent between two cpu_times samples (psutil's own formula)."""
    def tot(t):
        return sum(t) - t.guest - t.guest_nice
    dt = tot(b) - tot(a)
    busy = (tot(b) - b.idle - b.iowait) - (tot(a) - a.idle - a.iowait)
    return 100.0 * busy / dt if dt > 0 else 0.0


def _field_pct(a, b, field):
    def tot(t):
        return sum(t) - t.guest - t.guest_nice
    dt = tot(b) - tot(a)
    return 100.0 * (getattr(b, field) - getattr(a, field)) / dt if dt > 0 else 0.0


def _close_rate(ours, ref, kind):
    return abs(ours - ref) <= max(RATE_REL * abs(ref), RATE_ABS[kind])


def test_values_match_psutil_over_the_same_window():
    """Runs perfwatch and psutil over the same ~2 s window and compares everything."""
    interval = 2.0
    start_evt, done_evt, ref = threading.Event(), threading.Event(), {}
    th = threading.Thread(target=_psutil_window, args=(start_evt, done_evt, ref))
    th.start()
    p = subprocess.Popen([PW_BIN, "--json", "--interval", str(interval)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # perfwatch takes its baseline right after start-up; align psutil's with it
    time.sleep(0.05)
    start_evt.set()
    out, err = p.communicate(timeout=60)
    done_evt.set()
    th.join()
    assert p.returncode == 0, err
    import json
    snap = json.loads(out.splitlines()[0])

    # --- CPU
    cpu = snap["cpu"]
    assert len(cpu["per_core"]) == len(ref["percpu1"])
    assert abs(cpu["usage_percent"] - _busy_pct(ref["cpu0"], ref["cpu1"])) <= PCT_POINTS
    for field in ("user", "system", "idle", "iowait", "irq", "softirq"):
        assert abs(cpu[field] - _field_pct(ref["cpu0"], ref["cpu1"], field)) <= PCT_POINTS, field
    for i, (a, b) in enumerate(zip(ref["percpu0"], ref["percpu1"])):
        assert abs(cpu["per_core"][i] - _busy_pct(a, b)) <= 2 * PCT_POINTS, i
    freqs = psutil.cpu_freq(percpu=True)
    assert len(cpu["frequency_mhz"]) == len(freqs)
    for ours, theirs in zip(cpu["frequency_mhz"], freqs):
        assert abs(ours - theirs.current) <= max(0.05 * theirs.current, 50)
    assert cpu["interrupts"] > 0
    assert abs(cpu["interrupts"] - psutil.cpu_stats().interrupts) <= 0.05 * cpu["interrupts"] + 10000

    # --- memory: totals equal, the rest within what changed between the two reads
    mem, vm, sw = snap["memory"], ref["mem"], ref["swap"]
    assert mem["total_bytes"] == vm.total
    assert mem["swap_total_bytes"] == sw.total
    assert abs(mem["usage_percent"] - vm.percent) <= MEM_PCT_POINTS
    for ours, theirs in (("used_bytes", vm.used), ("available_bytes", vm.available), ("free_bytes", vm.free),
                         ("cached_bytes", vm.cached), ("buffers_bytes", vm.buffers),
                         ("swap_used_bytes", sw.used), ("swap_free_bytes", sw.free)):
        assert abs(mem[ours] - theirs) <= 0.02 * vm.total, ours

    # --- network: the same interfaces (loopback left out), counters and rates agree
    nics = snap["network"]["interfaces"]
    assert set(nics) == {n for n in ref["net1"] if n != "lo"}
    dt = ref["t1"] - ref["t0"]
    for name, nic in nics.items():
        a, b = ref["net0"][name], ref["net1"][name]
        assert a.bytes_recv <= nic["bytes_recv"] <= b.bytes_recv + 65536, name
        assert a.packets_sent <= nic["packets_sent"] <= b.packets_sent + 64, name
        assert _close_rate(nic["bytes_recv_per_sec"], (b.bytes_recv - a.bytes_recv) / dt, "bytes"), name
        assert _close_rate(nic["packets_sent_per_sec"], (b.packets_sent - a.packets_sent) / dt, "packets"), name
        for ours, theirs in (("errors_in", b.errin), ("errors_out", b.errout),
                             ("drops_in", b.dropin), ("drops_out", b.dropout)):
            assert nic[ours] <= theirs, (name, ours)
    conns = snap["network"]["connections"]
    assert conns is not None
    ref_conns = psutil.net_connections(kind="inet")
    listen = sum(1 for c in ref_conns if c.status == psutil.CONN_LISTEN)
    assert abs(conns["tcp_listen"] - listen) <= 3

    # --- disk: the same devices (loop left out) and partitions; totals equal
    devs = snap["disk"]["devices"]
    assert set(devs) == {d for d in ref["disk1"] if not d.startswith("loop")}
    for name, dev in devs.items():
        a, b = ref["disk0"][name], ref["disk1"][name]
        assert a.read_bytes <= dev["read_bytes"] <= b.read_bytes, name
        assert a.write_count <= dev["write_count"] <= b.write_count + 64, name
        assert _close_rate(dev["read_iops"], (b.read_count - a.read_count) / dt, "ops"), name
    parts = snap["disk"]["partitions"]
    assert set(parts) == {p.mountpoint for p in ref["parts"]}
    for p in ref["parts"]:
        ours, u = parts[p.mountpoint], ref["usage"][p.mountpoint]
        assert ours["device"] == p.device and ours["fstype"] == p.fstype
        assert ours["total_bytes"] == u.total
        assert abs(ours["used_bytes"] - u.used) <= max(0.01 * u.total, 64 << 20)
        assert abs(ours["usage_percent"] - u.percent) <= 1.0


def test_bad_flags_exit_2_with_a_clear_message():
    for args in (["--bogus"], ["--interval", "-1"], ["--json", "--count", "x"], ["--perf-source", "gpu"]):
        p = subprocess.run([PW_BIN, *args], capture_output=True, text=True, timeout=10)
        assert p.returncode == 2, args
        assert p.stdout == ""
        assert "perfwatch:" in p.stderr and "--help" in p.stderr, p.stderr


def test_help_and_version():
    p = subprocess.run([PW_BIN, "--help"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0 and "--json" in p.stdout and "--interval" in p.stdout
    p = subprocess.run([PW_BIN, "--version"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0 and p.stdout.startswith("perfwatch ")


def test_a_hanging_collector_does_not_delay_the_snapshot(schema):
    env = dict(os.environ, PW_TEST_HANG_COLLECTOR="disk")
    t0 = time.monotonic()
    snaps = run_json("--interval", "1", "--count", "2", env=env)
    took = time.monotonic() - t0
    assert len(snaps) == 2
    for s in snaps:
        validate(s, schema)
        assert s["disk"] is None
        assert "deadline" in s["errors"]["disk"]
        assert s["cpu"] is not None and s["memory"] is not None
    assert took < 3 * 1.0 + 4, took
