#!/usr/bin/env bash
# The history benchmark (issue #6), one piece of `make bench`:
#   - a day of synthetic 5 s history written through the daemon's own insert path:
#     CPU per insert, bytes on disk per stored numeric sample and per snapshot (raw tier);
#   - a week of it, then the 24 h and 7 d queries of 3 metrics at 1000 points.
# Usage: history_bench.sh HISTORY_GEN [OUT_JSON]
# Prints a table and writes the numbers as JSON (default: next to the generator).
set -euo pipefail
gen=${1:?usage: history_bench.sh HISTORY_GEN [OUT_JSON]}
out=${2:-$(dirname "$gen")/history.json}
dir=$(mktemp -d /var/tmp/pw-history-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT

metrics=(cpu.usage_percent memory.used_bytes network.interfaces.eth0.bytes_recv_per_sec)
"$gen" fill "$dir/day.db" 1 5 1 >"$dir/day.json"
"$gen" fill "$dir/week.db" 7 5 2 >"$dir/week.json"
"$gen" query "$dir/week.db" 30 "${metrics[@]}" >"$dir/query.json"

/usr/bin/python3 - "$dir/day.json" "$dir/week.json" "$dir/query.json" "$out" <<'PY'
import json, sys
day, week, q = (json.load(open(p)) for p in sys.argv[1:4])
res = {"day": day, "week": week, "query": q,
       "targets": {"raw_disk_bytes_per_sample": 2.0, "insert_cpu_us_mean": 500, "query_24h_ms": 50, "query_7d_ms": 100}}
json.dump(res, open(sys.argv[4], "w"), indent=1)
c = day["insert_cpu_us"]
rows = [
    ("raw tier, bytes on disk per numeric sample (1 day, 5 s)", f'{day["raw_disk_bytes_per_sample"]:.2f} B', "<= 2 B"),
    ("raw tier, bytes on disk per snapshot", f'{day["raw_disk_bytes_per_snapshot"]:.0f} B ({day["series_per_snapshot"]:.0f} series)', ""),
    ("whole file after 1 day (raw + minute + hour + journal)", f'{day["file_bytes"] / 1e6:.2f} MB', ""),
    ("CPU per insert: mean / p50 / p99", f'{c["mean"]:.0f} / {c["p50"]:.0f} / {c["p99"]:.0f} us', "< 500 us"),
    ("CPU of the hourly seal (the max insert)", f'{c["max"] / 1000:.1f} ms', "once an hour"),
    ("query 24 h, 3 metrics, 1000 points: median / p95", f'{q["24h"]["median_ms"]:.1f} / {q["24h"]["p95_ms"]:.1f} ms ({q["24h"]["tier"]})', "< 50 ms"),
    ("query 7 d, 3 metrics, 1000 points: median / p95", f'{q["7d"]["median_ms"]:.1f} / {q["7d"]["p95_ms"]:.1f} ms ({q["7d"]["tier"]})', "< 100 ms"),
    ("whole file after 7 days (raw pruned to 24 h)", f'{week["file_bytes"] / 1e6:.2f} MB', ""),
]
w = max(len(r[0]) for r in rows)
print("History")
for name, val, target in rows:
    print(f"  {name:<{w}}  {val:<28} {target}")
PY
