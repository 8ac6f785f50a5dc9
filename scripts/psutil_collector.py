#!/usr/bin/python3
"""The metrics specification's reference collector, in Python with psutil.

This is the collector that ../shared/seeds/000_a8271aa131ca1804.txt (the metrics
specification) describes: its "Collection Code" blocks as written, with the parts the
specification elides ("# ... more metrics", the helpers it calls but does not show, the
/proc/vmstat and /proc/interrupts rows of its tables) filled in from its metric tables.
PerfWatch replaces it; the benchmark (`make bench`) measures it side by side, and tests
may import its collect functions to compare values.

Run as a loop, one JSON snapshot per line:

    /usr/bin/python3 scripts/psutil_collector.py                 # every 5 s, forever
    /usr/bin/python3 scripts/psutil_collector.py -i 1 -n 3       # 3 snapshots, 1 s apart
    /usr/bin/python3 scripts/psutil_collector.py --perf          # also run `perf stat -I`

Uses Debian's python3-psutil (5.9), hence /usr/bin/python3.
"""
import argparse
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time

import psutil

# ---------------------------------------------------------------------------- helpers


def _rate(current, previous, time_delta):
    """Per-second rate; None (JSON null) on the first sample or when the counter went back."""
    if previous is None or not time_delta or time_delta <= 0 or current < previous:
        return None
    return (current - previous) / time_delta


def extract_core_temps(temps):
    """Per-core temperatures from psutil.sensors_temperatures(): coretemp/k10temp first."""
    for chip in ("coretemp", "k10temp", "zenpower", "cpu_thermal", "acpitz"):
        entries = temps.get(chip) if temps else None
        if not entries:
            continue
        cores = [t.current for t in entries if (t.label or "").lower().startswith("core")]
        return cores or [t.current for t in entries]
    return []


def read_hugepages_info(path="/proc/meminfo"):
    """HugePages_Total/Free/Rsvd from /proc/meminfo (the specification's Hugepages table)."""
    keys = {"HugePages_Total": "total", "HugePages_Free": "free", "HugePages_Rsvd": "reserved"}
    info = {}
    with open(path) as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name in keys:
                info[keys[name]] = int(rest.split()[0])
    return info


def read_interrupts_total(path="/proc/interrupts"):
    """Total interrupt count: the per-CPU columns of every row of /proc/interrupts, summed."""
    total = 0
    with open(path) as f:
        ncpu = len(f.readline().split())
        for line in f:
            fields = line.split()[1:ncpu + 1]
            for v in fields:
                if not v.isdigit():
                    break
                total += int(v)
    return total


# ---------------------------------------------------------------------------- cpu


def collect_cpu_metrics():
    cpu_percent = psutil.cpu_percent(interval=None)
    cpu_percent_per_core = psutil.cpu_percent(interval=None, percpu=True)
    cpu_times = psutil.cpu_times_percent(interval=None)
    cpu_freq = psutil.cpu_freq(percpu=True)

    # Temperature (may not be available on all systems)
    temps = {}
    try:
        temps = psutil.sensors_temperatures()
    except Exception:
        pass

    return {
        "usage_percent": cpu_percent,
        "per_core": cpu_percent_per_core,
        "user": cpu_times.user,
        "system": cpu_times.system,
        "idle": cpu_times.idle,
        "iowait": getattr(cpu_times, 'iowait', 0),
        "irq": getattr(cpu_times, 'irq', 0),
        "softirq": getattr(cpu_times, 'softirq', 0),
        "frequency_mhz": [f.current for f in cpu_freq] if cpu_freq else [],
        "temperature_celsius": extract_core_temps(temps),
        "interrupts": read_interrupts_total(),
    }


# ---------------------------------------------------------------------------- memory


def collect_memory_metrics():
    mem = psutil.virtual_memory()
    swap = psutil.swap_memory()
    hugepages = read_hugepages_info()

    return {
        "usage_percent": mem.percent,
        "total_bytes": mem.total,
        "used_bytes": mem.used,
        "available_bytes": mem.available,
        "free_bytes": mem.free,
        "cached_bytes": getattr(mem, 'cached', 0),
        "buffers_bytes": getattr(mem, 'buffers', 0),
        "swap_total_bytes": swap.total,
        "swap_used_bytes": swap.used,
        "swap_free_bytes": swap.free,
        "hugepages_total": hugepages.get('total', 0),
        "hugepages_free": hugepages.get('free', 0),
        "hugepages_reserved": hugepages.get('reserved', 0),
    }


