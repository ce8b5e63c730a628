#!/usr/bin/env bash
# Puts the project's Node (the version in .nvmrc) and a pinned npm in .tools/node/bin.
# Machines here ship an older Node, and the only registry reachable is npm's, so
# Node comes from the npm registry's per-platform `node-<os>-<arch>` package, which
# carries the official binary. Idempotent: does nothing when the right Node is there.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
node_version=$(tr -d ' \n' < "$root/.nvmrc")
npm_version=11.21.2
tools="$root/.tools"
bin="$tools/node/bin"

if [ -x "$bin/node" ] && [ "$("$bin/node" --version)" = "v$node_version" ] && [ -x "$bin/npm" ]; then
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) platform=linux-x64 ;;
  Linux-aarch64) platform=linux-arm64 ;;
  Darwin-arm64) platform=darwin-arm64 ;;
  Darwin-x86_64) platform=darwin-x64 ;;
  *) echo "ensure-node: no Node package for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac

command -v npm >/dev/null || { echo "ensure-node: an npm (any version) is needed to fetch Node $node_version" >&2; exit 1; }

echo "ensure-node: installing Node $node_version and npm $npm_version into .tools/"
rm -rf "$tools/node" "$tools/node-packages"
mkdir -p "$tools/node-packages" "$bin"
npm install --prefix "$tools/node-packages" --no-save --no-package-lock --no-audit --no-fund \
  --loglevel=error "node-$platform@$node_version" "npm@$npm_version"
ln -s "../../node-packages/node_modules/node-$platform/bin/node" "$bin/node"
ln -s "../../node-packages/node_modules/npm/bin/npm-cli.js" "$bin/npm"
ln -s "../../node-packages/node_modules/npm/bin/npx-cli.js" "$bin/npx"
"$bin/node" --version
