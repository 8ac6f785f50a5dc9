"""The disk collector reads /proc/self/mountinfo only when the kernel signals a change of
the mount table: a filesystem mounted or unmounted while perfwatch runs must still show in
(or leave) the next snapshots. Runs perfwatch in a mount namespace of the test's own."""
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import PW_BIN


def _mount_ns(pid):
    return os.readlink(f"/proc/{pid}/ns/mnt")


@pytest.fixture
def mount_ns():
    """The pid of a process that holds a private mount namespace of its own."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("nsenter"):
        pytest.skip("needs root, unshare and nsenter to make a mount namespace")
    holder = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sleep", "120"])
    try:
        deadline = time.monotonic() + 10
        while _mount_ns(holder.pid) == _mount_ns("self"):
            assert time.monotonic() < deadline, "unshare did not make a mount namespace"
            time.sleep(0.01)
        yield holder.pid
    finally:
        holder.kill()
        holder.wait()


def _in_ns(pid, *cmd):
    subprocess.run(["nsenter", "-t", str(pid), "-m", *cmd], check=True, timeout=10)


def test_mount_and_unmount_show_in_the_next_snapshots(mount_ns):
    pw = subprocess.Popen(["nsenter", "-t", str(mount_ns), "-m", PW_BIN, "--json", "-i", "0.2",
                           "--count", "60", "--perf-source", "none"],
                          stdout=subprocess.PIPE, text=True)
    target = tempfile.mkdtemp(prefix="pw-mnt-")

    def snapshots(n):
        for _ in range(n):
            line = pw.stdout.readline()
            assert line, f"perfwatch ended early (rc {pw.poll()})"
            yield json.loads(line)

    try:
        first = list(snapshots(2))[-1]
        parts = first["disk"]["partitions"]
        if not parts:
            pytest.skip("no physical filesystem mounted here to bind")
        assert target not in parts
        src = next(iter(parts))
        # a bind mount of a physical filesystem is a partition of its own (same device, type)
        _in_ns(mount_ns, "mount", "--bind", src, target)
        # one snapshot may have been collected before the mount: the one after it must see it
        seen = [target in s["disk"]["partitions"] for s in snapshots(2)]
        assert seen[-1], f"{target} (bind of {src}) not in the snapshots after the mount: {seen}"
        assert all(target in s["disk"]["partitions"] for s in snapshots(3)), "listed, then lost"
        _in_ns(mount_ns, "umount", target)
        seen = [target in s["disk"]["partitions"] for s in snapshots(2)]
        assert not seen[-1], f"{target} still listed after its unmount: {seen}"
        assert not any(target in s["disk"]["partitions"] for s in snapshots(3))
    finally:
        pw.kill()
        pw.wait()
        subprocess.run(["nsenter", "-t", str(mount_ns), "-m", "umount", target], capture_output=True)
        os.rmdir(target)
