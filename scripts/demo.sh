#!/usr/bin/env bash
# `npm run demo [-- --ci | --down]`: installs what it needs (scripts/setup.sh: apt packages, npm ci,
# build; idempotent), then runs scripts/demo.ts — a 3-member Raft KV cluster on loopback with mutual
# TLS, a kill -9 of its leader and a restart. State lives in .shoal-demo/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  --down) ;;
  *) bash scripts/setup.sh >&2 ;;
esac
exec node --import tsx scripts/demo.ts "$@"
