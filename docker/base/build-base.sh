#!/usr/bin/env bash
# Build a minimal Debian base image locally, for engines that cannot pull one from a registry.
#
#   docker/base/build-base.sh [TAG] [SUITE] [MIRROR]
#
# TAG defaults to stack-uat/debian-base:bookworm, SUITE to bookworm, MIRROR to the first Debian
# mirror this host's apt already uses. Needs root, debootstrap and a Docker engine (DOCKER_HOST).
# The rootfs is trimmed (docs, man pages, locales, apt caches) and its resolv.conf and hostname
# are blanked so nothing of this host leaks into the image.
set -euo pipefail

TAG="${1:-stack-uat/debian-base:bookworm}"
SUITE="${2:-bookworm}"
MIRROR="${3:-}"

if [[ -z "$MIRROR" ]]; then
  MIRROR="$(grep -hs -E '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list \
    /etc/apt/sources.list | grep -v -- '-security' | head -n1 | awk '{print $2}' || true)"
  # a "deb [opts] URL" line puts the URL third (grep's exit status is ignored: some globs match nothing)
  if [[ "$MIRROR" == \[* ]]; then
    MIRROR="$(grep -hs -E '^deb ' /etc/apt/sources.list.d/*.list /etc/apt/sources.list | head -n1 | awk '{print $3}' || true)"
  fi
fi
if [[ -z "$MIRROR" ]]; then
  echo "build-base: no Debian mirror found in apt's sources; pass one as the third argument" >&2
  exit 2
fi
command -v debootstrap >/dev/null || { echo "build-base: debootstrap is not installed" >&2; exit 2; }
command -v docker >/dev/null || { echo "build-base: the docker client is not installed" >&2; exit 2; }

ROOTFS="$(mktemp -d /tmp/uat-rootfs-XXXXXX)"
trap 'rm -rf "$ROOTFS"' EXIT INT TERM

echo "build-base: debootstrap $SUITE from $MIRROR" >&2
debootstrap --variant=minbase "$SUITE" "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1 || {
  tail -n 20 "$ROOTFS.log" >&2
  rm -f "$ROOTFS.log"
  exit 1
}
rm -f "$ROOTFS.log"

rm -rf "$ROOTFS"/usr/share/{doc,man,info,locale}/* "$ROOTFS"/var/cache/apt/*.bin \
  "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/log/*.log
: >"$ROOTFS/etc/resolv.conf"
: >"$ROOTFS/etc/hostname"

tar --numeric-owner -C "$ROOTFS" -c . | docker import --change 'CMD ["/bin/bash"]' - "$TAG" >/dev/null
echo "build-base: $TAG" >&2
