#!/usr/bin/env bash
# Builds the local image `shoal:local` for docker-compose.yml without any registry image:
#   1. a Debian 12 root file system made with debootstrap from Debian's archive (cached as
#      /var/cache/shoal-docker/bookworm-base.tar; SHOAL_DOCKER_REBUILD_BASE=1 remakes it),
#   2. plus this machine's node binary and the built repository (dist/, node_modules/, package.json)
#      under /opt/shoal, and docker/entrypoint.sh,
#   3. `docker import`ed with its ENTRYPOINT and ENV.
# Run from the repository root after `npm run build` (scripts/setup.sh does it). Needs root,
# debootstrap and a running Docker daemon. Usage: docker/build-image.sh [TAG]
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-shoal:local}"
cache=/var/cache/shoal-docker
base="$cache/bookworm-base.tar"
say() { printf '[docker] %s\n' "$*" >&2; }

# The same packages scripts/setup.sh installs on a host, plus procps for ps/kill.
packages=lxc,dnsmasq-base,nftables,btrfs-progs,squashfs-tools,busybox-static,iproute2,uidmap,xz-utils,attr,rsync,zstd,bzip2,util-linux,e2fsprogs,ca-certificates,openssl,procps

if [ ! -f "$base" ] || [ "${SHOAL_DOCKER_REBUILD_BASE:-0}" = 1 ]; then
  command -v debootstrap >/dev/null || { echo "docker/build-image.sh needs debootstrap (apt-get install debootstrap)" >&2; exit 1; }
  mkdir -p "$cache"
  root=$(mktemp -d /tmp/shoal-sdm-rootfs-XXXXXX)
  trap 'rm -rf "$root"' EXIT
  say "debootstrap bookworm (minbase + ${packages//,/ }) — takes a few minutes"
  debootstrap --variant=minbase --include="$packages" bookworm "$root" http://deb.debian.org/debian >"$cache/debootstrap.log" 2>&1 ||
    { tail -20 "$cache/debootstrap.log" >&2; exit 1; }
  # Unprivileged containers inside map root to 100000+, as on a host (setup.sh).
  echo 'root:100000:1000000000' >"$root/etc/subuid"
  echo 'root:100000:1000000000' >"$root/etc/subgid"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar --numeric-owner -C "$root" -cf "$base.tmp" . && mv "$base.tmp" "$base"
  rm -rf "$root"
  trap - EXIT
fi

[ -f dist/src/daemon/shoald.js ] || { echo "Build first: npm run build" >&2; exit 1; }
stage=$(mktemp -d /tmp/shoal-sdm-stage-XXXXXX)
trap 'rm -rf "$stage"' EXIT
# docker import refuses a tar with a path twice: unpack the base, add to it, pack once.
tar --numeric-owner -C "$stage" -xf "$base"
say "adding node $(node --version) and the built repository"
mkdir -p "$stage/opt/shoal"
cp "$(command -v node)" "$stage/usr/bin/node"
cp -a dist node_modules package.json "$stage/opt/shoal/"
install -m 0755 docker/entrypoint.sh "$stage/usr/local/bin/shoal-entrypoint"
printf '#!/bin/sh\nexec /usr/bin/node /opt/shoal/dist/src/daemon/shoald.js "$@"\n' >"$stage/usr/local/bin/shoald"
printf '#!/bin/sh\nexec /usr/bin/node /opt/shoal/dist/src/cli/main.js "$@"\n' >"$stage/usr/local/bin/shoal"
chmod 0755 "$stage/usr/local/bin/shoald" "$stage/usr/local/bin/shoal"

say "docker import → $tag"
docker import \
  --change 'ENV SHOAL_DIR=/var/lib/shoal PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENTRYPOINT ["/usr/local/bin/shoal-entrypoint"]' \
  - "$tag" < <(tar --numeric-owner -C "$stage" -cf - .)
say "built $tag"
