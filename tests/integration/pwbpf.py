"""Helpers of the eBPF collector's integration tests: a measurement window around a known
workload, the workloads themselves, and sums over the snapshots' "bpf" sections.

A window: `perfwatch --json --interval I --count C` is started; the workload runs after
the first snapshot is printed (so after the read that ends the first interval) and must
end before the last snapshot's read. The snapshots after the first then cover it
completely, because each one counts from the previous read.
"""
import json
import mmap
import os
import subprocess
import time
from pathlib import Path

from conftest import PW_BIN

ONLINE_CPUS = sorted(os.sched_getaffinity(0))


def measure(work, interval=2.0, count=3, env=None, binary=None, args=()):
    """Returns (snapshots after the first, the workload's result)."""
    _, rest, result = measure_window(work, interval, count, env, binary, args)
    return rest, result


def measure_window(work, interval=2.0, count=3, env=None, binary=None, args=()):
    """Returns (the first snapshot, the ones after it, the workload's result)."""
    cmd = [binary or PW_BIN, "--json", "--interval", str(interval), "--count", str(count), *args]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = p.stdout.readline()
        assert line, f"{cmd} printed nothing: {p.stderr.read()}"
        first = json.loads(line)
        result = work()
        done = time.time()
        rest = [json.loads(l) for l in p.stdout if l.strip()]
        assert p.wait(timeout=interval * count + 30) == 0, p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert len(rest) == count - 1, rest
    assert done < rest[-1]["timestamp"], (
        f"the workload ended {done - rest[-1]['timestamp']:.2f} s after the last read: "
        "the machine is too loaded for this window")
    for s in rest:
        assert s["perf"]["source"] == "bpf", s["perf"]["error"]
        assert s.get("bpf"), "no bpf section"
    return first, rest, result


# ---------------------------------------------------------------- sums over snapshots
def cpu_sum(snaps, cpu, field):
    total = 0
    for s in snaps:
        (row,) = [c for c in s["bpf"]["cpus"] if c["cpu"] == cpu]
        total += row[field]
    return total


def event_sum(snaps, name):
    return sum(s["perf"]["events"][name]["value"] for s in snaps)


def keyed_sum(snaps, section, key, field):
    return sum(s["bpf"][section].get(key, {}).get(field, 0) for s in snaps)


def hist_count(snaps, getter):
    return sum(getter(s)["count"] for s in snaps)


# ---------------------------------------------------------------- workloads
def pinned(cpu):
    os.sched_setaffinity(0, {cpu})


def pingpong(round_trips, cpu=None):
    """Parent and child bounce one byte over two pipes; both on `cpu` when given."""
    p2c_r, p2c_w = os.pipe()
    c2p_r, c2p_w = os.pipe()
    saved = os.sched_getaffinity(0)
    if cpu is not None:
        pinned(cpu)
    pid = os.fork()
    if pid == 0:
        try:
            os.close(p2c_w)
            os.close(c2p_r)
            for _ in range(round_trips):
                if not os.read(p2c_r, 1):
                    break  # the parent is gone
                os.write(c2p_w, b"x")
        finally:
            os._exit(0)
    os.close(p2c_r)
    os.close(c2p_w)
    try:
        for _ in range(round_trips):
            os.write(p2c_w, b"x")
            os.read(c2p_r, 1)
    finally:
        os.close(p2c_w)
        os.close(c2p_r)
        os.waitpid(pid, 0)
        os.sched_setaffinity(0, saved)


def touch_fresh_pages(n, cpu=None):
    """Writes one byte into each of n never-touched anonymous pages (no huge pages)."""
    saved = os.sched_getaffinity(0)
    if cpu is not None:
        pinned(cpu)
    try:
        m = mmap.mmap(-1, n * mmap.PAGESIZE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        m.madvise(mmap.MADV_NOHUGEPAGE)
        for i in range(n):
            m[i * mmap.PAGESIZE] = 1
        m.close()
    finally:
        os.sched_setaffinity(0, saved)


def disks_under(path):
    """Names of the whole disks a file's filesystem sits on (through partitions and dm)."""
    st = os.stat(path)
    node = Path(f"/sys/dev/block/{os.major(st.st_dev)}:{os.minor(st.st_dev)}").resolve()
    todo, disks = [node], set()
    while todo:
        n = todo.pop()
        if (n / "partition").exists():
            n = n.parent
        slaves = list((n / "slaves").iterdir()) if (n / "slaves").is_dir() else []
        if slaves:
            todo += [s.resolve() for s in slaves]
        else:
            disks.add(n.name)
    return disks


def direct_writes(path, count, size):
    """count O_DIRECT writes of size bytes (page-aligned buffer), then fsync."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_DIRECT, 0o600)
    try:
        buf = mmap.mmap(-1, size)
        buf.write(b"\xa5" * size)
        for _ in range(count):
            assert os.write(fd, buf) == size
        os.fsync(fd)
        buf.close()
    finally:
        os.close(fd)


class SteadyLoad:
    """Background processes that keep context switches, migrations and page faults going
    at a steady rate, so two tools sampling slightly different windows see the same rates."""

    def __enter__(self):
        self.pids = []
        self.pids.append(self._spawn(self._pingpong_forever))
        self.pids.append(self._spawn(self._migrate_forever))
        self.pids.append(self._spawn(self._fault_forever))
        return self

    def __exit__(self, *exc):
        for pid in self.pids:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)

    @staticmethod
    def _spawn(fn):
        pid = os.fork()
        if pid == 0:
            try:
                fn()
            finally:
                os._exit(0)
        return pid

    @staticmethod
    def _pingpong_forever():
        while True:
            pingpong(100000)

    @staticmethod
    def _migrate_forever():
        cpus = ONLINE_CPUS
        while True:
            for c in cpus:
                os.sched_setaffinity(0, {c})
            time.sleep(0.0002)

    @staticmethod
    def _fault_forever():
        while True:
            touch_fresh_pages(256)
            time.sleep(0.001)


class PerfStatIntervals:
    """`perf stat -a -I MS` of software events, running in the background. Its interval
    lines are placed on the wall clock (from when it was started), so that the counts of
    any wall-clock window can be summed from them."""

    def __init__(self, events, seconds, interval_ms=50):
        import tempfile
        self.out = tempfile.NamedTemporaryFile("r", suffix=".csv")
        # perf starts its interval clock as it enables the counters and starts the
        # workload; the workload's first act is to tell the wall-clock time of that moment
        self.p = subprocess.Popen(["perf", "stat", "-a", "-I", str(interval_ms), "-x", ",", "-o", self.out.name,
                                   "-e", ",".join(events), "--",
                                   "/bin/sh", "-c", f"date +%s.%N; exec sleep {seconds}"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.t0 = float(self.p.stdout.readline())
        self.seconds = seconds

    def finish(self):
        """[(end of the interval in wall-clock seconds, {event: value})]"""
        assert self.p.wait(timeout=self.seconds + 30) == 0, self.p.stderr.read()
        rows = {}
        for line in self.out.read().splitlines():
            f = line.split(",")
            if line.startswith("#") or len(f) < 4:
                continue
            try:
                rows.setdefault(float(f[0]), {})[f[3]] = float(f[1])
            except ValueError:
                pass  # "<not counted>"
        self.out.close()
        return [(self.t0 + t, v) for t, v in sorted(rows.items())]

    @staticmethod
    def window(series, start, end):
        """Sums of the intervals that end inside (start, end]."""
        total = {}
        for t, values in series:
            if start < t <= end:
                for k, v in values.items():
                    total[k] = total.get(k, 0.0) + v
        return total
