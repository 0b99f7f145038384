#!/usr/bin/env bash
# Verifies that `npm ci` accepts package-lock.json (the registry mirror here lacks some platform
# builds of the newest releases; npm then leaves them out of the lock and `npm ci` refuses it).
set -euo pipefail
cd "$(dirname "$0")/.."
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
cp package.json package-lock.json "$d"
(cd "$d" && npm ci --dry-run --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
echo "package-lock.json is usable by npm ci"
