#!/usr/bin/env bash
# The Lambda runtime-client tests run the bundles under AWS's runtime interface client
# (aws-lambda-ric, the one the AWS Node.js base images use), which needs Node >= 22; CI also runs
# the suite under Node 22 and 24. This script puts both Node binaries (the npm registry's
# node-linux-<arch> packages, which the `node` package itself installs) and a built aws-lambda-ric
# into a cache outside the repository, and skips whatever is already there.
#
#   bash test/setup/ensure-lambda-ric.sh          installs what is missing, then prints
#                                                 NODE22=<node binary> NODE24=<…> RIC=<its index.mjs>
#   LAMBDA_RIC_CACHE=/some/dir                    another cache directory
#
# The build needs Debian's cmake, autoconf, automake, libtool, make and g++ (installed here when
# missing, as root or through sudo). npm 11 does not run the package's install scripts, so they
# are run here by hand with Node 24 first in PATH (about 3 minutes, once). Only the package
# registries are reached: node-gyp takes Node's headers from the same package as the binary.
set -euo pipefail

NODE22_VERSION=22.23.5
NODE24_VERSION=24.22.3
RIC_VERSION=4.0.2
CACHE="${LAMBDA_RIC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ai-gateway/lambda-runtime}"

case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "ensure-lambda-ric: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac

# A private prefix per version: nothing lands in the project's package.json or node_modules.
ensure_node() {
  local version="$1" dir="$CACHE/node-$1"
  if [ -x "$dir/bin/node" ] && [ "$("$dir/bin/node" --version)" = "v$version" ]; then return; fi
  echo "ensure-lambda-ric: installing Node $version into $dir" >&2
  rm -rf "$dir" "$dir.tmp"
  mkdir -p "$dir.tmp"
  npm install --prefix "$dir.tmp" --no-save --no-audit --no-fund --ignore-scripts --loglevel=error "node-linux-$arch@$version" >&2
  # bin/node and include/node: the headers let node-gyp build without downloading them.
  mv "$dir.tmp/node_modules/node-linux-$arch" "$dir"
  rm -rf "$dir.tmp"
}

ensure_build_tools() {
  local missing=()
  # node-gyp needs python3; the bundled sources are .tar.xz archives.
  for tool in cmake autoconf automake libtoolize make g++ python3 xz; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
  [ ${#missing[@]} -eq 0 ] && return
  echo "ensure-lambda-ric: ${missing[*]} not found: installing Debian's build tools" >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "cannot install build tools without root: run 'apt-get install -y cmake autoconf automake libtool make g++ python3 xz-utils' first" >&2
      exit 1
    fi
  fi
  $sudo apt-get update >&2
  $sudo apt-get install -y cmake autoconf automake libtool make g++ python3 xz-utils >&2
}

ensure_ric() {
  local dir="$CACHE/aws-lambda-ric-$RIC_VERSION"
  local pkg="$dir/node_modules/aws-lambda-ric"
  if [ -f "$dir/.built" ]; then return; fi
  ensure_build_tools
  echo "ensure-lambda-ric: building aws-lambda-ric $RIC_VERSION into $dir (a few minutes, once)" >&2
  rm -rf "$dir"
  mkdir -p "$dir"
  PATH="$CACHE/node-$NODE24_VERSION/bin:$PATH"
  # node-gyp takes the headers from the Node package instead of fetching them from nodejs.org.
  npm_config_nodedir="$CACHE/node-$NODE24_VERSION"
  export PATH npm_config_nodedir
  npm install --prefix "$dir" --no-save --no-audit --no-fund --ignore-scripts --loglevel=error "aws-lambda-ric@$RIC_VERSION" >&2
  (
    cd "$pkg"
    ./scripts/preinstall.sh >&2
    ./scripts/postinstall.sh >&2
  )
  touch "$dir/.built"
}

mkdir -p "$CACHE"
ensure_node "$NODE22_VERSION"
ensure_node "$NODE24_VERSION"
ensure_ric
echo "NODE22=$CACHE/node-$NODE22_VERSION/bin/node"
echo "NODE24=$CACHE/node-$NODE24_VERSION/bin/node"
echo "RIC=$CACHE/aws-lambda-ric-$RIC_VERSION/node_modules/aws-lambda-ric/index.mjs"