class VmstatCollector:
    """The "Memory Bandwidth Metrics (/proc/vmstat)" table: rates over the interval."""

    FIELDS = ("pgpgin", "pgpgout", "pswpin", "pswpout", "pgfault", "pgmajfault")

    def __init__(self, path="/proc/vmstat"):
        self.path = path
        self.previous = {}
        self.previous_time = None

    def collect(self):
        current_time = time.time()
        time_delta = current_time - (self.previous_time or current_time)
        cur = {}
        with open(self.path) as f:
            for line in f:
                name, _, value = line.partition(" ")
                if name in self.FIELDS:
                    cur[name] = int(value)
        r = {f: _rate(cur.get(f, 0), self.previous.get(f), time_delta) for f in self.FIELDS}
        page_size = os.sysconf("SC_PAGE_SIZE")
        result = {
            "pgpgin_per_sec": r["pgpgin"],
            "pgpgout_per_sec": r["pgpgout"],
            "pswpin_per_sec": r["pswpin"],
            "pswpout_per_sec": r["pswpout"],
            "page_io_bytes_per_sec": None if r["pgpgin"] is None or r["pgpgout"] is None
            else (r["pgpgin"] + r["pgpgout"]) * 1024,
            "swap_io_bytes_per_sec": None if r["pswpin"] is None or r["pswpout"] is None
            else (r["pswpin"] + r["pswpout"]) * page_size,
            "pgfault_per_sec": r["pgfault"],
            "pgmajfault_per_sec": r["pgmajfault"],
        }
        self.previous = cur
        self.previous_time = current_time
        return result


# ---------------------------------------------------------------------------- network


class NetworkCollector:
    def __init__(self):
        self.previous = {}
        self.previous_time = None

    def _rate(self, current, previous, time_delta):
        return _rate(current, previous, time_delta)

    def _count_connection_states(self, connections):
        counts = {"tcp_established": 0, "tcp_time_wait": 0, "tcp_close_wait": 0,
                  "tcp_listen": 0, "udp_count": 0}
        for c in connections:
            if c.type == 2:  # socket.SOCK_DGRAM
                counts["udp_count"] += 1
            elif c.status == psutil.CONN_ESTABLISHED:
                counts["tcp_established"] += 1
            elif c.status == psutil.CONN_TIME_WAIT:
                counts["tcp_time_wait"] += 1
            elif c.status == psutil.CONN_CLOSE_WAIT:
                counts["tcp_close_wait"] += 1
            elif c.status == psutil.CONN_LISTEN:
                counts["tcp_listen"] += 1
        return counts

    def collect(self):
        current_time = time.time()
        net_io = psutil.net_io_counters(pernic=True)

        result = {"interfaces": {}, "connections": {}}

        for iface, counters in net_io.items():
            if iface == 'lo':  # Skip loopback
                continue

            prev = self.previous.get(iface, {})
            time_delta = current_time - (self.previous_time or current_time)

            result["interfaces"][iface] = {
                "bytes_sent": counters.bytes_sent,
                "bytes_recv": counters.bytes_recv,
                "bytes_sent_per_sec": self._rate(counters.bytes_sent, prev.get('bytes_sent'), time_delta),
                "bytes_recv_per_sec": self._rate(counters.bytes_recv, prev.get('bytes_recv'), time_delta),
                "packets_sent": counters.packets_sent,
                "packets_recv": counters.packets_recv,
                "packets_sent_per_sec": self._rate(counters.packets_sent, prev.get('packets_sent'), time_delta),
                "packets_recv_per_sec": self._rate(counters.packets_recv, prev.get('packets_recv'), time_delta),
                "errors_in": counters.errin,
                "errors_out": counters.errout,
                "drops_in": counters.dropin,
                "drops_out": counters.dropout,
            }
            self.previous[iface] = counters._asdict()

        # Connection stats
        connections = psutil.net_connections(kind='inet')
        result["connections"] = self._count_connection_states(connections)

        self.previous_time = current_time
        return result


