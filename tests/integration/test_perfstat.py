"""The perf-stat source against the real perf on this machine (Debian's linux-perf).

What it checks: the software events are counted and agree with the kernel's own counters;
hardware events are reported unsupported with the reason when the machine has no PMU; the
child is started the hardened way (absolute path, scrubbed environment, only its output
fd); a `kill -9` of it is survived and it comes back; it never outlives the daemon; and
the availability rules (no perf binary, a perf that cannot run, perf_event_paranoid
without privileges).
"""
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import PW_BIN, run_json, validate

SOFTWARE = ["cpu-clock", "context-switches", "cpu-migrations", "page-faults"]
HARDWARE = ["cycles", "instructions", "branches", "branch-misses", "L1-dcache-loads",
            "L1-dcache-load-misses", "LLC-loads", "LLC-load-misses", "L1-icache-loads",
            "dTLB-loads", "dTLB-load-misses", "iTLB-loads", "iTLB-load-misses"]
PERF = shutil.which("perf", path="/usr/sbin:/usr/bin:/sbin:/bin")

pytestmark = pytest.mark.skipif(PERF is None, reason="linux-perf is not installed (make deps installs it)")


def has_hw_pmu():
    devs = Path("/sys/bus/event_source/devices")
    if any((devs / n).exists() for n in ("cpu", "cpu_core", "cpu_atom")):
        return True
    return any((d / "cpus").exists() for d in devs.iterdir())


def online_cpus():
    n = 0
    for part in Path("/sys/devices/system/cpu/online").read_text().strip().split(","):
        lo, _, hi = part.partition("-")
        n += int(hi or lo) - int(lo) + 1
    return n


def proc_counter(path, key):
    for line in Path(path).read_text().splitlines():
        f = line.split()
        if f and f[0] == key:
            return int(f[1])
    raise KeyError(key)


def children(pid):
    """pids of the live (non-zombie) children of pid."""
    kids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        rest = stat[stat.rindex(")") + 2:].split()
        if int(rest[1]) == pid and rest[0] != "Z":
            kids.append(int(d.name))
    return kids


def perf_children(pid):
    out = []
    for k in children(pid):
        try:
            if os.readlink(f"/proc/{k}/exe") == os.path.realpath(PERF):
                out.append(k)
        except OSError:
            pass
    return out


def alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def pipe_fds(pid):
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            n += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("pipe:")
        except OSError:
            pass
    return n


