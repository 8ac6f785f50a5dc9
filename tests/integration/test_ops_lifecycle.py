"""Life cycle of the real daemon: stop, log, second instance, leaks.

- SIGTERM/SIGINT with everything running (eBPF programs attached, or the perf stat child;
  history open; WebSocket clients connected): exit 0 within one second (the operator's
  and systemd's expectation, a requirement rather than a benchmark), the BPF programs
  gone from the kernel, the perf child gone, the database closed cleanly (WAL checkpointed
  and removed), clients disconnected; also while a collector hangs in the kernel.
- Logs: nothing per snapshot at the default level, levels honoured, journald's priority
  prefix only when stderr is the journal, SIGHUP reopens --log-file.
- A second instance on the same port: exit 1 with a clear message, no crash (ASan), the
  first one and its database unharmed.
- Valgrind: a short daemon run reports no definite leak.
Each daemon test runs the normal build and the ASan+UBSan build (PW_SAN_BIN).
"""
import json
import os
import select
import shutil
import signal
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import PW_BIN, PW_SAN_BIN, Daemon, free_port
from ops_testlib import (api_json, binaries, children, log_problems, needs_bpf, needs_history, needs_perfstat,
                         needs_server, san_env, sanitizer_report, wait_for, wait_log, wait_seq)

STOP_LIMIT_S = 1.0  # the requirement


def bpf_prog_ids(pid):
    """IDs of the BPF programs whose fds (programs, links) the process holds."""
    ids = set()
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            text = Path(f"/proc/{pid}/fdinfo/{fd}").read_text()
        except OSError:
            continue
        ids |= {int(ln.split()[1]) for ln in text.splitlines() if ln.startswith("prog_id:")}
    return ids


def loaded_prog_ids():
    p = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True, timeout=30, check=True)
    return {prog["id"] for prog in json.loads(p.stdout)}


def daemon_log(d):
    return d.read_log()


def stop_timed(d, sig):
    t0 = time.monotonic()
    d.proc.send_signal(sig)
    rc = d.proc.wait(timeout=15)
    return rc, time.monotonic() - t0


# ------------------------------------------------------------------ stop

@needs_server
@needs_history
@pytest.mark.parametrize("binary", binaries())
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("source", [pytest.param("bpf", marks=needs_bpf),
                                    pytest.param("perf-stat", marks=needs_perfstat)])
def test_stop_releases_everything_within_a_second(tmp_path, binary, sig, source):
    from server_testlib import ws_connect, ws_read_frame
    db = tmp_path / "history.db"
    with Daemon("--interval", "1", "--db", str(db), "--perf-source", source, binary=binary,
                env=san_env(binary)) as d:
        wait_seq(d, 1)
        reader, r = ws_connect(d.port)
        assert reader, r
        ws_read_frame(reader)
        idle, r = ws_connect(d.port, rcvbuf=4096)  # connected, never reads
        assert idle, r
        progs = bpf_prog_ids(d.proc.pid) if source == "bpf" else set()
        kids = children(d.proc.pid)
        assert (progs if source == "bpf" else kids), f"nothing of the {source} source running"
        assert Path(str(db) + "-wal").exists()

        rc, took = stop_timed(d, sig)
        log = daemon_log(d)
        print(f"\nstop latency {source} {os.path.basename(binary)} {sig.name}: {took * 1000:.1f} ms")
        assert rc == 0, log
        assert took < STOP_LIMIT_S, (took, log)
        assert not sanitizer_report(log), sanitizer_report(log)
        assert f"{sig.name}: stopping" in log and log_problems(log) == [], log
        # clients: hung up
        for s in (reader, idle):
            s.settimeout(2)
            try:
                while s.recv(65536):
                    pass
            except (ConnectionResetError, TimeoutError, OSError) as e:
                assert not isinstance(e, TimeoutError), "a client was left connected"
            s.close()
        # the perf child: gone; BPF programs: unloaded (after an RCU grace period)
        for k in kids:
            assert not Path(f"/proc/{k}").exists() or "Z" in Path(f"/proc/{k}/stat").read_text().split(")")[1][:3]
        if progs:
            assert wait_for(lambda: not progs & loaded_prog_ids(), 10, step=0.2), "BPF programs left in the kernel"
    # history: closed cleanly (checkpointed, the WAL removed) and intact
    assert not Path(str(db) + "-wal").exists(), "the database was not closed (WAL still there)"
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()


