#!/usr/bin/env bash
# `make install [PREFIX=/usr/local] [DESTDIR=]`: the binary, the dashboard, the README,
# the systemd unit and its sysusers.d entry; when installing into / as root, also the
# dedicated perfwatch user. UNITDIR and SYSUSERSDIR override where the last two go.
set -euo pipefail
cd "$(dirname "$0")/.."
destdir=${1-}
prefix=${2:-/usr/local}
bin=${3:?usage: install.sh DESTDIR PREFIX BINARY}

bindir=$prefix/bin
datadir=$prefix/share
# systemd reads units and sysusers.d from /usr/local/lib as well as /usr/lib
unitdir=${UNITDIR:-$prefix/lib/systemd/system}
sysusersdir=${SYSUSERSDIR:-$prefix/lib/sysusers.d}

if [ ! -f web/index.html ]; then
	echo "install.sh: web/index.html is missing: the dashboard is not built" >&2
	exit 1
fi
install -d "$destdir$bindir" "$destdir$datadir/perfwatch/web" "$destdir$unitdir" "$destdir$sysusersdir" \
	"$destdir$datadir/doc/perfwatch"
install -m 0755 "$bin" "$destdir$bindir/perfwatch"
# the dashboard, with the chart library copied in by the build (web/vendor)
(cd web && find . -type f ! -name '*.map' -print0 | xargs -0 -I{} install -D -m 0644 {} "$destdir$datadir/perfwatch/web/{}")
install -m 0644 README.md "$destdir$datadir/doc/perfwatch/README.md"
sed -e "s|@BINDIR@|$bindir|g" -e "s|@DATADIR@|$datadir|g" scripts/systemd/perfwatch.service.in \
	> "$destdir$unitdir/perfwatch.service"
chmod 0644 "$destdir$unitdir/perfwatch.service"
install -m 0644 scripts/systemd/perfwatch.sysusers "$destdir$sysusersdir/perfwatch.conf"

if [ -z "$destdir" ] && [ "$(id -u)" -eq 0 ] && ! getent passwd perfwatch >/dev/null; then
	if command -v systemd-sysusers >/dev/null; then
		systemd-sysusers "$sysusersdir/perfwatch.conf"
	else
		useradd --system --user-group --no-create-home --home-dir /var/lib/perfwatch \
			--shell /usr/sbin/nologin perfwatch
	fi
fi
echo "installed perfwatch into ${destdir:-/}$prefix; unit: $destdir$unitdir/perfwatch.service"
echo "start it with: systemctl daemon-reload && systemctl enable --now perfwatch"