class Stream:
    """`perfwatch --json ...` running, its snapshots read as they come."""

    def __init__(self, *args, env=None, preexec_fn=None):
        import json
        self._json = json
        self.proc = subprocess.Popen([PW_BIN, "--json", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env, preexec_fn=preexec_fn)
        self.snaps = []

    def next(self, timeout=10):
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert ready, f"no snapshot within {timeout} s"
        line = self.proc.stdout.readline()
        assert line, f"perfwatch ended: {self.proc.wait()} {self.proc.stderr.read()}"
        s = self._json.loads(line)
        self.snaps.append(s)
        return s

    def finish(self, timeout=30):
        out, err = self.proc.communicate(timeout=timeout)
        for line in out.splitlines():
            if line.strip():
                self.snaps.append(self._json.loads(line))
        assert self.proc.returncode == 0, err
        return self.snaps

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


NO_INTERVAL = "no complete perf stat interval since the previous snapshot"


def workload(seconds):
    """Page faults and context switches at a steady rate, modest on the shared CPUs."""
    code = (
        "import mmap, time\n"
        f"end = time.monotonic() + {seconds}\n"
        "while time.monotonic() < end:\n"
        "    m = mmap.mmap(-1, 64 * 4096)\n"
        "    for i in range(0, 64 * 4096, 4096):\n"
        "        m[i] = 1\n"
        "    m.close()\n"
        "    time.sleep(0.002)\n"
    )
    return subprocess.Popen(["/usr/bin/python3", "-c", code])


def test_software_events_counted_and_hardware_reported(schema):
    n = 5
    wl = workload(10)
    try:
        s = Stream("--perf-source", "perf-stat", "--interval", "1", "--count", str(n))
        s.next()
        ctxt0, pgfault0, t0 = proc_counter("/proc/stat", "ctxt"), proc_counter("/proc/vmstat", "pgfault"), time.monotonic()
        snaps = s.finish()
        ctxt1, pgfault1, t1 = proc_counter("/proc/stat", "ctxt"), proc_counter("/proc/vmstat", "pgfault"), time.monotonic()
    finally:
        wl.kill()
        wl.wait()
    assert [x["seq"] for x in snaps] == list(range(n))
    counted = []
    for snap in snaps:
        validate(snap, schema)
        perf = snap["perf"]
        assert perf["source"] == "perf-stat", perf
        if perf["error"] == NO_INTERVAL:
            # perf, kept off the CPU for a whole snapshot on a busy machine, printed nothing:
            # said so, and its counts come with the next snapshot
            assert perf["events"] == {} and perf["available"] is False
            continue
        counted.append(snap)
        for name in SOFTWARE:
            assert name in perf["events"], (name, perf)
            assert perf["events"][name]["value"] >= 0
            assert perf["events"][name]["running_ratio"] == 1  # software events never multiplex
        assert perf["events"]["cpu-clock"]["unit"] == "msec"
        assert perf["events"]["page-faults"]["unit"] is None
        # -a: every online CPU's clock runs the whole interval
        want = online_cpus() * 1000.0 * snap["interval_s"]
        assert abs(perf["events"]["cpu-clock"]["value"] - want) < 0.05 * want, perf["events"]["cpu-clock"]
        if has_hw_pmu():
            print("this machine has a CPU PMU: hardware events as perf reports them:", perf["error"])
        else:
            assert perf["available"] is False
            assert perf["error"] == ("not supported by this machine (no hardware PMU): " + ", ".join(HARDWARE))
            assert sorted(perf["events"]) == sorted(SOFTWARE)
    assert len(counted) >= n - 2, [x["perf"]["error"] for x in snaps]

    # the same kernel counters, read beside it: /proc/stat ctxt and /proc/vmstat pgfault, as
    # rates over the later snapshots (perf's intervals lag a snapshot by at most 0.1 s here)
    later = [x for x in counted if x["seq"] > 0]
    secs = t1 - t0
    perf_ctxt = sum(x["perf"]["events"]["context-switches"]["value"] for x in later) / len(later)
    perf_pf = sum(x["perf"]["events"]["page-faults"]["value"] for x in later) / len(later)
    proc_ctxt = (ctxt1 - ctxt0) / secs
    proc_pf = (pgfault1 - pgfault0) / secs
    print(f"per second: context switches perf {perf_ctxt:.0f} /proc/stat {proc_ctxt:.0f}; "
          f"page faults perf {perf_pf:.0f} /proc/vmstat {proc_pf:.0f}")
    assert proc_pf > 5000, "the workload did not run"
    assert abs(perf_ctxt - proc_ctxt) < 0.25 * proc_ctxt
    assert abs(perf_pf - proc_pf) < 0.25 * proc_pf


def test_standins_make_every_slot_count(schema):
    # tests only: each hardware slot counts a software stand-in, so the whole path up to
    # available=true runs on a machine without a PMU (the table of src/perf/perf_events.c)
    twins = {"cycles": "cpu-clock", "LLC-loads": "cpu-clock", "branches": "context-switches",
             "iTLB-loads": "context-switches", "branch-misses": "cpu-migrations",
             "iTLB-load-misses": "cpu-migrations", "L1-dcache-loads": "page-faults",
             "dTLB-loads": "page-faults"}
    env = dict(os.environ, PW_TEST_SOFTWARE_EVENTS="1")
    snaps = run_json("--perf-source", "perf-stat", "--interval", "1", "--count", "3", env=env)
    counted = [s for s in snaps if s["perf"]["error"] != NO_INTERVAL]
    assert counted, [s["perf"]["error"] for s in snaps]
    for snap in counted:
        validate(snap, schema)
        perf = snap["perf"]
        assert perf["available"] is True, perf
        assert perf["error"].startswith("test mode (PW_TEST_SOFTWARE_EVENTS=1)"), perf
        assert sorted(perf["events"]) == sorted(SOFTWARE + HARDWARE)
        ev = {k: v["value"] for k, v in perf["events"].items()}
        # a stand-in and its twin are separate counters of the same thing, read together
        for slot, twin in twins.items():
            assert abs(ev[slot] - ev[twin]) <= 0.02 * ev[twin] + 5, (slot, ev[slot], twin, ev[twin])
        assert perf["events"]["cycles"]["unit"] == "msec"  # cpu-clock's, as perf prints it


def test_child_is_started_hardened():
    s = Stream("--perf-source", "perf-stat", "--interval", "1", "--count", "2")
    try:
        s.next()
        (kid,) = perf_children(s.proc.pid)
        # exec'd by the absolute path resolved at start, no shell in between
        assert os.readlink(f"/proc/{kid}/exe") == os.path.realpath(PERF)
        argv = Path(f"/proc/{kid}/cmdline").read_bytes().split(b"\0")[:-1]
        assert argv[:6] == [b"perf", b"stat", b"-I", b"100", b"-x@", b"-a"], argv
        assert argv[6] == b"-e" and argv[7].decode().split(",") == SOFTWARE + HARDWARE
        assert argv[8:] == [b"--log-fd", b"3"]
        # the scrubbed environment, exactly
        env = Path(f"/proc/{kid}/environ").read_bytes().split(b"\0")[:-1]
        assert env == [b"LC_ALL=C", b"PATH=/usr/sbin:/usr/bin:/sbin:/bin", b"PERF_CONFIG_NOSYSTEM=1",
                       b"PERF_CONFIG_NOGLOBAL=1"], env
        # stdin/stdout on /dev/null, stderr and the output on pipes; perf itself may have
        # opened its perf events by now, but nothing else of ours came along
        fds = {int(fd): os.readlink(f"/proc/{kid}/fd/{fd}") for fd in os.listdir(f"/proc/{kid}/fd")}
        assert fds[0] == "/dev/null" and fds[1] == "/dev/null", fds
        assert fds[2].startswith("pipe:") and fds[3].startswith("pipe:"), fds
        ours = {fd: t for fd, t in fds.items() if fd > 3 and t != "anon_inode:[perf_event]"}
        assert ours == {}, ours
        # its own process group: ^C in a terminal goes to the daemon, which stops it
        assert os.getpgid(kid) == kid
        # the daemon blocks SIGINT/SIGTERM/SIGHUP and ignores SIGPIPE: perf must get none of
        # that (it is stopped by SIGTERM, and dies by SIGPIPE if the daemon vanishes); what
        # perf blocks for itself (SIGWINCH) is its business
        status = Path(f"/proc/{kid}/status").read_text()
        blk = int(status.split("SigBlk:")[1].split()[0], 16)
        ign = int(status.split("SigIgn:")[1].split()[0], 16)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
            assert not (blk | ign) & (1 << (sig - 1)), (sig, status)
        s.finish()
        assert not alive(kid), "perf outlived the daemon"
    finally:
        s.kill()


def test_kill_9_of_the_child_is_survived_and_it_comes_back(schema):
    s = Stream("--perf-source", "perf-stat", "--interval", "1", "--count", "9")
    try:
        s.next()
        s.next()
        (first,) = perf_children(s.proc.pid)
        pipes_before = pipe_fds(s.proc.pid)
        os.kill(first, signal.SIGKILL)
        seen = {first}
        after = []
        while len(s.snaps) < 9:
            after.append(s.next())
            seen.update(perf_children(s.proc.pid))
            if len(after) == 5:
                # restarted by now, and the old one reaped (no zombie), no fd leaked
                assert not alive(first)
                kids = perf_children(s.proc.pid)
                assert len(kids) == 1 and kids[0] != first, kids
                assert pipe_fds(s.proc.pid) == pipes_before
        s.finish()
    finally:
        s.kill()
    assert [x["seq"] for x in s.snaps] == list(range(9)), "a snapshot was lost"
    for snap in s.snaps:
        validate(snap, schema)
        assert snap["perf"]["source"] == "perf-stat"
    down = [x["perf"] for x in after if "killed by signal 9" in (x["perf"]["error"] or "")]
    assert down, [x["perf"]["error"] for x in after]
    assert down[0]["available"] is False and "restarting it in" in down[0]["error"], down[0]
    # back: counting again, and nothing about the kill any more
    back = [x for x in after if "cpu-clock" in x["perf"]["events"]
            and "killed" not in (x["perf"]["error"] or "")]
    assert back, [x["perf"]["error"] for x in after]
    assert "killed" not in (after[-1]["perf"]["error"] or ""), after[-1]["perf"]
    want = online_cpus() * 1000.0
    assert abs(back[-1]["perf"]["events"]["cpu-clock"]["value"] - want) < 0.05 * want
    assert len(seen) == 2, seen
    for pid in seen:
        assert not alive(pid), f"perf {pid} outlived the daemon"


def test_restarts_back_off_exponentially():
    # each new perf is killed at once: the waits before restarting double, 1 s, 2 s, 4 s
    s = Stream("--perf-source", "perf-stat", "--interval", "0.5", "--count", "60")
    killed, waits = set(), []
    try:
        s.next()
        deadline = time.monotonic() + 25
        while len(waits) < 3 and time.monotonic() < deadline:
            for kid in perf_children(s.proc.pid):
                if kid not in killed:
                    os.kill(kid, signal.SIGKILL)
                    killed.add(kid)
            err = s.next()["perf"]["error"] or ""
            if "killed by signal 9" in err and "restarting it in" in err and len(waits) < len(killed):
                waits.append(err.split("restarting it in ")[1])
        s.proc.send_signal(signal.SIGTERM)
        assert s.proc.wait(timeout=10) == 0
    finally:
        s.kill()
    assert waits == ["1 s", "2 s", "4 s"], waits
    for kid in killed:
        assert not alive(kid)


def test_stopped_with_the_daemon_on_sigterm():
    s = Stream("--perf-source", "perf-stat", "--interval", "1", "--count", "100")
    try:
        s.next()
        (kid,) = perf_children(s.proc.pid)
        s.proc.send_signal(signal.SIGTERM)
        assert s.proc.wait(timeout=10) == 0
        assert not alive(kid), "perf outlived the daemon"
    finally:
        s.kill()


def perf_of(snaps):
    (snap,) = snaps
    return snap["perf"]


def test_no_perf_on_path():
    env = dict(os.environ, PATH="/nonexistent:/usr/local/games")
    perf = perf_of(run_json("--perf-source", "perf-stat", "--interval", "0.2", env=env))
    assert perf["source"] == "none" and perf["available"] is False
    assert "perf binary not found" in perf["error"], perf
    assert perf["events"] == {}
    # auto: bpf needs no perf binary; only when it cannot run either is the source none
    perf = perf_of(run_json("--perf-source", "auto", "--interval", "0.2", env=env))
    if perf["source"] != "bpf":
        assert perf["source"] == "none" and "perf-stat: perf binary not found" in perf["error"], perf
    perf = perf_of(run_json("--perf-source", "perf-stat", "--interval", "0.2", "--perf-binary", "/nonexistent/perf"))
    assert perf["source"] == "none"
    assert "perf binary not found: --perf-binary /nonexistent/perf: No such file or directory" in perf["error"]


def test_a_perf_that_cannot_run_falls_back_to_none():
    # what Ubuntu's /usr/bin/perf wrapper does when linux-tools for the running kernel is missing
    with tempfile.TemporaryDirectory() as d:
        fake = Path(d) / "perf"
        fake.write_text("#!/bin/sh\necho \"WARNING: perf not found for kernel $(uname -r)\" >&2\nexit 2\n")
        fake.chmod(0o755)
        env = dict(os.environ, PATH=d)
        t0 = time.monotonic()
        perf = perf_of(run_json("--perf-source", "perf-stat", "--interval", "0.5", env=env))
        assert time.monotonic() - t0 < 5
    assert perf["source"] == "none" and perf["available"] is False
    assert "perf stat exited with status 2: WARNING: perf not found for kernel" in perf["error"], perf


def as_user(uid, gid, ambient_caps=()):
    """preexec_fn: become uid/gid, keeping the given capabilities as ambient ones."""
    def become():
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_KEEPCAPS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE = 8, 47, 2
        libc.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0)
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
        if ambient_caps:
            # capset: permitted + inheritable + effective = the caps, then raise them as ambient
            class Hdr(ctypes.Structure):
                _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

            class Data(ctypes.Structure):
                _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                            ("inheritable", ctypes.c_uint32)]
            bits = [0, 0]
            for c in ambient_caps:
                bits[c // 32] |= 1 << (c % 32)
            data = (Data * 2)(*[Data(b, b, b) for b in bits])
            if libc.capset(ctypes.byref(Hdr(0x20080522, 0)), data) != 0:
                raise OSError(ctypes.get_errno(), "capset")
            for c in ambient_caps:
                if libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) != 0:
                    raise OSError(ctypes.get_errno(), "PR_CAP_AMBIENT_RAISE")
    return become


