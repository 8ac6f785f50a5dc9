"""The tools `make bench` runs side by side, each started on 127.0.0.1 by the benchmark.

A contender knows how to start its tool (into a ToolProcs, so every process of it is
measured), when it is ready, how one cycle is driven (on its own timer, or by a scrape
every interval), and what one cycle's output is (bytes, series). Anything that cannot run
raises Unavailable with the reason, which the table prints as "n/a (reason)".
"""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from proctree import ToolProcs

REPO = Path(__file__).resolve().parents[2]
PYTHON = "/usr/bin/python3"  # Debian's, with python3-psutil

PERF_EVENTS = ("cpu-clock,context-switches,cpu-migrations,page-faults,cycles,instructions,"
               "branches,branch-misses,L1-dcache-loads,L1-dcache-load-misses,LLC-loads,"
               "LLC-load-misses,L1-icache-loads,dTLB-loads,dTLB-load-misses,iTLB-loads,"
               "iTLB-load-misses")


class Unavailable(Exception):
    """This contender cannot run here; the message says why."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read()


def prom_series(text):
    return sum(1 for l in text.splitlines() if l and not l.startswith("#"))


def json_leaves(v):
    """Numbers (and nulls standing for numbers) in a JSON value: the metrics it carries."""
    if isinstance(v, dict):
        return sum(json_leaves(x) for x in v.values())
    if isinstance(v, list):
        return sum(json_leaves(x) for x in v)
    return 1 if isinstance(v, (int, float)) and not isinstance(v, bool) else 0


def last_line(path):
    """The last complete line of a file that is still being appended to."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    lines = data.split(b"\n")
    lines = lines[:-1]  # the part after the last newline may be half-written
    return lines[-1].decode(errors="replace") if lines else None


def complete_lines(path):
    try:
        data = Path(path).read_bytes()
    except OSError:
        return []
    return [l.decode(errors="replace") for l in data.split(b"\n")[:-1] if l.strip()]


class Contender:
    key = ""
    label = ""
    interval = 5.0
    scrape_driven = False  # True: one cycle = one scrape by the benchmark

    def __init__(self, work, env):
        self.work = Path(work)
        self.env = env  # bench settings: PW_BIN, BUILD, ...
        self.tp = None
        self.port = None
        self.notes = []

    def check(self):
        """Raises Unavailable when the tool is not here."""

    def command(self):
        raise NotImplementedError

    def start(self):
        self.work.mkdir(parents=True, exist_ok=True)
        self.tp = ToolProcs(self.key)
        self.log = open(self.work / "tool.log", "ab")
        self.tp.popen(self.command(), stdout=self.stdout(), stderr=self.log, cwd=self.work,
                      env=self.child_env())
        return self.tp

    def stdout(self):
        return self.log

    def child_env(self):
        return dict(os.environ)

    def ready(self, timeout=30.0):
        """Waits until the tool serves/collects; raises Unavailable when it died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.tp.alive():
                raise Unavailable(f"exited with status {self.tp.proc.returncode}: {self.log_tail()}")
            if self.is_ready():
                return
            time.sleep(0.2)
        raise Unavailable(f"not ready after {timeout:.0f} s: {self.log_tail()}")

    def is_ready(self):
        return True

    def scrape(self):
        """One scrape (scrape-driven tools): returns the body's size."""
        return 0

    def output(self):
        """After a window: {"bytes": one cycle's output, "series": metrics exposed, ...}."""
        return {}

    def stop(self):
        if self.tp:
            self.tp.stop(grace=self.stop_grace())
            self.tp.remove()
        if getattr(self, "log", None):
            self.log.close()

    def stop_grace(self):
        return 10.0

    def log_tail(self, n=300):
        try:
            data = (self.work / "tool.log").read_bytes()[-n:]
            return " ".join(data.decode(errors="replace").split())
        except OSError:
            return ""


# ------------------------------------------------------------------------------- PerfWatch

