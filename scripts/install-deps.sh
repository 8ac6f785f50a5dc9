#!/usr/bin/env bash
# Installs what PerfWatch needs to build, run and test on Debian 12, and only what is
# missing, so running it again is cheap. Needs root (sudo make run / sudo make test).
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
	# build
	make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libwebsockets-dev
	libsqlite3-dev libcap-dev pkg-config libclang-rt-14-dev
	# tests
	libcriterion-dev python3 python3-pytest python3-jsonschema python3-psutil
	python3-websockets linux-perf iproute2 libcap2-bin prometheus sqlite3 procps
	strace valgrind systemd util-linux
	# the dashboard's browser test
	chromium
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: missing packages: ${missing[*]}" >&2
		echo "install-deps: run as root (sudo make run / sudo make test) to install them" >&2
		exit 1
	fi
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The dashboard's chart library and the browser driver come from the npm registry,
# pinned by package-lock.json.
if [ -f package.json ]; then
	if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
		echo "install-deps: npm ci"
		npm ci --no-audit --no-fund --loglevel=error
	fi
fi
