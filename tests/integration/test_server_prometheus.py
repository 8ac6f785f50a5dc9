"""/metrics against the real Prometheus tools (Debian's prometheus package): promtool's
linter, and a Prometheus server that scrapes the daemon every second and answers PromQL."""
import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from conftest import Daemon, free_port
from server_testlib import get, wait_for

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
need_prom = pytest.mark.skipif(not shutil.which("prometheus") or not shutil.which("promtool"),
                               reason="Debian package prometheus is not installed")


def first_snapshot(d):
    assert wait_for(lambda: get(d.port, "/api/snapshot").status == 200, 10), d.read_log()


def parse_metrics(text):
    """name{labels} -> value, from the text format."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        out[key] = float(value)
    return out


@need_prom
@pytest.mark.parametrize("extra", [[], ["--no-per-cpu-metrics"]])
def test_promtool_accepts_metrics(extra):
    with Daemon("--interval", "0.5", "--no-db", *extra) as d:
        first_snapshot(d)
        r = get(d.port, "/metrics")
        assert r.status == 200
        assert r.header("content-type") == "text/plain; version=0.0.4; charset=utf-8"
        p = subprocess.run([PROMTOOL, "check", "metrics"], input=r.body, capture_output=True, timeout=30)
        assert p.returncode == 0, p.stdout.decode() + p.stderr.decode()
        m = parse_metrics(r.body.decode())
        snap = json.loads(get(d.port, "/api/snapshot").body)
        assert m["perfwatch_interval_seconds"] == 0.5
        assert m["perfwatch_snapshots_total"] >= snap["seq"] + 1
        if extra:
            assert 'cpu="' not in r.body.decode()
        if snap["memory"] is not None:
            assert m["perfwatch_memory_total_bytes"] == snap["memory"]["total_bytes"]
        for name, err in snap["errors"].items():
            key = f'perfwatch_collector_up{{collector="{name}"}}'
            if key in m:
                assert m[key] == 0


def prom_query(port, q):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
    with urllib.request.urlopen(url, timeout=5) as r:
        res = json.loads(r.read())
    assert res["status"] == "success", res
    return res["data"]["result"]


@need_prom
def test_a_real_prometheus_scrapes_and_answers(tmp_path):
    with Daemon("--interval", "0.5", "--no-db") as d:
        first_snapshot(d)
        prom_port = free_port()
        cfg = tmp_path / "prometheus.yml"
        cfg.write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n"
            "  - job_name: perfwatch\n"
            f"    static_configs:\n      - targets: ['127.0.0.1:{d.port}']\n")
        log = open(tmp_path / "prometheus.log", "w")
        prom = subprocess.Popen([PROMETHEUS, f"--config.file={cfg}", f"--storage.tsdb.path={tmp_path / 'data'}",
                                 f"--web.listen-address=127.0.0.1:{prom_port}"],
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            def up():
                try:
                    r = prom_query(prom_port, 'up{job="perfwatch"}')
                except OSError:
                    return None
                return r if r and r[0]["value"][1] == "1" else None
            assert wait_for(up, 40, step=0.5), (tmp_path / "prometheus.log").read_text()[-3000:]

            def answered(q):
                return wait_for(lambda: prom_query(prom_port, q), 10, step=0.5)

            r = answered("perfwatch_interval_seconds")
            assert float(r[0]["value"][1]) == 0.5
            r = answered("perfwatch_snapshots_total")
            seq_now = json.loads(get(d.port, "/api/snapshot").body)["seq"]
            assert 1 <= float(r[0]["value"][1]) <= seq_now + 1
            r = answered('perfwatch_perf_source_info')
            snap = json.loads(get(d.port, "/api/snapshot").body)
            assert r[0]["metric"]["source"] == snap["perf"]["source"]
            if snap["memory"] is not None:
                r = answered("perfwatch_memory_total_bytes")
                assert float(r[0]["value"][1]) == snap["memory"]["total_bytes"]
            # a counter Prometheus can rate(): snapshots per second, from two scrapes or more
            time.sleep(2.5)
            r = answered("rate(perfwatch_snapshots_total[5s])")
            assert 1.0 <= float(r[0]["value"][1]) <= 3.0  # 2 per second at a 0.5 s interval
            r = answered('perfwatch_server_connections_limit')
            assert float(r[0]["value"][1]) == 256
        finally:
            prom.terminate()
            try:
                prom.wait(timeout=10)
            except subprocess.TimeoutExpired:
                prom.kill()
                prom.wait()
            log.close()