class PerfWatchDaemon(Contender):
    key = "perfwatch"
    label = "PerfWatch (daemon: history + server)"

    def check(self):
        if not os.access(self.env["PW_BIN"], os.X_OK):
            raise Unavailable(f"{self.env['PW_BIN']} not built")

    def command(self):
        self.port = free_port()
        return [self.env["PW_BIN"], "--listen", f"127.0.0.1:{self.port}", "--interval",
                str(self.interval), "--db", str(self.work / "history.db"), "--log-level", "warn"]

    def is_ready(self):
        # the daemon serves once the server part is built; before that, alive is ready
        if getattr(self, "_t0", None) is None:
            self._t0 = time.monotonic()
        try:
            http_get(f"http://127.0.0.1:{self.port}/healthz", timeout=1)
            self.server = True
            return True
        except Exception:
            self.server = False
            return time.monotonic() - self._t0 > 8

    def snapshot(self):
        if getattr(self, "server", False):
            try:
                return json.loads(http_get(f"http://127.0.0.1:{self.port}/api/snapshot")), "/api/snapshot"
            except Exception as e:
                self.notes.append(f"/api/snapshot failed: {e}")
        return pw_json_once(self.env["PW_BIN"]), "a separate --json run (no /api/snapshot)"

    def output(self):
        snap, src = self.snapshot()
        out = {"source": src}
        if snap is not None:
            out["snapshot"] = snap
            out["bytes"] = len(json.dumps(snap, separators=(",", ":")).encode())
            out["series"] = json_leaves(snap)
        if getattr(self, "server", False):
            try:
                m = http_get(f"http://127.0.0.1:{self.port}/metrics").decode(errors="replace")
                out["metrics_bytes"] = len(m.encode())
                out["metrics_series"] = prom_series(m)
            except Exception as e:
                out["metrics_error"] = str(e)
        try:
            out["db_bytes"] = sum(p.stat().st_size for p in self.work.glob("history.db*"))
        except OSError:
            pass
        return out

    def history_self(self, since):
        """PerfWatch's own per-cycle stage costs over the window from /api/history, if any."""
        if not getattr(self, "server", False):
            return None
        # one metric per request: history may keep only some of them (a 400 for the others)
        answers = []
        for m in ("self.cycle_cpu_ns", "self.collect_cpu_ns", "self.json_cpu_ns", "self.outputs_cpu_ns"):
            try:
                body = http_get(f"http://127.0.0.1:{self.port}/api/history?from={since:.3f}"
                                f"&to={time.time():.3f}&metrics={m}&points=1000")
                answers.append(json.loads(body))
            except Exception:
                continue
        return answers or None


def pw_json_once(pw_bin, extra=(), timeout=60):
    """One snapshot from `perfwatch --json --interval 1`; None when it fails."""
    try:
        p = subprocess.run([pw_bin, "--json", "--interval", "1", *extra], capture_output=True,
                           text=True, timeout=timeout)
        lines = [l for l in p.stdout.splitlines() if l.strip()]
        return json.loads(lines[-1]) if p.returncode == 0 and lines else None
    except Exception:
        return None


class PerfWatchJson(Contender):
    key = "perfwatch-json"
    label = "PerfWatch --json"

    def check(self):
        if not os.access(self.env["PW_BIN"], os.X_OK):
            raise Unavailable(f"{self.env['PW_BIN']} not built")

    def command(self):
        self.out_path = self.work / "snapshots.jsonl"
        self.out_path.unlink(missing_ok=True)
        return [self.env["PW_BIN"], "--json", "--interval", str(self.interval), "--count", "1000000",
                "--log-level", "warn"]

    def stdout(self):
        self.out_f = open(self.out_path, "ab")
        return self.out_f

    def is_ready(self):
        return True

    def output(self):
        line = last_line(self.out_path)
        if not line:
            return {"error": "no snapshot printed"}
        snap = json.loads(line)
        return {"snapshot": snap, "bytes": len(line.encode()), "series": json_leaves(snap),
                "snapshots": [json.loads(l) for l in complete_lines(self.out_path)]}

    def stop(self):
        super().stop()
        if getattr(self, "out_f", None):
            self.out_f.close()


# ------------------------------------------------------------------------------- node_exporter

NODE_EXPORTER = ("prometheus-node-exporter", "node_exporter")


class NodeExporter(Contender):
    key = "node_exporter"
    label = "node_exporter (scraped every 5 s)"
    scrape_driven = True

    def check(self):
        self.bin = next((shutil.which(b) for b in NODE_EXPORTER if shutil.which(b)), None)
        if not self.bin:
            raise Unavailable("prometheus-node-exporter not installed")

    def command(self):
        self.port = free_port()
        return [self.bin, f"--web.listen-address=127.0.0.1:{self.port}"]

    def is_ready(self):
        try:
            http_get(f"http://127.0.0.1:{self.port}/metrics", timeout=2)
            return True
        except Exception:
            return False

    def scrape(self):
        body = http_get(f"http://127.0.0.1:{self.port}/metrics", timeout=10)
        self.last_body = body
        return len(body)

    def output(self):
        body = getattr(self, "last_body", None) or http_get(f"http://127.0.0.1:{self.port}/metrics")
        text = body.decode(errors="replace")
        return {"bytes": len(body), "series": prom_series(text)}


# ------------------------------------------------------------------------------- netdata

NETDATA_CONF = """\
# Written by PerfWatch's benchmark: netdata as packaged, but on 127.0.0.1 at a free port,
# collecting every 5 s, with its own config/cache/lib/log folders, and no registry, no
# cloud, no anonymous statistics.
[global]
	run as user = root
	update every = 5
	hostname = perfwatch-bench
[directories]
	config = {d}/etc
	stock config = /usr/lib/netdata/conf.d
	log = {d}/log
	cache = {d}/cache
	lib = {d}/lib
	home = {d}
	run = {d}/run
[logs]
	debug log = none
	error log = {d}/log/error.log
	access log = none
[web]
	bind to = 127.0.0.1:{port}
[registry]
	enabled = no
[cloud]
	enabled = no
[statsd]
	bind to = udp:127.0.0.1:{statsd} tcp:127.0.0.1:{statsd}
"""


