#!/usr/bin/python3
"""What PerfWatch's eBPF collector costs the machine it watches (run as root).

    scripts/bench/bpf_bench.py [--bin build/perfwatch] [--repeat 9] [--groups 5] [--loops 500]

Two measurements, printed as one JSON object on stdout (progress on stderr):

1. "ns_per_event": per BPF program, the kernel's own run-time statistics
   (`perfwatch --bpf-stats`: BPF_ENABLE_STATS) over one PerfWatch interval while
   `perf bench sched messaging` keeps the scheduler busy: runs, run_time_ns, ns_per_run.
   "ns_per_event_block_load": the same while dd writes 4 KiB blocks with O_DIRECT
   (the block programs' figures; --io-dir must be on a disk).
   The statistics wrap every run in two sched_clock() reads, which costs something of its
   own on a VM; "stats_floor_ns" is the figure of pw_page_fault_user (one per-CPU counter
   increment, the least a program can do) and "ns_per_run_above_floor" subtracts it, an
   estimate of what the program body costs; "empty_sched_switch_ns_per_run" is the figure
   of a program that does nothing on sched_switch itself (build/bench/empty_switch_prog,
   attached meanwhile), the issue's "trivial program on the same hook". "bpf_cpu_percent" is the run time of all
   programs over all CPU time of the interval: what the kernel side took, under that load.

2. "messaging": the wall time of `perf bench sched messaging -g G -l L` with PerfWatch
   attached (`perfwatch --json` as users run it: default 5 s interval, BPF run-time stats
   off, its BPF programs loaded and its start-up over) and not, `repeat` pairs in ABBA order,
   each run after the same pause and a short warm-up run; medians, and the slowdown of the
   medians in percent ("slowdown_percent"; negative means noise larger than the cost), and
   the median of the pairs' own slowdowns ("paired_slowdown_percent").

3. "pipe_pinned": the worst case, `perf bench sched pipe` with both ends on one CPU
   (nothing but context switches): microseconds per round trip detached, attached, and
   attached with BPF run-time statistics on (--bpf-stats), and beside `perf stat -I 5000 -a`
   counting the main table's events instead (the peer), and with only the empty program on
   sched_switch (the kernel's cost of running any program there), in rotating order; and
   what each adds per context switch, in ns (two switches per round trip).

Other BPF programs attached to the same tracepoints (another PerfWatch, say) slow both
arms alike; "foreign_pw_programs" counts PerfWatch programs of other processes seen at
the start, so a noisy figure can be recognised as such.
"""
import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from contenders import PERF_EVENTS

REPO = Path(__file__).resolve().parents[2]
# Every arm's work starts this long after its monitor started (none: after this pause):
# past PerfWatch's start-up (~20 ms of CPU, programs attached within 0.5 s), and the same
# for all, because on this VM a vCPU that idled for seconds runs the next second's work
# up to 15 % slower, whichever arm it is. A short warm-up run follows the pause.
PAUSE_S = 1.0


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def messaging(groups, loops):
    p = subprocess.run(["perf", "bench", "sched", "messaging", "-g", str(groups), "-l", str(loops)],
                       capture_output=True, text=True, check=True, timeout=600)
    m = re.search(r"Total time:\s*([0-9.]+)", p.stdout + p.stderr)
    if not m:
        raise RuntimeError(f"no 'Total time' in perf bench output: {p.stdout}{p.stderr}")
    return float(m.group(1))


def prog_ids_held_by(pid):
    ids = set()
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            text = Path(f"/proc/{pid}/fdinfo/{fd}").read_text()
        except OSError:
            continue
        ids |= {int(l.split()[1]) for l in text.splitlines() if l.startswith("prog_id:")}
    return ids


def foreign_pw_programs():
    p = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True, timeout=30)
    if p.returncode:
        return None
    return sum(1 for prog in json.loads(p.stdout) if str(prog.get("name", "")).startswith("pw_"))


def stop(p, sig=signal.SIGTERM):
    """Stops a monitor the bench started: sig, then SIGKILL after 10 s."""
    p.send_signal(sig)
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


