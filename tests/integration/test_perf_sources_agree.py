"""Both real sources of the perf section report the same numbers for the same load.

Two perfwatch processes run side by side, one with `--perf-source bpf`, one with
`--perf-source perf-stat`, while a steady workload makes page faults, context switches and
CPU migrations (it flips its own CPU affinity). Each source's mean per snapshot of the four
software events must be within 10 % of the other's: the same semantics as `perf stat -a`
(counts over the interval, system-wide).
"""
import json
import subprocess
import time


from conftest import PW_BIN, validate

SOFTWARE = ["cpu-clock", "context-switches", "cpu-migrations", "page-faults"]
INTERVAL = 1
COUNT = 6
TOLERANCE = 0.10


def workload(seconds):
    """Steady page faults, context switches and migrations, modest on the shared CPUs."""
    code = (
        "import mmap, os, time\n"
        "cpus = sorted(os.sched_getaffinity(0))\n"
        f"end = time.monotonic() + {seconds}\n"
        "i = 0\n"
        "while time.monotonic() < end:\n"
        "    i += 1\n"
        "    if len(cpus) > 1:\n"
        "        os.sched_setaffinity(0, {cpus[i % len(cpus)]})\n"
        "    m = mmap.mmap(-1, 16 * 4096)\n"
        "    for off in range(0, 16 * 4096, 4096):\n"
        "        m[off] = 1\n"
        "    m.close()\n"
        "    time.sleep(0.001)\n"
    )
    return subprocess.Popen(["/usr/bin/python3", "-c", code])


def test_bpf_and_perf_stat_agree_on_the_software_events(schema):
    wl = workload(INTERVAL * (COUNT + 6))
    try:
        time.sleep(0.5)  # steady before the first baseline
        cmd = ["--json", "--interval", str(INTERVAL), "--count", str(COUNT)]
        procs = {src: subprocess.Popen([PW_BIN, *cmd, "--perf-source", src], stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
                 for src in ("bpf", "perf-stat")}
        out = {}
        for src, p in procs.items():
            stdout, stderr = p.communicate(timeout=INTERVAL * COUNT + 30)
            assert p.returncode == 0, f"{src}: {stderr}"
            out[src] = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    finally:
        wl.kill()
        wl.wait()

    means = {}
    for src, snaps in out.items():
        assert len(snaps) == COUNT, src
        for s in snaps:
            validate(s, schema)
            assert s["perf"]["source"] == src, (src, s["perf"])
            for name in SOFTWARE:
                assert name in s["perf"]["events"], (src, name, s["perf"])
        later = snaps[1:]  # the first snapshot of each may straddle the workload's start
        means[src] = {n: sum(s["perf"]["events"][n]["value"] for s in later) / len(later) for n in SOFTWARE}
    print("mean per snapshot:", json.dumps(means, indent=1))
    assert means["perf-stat"]["cpu-migrations"] > 100 * INTERVAL, "the workload did not migrate"
    for name in SOFTWARE:
        a, b = means["bpf"][name], means["perf-stat"][name]
        assert abs(a - b) <= TOLERANCE * max(a, b), f"{name}: bpf {a:.1f} vs perf-stat {b:.1f}"