@pytest.mark.parametrize("binary", binaries())
def test_stop_is_not_held_up_by_a_hanging_collector(binary):
    """A collector stuck in the kernel: the stop signal cuts the wait for it short.

    With --interval 2 each collection waits 1.6 s for the stuck collector (its deadline);
    SIGTERM lands in the middle of such a wait, which would otherwise take 1.3 s more."""
    env = san_env(binary, PW_TEST_HANG_COLLECTOR="disk")
    if binary == PW_SAN_BIN:
        env["ASAN_OPTIONS"] += ":detect_leaks=0"  # the stuck thread's memory is left to exit, on purpose
    p = subprocess.Popen([binary, "--json", "--interval", "2", "--count", "100", "--perf-source", "none"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        ready, _, _ = select.select([p.stdout], [], [], 20)
        assert ready, "no snapshot"
        snap = json.loads(p.stdout.readline())
        assert snap["disk"] is None and "deadline" in snap["errors"]["disk"]
        # the snapshot came out at tick + 1.6 s; the next collection starts 0.4 s later
        time.sleep(0.4 + 0.3)
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=15)
        took = time.monotonic() - t0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    print(f"\nstop latency with a hung collector ({os.path.basename(binary)}): {took * 1000:.1f} ms")
    assert p.returncode == 0, err
    assert took < STOP_LIMIT_S, (took, err)
    assert out == "", "a half-collected snapshot went out after the stop signal"
    assert not sanitizer_report(err), sanitizer_report(err)


# ------------------------------------------------------------------ logs

def start_plain(tmp_path, *args, binary=PW_BIN, env=None, log_name="perfwatch.log"):
    """The daemon without waiting for its server (the log tells when it runs)."""
    log = tmp_path / log_name
    cmd = [binary, "--listen", f"127.0.0.1:{free_port()}", "--no-db", "--perf-source", "none", *args]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env or san_env(binary))
    return p, log


@pytest.mark.parametrize("binary", binaries())
def test_sighup_reopens_the_log_file(tmp_path, binary):
    logdir = tmp_path / "logs"
    logdir.mkdir()
    log = logdir / "perfwatch.log"
    p, _ = start_plain(tmp_path, "--interval", "0.2", "--log-file", str(log), "--log-level", "debug", binary=binary)
    try:
        wait_log(log, "running as uid")
        # logrotate's way: move the file away, then SIGHUP
        log.rename(logdir / "perfwatch.log.1")
        p.send_signal(signal.SIGHUP)
        wait_log(log, "SIGHUP: reopened")
        # the folder gone: the reopen fails, it says so and keeps writing to the file it has
        shutil.move(str(logdir), str(tmp_path / "moved"))
        p.send_signal(signal.SIGHUP)
        wait_log(tmp_path / "moved" / "perfwatch.log", "cannot reopen --log-file")
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=10) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    first = (tmp_path / "moved" / "perfwatch.log.1").read_text()
    second = (tmp_path / "moved" / "perfwatch.log").read_text()
    assert "running as uid" in first and "SIGHUP" not in first
    assert "SIGHUP: reopened" in second and "SIGTERM: stopping" in second
    assert not sanitizer_report(first + second)
    # a --log-file line: local time, then the level
    assert second.splitlines()[0][:4].isdigit() and "perfwatch: debug: " in second.splitlines()[0], second


def test_log_file_that_cannot_be_opened_is_a_clear_error(tmp_path):
    p = subprocess.run([PW_BIN, "--json", "--log-file", str(tmp_path / "no" / "such" / "dir.log")],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 1 and p.stdout == ""
    assert "--log-file" in p.stderr and "No such file or directory" in p.stderr, p.stderr


def run_for(tmp_path, seconds, *args, env=None, name="perfwatch.log"):
    p, log = start_plain(tmp_path, "--interval", "0.1", "--log-file", str(tmp_path / name), *args, env=env)
    try:
        if "warn" in args or "error" in args:
            time.sleep(1)  # nothing to wait for in the log at these levels
        else:
            wait_log(tmp_path / name, "running as uid")
        time.sleep(seconds)
        lines_before_stop = (tmp_path / name).read_text().splitlines()
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=10) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return lines_before_stop, (tmp_path / name).read_text().splitlines()


def test_default_level_logs_nothing_per_snapshot(tmp_path):
    # 0.1 s interval for 1 s, then for 3 s: the same start-up lines, nothing per snapshot
    short, _ = run_for(tmp_path, 1, name="a.log")
    long_, full = run_for(tmp_path, 3, name="b.log")
    assert len(long_) == len(short) <= 6, long_
    assert all(": info: " in ln for ln in full), full
    assert full[-1].endswith("SIGTERM: stopping")


