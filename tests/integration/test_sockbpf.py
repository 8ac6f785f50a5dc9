"""network.connections from the BPF source against psutil.net_connections('inet') run in
the same network namespace, one the test makes (root): known sockets of every counted
state (FIN_WAIT2 timewait sockets among them), thousands of connections made and closed
between two snapshots, counts across the periodic netlink count, and the fallbacks when
BPF is off (PW_TEST_NO_SOCK_BPF=1) or not allowed (no CAP_BPF): always counts, never an
error. tests/unit/test_conncount.c checks the same against netlink, piece by piece."""
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import PW_BIN, validate

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="making network namespaces needs root")

SOCKWORLD = Path(__file__).resolve().parent / "sockworld.py"
FIELDS = ("tcp_established", "tcp_time_wait", "tcp_close_wait", "tcp_listen", "udp_count")

PSUTIL_COUNT = """
import collections, json, psutil, socket
c = collections.Counter(x.status if x.type == socket.SOCK_STREAM else "UDP" for x in psutil.net_connections("inet"))
print(json.dumps({"tcp_established": c["ESTABLISHED"], "tcp_time_wait": c["TIME_WAIT"],
                  "tcp_close_wait": c["CLOSE_WAIT"], "tcp_listen": c["LISTEN"], "udp_count": c["UDP"],
                  "fin_wait2": c["FIN_WAIT2"]}))
"""


def in_ns(ns, *cmd):
    return ["ip", "netns", "exec", ns, *cmd]


@pytest.fixture
def netns():
    ns = f"pwsock{random.getrandbits(24):06x}"
    subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True, timeout=20)
    try:
        subprocess.run(in_ns(ns, "ip", "link", "set", "lo", "up"), check=True, capture_output=True, timeout=20)
        yield ns
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=20)


def sockstat_tw(ns):
    """/proc/net/sockstat "TCP: tw" of the namespace: every timewait socket, FIN_WAIT2 ones too."""
    p = subprocess.run(in_ns(ns, "cat", "/proc/net/sockstat"), capture_output=True, text=True, timeout=20, check=True)
    (tcp,) = [line.split() for line in p.stdout.splitlines() if line.startswith("TCP:")]
    return int(tcp[tcp.index("tw") + 1])


def psutil_counts(ns):
    p = subprocess.run(in_ns(ns, sys.executable, "-c", PSUTIL_COUNT), capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


class World:
    """sockworld.py in the namespace: sockets made on command and held."""

    def __init__(self, ns):
        self.p = subprocess.Popen(in_ns(ns, sys.executable, str(SOCKWORLD)), stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)

    def do(self, command):
        """Runs one command; returns the wall time when its sockets were in place."""
        self.p.stdin.write(command + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        assert line.startswith("ok "), f"sockworld {command!r}: {line!r}"
        return json.loads(line[3:])["done"]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.p.poll() is None:
            self.p.stdin.close()
            try:
                self.p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


class Snapshots:
    """`perfwatch --json --interval I --count C` in the namespace, read as it prints."""

    def __init__(self, ns, interval, count, env=None, wrap=(), args=()):
        cmd = in_ns(ns, *wrap, PW_BIN, "--json", "--interval", str(interval), "--count", str(count), *args)
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)

    def after(self, t):
        """The first snapshot taken after wall time t."""
        for line in self.p.stdout:
            snap = json.loads(line)
            if snap["timestamp"] > t:
                return snap
        raise AssertionError(f"perfwatch ended before a snapshot after {t}: {self.p.stderr.read()}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


def assert_same(snap, want, when):
    net = snap["network"]
    got = net["connections"]
    assert got is not None, f"{when}: no counts ({snap.get('errors')})"
    assert {k: got[k] for k in FIELDS} == {k: want[k] for k in FIELDS}, f"{when}: perfwatch {got}, psutil {want}"


def test_bpf_counts_match_psutil_through_churn_and_the_periodic_count(netns, schema):
    env = dict(os.environ, PW_SOCK_RESYNC_S="3")
    with Snapshots(netns, 0.5, 120, env=env) as pw, World(netns) as world:
        first = pw.after(0)
        validate(first, schema)
        assert first["network"]["connections_source"] == "bpf", first["network"]["connections_bpf_error"]
        assert first["network"]["connections_bpf_error"] is None

        # 6 listeners, 400 pairs, 8 CLOSE_WAIT (with 8 FIN_WAIT2 timewait sockets), 10 TIME_WAIT, 6 UDP
        done = world.do("make 6 400 8 10 6")
        want = psutil_counts(netns)
        assert want["fin_wait2"] == 8 and want["tcp_time_wait"] == 10, want
        assert sockstat_tw(netns) == 18, "the 8 FIN_WAIT2 sockets are timewait sockets"
        snap = pw.after(done)
        assert snap["network"]["connections_source"] == "bpf"
        assert_same(snap, want, "made")

        done = world.do("peers_close")  # the 8 turn TIME_WAIT without a trace
        snap = pw.after(done)
        want = psutil_counts(netns)
        assert want["tcp_time_wait"] == 18 and want["fin_wait2"] == 0, want
        assert_same(snap, want, "the peers closed")

        done = world.do("churn 2000")
        snap = pw.after(done)
        assert_same(snap, psutil_counts(netns), "after 2000 connections")

        done = world.do("churn 500")
        snap = pw.after(done + 3.5)  # past a periodic netlink count
        validate(snap, schema)
        assert snap["network"]["connections_source"] == "bpf"
        assert_same(snap, psutil_counts(netns), "after the periodic count")


def test_bpf_left_off_counts_by_netlink(netns):
    env = dict(os.environ, PW_TEST_NO_SOCK_BPF="1")
    with Snapshots(netns, 0.5, 20, env=env) as pw, World(netns) as world:
        done = world.do("make 3 50 2 3 4")
        snap = pw.after(done)
        net = snap["network"]
        assert net["connections_source"] == "netlink"
        assert "PW_TEST_NO_SOCK_BPF" in net["connections_bpf_error"], net
        assert "network" not in snap["errors"]
        assert_same(snap, psutil_counts(netns), "netlink")


def test_without_bpf_capabilities_netlink_counts_and_says_why(netns, schema):
    wrap = ("capsh", "--drop=cap_bpf,cap_sys_admin,cap_perfmon", "--", "-c", 'exec "$@"', "perfwatch")
    with Snapshots(netns, 0.5, 20, wrap=wrap) as pw, World(netns) as world:
        done = world.do("make 2 20 1 2 2")
        snap = pw.after(done)
        validate(snap, schema)
        net = snap["network"]
        assert net["connections_source"] == "netlink", net
        assert "CAP_BPF" in net["connections_bpf_error"], net["connections_bpf_error"]
        assert "network" not in snap["errors"]
        assert_same(snap, psutil_counts(netns), "without CAP_BPF")


def test_still_bpf_after_dropping_privileges(netns):
    """The program is loaded before --user drops root; reading it, the netlink counts and
    lookups need no privilege (PW_SOCK_RESYNC_S=1: several netlink counts as nobody)."""
    env = dict(os.environ, PW_SOCK_RESYNC_S="1")
    with Snapshots(netns, 0.5, 40, env=env, args=("--user", "nobody")) as pw, World(netns) as world:
        done = world.do("make 2 30 3 3 2")
        snap = pw.after(done + 1.5)
        assert snap["network"]["connections_source"] == "bpf", snap["network"]["connections_bpf_error"]
        assert "network" not in snap["errors"]
        assert_same(snap, psutil_counts(netns), "as nobody")
