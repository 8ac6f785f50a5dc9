"""The WebSocket stream and the HTTP API of a real daemon on 127.0.0.1."""
import asyncio
import json
import signal
import socket
import subprocess
import time

import pytest
import websockets

from conftest import PW_BIN, Daemon, free_port, validate
from server_testlib import (NetNS, get, healthz, make_web_root, netns_available, rss_kb, wait_for, ws_connect,
                            ws_read_frame)

INTERVAL = 0.5


def first_snapshot(d):
    """Waits until the daemon has published a snapshot."""
    assert wait_for(lambda: get(d.port, "/api/snapshot").status == 200, 10), d.read_log()


async def recv_json(ws, timeout):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


def test_stream_first_snapshot_at_once_then_one_per_interval(schema):
    with Daemon("--interval", str(INTERVAL), "--no-db") as d:
        first_snapshot(d)

        async def run():
            t0 = time.monotonic()
            async with websockets.connect(f"ws://127.0.0.1:{d.port}/ws", max_size=None) as ws:
                first = await recv_json(ws, 1.0)
                latency = time.monotonic() - t0
                snaps = [first]
                times = [time.monotonic()]
                for _ in range(5):
                    snaps.append(await recv_json(ws, INTERVAL * 3))
                    times.append(time.monotonic())
                return latency, snaps, times

        latency, snaps, times = asyncio.run(run())
        assert latency < 1.0
        for s in snaps:
            validate(s, schema)
            assert s["interval_s"] == INTERVAL
            assert s["published_at"] >= s["timestamp"]
        seqs = [s["seq"] for s in snaps]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
        gaps = [b - a for a, b in zip(times[1:], times[2:])]
        assert all(INTERVAL * 0.5 < g < INTERVAL * 2 for g in gaps), gaps


def test_api_snapshot_healthz_and_static_files(tmp_path, schema):
    root = make_web_root(tmp_path)
    with Daemon("--interval", str(INTERVAL), "--no-db", "--web-root", str(root)) as d:
        first_snapshot(d)
        r = get(d.port, "/api/snapshot")
        assert r.status == 200 and r.header("content-type") == "application/json"
        validate(json.loads(r.body), schema)
        assert r.header("x-content-type-options") == "nosniff"

        h = healthz(d.port)
        assert h["status"] in ("ok", "degraded")
        assert h["uptime_s"] > 0 and h["snapshot"]["seq"] >= 0
        assert set(h["collectors"]) >= {"cpu", "memory", "network", "disk", "perf"}
        assert h["perf"]["source"] in ("bpf", "perf-stat", "none")
        assert h["history"]["status"] == "disabled"
        assert h["server"]["auth"] is False and h["server"]["tls"] is False
        # every collector that failed says why, the same reason the snapshot carries
        snap = json.loads(get(d.port, "/api/snapshot").body)
        for name, c in h["collectors"].items():
            if c["status"] == "error" and name in snap["errors"]:
                assert c["error"] == snap["errors"][name]

        r = get(d.port, "/")
        assert r.status == 200 and b"index-page" in r.body and r.header("content-type").startswith("text/html")
        assert get(d.port, "/app.js").status == 200
        assert get(d.port, "/in.js").body == b"console.log('app');\n"  # a symlink inside the root
        assert b"sub-index" in get(d.port, "/sub/").body
        assert get(d.port, "/nope.html").status == 404
        assert get(d.port, "/api/nope").status == 404
        assert get(d.port, "/ws").status == 426
        r = get(d.port, "/api/history?metric=cpu.usage_percent&token=x")
        assert r.status in (200, 400, 503) and r.header("content-type") == "application/json"
        json.loads(r.body)


def test_200_clients_get_every_snapshot_and_a_non_reader_costs_nothing():
    n_clients, n_msgs = 200, 6
    with Daemon("--interval", str(INTERVAL), "--no-db") as d:
        first_snapshot(d)
        # a raw client that never reads, with a small window so the pushback comes early
        lazy, hs = ws_connect(d.port, rcvbuf=2048)
        assert lazy is not None, hs
        rss0 = rss_kb(d.proc.pid)

        async def client(i, results):
            async with websockets.connect(f"ws://127.0.0.1:{d.port}/ws", max_size=None,
                                          open_timeout=20, ping_interval=None) as ws:
                got = []
                for _ in range(n_msgs):
                    m = await recv_json(ws, INTERVAL * 6)
                    got.append((m["seq"], time.monotonic()))
                results[i] = got

        async def run():
            results = {}
            await asyncio.gather(*(client(i, results) for i in range(n_clients)))
            return results

        results = asyncio.run(run())
        rss1 = rss_kb(d.proc.pid)
        assert len(results) == n_clients
        for i, got in results.items():
            seqs = [s for s, _ in got]
            # the first one is the latest at connect; after it, every snapshot, in order
            assert seqs[1:] == list(range(seqs[1], seqs[1] + n_msgs - 1)), (i, seqs)
        # the never-reading client did not hold the others back: every client's cadence
        # stayed one per interval
        for got in results.values():
            t = [ts for _, ts in got[1:]]
            assert max(b - a for a, b in zip(t, t[1:])) < INTERVAL * 3
        # 200 clients and a stuck one cost a few MiB, not a growing queue
        assert rss1 - rss0 < 32 * 1024, (rss0, rss1)

        # the non-reader is hung up after a few intervals once TCP pushes back
        def hung_up():
            return healthz(d.port)["server"]["websocket_stalled"] >= 1
        assert wait_for(hung_up, 60, step=0.5), healthz(d.port)
        lazy.close()
        h = healthz(d.port)["server"]
        assert h["websocket_skipped"] >= 0 and h["websocket_messages"] >= n_clients * (n_msgs - 1)


def test_sigterm_and_sigint_stop_within_a_second():
    for sig in (signal.SIGTERM, signal.SIGINT):
        with Daemon("--interval", "5", "--no-db") as d:
            s, _ = ws_connect(d.port)  # a connected client must not hold shutdown up
            t0 = time.monotonic()
            d.proc.send_signal(sig)
            rc = d.proc.wait(timeout=5)
            assert time.monotonic() - t0 < 1.0
            assert rc == 0
            if s:
                s.close()


def test_second_instance_on_the_same_port_fails_clearly():
    with Daemon("--interval", "5", "--no-db") as d:
        p = subprocess.run([PW_BIN, "--listen", f"127.0.0.1:{d.port}", "--no-db"], capture_output=True, text=True,
                           timeout=20)
        assert p.returncode == 1
        assert "already in use" in p.stderr
        assert get(d.port, "/healthz").status == 200  # the first one is unharmed


def test_bad_listen_values_are_refused():
    for listen in ("nonsense", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "example.com:80"):
        p = subprocess.run([PW_BIN, "--listen", listen, "--no-db"], capture_output=True, text=True, timeout=20)
        assert p.returncode == 1, listen
        assert "--listen" in p.stderr


@pytest.mark.skipif(not netns_available(), reason="needs root and ip netns")
def test_default_listen_is_loopback_only():
    # a fresh namespace: its port 9464 is certainly free, whatever runs beside us
    with NetNS() as ns:
        p = subprocess.Popen(ns.exec_cmd([PW_BIN, "--no-db", "--interval", "5"]), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        try:
            def listening():
                out = subprocess.run(ns.exec_cmd(["ss", "-Hltnp"]), capture_output=True, text=True).stdout
                return out if "perfwatch" in out else None
            out = wait_for(listening, 10)
            assert out, "perfwatch never listened"
            socks = [ln.split()[3] for ln in out.splitlines() if "perfwatch" in ln]
            assert socks == ["127.0.0.1:9464"], out
        finally:
            p.send_signal(signal.SIGTERM)
            log = p.communicate(timeout=10)[0]
        assert "http://127.0.0.1:9464/" in log


def test_before_the_first_snapshot():
    # a long interval: the first snapshot comes only after one interval
    with Daemon("--interval", "30", "--no-db") as d:
        r = get(d.port, "/api/snapshot")
        assert r.status == 503 and json.loads(r.body)["error"]
        h = healthz(d.port)
        assert h["status"] == "starting" and h["snapshot"] is None
        assert get(d.port, "/metrics").status == 200
        s, r = ws_connect(d.port)
        assert s is not None, r  # connected; its first snapshot comes when there is one
        s.close()


def _ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")
def test_ipv6_loopback_listen():
    port = free_port()
    p = subprocess.Popen([PW_BIN, "--listen", f"[::1]:{port}", "--no-db", "--interval", "5"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        def answered():
            try:
                with socket.create_connection(("::1", port), timeout=1) as s:
                    s.sendall(f"GET /healthz HTTP/1.1\r\nHost: [::1]:{port}\r\nConnection: close\r\n\r\n".encode())
                    return s.recv(4096).startswith(b"HTTP/1.1 200")
            except OSError:
                return False
        assert wait_for(answered, 10)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    finally:
        p.send_signal(signal.SIGTERM)
        err = p.communicate(timeout=10)[1]
    assert f"http://[::1]:{port}/" in err
