"""The eBPF collector's life cycle: without the capabilities it needs, with only the ones a
service gets, two instances at once, and nothing left in the kernel after exit (root)."""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import PW_BIN, run_json, validate

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="dropping capabilities needs root first")


def _capsh_json(drop, *args):
    cmd = ["capsh", f"--drop={drop}", "--", "-c", 'exec "$@"', "perfwatch", PW_BIN, "--json", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, f"{cmd}: {p.returncode} {p.stderr}"
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def _loaded_programs():
    """{id: name} of every BPF program in the kernel."""
    p = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True, check=True, timeout=30)
    return {prog["id"]: prog.get("name") for prog in json.loads(p.stdout)}


def _program_ids_held_by(pid):
    """IDs of the BPF programs whose fds (programs and links) the process holds."""
    ids = set()
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            text = open(f"/proc/{pid}/fdinfo/{fd}").read()
        except OSError:
            continue
        ids |= {int(line.split()[1]) for line in text.splitlines() if line.startswith("prog_id:")}
    return ids


def _gone(ids, timeout=15):
    """True once none of the programs is loaded (they are freed after an RCU grace period)."""
    deadline = time.time() + timeout
    while set(ids) & set(_loaded_programs()):
        if time.time() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_without_bpf_capabilities_it_still_runs_and_says_why(schema):
    (snap,) = _capsh_json("cap_bpf,cap_sys_admin,cap_perfmon", "--interval", "1")
    validate(snap, schema)
    perf = snap["perf"]
    assert perf["source"] != "bpf"
    assert perf["error"], perf
    if perf["source"] == "none":
        # every source said why; the eBPF one names the missing capabilities
        assert "bpf: " in perf["error"] and "CAP_BPF" in perf["error"], perf["error"]
    assert "bpf" not in snap or snap["bpf"] is None


def test_with_only_cap_bpf_and_cap_perfmon_as_the_service_gets(schema):
    (snap,) = _capsh_json("cap_sys_admin", "--interval", "1", "--bpf-stats")
    validate(snap, schema)
    assert snap["perf"]["source"] == "bpf", snap["perf"]["error"]
    b = snap["bpf"]
    assert all(p["attached"] for p in b["programs"].values()), b["programs"]
    assert b["events"]["cpu-clock"]["counted"]
    # --bpf-stats: run-time stats need CAP_SYS_ADMIN unless the sysctl (or another holder) has them on
    assert b["stats"]["enabled"] or "CAP_SYS_ADMIN" in b["stats"]["error"], b["stats"]


def test_two_instances_at_once_and_nothing_left_after_exit():
    a = subprocess.Popen([PW_BIN, "--json", "--interval", "2", "--count", "2"], stdout=subprocess.PIPE, text=True)
    b = subprocess.Popen([PW_BIN, "--json", "--interval", "60", "--count", "1"], stdout=subprocess.DEVNULL)
    try:
        deadline = time.time() + 20
        held = {}
        while time.time() < deadline:
            loaded = _loaded_programs()
            held = {p.pid: {i: loaded.get(i) for i in _program_ids_held_by(p.pid)} for p in (a, b)}
            if all("pw_sched_switch" in h.values() for h in held.values()):
                break
            time.sleep(0.2)
        for pid, h in held.items():
            assert "pw_sched_switch" in h.values() and "pw_read_pmu" in h.values(), (pid, h)
        assert not set(held[a.pid]) & set(held[b.pid]), "the two instances share programs"
        out, _ = a.communicate(timeout=30)
        assert a.returncode == 0
        snaps = [json.loads(line) for line in out.splitlines()]
        assert len(snaps) == 2
        for s in snaps:
            assert s["perf"]["source"] == "bpf"
            assert s["perf"]["events"]["context-switches"]["value"] > 0
        assert _gone(held[a.pid]), "programs left in the kernel after a clean exit"
        assert set(held[b.pid]) <= set(_loaded_programs()), "the other instance lost its programs"
        # killed without a chance to clean up: the kernel drops everything with the fds
        b.send_signal(signal.SIGKILL)
        b.wait(timeout=10)
        assert _gone(held[b.pid]), "programs left in the kernel after SIGKILL"
    finally:
        for p in (a, b):
            if p.poll() is None:
                p.kill()
                p.wait()


def test_forced_bpf_source_fails_cleanly_without_capabilities():
    (snap,) = _capsh_json("cap_bpf,cap_sys_admin,cap_perfmon", "--interval", "0.5", "--perf-source", "bpf")
    assert snap["perf"]["source"] == "none"
    assert "CAP_BPF" in snap["perf"]["error"]


def test_sanitizer_build_reads_every_map(schema):
    san = os.environ.get("PW_SAN_BIN")
    if not san or not os.path.exists(san):
        pytest.skip("no ASan+UBSan build (PW_SAN_BIN): run under `make integration`")
    env = dict(os.environ, PW_TEST_SOFTWARE_EVENTS="1", ASAN_OPTIONS="detect_leaks=1")
    snaps = run_json("--interval", "0.5", "--count", "3", binary=san, env=env)
    for s in snaps:
        validate(s, schema)
        assert s["perf"]["source"] == "bpf" and len(s["perf"]["events"]) == 17
