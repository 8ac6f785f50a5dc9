"""Helpers of the server tests (test_server_*.py): raw HTTP and WebSocket over sockets,
a web root with traps in it, network namespaces with a veth pair, process RSS.

Raw sockets on purpose: the attack inputs are what a well-behaved client library refuses
to send.
"""
import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

from conftest import Daemon, PW_BIN, free_port

SECRET = "top-secret-outside-the-web-root"


def make_web_root(base: Path):
    """A web root with an index, a sub-directory, a dotfile and symlinks in and out."""
    root = base / "web"
    (root / "sub").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>perfwatch</title>index-page\n")
    (root / "app.js").write_text("console.log('app');\n")
    (root / "sub" / "index.html").write_text("sub-index\n")
    (root / ".hidden").write_text(SECRET + "\n")
    (base / "secret.txt").write_text(SECRET + "\n")
    os.symlink(base / "secret.txt", root / "out-abs.txt")
    os.symlink("../secret.txt", root / "out-rel.txt")
    os.symlink("/etc", root / "etcdir")
    os.symlink("app.js", root / "in.js")
    return root


class Response:
    def __init__(self, raw: bytes, closed: bool):
        self.raw = raw
        self.closed = closed
        self.status = None
        self.headers = {}
        self.body = b""
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        if lines and lines[0].startswith(b"HTTP/1."):
            parts = lines[0].split(b" ", 2)
            try:
                self.status = int(parts[1])
            except (IndexError, ValueError):
                self.status = None
            for ln in lines[1:]:
                k, _, v = ln.partition(b":")
                self.headers.setdefault(k.strip().lower().decode("latin-1"), []).append(v.strip().decode("latin-1"))

    def header(self, name):
        v = self.headers.get(name.lower())
        return v[0] if v else None

    def __repr__(self):
        return f"<Response {self.status} closed={self.closed} {self.raw[:200]!r}>"


def raw_http(port, data: bytes, host="127.0.0.1", timeout=3.0, read_all=True):
    """Sends raw bytes and reads until the server closes or `timeout` passes."""
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(data)
        return read_response(s, timeout, read_all)
    finally:
        s.close()


def read_response(s, timeout=3.0, read_all=True):
    buf = b""
    closed = False
    deadline = time.time() + timeout
    while time.time() < deadline:
        s.settimeout(max(0.05, deadline - time.time()))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except (ConnectionResetError, BrokenPipeError):
            closed = True
            break
        if not chunk:
            closed = True
            break
        buf += chunk
        if not read_all and b"\r\n\r\n" in buf:
            head, _, body = buf.partition(b"\r\n\r\n")
            r = Response(buf, False)
            cl = r.header("content-length")
            if cl is not None and len(body) >= int(cl):
                break
    return Response(buf, closed)


def get(port, path, headers=None, host="127.0.0.1", timeout=3.0):
    """A well-formed GET on a fresh connection (Connection: close)."""
    hdrs = {"Host": f"{host}:{port}", "Connection": "close"}
    hdrs.update(headers or {})
    req = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
    return raw_http(port, req.encode(), host=host, timeout=timeout)


# ------------------------------------------------------------------ WebSocket by hand

class WSock(socket.socket):
    """A socket that keeps the bytes read past the last frame."""
    pending = b""


def ws_connect(port, path="/ws", headers=None, host="127.0.0.1", timeout=3.0, rcvbuf=None):
    """Opens a WebSocket by hand; returns (socket or None, handshake Response)."""
    s = WSock(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect((host, port))
    key = base64.b64encode(os.urandom(16)).decode()
    hdrs = {
        "Host": f"{host}:{port}",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": key,
        "Sec-WebSocket-Version": "13",
    }
    hdrs.update(headers or {})
    req = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items() if v is not None) + "\r\n"
    s.sendall(req.encode())
    buf = b""
    deadline = time.time() + timeout
    try:
        while b"\r\n\r\n" not in buf and time.time() < deadline:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    head, sep, rest = buf.partition(b"\r\n\r\n")
    r = Response(head + sep, not sep)
    if r.status != 101:
        s.close()
        return None, r
    s.pending = rest  # frame bytes that came with the handshake
    return s, r


