#!/usr/bin/env bash
# `sudo make run`: starts the freshly built daemon in the foreground with the dashboard
# and history on. Extra flags: make run ARGS="--interval 1".
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?usage: run.sh BINARY}
shift
if [ "$(id -u)" -ne 0 ]; then
	echo "run: not root: eBPF and system-wide counters need root or CAP_BPF+CAP_PERFMON;" >&2
	echo "run: starting anyway, PerfWatch will say what it cannot collect" >&2
fi
exec "$bin" --web-root "$PWD/web" ${ARGS:-} "$@"
