#!/usr/bin/env bash
# Runs every Criterion unit-test binary (built with ASan + UBSan) and sums them up.
set -uo pipefail
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$(dirname "$0")/.."
failed=0
for t in "$@"; do
	echo "== $(basename "$t")"
	"$t" --jobs 2 || { echo "FAILED: $t"; failed=$((failed + 1)); }
done
echo "unit test binaries: $# run, $failed failed"
[ "$failed" -eq 0 ]
