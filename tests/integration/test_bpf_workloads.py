"""The eBPF collector against known workloads on the real kernel (root).

Each test runs a workload whose minimum cost in kernel events is known inside one
measurement window (pwbpf.measure) and checks that the BPF counters saw at least that
much, where it happened: on the CPU the workload was pinned to, on the disk the file
lives on, on the interface the packets left by.
"""
import json
import os
import random
import socket
import subprocess
import time

import pytest

import pwbpf
from conftest import validate

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="loading BPF programs needs root")


@pytest.mark.parametrize("cpu", pwbpf.ONLINE_CPUS[:2])
def test_pingpong_context_switches_on_the_pinned_cpu(cpu):
    n = 50000
    snaps, _ = pwbpf.measure(lambda: pwbpf.pingpong(n, cpu))
    switches = pwbpf.cpu_sum(snaps, cpu, "context_switches")
    # each round trip switches to the child and back at least once, on that CPU
    assert switches >= 2 * n, (cpu, switches, [s["bpf"]["cpus"] for s in snaps])
    assert pwbpf.event_sum(snaps, "context-switches") >= switches
    # every one of those switches ran a task that had been queued: run-queue latency
    assert pwbpf.hist_count(snaps, lambda s: s["bpf"]["runq_latency"]) >= n


@pytest.mark.parametrize("cpu", pwbpf.ONLINE_CPUS[:2])
def test_touching_fresh_pages_faults_on_the_pinned_cpu(cpu):
    n = 20000
    snaps, _ = pwbpf.measure(lambda: pwbpf.touch_fresh_pages(n, cpu))
    faults = pwbpf.cpu_sum(snaps, cpu, "page_faults_user")
    assert faults >= n, (cpu, faults)
    assert pwbpf.cpu_sum(snaps, cpu, "page_faults") >= faults
    assert pwbpf.event_sum(snaps, "page-faults") >= n


# the per-CPU hash maps (disks, interfaces) are read in batches; kernels before 5.6 walk them key by key
HASH_READS = {"batch": None, "key_by_key": {**os.environ, "PW_TEST_BPF_NO_BATCH": "1"}}


@pytest.mark.parametrize("walk", HASH_READS)
def test_direct_writes_show_on_their_disk(tmp_path, walk):
    count, size = 32, 64 * 1024
    path = tmp_path / "direct.bin"
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o600))
    except OSError as e:
        pytest.skip(f"no O_DIRECT on the filesystem of {tmp_path}: {e}")
    disks = pwbpf.disks_under(tmp_path)
    snaps, _ = pwbpf.measure(lambda: pwbpf.direct_writes(path, count, size), env=HASH_READS[walk])
    seen = {d: s["bpf"]["block"][d] for s in snaps for d in disks if d in s["bpf"]["block"]}
    assert seen, (disks, [list(s["bpf"]["block"]) for s in snaps])
    writes = sum(pwbpf.keyed_sum(snaps, "block", d, "writes") for d in disks)
    written = sum(pwbpf.keyed_sum(snaps, "block", d, "write_bytes") for d in disks)
    # O_DIRECT: every write reaches the disk, one request at least each (sync, no merging)
    assert writes >= count, writes
    assert written >= count * size, written
    latencies = [s["bpf"]["block"][d]["latency"] for s in snaps for d in disks if d in s["bpf"]["block"]]
    assert sum(h["count"] for h in latencies) >= count
    assert any(sum(h["log2_us"]) > 0 for h in latencies)
    assert all(h["mean_us"] is None or h["mean_us"] > 0 for h in latencies)
    # keyed by the disk's dev_t, named as sysfs names it
    for s in snaps:
        for d in disks:
            if d in s["bpf"]["block"]:
                want = open(f"/sys/class/block/{d}/dev").read().strip()
                assert s["bpf"]["block"][d]["dev"] == want


def _ip(*args, ns=None):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + ["ip", *args]
    subprocess.run(cmd, check=True, capture_output=True, timeout=20)


