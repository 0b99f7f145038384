#!/usr/bin/env bash
# `npm run bench -- NAME [args…]`: installs/builds what is needed, then runs bench/NAME/main.ts
# (compiled to dist/). Each benchmark prints a table with our figure beside its anchor, measured in
# the same run, and ends with one JSON line of the figures its issue names.
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:-}
if [ -z "$name" ] || [ ! -f "bench/$name/main.ts" ]; then
  echo "usage: npm run bench -- NAME   (one of: $(ls bench | tr '\n' ' '))" >&2
  exit 2
fi
shift
bash scripts/setup.sh >&2
exec node "dist/bench/$name/main.js" "$@"
