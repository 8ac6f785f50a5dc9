"""Secure by default: a non-loopback listen needs a token (tested on a veth pair into a
network namespace the test makes), TLS 1.2+ with http/1.1 only, a peer that vanishes."""
import asyncio
import json
import socket
import ssl
import subprocess
import time
import warnings

import pytest
import websockets

from conftest import PW_BIN, Daemon, free_port
from server_testlib import (NetNS, NSDaemon, get, healthz, make_web_root, netns_available, wait_for, ws_connect,
                            ws_read_frame)

TOKEN = "4f1c0e2d9a8b7c6d5e4f3a2b1c0d9e8f"
needs_netns = pytest.mark.skipif(not netns_available(), reason="needs root and ip netns")


def token_file(tmp_path, token=TOKEN, mode=0o600):
    p = tmp_path / "token"
    p.write_text(token + "\n")
    p.chmod(mode)
    return p


def test_non_loopback_without_a_token_refuses_to_start(tmp_path):
    for listen in (f"0.0.0.0:{free_port()}", f"[::]:{free_port()}", f"192.0.2.1:{free_port()}"):
        p = subprocess.run([PW_BIN, "--listen", listen, "--no-db"], capture_output=True, text=True, timeout=20)
        assert p.returncode == 1, listen
        assert "--auth-token-file" in p.stderr, p.stderr


def test_bad_token_files_are_refused(tmp_path):
    for content in ("short", "", "has a space inside it", "semi;colon-0123456789"):
        p = subprocess.run([PW_BIN, "--listen", f"127.0.0.1:{free_port()}", "--no-db", "--auth-token-file",
                            str(token_file(tmp_path, content))], capture_output=True, text=True, timeout=20)
        assert p.returncode == 1, content
        assert "token" in p.stderr
    p = subprocess.run([PW_BIN, "--listen", f"127.0.0.1:{free_port()}", "--no-db", "--auth-token-file",
                        str(tmp_path / "missing")], capture_output=True, text=True, timeout=20)
    assert p.returncode == 1 and "missing" in p.stderr


@needs_netns
def test_token_on_a_non_loopback_listen(tmp_path):
    root = make_web_root(tmp_path)
    with NetNS() as ns, NSDaemon(ns, "--interval", "0.5", "--no-db", "--web-root", str(root), "--auth-token-file",
                                 str(token_file(tmp_path)), token=TOKEN) as d:
        host, port = d.host, d.port
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        # nothing without the token, and nothing with a wrong one
        for path in ("/", "/healthz", "/api/snapshot", "/metrics", "/api/history", "/app.js", "/nope"):
            r = get(port, path, host=host)
            assert r.status == 401, (path, r)
            assert r.header("www-authenticate").startswith("Bearer")
            assert b"index-page" not in r.body
        for wrong in ({"Authorization": f"Bearer {TOKEN[:-1]}x"}, {"Authorization": f"Bearer {TOKEN}0"},
                      {"Authorization": f"Basic {TOKEN}"}, {"Cookie": f"pw_token={TOKEN[:-1]}"}):
            assert get(port, "/healthz", host=host, headers=wrong).status == 401, wrong
        assert get(port, f"/healthz?token={TOKEN[:-2]}", host=host).status == 401
        # the right one, three ways
        assert wait_for(lambda: get(port, "/api/snapshot", host=host, headers=bearer).status == 200, 10)
        assert get(port, "/metrics", host=host, headers=bearer).status == 200
        r = get(port, f"/?token={TOKEN}", host=host)
        assert r.status == 200 and b"index-page" in r.body
        cookie = r.header("set-cookie")
        assert cookie.startswith(f"pw_token={TOKEN};") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert get(port, "/app.js", host=host, headers={"Cookie": f"pw_token={TOKEN}"}).status == 200
        # with a token, the Host may be any name the machine is reached by
        assert get(port, "/healthz", host=host, headers={**bearer, "Host": f"monitor.example:{port}"}).status == 200

        # the WebSocket: 401 without, the stream with ?token= or the cookie
        s, r = ws_connect(port, host=host)
        assert s is None and r.status == 401, r
        s, r = ws_connect(port, path=f"/ws?token={TOKEN}x", host=host)
        assert s is None and r.status == 401, r
        for path, hdrs in ((f"/ws?token={TOKEN}", {}), ("/ws", {"Cookie": f"pw_token={TOKEN}"}), ("/ws", bearer)):
            s, r = ws_connect(port, path=path, host=host, headers=hdrs)
            assert s is not None, (path, r)
            op, payload = ws_read_frame(s)
            assert op == 1 and json.loads(payload)["version"] == 1
            s.close()
        # a foreign page does not get the stream even with the cookie a browser would send
        s, r = ws_connect(port, path="/ws", host=host,
                          headers={"Cookie": f"pw_token={TOKEN}", "Origin": "http://evil.example"})
        assert s is None and r.status == 403, r
        h = healthz(port, host=host, headers=bearer)
        assert h["server"]["auth"] is True and h["server"]["requests_rejected"]["auth"] >= 10


