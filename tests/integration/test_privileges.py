"""Least privilege, found and checked on the real kernel.

1. The minimum for a non-root user: a fresh system user holding only the capabilities
   under test, as ambient ones (what systemd's AmbientCapabilities= gives). CAP_BPF +
   CAP_PERFMON is enough for everything; without either the eBPF collector is off, and
   the log says so; nothing else (procfs, sysfs, sock_diag, the server, history) needs
   any capability.
2. `--user NAME` from root: after set-up every thread (not just the main one) runs as the
   user, with no capability left for the eBPF source, CAP_PERFMON alone for the perf-stat
   source (a restarted `perf stat -a` needs it), an empty bounding set beyond that, and
   no_new_privs; collection, history, the server and SIGHUP's log reopen keep working.
3. A non-root service started with capabilities gives up the ones it no longer needs.
"""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import PW_BIN, Daemon, validate
from ops_testlib import (CAP_PERFMON, api_json, assert_every_thread, binaries, cap_mask, children, log_problems,
                         needs_bpf, needs_history, needs_perfstat, needs_root, needs_server, san_env, sanitizer_report,
                         setpriv_cmd, system_user, task_creds, wait_for, wait_log, wait_seq)  # noqa: F401

pytestmark = needs_root
NO_CAPS = cap_mask()


def paranoid():
    return int(Path("/proc/sys/kernel/perf_event_paranoid").read_text())


def json_as(user, caps, *args, binary=PW_BIN):
    cmd = setpriv_cmd(user, caps, [binary, "--json", "--log-level", "debug", *args])
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=san_env(binary))
    assert p.returncode == 0, f"{cmd}: exit {p.returncode}: {p.stderr}"
    assert not sanitizer_report(p.stderr), sanitizer_report(p.stderr)
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()], p.stderr


def assert_collects_everything_else(snaps, schema):
    for s in snaps:
        validate(s, schema)
        for section in ("cpu", "memory", "network", "disk"):
            assert s[section] is not None, (section, s["errors"])
        assert set(s["errors"]) <= {"perf", "bpf"}, s["errors"]


def assert_socket_counts_by_bpf(snap):
    """The socket counts' BPF program (when this tree has it) works with the same minimum."""
    net = snap["network"]
    if "connections_source" in net:
        assert net["connections_source"] == "bpf", net.get("connections_bpf_error")


# ------------------------------------------------------------------ 1. the minimum for non-root

def test_no_capability_at_all_still_collects_procfs_and_says_what_is_off(system_user, schema):
    snaps, log = json_as(system_user, [], "--interval", "0.5", "--count", "2")
    assert_collects_everything_else(snaps, schema)
    assert "capabilities: none" in log
    assert "no CAP_BPF, CAP_PERFMON: eBPF collector off" in log, log
    perf = snaps[-1]["perf"]
    if paranoid() > 0:
        assert perf["source"] == "none", perf
        assert f"perf stat -a) refused while kernel.perf_event_paranoid={paranoid()}" in log, log


def test_cap_bpf_alone_is_not_enough(system_user, schema):
    snaps, log = json_as(system_user, ["bpf"], "--interval", "0.5", "--count", "2")
    assert_collects_everything_else(snaps, schema)
    assert "no CAP_PERFMON: eBPF collector off" in log, log
    assert snaps[-1]["perf"]["source"] != "bpf", snaps[-1]["perf"]


@needs_perfstat
def test_cap_perfmon_alone_gives_the_perf_stat_fallback(system_user, schema):
    snaps, log = json_as(system_user, ["perfmon"], "--interval", "0.5", "--count", "2")
    assert_collects_everything_else(snaps, schema)
    assert "no CAP_BPF: eBPF collector off" in log and "falling back to perf stat" in log, log
    perf = snaps[-1]["perf"]
    assert perf["source"] == "perf-stat", perf
    assert "cpu-clock" in perf["events"], perf
    # after set-up it keeps CAP_PERFMON, and only that: a restarted perf stat -a needs it
    assert "capabilities kept: cap_perfmon (perf source: perf-stat)" in log, log


@needs_bpf
@pytest.mark.parametrize("binary", binaries())
def test_cap_bpf_and_cap_perfmon_are_the_whole_minimum(system_user, schema, binary):
    snaps, log = json_as(system_user, ["bpf", "perfmon"], "--interval", "0.5", "--count", "3", "--bpf-stats",
                         binary=binary)
    assert_collects_everything_else(snaps, schema)
    assert set(snaps[-1]["errors"]) == set(), snaps[-1]["errors"]
    assert "capabilities: cap_perfmon,cap_bpf" in log, log
    assert "eBPF collector off" not in log, log
    for s in snaps:
        perf, b = s["perf"], s["bpf"]
        assert perf["source"] == "bpf", perf
        assert all(p["attached"] for p in b["programs"].values()), b["programs"]
        # the light skeleton's loader program (BPF_PROG_TYPE_SYSCALL) needs no more than these two
        assert b["loader"]["kind"] == "light_skeleton", b["loader"]
        assert perf["events"]["context-switches"]["value"] > 0
        assert_socket_counts_by_bpf(s)
    # the only thing missing: the BPF run-time statistics asked for, which need CAP_SYS_ADMIN
    assert "no CAP_SYS_ADMIN: BPF run-time statistics" in log, log
    # and after set-up it holds nothing: the maps and perf events it keeps reading need no capability
    assert "capabilities kept: none (perf source: bpf)" in log, log


# ------------------------------------------------------------------ 2. --user from root