# ---------------------------------------------------------------------------- disk


class DiskCollector:
    def __init__(self):
        self.previous_io = {}
        self.previous_time = None

    def _rate(self, current, previous, time_delta):
        return _rate(current, previous, time_delta)

    def _latency(self, time_now, time_prev, count_now, count_prev):
        """Mean ms per completed operation over the interval; None when none completed."""
        if time_prev is None or count_prev is None:
            return None
        ops = count_now - count_prev
        if ops <= 0 or time_now < time_prev:
            return None
        return (time_now - time_prev) / ops

    def collect(self):
        current_time = time.time()
        time_delta = current_time - (self.previous_time or current_time)

        # I/O counters
        disk_io = psutil.disk_io_counters(perdisk=True)
        devices = {}

        for device, counters in disk_io.items():
            if device.startswith('loop'):  # Skip loop devices
                continue

            prev = self.previous_io.get(device, {})
            devices[device] = {
                "read_bytes": counters.read_bytes,
                "write_bytes": counters.write_bytes,
                "read_count": counters.read_count,
                "write_count": counters.write_count,
                "read_time_ms": counters.read_time,
                "write_time_ms": counters.write_time,
                "read_bytes_per_sec": self._rate(counters.read_bytes, prev.get('read_bytes'), time_delta),
                "write_bytes_per_sec": self._rate(counters.write_bytes, prev.get('write_bytes'), time_delta),
                "read_iops": self._rate(counters.read_count, prev.get('read_count'), time_delta),
                "write_iops": self._rate(counters.write_count, prev.get('write_count'), time_delta),
                # Calculate latency
                "read_latency_ms": self._latency(counters.read_time, prev.get('read_time'),
                                                 counters.read_count, prev.get('read_count')),
                "write_latency_ms": self._latency(counters.write_time, prev.get('write_time'),
                                                  counters.write_count, prev.get('write_count')),
            }
            self.previous_io[device] = counters._asdict()

        # Partition usage
        partitions = {}
        for part in psutil.disk_partitions():
            if 'loop' in part.device:
                continue
            usage = psutil.disk_usage(part.mountpoint)
            partitions[part.mountpoint] = {
                "device": part.device,
                "fstype": part.fstype,
                "total_bytes": usage.total,
                "used_bytes": usage.used,
                "free_bytes": usage.free,
                "usage_percent": usage.percent
            }

        self.previous_time = current_time
        return {"devices": devices, "partitions": partitions}


# ---------------------------------------------------------------------------- perf

PERF_STAT_EVENTS = [
    "cpu-clock",
    "context-switches",
    "cpu-migrations",
    "page-faults",
    "cycles",
    "instructions",
    "branches",
    "branch-misses",
    "L1-dcache-loads",
    "L1-dcache-load-misses",
    "LLC-loads",
    "LLC-load-misses",
    "L1-icache-loads",
    "dTLB-loads",
    "dTLB-load-misses",
    "iTLB-loads",
    "iTLB-load-misses",
]


def check_perf_available():
    """Check if perf stat is available."""
    if shutil.which("perf") is None:
        return False, "perf binary not found"

    try:
        with open('/proc/sys/kernel/perf_event_paranoid', 'r') as f:
            paranoid = int(f.read().strip())
        if paranoid > 1 and os.geteuid() != 0:
            return False, "perf_event_paranoid > 1 and not root"
    except Exception:
        pass

    return True, None


