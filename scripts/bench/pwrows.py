"""PerfWatch's own rows of `make bench`: the procfs floor, CPU by stage, and scaling.

- The files one snapshot reads are taken from perfwatch itself: an strace of
  `perfwatch --json --interval 1 --count 2`, keeping the opens, statfs() calls and
  sock_diag dumps made between the two printed snapshots (one whole cycle, nothing of the
  start-up). Without strace, the specification's files stand in (and the table says so).
- The floor is build/bench/procfs_floor over that list: the same reads, no parsing.
- Scaling runs `perfwatch --json --proc-root/--sys-root` on the generated fixture trees and
  reads the CPU of each cycle from the snapshot's own "self" section.
"""
import json
import os
import re
import shutil
import statistics
import subprocess
from pathlib import Path

import gen_fixtures

OPEN_RE = re.compile(r"\b(?:openat|open)\(.*= \d+<(/(?:proc|sys)/[^>]*)>\s*$|resumed>.*= \d+<(/(?:proc|sys)/[^>]*)>\s*$")
# files kept open and re-read with pread from offset 0 (PerfWatch's procfs files)
READ_RE = re.compile(r"\b(?:pread64|read)\(\d+<(/(?:proc|sys)/[^>]*)>")
STATFS_RE = re.compile(r'\bstatfs\("([^"]+)"(?:.*\)\s*= 0|, <unfinished)')
DIAG_RE = re.compile(r"sdiag_family=(AF_INET6?)\b.*?sdiag_protocol=IPPROTO_(TCP|UDP)")
# strace decodes a socket's first message only once it knows its protocol: the raw form
DIAG_RAW_RE = re.compile(r'nlmsg_type=(?:SOCK_DIAG_BY_FAMILY|0x14)\b[^]]*?\}, "\\x(02|0a)\\x(06|11)')
DUMP_RE = re.compile(r"nlmsg_flags=[^,]*(NLM_F_DUMP|0x300)")
# the compat interface (TCPDIAG_GETSOCK = 0x12): IPv4 and IPv6 TCP in one dump
DIAG_COMPAT_RE = re.compile(r"nlmsg_type=(?:TCPDIAG_GETSOCK|0x12)\b")
WRITE1_RE = re.compile(r"\bwrite\(1[<,]")
PID_DIR_RE = re.compile(r"^/proc/\d+/(task/\d+/)?")


def _ts(line):
    parts = line.split(None, 2)
    try:
        return float(parts[1])
    except (IndexError, ValueError):
        return None


def _bursts(times, gap=0.3):
    out = []
    for t in sorted(times):
        if out and t - out[-1][1] <= gap:
            out[-1][1] = t
        else:
            out.append([t, t])
    return out


def parse_strace(text):
    """The entries of the last full cycle in an strace -f -y -ttt log, in the floor's format."""
    lines = text.splitlines()
    writes = [_ts(l) for l in lines if WRITE1_RE.search(l)]
    bursts = _bursts([t for t in writes if t is not None])
    if len(bursts) < 2:
        return None
    lo, hi = bursts[-2][1], bursts[-1][0]
    entries = []
    for l in lines:
        t = _ts(l)
        if t is None or not lo < t < hi:
            continue
        m = OPEN_RE.search(l) or READ_RE.search(l)
        if m:
            path = m.group(1) or (m.group(2) if m.re is OPEN_RE else None)
            path = PID_DIR_RE.sub(lambda mm: "/proc/self/" if not mm.group(1) else "/proc/thread-self/", path)
            kind, rel = path[1:].split("/", 1) if "/" in path[1:] else (path[1:], "")
            if rel and f"{kind} {rel}" not in entries:  # one whole read per file, however many calls
                entries.append(f"{kind} {rel}")
            continue
        m = STATFS_RE.search(l)
        if m:
            entries.append(f"statfs {m.group(1)}")
            continue
        if ("sendto(" in l or "sendmsg(" in l) and not DUMP_RE.search(l):
            continue  # a sock_diag lookup of one socket, not a dump: O(1), left out
        m = DIAG_RE.search(l)
        if m:
            entries.append(f"sockdiag {m.group(2).lower()}{'6' if m.group(1) == 'AF_INET6' else '4'}")
            continue
        m = DIAG_RAW_RE.search(l)
        if m:
            entries.append(f"sockdiag {'tcp' if m.group(2) == '06' else 'udp'}{'6' if m.group(1) == '0a' else '4'}")
            continue
        if DIAG_COMPAT_RE.search(l) and "sendto(" in l or "sendmsg(" in l and DIAG_COMPAT_RE.search(l):
            entries.append("sockdiag tcp46")
    return entries


