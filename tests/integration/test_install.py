"""`make install` lays out the binary, the dashboard and a systemd unit that verifies."""
import shutil
import subprocess
from pathlib import Path

from conftest import REPO


def test_install_into_destdir_and_verify_unit(tmp_path):
    dest = tmp_path / "root"
    p = subprocess.run(["make", "-s", "install", f"DESTDIR={dest}", "PREFIX=/usr/local"],
                       cwd=REPO, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    binary = dest / "usr/local/bin/perfwatch"
    unit = dest / "lib/systemd/system/perfwatch.service"
    assert binary.is_file() and binary.stat().st_mode & 0o111
    assert (dest / "usr/local/share/perfwatch/web/index.html").is_file()
    text = unit.read_text()
    for line in ("AmbientCapabilities=CAP_BPF CAP_PERFMON", "NoNewPrivileges=yes", "ProtectSystem=strict",
                 "StateDirectory=perfwatch", "User=perfwatch", "SystemCallFilter=@system-service bpf perf_event_open"):
        assert line in text, line
    assert "ProtectProc=invisible" not in text and "ProcSubset=pid" not in text
    # systemd-analyze checks that ExecStart's program exists: point it at the staged copy
    staged = tmp_path / "perfwatch.service"
    staged.write_text(text.replace("/usr/local/bin/perfwatch", str(binary)))
    v = subprocess.run(["systemd-analyze", "verify", "--man=no", str(staged)],
                       capture_output=True, text=True, timeout=60)
    assert v.returncode == 0, v.stdout + v.stderr
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0
