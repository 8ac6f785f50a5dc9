"""All the processes of one tool: started into their own cgroup, measured, stopped.

CPU time comes from the cgroup (cgroup v2 cpu.stat usage_usec, or v1 cpuacct.usage):
nanosecond-exact, and it includes every process and thread the tool ever ran — netdata's
plugins, children that already exited. Without a usable cgroup it falls back to summing
the process tree from /proc (per-thread schedstat ns plus the reaped children's
cutime/cstime ticks). RSS is the sum over the tool's processes, sampled; VmHWM is summed
too, as an upper bound.
"""
import os
import re
import signal
import subprocess
import time
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
TICK_NS = 1e9 / os.sysconf("SC_CLK_TCK")


def _mounts():
    try:
        with open("/proc/self/mounts") as f:
            return [l.split() for l in f]
    except OSError:
        return []


def _cgroup_root():
    """(kind, path) of a cgroup hierarchy that counts CPU per group, or (None, None)."""
    for dev, mnt, fstype, opts, *_ in _mounts():
        if fstype == "cgroup2":
            return "v2", mnt
    for dev, mnt, fstype, opts, *_ in _mounts():
        if fstype == "cgroup" and "cpuacct" in opts.split(","):
            return "v1", mnt
    return None, None


_MAPPING = re.compile(r"^[0-9a-f]+-[0-9a-f]+ ")


def _read(path, default=None):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def _children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        st = _read(f"/proc/{d}/stat")
        if not st:
            continue
        try:
            ppid = int(st[st.rindex(")") + 2:].split()[1])
        except (ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    return kids


class ToolProcs:
    """One tool's processes. Use: tp = ToolProcs(name); tp.popen(cmd, ...); tp.cpu_ns() ..."""

    def __init__(self, name):
        self.name = name
        self.proc = None
        self.cg_kind, root = _cgroup_root()
        self.cg = None
        if self.cg_kind:
            cg = Path(root) / f"pwbench-{os.getpid()}-{name}"
            try:
                cg.mkdir(exist_ok=True)
                self.cg = cg
            except OSError:
                self.cg_kind = None
        self.method = f"cgroup {self.cg_kind}" if self.cg else "/proc tree"

    # -------------------------------------------------------------- start / stop
    def _enter(self):
        """Runs in the child between fork and exec: joins the cgroup before anything runs."""
        if self.cg:
            with open(self.cg / "cgroup.procs", "w") as f:
                f.write(str(os.getpid()))

    def popen(self, cmd, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        self.proc = subprocess.Popen(cmd, preexec_fn=self._enter, **kw)
        return self.proc

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def pids(self):
        if self.cg:
            txt = _read(self.cg / "cgroup.procs", "")
            return [int(x) for x in txt.split()]
        if not self.proc:
            return []
        kids, out, todo = _children_map(), [], [self.proc.pid]
        while todo:
            p = todo.pop()
            out.append(p)
            todo.extend(kids.get(p, []))
        return out

    def stop(self, grace=10.0):
        """SIGTERM to the tool's main process, then SIGKILL to whatever of it is left."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        for _ in range(3):
            left = [p for p in self.pids() if p != os.getpid()]
            if not left:
                break
            for p in left:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if self.proc.poll() is None:
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
            time.sleep(0.2)
        return self.proc.returncode

    def remove(self):
        if self.cg:
            for _ in range(20):
                try:
                    self.cg.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)
            self.cg = None

    # -------------------------------------------------------------- measure
    def cpu_ns(self):
        """CPU time (user + system) of every process of the tool since it started."""
        if self.cg and self.cg_kind == "v2":
            for line in _read(self.cg / "cpu.stat", "").splitlines():
                k, _, v = line.partition(" ")
                if k == "usage_usec":
                    return int(v) * 1000
        if self.cg and self.cg_kind == "v1":
            v = _read(self.cg / "cpuacct.usage")
            if v:
                return int(v)
        total = 0.0
        for pid in self.pids():
            st = _read(f"/proc/{pid}/stat")
            if st:
                f = st[st.rindex(")") + 2:].split()
                total += (int(f[13]) + int(f[14])) * TICK_NS  # cutime, cstime: reaped children
            try:
                tids = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue
            for tid in tids:
                ss = _read(f"/proc/{pid}/task/{tid}/schedstat")
                if ss:
                    total += int(ss.split()[0])
        return int(total)

    def rss_bytes(self):
        total = 0
        for pid in self.pids():
            st = _read(f"/proc/{pid}/statm")
            if st:
                total += int(st.split()[1]) * PAGE
        return total

    def bpf_map_rss_bytes(self):
        """Resident pages of mmapped BPF maps (ring buffers, mmapable arrays): kernel memory
        the process maps, which the issue counts apart from RSS as BPF map memory."""
        total = 0
        for pid in self.pids():
            in_map = False
            for line in _read(f"/proc/{pid}/smaps", "").splitlines():
                if _MAPPING.match(line):
                    in_map = line.rstrip().endswith("anon_inode:bpf-map")
                elif in_map and line.startswith("Rss:"):
                    total += int(line.split()[1]) * 1024
        return total

    def hwm_bytes(self):
        total = 0
        for pid in self.pids():
            for line in _read(f"/proc/{pid}/status", "").splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) * 1024
        return total

    def commands(self):
        names = []
        for pid in self.pids():
            c = _read(f"/proc/{pid}/comm")
            if c:
                names.append(c.strip())
        return names
