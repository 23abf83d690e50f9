#!/usr/bin/env bash
# The PostgreSQL adapters' tests start their own cluster on 127.0.0.1 (test/helpers/postgres.ts);
# a fresh machine has no server. Installs Debian's postgresql package when initdb is missing (as
# root, or through sudo). The package's own cluster is not needed: the tests make theirs.
set -euo pipefail
if [ -n "${PG_BIN:-}" ] && [ -x "$PG_BIN/initdb" ]; then exit 0; fi
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then exit 0; fi
echo "PostgreSQL not found: installing Debian's postgresql package for the tests" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "cannot install postgresql without root: run 'apt-get install -y postgresql' first" >&2
    exit 1
  fi
fi
$sudo apt-get update
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql
