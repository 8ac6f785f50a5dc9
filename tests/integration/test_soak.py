"""Soak: --interval 0.1, one WebSocket watcher reading every snapshot and 20 clients
connecting and disconnecting all the time (some politely with a close frame, some by
dropping the socket). Checked: no seq gap at the watcher, no snapshot with an error,
nothing at warning level in the log, open fds back where they were, RSS flat.

Two runs: without history, where RSS must stay flat; and with history, whose open raw
chunk keeps the current clock hour's values in memory until the hour is sealed (about
1.1 KB per snapshot with this VM's ~125 series: 10 KB/s at this interval, by design), so
there RSS may grow by that much and no more.

`make test` runs each for PW_SOAK_SECONDS (45 by default); `make soak` for 10 minutes,
printing both curves and writing them to PW_SOAK_CSV (one file per run).
"""
import json
import os
import random
import socket
import struct
import threading
import time

import psutil
import pytest

from conftest import Daemon
from ops_testlib import api_json, log_problems, needs_history, needs_server

SECONDS = float(os.environ.get("PW_SOAK_SECONDS", "45"))
CHURN_CLIENTS = 20
SAMPLE_EVERY_S = 2.0
TRANSIENT_FDS = 2  # a /proc file or netlink socket a collector has open at the moment of a sample
RSS_GROWTH_LIMIT = 1 << 20  # bytes, second quarter -> last quarter (median to median)
HISTORY_BYTES_PER_SNAPSHOT = 2048  # the open chunk's share, with room (measured: ~1.1 KB)


class SeqWatcher(threading.Thread):
    """Reads every snapshot; keeps only seq and whether it carried errors."""

    def __init__(self, port):
        super().__init__(daemon=True)
        from server_testlib import ws_connect
        self.ws, r = ws_connect(port)
        assert self.ws, r
        self.seqs, self.with_errors, self.deadline_misses, self.late = [], [], 0, 0
        self.ended = None  # why it stopped reading before it was told to
        self.pings = 0
        self.done = threading.Event()
        self.start()

    def run(self):
        from server_testlib import ws_frame, ws_read_frame
        try:
            while not self.done.is_set():
                try:
                    op, payload = ws_read_frame(self.ws, timeout=5)
                except (TimeoutError, socket.timeout):
                    self.ended = "no snapshot for 5 s"  # also leaves a frame half read: stop
                    return
                if op == 8:
                    self.ended = f"closed by the server: {payload[:2].hex()}"
                    return
                if op == 9:
                    # lws pings a peer it has not heard from for 300 s and hangs up 10 s
                    # later without a pong (browsers answer by themselves)
                    self.ws.sendall(ws_frame(10, payload))
                    self.pings += 1
                    continue
                if op == 1:
                    s = json.loads(payload)
                    self.seqs.append(s["seq"])
                    self.late = s["self"]["snapshots_late"] if "self" in s else self.late
                    # a collector past its 80 ms deadline on a loaded machine is reported, not
                    # an error; anything else in errors is
                    other = {k: v for k, v in s["errors"].items() if "did not finish within its deadline" not in v}
                    self.deadline_misses += len(s["errors"]) - len(other)
                    if other:
                        self.with_errors.append((s["seq"], other))
        except (ConnectionError, OSError) as e:
            self.ended = f"connection lost: {e!r}"
        except Exception as e:  # noqa: BLE001 - whatever it was, the test must see it
            self.ended = f"watcher failed: {e!r}"


class Churn(threading.Thread):
    """Connects, reads a few snapshots, leaves (close frame or not), again and again."""

    def __init__(self, port, seed, stop):
        super().__init__(daemon=True)
        self.port, self.rng, self.stop = port, random.Random(seed), stop
        self.sessions = self.failures = 0
        self.connected = False
        self.start()

    def run(self):
        from server_testlib import ws_connect, ws_frame, ws_read_frame
        while not self.stop.is_set():
            try:
                ws, r = ws_connect(self.port, timeout=5)
            except OSError:
                ws = None
            if not ws:
                self.failures += 1
                time.sleep(0.5)
                continue
            self.connected = True
            try:
                for _ in range(self.rng.randrange(1, 20)):
                    ws_read_frame(ws, timeout=5)
                if self.rng.random() < 0.5:
                    ws.sendall(ws_frame(8, struct.pack("!H", 1000)))
            except (ConnectionError, OSError):
                self.failures += 1
            finally:
                ws.close()
                self.connected = False
            self.sessions += 1
            time.sleep(self.rng.uniform(0, 0.5))


def steady_fds(proc):
    """The process's fd count with collectors' short-lived fds filtered out: the least of a few looks."""
    counts = []
    for _ in range(10):
        counts.append(proc.num_fds())
        time.sleep(0.03)
    return min(counts)


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