class PerfStatCollector:
    """"Start perf stat subprocess and parse CSV output": one `perf stat -I -x, -a` child
    for the collector's lifetime; each collect() returns the newest complete interval.
    Missing or unsupported events mark available = False."""

    def __init__(self, interval_s=5.0):
        self.interval_ms = max(100, int(interval_s * 1000))
        self.proc = None
        self.buf = b""
        self.pending = {}
        self.pending_ts = None
        self.latest = None

    def _start(self):
        cmd = ["perf", "stat", "-I", str(self.interval_ms), "-x", ",", "-a",
               "-e", ",".join(PERF_STAT_EVENTS)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        os.set_blocking(self.proc.stderr.fileno(), False)

    def _drain(self):
        fd = self.proc.stderr.fileno()
        while select.select([fd], [], [], 0)[0]:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            self.buf += chunk
        *lines, self.buf = self.buf.split(b"\n")
        for raw in lines:
            # time,value,unit,event,run-time,run%,... ("<not supported>" as the value)
            f = raw.decode(errors="replace").split(",")
            if len(f) < 4 or not f[0].strip():
                continue
            ts, value, unit, event = f[0].strip(), f[1], f[2], f[3]
            if ts != self.pending_ts:
                if self.pending and len(self.pending) == len(PERF_STAT_EVENTS):
                    self.latest = self.pending
                self.pending, self.pending_ts = {}, ts
            try:
                v = float(value)
            except ValueError:
                v = None  # <not supported> / <not counted>
            self.pending[event] = {"value": v, "unit": unit or None}
        if self.pending and len(self.pending) == len(PERF_STAT_EVENTS):
            self.latest, self.pending = self.pending, {}

    def collect(self):
        available, error = check_perf_available()
        if not available:
            return {"available": False, "error": error, "events": {}}
        try:
            if self.proc is None:
                self._start()
            if self.proc.poll() is not None:
                raise RuntimeError(f"perf stat exited with status {self.proc.returncode}")
            self._drain()
            if self.latest is None:
                return {"available": False, "error": "no complete perf stat interval yet", "events": {}}
            events = {k: v for k, v in self.latest.items() if v["value"] is not None}
            missing = [k for k in PERF_STAT_EVENTS if k not in events]
            return {
                "available": not missing,
                "error": ("unsupported events: " + ", ".join(missing)) if missing else None,
                "events": events,
            }
        except Exception as e:
            return {"available": False, "error": str(e), "events": {}}

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def collect_perf_disabled():
    return {"available": False, "error": "perf collection not enabled (--perf)", "events": {}}


# ---------------------------------------------------------------------------- snapshot


class MetricCollector:
    """Collectors → one MetricSnapshot. A failing collector's section is null and its
    error is kept, the others still report (the specification's Error Handling)."""

    def __init__(self, interval_s=5.0, perf=False):
        self.interval_s = interval_s
        self.vmstat = VmstatCollector()
        self.network = NetworkCollector()
        self.disk = DiskCollector()
        self.perf = PerfStatCollector(interval_s) if perf else None

    def collect(self):
        snapshot = {"timestamp": time.time(), "interval_s": self.interval_s, "errors": {}}

        def memory():
            m = collect_memory_metrics()
            m.update(self.vmstat.collect())
            return m

        sections = (("cpu", collect_cpu_metrics), ("memory", memory),
                    ("network", self.network.collect), ("disk", self.disk.collect),
                    ("perf", self.perf.collect if self.perf else collect_perf_disabled))
        for name, fn in sections:
            try:
                snapshot[name] = fn()
            except Exception as e:  # noqa: BLE001 - any failure nulls only its section
                snapshot[name] = None
                snapshot["errors"][name] = f"{type(e).__name__}: {e}"
        return snapshot

    def close(self):
        if self.perf:
            self.perf.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-i", "--interval", type=float, default=5.0, help="seconds between snapshots (5)")
    ap.add_argument("-n", "--count", type=int, default=0, help="snapshots to print (0: forever)")
    ap.add_argument("-o", "--out", help="append snapshots to this file instead of stdout")
    ap.add_argument("--perf", action="store_true", help="also collect the 17 perf events via perf stat -I")
    args = ap.parse_args(argv)
    if args.interval <= 0:
        ap.error("--interval must be positive")

    # SIGTERM ends the loop through the finally below, so a perf stat child is stopped too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    out = open(args.out, "a") if args.out else sys.stdout
    mc = MetricCollector(args.interval, perf=args.perf)
    # The first sample only primes cpu_percent() and the rate baselines.
    mc.collect()
    printed = 0
    next_t = time.monotonic() + args.interval
    try:
        while not args.count or printed < args.count:
            delay = next_t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            out.write(json.dumps(mc.collect()) + "\n")
            out.flush()
            printed += 1
            next_t += args.interval
            while next_t <= time.monotonic():  # late: skip ticks rather than burst
                next_t += args.interval
    except KeyboardInterrupt:
        pass
    finally:
        mc.close()
        if out is not sys.stdout:
            out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
