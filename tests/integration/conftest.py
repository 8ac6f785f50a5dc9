"""Shared pieces of the integration tests: the real binary, free ports, a daemon runner.

Run with /usr/bin/python3 (Debian's python3-pytest, -jsonschema, -psutil, -websockets).
The Makefile sets PW_BIN (the normal build), PW_SAN_BIN (ASan+UBSan build) and PW_BUILD.
"""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("PW_BUILD", REPO / "build"))
PW_BIN = os.environ.get("PW_BIN", str(BUILD / "perfwatch"))
PW_SAN_BIN = os.environ.get("PW_SAN_BIN", str(BUILD / "perfwatch-san"))


def schema_path():
    for cand in (os.environ.get("PW_SCHEMA"), REPO.parent / "shared" / "snapshot.schema.json"):
        if cand and Path(cand).is_file():
            return Path(cand)
    raise FileNotFoundError("snapshot.schema.json not found: set PW_SCHEMA or keep ../shared beside the repo")


@pytest.fixture(scope="session")
def schema():
    return json.loads(schema_path().read_text())


def validate(snapshot, schema):
    import jsonschema
    jsonschema.validate(snapshot, schema)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_json(*args, timeout=60, binary=None, env=None):
    """Runs `perfwatch --json ARGS` and returns the parsed snapshots (one per line)."""
    cmd = [binary or PW_BIN, "--json", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    assert p.returncode == 0, f"{cmd} exited {p.returncode}: {p.stderr}"
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


@contextmanager
def sqlite_exclusive_lock(db):
    """Another process (the sqlite3 program) holding an exclusive lock on db until the
    block ends, then committing and quitting; killed if the block fails."""
    holder = subprocess.Popen(["sqlite3", str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        holder.stdin.write("BEGIN EXCLUSIVE;\nSELECT 'held';\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "held"
        yield holder
        holder.stdin.write("COMMIT;\n.quit\n")
        holder.stdin.flush()
        holder.wait(timeout=10)
    finally:
        if holder.poll() is None:
            holder.kill()


class Daemon:
    """A perfwatch daemon on 127.0.0.1:<free port>, stopped by SIGTERM on exit."""

    def __init__(self, *args, binary=None, port=None, env=None, ready_path="/healthz", ready_timeout=20):
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        extra = list(args)
        if not any(a.startswith("--listen") for a in extra):
            extra = ["--listen", f"127.0.0.1:{self.port}", *extra]
        self.cmd = [binary or PW_BIN, *extra]
        self.env = env
        self.ready_path = ready_path
        self.ready_timeout = ready_timeout
        self.proc = None
        self.log_path = None

    def __enter__(self):
        import tempfile
        self.log = tempfile.NamedTemporaryFile(prefix="perfwatch-", suffix=".log", delete=False)
        self.log_path = self.log.name
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.time() + self.ready_timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"perfwatch exited {self.proc.returncode}: {self.read_log()}")
            if self.is_ready():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"perfwatch not ready on {self.base}: {self.read_log()}")

    def is_ready(self):
        """One readiness probe: ready_path answers over plain HTTP. Subclasses that listen
        elsewhere (a network namespace, TLS) override only this."""
        try:
            with urllib.request.urlopen(self.base + self.ready_path, timeout=1):
                return True
        except Exception:
            return False

    def read_log(self):
        try:
            return Path(self.log_path).read_text(errors="replace")
        except Exception:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def __exit__(self, *exc):
        self.stop()
        self.log.close()

    def get(self, path, timeout=5, headers=None):
        req = urllib.request.Request(self.base + path, headers=headers or {})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
