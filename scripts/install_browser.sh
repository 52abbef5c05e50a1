#!/usr/bin/env bash
# Installs Debian's Chromium for the real-browser tests (no browser download by playwright).
# Runs as part of `make test`. Without root or apt-get it explains and leaves the browser
# tests to skip with that reason.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install_browser: chromium not found and cannot apt-get it here;" \
       "install Debian's 'chromium' package to run the browser tests." >&2
  exit 0
fi
echo "install_browser: installing Debian's chromium (once per machine)..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
command -v chromium
