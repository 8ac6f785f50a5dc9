"""`make install` and the hardened systemd unit.

The layout (binary, dashboard, README, unit, sysusers.d entry) under DESTDIR and PREFIX;
`systemd-analyze verify` and an offline `systemd-analyze security` score on the unit; the
sysusers.d entry creating the user in a scratch root. There is no systemd running here
(PID 1 is not systemd), so the unit cannot be started: instead the binary runs as its
user with its capabilities, under strace, and everything the unit forbids is checked
against what the process (and its perf child) really did: every system call inside
SystemCallFilter=, socket families inside RestrictAddressFamilies=, no writable and
executable memory (MemoryDenyWriteExecute=), writes only under the state directory
(ProtectSystem=strict), no /dev beyond PrivateDevices=' set, nothing that
ProtectKernelTunables= hides or makes read-only.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from functools import lru_cache
from pathlib import Path

import pytest

from conftest import REPO, Daemon
from ops_testlib import (needs_bpf, needs_history, needs_perfstat, needs_root, needs_server, needs_web,  # noqa: F401
                         setpriv_cmd, system_user)
from ops_testlib import wait_for, wait_log, wait_seq

EXPOSURE_MAX = 25  # systemd-analyze security, 0-100 (shown /10): 1.8 when written


pytestmark = needs_web


@pytest.fixture(scope="module")
def installed():
    # not under pytest's tmp_path (root only): the service user runs the installed binary
    top = Path(tempfile.mkdtemp(prefix="pwinstall-"))
    top.chmod(0o755)
    dest = top / "root"
    try:
        p = subprocess.run(["make", "-s", "install", f"DESTDIR={dest}", "PREFIX=/usr/local"],
                           cwd=REPO, capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, p.stdout + p.stderr
        yield dest
    finally:
        shutil.rmtree(top, ignore_errors=True)


def unit_settings(text):
    """[Service] settings of a unit: {key: [values, in order]}."""
    out, section = {}, None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            k, _, v = line.partition("=")
            out.setdefault(k, []).append(v)
    return out


def staged_unit(installed, tmp_path):
    """The unit with ExecStart pointing at the staged binary (verify checks it exists)."""
    text = (installed / "usr/local/lib/systemd/system/perfwatch.service").read_text()
    staged = tmp_path / "perfwatch.service"
    staged.write_text(text.replace("/usr/local/bin/perfwatch", str(installed / "usr/local/bin/perfwatch")))
    return staged


def test_layout_under_destdir_and_prefix(installed):
    binary = installed / "usr/local/bin/perfwatch"
    assert binary.is_file() and binary.stat().st_mode & 0o111
    assert (installed / "usr/local/share/perfwatch/web/index.html").is_file()
    assert (installed / "usr/local/share/doc/perfwatch/README.md").is_file()
    assert (installed / "usr/local/lib/sysusers.d/perfwatch.conf").is_file()
    unit = (installed / "usr/local/lib/systemd/system/perfwatch.service").read_text()
    assert "@" not in unit.split("[Service]")[1].split("ExecStart=")[1].splitlines()[0]  # all substituted
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0 and out.stdout.startswith("perfwatch ")
    # nothing outside DESTDIR: the tree holds only these top folders
    assert sorted(p.name for p in installed.iterdir()) == ["usr"]


def test_unit_has_the_hardening_and_verifies(installed, tmp_path):
    text = (installed / "usr/local/lib/systemd/system/perfwatch.service").read_text()
    s = unit_settings(text)
    assert s["User"] == ["perfwatch"] and s["Group"] == ["perfwatch"]
    assert s["AmbientCapabilities"] == ["CAP_BPF CAP_PERFMON"]
    assert s["CapabilityBoundingSet"] == ["CAP_BPF CAP_PERFMON"]
    assert s["StateDirectory"] == ["perfwatch"] and "--db /var/lib/perfwatch/history.db" in s["ExecStart"][0]
    assert "--web-root /usr/local/share/perfwatch/web" in s["ExecStart"][0]
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices", "ProtectKernelTunables",
                "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups", "MemoryDenyWriteExecute",
                "RestrictSUIDSGID", "LockPersonality", "RestrictRealtime", "RestrictNamespaces"):
        assert s.get(key) == ["yes"], key
    assert s["ProtectSystem"] == ["strict"]
    assert s["SystemCallFilter"] == ["@system-service bpf perf_event_open"]
    assert "ProtectProc" not in s and "ProcSubset" not in s  # they hide /proc/stat, /proc/meminfo
    staged = staged_unit(installed, tmp_path)
    v = subprocess.run(["systemd-analyze", "verify", "--man=no", str(staged)], capture_output=True, text=True,
                       timeout=60)
    assert v.returncode == 0 and v.stderr.strip() == "", v.stdout + v.stderr
    sec = subprocess.run(["systemd-analyze", "security", "--offline=true", f"--threshold={EXPOSURE_MAX}",
                          str(staged)], capture_output=True, text=True, timeout=60)
    assert sec.returncode == 0, sec.stdout[-3000:] + sec.stderr
    print("\n" + sec.stdout.strip().splitlines()[-1])


def test_sysusers_entry_creates_the_user(installed, tmp_path):
    root = tmp_path / "sysroot"
    (root / "etc").mkdir(parents=True)
    p = subprocess.run(["systemd-sysusers", f"--root={root}", str(installed / "usr/local/lib/sysusers.d/perfwatch.conf")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    (entry,) = [ln for ln in (root / "etc/passwd").read_text().splitlines() if ln.startswith("perfwatch:")]
    f = entry.split(":")
    assert int(f[2]) < 1000 and f[5] == "/var/lib/perfwatch" and f[6] == "/usr/sbin/nologin", entry
    assert any(ln.startswith("perfwatch:") for ln in (root / "etc/group").read_text().splitlines())


# ------------------------------------------------------------------ the unit's limits, checked by strace

@lru_cache(maxsize=None)
def syscall_group(name):
    """The system calls of a systemd filter group, nested groups expanded."""
    out = subprocess.run(["systemd-analyze", "syscall-filter", name], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    calls = set()
    for line in out.splitlines()[1:]:
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        calls |= syscall_group(item) if item.startswith("@") else {item}
    return frozenset(calls)


def allowed_syscalls(spec):
    calls = set()
    for item in spec.split():
        calls |= syscall_group(item) if item.startswith("@") else {item}
    return calls


LINE = re.compile(r"^(\d+)\s+(?:<\.\.\. (\w+) resumed>|(\w+)\()(.*)$")
THREAD_NAME = re.compile(r"^/proc/(self|thread-self|\d+)/(task/\d+/)?comm$")
PRIVATE_DEV = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/ptmx"}


def parse_trace(path):
    """[(syscall, its arguments)] of an `strace -f` log; the second half of a call that
    another thread interrupted ("<... x resumed>") counts its name only; signals and
    exits are left out."""
    calls = []
    for line in Path(path).read_text(errors="replace").splitlines():
        m = LINE.match(line)
        if m:
            calls.append((m.group(2), "") if m.group(2) else (m.group(3), m.group(4)))
    return calls


def exercise(d):
    """Every route, a WebSocket client; returns the last snapshot."""
    from server_testlib import ws_connect, ws_read_frame
    wait_seq(d, 2)
    for path in ("/", "/metrics", "/api/snapshot", "/api/history?metrics=cpu.usage_percent&from=-60"):
        with urllib.request.urlopen(d.base + path, timeout=10) as r:
            r.read()
    ws, _ = ws_connect(d.port)
    ws_read_frame(ws)
    ws.close()
    time.sleep(0.5)
    return json.loads(urllib.request.urlopen(d.base + "/api/snapshot", timeout=10).read())


@needs_root
@needs_server
@needs_history
@pytest.mark.skipif(not shutil.which("strace"), reason="strace is not installed")
@pytest.mark.parametrize("source", [pytest.param("bpf", marks=needs_bpf),
                                    pytest.param("perf-stat", marks=needs_perfstat)])
def test_what_the_unit_forbids_is_never_needed(installed, system_user, source):
    s = unit_settings((installed / "usr/local/lib/systemd/system/perfwatch.service").read_text())
    caps = [c.lower().removeprefix("cap_") for c in s["AmbientCapabilities"][0].split()]
    state = system_user.dir()
    trace = state / "strace.log"  # strace's own writes are not traced
    d = Daemon("--interval", "0.2", "--db", str(state / "history.db"), "--perf-source", source,
               "--web-root", str(installed / "usr/local/share/perfwatch/web"),
               binary=str(installed / "usr/local/bin/perfwatch"))
    d.cmd = setpriv_cmd(system_user, caps, ["strace", "-f", "-qq", "-o", str(trace), *d.cmd])
    with d:
        # the daemon is the child of strace (which SIGTERM would only detach)
        (pw,) = wait_for(lambda: [int(p) for p in subprocess.run(["pgrep", "-P", str(d.proc.pid)],
                                                                  capture_output=True, text=True).stdout.split()], 10)
        try:
            wait_log(d.log_path, f"capabilities kept: {'none' if source == 'bpf' else 'cap_perfmon'}")
            snap = exercise(d)
            os.kill(pw, signal.SIGTERM)
            assert d.proc.wait(timeout=20) == 0
        finally:
            if Path(f"/proc/{pw}").exists():
                os.kill(pw, signal.SIGKILL)
    assert snap["errors"] == {} and snap["perf"]["source"] == source, snap["errors"]
    calls = parse_trace(trace)
    assert len(calls) > 1000, "strace saw too little"
    # SystemCallFilter=
    used = {name for name, _ in calls}
    outside = used - allowed_syscalls(s["SystemCallFilter"][0])
    assert not outside, f"system calls outside SystemCallFilter=: {sorted(outside)}"
    # RestrictAddressFamilies=
    families = {re.match(r"(\w+)", rest).group(1) for name, rest in calls if name == "socket" and rest}
    assert families <= set(s["RestrictAddressFamilies"][0].split()), families
    # MemoryDenyWriteExecute=: no W+X mapping, nothing made executable later
    for name, rest in calls:
        if name == "mmap" and "PROT_EXEC" in rest:
            assert "PROT_WRITE" not in rest, rest
        if name in ("mprotect", "pkey_mprotect"):
            assert "PROT_EXEC" not in rest, rest
    # ProtectSystem=strict, PrivateDevices=, ProtectKernelTunables=
    for name, rest in calls:
        if name not in ("open", "openat", "openat2", "creat", "mkdir", "mkdirat", "unlink", "unlinkat", "rename",
                        "renameat", "renameat2", "truncate", "chmod", "fchmodat", "chown", "fchownat", "link",
                        "linkat", "symlink", "symlinkat", "mknod", "mknodat"):
            continue
        if not rest:
            continue  # "<... unlink resumed>": its first half, checked too, has the path
        m = re.search(r'"([^"]*)"', rest)
        path = m.group(1) if m else ""
        if path.startswith("/dev/"):
            assert path in PRIVATE_DEV, rest
        assert path not in ("/proc/kallsyms", "/proc/kcore"), rest
        writes = name not in ("open", "openat", "openat2") or re.search(r"O_(WRONLY|RDWR|CREAT|TRUNC)", rest)
        if not writes or path.startswith("/dev/") or THREAD_NAME.match(path):
            continue  # /proc stays writable where the kernel lets a process name its own threads
        assert path.startswith(str(state) + "/"), f"writes outside the state directory: {name} {rest}"
    print(f"\n{source}: {len(used)} distinct system calls, all inside the unit's filter; families {sorted(families)}")