def ws_frame(opcode, payload=b"", fin=True, mask=True, length_override=None):
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload) if length_override is None else length_override
    m = 0x80 if mask else 0
    if n < 126:
        hdr = struct.pack("!BB", b0, m | n)
    elif n < 65536:
        hdr = struct.pack("!BBH", b0, m | 126, n)
    else:
        hdr = struct.pack("!BBQ", b0, m | 127, n)
    if not mask:
        return hdr + payload
    key = os.urandom(4)
    masked = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
    return hdr + key + masked


def _recv_exact(s, n):
    buf = s.pending
    while len(buf) < n:
        chunk = s.recv(max(65536, n - len(buf)))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    s.pending = buf[n:]
    return buf[:n]


def ws_read_frame(s, timeout=3.0):
    """Returns (opcode, payload) of the next frame; raises ConnectionError when closed."""
    s.settimeout(timeout)
    b0, b1 = _recv_exact(s, 2)
    n = b1 & 0x7F
    if n == 126:
        (n,) = struct.unpack("!H", _recv_exact(s, 2))
    elif n == 127:
        (n,) = struct.unpack("!Q", _recv_exact(s, 8))
    return b0 & 0x0F, _recv_exact(s, n)


def ws_close_code(s, timeout=5.0):
    """Reads until a close frame (its code) or the end of the connection (None); raises
    AssertionError when the connection is still open after `timeout`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            op, payload = ws_read_frame(s, timeout=max(0.1, deadline - time.time()))
        except socket.timeout:
            break
        except (ConnectionError, OSError):
            return None
        if op == 8:
            return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
    raise AssertionError("connection still open")


# ------------------------------------------------------------------ processes

def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def healthz(port, host="127.0.0.1", headers=None):
    r = get(port, "/healthz", host=host, headers=headers)
    assert r.status == 200, r
    return json.loads(r.body)


def wait_for(pred, timeout, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


class NetNS:
    """A network namespace joined to this one by a veth pair.

    host side 10.<a>.<b>.1/30, namespace side 10.<a>.<b>.2/30; lo is up in the namespace.
    """

    def __init__(self):
        tag = uuid.uuid4().hex[:8]
        self.name = f"pwt-{tag}"
        self.veth_host = f"pwh{tag[:8]}"
        self.veth_ns = f"pwn{tag[:8]}"
        n = int(tag[:4], 16)
        self.host_ip = f"10.{200 + n % 50}.{(n >> 6) % 256}.1"
        self.ns_ip = self.host_ip[:-1] + "2"

    def __enter__(self):
        def ip(*a):
            subprocess.run(["ip", *a], check=True, capture_output=True)

        ip("netns", "add", self.name)
        try:
            ip("link", "add", self.veth_host, "type", "veth", "peer", "name", self.veth_ns)
            ip("link", "set", self.veth_ns, "netns", self.name)
            ip("addr", "add", f"{self.host_ip}/30", "dev", self.veth_host)
            ip("link", "set", self.veth_host, "up")
            ip("-n", self.name, "addr", "add", f"{self.ns_ip}/30", "dev", self.veth_ns)
            ip("-n", self.name, "link", "set", self.veth_ns, "up")
            ip("-n", self.name, "link", "set", "lo", "up")
        except Exception:
            self.__exit__()
            raise
        return self

    def exec_cmd(self, cmd):
        return ["ip", "netns", "exec", self.name, *cmd]

    def __exit__(self, *exc):
        subprocess.run(["ip", "link", "del", self.veth_host], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


def netns_available():
    if os.geteuid() != 0 or not shutil.which("ip"):
        return False
    name = f"pwt-probe-{uuid.uuid4().hex[:6]}"
    ok = subprocess.run(["ip", "netns", "add", name], capture_output=True).returncode == 0
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return ok


class NSDaemon(Daemon):
    """The daemon run inside a NetNS, listening on the namespace's veth address."""

    def __init__(self, ns: NetNS, *args, token=None, binary=None, port=None, tls=False, **kw):
        port = port or free_port()
        listen = ["--listen", f"{ns.ns_ip}:{port}"]
        super().__init__(*listen, *args, binary="ip", port=port, **kw)
        self.cmd = ns.exec_cmd([binary or PW_BIN, *listen, *args])
        self.base = f"http{'s' if tls else ''}://{ns.ns_ip}:{port}"
        self.host = ns.ns_ip
        self.token = token

    def is_ready(self):
        try:
            r = get(self.port, "/healthz", host=self.host,
                    headers={"Authorization": f"Bearer {self.token}"} if self.token else None, timeout=1)
        except OSError:
            return False
        return r.status == 200


def urlopen_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())