def api(d, path):
    return api_json(d, path)


@needs_server
@needs_history
@needs_bpf
def test_user_drop_from_root_keeps_collection_history_and_server(system_user, schema, tmp_path):
    from server_testlib import ws_connect, ws_read_frame
    state = system_user.dir()
    db, log = state / "history.db", state / "perfwatch.log"
    with Daemon("--interval", "0.5", "--db", str(db), "--user", system_user.name, "--log-file", str(log)) as d:
        wait_log(log, f"now running as user {system_user.name}, capabilities kept: none (perf source: bpf)")
        t_drop = time.time()
        assert_every_thread(d.proc.pid, system_user, [])
        # collection keeps working without any capability: fresh snapshots, nothing failing
        wait_seq(d, 3)
        snap = api(d, "/api/snapshot")
        validate(snap, schema)
        assert snap["errors"] == {}, snap["errors"]
        assert snap["perf"]["source"] == "bpf" and snap["bpf"] is not None
        assert snap["perf"]["events"]["context-switches"]["value"] > 0
        assert_socket_counts_by_bpf(snap)
        # the stream
        ws, r = ws_connect(d.port)
        assert ws, r
        seqs = [json.loads(ws_read_frame(ws)[1])["seq"] for _ in range(3)]
        ws.close()
        assert seqs == list(range(seqs[0], seqs[0] + 3)), seqs
        # history: the database and its journal belong to the user and are written after the drop
        assert db.stat().st_uid == system_user.uid
        assert Path(str(db) + "-pending").stat().st_uid == system_user.uid
        hist = api(d, "/api/history?metrics=cpu.usage_percent&from=-60")
        t = hist["series"]["cpu.usage_percent"]["t"]
        assert any(x > t_drop + 0.5 for x in t), (t_drop, t[-5:])
        assert "history" not in snap["errors"]
        # logrotate: move the log away, SIGHUP: the user reopens a new one in its folder
        log.rename(state / "perfwatch.log.1")
        d.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert d.stop() == 0
    assert "SIGTERM: stopping" in log.read_text()
    assert log.stat().st_uid == system_user.uid
    old = (state / "perfwatch.log.1").read_text()
    assert "now running as user" in old and log_problems(old) == [], old


@needs_server
@needs_perfstat
def test_user_drop_with_perf_stat_keeps_cap_perfmon_alone(system_user, tmp_path):
    """The perf-stat source keeps CAP_PERFMON (ambient, every thread) so a restarted
    `perf stat -a` counts; test_perfstat.py checks the restart itself."""
    with Daemon("--interval", "0.5", "--no-db", "--perf-source", "perf-stat", "--user", system_user.name) as d:
        wait_log(d.log_path, "capabilities kept: cap_perfmon (perf source: perf-stat)")
        assert_every_thread(d.proc.pid, system_user, [CAP_PERFMON])
        (first,) = wait_for(lambda: children(d.proc.pid), 5)
        os.kill(first, signal.SIGKILL)

        def restarted():
            kids = [k for k in children(d.proc.pid) if k != first]
            return kids and "cpu-clock" in wait_seq(d, 0)["perf"]["events"] and kids

        (second,) = wait_for(restarted, 15, step=0.2)
        c = task_creds(second)[second]
        assert c["Uid"] == str(system_user.uid), c
        assert c["CapEff"] == c["CapAmb"] == cap_mask(CAP_PERFMON), c
        assert c["NoNewPrivs"] == "1", c
        assert d.stop() == 0


@needs_server
@needs_bpf
def test_non_root_service_gives_up_its_capabilities_after_set_up(system_user, tmp_path):
    """As the unit runs it: User= with AmbientCapabilities=CAP_BPF CAP_PERFMON."""
    state = system_user.dir()
    d = Daemon("--interval", "0.5", "--db", str(state / "history.db"))
    d.cmd = setpriv_cmd(system_user, ["bpf", "perfmon"], d.cmd)
    with d:
        wait_log(d.log_path, "set-up done, capabilities kept: none (perf source: bpf)")
        for tid, c in task_creds(d.proc.pid).items():
            assert c["Uid"] == str(system_user.uid), c
            for k in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
                assert c[k] == NO_CAPS, (tid, k, c)
            # without CAP_SETPCAP it cannot shrink the bounding set: systemd's
            # CapabilityBoundingSet= does; it holds nothing beyond these two
            assert int(c["CapBnd"], 16) & ~int(cap_mask(38, 39), 16) == 0, c
            assert c["NoNewPrivs"] == "1", c
        wait_seq(d, 3)
        snap = api(d, "/api/snapshot")
        assert snap["errors"] == {} and snap["perf"]["source"] == "bpf", snap["errors"]
        assert d.stop() == 0
    # without --bpf-stats nothing is missing, so nothing is said about run-time statistics
    assert "run-time statistics" not in d.read_log(), d.read_log()


def test_user_errors_are_clear(system_user):
    p = subprocess.run([PW_BIN, "--json", "--user", "no-such-user-pw"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and p.stdout == ""
    assert "cannot switch to user no-such-user-pw: no such user" in p.stderr, p.stderr
    p = subprocess.run([PW_BIN, "--json", "--user", "root"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "is root: nothing would be dropped" in p.stderr, p.stderr
    # an unprivileged process cannot switch user: a clear error, not a crash
    p = subprocess.run(setpriv_cmd(system_user, [], [PW_BIN, "--json", "--user", "nobody"]),
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "cannot switch" in p.stderr and "needs CAP_SET" in p.stderr, p.stderr
