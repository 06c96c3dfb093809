#!/usr/bin/env bash
# The OCI images the k8s labs run (PostgreSQL, Redis, RabbitMQ, Kafka, Node.js), built locally
# from Debian packages: no container registry is reachable from labforge's machines, so no
# official image can be pulled. Each local image is named like the official one it stands in
# for and keeps its contract (docs/images.md), so manifests work with either.
#
#   scripts/k8s/images.sh build [NAME...]   build into the cache (all by default); idempotent
#   scripts/k8s/images.sh list [--json]     ref, digest, archive of every built image
#   scripts/k8s/images.sh dir               the cache directory of the current recipes
#   scripts/k8s/images.sh prune             remove cache directories of other recipe versions
#
# Images: scripts/k8s/images/images.json. Cache: <cache>/images-<hash>/<name>-<recipe hash>/ with
# <cache> as in scripts/kafka/fetch.sh (as root /var/cache/labforge); each image's directory
# gets its marker last, and index.json (ref -> digest -> archive) is rewritten after each build.
# LABFORGE_DEBIAN_MIRROR replaces images.json's mirror; LABFORGE_IMAGE_JOBS (default 2) is how
# many images build at once. Import into a cluster's containerd: ctr -n k8s.io images import <archive>
set -euo pipefail
umask 022

here="$(cd "$(dirname "$0")" && pwd)"
if [ -n "${LABFORGE_CACHE:-}" ]; then
  root="$LABFORGE_CACHE"
elif [ -n "${XDG_CACHE_HOME:-}" ]; then
  root="$XDG_CACHE_HOME/labforge"
elif [ "$(id -u)" -eq 0 ]; then
  root="/var/cache/labforge"
else
  root="${HOME:?HOME is not set; set LABFORGE_CACHE}/.cache/labforge"
fi
export LABFORGE_IMAGES_CACHE_ROOT="$root"

command -v node >/dev/null || { echo "images.sh: node is not on PATH (labforge needs Node >= 20.19)" >&2; exit 1; }

if [ "${1:-}" = build ]; then
  [ "$(id -u)" -eq 0 ] || { echo "images.sh: build needs root (mmdebstrap --mode=root); run it as root or with sudo" >&2; exit 1; }
  for tool in mmdebstrap unzip; do
    command -v "$tool" >/dev/null || { echo "images.sh: $tool is not installed; install with: apt-get install -y mmdebstrap unzip" >&2; exit 1; }
  done
  mkdir -p "$root"
  chmod 755 "$root" 2>/dev/null || true
  # One build at a time per cache: a second run waits, then finds the images built.
  exec 9>"$root/.images.lock"
  flock 9
fi

exec node "$here/images/images.mjs" "$@"