@needs_server
@pytest.mark.parametrize("history", [False, pytest.param(True, marks=needs_history)], ids=["no-db", "history"])
def test_soak(tmp_path, history):
    samples = []  # (t, rss_bytes, fds, clients connected)
    db = ["--db", str(tmp_path / "history.db")] if history else ["--no-db"]
    with Daemon("--interval", "0.1", *db) as d:
        proc = psutil.Process(d.proc.pid)
        watcher = SeqWatcher(d.port)
        time.sleep(1)
        fds_before = steady_fds(proc)
        stop = threading.Event()
        churn = [Churn(d.port, i, stop) for i in range(CHURN_CLIENTS)]
        t0 = time.monotonic()
        while time.monotonic() - t0 < SECONDS:
            time.sleep(SAMPLE_EVERY_S)
            samples.append((round(time.monotonic() - t0, 1), proc.memory_info().rss, proc.num_fds(),
                            sum(c.connected for c in churn)))
        last_published = api_json(d, "/api/snapshot")["seq"]
        stalled = api_json(d, "/healthz")["server"]["websocket_stalled"]
        stop.set()
        for c in churn:
            c.join(timeout=10)
        time.sleep(1)
        fds_after = steady_fds(proc)
        watcher.done.set()
        watcher.join(timeout=5)
        assert d.stop() == 0
        log = d.read_log()

    csv = os.environ.get("PW_SOAK_CSV")
    if csv:
        with open(csv.replace(".csv", "-history.csv" if history else "-no-db.csv"), "w") as f:
            f.write("t_s,rss_bytes,open_fds,churn_clients_connected\n")
            f.writelines(f"{t},{rss},{fds},{n}\n" for t, rss, fds, n in samples)
    sessions = sum(c.sessions for c in churn)
    print(f"\nsoak {'with' if history else 'without'} history, {SECONDS:.0f} s: {len(watcher.seqs)} snapshots, {sessions} client sessions, "
          f"{sum(c.failures for c in churn)} client failures, {watcher.late} late snapshots, "
          f"{watcher.deadline_misses} collector deadline misses (load average {os.getloadavg()[0]:.1f})")
    print("t_s   rss_KiB  fds  clients")
    step = max(1, len(samples) // 30)
    for t, rss, fds, n in samples[::step] + ([samples[-1]] if (len(samples) - 1) % step else []):
        print(f"{t:5.0f} {rss >> 10:8d} {fds:4d} {n:3d}")
    print(f"fds before churn {fds_before}, after {fds_after}; watcher saw seq {watcher.seqs[:1]}..{watcher.seqs[-1:]}, "
          f"last published {last_published}, clients hung up as stalled {stalled}, pings answered {watcher.pings}")

    seqs = watcher.seqs
    assert watcher.ended is None, watcher.ended
    assert seqs[-1] >= last_published - 1, "the watcher fell behind or was cut off"
    # how many of the 10 ticks a second were taken depends on the shared machine's load
    # (a cycle that runs late skips ticks): a benchmark matter, here only a sanity bound
    assert len(seqs) >= SECONDS * 10 * 0.25, len(seqs)
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "a seq gap at the watcher"
    assert not watcher.with_errors, watcher.with_errors[:5]
    assert log_problems(log) == [], log
    assert sessions >= CHURN_CLIENTS * SECONDS / 2, sessions  # they did come and go
    # flat: no fd left behind by 20 clients coming and going, RSS not creeping
    assert fds_after <= fds_before + TRANSIENT_FDS, (fds_before, fds_after)
    q = max(1, len(samples) // 4)
    # during the churn: a client that has just closed its end is no longer counted while the
    # server may not have closed its own yet (and one mid-handshake is not counted yet), so
    # one sample can read a few over; a leak raises the floor for good, so each quarter's
    # lowest reading must stay level
    for i in range(0, len(samples), q):
        quarter = samples[i:i + q]
        assert min(s[2] - s[3] for s in quarter) <= fds_before + TRANSIENT_FDS, (fds_before, quarter)
    rss_q2, rss_q4 = median([s[1] for s in samples[q:2 * q]]), median([s[1] for s in samples[-q:]])
    allowed = RSS_GROWTH_LIMIT
    if history:  # the snapshots between the two quarters' middles, each in the open chunk
        allowed += HISTORY_BYTES_PER_SNAPSHOT * len(seqs) * (2.5 / 4)
    print(f"RSS second quarter {rss_q2 >> 10} KiB -> last quarter {rss_q4 >> 10} KiB (allowed +{allowed / 1024:.0f} KiB)")
    assert rss_q4 - rss_q2 < allowed, (rss_q2, rss_q4, allowed)
