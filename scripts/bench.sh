#!/usr/bin/env bash
# `make bench`: PerfWatch side by side with node_exporter, netdata, the specification's
# psutil collector and `perf stat -I 5000 -a`, on this machine, in one run.
#
#   scripts/bench.sh [BUILD]          (make bench calls it with the build folder)
#
# Installs the benchmark's own Debian packages when missing (the base set comes from
# scripts/install-deps.sh), keeps the packaged services of the peers stopped and disabled
# so they do not skew the figures, builds the procfs floor program, then runs
# scripts/bench/harness.py, which prints one markdown report and writes
# BUILD/bench/results.{md,json}.
#
# Settings (environment):
#   BENCH_SECONDS=60   measured window per contender and run (rounded to 5 s cycles)
#   BENCH_RUNS=3       runs; contenders are interleaved, their order rotated each run
#   BENCH_QUICK=1      development mode: 1 run x 10 s, fewer scaling trees (3-5 min)
#   BENCH_REAL_SOCKETS=0   leave out the real-socket scaling rows (N sockets in a netns)
#   BENCH_CONTENDERS=perfwatch,netdata   only these (perfwatch, perfwatch-json,
#                      node_exporter, netdata, psutil, perf-stat)
#   BENCH_PARTS=contenders,floor,stages,scaling,pieces   only these parts
#   BENCH_INSTALL=0    do not install or touch packages and services
#   BENCH_PIECE_TIMEOUT=300   seconds per piece of the other areas (make bench-<area>,
#                      scripts/bench/<area>_*; see scripts/bench/pieces.py)
# The default run takes about 30 minutes: 6 contenders x 3 runs x ~75 s (measured 25.7 min
# with the floor and scaling), plus the other areas' pieces.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}

BENCH_PKGS=(prometheus-node-exporter netdata python3-psutil linux-perf strace rt-tests procps)
PEER_SERVICES=(netdata prometheus-node-exporter)

is_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

install_missing() {
	local missing=() p created_policy=
	for p in "${BENCH_PKGS[@]}"; do
		is_installed "$p" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "bench: missing packages: ${missing[*]} (run as root: sudo make bench)" >&2
		return 0
	fi
	echo "bench: installing ${missing[*]}" >&2
	# Keep the packages from starting their services on install: the benchmark starts
	# each tool itself, on 127.0.0.1 and with its own settings.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		created_policy=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || true
	apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null ||
		echo "bench: could not install every package; the missing contenders will say n/a" >&2
	[ -n "$created_policy" ] && rm -f /usr/sbin/policy-rc.d
	return 0
}

# The peers' packaged services would run beside the benchmark's own instances and skew
# every figure: stop them and leave them disabled.
stop_peer_services() {
	local svc
	[ "$(id -u)" -eq 0 ] || return 0
	for svc in "${PEER_SERVICES[@]}"; do
		if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
			if systemctl is-active --quiet "$svc" 2>/dev/null || systemctl is-enabled --quiet "$svc" 2>/dev/null; then
				echo "bench: stopping and disabling the $svc service" >&2
				systemctl disable --now "$svc" >/dev/null 2>&1 || true
			fi
		elif [ -x "/etc/init.d/$svc" ]; then
			if "/etc/init.d/$svc" status >/dev/null 2>&1; then
				echo "bench: stopping the $svc service" >&2
				"/etc/init.d/$svc" stop >/dev/null 2>&1 || true
			fi
			update-rc.d "$svc" disable >/dev/null 2>&1 || true
		fi
	done
	for svc in netdata prometheus-node-exporter node_exporter; do
		if pgrep -x "$svc" >/dev/null 2>&1; then
			echo "bench: warning: a $svc not started by the benchmark is running (pid $(pgrep -x "$svc" | tr '\n' ' '));" \
				"its CPU is not counted, but it loads the machine" >&2
		fi
	done
}

if [ "${BENCH_INSTALL:-1}" != 0 ]; then
	install_missing
	stop_peer_services
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: not root: PerfWatch's BPF programs, netdata's plugins and perf stat -a need root;" \
		"some contenders will say n/a" >&2
fi

make --no-print-directory BUILD="$BUILD" "$BUILD/perfwatch" "$BUILD/bench/procfs_floor" >&2

exec /usr/bin/python3 scripts/bench/harness.py --build "$BUILD"
