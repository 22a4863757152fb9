#!/usr/bin/env bash
# Builds (once) a local Go vulnerability database for govulncheck from the
# OSV records of a pinned golang.org/x/vulndb module version, fetched
# through the Go module proxy, and prints its directory. Used by `make lint`:
#
#   govulncheck -db "file://$(tooling/vulndb/build.sh)" ./...
#
# vuln.go.dev need not be reachable. Update VULNDB_VERSION (a pseudo-version
# of golang.org/x/vulndb,
# e.g. the one `go list -m golang.org/x/vulndb@master` names)
# to refresh the data.
#
# Environment: VULNDB_VERSION, VULNDB_CACHE (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/slb-cert-rotator), GO (default go).
set -euo pipefail

GO=${GO:-go}
version=${VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}
cache=${VULNDB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/slb-cert-rotator}
dir="$cache/vulndb-$version"

if [[ -f "$dir/index/modules.json" && -f "$dir/index/db.json" ]]; then
	echo "$dir"
	exit 0
fi

src=$("$GO" mod download -json "golang.org/x/vulndb@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [[ -z "$src" || ! -d "$src/data/osv" ]]; then
	echo "vulndb: golang.org/x/vulndb@$version has no data/osv (download failed?)" >&2
	exit 1
fi

mkdir -p "$cache"
tmp=$(mktemp -d "$cache/vulndb-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "vulndb: indexing $(ls "$src/data/osv" | wc -l) OSV records of golang.org/x/vulndb@$version into $dir" >&2
# indexdb writes the v1 layout (index/db.json, index/modules.json, ID/*.json).
"$GO" run "golang.org/x/vulndb/cmd/indexdb@$version" -vulns "$src/data/osv" -out "$tmp/db" >&2
rm -rf "$dir"
mv "$tmp/db" "$dir"
echo "$dir"
