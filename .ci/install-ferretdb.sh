#!/usr/bin/env bash
# Build FerretDB v1.24.2 (the MongoDB-wire server the store tests run against)
# into a cache directory and print the binary's path on standard output.
#
# Idempotent: a binary already in the cache that reports the right version is
# reused. Progress goes to standard error so callers can capture the path:
#
#     OUTWIRE_FERRETDB=$(bash .ci/install-ferretdb.sh)
#
# Why not plain `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`:
# the binary it builds panics at start-up ("Invalid build/version/version.txt
# file content"), because FerretDB embeds its version from a generated file that
# the module archive does not contain. So this script copies the module source
# out of the Go module cache, writes that file, and builds from the copy.
set -euo pipefail

version="v1.24.2"
cache_dir="${OUTWIRE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/outwire}/ferretdb-$version"
binary="$cache_dir/ferretdb"

# FerretDB sends usage telemetry by default. Every run of the binary here
# turns it off, because this machine must not contact outside hosts.
export DO_NOT_TRACK=1

if [[ -x "$binary" ]] && "$binary" --version 2>/dev/null | grep -q "version: $version"; then
    echo "$binary"
    exit 0
fi

command -v go >/dev/null || { echo "install-ferretdb: go not found on PATH; install Go 1.24 or newer (FerretDB's go.mod requires it)" >&2; exit 1; }

echo "install-ferretdb: building FerretDB $version into $cache_dir" >&2
module_dir=$(go mod download -json "github.com/FerretDB/FerretDB@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[[ -d "$module_dir" ]] || { echo "install-ferretdb: go mod download returned no source directory for FerretDB $version" >&2; exit 1; }

work_dir=$(mktemp -d)
trap 'rm -rf "$work_dir"' EXIT
cp -R "$module_dir/." "$work_dir/src"
chmod -R u+w "$work_dir/src"
echo "$version" > "$work_dir/src/build/version/version.txt"

mkdir -p "$cache_dir"
(cd "$work_dir/src" && GOFLAGS=-buildvcs=false go build -trimpath -o "$binary.tmp" ./cmd/ferretdb)
mv "$binary.tmp" "$binary"

"$binary" --version >&2
echo "$binary"