@needs_netns
def test_a_vanished_peer_is_dropped(tmp_path):
    with NetNS() as ns, NSDaemon(ns, "--interval", "0.5", "--no-db", "--auth-token-file", str(token_file(tmp_path)),
                                 token=TOKEN) as d:
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert wait_for(lambda: get(d.port, "/api/snapshot", host=d.host, headers=bearer).status == 200, 10)
        s, r = ws_connect(d.port, path=f"/ws?token={TOKEN}", host=d.host)
        assert s is not None, r
        ws_read_frame(s)
        assert healthz(d.port, host=d.host, headers=bearer)["server"]["websocket_clients"] == 1
        # the peer vanishes without a FIN: its link goes down
        subprocess.run(["ip", "link", "set", ns.veth_host, "down"], check=True)
        time.sleep(12)  # stall detection: 5 s periods, unacknowledged data for one full period
        subprocess.run(["ip", "link", "set", ns.veth_host, "up"], check=True)

        def dropped():
            try:
                h = healthz(d.port, host=d.host, headers=bearer)["server"]
            except (OSError, AssertionError):
                return None
            return h if h["websocket_clients"] == 0 else None
        h = wait_for(dropped, 10, step=0.5)
        assert h and h["websocket_stalled"] >= 1, h
        s.close()


def make_cert(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def test_tls(tmp_path):
    cert, key = make_cert(tmp_path)
    port = free_port()
    ctx = ssl.create_default_context(cafile=str(cert))
    with _tls_daemon(port, cert, key):
        import urllib.request
        assert wait_for(lambda: _https_status(port, ctx, "/api/snapshot") == 200, 10)
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/healthz", context=ctx, timeout=5) as r:
            assert json.loads(r.read())["server"]["tls"] is True

        # only http/1.1 is offered, even to a client that prefers h2
        alpn = ssl.create_default_context(cafile=str(cert))
        alpn.set_alpn_protocols(["h2", "http/1.1"])
        with alpn.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1") as s:
            assert s.selected_alpn_protocol() == "http/1.1"
            assert s.version() in ("TLSv1.2", "TLSv1.3")

        # TLS 1.1 is refused by the server (a protocol-version alert), not by our client
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.check_hostname = False
        old.verify_mode = ssl.CERT_NONE
        old.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            old.minimum_version = ssl.TLSVersion.TLSv1_1
            old.maximum_version = ssl.TLSVersion.TLSv1_1
        with pytest.raises(ssl.SSLError, match="PROTOCOL_VERSION|protocol version"):
            old.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1")

        # plain HTTP on the TLS port gets nothing
        r = get(port, "/api/snapshot")
        assert r.status != 200

        async def wss():
            async with websockets.connect(f"wss://127.0.0.1:{port}/ws", ssl=ctx) as ws:
                return json.loads(await asyncio.wait_for(ws.recv(), 2))
        assert asyncio.run(wss())["version"] == 1


class _tls_daemon(Daemon):
    """Daemon with TLS: readiness is checked over https."""

    def __init__(self, port, cert, key):
        super().__init__("--interval", "0.5", "--no-db", "--tls-cert", str(cert), "--tls-key", str(key), port=port)
        self.ctx = ssl.create_default_context(cafile=str(cert))

    def is_ready(self):
        return _https_status(self.port, self.ctx, "/healthz") == 200


def _https_status(port, ctx, path):
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(f"https://127.0.0.1:{port}{path}", context=ctx, timeout=2) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def test_tls_needs_both_files(tmp_path):
    cert, key = make_cert(tmp_path)
    p = subprocess.run([PW_BIN, "--listen", f"127.0.0.1:{free_port()}", "--no-db", "--tls-cert", str(cert),
                        "--tls-key", str(tmp_path / "nokey.pem")], capture_output=True, text=True, timeout=20)
    assert p.returncode == 1 and "tls" in p.stderr.lower()
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    p = subprocess.run([PW_BIN, "--listen", f"127.0.0.1:{free_port()}", "--no-db", "--tls-cert", str(bad),
                        "--tls-key", str(key)], capture_output=True, text=True, timeout=20)
    assert p.returncode == 1 and "tls" in p.stderr.lower()
