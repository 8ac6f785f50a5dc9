#!/usr/bin/env bash
# `make install [PREFIX=/usr/local] [DESTDIR=]`: the binary, the dashboard, the systemd
# unit, and (when installing into / as root) the dedicated perfwatch user.
set -euo pipefail
cd "$(dirname "$0")/.."
destdir=${1-}
prefix=${2:-/usr/local}
bin=${3:?usage: install.sh DESTDIR PREFIX BINARY}

bindir=$prefix/bin
datadir=$prefix/share
unitdir=${UNITDIR:-/lib/systemd/system}

install -d "$destdir$bindir" "$destdir$datadir/perfwatch/web" "$destdir$unitdir" "$destdir$datadir/doc/perfwatch"
install -m 0755 "$bin" "$destdir$bindir/perfwatch"
# the dashboard, with the chart library copied in by the build (web/vendor)
(cd web && find . -type f ! -name '*.map' -print0 | xargs -0 -I{} install -D -m 0644 {} "$destdir$datadir/perfwatch/web/{}")
install -m 0644 README.md "$destdir$datadir/doc/perfwatch/README.md"
sed -e "s|@BINDIR@|$bindir|g" -e "s|@DATADIR@|$datadir|g" scripts/systemd/perfwatch.service.in \
	> "$destdir$unitdir/perfwatch.service"
chmod 0644 "$destdir$unitdir/perfwatch.service"

if [ -z "$destdir" ] && [ "$(id -u)" -eq 0 ] && ! getent passwd perfwatch >/dev/null; then
	useradd --system --no-create-home --home-dir /var/lib/perfwatch --shell /usr/sbin/nologin perfwatch
fi
echo "installed perfwatch into ${destdir:-/}$prefix; unit: $destdir$unitdir/perfwatch.service"
echo "start it with: systemctl daemon-reload && systemctl enable --now perfwatch"