@pytest.fixture
def veth_netns():
    """A veth pair: one end here, the other in a network namespace made for the test."""
    tag = f"{random.getrandbits(24):06x}"
    ns, host, peer = f"pwbpf{tag}", f"pwb{tag}h", f"pwb{tag}p"
    net = f"10.{random.randint(200, 250)}.{random.randint(0, 255)}.{random.randrange(0, 252, 4)}"
    base = net.rsplit(".", 1)
    host_ip, peer_ip = f"{base[0]}.{int(base[1]) + 1}", f"{base[0]}.{int(base[1]) + 2}"
    subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True)
    try:
        _ip("link", "add", host, "type", "veth", "peer", "name", peer)
        _ip("link", "set", peer, "netns", ns)
        _ip("addr", "add", f"{host_ip}/30", "dev", host)
        _ip("link", "set", host, "up")
        _ip("addr", "add", f"{peer_ip}/30", "dev", peer, ns=ns)
        _ip("link", "set", peer, "up", ns=ns)
        _ip("link", "set", "lo", "up", ns=ns)
        yield {"ns": ns, "host": host, "peer": peer, "host_ip": host_ip, "peer_ip": peer_ip}
    finally:
        subprocess.run(["ip", "link", "del", host], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


SEND = """
import socket, sys, time
ip, n = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"w", (ip, 9))  # resolves the neighbour first, so no packet waits on ARP
time.sleep(0.3)
for _ in range(n):
    s.sendto(b"p" * 100, (ip, 9))
"""


@pytest.mark.parametrize("walk", HASH_READS)
def test_udp_over_veth_counts_per_interface(veth_netns, walk):
    v = veth_netns
    n = 300

    def work():
        subprocess.run(["/usr/bin/python3", "-c", SEND, v["peer_ip"], str(n)], check=True, timeout=30)
        subprocess.run(["ip", "netns", "exec", v["ns"], "/usr/bin/python3", "-c", SEND, v["host_ip"], str(n)],
                       check=True, timeout=30)

    snaps, _ = pwbpf.measure(work, env=HASH_READS[walk])
    sent = pwbpf.keyed_sum(snaps, "net", v["host"], "packets_sent")
    recv = pwbpf.keyed_sum(snaps, "net", v["host"], "packets_recv")
    assert sent >= n and recv >= n, (sent, recv, [s["bpf"]["net"] for s in snaps])
    # UDP 100 + IP 20 + UDP header 8 + Ethernet 14 bytes per packet, both ways
    assert pwbpf.keyed_sum(snaps, "net", v["host"], "bytes_sent") >= n * 142
    assert pwbpf.keyed_sum(snaps, "net", v["host"], "bytes_recv") >= n * 142
    for s in snaps:
        if v["host"] in s["bpf"]["net"]:
            assert s["bpf"]["net"][v["host"]]["own_netns"] is True
    # the peer end lives in another namespace: counted apart, never under a local name
    foreign = [f for s in snaps for name, f in s["bpf"]["net"].items() if not f["own_netns"]]
    assert sum(f["packets_recv"] for f in foreign) >= n
    assert all("@netns" in name for s in snaps for name, f in s["bpf"]["net"].items() if not f["own_netns"])


def test_snapshot_reports_what_is_counted_and_why(schema):
    (snap,), _ = pwbpf.measure(lambda: None, interval=1, count=2)
    validate(snap, schema)
    perf, b = snap["perf"], snap["bpf"]
    assert perf["source"] == "bpf"
    for name in ("cpu-clock", "context-switches", "cpu-migrations", "page-faults"):
        assert perf["events"][name]["value"] is not None, name
        assert b["events"][name]["counted"], b["events"][name]
    assert perf["events"]["cpu-clock"]["unit"] == "msec"
    hw = [n for n, e in b["events"].items() if e["source"] == "perf_event" and n != "cpu-clock"]
    assert len(hw) == 13
    if all(b["events"][n]["counted"] for n in hw):  # a machine with a PMU
        assert perf["available"] is True and perf["error"] is None
        assert b["ratios"]["ipc"] is not None
    else:
        # this machine: no PMU. Unavailable, every missing event named, with the reason
        assert perf["available"] is False
        for n in hw:
            if not b["events"][n]["counted"]:
                assert n in perf["error"], n
                assert n not in perf["events"], n
                assert b["events"][n]["error"], n
        assert "no PMU" in perf["error"] or "not supported" in perf["error"], perf["error"]
        assert b["ratios"]["ipc"] is None
    # the capability report and the self-accounting
    for name, p in b["programs"].items():
        assert p["attached"], (name, p["error"])
        assert p["error"] is None
    assert b["stats"]["enabled"] == _sysctl_bpf_stats(), b["stats"]
    # cpu_slots, blk_start, blk_stats, net_stats, pmu_events, .rodata, .bss
    assert b["maps"]["count"] >= 7 and b["maps"]["memory_bytes"] > 0
    assert [c["cpu"] for c in b["cpus"]] == pwbpf.ONLINE_CPUS
    total_ms = sum(c["cpu_clock_ms"] for c in b["cpus"])
    assert abs(total_ms - perf["events"]["cpu-clock"]["value"]) < 1e-6 * total_ms + 1e-3
    # cpu-clock as perf stat -a counts it: wall time times the online CPUs
    want = len(pwbpf.ONLINE_CPUS) * b["interval_s"] * 1000
    assert abs(perf["events"]["cpu-clock"]["value"] - want) < 0.02 * want


SEND_EACH = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[1])):
    for _ in range(i + 1):
        s.sendto(b"p", (f"10.77.{i}.3", 9))
