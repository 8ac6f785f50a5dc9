#!/usr/bin/python3
"""Server benchmark piece (issue #5): N WebSocket clients on 127.0.0.1.

Figures:
  - "snapshot ready -> received": the daemon stamps each snapshot with `published_at`
    (CLOCK_REALTIME when publish() handed it to the server thread); a client's receive
    time is taken when epoll reports its socket readable, before any parsing, so Python's
    own per-client work does not count. Median and p99 over every message of every client.
  - daemon CPU per broadcast: the on-CPU time of the server thread ("pw-server", from
    /proc/PID/task/TID/schedstat, nanoseconds) over the window, divided by the snapshots
    broadcast in it, plus the daemon thread's publish cost (the snapshot's own
    self.outputs_cpu_ns: copying the JSON and rendering /metrics once).

Clients are raw sockets driven by one epoll loop, so 100 of them cost the measuring side
little. Prints one JSON object ({"rows": [...]}, the contract of scripts/bench/pieces.py)
and a human summary on stderr.

    scripts/bench/server_latency.py [--clients 100] [--interval 1] [--snapshots 30]
"""
import argparse
import base64
import json
import os
import select
import signal
import socket
import statistics
import struct
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
        return json.loads(r.read())


def ws_open(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise RuntimeError("closed during the handshake")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(head.decode(errors="replace"))
    s.setblocking(False)
    return s, rest


class Client:
    """Chunks are only stored while measuring (with the moment epoll reported them) and
    parsed afterwards: parsing 100 snapshots of JSON inside the loop would delay the
    timestamps of the clients served after it."""

    def __init__(self, sock, rest):
        self.sock = sock
        self.buf = rest
        self.frame_start = 0.0 if not rest else time.time()
        self.chunks = []   # (t, bytes), raw, while measuring
        self.samples = []  # (seq, latency_s)

    def parse(self):
        for t, data in self.chunks:
            self.feed(data, t)
        self.chunks = []

    def feed(self, data, t):
        if not self.buf:
            self.frame_start = t
        self.buf += data
        while len(self.buf) >= 2:
            n = self.buf[1] & 0x7F
            off = 2
            if n == 126:
                if len(self.buf) < 4:
                    return
                n = struct.unpack("!H", self.buf[2:4])[0]
                off = 4
            elif n == 127:
                if len(self.buf) < 10:
                    return
                n = struct.unpack("!Q", self.buf[2:10])[0]
                off = 10
            if len(self.buf) < off + n:
                return
            op, payload = self.buf[0] & 0x0F, self.buf[off:off + n]
            self.buf = self.buf[off + n:]
            if op == 1:
                m = json.loads(payload)
                self.samples.append((m["seq"], self.frame_start - m["published_at"]))
            # a following frame that was already in the buffer arrived at the same moment


def server_tid(pid):
    for task in Path(f"/proc/{pid}/task").iterdir():
        if (task / "comm").read_text().strip() == "pw-server":
            return task.name
    raise RuntimeError("no pw-server thread")


def runtime_ns(pid, tid):
    return int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    k = min(len(sorted_vals) - 1, max(0, int(round(p / 100.0 * (len(sorted_vals) - 1)))))
    return sorted_vals[k]


def main():
    quick = os.environ.get("BENCH_QUICK") == "1"
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get("PW_BIN", str(REPO / "build" / "perfwatch")))
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--snapshots", type=int, default=10 if quick else 30)
    a = ap.parse_args()

    if not os.access(a.bin, os.X_OK):
        print(f"no perfwatch binary at {a.bin} (make first)", file=sys.stderr)
        return 77
    port = free_port()
    daemon = subprocess.Popen([a.bin, "--listen", f"127.0.0.1:{port}", "--no-db", "--interval", str(a.interval),
                               "--max-clients", str(a.clients + 32)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 30
        while True:
            try:
                get_json(port, "/api/snapshot")
                break
            except Exception:
                if daemon.poll() is not None or time.time() > deadline:
                    raise RuntimeError("perfwatch did not start: " + daemon.stderr.read().decode(errors="replace"))
                time.sleep(0.1)
        tid = server_tid(daemon.pid)

        ep = select.epoll()
        clients = {}
        for _ in range(a.clients):
            s, rest = ws_open(port)
            c = Client(s, rest)
            clients[s.fileno()] = c
            ep.register(s.fileno(), select.EPOLLIN)

        # let every client get its "latest on connect" message, then measure whole broadcasts
        def pump(until):
            while time.time() < until:
                events = ep.poll(max(0.0, until - time.time()))
                t = time.time()
                for fd, _ in events:
                    c = clients[fd]
                    try:
                        data = c.sock.recv(1 << 20)
                    except BlockingIOError:
                        continue
                    if not data:
                        raise RuntimeError("the daemon closed a client")
                    c.chunks.append((t, data))

        pump(time.time() + a.interval * 1.5)
        for c in clients.values():
            c.parse()
            c.samples.clear()
        h0 = get_json(port, "/healthz")["server"]
        rt0 = runtime_ns(daemon.pid, tid)
        pump(time.time() + a.interval * a.snapshots + a.interval * 0.5)
        rt1 = runtime_ns(daemon.pid, tid)
        h1 = get_json(port, "/healthz")["server"]
        for c in clients.values():
            c.parse()
        snap = get_json(port, "/api/snapshot")
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=10)
        except subprocess.TimeoutExpired:
            daemon.kill()

    lat = sorted(x for c in clients.values() for _, x in c.samples)
    broadcasts = h1["broadcasts"] - h0["broadcasts"]
    counts = [len(c.samples) for c in clients.values()]
    thread_ms = (rt1 - rt0) / 1e6 / max(1, broadcasts)
    publish_ms = snap.get("self", {}).get("outputs_cpu_ns", 0) / 1e6
    per_broadcast = thread_ms + publish_ms
    med, p99 = pct(lat, 50) * 1e3, pct(lat, 99) * 1e3
    msg_bytes = len(json.dumps(snap))

    rows = [
        {"figure": f"snapshot ready → received, {a.clients} WebSocket clients (median / p99)",
         "value": f"{med:.2f} ms / {p99:.2f} ms", "target": "p99 < 5 ms", "met": p99 < 5.0,
         "note": f"{len(lat)} messages over {broadcasts} broadcasts, {msg_bytes} B each, max {lat[-1] * 1e3:.2f} ms"
         if lat else "no messages"},
        {"figure": f"daemon CPU per broadcast, {a.clients} clients",
         "value": f"{per_broadcast:.3f} ms", "target": "< 1 ms", "met": per_broadcast < 1.0,
         "note": f"server thread {thread_ms:.3f} ms + publish {publish_ms:.3f} ms; "
                 f"every client got {min(counts) if counts else 0}..{max(counts) if counts else 0} of {broadcasts}"},
    ]
    print(f"latency median {med:.3f} ms, p99 {p99:.3f} ms, max {lat[-1] * 1e3 if lat else float('nan'):.3f} ms "
          f"({len(lat)} samples); CPU per broadcast {per_broadcast:.3f} ms "
          f"(server thread {thread_ms:.3f}, publish {publish_ms:.3f})", file=sys.stderr)
    out = os.environ.get("BENCH_OUT")
    if out:
        Path(out, "result.json").write_text(json.dumps({"rows": rows}, indent=1))
    print(json.dumps({"rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
