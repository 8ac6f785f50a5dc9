"""The other areas' benchmark pieces: `make bench-<area>` targets and scripts/bench/<area>_*.

Each area (issues #3, #5, #6, #7: bpf, server, history, web) measures its own figures
with a piece of its own; this module runs them and turns what they print into table rows.
The contract, for the pieces' authors:

- A piece is a make target `bench-<area>` in mk/<area>.mk (any area; run as
  `make --no-print-directory BUILD=<build> bench-<area>`), or an EXECUTABLE file
  scripts/bench/<area>_<what>.py|.sh|.mjs (non-executable files are libraries, not run).
  A make target wins over files of the same area.
- It runs from the repository root, as root, with PW_BIN (the perfwatch binary), PW_BUILD
  (the build folder), BENCH_OUT (an empty folder of its own under build/bench/pieces/),
  BENCH_QUICK (1 in quick mode: keep it short), BENCH_SECONDS, BENCH_RUNS and
  PW_BENCH_SECONDS (10 in quick mode) in the environment. It starts what it needs on
  127.0.0.1 (free ports) and stops it.
- What it prints on stdout becomes rows, first match wins:
  1. ONE JSON object (the whole stdout, its last line, or $BENCH_OUT/result.json):
        {"rows": [{"figure": "CPU per broadcast, 100 clients", "value": "0.21 ms",
                   "target": "< 1 ms", "met": true, "note": "median of 60"}, ...]}
     or a flat {"figure": value, ...} object;
  2. markdown table rows "| figure | value | ... |";
  3. lines "figure: value", a trailing "(target ...)" becoming the target column, or
     columns set apart by two or more spaces (figure, value, target; or figure, values...).
  scripts/bench/bpf_bench.py's JSON (ns_per_event, messaging) has an adapter of its own.
- Exit status 0; 77 means "cannot run here" (the last line of stderr says why). It must
  finish within BENCH_PIECE_TIMEOUT seconds (default 300; the quick mode halves it).
"""
import json
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

AREAS = {
    "bpf": ("eBPF (issue #3)", [
        ("ns per BPF program run (sched_switch), vs a trivial program on the same hook", "< 100 ns"),
        ("context-switch-heavy workload slowdown, PerfWatch attached vs detached", "< 2 %"),
    ]),
    "server": ("Server (issue #5)", [
        ("snapshot ready → received, 100 WebSocket clients (median / p99)", "p99 < 5 ms"),
        ("daemon CPU per broadcast, 100 clients", "< 1 ms"),
    ]),
    "history": ("History (issue #6)", [
        ("bytes on disk per stored numeric sample, raw tier (and per snapshot)", "≤ 2 B"),
        ("CPU per insert", "< 0.5 ms"),
        ("24 h / 7 d query, 3 metrics, 1000 points", "< 50 ms / < 100 ms"),
    ]),
    "web": ("Dashboard (issue #7)", [
        ("page weight, all assets, uncompressed", "< 250 KB"),
        ("navigation → first chart drawn, loopback", "< 1 s"),
        ("tab CPU at a 1 s interval", "< 5 % of one core"),
    ]),
}
PIECE_RE = re.compile(r"^(bpf|server|history|web)_[A-Za-z0-9_.-]+\.(py|sh|mjs)$")
MD_ROW_RE = re.compile(r"^\|(.+)\|\s*$")
KV_RE = re.compile(r"^\s*([^:|{}\[\]]{3,120}?):\s+(\S.*?)\s*(?:\((target[^)]*)\))?\s*$")
TARGET_RE = re.compile(r"^(<|<=|≤|>|>=|≥|target)")
NOISE_RE = re.compile(r"^\s*((CC|LD|AR|GEN|BPF|BTF|SKEL|LSKEL|NPM|COPY|CLANG|CC-SAN|CC-FUZZ)\s|make(\[\d+\])?:)")


class Piece:
    def __init__(self, name, cmd):
        self.name, self.cmd = name, cmd


def discover(bench_dir, repo, build):
    """{area: [Piece]}: the make target bench-<area> if an mk file declares one (any area,
    e.g. bench-netdisk too), else the area's executable scripts."""
    found = {}
    for mk in sorted((Path(repo) / "mk").glob("*.mk")):
        for m in re.finditer(r"^bench-([A-Za-z0-9_-]+)\s*:", mk.read_text(errors="replace"), re.M):
            found.setdefault(m.group(1), [Piece(f"make bench-{m.group(1)}",
                                                ["make", "--no-print-directory", f"BUILD={build}",
                                                 f"bench-{m.group(1)}"])])
    for p in sorted(Path(bench_dir).iterdir()):
        m = PIECE_RE.match(p.name)
        if m and m.group(1) not in found and p.is_file() and os.access(p, os.X_OK):
            found.setdefault("_files_" + m.group(1), []).append(Piece(p.name, [str(p)]))
    for k in [k for k in found if k.startswith("_files_")]:
        found[k[7:]] = found.pop(k)
    return found