def file_list(pw_bin, out_dir):
    """(entries, how): what one PerfWatch cycle reads, and how that was found out."""
    out_dir.mkdir(parents=True, exist_ok=True)
    strace = shutil.which("strace")
    if strace:
        log = out_dir / "strace.log"
        try:
            p = subprocess.run([strace, "-f", "-y", "-qq", "-ttt", "-s", "256",
                                "-e", "trace=open,openat,read,pread64,statfs,write,sendto,sendmsg",
                                "-o", str(log), pw_bin, "--json", "--interval", "1", "--count", "2",
                                "--log-level", "warn"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
            entries = parse_strace(log.read_text(errors="replace")) if p.returncode == 0 else None
            if entries is not None:
                (out_dir / "floor-list.txt").write_text("\n".join(entries) + "\n")
                return entries, "strace of one perfwatch cycle"
            why = f"perfwatch exited {p.returncode}" if p.returncode else "no two snapshots in the trace"
        except (subprocess.TimeoutExpired, OSError) as e:
            why = str(e)
    else:
        why = "strace not installed"
    entries = [l for l in gen_fixtures.DEFAULT_LIST.splitlines() if l] + ["statfs /"]
    (out_dir / "floor-list.txt").write_text("\n".join(entries) + "\n")
    return entries, f"the specification's files ({why})"


def run_floor(floor_bin, list_path, proc_root=None, sys_root=None, seconds=1.0):
    cmd = [str(floor_bin), "--seconds", str(seconds)]
    if proc_root:
        cmd += ["--proc-root", str(proc_root), "--sys-root", str(sys_root)]
    p = subprocess.run(cmd + [str(list_path)], capture_output=True, text=True, timeout=120)
    if p.returncode:
        raise RuntimeError(p.stderr.strip() or f"exit {p.returncode}")
    return json.loads(p.stdout)


def floor_row(floor_bin, pw_bin, out_dir, quick):
    """The floor on this machine: {"cpu_ns", "entries", "how", ...} or {"error"}."""
    if not Path(floor_bin).exists():
        return {"error": f"{floor_bin} not built"}
    entries, how = file_list(pw_bin, out_dir)
    if not entries:
        return {"error": f"perfwatch read no procfs/sysfs file in a cycle ({how})", "how": how}
    try:
        r = run_floor(floor_bin, out_dir / "floor-list.txt", seconds=0.5 if quick else 2.0)
    except Exception as e:
        return {"error": str(e), "how": how}
    kinds = {}
    for e in entries:
        kinds[e.split(" ", 1)[0]] = kinds.get(e.split(" ", 1)[0], 0) + 1
    return {"cpu_ns": r["cpu_ns_per_pass"]["median"], "min_ns": r["cpu_ns_per_pass"]["min"],
            "p90_ns": r["cpu_ns_per_pass"]["p90"], "entries": r["entries"], "failed": r["failed"],
            "bytes": r["bytes_per_pass"], "passes": r["passes"], "kinds": kinds, "how": how}


# ----------------------------------------------------------------------------- self / stages

def flatten_self(snap):
    """{"collect_cpu_ns": v, ...} from a snapshot's "self" (nested objects flattened with '.')."""
    out = {}

    def walk(prefix, v):
        if isinstance(v, dict):
            for k, x in v.items():
                walk(f"{prefix}{k}." if isinstance(x, dict) else f"{prefix}{k}", x)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[prefix] = v

    walk("", (snap or {}).get("self") or {})
    return out


def stage_medians(snaps):
    """Median of every *_ns field of "self" over snapshots, and of each entry of a *_ns
    object ("collector_cpu_ns.perf": the BPF drain, "output_cpu_ns.history"), zeros of a
    first cycle left out."""
    acc = {}
    for s in snaps:
        for k, v in flatten_self(s).items():
            if (k.endswith("_ns") or k.split(".")[0].endswith("_ns")) and v > 0:
                acc.setdefault(k, []).append(v)
    return {k: {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}
            for k, v in acc.items()}


def history_self_values(body):
    """{"cycle_cpu_ns": [values]} from an /api/history answer for self.* metrics, whatever its
    exact shape: under each key naming a metric, the numbers of its points ([t, v] pairs,
    {"v"|"value"|"mean": v} objects, or plain numbers)."""
    out = {}

    def values(pts):
        vals = []
        for p in pts if isinstance(pts, list) else []:
            if isinstance(p, (list, tuple)) and len(p) >= 2 and isinstance(p[1], (int, float)):
                vals.append(p[1])
            elif isinstance(p, dict):
                v = next((p[k] for k in ("v", "value", "mean", "avg") if isinstance(p.get(k), (int, float))), None)
                if v is not None:
                    vals.append(v)
            elif isinstance(p, (int, float)) and not isinstance(p, bool):
                vals.append(p)
        return vals

    def walk(v):
        if isinstance(v, dict):
            name = v.get("metric") or v.get("name")
            if isinstance(name, str) and name.startswith("self."):
                for k in ("points", "data", "values"):
                    if k in v:
                        out.setdefault(name[5:], []).extend(x for x in values(v[k]) if x > 0)
            for k, x in v.items():
                if k.startswith("self.") and isinstance(x, (list, dict)):
                    pts = x if isinstance(x, list) else next((x[j] for j in ("v", "points", "data", "values")
                                                              if j in x), [])
                    out.setdefault(k[5:], []).extend(y for y in values(pts) if y > 0)
                else:
                    walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(body)
    return {k: v for k, v in out.items() if v}


def bpf_map_bytes(snap):
    """Memory of PerfWatch's BPF maps as the snapshot's bpf section reports it: numbers whose
    path names maps and memory/bytes (e.g. bpf.maps.memory_bytes)."""
    total, found = 0, False

    def walk(v, path):
        nonlocal total, found
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, path + (k.lower(),))
        elif isinstance(v, list):
            for x in v:
                walk(x, path)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            leaf = path[-1] if path else ""
            if any("map" in p for p in path) and ("bytes" in leaf or "mem" in leaf):
                total += v
                found = True

    walk((snap or {}).get("bpf"), ())
    return total if found else None


def bpf_programs(snap):
    """{program: {"attach", "ns_per_run", "runs"}} from the snapshot's BPF stats, if any."""
    progs = ((snap or {}).get("bpf") or {}).get("programs")
    if not isinstance(progs, dict):
        return {}
    out = {}
    for name, p in progs.items():
        if isinstance(p, dict):
            out[name] = {k: p.get(k) for k in ("attach", "attached", "ns_per_run", "runs", "error")}
    return out


# ----------------------------------------------------------------------------- scaling

def _real_counts():
    def lines(p, skip):
        try:
            return max(0, len(Path(p).read_text().splitlines()) - skip)
        except OSError:
            return 0
    ifaces = [n for n in gen_fixtures.real_ifaces() if n != "lo"]
    disks = [d for d in gen_fixtures.real_disks() if not d.startswith(("loop", "ram"))]
    socks = sum(lines(f"/proc/net/{f}", 1) for f in ("tcp", "tcp6", "udp", "udp6"))
    return {"cpus": os.cpu_count(), "ifaces": len(ifaces), "disks": len(disks), "sockets": socks}


def real_sockets(pw_bin, floor_bin, out_dir, sizes, log, cycle=None):
    """CPU per snapshot with N real sockets open, in a network namespace of the benchmark's
    own (sock_diag and BPF read the kernel's own tables: no fixture tree stands in for
    that). The floor beside it does one PerfWatch cycle's reads in that namespace (cycle:
    the floor list), or, without the list, the four sock_diag dumps."""
    rows = []
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        return [{"tree": "real-sockets", "dimension": "real-sockets", "n": None, "files": "–",
                 "error": "needs root, unshare and ip (iproute2)"}]
    out_dir.mkdir(parents=True, exist_ok=True)
    diag_path = out_dir / "sockdiag.txt"
    diag_path.write_text("\n".join(cycle or ["sockdiag tcp4", "sockdiag tcp6", "sockdiag udp4", "sockdiag udp6"]) + "\n")
    holder = Path(__file__).resolve().parent / "socket_load.py"
    for n in sizes:
        row = {"tree": f"real-sockets-{n}", "dimension": "real-sockets", "n": n, "files": "real kernel"}
        pw_out, fl_out, plan = out_dir / f"pw-{n}.jsonl", out_dir / f"floor-{n}.json", out_dir / f"plan-{n}.json"
        plan.write_text(json.dumps([
            [[pw_bin, "--json", "--interval", "0.25", "--count", "6", "--perf-source", "none", "--log-level", "warn"],
             str(pw_out)],
            [[str(floor_bin), "--seconds", "0.5", str(diag_path)], str(fl_out)],
        ]))
        try:
            p = subprocess.run(["unshare", "-n", "sh", "-c",
                                f"ip link set lo up && exec /usr/bin/python3 {holder} {n} {plan}"],
                               capture_output=True, text=True, timeout=600)
            if p.returncode:
                last = ((p.stderr or p.stdout).strip().splitlines() or [""])[-1]
                raise RuntimeError(f"exit {p.returncode}: {last[-200:]}")
            row["held"] = json.loads(p.stdout.strip().splitlines()[-1])["held"]
            snaps = [json.loads(l) for l in pw_out.read_text().splitlines() if l.strip()]
            st = stage_medians(snaps[1:] or snaps)
            row["collect_ns"] = st.get("collect_cpu_ns", {}).get("median")
            row["cycle_ns"] = st.get("cycle_cpu_ns", {}).get("median")
            row["bytes"] = len(json.dumps(snaps[-1], separators=(",", ":")))
            row["errors"] = snaps[-1].get("errors") or {}
            conns = (snaps[-1].get("network") or {}).get("connections") or {}
            row["counted"] = sum(v for v in conns.values() if isinstance(v, int))
            row["floor_ns"] = json.loads(fl_out.read_text())["cpu_ns_per_pass"]["median"]
        except Exception as e:
            row["error"] = str(e)
        log(f"  scaling {row['tree']}: collect {row.get('collect_ns')} ns, floor {row.get('floor_ns')} ns"
            + (f" ({row['error']})" if "error" in row else ""))
        rows.append(row)
    return rows


def _fit(points):
    """Least squares cost = a + b*n; returns (a, b, r2)."""
    n = len(points)
    if n < 2:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    a = my - b * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - (a + b * x)) ** 2 for x, y in zip(xs, ys))
    return a, b, (1 - ss_res / ss_tot) if ss_tot else 1.0


