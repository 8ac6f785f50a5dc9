"""The eBPF collector and `perf stat -a` agree on the software events (root).

Both count over (nearly) the same window while a steady load keeps context switches,
migrations and page faults going; rates must agree within 10 %. With
PW_TEST_SOFTWARE_EVENTS=1 the 13 hardware slots count software stand-ins through the very
same perf event -> BPF reader path, so that path is compared with perf stat too.
"""
import os
import time

import pytest

import pwbpf
from conftest import validate

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="loading BPF programs needs root")

TOLERANCE = 0.10
NCPUS = len(pwbpf.ONLINE_CPUS)
PERF_EVENTS = ["cpu-clock", "task-clock", "context-switches", "cpu-migrations", "page-faults",
               "minor-faults"]


def _side_by_side(env=None, interval=2, args=()):
    """One perfwatch interval, and perf stat's counts over the same wall-clock window."""
    with pwbpf.SteadyLoad():
        perf = pwbpf.PerfStatIntervals(PERF_EVENTS, seconds=2 * interval + 5)
        time.sleep(0.3)
        first, (snap,), _ = pwbpf.measure_window(lambda: None, interval=interval, count=2, env=env, args=args)
        series = perf.finish()
    # the read that ends an interval happens just after the snapshot's timestamp
    counts = pwbpf.PerfStatIntervals.window(series, first["timestamp"], snap["timestamp"])
    assert counts.get("cpu-clock"), series
    return snap, counts


def _rate_pw(snap, value):
    return value / snap["bpf"]["interval_s"]


def _rate_perf(perf, value):
    return value / (perf["cpu-clock"] / 1000.0 / NCPUS)  # perf's window, from its own clock


def _close(a, b, what):
    assert b > 0, what
    assert abs(a - b) <= TOLERANCE * b, f"{what}: perfwatch {a:.1f}/s vs perf stat {b:.1f}/s"


def test_software_events_agree_with_perf_stat(schema):
    snap, perf = _side_by_side()
    validate(snap, schema)
    ev = snap["perf"]["events"]
    # cpu-clock: msec of CPU time per second of wall time, i.e. the number of CPUs
    _close(_rate_pw(snap, ev["cpu-clock"]["value"]) / 1000, _rate_perf(perf, perf["cpu-clock"]) / 1000, "cpu-clock")
    assert abs(_rate_pw(snap, ev["cpu-clock"]["value"]) / 1000 - NCPUS) < 0.02 * NCPUS
    for name in ("context-switches", "cpu-migrations", "page-faults"):
        _close(_rate_pw(snap, ev[name]["value"]), _rate_perf(perf, perf[name]), name)


# Where each CPU's perf events are read: by its BPF timer at the tick (kernel 6.7+); at the
# first context switch after the drain asks, with wake-up threads for idle CPUs (the reader
# then runs only on CPUs that did not switch); or by the reader on every CPU.
READ_PATHS = {
    "by_timers": {},
    "at_context_switches": {"PW_TEST_BPF_NO_PMU_TIMERS": "1"},
    "reader_on_every_cpu": {"PW_TEST_BPF_NO_SWITCH_READS": "1"},
}


@pytest.mark.parametrize("path", list(READ_PATHS))
def test_standins_run_the_perf_event_path_and_agree(schema, path):
    env = dict(os.environ, PW_TEST_SOFTWARE_EVENTS="1", **READ_PATHS[path])
    # the reader's run count tells where the readings came from: it needs run-time stats
    snap, perf = _side_by_side(env=env, args=("--bpf-stats",))
    validate(snap, schema)
    p, b = snap["perf"], snap["bpf"]
    assert b["stats"]["enabled"], b["stats"]["error"]
    runs = b["programs"]["pw_read_pmu"]["runs"]
    how = b["pmu_reading"]
    assert sum(how["cpus_read"].values()) == NCPUS, how
    assert how["cpus_read"]["by_reader"] == runs, (how, runs)
    if path == "reader_on_every_cpu":
        assert runs == NCPUS, runs
        assert how["timer_cpus"] == 0 and how["wakeup_threads"] == 0, how
    elif path == "at_context_switches":
        assert how["timer_cpus"] == 0 and "PW_TEST_BPF_NO_PMU_TIMERS" in how["timer_error"], how
        assert how["cpus_read"]["by_timer"] == 0, how
        if NCPUS > 1:
            assert how["wakeup_threads"] == NCPUS, how
            # under SteadyLoad CPUs switch often: some were read at a switch, not by the reader
            assert runs < NCPUS, f"the reader ran on all {runs} CPUs: no reading came from a context switch"
    else:
        assert how["timer_cpus"] == NCPUS and how["timer_error"] is None, how
        assert how["wakeup_threads"] == 0, "the wake-up threads are stopped once every CPU has its timer"
        # a timer fires at the tick, the drain comes later: only one held up (softirqs
        # pushed to ksoftirqd under load) leaves its CPU to a switch or the reader
        assert how["cpus_read"]["by_timer"] >= 1, how

    assert b["test_software_events"] is True
    assert p["available"] is True and "PW_TEST_SOFTWARE_EVENTS" in p["error"]
    assert len(p["events"]) == 17
    for name, e in b["events"].items():
        assert e["counted"], (name, e["error"])
        if e["source"] == "perf_event" and name != "cpu-clock":
            assert e["standin"] and e["cpus"] == NCPUS, (name, e)
            assert p["events"][name]["running_ratio"] == pytest.approx(1.0)
    ev = p["events"]
    # slot by slot, the stand-in against perf stat's count of the same software event
    pairs = {
        "cycles": "cpu-clock",            # ns, perf shows msec
        "instructions": "task-clock",     # ns, perf shows msec
        "LLC-loads": "cpu-clock",
        "L1-icache-loads": "task-clock",
        "branches": "context-switches",
        "iTLB-loads": "context-switches",
        "branch-misses": "cpu-migrations",
        "iTLB-load-misses": "cpu-migrations",
        "L1-dcache-loads": "page-faults",
        "dTLB-loads": "page-faults",
        "L1-dcache-load-misses": "minor-faults",
        "dTLB-load-misses": "minor-faults",
    }
    for slot, sw in pairs.items():
        assert b["events"][slot]["standin"] == sw
        scale = 1e6 if sw.endswith("clock") else 1
        _close(_rate_pw(snap, ev[slot]["value"]) / scale, _rate_perf(perf, perf[sw]), f"{slot} ({sw})")
    # and against the tracepoint counters of the same snapshot: two paths, one answer
    for slot, tp in (("branches", "context-switches"), ("L1-dcache-loads", "page-faults")):
        assert abs(ev[slot]["value"] - ev[tp]["value"]) <= 0.05 * ev[tp]["value"], (slot, tp)
    # ratios are computed from whatever the slots count (meaningless here, but not null)
    assert b["ratios"]["ipc"] == pytest.approx(ev["instructions"]["value"] / ev["cycles"]["value"])