def _bpf_rows(obj):
    """scripts/bench/bpf_bench.py's JSON (issue #3's figures) as rows."""
    rows = []
    ne = obj.get("ns_per_event") or {}
    progs = ne.get("programs") or {}
    floor = ne.get("stats_floor_ns")
    sw = progs.get("pw_sched_switch") or {}
    empty = ne.get("empty_sched_switch_ns_per_run")
    if sw.get("ns_per_run") is not None:
        above = sw.get("ns_per_run_above_floor")
        if empty:
            vs = f"; an empty program on sched_switch {empty:.0f} ns (BPF stats, their own clock reads included)"
        elif above is not None and floor:
            vs = f"; {above:.0f} ns above a one-counter program's {floor:.0f} ns on the same kind of hook"
        else:
            vs = ""
        rows.append({"figure": "ns per run of the sched_switch program (BPF stats, under perf bench sched messaging)",
                     "value": f"{sw['ns_per_run']:.0f} ns" + vs,
                     "target": "< 100 ns", "met": sw["ns_per_run"] < 100})
    for key, label in (("ns_per_event", "under perf bench sched messaging"),
                       ("ns_per_event_block_load", "under 4 KiB O_DIRECT writes")):
        pr = (obj.get(key) or {}).get("programs") or {}
        cells = [f"{n.replace('pw_', '')} {v['ns_per_run']:.0f}" for n, v in sorted(pr.items())
                 if v.get("ns_per_run") is not None and v.get("runs")]
        if cells:
            rows.append({"figure": f"ns per run of each BPF program, {label}", "value": ", ".join(cells) + " ns"})
        pct = (obj.get(key) or {}).get("bpf_cpu_percent")
        if pct is not None:
            rows.append({"figure": f"BPF programs' share of all CPU time, {label}", "value": f"{pct:.3f} %"})
    m = obj.get("messaging") or {}
    if m.get("slowdown_percent") is not None:
        rows.append({"figure": f"perf bench sched messaging -g {m.get('groups')} -l {m.get('loops')}: slowdown with "
                               f"PerfWatch attached vs detached (medians of {m.get('repeat')} each)",
                     "value": f"{m['slowdown_percent']:+.2f} % ({m['median_attached_s']:.3f} s vs "
                              f"{m['median_detached_s']:.3f} s; detached runs spread "
                              f"{m.get('spread_detached_percent', 0):.1f} %"
                              + (f"; median of the pairs {m['paired_slowdown_percent']:+.2f} %"
                                 if m.get("paired_slowdown_percent") is not None else "") + ")",
                     "target": "< 2 %", "met": m["slowdown_percent"] < 2})
    pp = obj.get("pipe_pinned") or {}
    if pp.get("median_us"):
        med = pp["median_us"]
        rows.append({"figure": f"perf bench sched pipe, both ends on CPU {pp.get('cpu')} (the worst case: "
                               f"{pp['switches_per_s_detached'] / 1000:.0f}k context switches/s): slowdown "
                               f"attached vs detached (medians of {pp.get('repeat')} each)",
                     "value": f"{pp['slowdown_percent']:+.2f} % ({med['attached']:.3f} vs {med['detached']:.3f} µs "
                              f"per round trip: {pp['ns_per_switch']:.0f} ns per context switch); with "
                              f"--bpf-stats {pp['slowdown_bpf_stats_percent']:+.2f} % "
                              f"({med['attached_bpf_stats']:.3f} µs: {pp['ns_per_switch_bpf_stats']:.0f} ns)"
                              + (f"; perf stat -I 5000 -a instead {pp['slowdown_perf_stat_percent']:+.2f} % "
                                 f"({med['perf_stat']:.3f} µs: {pp['ns_per_switch_perf_stat']:.0f} ns)"
                                 if "perf_stat" in med else "")
                              + (f"; an empty BPF program on sched_switch alone "
                                 f"{pp['slowdown_empty_program_percent']:+.2f} % ({med['empty_program']:.3f} µs: "
                                 f"{pp['ns_per_switch_empty_program']:.0f} ns)" if "empty_program" in med else ""),
                     "target": "reported"})
    if obj.get("foreign_pw_programs"):
        rows.append({"figure": "PerfWatch programs of other processes attached meanwhile",
                     "value": str(obj["foreign_pw_programs"]), "note": "both arms slowed alike: noisy"})
    return rows


