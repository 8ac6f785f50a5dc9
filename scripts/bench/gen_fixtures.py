#!/usr/bin/python3
"""Generates procfs/sysfs fixture trees for the scaling rows of `make bench`.

Each tree is <out>/<name>/{proc,sys}, made for `perfwatch --json --proc-root <t>/proc
--sys-root <t>/sys` and for the procfs floor. A tree starts as a copy of this machine's
files that PerfWatch reads (the list the benchmark took from an strace of perfwatch, in
the floor's format, or a default list of the specification's files), then one dimension
is scaled up:

    cpus-N     /proc/stat, /proc/cpuinfo, /proc/interrupts, /proc/softirqs and every
               sys/devices/system/cpu/cpuK/... (and cpufreq/policyK) file for N CPUs
    ifaces-N   /proc/net/dev (and sys/class/net/<if>/... files) for N interfaces
    disks-N    /proc/diskstats (and sys/block/<dev>/... files) for N disks
    sockets-N  /proc/net/{tcp,tcp6,udp,udp6} with N sockets in all, in every state

Generated into the build folder, never committed. Also writes <out>/<name>/files.txt: the
tree's files in the floor's list format, and <out>/index.json: what each tree holds.

    gen_fixtures.py OUT [--list FILE] [--only cpus-64,sockets-100000] [--quick]
"""
import argparse
import json
import random
import re
import shutil
import sys
from pathlib import Path

FULL = ["base", "cpus-1", "cpus-64", "cpus-256", "cpus-1024", "ifaces-10", "ifaces-100",
        "ifaces-1000", "disks-5", "disks-50", "disks-500", "sockets-1000", "sockets-10000",
        "sockets-100000"]
QUICK = ["base", "cpus-1", "cpus-64", "cpus-1024", "ifaces-1000", "disks-500", "sockets-100000"]

# The specification's files, when no list from perfwatch itself is at hand.
DEFAULT_LIST = """\
proc stat
proc meminfo
proc vmstat
proc interrupts
proc cpuinfo
proc net/dev
proc diskstats
proc self/mountinfo
proc mounts
proc net/tcp
proc net/tcp6
proc net/udp
proc net/udp6
sys devices/system/cpu/online
sys devices/system/cpu/present
sys devices/system/cpu/possible
"""


def read_list(text):
    entries = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        kind, _, path = line.partition(" ")
        entries.append((kind, path))
    return entries


def real_cpu_dirs():
    base = Path("/sys/devices/system/cpu")
    return sorted((p.name for p in base.glob("cpu[0-9]*")), key=lambda n: int(n[3:]))


def copy_real(root, kind, rel):
    """Copies /proc/rel or /sys/rel into root/kind/rel (content only); False if unreadable."""
    src = Path("/" + kind) / rel
    dst = root / kind / rel
    try:
        data = src.read_bytes()
    except OSError:
        return False
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(data)
    return True


def write(root, kind, rel, text):
    dst = root / kind / rel
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(text)
    # /proc/net is /proc/self/net: a collector may read either, so both get the scaled file
    if kind == "proc" and rel.startswith("net/") and (root / "proc" / "self" / rel).exists():
        (root / "proc" / "self" / rel).write_text(text)


def build_base(root, entries):
    """A copy of this machine's files from the list; sys files under cpuN/ are kept as a
    template for the CPU scaling (only cpu0's are copied)."""
    copied = []
    for kind, rel in entries:
        if kind not in ("proc", "sys"):
            continue
        if copy_real(root, kind, rel):
            copied.append((kind, rel))
    # the files every tree needs even when the list did not name them
    for rel in ("stat", "meminfo", "vmstat", "net/dev", "diskstats", "self/mountinfo",
                "mounts", "net/tcp", "net/tcp6", "net/udp", "net/udp6"):
        if not (root / "proc" / rel).exists() and copy_real(root, "proc", rel):
            copied.append(("proc", rel))
    (root / "sys").mkdir(parents=True, exist_ok=True)
    return copied