class Attached:
    """perfwatch --json running in the background with its programs attached, PAUSE_S
    past its start-up, so that what a workload run beside it pays is the steady state."""

    def __init__(self, binary, args=(), settle_s=PAUSE_S, min_progs=5):
        self.cmd = [binary, "--json", "--count", "1000000", *args]
        self.settle_s = settle_s
        self.min_progs = min_progs

    def _fail(self, what):
        self.p.kill()  # before reading stderr to its end
        raise RuntimeError(f"perfwatch {what}: {self.p.stderr.read().decode()}")

    def __enter__(self):
        self.p = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 30
        while len(prog_ids_held_by(self.p.pid)) < self.min_progs:
            if self.p.poll() is not None or time.time() > deadline:
                self._fail("did not attach")
            time.sleep(0.05)
        # its snapshots drained, so that a full pipe never stops it
        threading.Thread(target=self.p.stdout.read, daemon=True).start()
        time.sleep(self.settle_s)
        return self

    def __exit__(self, *exc):
        stop(self.p)


class Detached:
    """No monitor, but the same pause before the work as the other arms."""

    def __init__(self, seconds=PAUSE_S):
        self.seconds = seconds

    def __enter__(self):
        time.sleep(self.seconds)
        return self

    def __exit__(self, *exc):
        pass


class PerfStatAttached:
    """The peer: `perf stat -I 5000 -a` counting what the main table's perf stat counts
    (perf's own software events on the same context switches), output thrown away."""

    def __init__(self, settle_s=PAUSE_S):
        self.cmd = ["perf", "stat", "-I", "5000", "-a", "-x", ",", "-e", PERF_EVENTS, "-o", "/dev/null"]
        self.settle_s = settle_s

    def __enter__(self):
        self.p = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(self.settle_s)
        if self.p.poll() is not None:
            raise RuntimeError(f"perf stat exited: {self.p.stderr.read().decode()}")
        return self

    def __exit__(self, *exc):
        stop(self.p, signal.SIGINT)  # perf stat prints its last interval on SIGINT


class EmptyProgram:
    """build/bench/empty_switch_prog: a BPF program that does nothing, on sched_switch."""

    def __init__(self, binary, settle_s=PAUSE_S):
        self.cmd = [binary]
        self.settle_s = settle_s

    def __enter__(self):
        self.p = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if self.p.stdout.readline().strip() != "attached":
            self.p.kill()
            raise RuntimeError(f"empty_switch_prog did not attach: {self.p.stderr.read()}")
        time.sleep(self.settle_s)
        return self

    def prog_stats(self):
        """(run_cnt, run_time_ns) of its program, counted while BPF stats are on."""
        (prog_id,) = prog_ids_held_by(self.p.pid)
        p = subprocess.run(["bpftool", "-j", "prog", "show", "id", str(prog_id)], capture_output=True, text=True,
                           check=True, timeout=30)
        info = json.loads(p.stdout)
        return info.get("run_cnt", 0), info.get("run_time_ns", 0)

    def __exit__(self, *exc):
        stop(self.p)


def pipe_pinned(cpu, loops):
    """Microseconds per round trip of `perf bench sched pipe` with both ends on one CPU:
    nothing but context switches (two per round trip), the worst case for a program on
    sched_switch."""
    p = subprocess.run(["taskset", "-c", str(cpu), "perf", "bench", "sched", "pipe", "-l", str(loops)],
                       capture_output=True, text=True, check=True, timeout=600)
    m = re.search(r"([0-9.]+)\s+usecs/op", p.stdout + p.stderr)
    if not m:
        raise RuntimeError(f"no 'usecs/op' in perf bench output: {p.stdout}{p.stderr}")
    return float(m.group(1))


def interleaved(arms, work, repeat, unit):
    """work() `repeat` times in each arm, the arms' order rotating each round (ABBA for
    two), so that a drift of the machine favours none. arms: name -> what makes the arm's
    monitor (a context manager: Detached, Attached, PerfStatAttached); each arm's work
    starts after the same pause."""
    names = list(arms)
    got = {k: [] for k in names}
    for i in range(repeat):
        for k in names[i % len(names):] + names[:i % len(names)]:
            with arms[k]():
                got[k].append(work())
        log(f"  round {i + 1}: " + ", ".join(f"{k} {v[-1]:.3f} {unit}" for k, v in got.items()))
    return got