def _rows_from(obj):
    if isinstance(obj, dict) and ("ns_per_event" in obj or "messaging" in obj):
        return _bpf_rows(obj)
    if isinstance(obj, dict) and isinstance(obj.get("rows"), list):
        rows = []
        for r in obj["rows"]:
            if isinstance(r, dict) and "figure" in r:
                rows.append({k: r.get(k) for k in ("figure", "value", "unit", "target", "met", "note")})
        return rows
    if isinstance(obj, dict):
        return [{"figure": k, "value": v} for k, v in obj.items() if not isinstance(v, (dict, list))]
    return []


def _parse_stdout(text):
    text = text.strip()
    if not text:
        return None, []
    for cand in (text, text.splitlines()[-1]):
        try:
            obj = json.loads(cand)
            return obj, _rows_from(obj)
        except ValueError:
            pass
    rows = []
    for line in text.splitlines():
        m = MD_ROW_RE.match(line.strip())
        if not m:
            continue
        cells = [c.strip() for c in m.group(1).split("|")]
        if all(set(c) <= set("-: ") for c in cells):
            continue
        if cells and cells[0].lower() in ("figure", "metric", "what"):
            continue
        rows.append({"figure": cells[0], "value": " / ".join(cells[1:]) if len(cells) > 1 else ""})
    if rows:
        return None, rows
    for line in text.splitlines():
        if NOISE_RE.match(line):
            continue
        # columns set apart by two or more spaces: figure | value | target, or figure | values...
        cells = re.split(r"\s{2,}", line.strip())
        m = KV_RE.match(line)
        if m and len(cells) < 3:
            rows.append({"figure": m.group(1).strip(), "value": m.group(2).strip(),
                         "target": m.group(3)[6:].strip() if m.group(3) else None})
        elif len(cells) >= 2:
            target = cells.pop() if len(cells) == 3 or (len(cells) > 3 and TARGET_RE.match(cells[-1])) else None
            rows.append({"figure": cells[0], "value": " ".join(cells[1:]), "target": target})
    if rows:
        return None, rows
    return None, [{"figure": "output", "value": text.splitlines()[-1][:200]}]


def run_piece(piece, env, out_dir, timeout, repo, log):
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    penv = dict(os.environ, **env, BENCH_OUT=str(out_dir))
    log(f"  piece {piece.name} (timeout {timeout} s)")
    name = piece.name
    try:
        # its own session, so that a timeout can stop everything the piece started
        proc = subprocess.Popen(piece.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=penv, cwd=str(repo), start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return {"piece": name, "error": f"timed out after {timeout} s", "rows": []}
    except OSError as e:
        return {"piece": name, "error": str(e), "rows": []}
    p = subprocess.CompletedProcess(piece.cmd, proc.returncode, stdout, stderr)
    (out_dir / "stdout.txt").write_text(p.stdout)
    (out_dir / "stderr.txt").write_text(p.stderr)
    last_err = (p.stderr.strip().splitlines() or [""])[-1][:200]
    if p.returncode == 77:
        return {"piece": name, "error": f"cannot run here: {last_err}", "rows": []}
    if p.returncode:
        return {"piece": name, "error": f"exit {p.returncode}: {last_err}", "rows": []}
    obj, rows = None, []
    rj = out_dir / "result.json"
    if rj.exists():
        try:
            obj = json.loads(rj.read_text())
            rows = _rows_from(obj)
        except ValueError as e:
            return {"piece": name, "error": f"bad result.json: {e}", "rows": []}
    if not rows:
        obj, rows = _parse_stdout(p.stdout)
    return {"piece": name, "rows": rows, "raw": obj}


def run_all(bench_dir, repo, env, out_root, quick, log):
    """{area: {"title", "pieces": [...], "rows": [...]}} for every area, run or not."""
    found = discover(bench_dir, repo, env["PW_BUILD"])
    timeout = int(os.environ.get("BENCH_PIECE_TIMEOUT", "300"))
    if quick:
        timeout = max(30, timeout // 2)
    result = {}
    areas = dict(AREAS)
    for area in found:
        areas.setdefault(area, (f"{area} (make bench-{area})", []))
    for area, (title, expected) in areas.items():
        entry = {"title": title, "pieces": [], "rows": []}
        for piece in found.get(area, []):
            slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", piece.name)
            r = run_piece(piece, env, out_root / slug, timeout, repo, log)
            entry["pieces"].append(r)
            if r.get("error"):
                entry["rows"].append({"figure": piece.name, "value": f"n/a ({r['error']})"})
            entry["rows"].extend(r["rows"])
        if not found.get(area):
            entry["rows"] = [{"figure": f, "value": "not available yet", "target": t} for f, t in expected]
        result[area] = entry
    return result