# ---------------------------------------------------------------------------- cpus

CPU_DIR_RE = re.compile(r"^devices/system/cpu/cpu(\d+)/(.*)$")
POLICY_RE = re.compile(r"^devices/system/cpu/cpufreq/policy(\d+)/(.*)$")


def scale_cpus(root, n, rng):
    proc = root / "proc"
    stat = (proc / "stat").read_text().splitlines()
    rest = [l for l in stat if not l.startswith("cpu")]
    lines, tot = [], [0] * 10
    for k in range(n):
        v = [rng.randrange(10**5, 10**7), rng.randrange(0, 10**4), rng.randrange(10**4, 10**6),
             rng.randrange(10**6, 10**8), rng.randrange(0, 10**5), 0, rng.randrange(0, 10**4),
             0, 0, 0]
        tot = [a + b for a, b in zip(tot, v)]
        lines.append(f"cpu{k} " + " ".join(map(str, v)))
    write(root, "proc", "stat", "\n".join(["cpu  " + " ".join(map(str, tot))] + lines + rest) + "\n")

    if (proc / "cpuinfo").exists():
        blocks = (proc / "cpuinfo").read_text().strip().split("\n\n")
        first = blocks[0] if blocks else "processor\t: 0"
        out = []
        for k in range(n):
            b = re.sub(r"(?m)^processor\t: \d+", f"processor\t: {k}", first)
            b = re.sub(r"(?m)^core id\t\t: \d+", f"core id\t\t: {k}", b)
            b = re.sub(r"(?m)^(initial )?apicid\t+: \d+", lambda m: m.group(0).rsplit(":", 1)[0] + f": {k}", b)
            b = re.sub(r"(?m)^siblings\t: \d+", f"siblings\t: {n}", b)
            b = re.sub(r"(?m)^cpu cores\t: \d+", f"cpu cores\t: {n}", b)
            out.append(b)
        write(root, "proc", "cpuinfo", "\n\n".join(out) + "\n\n")

    for name in ("interrupts", "softirqs"):
        p = proc / name
        if not p.exists():
            continue
        rows = p.read_text().splitlines()
        if not rows:
            continue
        header = "    " + "".join(f"{'CPU' + str(k):>11}" for k in range(n))
        out = [header]
        for row in rows[1:]:
            label, _, tail = row.partition(":")
            parts = tail.split()
            counts = [x for x in parts if x.isdigit()]
            desc = parts[len(counts):]
            if name == "interrupts" and len(counts) <= 1 and not desc:
                out.append(row)  # ERR:, MIS: are one number, not per CPU
                continue
            cols = "".join(f"{rng.randrange(0, 10**6):>11}" for _ in range(n))
            out.append(f"{label}:{cols}" + ("  " + "  ".join(desc) if desc else ""))
        write(root, "proc", name, "\n".join(out) + "\n")

    rng_text = f"0-{n - 1}\n" if n > 1 else "0\n"
    for f in ("online", "present", "possible"):
        write(root, "sys", f"devices/system/cpu/{f}", rng_text)
    write(root, "sys", "devices/system/cpu/offline", "\n")

    # per-CPU sysfs files: every file found under cpuK/ (or cpufreq/policyK/) of this
    # machine is written for each of the n CPUs, with cpu0's content
    sysdir = root / "sys"
    templates, policies = {}, {}
    for p in list(sysdir.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(sysdir).as_posix()
        m = CPU_DIR_RE.match(rel)
        if m:
            templates.setdefault(m.group(2), p.read_text())
            p.unlink()
            continue
        m = POLICY_RE.match(rel)
        if m:
            policies.setdefault(m.group(2), p.read_text())
            p.unlink()
    if not templates:
        templates = {"cpufreq/scaling_cur_freq": "2300000\n"}
    for k in range(n):
        for sub, text in templates.items():
            write(root, "sys", f"devices/system/cpu/cpu{k}/{sub}", text)
        for sub, text in policies.items():
            write(root, "sys", f"devices/system/cpu/cpufreq/policy{k}/{sub}", text)


# ---------------------------------------------------------------------------- network

def real_ifaces():
    names = []
    try:
        for line in Path("/proc/net/dev").read_text().splitlines()[2:]:
            names.append(line.split(":", 1)[0].strip())
    except OSError:
        pass
    return names


def replicate_named(root, kind, prefix, real_names, new_names):
    """Files under <prefix>/<real name>/... become <prefix>/<new name>/... for every new name."""
    base = root / kind / prefix
    if not base.is_dir():
        return
    template = {}
    for name in real_names:
        d = base / name
        if not d.is_dir():
            continue
        for p in d.rglob("*"):
            if p.is_file():
                template.setdefault(p.relative_to(d).as_posix(), p.read_text(errors="replace"))
        shutil.rmtree(d)
    for name in new_names:
        for sub, text in template.items():
            write(root, kind, f"{prefix}/{name}/{sub}", text)


def scale_ifaces(root, n, rng):
    names = [f"eth{k}" if k % 4 else f"veth{k:04x}" for k in range(n)]
    out = ["Inter-|   Receive                                                |  Transmit",
           " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed",
           "    lo:   10302      57    0    0    0     0          0         0    10302      57    0    0    0     0       0          0"]
    for name in names:
        rb, rp, tb, tp = (rng.randrange(0, 2**40), rng.randrange(0, 2**30),
                          rng.randrange(0, 2**40), rng.randrange(0, 2**30))
        out.append(f"{name:>6}: {rb} {rp} {rng.randrange(0, 9)} {rng.randrange(0, 99)} 0 0 0 0 "
                   f"{tb} {tp} 0 {rng.randrange(0, 9)} 0 0 0 0")
    write(root, "proc", "net/dev", "\n".join(out) + "\n")
    replicate_named(root, "sys", "class/net", [i for i in real_ifaces() if i != "lo"], names)


# ---------------------------------------------------------------------------- disks

def real_disks():
    try:
        return [l.split()[2] for l in Path("/proc/diskstats").read_text().splitlines() if len(l.split()) > 3]
    except OSError:
        return []


def scale_disks(root, n, rng):
    names = []
    for k in range(n):
        if k % 2:
            names.append(f"nvme{k // 2}n1")
        else:
            a, b = divmod(k // 2, 26)
            names.append("sd" + (chr(ord("a") + a - 1) if a else "") + chr(ord("a") + b))
    out = ["   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0"]
    for k, name in enumerate(names):
        major = 259 if name.startswith("nvme") else 8
        rd, wr = rng.randrange(0, 10**7), rng.randrange(0, 10**7)
        f = [rd, rng.randrange(0, 10**5), rd * 8, rng.randrange(0, 10**7),
             wr, rng.randrange(0, 10**5), wr * 8, rng.randrange(0, 10**7),
             0, rng.randrange(0, 10**7), rng.randrange(0, 10**7), 0, 0, 0, 0, 0, 0]
        out.append(f"{major:>4} {k:>7} {name} " + " ".join(map(str, f)))
    write(root, "proc", "diskstats", "\n".join(out) + "\n")
    replicate_named(root, "sys", "block", real_disks(), names)


# ---------------------------------------------------------------------------- sockets

TCP_HDR = ("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
           "timeout inode                                                     ")
TCP6_HDR = ("  sl  local_address                         remote_address                        "
            "st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode")
UDP_HDR = ("   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
           "timeout inode ref pointer drops            ")
UDP6_HDR = ("  sl  local_address                         remote_address                        "
            "st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops")
# ESTABLISHED, TIME_WAIT, CLOSE_WAIT, LISTEN, SYN_SENT, FIN_WAIT1 — a busy server's mix
TCP_STATES = ["01"] * 60 + ["06"] * 25 + ["08"] * 5 + ["0A"] * 5 + ["02"] * 3 + ["04"] * 2


def _addr4(rng):
    return f"{rng.randrange(0, 2**32):08X}:{rng.randrange(1, 65536):04X}"


def _addr6(rng):
    return f"{rng.randrange(0, 2**128):032X}:{rng.randrange(1, 65536):04X}"


def _socket_lines(count, v6, udp, rng):
    out = []
    for sl in range(count):
        la, ra = (_addr6(rng), _addr6(rng)) if v6 else (_addr4(rng), _addr4(rng))
        st = "07" if udp else rng.choice(TCP_STATES)
        inode = rng.randrange(10**4, 10**8)
        if udp:
            out.append(f"{sl:>5}: {la} {ra} {st} 00000000:00000000 00:00000000 00000000     0        0 "
                       f"{inode} 2 0000000000000000 0")
        else:
            out.append(f"{sl:>4}: {la} {ra} {st} 00000000:00000000 00:00000000 00000000     0        0 "
                       f"{inode} 1 0000000000000000 100 0 0 10 0")
    return out


def scale_sockets(root, n, rng):
    split = {"net/tcp": (0.70, False, False, TCP_HDR), "net/tcp6": (0.20, True, False, TCP6_HDR),
             "net/udp": (0.05, False, True, UDP_HDR), "net/udp6": (0.05, True, True, UDP6_HDR)}
    left = n
    for i, (rel, (share, v6, udp, hdr)) in enumerate(split.items()):
        count = left if i == len(split) - 1 else int(n * share)
        left -= count
        write(root, "proc", rel, "\n".join([hdr] + _socket_lines(count, v6, udp, rng)) + "\n")


# ---------------------------------------------------------------------------- trees

def tree_files(root):
    """The tree's files in the floor's list format (what a collector could read)."""
    lines = []
    for kind in ("proc", "sys"):
        base = root / kind
        for p in sorted(base.rglob("*")):
            if p.is_file():
                lines.append(f"{kind} {p.relative_to(base).as_posix()}")
    return lines


def make_tree(out, name, entries, seed=1):
    root = out / name
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    build_base(root, entries)
    rng = random.Random(f"{seed}:{name}")
    kind, _, num = name.partition("-")
    if kind != "base":
        {"cpus": scale_cpus, "ifaces": scale_ifaces, "disks": scale_disks,
         "sockets": scale_sockets}[kind](root, int(num), rng)
    files = tree_files(root)
    # statfs() of the mount points stays (the tree's mountinfo is this machine's); sock_diag
    # dumps do not: on a tree, PerfWatch counts sockets from its /proc/net files
    files += sorted({f"{k} {p}" for k, p in entries if k == "statfs"})
    (root / "files.txt").write_text("\n".join(files) + "\n")
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    return {"name": name, "dimension": kind, "n": int(num) if num else None,
            "path": str(root), "files": len(files), "bytes": size}


def main(argv=None):
    ap = argparse.ArgumentParser(description="fixture trees for the scaling rows of make bench")
    ap.add_argument("out", help="output folder (under the build folder)")
    ap.add_argument("--list", help="files PerfWatch reads, in the procfs floor's list format")
    ap.add_argument("--only", help="comma-separated tree names (default: all)")
    ap.add_argument("--quick", action="store_true", help="fewer intermediate sizes")
    args = ap.parse_args(argv)

    entries = read_list(Path(args.list).read_text() if args.list else DEFAULT_LIST)
    names = args.only.split(",") if args.only else (QUICK if args.quick else FULL)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    index = [make_tree(out, n, entries) for n in names]
    (out / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    for t in index:
        print(f"{t['name']:>16}: {t['files']:>6} files, {t['bytes'] / 1e6:8.2f} MB  {t['path']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
