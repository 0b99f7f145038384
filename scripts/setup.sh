#!/usr/bin/env bash
# Installs what Shoal needs on a Debian 12 machine, as root, idempotently:
# apt packages (only when one is missing), subordinate ids for unprivileged containers,
# npm dependencies (only when package-lock.json changed) and the TypeScript build.
# Usage: scripts/setup.sh [--no-build] [extra apt packages...]
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
extra=()
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    *) extra+=("$a") ;;
  esac
done

say() { printf '[setup] %s\n' "$*" >&2; }

packages=(lxc dnsmasq-base nftables btrfs-progs squashfs-tools busybox-static iproute2 uidmap xz-utils
  attr rsync zstd bzip2 util-linux e2fsprogs
  python3 make g++
  lxd lxd-client python3-pylxd
  ca-certificates openssl "${extra[@]}")  # python3 make g++: node-pty builds from source at npm ci; lxd lxd-client python3-pylxd: compat tests, API/agent benchmarks
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "setup: installing ${missing[*]} needs root" >&2; exit 1; }
  say "installing apt packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
fi

# Unprivileged containers map uid/gid 0 inside to 100000+ outside.
for f in /etc/subuid /etc/subgid; do
  if ! grep -qE '^root:' "$f" 2>/dev/null; then
    say "adding root:100000:1000000000 to $f"
    echo 'root:100000:1000000000' >>"$f"
  fi
done

# npm dependencies, re-installed only when the lock file changes.
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f node_modules/.shoal-lock-hash ] || [ "$(cat node_modules/.shoal-lock-hash)" != "$lock_hash" ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error </dev/null >/dev/null
  echo "$lock_hash" >node_modules/.shoal-lock-hash
fi

if [ "$build" = 1 ]; then
  say "building"
  npx tsc -p tsconfig.build.json
fi
