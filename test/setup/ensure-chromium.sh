#!/usr/bin/env bash
# The console's browser tests drive Debian's Chromium through puppeteer-core (nothing downloads a
# browser at install time); a fresh machine has none. Installs the package when it is missing
# (as root, or through sudo).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
echo "chromium not found: installing Debian's chromium package for the browser tests" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "cannot install chromium without root: run 'apt-get install -y chromium' first" >&2
    exit 1
  fi
fi
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends chromium fonts-dejavu-core
