"""The attack inputs of ../shared/HARDENING.md against a real daemon, each with its expected
answer, run against the normal build and the ASan+UBSan build (PW_SAN_BIN). After each
test the daemon must still answer and, under the sanitizers, exit cleanly."""
import json
import os
import socket
import threading
import time

import pytest

from conftest import PW_BIN, PW_SAN_BIN, Daemon
from server_testlib import (SECRET, get, healthz, make_web_root, raw_http, rss_kb, wait_for, ws_close_code,
                            ws_connect, ws_frame, ws_read_frame)

BINARIES = [pytest.param(PW_BIN, id="gcc")]
if os.path.exists(PW_SAN_BIN):
    BINARIES.append(pytest.param(PW_SAN_BIN, id="asan"))


class _Runner:
    """Starts daemons of one binary (normal or sanitized) and checks each one's exit."""

    def __init__(self, binary, root):
        self.binary, self.root, self.started = binary, root, []

    def start(self, *extra):
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=1",
                   UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
        d = Daemon("--interval", "0.5", "--no-db", "--web-root", str(self.root), "--log-level", "debug", *extra,
                   binary=self.binary, env=env, ready_timeout=40)
        d.__enter__()
        self.started.append(d)
        return d

    def finish(self):
        for d in self.started:
            try:
                assert d.proc.poll() is None, d.read_log()
                assert get(d.port, "/healthz").status == 200
            finally:
                d.__exit__(None, None, None)
            # a clean exit: no sanitizer report, no leak
            assert d.proc.returncode == 0, d.read_log()[-4000:]
            assert "ERROR: AddressSanitizer" not in d.read_log()
            assert "runtime error" not in d.read_log()


@pytest.fixture(params=BINARIES)
def runner(request, tmp_path):
    r = _Runner(request.param, make_web_root(tmp_path))
    try:
        yield r
    finally:
        r.finish()


@pytest.fixture
def daemon(runner):
    return runner.start()


def no_secret(r):
    return SECRET.encode() not in r.raw and b"root:" not in r.raw


@pytest.mark.parametrize("path", [
    "/../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/..%2f..%2fetc/passwd",
    "/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/../secret.txt",
    "/sub/../../secret.txt",
    "/out-abs.txt",
    "/out-rel.txt",
    "/etcdir/passwd",
    "/.hidden",
    "/%2ehidden",
    "/index.html%00.js",
    "//etc/passwd",
    "/\\..\\secret.txt",
    "http://evil.example/etc/passwd",
])
def test_path_traversal_never_leaves_the_web_root(daemon, path):
    r = raw_http(daemon.port, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode(), read_all=False)
    assert no_secret(r), r
    # refused with a status, or (for a NUL in the path) the connection dropped by the parser
    assert r.status in (400, 403, 404) or (r.status is None and r.closed), r


def test_crlf_in_the_request_line_injects_nothing(daemon):
    for line in (b"GET /%0d%0aSet-Cookie:%20pwned=1%0d%0aX-Evil:%201 HTTP/1.1",
                 b"GET /healthz%0d%0aX-Evil:%201 HTTP/1.1",
                 b"GET /a%0db HTTP/1.1",
                 b"GET /?x=%0d%0aX-Evil:%201 HTTP/1.1"):
        r = raw_http(daemon.port, line + b"\r\nHost: 127.0.0.1\r\n\r\n")
        assert r.status == 400, (line, r)
        assert "set-cookie" not in r.headers and "x-evil" not in r.headers
    r = raw_http(daemon.port, b"GET /metrics\r\nX-Evil: 1 HTTP/1.1\r\n\r\n")
    assert r.status != 200 and "x-evil" not in r.headers
    # the log line about it is escaped: no line of the log starts with the injected text
    time.sleep(0.2)
    for line in daemon.read_log().splitlines():
        assert not line.startswith("Set-Cookie") and not line.startswith("X-Evil"), line


