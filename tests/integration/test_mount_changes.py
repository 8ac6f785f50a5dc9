"""The disk collector reads /proc/self/mountinfo only when the kernel signals a change of
the mount table: a filesystem mounted or unmounted while perfwatch runs must still show in
(or leave) the next snapshots. Runs perfwatch in a mount namespace of the test's own."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import PW_BIN
from ops_testlib import assert_every_thread, system_user  # noqa: F401 (a fixture)


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


def _snapshots(pw, n):
    """The next n snapshots perfwatch --json prints."""
    for _ in range(n):
        line = pw.stdout.readline()
        assert line, f"perfwatch ended early (rc {pw.poll()})"
        yield json.loads(line)


def _a_disk_mount(pw, n):
    """The physical filesystems listed in the n-th snapshot (skips the test where there is none)."""
    parts = list(_snapshots(pw, n))[-1]["disk"]["partitions"]
    if not parts:
        pytest.skip("no physical filesystem mounted here to bind")
    return parts


def test_mount_and_unmount_show_in_the_next_snapshots(mount_ns):
    pw = subprocess.Popen(["nsenter", "-t", str(mount_ns), "-m", PW_BIN, "--json", "-i", "0.2",
                           "--count", "60", "--perf-source", "none"],
                          stdout=subprocess.PIPE, text=True)
    target = tempfile.mkdtemp(prefix="pw-mnt-")

    try:
        parts = _a_disk_mount(pw, 2)
        assert target not in parts
        src = next(iter(parts))
        # a bind mount of a physical filesystem is a partition of its own (same device, type)
        _in_ns(mount_ns, "mount", "--bind", src, target)
        # one snapshot may have been collected before the mount: the one after it must see it
        seen = [target in s["disk"]["partitions"] for s in _snapshots(pw, 2)]
        assert seen[-1], f"{target} (bind of {src}) not in the snapshots after the mount: {seen}"
        assert all(target in s["disk"]["partitions"] for s in _snapshots(pw, 3)), "listed, then lost"
        _in_ns(mount_ns, "umount", target)
        seen = [target in s["disk"]["partitions"] for s in _snapshots(pw, 2)]
        assert not seen[-1], f"{target} still listed after its unmount: {seen}"
        assert not any(target in s["disk"]["partitions"] for s in _snapshots(pw, 3))
    finally:
        pw.kill()
        pw.wait()
        subprocess.run(["nsenter", "-t", str(mount_ns), "-m", "umount", target], capture_output=True)
        os.rmdir(target)


# Mounts a FUSE filesystem whose server never answers (not even FUSE_INIT): every request to
# it waits, as on an NFS mount whose server is gone. Run inside the namespace by nsenter.
MOUNT_STALLED_FUSE = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
fd, target = sys.argv[1], sys.argv[2]
opts = f"fd={fd},rootmode=40000,user_id=0,group_id=0,allow_other".encode()
if libc.mount(b"pwstall", target.encode(), b"fuse.pwstall", 0, opts) != 0:
    sys.exit(f"mount fuse on {target}: {os.strerror(ctypes.get_errno())}")
"""


def _threads(pid):
    """{tid: name} of every thread of pid."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            out[int(tid)] = open(f"/proc/{pid}/task/{tid}/comm").read().strip()
        except OSError:
            pass
    return out


def test_a_stalled_fuse_mount_over_a_disk_costs_the_disk_section_alone(mount_ns, system_user):
    """While no listed filesystem can block, the disk collector runs in the daemon's thread and
    has no thread of its own. Once one lies below a FUSE mount whose server stopped answering,
    its statvfs() waits forever: the disk collector gets its thread (started after the --user
    drop, so holding nothing), misses its deadline, and every snapshot still comes on time with
    the other sections. When the FUSE connection goes away, the disk section comes back."""
    if not os.path.exists("/dev/fuse"):
        pytest.skip("no /dev/fuse: this kernel has no FUSE")
    interval = 0.2
    pw = subprocess.Popen(["nsenter", "-t", str(mount_ns), "-m", PW_BIN, "--json", "-i", str(interval),
                           "--count", "400", "--perf-source", "none", "--user", system_user.name],
                          stdout=subprocess.PIPE, text=True)
    top = tempfile.mkdtemp(prefix="pw-fuse-")
    os.chmod(top, 0o755)  # the daemon's user walks through it
    below = os.path.join(top, "disk")
    os.mkdir(below)
    fuse_fd = None

    try:
        parts = _a_disk_mount(pw, 3)
        _in_ns(mount_ns, "mount", "--bind", next(iter(parts)), below)
        assert below in list(_snapshots(pw, 2))[-1]["disk"]["partitions"]
        assert "pw-disk" not in _threads(pw.pid).values(), "nothing can block: no disk thread"

        fuse_fd = os.open("/dev/fuse", os.O_RDWR)
        subprocess.run(["nsenter", "-t", str(mount_ns), "-m", sys.executable, "-c", MOUNT_STALLED_FUSE,
                        str(fuse_fd), top], check=True, timeout=10, pass_fds=[fuse_fd])
        t0 = time.monotonic()
        late = list(_snapshots(pw, 10))
        took = time.monotonic() - t0
        assert took < 10 * interval + 2, f"10 snapshots took {took:.1f} s at a {interval} s interval"
        last = late[-1]
        assert last["disk"] is None, last["disk"]
        assert "deadline" in last["errors"].get("disk", ""), last["errors"]
        assert last["cpu"] is not None and last["memory"] is not None and last["network"] is not None
        assert set(last["errors"]) == {"disk"}, last["errors"]
        names = _threads(pw.pid)
        assert "pw-disk" in names.values(), names
        assert_every_thread(pw.pid, system_user, [], min_threads=2)

        # the connection aborted: the waiting statvfs() fails, the next collections finish
        os.close(fuse_fd)
        fuse_fd = None
        _in_ns(mount_ns, "umount", "--lazy", top)
        back = list(_snapshots(pw, 10))
        assert back[-1]["disk"] is not None and "disk" not in back[-1]["errors"], back[-1]["errors"]
        assert below in back[-1]["disk"]["partitions"]
    finally:
        if fuse_fd is not None:
            os.close(fuse_fd)
        pw.kill()
        pw.wait()
        subprocess.run(["nsenter", "-t", str(mount_ns), "-m", "umount", "--lazy", top], capture_output=True)
        subprocess.run(["nsenter", "-t", str(mount_ns), "-m", "umount", "--lazy", below], capture_output=True)
        os.rmdir(below)
        os.rmdir(top)
