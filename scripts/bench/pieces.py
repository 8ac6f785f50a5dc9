"""The other areas' benchmark pieces: scripts/bench/{bpf,server,history,web}_*.{py,sh}.

Each area (issues #3, #5, #6, #7) measures its own figures with a piece of its own; this
module runs them and turns what they print into table rows. The contract, for the
pieces' authors:

- A piece is an EXECUTABLE file scripts/bench/<area>_<what>.py or .sh, area one of bpf,
  server, history, web (files that are not executable are libraries and are not run).
- It runs from the repository root, as root, with PW_BIN (the perfwatch binary), PW_BUILD
  (the build folder), BENCH_OUT (an empty folder of its own under build/bench/),
  BENCH_QUICK (1 in quick mode: keep it short), BENCH_SECONDS and BENCH_RUNS in the
  environment. It starts what it needs on 127.0.0.1 (free ports) and stops it.
- It prints ONE JSON object on stdout (other output to stderr), or writes it to
  $BENCH_OUT/result.json:
      {"rows": [{"figure": "CPU per broadcast, 100 clients", "value": "0.21 ms",
                 "target": "< 1 ms", "met": true, "note": "median of 60"}, ...],
       ...anything else, kept in results.json}
  A flat {"figure": value, ...} object is taken too. Markdown table rows ("| a | b |") on
  stdout are shown as they are when there is no JSON.
- Exit status 0; 77 means "cannot run here" (the last line of stderr says why). It must
  finish within BENCH_PIECE_TIMEOUT seconds (default 300; the quick mode halves it).
"""
import json
import os
import re
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
PIECE_RE = re.compile(r"^(bpf|server|history|web)_[A-Za-z0-9_.-]+\.(py|sh)$")
MD_ROW_RE = re.compile(r"^\|(.+)\|\s*$")


def discover(bench_dir):
    found = {}
    for p in sorted(Path(bench_dir).iterdir()):
        m = PIECE_RE.match(p.name)
        if m and p.is_file() and os.access(p, os.X_OK):
            found.setdefault(m.group(1), []).append(p)
    return found


def _rows_from(obj):
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
    return None, [{"figure": "output", "value": text.splitlines()[-1][:200]}]


def run_piece(path, env, out_dir, timeout, log):
    out_dir.mkdir(parents=True, exist_ok=True)
    penv = dict(os.environ, **env, BENCH_OUT=str(out_dir))
    log(f"  piece {path.name} (timeout {timeout} s)")
    try:
        p = subprocess.run([str(path)], capture_output=True, text=True, timeout=timeout, env=penv,
                           cwd=str(Path(path).resolve().parents[2]))
    except subprocess.TimeoutExpired:
        return {"piece": path.name, "error": f"timed out after {timeout} s", "rows": []}
    except OSError as e:
        return {"piece": path.name, "error": str(e), "rows": []}
    (out_dir / "stdout.txt").write_text(p.stdout)
    (out_dir / "stderr.txt").write_text(p.stderr)
    last_err = (p.stderr.strip().splitlines() or [""])[-1][:200]
    if p.returncode == 77:
        return {"piece": path.name, "error": f"cannot run here: {last_err}", "rows": []}
    if p.returncode:
        return {"piece": path.name, "error": f"exit {p.returncode}: {last_err}", "rows": []}
    obj, rows = None, []
    rj = out_dir / "result.json"
    if rj.exists():
        try:
            obj = json.loads(rj.read_text())
            rows = _rows_from(obj)
        except ValueError as e:
            return {"piece": path.name, "error": f"bad result.json: {e}", "rows": []}
    if not rows:
        obj, rows = _parse_stdout(p.stdout)
    return {"piece": path.name, "rows": rows, "raw": obj}


def run_all(bench_dir, env, out_root, quick, log):
    """{area: {"title", "pieces": [...], "rows": [...]}} for every area, run or not."""
    found = discover(bench_dir)
    timeout = int(os.environ.get("BENCH_PIECE_TIMEOUT", "300"))
    if quick:
        timeout = max(30, timeout // 2)
    result = {}
    for area, (title, expected) in AREAS.items():
        entry = {"title": title, "pieces": [], "rows": []}
        for piece in found.get(area, []):
            r = run_piece(piece, env, out_root / piece.stem, timeout, log)
            entry["pieces"].append(r)
            if r.get("error"):
                entry["rows"].append({"figure": piece.name, "value": f"n/a ({r['error']})"})
            entry["rows"].extend(r["rows"])
        if not found.get(area):
            entry["rows"] = [{"figure": f, "value": "not available yet", "target": t} for f, t in expected]
        result[area] = entry
    return result