def test_oversized_and_numerous_headers_are_refused_quickly(daemon):
    rss0 = rss_kb(daemon.proc.pid)
    for _ in range(20):
        t0 = time.monotonic()
        r = raw_http(daemon.port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n")
        assert time.monotonic() - t0 < 2
        assert r.status in (400, 431) or r.closed, r
        assert r.status != 200
        many = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 40) for i in range(200))
        t0 = time.monotonic()
        r = raw_http(daemon.port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + many + b"\r\n")
        assert time.monotonic() - t0 < 2
        assert r.status in (400, 431) or r.closed, r
        assert r.status != 200
    assert rss_kb(daemon.proc.pid) - rss0 < 2048


def test_a_long_url_is_refused(daemon):
    r = raw_http(daemon.port, b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert r.status in (400, 414, 431) or r.closed, r
    assert r.status != 200
    r = get(daemon.port, "/" + "b" * 300 + ".html")
    assert r.status in (404, 414), r


@pytest.mark.parametrize("cl,expect", [("-1", 400), ("99999999999", 413), ("12", 413), ("1e3", 400)])
def test_request_bodies_are_refused(daemon, cl, expect):
    t0 = time.monotonic()
    r = raw_http(daemon.port, f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {cl}\r\n\r\n".encode())
    assert time.monotonic() - t0 < 2
    assert r.status == expect and r.closed, r


def test_methods_and_transfer_encoding_are_refused(daemon):
    r = raw_http(daemon.port, b"POST /api/snapshot HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999\r\n\r\n")
    assert r.status == 405 and r.header("allow") == "GET", r
    r = raw_http(daemon.port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    assert r.status == 400, r
    for m in (b"PUT", b"DELETE", b"OPTIONS", b"PATCH", b"HEAD"):
        r = raw_http(daemon.port, m + b" /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert r.status in (400, 405) or r.closed, (m, r)
    r = raw_http(daemon.port, b"CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n")
    assert r.status != 200 and (r.closed or r.status in (400, 405)), r
    r = raw_http(daemon.port, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
    assert r.status != 200 and r.closed, r


def test_h2c_and_other_upgrades_are_refused(daemon):
    r = raw_http(daemon.port, b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                 b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n")
    assert r.status in (400, 403) or r.closed, r
    assert r.status != 101
    # an invalid Upgrade (the CVE-2025-11677 path), then a second request on the connection
    r = raw_http(daemon.port, b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: bogus\r\n\r\n"
                 b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
    assert r.status in (400, 403) or r.closed, r
    assert b"101" not in r.raw.split(b"\r\n")[0]


def test_dns_rebinding_host_is_refused(daemon):
    r = get(daemon.port, "/api/snapshot", headers={"Host": f"evil.example:{daemon.port}"})
    assert r.status == 403, r
    s, r = ws_connect(daemon.port, headers={"Host": f"evil.example:{daemon.port}",
                                            "Origin": f"http://evil.example:{daemon.port}"})
    assert s is None and r.status == 403, r
    assert get(daemon.port, "/healthz", headers={"Host": "localhost:1234"}).status == 200


def test_cross_origin_websocket_is_refused(daemon):
    s, r = ws_connect(daemon.port, headers={"Origin": "http://evil.example"})
    assert s is None and r.status == 403, r
    s, r = ws_connect(daemon.port, headers={"Origin": "null"})
    assert s is None and r.status == 403, r
    s, r = ws_connect(daemon.port, headers={"Origin": f"http://127.0.0.1:{daemon.port}"})
    assert s is not None and r.status == 101, r
    s.close()
    s, r = ws_connect(daemon.port, path="/elsewhere")
    assert s is None and r.status in (403, 404), r
    assert healthz(daemon.port)["server"]["requests_rejected"]["origin"] >= 2


def test_websocket_frame_bombs_are_closed(daemon):
    rss0 = rss_kb(daemon.proc.pid)
    # one 1 MiB frame
    s, r = ws_connect(daemon.port)
    assert s is not None, r
    try:
        s.sendall(ws_frame(2, os.urandom(1 << 20)))
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert ws_close_code(s) in (1009, None)
    s.close()
    # 100000 one-byte continuation fragments
    s, r = ws_connect(daemon.port)
    frames = ws_frame(1, b"a", fin=False) + b"".join(ws_frame(0, b"a", fin=False) for _ in range(100000))
    t0 = time.monotonic()
    try:
        s.sendall(frames)
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert ws_close_code(s) in (1009, None)
    assert time.monotonic() - t0 < 5
    s.close()
    # a ping over the 125-byte limit of control frames
    s, r = ws_connect(daemon.port)
    s.sendall(ws_frame(9, b"p" * 200))
    assert ws_close_code(s) in (1002, None)
    s.close()
    # a continuation without a start, a reserved opcode, a fragmented control frame
    for bad in (ws_frame(0, b"x"), ws_frame(3, b"x"), ws_frame(9, b"x", fin=False)):
        s, r = ws_connect(daemon.port)
        s.sendall(bad)
        assert ws_close_code(s) in (1002, None)
        s.close()
    # small messages are read and ignored (lws 4.1 does not insist on the client's
    # mask, so an unmasked one is just another small message); the stream goes on
    s, r = ws_connect(daemon.port)
    s.sendall(ws_frame(1, b"hello"))
    s.sendall(ws_frame(1, b"x", mask=False))
    s.sendall(ws_frame(9, b"ping"))
    seen = set()
    deadline = time.time() + 5
    while time.time() < deadline and not ({1, 10} <= seen):
        op, payload = ws_read_frame(s)
        seen.add(op)
        if op == 1:
            json.loads(payload)
    assert {1, 10} <= seen  # a snapshot and the pong
    s.close()
    assert rss_kb(daemon.proc.pid) - rss0 < 4096
    assert healthz(daemon.port)["server"]["websocket_bad_messages"] >= 2


def test_slowloris_is_timed_out_and_fresh_clients_are_served(daemon):
    socks = []
    for _ in range(200):  # under the default --max-clients 256
        s = socket.create_connection(("127.0.0.1", daemon.port))
        s.sendall(b"GET / HTTP/1.1\r\n")
        socks.append(s)
    stop = threading.Event()

    def drip():
        while not stop.wait(1.0):
            for s in socks:
                try:
                    s.sendall(b"X")
                except OSError:
                    pass

    t = threading.Thread(target=drip)
    t.start()
    try:
        for _ in range(3):
            t0 = time.monotonic()
            assert get(daemon.port, "/healthz", timeout=2).status == 200
            assert time.monotonic() - t0 < 1.0
            time.sleep(0.5)

        def all_closed():
            closed = 0
            for s in socks:
                s.settimeout(0.01)
                try:
                    if s.recv(4096) == b"":
                        closed += 1
                except socket.timeout:
                    pass
                except OSError:
                    closed += 1
            return closed == len(socks)
        assert wait_for(all_closed, 15, step=0.5)
    finally:
        stop.set()
        t.join()
        for s in socks:
            s.close()


def test_connections_past_the_cap_are_refused(runner):
    daemon = runner.start("--max-clients", "64")
    held = []
    refused = 0
    for _ in range(80):
        s, r = ws_connect(daemon.port, timeout=2)
        if s is None:
            refused += 1
        else:
            held.append(s)
    assert len(held) <= 64 and refused >= 16
    for s in held:
        s.close()
    # the counter shows it, and the server is back to normal once they left
    assert wait_for(lambda: get(daemon.port, "/healthz").status == 200, 5)
    assert healthz(daemon.port)["server"]["connections_rejected"] >= 16


def test_concurrent_scrapes_are_capped(daemon):
    # clients that pipeline scrapes and never read end up holding a response each
    hogs = []
    req = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 400
    for _ in range(12):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        s.connect(("127.0.0.1", daemon.port))
        s.setblocking(False)
        try:
            s.send(req)
        except BlockingIOError:
            pass
        hogs.append(s)
    time.sleep(1.0)
    r = get(daemon.port, "/metrics")
    assert r.status == 503, r
    assert healthz(daemon.port)["server"]["scrapes_rejected"] >= 1
    for s in hogs:
        s.close()
    assert wait_for(lambda: get(daemon.port, "/metrics").status == 200, 5)
    # no label is made from request data
    body = get(daemon.port, "/metrics?evil=1", headers={"User-Agent": "evil-agent"}).body
    assert b"evil" not in body
