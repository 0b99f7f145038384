#!/usr/bin/env bash
# `npm run demo [-- --cluster | --raft] [--ci] | --down`: installs what it needs (scripts/setup.sh:
# apt packages, npm ci, build; idempotent), then runs scripts/demo.ts. The cluster demo keeps its
# state in /var/lib/shoal-demo, the Raft KV demo in .shoal-demo/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "The demo makes network namespaces and containers: run it as root." >&2; exit 1; }
case " $* " in
  *" --down "*) ;;
  *) bash scripts/setup.sh >&2 ;;
esac
exec node --import tsx scripts/demo.ts "$@"