def paranoid():
    return int(Path("/proc/sys/kernel/perf_event_paranoid").read_text())


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to another user needs root")
def test_unprivileged_user_and_paranoid():
    import pwd
    nobody = pwd.getpwnam("nobody")
    cmd = ["--perf-source", "perf-stat", "--interval", "0.5"]
    s = Stream(*cmd, "--count", "1", preexec_fn=as_user(nobody.pw_uid, nobody.pw_gid))
    perf = s.finish()[0]["perf"]
    if paranoid() > 0:
        assert perf["source"] == "none", perf
        assert f"perf_event_paranoid is {paranoid()} (> 0) and not privileged" in perf["error"], perf
    else:
        assert perf["source"] == "perf-stat", perf

    # the same user with CAP_PERFMON (ambient, so the exec'd perf has it too) may count
    CAP_PERFMON = 38
    s = Stream(*cmd, "--count", "2", preexec_fn=as_user(nobody.pw_uid, nobody.pw_gid, (CAP_PERFMON,)))
    perf = s.finish()[-1]["perf"]
    assert perf["source"] == "perf-stat", perf
    assert set(SOFTWARE) <= set(perf["events"]), perf


@pytest.mark.skipif(os.geteuid() != 0, reason="--user needs root")
def test_after_dropping_to_a_user_a_restarted_perf_still_counts():
    import pwd
    nobody = pwd.getpwnam("nobody")
    s = Stream("--perf-source", "perf-stat", "--interval", "1", "--count", "7", "--user", "nobody")
    try:
        s.next()
        (first,) = perf_children(s.proc.pid)
        assert os.stat(f"/proc/{first}").st_uid == 0  # started before the drop
        os.kill(first, signal.SIGKILL)
        uids = {first: 0}
        while len(s.snaps) < 7:
            s.next()
            for k in perf_children(s.proc.pid):
                uids.setdefault(k, os.stat(f"/proc/{k}").st_uid)
        s.finish()
    finally:
        s.kill()
    # restarted as nobody, with the CAP_PERFMON the daemon kept, and counting
    assert len(uids) == 2, uids
    (second,) = set(uids) - {first}
    assert uids[second] == nobody.pw_uid, uids
    last = s.snaps[-1]["perf"]
    assert "cpu-clock" in last["events"] and "killed" not in (last["error"] or ""), last
    for pid in uids:
        assert not alive(pid)


@pytest.mark.skipif(os.geteuid() != 0, reason="--user needs root")
def test_root_perf_is_stopped_by_a_daemon_that_dropped_to_a_user():
    # the daemon (now nobody) may not signal the root perf: closing its pipe stops it
    s = Stream("--perf-source", "perf-stat", "--interval", "1", "--count", "2", "--user", "nobody")
    try:
        s.next()
        (kid,) = perf_children(s.proc.pid)
        s.finish()
        deadline = time.monotonic() + 3
        while alive(kid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(kid), "the root perf outlived the daemon"
    finally:
        s.kill()