class Netdata(Contender):
    key = "netdata"
    label = "netdata (update every 5 s)"

    def check(self):
        self.bin = shutil.which("netdata") or ("/usr/sbin/netdata" if os.access("/usr/sbin/netdata", os.X_OK) else None)
        if not self.bin:
            raise Unavailable("netdata not installed")

    def command(self):
        self.port = free_port()
        # outside the build folder: netdata makes folders named *.d, which the Makefile
        # would take for dependency files
        d = self.nd_dir = Path(tempfile.mkdtemp(prefix="pwbench-netdata-"))
        for sub in ("etc", "cache", "lib", "log", "run"):
            (d / sub).mkdir(parents=True)
        (d / "etc" / ".opt-out-from-anonymous-statistics").touch()
        conf = d / "etc" / "netdata.conf"
        conf.write_text(NETDATA_CONF.format(d=d, port=self.port, statsd=free_port()))
        return [self.bin, "-D", "-c", str(conf)]

    def child_env(self):
        env = dict(os.environ)
        env["DO_NOT_TRACK"] = "1"
        env["DISABLE_TELEMETRY"] = "1"
        return env

    def is_ready(self):
        try:
            http_get(f"http://127.0.0.1:{self.port}/api/v1/info", timeout=2)
            return True
        except Exception:
            return False

    def output(self):
        base = f"http://127.0.0.1:{self.port}"
        out = {}
        # as-collected: every chart's latest values (the default "average" source answers
        # a scraper's first request with nothing but netdata_info)
        body = http_get(base + "/api/v1/allmetrics?format=prometheus&source=as-collected")
        out["bytes"] = len(body)
        out["prometheus_series"] = prom_series(body.decode(errors="replace"))
        try:
            charts = json.loads(http_get(base + "/api/v1/charts"))
            dims = sum(len(c.get("dimensions", {})) for c in charts.get("charts", {}).values())
            out["charts"] = len(charts.get("charts", {}))
            out["series"] = dims
        except Exception as e:
            out["series"] = out["prometheus_series"]
            out["charts_error"] = str(e)
        return out

    def stop_grace(self):
        return 15.0

    def stop(self):
        super().stop()
        d = getattr(self, "nd_dir", None)
        if d:
            log = d / "log" / "error.log"
            if log.exists():
                shutil.copy(log, self.work / "netdata-error.log")
            shutil.rmtree(d, ignore_errors=True)

    def log_tail(self, n=300):
        return super().log_tail(n)


# ------------------------------------------------------------------------------- psutil

class PsutilCollector(Contender):
    key = "psutil"
    label = "the specification's psutil collector"

    def check(self):
        if subprocess.run([PYTHON, "-c", "import psutil"], capture_output=True).returncode:
            raise Unavailable("python3-psutil not installed")

    def command(self):
        self.out_path = self.work / "snapshots.jsonl"
        self.out_path.unlink(missing_ok=True)
        return [PYTHON, str(REPO / "scripts" / "psutil_collector.py"), "--interval",
                str(self.interval), "--out", str(self.out_path)]

    def output(self):
        line = last_line(self.out_path)
        if not line:
            return {"error": "no snapshot written"}
        return {"bytes": len(line.encode()), "series": json_leaves(json.loads(line))}


# ------------------------------------------------------------------------------- perf stat

class PerfStat(Contender):
    key = "perf-stat"
    label = "perf stat -I 5000 -a"

    def check(self):
        self.bin = shutil.which("perf")
        if not self.bin:
            raise Unavailable("perf (linux-perf) not installed")
        p = subprocess.run([self.bin, "version"], capture_output=True, text=True)
        if p.returncode:
            raise Unavailable(f"perf does not run: {(p.stderr or p.stdout).strip()[:120]}")

    def command(self):
        self.out_path = self.work / "perf.csv"
        self.out_path.unlink(missing_ok=True)
        return [self.bin, "stat", "-I", str(int(self.interval * 1000)), "-a", "-x", ",",
                "-e", PERF_EVENTS, "-o", str(self.out_path)]

    def output(self):
        lines = [l for l in complete_lines(self.out_path) if not l.startswith("#")]
        if not lines:
            return {"error": "no interval written"}
        last_ts = lines[-1].split(",", 1)[0]
        one = [l for l in lines if l.split(",", 1)[0] == last_ts]
        counted = sum(1 for l in one if not l.split(",")[1].startswith("<"))
        return {"bytes": sum(len(l) + 1 for l in one), "series": len(one), "counted": counted}


ALL = [PerfWatchDaemon, PerfWatchJson, NodeExporter, Netdata, PsutilCollector, PerfStat]