"""


def _sysctl_bpf_stats():
    return open("/proc/sys/kernel/bpf_stats_enabled").read().strip() == "1"


@pytest.fixture
def sysctl_bpf_stats():
    """Sets kernel.bpf_stats_enabled for the test; puts the old value back."""
    path = "/proc/sys/kernel/bpf_stats_enabled"
    old = open(path).read().strip()

    def set_to(on):
        with open(path, "w") as f:
            f.write("1" if on else "0")
    yield set_to
    set_to(old == "1")


def _sched_switch(snaps):
    return [s["bpf"]["programs"]["pw_sched_switch"] for s in snaps]


def test_run_time_stats_stay_off_by_default(sysctl_bpf_stats):
    # the kernel counts runs only while someone holds the stats on: the counts standing at
    # 0 prove perfwatch did not turn them on (they cost every BPF program on the host)
    sysctl_bpf_stats(False)
    snaps, _ = pwbpf.measure(lambda: pwbpf.pingpong(2000, cpu=pwbpf.ONLINE_CPUS[0]), interval=1, count=3)
    for s in snaps:
        assert s["bpf"]["stats"]["enabled"] is False
        assert "--bpf-stats" in s["bpf"]["stats"]["error"], s["bpf"]["stats"]
    for p in _sched_switch(snaps):
        assert p["runs"] is None and p["run_time_ns"] is None and p["ns_per_run"] is None, p
        assert p["run_count_total"] == 0 and p["run_time_ns_total"] == 0, p


def test_bpf_stats_flag_counts_every_run(sysctl_bpf_stats):
    sysctl_bpf_stats(False)
    snaps, _ = pwbpf.measure(lambda: pwbpf.pingpong(2000, cpu=pwbpf.ONLINE_CPUS[0]), interval=1, count=3, args=("--bpf-stats",))
    for s in snaps:
        assert s["bpf"]["stats"] == {"enabled": True, "error": None}
    # 2000 round trips: two context switches each, at least, every one run through sched_switch
    assert sum(p["runs"] for p in _sched_switch(snaps)) >= 4000
    assert all(p["ns_per_run"] > 0 for p in _sched_switch(snaps))
    # each run counts one switch; the two are read a moment apart, so close, not equal
    runs, switches = sum(p["runs"] for p in _sched_switch(snaps)), pwbpf.event_sum(snaps, "context-switches")
    assert abs(runs - switches) <= 0.02 * switches + 50, (runs, switches)


def test_stats_turned_on_by_the_sysctl_are_used(sysctl_bpf_stats):
    # turned on while perfwatch runs: with stats off it reads only sched_switch's counters
    # each cycle, and they moving is what makes it read every program's again
    sysctl_bpf_stats(False)

    def work():
        sysctl_bpf_stats(True)
        pwbpf.pingpong(2000, cpu=pwbpf.ONLINE_CPUS[0])
    first, snaps, _ = pwbpf.measure_window(work, interval=1, count=3)
    assert first["bpf"]["stats"]["enabled"] is False
    for s in snaps:
        assert s["bpf"]["stats"] == {"enabled": True, "error": None}
        for name, p in s["bpf"]["programs"].items():
            assert p["runs"] is not None and p["run_time_ns"] is not None, (name, p)
    assert sum(p["runs"] for p in _sched_switch(snaps)) >= 4000


@pytest.mark.parametrize("walk", HASH_READS)
def test_many_interfaces_each_counted_apart(walk):
    """40 veth pairs in a network namespace made for the test (no IPv6, a fixed neighbour:
    only our packets leave them), pair i sending i + 1 packets: each interface is its own
    row with exactly its count, however many rows the drain's arrays had to grow to."""
    n_if = 40
    ns = f"pwbpf{random.getrandbits(24):06x}"
    subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True)
    try:
        subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                        "net.ipv6.conf.default.disable_ipv6=1"], check=True, capture_output=True)
        batch = "".join(f"link add pwa{i} type veth peer name pwb{i}\naddr add 10.77.{i}.1/24 dev pwa{i}\n"
                        f"link set pwa{i} up\nlink set pwb{i} up\n"
                        f"neigh add 10.77.{i}.3 lladdr 02:00:00:00:00:01 dev pwa{i} nud permanent\n"
                        for i in range(n_if))
        subprocess.run(["ip", "-n", ns, "-batch", "-"], input=batch, text=True, check=True, capture_output=True)
        links = json.loads(subprocess.run(["ip", "-n", ns, "-j", "link", "show"], check=True, capture_output=True,
                                          text=True).stdout)
        index = {link["ifname"]: link["ifindex"] for link in links}
        netns = os.stat(f"/run/netns/{ns}").st_ino

        def work():
            subprocess.run(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c", SEND_EACH, str(n_if)],
                           check=True, timeout=30)

        snaps, _ = pwbpf.measure(work, env=HASH_READS[walk])
        got = {i: pwbpf.keyed_sum(snaps, "net", f"if{index[f'pwa{i}']}@netns{netns}", "packets_sent")
               for i in range(n_if)}
        assert got == {i: i + 1 for i in range(n_if)}, got
        recv = {i: pwbpf.keyed_sum(snaps, "net", f"if{index[f'pwb{i}']}@netns{netns}", "packets_recv")
                for i in range(n_if)}
        assert recv == got, recv
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
