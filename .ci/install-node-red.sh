#!/usr/bin/env bash
# Install Node-RED 4.1.8 from npm into a cache directory and print the path of
# its package (the folder holding red.js). Idempotent; progress on stderr.
#
#     OUTWIRE_NODE_RED_DIR=$(bash .ci/install-node-red.sh)
set -euo pipefail

version="4.1.8"
cache_dir="${OUTWIRE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/outwire}/node-red-$version"
package="$cache_dir/node_modules/node-red"

if [[ -f "$package/red.js" ]] && grep -q "\"version\": \"$version\"" "$package/package.json"; then
    echo "$package"
    exit 0
fi

command -v npm >/dev/null || { echo "install-node-red: npm not found on PATH; install Node.js 20 with npm" >&2; exit 1; }
echo "install-node-red: installing node-red@$version into $cache_dir" >&2
mkdir -p "$cache_dir"
npm install --prefix "$cache_dir" --no-audit --no-fund --loglevel=error "node-red@$version" >&2
echo "$package"
