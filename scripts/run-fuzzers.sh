#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time, starting from its corpus under
# tests/fuzz/corpus/<target>/ (new finds go to a scratch folder, not into the tree).
set -uo pipefail
secs=${1:?usage: run-fuzzers.sh SECONDS BIN...}
shift
cd "$(dirname "$0")/.."
failed=0
for f in "$@"; do
	name=$(basename "$f")
	corpus=tests/fuzz/corpus/$name
	scratch=$(mktemp -d)
	mkdir -p "$corpus"
	echo "== $name (${secs}s)"
	if ! "$f" -max_total_time="$secs" -timeout=5 -rss_limit_mb=1024 -print_final_stats=0 \
		-artifact_prefix="${scratch}/" "$scratch" "$corpus" >"$scratch/log" 2>&1; then
		tail -40 "$scratch/log"
		echo "FUZZ FAILURE: $name (crash input kept in $scratch)"
		failed=$((failed + 1))
		continue
	fi
	grep -E '^#[0-9]+.*DONE' "$scratch/log" | tail -1
	rm -rf "$scratch"
done
echo "fuzz targets: $# run, $failed failed"
[ "$failed" -eq 0 ]
