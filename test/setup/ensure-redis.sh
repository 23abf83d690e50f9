#!/usr/bin/env bash
# The Redis adapters' tests start their own redis-server on 127.0.0.1; a fresh machine has none.
# Installs Debian's package when it is missing (as root, or through sudo).
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then exit 0; fi
echo "redis-server not found: installing Debian's redis-server package for the tests" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "cannot install redis-server without root: run 'apt-get install -y redis-server' first" >&2
    exit 1
  fi
fi
$sudo apt-get update
$sudo apt-get install -y redis-server
