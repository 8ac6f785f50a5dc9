"""Helpers of the operations tests (test_ops_*.py, test_privileges.py, test_soak.py): a
throw-away system user, the credentials of every thread, the binaries to run (the normal
and the ASan+UBSan build), and markers for parts of PerfWatch other branches bring.
"""
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import PW_BIN, PW_SAN_BIN, REPO

CAP_PERFMON, CAP_BPF = 38, 39

# Parts built on other branches: the tests that need them run once they are merged.
needs_server = pytest.mark.skipif(not (REPO / "src/server").is_dir(),
                                  reason="needs the server (issue #5), not merged into this tree yet")
needs_history = pytest.mark.skipif(not (REPO / "src/history/store.c").is_file(),
                                   reason="needs the history store (issue #6), not merged into this tree yet")
needs_bpf = pytest.mark.skipif(not any((REPO / "bpf").glob("*.bpf.c")),
                               reason="needs the eBPF collector (issue #3), not merged into this tree yet")
needs_perfstat = pytest.mark.skipif(not (REPO / "src/perf/perfstat_child.c").is_file(),
                                    reason="needs the perf stat source (issue #4), not merged into this tree yet")
needs_web = pytest.mark.skipif(not (REPO / "web/index.html").is_file(),
                               reason="needs the dashboard (issue #7), not merged into this tree yet")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (users, capabilities, mounts)")


def binaries():
    """pytest params: the normal build, and the sanitizer build when it was built."""
    san = pytest.mark.skipif(not os.path.exists(PW_SAN_BIN),
                             reason=f"no ASan+UBSan build at {PW_SAN_BIN} (make integration builds it)")
    return [pytest.param(PW_BIN, id="gcc"), pytest.param(PW_SAN_BIN, id="asan", marks=san)]


def san_env(binary, **extra):
    """The environment for binary: sanitizer reports fail the run (exit 66) and name the cause."""
    env = dict(os.environ, **extra)
    if binary == PW_SAN_BIN:
        env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0:exitcode=66"
        env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1:exitcode=66"
    return env


def sanitizer_report(log_text):
    """The first sanitizer finding in a log, or None."""
    for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "SUMMARY: UndefinedBehavior"):
        i = log_text.find(marker)
        if i >= 0:
            return log_text[max(0, i - 200):i + 2000]
    return None


class SystemUser:
    """`useradd --system` of a fresh user (no home, no shell); `userdel` on exit."""

    def __init__(self):
        self.name = "pwops" + uuid.uuid4().hex[:8]
        self.dirs = []

    def __enter__(self):
        subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", "--user-group", self.name],
                       check=True, capture_output=True, timeout=30)
        pw = pwd.getpwnam(self.name)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        return self

    def __exit__(self, *exc):
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)
        subprocess.run(["userdel", self.name], capture_output=True, timeout=30)

    def dir(self):
        """A folder the user owns (0700), for its database and log, under one it can reach
        (pytest's tmp_path is under a root-only folder)."""
        top = Path(tempfile.mkdtemp(prefix="pwops-"))
        top.chmod(0o711)
        self.dirs.append(top)
        d = top / "state"
        d.mkdir(mode=0o700)
        os.chown(d, self.uid, self.gid)
        return d


@pytest.fixture(scope="module")
def system_user():
    if os.geteuid() != 0:
        pytest.skip("creating a user needs root")
    with SystemUser() as u:
        yield u


def setpriv_cmd(user, caps, cmd):
    """cmd run as user holding only caps (names like 'bpf'), ambient like systemd's
    AmbientCapabilities=, with the bounding set cut down to them too."""
    only = ",".join(["-all", *(f"+{c}" for c in caps)])
    return ["setpriv", "--reuid", str(user.uid), "--regid", str(user.gid), "--init-groups",
            "--inh-caps", only, "--ambient-caps", only, "--bounding-set", only, "--", *cmd]


def task_creds(pid):
    """{tid: {Uid, Gid, CapInh, CapPrm, CapEff, CapBnd, CapAmb, NoNewPrivs}} of every thread."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        fields = {}
        try:
            text = Path(f"/proc/{pid}/task/{tid}/status").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            k, _, v = line.partition(":")
            if k in ("Uid", "Gid", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Name"):
                fields[k] = v.split()[0] if k in ("Uid", "Gid") else v.strip()
        out[int(tid)] = fields
    return out


def cap_mask(*caps):
    m = 0
    for c in caps:
        m |= 1 << c
    return f"{m:016x}"


def assert_every_thread(pid, user, keep, min_threads=2):
    """Every thread of pid runs as user with exactly the capabilities keep. min_threads: main
    and server by default; a collector thread starts only when a collection may block
    (test_mount_changes.py makes one start after the drop)."""
    creds = task_creds(pid)
    assert len(creds) >= min_threads, creds
    want = cap_mask(*keep)
    for tid, c in creds.items():
        assert c["Uid"] == str(user.uid) and c["Gid"] == str(user.gid), (tid, c)
        for k in ("CapInh", "CapPrm", "CapEff", "CapAmb", "CapBnd"):
            assert c[k] == want, (tid, k, c)
        assert c["NoNewPrivs"] == "1", (tid, c)
    uids = Path(f"/proc/{pid}/status").read_text().split("Uid:")[1].split("\n")[0].split()
    assert uids == [str(user.uid)] * 4, uids  # real, effective, saved, filesystem


def children(pid):
    """pids of the live (non-zombie) children of pid, from every thread."""
    kids = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            kids += [int(k) for k in Path(f"/proc/{pid}/task/{tid}/children").read_text().split()]
        except OSError:
            pass
    live = []
    for k in kids:
        try:
            if Path(f"/proc/{k}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                live.append(k)
        except OSError:
            pass
    return live


def wait_for(pred, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def wait_log(path, text, timeout=20):
    """Waits until the log file at path contains text; returns the log."""
    def has():
        try:
            t = Path(path).read_text(errors="replace")
        except OSError:
            return None
        return t if text in t else None
    got = wait_for(has, timeout)
    assert got, f"{text!r} never appeared in {path}: {Path(path).read_text(errors='replace') if Path(path).exists() else '(no file)'}"
    return got


def log_problems(text):
    """Lines of a log at warning level or above (or from a sanitizer)."""
    bad = [ln for ln in text.splitlines()
           if ": error: " in ln or ": warning: " in ln or ln.startswith(("<3>", "<4>")) or "Sanitizer" in ln
           or "runtime error" in ln]
    return bad


def api_json(d, path, timeout=5):
    """GET d.base + path as JSON; None on 503 (no snapshot yet, history unavailable)."""
    try:
        with urllib.request.urlopen(d.base + path, timeout=timeout) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        if e.code == 503:
            return None
        raise


def wait_seq(d, n, timeout=20):
    """Waits until /api/snapshot has reached seq n; returns that snapshot."""
    def reached():
        s = api_json(d, "/api/snapshot")
        return s if s and s["seq"] >= n else None
    snap = wait_for(reached, timeout, step=0.1)
    assert snap, f"seq {n} not reached within {timeout} s: {d.read_log()}"
    return snap
