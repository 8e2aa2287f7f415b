#!/bin/sh
# Installs the Debian bookworm packages pcbdiff needs to build and test — only those missing.
# The only place that names packages. As non-root it prints the apt-get line and stops.
set -eu

# python3, chromium, chromium-driver: the review page test in a headless browser (tests/browser)
# libsqlite3-dev: pcbdiff batch's results database (SQLite, WAL)
# slurm-wlm, munge: tests/slurm brings up a real single-node Slurm for a batch job array
# libsoup-3.0-dev: the live page of pcbdiff watch (HTTP server; src/watch/server.c)
PKGS="build-essential pkg-config libglib2.0-dev libjson-glib-dev libturbojpeg0-dev libpng-dev
libssl-dev libopencv-core-dev libopencv-imgproc-dev libopencv-features2d-dev libopencv-calib3d-dev
libopencv-video-dev libopencv-flann-dev perl clang libclang-rt-14-dev
python3 chromium chromium-driver
libsqlite3-dev slurm-wlm munge libsoup-3.0-dev"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
# pkg-config must also see the libraries (a half-removed package would pass dpkg)
if [ -z "$missing" ] && ! pkg-config --exists glib-2.0 gio-2.0 json-glib-1.0 libpng libturbojpeg libcrypto \
    sqlite3 libsoup-3.0; then
    missing="libglib2.0-dev libjson-glib-dev libpng-dev libturbojpeg0-dev libssl-dev libsqlite3-dev
libsoup-3.0-dev"
fi
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "pcbdiff: missing Debian packages:$missing" >&2
    echo "pcbdiff: install them as root, then run make again:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y --no-install-recommends$missing" >&2
    exit 1
fi
echo "pcbdiff: installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "pcbdiff: packages installed"