def pipe_arms(binary, empty_prog, repeat, loops):
    """pipe_pinned() detached; attached; attached with BPF run-time stats on (they wrap
    every run of every BPF program on the machine in two clock reads); beside the peer
    that counts the same switches its own way, perf stat; and with an empty program on
    sched_switch (when empty_prog is built): the kernel's cost of any program there."""
    cpu = sorted(os.sched_getaffinity(0))[0]

    def work():
        pipe_pinned(cpu, max(1, loops // 6))  # warm-up, after the pause
        return pipe_pinned(cpu, loops)
    arms = {"detached": Detached, "attached": lambda: Attached(binary),
            "attached_bpf_stats": lambda: Attached(binary, args=("--bpf-stats",)),
            "perf_stat": PerfStatAttached}
    if empty_prog:
        arms["empty_program"] = lambda: EmptyProgram(empty_prog)
    got = interleaved(arms, work, repeat, "us")
    med = {k: statistics.median(v) for k, v in got.items()}
    out = {"cpu": cpu, "loops": loops, "repeat": repeat, "us_per_round_trip": got, "median_us": med,
           "switches_per_s_detached": 2e6 / med["detached"]}
    for arm, suffix in (("attached", ""), ("attached_bpf_stats", "_bpf_stats"), ("perf_stat", "_perf_stat"),
                        ("empty_program", "_empty_program")):
        if arm in med:
            out[f"slowdown{suffix}_percent"] = (med[arm] - med["detached"]) / med["detached"] * 100.0
            out[f"ns_per_switch{suffix}"] = (med[arm] - med["detached"]) * 1000.0 / 2  # two per round trip
    return out


def direct_io(seconds, where):
    """4 KiB O_DIRECT writes for about `seconds` (dd), to load the block programs."""
    import tempfile
    with tempfile.NamedTemporaryFile(dir=where, prefix="pwbench-", suffix=".bin") as f:
        subprocess.run(["timeout", str(seconds), "dd", "if=/dev/zero", f"of={f.name}", "bs=4k", "count=1000000",
                        "oflag=direct"], capture_output=True, timeout=seconds + 30)


def ns_per_event(binary, interval, load, empty=None):
    """One interval of perfwatch with load() running through most of it; and, with empty
    (an EmptyProgram attached meanwhile), the empty program's ns per run over the load."""
    p = subprocess.Popen([binary, "--json", "--bpf-stats", "--interval", str(interval), "--count", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while len(prog_ids_held_by(p.pid)) < 5 and p.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    t0 = time.time()
    empty_before = empty.prog_stats() if empty else None
    while time.time() - t0 < interval * 0.8:
        load(interval * 0.8 - (time.time() - t0))
    empty_after = empty.prog_stats() if empty else None
    out, err = p.communicate(timeout=interval + 30)
    if p.returncode:
        raise RuntimeError(f"perfwatch failed: {err}")
    snap = json.loads(out)
    b = snap["bpf"]
    progs = {name: {k: v[k] for k in ("runs", "run_time_ns", "ns_per_run")} for name, v in b["programs"].items()}
    floor = progs.get("pw_page_fault_user", {}).get("ns_per_run")
    for v in progs.values():
        v["ns_per_run_above_floor"] = (v["ns_per_run"] - floor) if v["ns_per_run"] is not None and floor else None
    total_ns = sum(v["run_time_ns"] for v in progs.values())
    return {
        # every program's run time over all CPU time in the interval: an upper bound of
        # the share of the machine PerfWatch's programs took (stats overhead included)
        "bpf_cpu_percent": total_ns / (b["interval_s"] * len(b["cpus"]) * 1e9) * 100.0,
        "stats_enabled": b["stats"]["enabled"],
        "stats_error": b["stats"]["error"],
        "interval_s": b["interval_s"],
        "context_switches_per_s": snap["perf"]["events"]["context-switches"]["value"] / b["interval_s"],
        "stats_floor_ns": floor,
        # the same hook, a program that does nothing (BPF stats: their own two clock reads included)
        "empty_sched_switch_ns_per_run": ((empty_after[1] - empty_before[1]) / (empty_after[0] - empty_before[0])
                                          if empty and empty_after[0] > empty_before[0] else None),
        "programs": progs,
        "map_memory_bytes": b["maps"]["memory_bytes"],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=str(REPO / "build" / "perfwatch"))
    ap.add_argument("--repeat", type=int, default=9, help="messaging runs per arm")
    ap.add_argument("--groups", type=int, default=5, help="perf bench sched messaging -g")
    ap.add_argument("--loops", type=int, default=500, help="perf bench sched messaging -l")
    ap.add_argument("--pipe-loops", type=int, default=300000, help="perf bench sched pipe -l (one CPU)")
    ap.add_argument("--interval", type=float, default=5.0, help="interval of the ns-per-event measurement")
    ap.add_argument("--io-dir", default=str(REPO / "build"), help="where the O_DIRECT load writes (a disk)")
    ap.add_argument("--empty-prog", default=str(REPO / "build" / "bench" / "empty_switch_prog"),
                    help="the empty sched_switch program (make build/bench/empty_switch_prog); skipped if missing")
    a = ap.parse_args()
    empty_prog = a.empty_prog if os.access(a.empty_prog, os.X_OK) else None
    if not empty_prog:
        log(f"bpf_bench: no {a.empty_prog}: no empty-program floor (make {a.empty_prog})")
    if os.geteuid() != 0:
        sys.exit("bpf_bench: run as root (BPF programs, perf events, BPF stats)")

    result = {"machine": {"cpus": os.cpu_count(), "kernel": os.uname().release,
                          "loadavg_at_start": os.getloadavg()[0]},
              "foreign_pw_programs": foreign_pw_programs()}
    log("bpf_bench: ns per event (BPF stats) under perf bench sched messaging")
    if empty_prog:
        with EmptyProgram(empty_prog, settle_s=0) as empty:
            result["ns_per_event"] = ns_per_event(a.bin, a.interval, lambda left: messaging(a.groups, a.loops), empty)
    else:
        result["ns_per_event"] = ns_per_event(a.bin, a.interval, lambda left: messaging(a.groups, a.loops))
    log("bpf_bench: ns per event (BPF stats) under 4 KiB O_DIRECT writes")
    result["ns_per_event_block_load"] = ns_per_event(a.bin, a.interval,
                                                     lambda left: direct_io(max(1, int(left)), a.io_dir))

    log(f"bpf_bench: messaging -g {a.groups} -l {a.loops}, {a.repeat} runs detached and attached, alternating")
    messaging(a.groups, a.loops)  # warm-up: page cache, allocator

    def work():
        messaging(a.groups, max(1, a.loops // 10))  # warm-up, after the pause
        return messaging(a.groups, a.loops)
    got = interleaved({"detached": Detached, "attached": lambda: Attached(a.bin)}, work, a.repeat, "s")
    detached, attached = got["detached"], got["attached"]
    md, ma = statistics.median(detached), statistics.median(attached)
    paired = statistics.median((x - d) / d * 100.0 for d, x in zip(detached, attached))
    result["messaging"] = {
        "groups": a.groups, "loops": a.loops, "repeat": a.repeat,
        "detached_s": detached, "attached_s": attached,
        "median_detached_s": md, "median_attached_s": ma,
        "slowdown_percent": (ma - md) / md * 100.0,
        "paired_slowdown_percent": paired,
        "spread_detached_percent": (max(detached) - min(detached)) / md * 100.0,
    }
    log(f"bpf_bench: pipe ping-pong on one CPU, -l {a.pipe_loops}, {a.repeat} rounds of {5 if empty_prog else 4} arms")
    result["pipe_pinned"] = pipe_arms(a.bin, empty_prog, a.repeat, a.pipe_loops)
    result["machine"]["loadavg_at_end"] = os.getloadavg()[0]
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