def test_log_levels(tmp_path):
    _, warn = run_for(tmp_path, 0.3, "--log-level", "warn", name="warn.log")
    _, info = run_for(tmp_path, 0.3, "--log-level", "info", name="info.log")
    _, debug = run_for(tmp_path, 0.3, "--log-level", "debug", name="debug.log")
    assert all(": info: " not in ln and ": debug: " not in ln for ln in warn), warn
    assert not any(": debug: " in ln for ln in info) and info
    assert any(": debug: " in ln for ln in debug) and len(debug) > len(info), debug
    p = subprocess.run([PW_BIN, "--log-level", "loud"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 2 and "--log-level is one of error, warn, info, debug" in p.stderr


def test_journald_priority_prefix_only_when_stderr_is_the_journal(tmp_path):
    def first_line(journal_stream_of):
        log = tmp_path / "stderr.log"
        log.write_text("")
        st = os.stat(log if journal_stream_of == "stderr" else "/dev/null")
        env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
        with open(log, "w") as f:
            p = subprocess.run([PW_BIN, "--json", "--user", "no-such-user-pw"], stdout=subprocess.DEVNULL,
                               stderr=f, env=env, timeout=10)
        assert p.returncode == 1
        return log.read_text().splitlines()[0]

    # stderr is "the journal": syslog priority, no program name (journald adds its own)
    assert first_line("stderr").startswith("<3>cannot switch to user no-such-user-pw")
    # JOURNAL_STREAM inherited but stderr redirected elsewhere: plain lines
    assert first_line("elsewhere").startswith("perfwatch: error: cannot switch to user")


# ------------------------------------------------------------------ a second instance

@needs_server
@needs_history
@pytest.mark.parametrize("binary", binaries())
def test_second_instance_on_the_same_port_and_database_fails_clearly(tmp_path, binary):
    """test_server_stream.py checks the message; here: the sanitizer build, the same
    database, and the first instance and its history unharmed."""
    db = tmp_path / "history.db"
    with Daemon("--interval", "0.5", "--db", str(db)) as d:
        wait_seq(d, 1)
        p = subprocess.run([binary, "--listen", f"127.0.0.1:{d.port}", "--db", str(db)], capture_output=True,
                           text=True, timeout=60, env=san_env(binary))
        assert p.returncode == 1, p.stderr
        assert "already in use" in p.stderr and "another perfwatch?" in p.stderr, p.stderr
        assert not sanitizer_report(p.stderr), sanitizer_report(p.stderr)
        n = api_json(d, "/api/snapshot")["seq"]
        wait_seq(d, n + 2)  # the first instance goes on collecting
        assert d.stop() == 0
        assert log_problems(d.read_log()) == [], d.read_log()
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()


# ------------------------------------------------------------------ valgrind

@pytest.mark.skipif(not shutil.which("valgrind"), reason="valgrind is not installed (make deps installs it)")
def test_valgrind_short_daemon_run_has_no_definite_leak(tmp_path):
    port = free_port()
    vlog = tmp_path / "valgrind.log"
    args = ["--listen", f"127.0.0.1:{port}", "--interval", "0.5"]
    args += ["--db", str(tmp_path / "history.db")] if (Path(__file__).parents[2] / "src/history/store.c").exists() else []
    # any memory error, or a definite leak, fails the run (exit 99)
    cmd = ["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
           "--error-exitcode=99", f"--suppressions={Path(__file__).parent / 'valgrind.supp'}",
           f"--log-file={vlog}", PW_BIN, *args]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        server = (Path(__file__).parents[2] / "src/server").is_dir()

        def serving():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/snapshot", timeout=2) as r:
                    return r.status == 200
            except Exception:
                return False
        if server:
            assert wait_for(serving, 120, step=0.5), p.stderr.read() if p.poll() is not None else "not serving"
            for path in ("/healthz", "/metrics", "/api/snapshot"):
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10).read()
            from server_testlib import ws_connect, ws_read_frame
            ws, _ = ws_connect(port, timeout=10)
            ws_read_frame(ws, timeout=10)
            ws.close()
        else:
            time.sleep(8)
        time.sleep(2)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    report = vlog.read_text()
    summary = report[report.find("LEAK SUMMARY"):] if "LEAK SUMMARY" in report else report[-3000:]
    assert p.returncode == 0, f"exit {p.returncode}: {err[-2000:]}\n{report[-6000:]}"
    assert "definitely lost: 0 bytes" in report or "All heap blocks were freed" in report, summary
