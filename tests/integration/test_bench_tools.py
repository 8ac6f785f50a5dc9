"""The benchmark's own tools, run for real: the specification's psutil collector, the
procfs floor program, the fixture-tree generator (read by the real perfwatch), and the
strace parsing that finds the files one PerfWatch cycle reads.

Timings are never asserted here: `make bench` measures, these tests check the tools
tell the truth about what they read and print.
"""
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import BUILD, REPO, run_json, validate

BENCH = REPO / "scripts" / "bench"
FLOOR = BUILD / "bench" / "procfs_floor"
sys.path.insert(0, str(BENCH))

import gen_fixtures  # noqa: E402
import pwrows  # noqa: E402


def load_psutil_collector():
    spec = importlib.util.spec_from_file_location("psutil_collector", REPO / "scripts" / "psutil_collector.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def meminfo_kib(key):
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


# ---------------------------------------------------------------- psutil collector

def test_psutil_collector_prints_the_specification_metrics():
    p = subprocess.run(["/usr/bin/python3", str(REPO / "scripts" / "psutil_collector.py"), "-i", "0.3", "-n", "2"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    snaps = [json.loads(l) for l in p.stdout.splitlines()]
    assert len(snaps) == 2
    s = snaps[-1]
    assert s["errors"] == {}
    for key in ("usage_percent", "per_core", "user", "system", "idle", "iowait", "irq", "softirq",
                "frequency_mhz", "temperature_celsius", "interrupts"):
        assert key in s["cpu"], key
    assert len(s["cpu"]["per_core"]) == os.cpu_count()
    for key in ("total_bytes", "used_bytes", "available_bytes", "hugepages_total", "pgfault_per_sec",
                "swap_io_bytes_per_sec"):
        assert key in s["memory"], key
    # rates are real numbers from the second sample on: the first one primed them
    assert s["memory"]["pgfault_per_sec"] is not None
    assert set(s["network"]["connections"]) == {"tcp_established", "tcp_time_wait", "tcp_close_wait",
                                                "tcp_listen", "udp_count"}
    assert "lo" not in s["network"]["interfaces"]
    assert not any(d.startswith("loop") for d in s["disk"]["devices"])
    assert s["perf"] == {"available": False, "error": "perf collection not enabled (--perf)", "events": {}}


def test_psutil_collector_is_importable_and_reads_this_machine():
    mod = load_psutil_collector()
    mem = mod.collect_memory_metrics()
    assert mem["total_bytes"] == meminfo_kib("MemTotal") * 1024
    assert mem["hugepages_total"] == meminfo_kib("HugePages_Total")
    net = mod.NetworkCollector()
    first = net.collect()
    # the first sample has no baseline: rates are null, never a made-up 0
    for iface in first["interfaces"].values():
        assert iface["bytes_recv_per_sec"] is None
    assert mod._rate(5, 10, 1.0) is None  # a counter that went backwards
    assert mod._rate(30, 10, 2.0) == 10.0


def test_psutil_collector_perf_section_follows_perf_stat():
    mod = load_psutil_collector()
    available, error = mod.check_perf_available()
    if not available:
        pytest.skip(f"perf stat cannot run here: {error}")
    pc = mod.PerfStatCollector(interval_s=0.2)
    try:
        import time
        deadline = time.monotonic() + 10
        res = pc.collect()
        while res["error"] == "no complete perf stat interval yet" and time.monotonic() < deadline:
            time.sleep(0.2)
            res = pc.collect()
    finally:
        pc.close()
    # the software events are counted everywhere; the hardware ones only with a PMU
    assert "cpu-clock" in res["events"] and res["events"]["cpu-clock"]["unit"] == "msec"
    missing = [e for e in mod.PERF_STAT_EVENTS if e not in res["events"]]
    assert res["available"] == (not missing)
    if missing:
        assert all(e in res["error"] for e in missing)


# ---------------------------------------------------------------- procfs floor

@pytest.fixture(scope="module")
def floor_bin():
    if not FLOOR.exists():
        subprocess.run(["make", "--no-print-directory", f"BUILD={BUILD}", str(FLOOR)], cwd=REPO, check=True,
                       capture_output=True)
    return FLOOR


def test_floor_reads_every_listed_file_without_parsing(floor_bin, tmp_path):
    root = tmp_path / "proc"
    (root / "net").mkdir(parents=True)
    (root / "stat").write_bytes(b"x" * 10000)  # larger than one 4 KiB read
    (root / "net" / "dev").write_text("abc\n")
    lst = tmp_path / "list.txt"
    lst.write_text("# a comment\nproc stat\nproc net/dev\nproc missing\nstatfs /\n")
    p = subprocess.run([str(floor_bin), "--proc-root", str(root), "--sys-root", str(tmp_path), "--passes", "50",
                        str(lst)], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["entries"] == 4 and r["failed"] == 1
    assert r["bytes_per_pass"] == 10004
    assert 1 <= r["passes"] <= 50
    assert r["cpu_ns_per_pass"]["min"] <= r["cpu_ns_per_pass"]["median"] <= r["cpu_ns_per_pass"]["max"]


def test_floor_dumps_sock_diag_and_rejects_bad_lists(floor_bin, tmp_path):
    lst = tmp_path / "list.txt"
    lst.write_text("sockdiag tcp4\nsockdiag udp6\nsockdiag tcp46\n")
    p = subprocess.run([str(floor_bin), "--passes", "3", str(lst)], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["failed"] == 0 and r["bytes_per_pass"] > 0  # at least the NLMSG_DONE of each dump
    lst.write_text("sockdiag sctp4\n")
    p = subprocess.run([str(floor_bin), "--passes", "3", str(lst)], capture_output=True, text=True, timeout=30)
    assert json.loads(p.stdout)["failed"] == 1
    lst.write_text("bogus line\n")
    p = subprocess.run([str(floor_bin), str(lst)], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "bad list line" in p.stderr


# ---------------------------------------------------------------- fixture trees

def test_fixture_trees_have_the_size_they_claim(tmp_path):
    assert gen_fixtures.main([str(tmp_path), "--only", "cpus-64,ifaces-100,disks-50,sockets-1000"]) == 0
    stat = (tmp_path / "cpus-64" / "proc" / "stat").read_text().splitlines()
    assert sum(1 for l in stat if l.startswith("cpu") and not l.startswith("cpu ")) == 64
    assert (tmp_path / "cpus-64" / "sys" / "devices" / "system" / "cpu" / "online").read_text() == "0-63\n"
    dev = (tmp_path / "ifaces-100" / "proc" / "net" / "dev").read_text().splitlines()
    assert len(dev) == 2 + 1 + 100  # two header lines, lo, the interfaces
    disks = (tmp_path / "disks-50" / "proc" / "diskstats").read_text().splitlines()
    assert len(disks) == 1 + 50  # loop0 stays, to be left out
    socks = sum(len((tmp_path / "sockets-1000" / "proc" / "net" / f).read_text().splitlines()) - 1
                for f in ("tcp", "tcp6", "udp", "udp6"))
    assert socks == 1000
    index = json.loads((tmp_path / "index.json").read_text())
    assert [t["name"] for t in index] == ["cpus-64", "ifaces-100", "disks-50", "sockets-1000"]


def test_perfwatch_reads_a_generated_tree(tmp_path, schema):
    gen_fixtures.main([str(tmp_path), "--only", "cpus-64,sockets-1000"])
    for name in ("cpus-64", "sockets-1000"):
        t = tmp_path / name
        snap = run_json("--interval", "0.2", "--perf-source", "none", "--proc-root", str(t / "proc"),
                        "--sys-root", str(t / "sys"))[-1]
        validate(snap, schema)
        if name == "cpus-64" and snap.get("cpu") is not None:
            assert len(snap["cpu"]["per_core"]) == 64


# ---------------------------------------------------------------- strace → floor list

STRACE_LOG = r"""
100 1000.000100 openat(AT_FDCWD</>, "/proc/self/statm", O_RDONLY|O_CLOEXEC) = 3</proc/100/statm>
100 1000.100000 write(1</dev/null>, "{\"version\":1", 578) = 578
101 1000.900000 openat(4</proc>, "stat", O_RDONLY|O_CLOEXEC) = 7</proc/stat>
102 1000.900100 openat(5</sys>, "devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", O_RDONLY <unfinished ...>
102 1000.900200 <... openat resumed>) = 8</sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq>
103 1000.900300 openat(4</proc>, "self/mountinfo", O_RDONLY) = 9</proc/100/mountinfo>
103 1000.900400 statfs("/home", {f_type=EXT2_SUPER_MAGIC, ...}) = 0
103 1000.900450 statfs("/gone", 0x7ffd) = -1 ENOENT (No such file or directory)
104 1000.900500 sendto(9<socket:[1]>, [{nlmsg_len=72, nlmsg_type=0x14 /* NLMSG_??? */, nlmsg_flags=NLM_F_REQUEST|0x300, nlmsg_seq=1, nlmsg_pid=0}, "\x02\x06\x00\x00"], 72, 0, NULL, 0) = 72
104 1000.900550 sendto(9<socket:[1]>, [{nlmsg_len=76, nlmsg_type=0x12 /* NLMSG_??? */, nlmsg_flags=NLM_F_REQUEST|0x300, nlmsg_seq=1, nlmsg_pid=0}, "\x02\x00\x00\x00"], 76, 0, NULL, 0) = 76
104 1000.900600 sendto(9<socket:[1]>, [{nlmsg_len=72, nlmsg_type=SOCK_DIAG_BY_FAMILY, nlmsg_flags=NLM_F_REQUEST|NLM_F_DUMP, nlmsg_seq=2, nlmsg_pid=0}, {sdiag_family=AF_INET6, sdiag_protocol=IPPROTO_UDP, idiag_ext=0}], 72, 0, NULL, 0) = 72
104 1000.900700 sendto(9<socket:[2]>, [[{nlmsg_len=72, nlmsg_type=0x14 /* NLMSG_??? */, nlmsg_flags=NLM_F_REQUEST, nlmsg_seq=1, nlmsg_pid=0}, "\x02\x06\x00\x00"]], 72, 0, NULL, 0) = 72
100 1001.100000 write(1</dev/null>, "{\"version\":1", 578) = 578
100 1001.100100 write(1</dev/null>, "\"self\":{}}\n", 11) = 11
101 1001.900000 openat(4</proc>, "vmstat", O_RDONLY|O_CLOEXEC) = 7</proc/vmstat>
"""


def test_stages_split_into_each_collector_and_output():
    import report
    snaps = [{"self": {"collect_cpu_ns": c, "json_cpu_ns": 50000, "cycle_cpu_ns": 600000,
                       "collector_cpu_ns": {"cpu": 30000, "perf": p}, "output_cpu_ns": {"history": h, "server": 7000}}}
             for c, p, h in ((250000, 70000, 120000), (260000, 74000, 0), (240000, 72000, 110000))]
    med = pwrows.stage_medians(snaps)
    assert med["collector_cpu_ns.perf"] == {"median": 72000, "min": 70000, "max": 74000, "n": 3}
    assert med["output_cpu_ns.history"]["n"] == 2  # a zero (a first cycle) is left out
    table = report.stages_section({"perfwatch": {"stages": {"daemon": med}}})
    rows = [line.split(" | ")[0].lstrip("| ") for line in table.splitlines() if line.startswith("| ")][1:]
    assert rows == ["collectors (all)", "· cpu collector", "· perf collector: the BPF drain (or the perf stat reader)",
                    "JSON, serialized once", "· history insert", "· server: the broadcast handover",
                    "whole cycle (process CPU)"], table
    assert "72 µs" in table and "No figure of its own" not in table


def test_strace_parsing_keeps_one_whole_cycle():
    assert pwrows.parse_strace(STRACE_LOG) == [
        "proc stat",
        "sys devices/system/cpu/cpu0/cpufreq/scaling_cur_freq",
        "proc self/mountinfo",
        "statfs /home",
        "sockdiag tcp4",
        "sockdiag tcp46",
        "sockdiag udp6",
    ]
    assert pwrows.parse_strace("100 1.0 write(1</dev/null>, \"x\", 1) = 1\n") is None


# ---------------------------------------------------------------- the other areas' pieces

def test_piece_output_becomes_rows():
    import pieces
    _, rows = pieces._parse_stdout('{"rows": [{"figure": "CPU per insert", "value": "0.1 ms", "target": "< 0.5 ms", "met": true}]}')
    assert rows == [{"figure": "CPU per insert", "value": "0.1 ms", "unit": None, "target": "< 0.5 ms",
                     "met": True, "note": None}]
    _, rows = pieces._parse_stdout("| figure | value |\n|---|---|\n| page weight | 120 KB |\n")
    assert rows == [{"figure": "page weight", "value": "120 KB"}]
    _, rows = pieces._parse_stdout("  CC       build/x.o\n  LSKEL    build/gen/perfwatch.lskel.h\n"
                                   "page weight: 123.4 KB in 5 files (target < 250 KB)\n")
    assert rows == [{"figure": "page weight", "value": "123.4 KB in 5 files", "target": "< 250 KB"}]


def test_bpf_bench_slowdowns_become_rows():
    import pieces
    obj = {"messaging": {"groups": 5, "loops": 500, "repeat": 9, "median_attached_s": 1.53,
                         "median_detached_s": 1.5, "slowdown_percent": 2.0, "paired_slowdown_percent": 1.5,
                         "spread_detached_percent": 20.0},
           "pipe_pinned": {"cpu": 0, "repeat": 9, "switches_per_s_detached": 400000.0,
                           "median_us": {"detached": 5.0, "attached": 5.25, "attached_bpf_stats": 5.4,
                                         "perf_stat": 5.1, "empty_program": 5.2},
                           "slowdown_percent": 5.0, "ns_per_switch": 125.0,
                           "slowdown_bpf_stats_percent": 8.0, "ns_per_switch_bpf_stats": 200.0,
                           "slowdown_perf_stat_percent": 2.0, "ns_per_switch_perf_stat": 50.0,
                           "slowdown_empty_program_percent": 4.0, "ns_per_switch_empty_program": 100.0},
           "ns_per_event": {"programs": {"pw_sched_switch": {"ns_per_run": 90.0, "runs": 10,
                                                             "ns_per_run_above_floor": 30.0}},
                            "stats_floor_ns": 60.0, "empty_sched_switch_ns_per_run": 70.0}}
    rows = {r["figure"]: r for r in pieces._bpf_rows(obj)}
    m = rows["perf bench sched messaging -g 5 -l 500: slowdown with PerfWatch attached vs detached (medians of 9 each)"]
    assert m["value"] == "+2.00 % (1.530 s vs 1.500 s; detached runs spread 20.0 %; median of the pairs +1.50 %)"
    assert m["met"] is False  # 2.00 is not under 2
    (p,) = [r for f, r in rows.items() if f.startswith("perf bench sched pipe")]
    assert "400k context switches/s" in p["figure"]
    assert p["value"] == ("+5.00 % (5.250 vs 5.000 µs per round trip: 125 ns per context switch); "
                          "with --bpf-stats +8.00 % (5.400 µs: 200 ns); perf stat -I 5000 -a instead +2.00 % "
                          "(5.100 µs: 50 ns); an empty BPF program on sched_switch alone +4.00 % (5.200 µs: 100 ns)")
    sw = rows["ns per run of the sched_switch program (BPF stats, under perf bench sched messaging)"]
    assert sw["value"] == "90 ns; an empty program on sched_switch 70 ns (BPF stats, their own clock reads included)"
    assert sw["met"] is True


@pytest.mark.skipif(os.geteuid() != 0, reason="loading a BPF program needs root")
def test_empty_switch_program_runs_on_every_switch_until_stopped():
    # the floor bpf_bench.py compares PerfWatch's sched_switch program with
    empty = BUILD / "bench" / "empty_switch_prog"
    subprocess.run(["make", "--no-print-directory", f"BUILD={BUILD}", str(empty)], cwd=REPO, check=True,
                   capture_output=True)
    sys.path.insert(0, str(REPO / "scripts" / "bench"))
    import bpf_bench
    stats = Path("/proc/sys/kernel/bpf_stats_enabled")
    old = stats.read_text().strip()
    stats.write_text("1")  # run counts move only while stats are on
    try:
        with bpf_bench.EmptyProgram(str(empty), settle_s=0) as e:
            (prog_id,) = bpf_bench.prog_ids_held_by(e.p.pid)
            shown = json.loads(subprocess.run(["bpftool", "-j", "prog", "show", "id", str(prog_id)],
                                              capture_output=True, text=True, check=True).stdout)
            assert shown["type"] == "raw_tracepoint" and shown["name"] == "pw_bench_empty", shown
            before = e.prog_stats()[0]
            bpf_bench.pipe_pinned(sorted(os.sched_getaffinity(0))[0], 2000)
            # two switches per round trip, each one a run
            assert e.prog_stats()[0] - before >= 4000
        assert e.p.returncode == 0
        # the kernel frees a program after an RCU grace period: gone within moments
        deadline = time.time() + 10
        while prog_id in {p["id"] for p in json.loads(subprocess.run(
                ["bpftool", "-j", "prog", "show"], capture_output=True, text=True, check=True).stdout)}:
            assert time.time() < deadline, f"program {prog_id} still loaded after exit"
            time.sleep(0.1)
    finally:
        stats.write_text(old)


def test_pieces_are_found_by_make_target_or_executable(tmp_path):
    import pieces
    (tmp_path / "mk").mkdir()
    (tmp_path / "mk" / "web.mk").write_text("bench-web: all\n\tnode x.mjs\n")
    bench = tmp_path / "scripts" / "bench"
    bench.mkdir(parents=True)
    for name, mode in (("web_x.py", 0o755), ("server_lat.py", 0o755), ("server_lib.py", 0o644), ("mine.py", 0o755)):
        (bench / name).write_text("")
        (bench / name).chmod(mode)
    found = pieces.discover(bench, tmp_path, "build")
    assert sorted(found) == ["server", "web"]
    assert found["web"][0].cmd == ["make", "--no-print-directory", "BUILD=build", "bench-web"]
    assert [p.name for p in found["server"]] == ["server_lat.py"]


# ---------------------------------------------------------------- real sockets

def test_socket_load_holds_the_sockets_it_says(tmp_path):
    import shutil
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        pytest.skip("needs root, unshare and ip for a network namespace of its own")
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps([[["cat", "/proc/net/tcp"], str(tmp_path / "tcp")],
                                [["cat", "/proc/net/udp"], str(tmp_path / "udp")]]))
    p = subprocess.run(["unshare", "-n", "sh", "-c",
                        f"ip link set lo up && exec /usr/bin/python3 {BENCH / 'socket_load.py'} 300 {plan}"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    held = json.loads(p.stdout)["held"]
    assert held["total"] >= 298 and held["udp"] == 15 and held["listen"] == 4
    tcp = (tmp_path / "tcp").read_text().splitlines()[1:]
    udp = (tmp_path / "udp").read_text().splitlines()[1:]
    # in its own namespace: exactly its sockets, nothing of the machine's
    assert len(tcp) == held["established"] + held["listen"]
    assert sum(1 for l in tcp if l.split()[3] == "01") == held["established"]
    assert len(udp) == held["udp"]
