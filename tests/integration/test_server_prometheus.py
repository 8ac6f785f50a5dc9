"""/metrics against the real Prometheus tools (Debian's prometheus package): promtool's
linter, and a Prometheus server that scrapes the daemon every second and answers PromQL."""
import json
import math
import os
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


def software_events_env():
    """PW_TEST_SOFTWARE_EVENTS=1: stand-ins fill the hardware slots, so the bpf ratios exist
    on a machine without a PMU."""
    return dict(os.environ, PW_TEST_SOFTWARE_EVENTS="1")


@need_prom
@pytest.mark.parametrize("extra,env", [([], None), (["--no-per-cpu-metrics"], None), ([], "sw")],
                         ids=["per-cpu", "no-per-cpu", "software-events"])
def test_promtool_accepts_metrics(extra, env):
    with Daemon("--interval", "0.5", "--no-db", *extra, env=software_events_env() if env else None) as d:
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
        if snap.get("bpf"):
            assert m["perfwatch_bpf_runqueue_latency_seconds_count"] > 0
            assert m['perfwatch_bpf_program_attached{program="pw_sched_switch"}'] == 1
            assert m['perfwatch_bpf_event_counted{event="context-switches"}'] == 1
            if extra:
                assert m["perfwatch_bpf_context_switches_total"] > 0
            else:
                assert m['perfwatch_bpf_context_switches_total{cpu="0"}'] > 0
            if env:
                assert m["perfwatch_bpf_test_software_events"] == 1
                assert snap["bpf"]["ratios"]["ipc"] is not None
                assert m["perfwatch_bpf_instructions_per_cycle"] > 0


def metrics_and_snapshot(port):
    """/metrics and /api/snapshot of the same snapshot (perfwatch_snapshots_total is seq + 1)."""
    for _ in range(50):
        m = parse_metrics(get(port, "/metrics").body.decode())
        snap = json.loads(get(port, "/api/snapshot").body)
        if m["perfwatch_snapshots_total"] == snap["seq"] + 1:
            return m, snap
        time.sleep(0.05)
    raise AssertionError("/metrics and /api/snapshot never showed the same snapshot")


def test_bpf_totals_step_by_the_snapshots_interval_counts():
    """The bpf counters are totals since load: from one snapshot to the next they grow by
    exactly what the snapshot's bpf section counted over that interval."""
    with Daemon("--interval", "1", "--no-db") as d:
        first_snapshot(d)
        m0, s0 = metrics_and_snapshot(d.port)
        if not s0.get("bpf"):
            pytest.skip("the eBPF collector does not run here (needs root and BTF): "
                        + str(s0["perf"].get("skipped_sources") or s0["errors"]))
        for _ in range(40):
            m1, s1 = metrics_and_snapshot(d.port)
            if s1["seq"] == s0["seq"] + 1:
                break
            if s1["seq"] > s0["seq"] + 1:
                m0, s0 = m1, s1
            time.sleep(0.1)
        assert s1["seq"] == s0["seq"] + 1, "no two consecutive snapshots caught"
        for c in s1["bpf"]["cpus"]:
            key = f'perfwatch_bpf_context_switches_total{{cpu="{c["cpu"]}"}}'
            assert m1[key] - m0[key] == c["context_switches"], key
            key = f'perfwatch_bpf_page_faults_total{{cpu="{c["cpu"]}",mode="user"}}'
            assert m1[key] - m0[key] == c["page_faults_user"], key
        rq = s1["bpf"]["runq_latency"]
        inf = 'perfwatch_bpf_runqueue_latency_seconds_bucket{le="+Inf"}'
        assert m1[inf] - m0[inf] == sum(rq["log2_us"])
        le = 'perfwatch_bpf_runqueue_latency_seconds_bucket{le="1.6e-05"}'  # slots 0..3: under 16 us
        assert m1[le] - m0[le] == sum(rq["log2_us"][:4])
        lo = s1["bpf"]["net"].get("lo")  # our own HTTP requests cross it
        if lo:
            key = 'perfwatch_bpf_network_receive_packets_total{interface="lo"}'
            assert m1[key] - m0.get(key, 0) == lo["packets_recv"]


def test_metrics_rendered_only_for_scraped_snapshots():
    """No scraper, no render: /metrics is rendered when scraped, once per snapshot, and a
    scrape always gets the snapshot the API shows (the render is never stale)."""
    with Daemon("--interval", "0.2", "--no-db") as d:
        first_snapshot(d)
        time.sleep(1.5)  # several snapshots nobody scraped
        health = json.loads(get(d.port, "/healthz").body)
        assert health["server"]["metrics_renders"] == 0, health["server"]
        m = parse_metrics(get(d.port, "/metrics").body.decode())
        assert m["perfwatch_server_metrics_renders_total"] == 1
        snap = json.loads(get(d.port, "/api/snapshot").body)
        assert m["perfwatch_snapshots_total"] >= snap["seq"]  # rendered from the newest, or one newer
        # scrapes of one snapshot share its render: renders never outnumber the snapshots
        seen = set()
        for _ in range(30):
            m = parse_metrics(get(d.port, "/metrics").body.decode())
            seen.add(m["perfwatch_snapshots_total"])
            time.sleep(0.05)
        assert m["perfwatch_server_metrics_renders_total"] <= len(seen) + 1, (m, seen)
        assert len(seen) >= 2, "30 scrapes over several intervals saw one snapshot only"


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
            if snap.get("bpf"):
                # the run-queue histogram is a real one: PromQL computes quantiles from it
                r = answered("histogram_quantile(0.9, rate(perfwatch_bpf_runqueue_latency_seconds_bucket[5s]))")
                q90 = float(r[0]["value"][1])
                assert math.isfinite(q90) and 0 < q90 < 2147.483648, r
                r = answered('sum(rate(perfwatch_bpf_context_switches_total[5s]))')
                assert float(r[0]["value"][1]) > 0
                r = answered('perfwatch_bpf_program_attached{program="pw_sched_switch"}')
                assert float(r[0]["value"][1]) == 1
        finally:
            prom.terminate()
            try:
                prom.wait(timeout=10)
            except subprocess.TimeoutExpired:
                prom.kill()
                prom.wait()
            log.close()