def scaling(pw_bin, floor_bin, fixtures_dir, entries_path, quick, log):
    """CPU per snapshot on each fixture tree, and how it grows per dimension."""
    names = gen_fixtures.QUICK if quick else gen_fixtures.FULL
    gen_fixtures.main([str(fixtures_dir), "--only", ",".join(names)]
                      + (["--list", str(entries_path)] if entries_path and Path(entries_path).exists() else []))
    index = json.loads((fixtures_dir / "index.json").read_text())
    real = _real_counts()
    rows = []
    count = 8 if quick else 16
    for t in index:
        root = Path(t["path"])
        row = {"tree": t["name"], "dimension": t["dimension"], "n": t["n"], "files": t["files"]}
        if t["dimension"] == "base":
            row["n_real"] = real
        cmd = [pw_bin, "--json", "--interval", "0.25", "--count", str(count), "--perf-source", "none",
               "--proc-root", str(root / "proc"), "--sys-root", str(root / "sys"), "--log-level", "warn"]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            snaps = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
            if p.returncode or not snaps:
                raise RuntimeError(f"exit {p.returncode}: {p.stderr.strip()[-200:]}")
            st = stage_medians(snaps[1:] or snaps)
            row["collect_ns"] = st.get("collect_cpu_ns", {}).get("median")
            row["cycle_ns"] = st.get("cycle_cpu_ns", {}).get("median")
            row["json_ns"] = st.get("json_cpu_ns", {}).get("median")
            row["bytes"] = len(json.dumps(snaps[-1], separators=(",", ":")))
            row["errors"] = snaps[-1].get("errors") or {}
        except Exception as e:
            row["error"] = str(e)
        try:
            fl = run_floor(floor_bin, root / "files.txt", root / "proc", root / "sys", seconds=0.3)
            row["floor_ns"] = fl["cpu_ns_per_pass"]["median"]
        except Exception as e:
            row["floor_error"] = str(e)
        log(f"  scaling {t['name']}: collect {row.get('collect_ns')} ns, floor {row.get('floor_ns')} ns"
            + (f" ({row['error']})" if "error" in row else ""))
        rows.append(row)

    if os.environ.get("BENCH_REAL_SOCKETS", "1") != "0":
        cycle = (Path(entries_path).read_text().splitlines()
                 if entries_path and Path(entries_path).exists() else None)
        rows += real_sockets(pw_bin, floor_bin, fixtures_dir / "real-sockets",
                             [100000] if quick else [1000, 10000, 100000], log, cycle)

    growth = {}
    base = next((r for r in rows if r["dimension"] == "base"), None)
    for dim, unit in (("cpus", "CPU"), ("ifaces", "interface"), ("disks", "disk"), ("sockets", "socket"),
                      ("real-sockets", "real socket")):
        pts = [(r["n"], r["collect_ns"]) for r in rows if r["dimension"] == dim and r.get("collect_ns")]
        if base and base.get("collect_ns") and real.get(dim) is not None and dim != "cpus":
            pts.append((real[dim], base["collect_ns"]))
        pts.sort()
        fit = _fit(pts)
        if not fit:
            growth[dim] = {"statement": "not enough points", "points": pts}
            continue
        a, b, r2 = fit
        lo, hi = pts[0], pts[-1]
        ratio = hi[1] / lo[1] if lo[1] else None
        shape = ("linear" if r2 >= 0.95 else "not linear") if len(pts) > 2 else "2 points only"
        growth[dim] = {
            "per_item_ns": b, "fixed_ns": a, "r2": r2, "points": pts,
            "statement": (f"{b / 1000:.3f} µs per {unit} + {a / 1000:.0f} µs fixed "
                          f"({shape}, R² {r2:.3f}; {lo[0]}→{hi[0]} {unit}s: x{ratio:.1f} CPU)"
                          if ratio else f"{b / 1000:.3f} µs per {unit}"),
        }
    return {"trees": rows, "growth": growth, "real": real}
