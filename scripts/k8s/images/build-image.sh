#!/usr/bin/env bash
# Builds one image of images.json into OUT: a root filesystem from Debian packages (mmdebstrap),
# the recipe's files and fix-ups (scripts/k8s/images/NAME/), packed by oci-archive.mjs into
# OUT/image.oci.tar. Called by images.mjs (scripts/k8s/images.sh build), one process per image.
#
#   build-image.sh NAME REF SUITE MIRROR PACKAGES VERSION_PACKAGE OUT
#
# OUT gets: image.oci.tar, digest (sha256:... of the manifest), packages.txt (name, version of
# every installed package), version (of VERSION_PACKAGE), layer-bytes.
set -euo pipefail
umask 022

[ $# -eq 7 ] || { echo "usage: build-image.sh NAME REF SUITE MIRROR PACKAGES VERSION_PACKAGE OUT" >&2; exit 2; }
name=$1 ref=$2 suite=$3 mirror=$4 packages=$5 version_package=$6 out=$7
here="$(cd "$(dirname "$0")" && pwd)"
recipe="$here/$name"
[ -d "$recipe" ] || { echo "build-image.sh: no recipe directory $recipe" >&2; exit 2; }
mkdir -p "$out"

# Reproducible: the same packages and recipe give the same layer and so the same digest.
export SOURCE_DATE_EPOCH=1764806400
export RECIPE="$recipe"
# A recipe may prepare host-side inputs first (Kafka: the jars from Maven Central).
if [ -x "$recipe/prepare.sh" ]; then
  # shellcheck disable=SC1091
  eval "$("$recipe/prepare.sh")"
fi

# Documentation, man pages and translations never reach the root filesystem (man1 exists
# still: update-alternatives, run by openjdk's scripts, links man pages into it).
slim=(
  --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/lintian/*'
  --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-include=/usr/share/locale/locale.alias'
)

# sid's Release file carries a Valid-Until a week ahead; a mirror that serves a snapshot (as
# these machines' does) hands out an expired one. Signatures are still checked.
apt_opts=(--aptopt='Acquire::Check-Valid-Until "false"')

started=$(date +%s)
# essential: only Essential:yes packages plus PACKAGES (and their dependencies; no
# recommends, no apt). Hooks run on the host with $1 = the root filesystem.
# --skip=cleanup/run: keep directories recipes make in /run (postgres' socket directory).
mmdebstrap --variant=essential --mode=root --format=tar --skip=cleanup/run \
  --include="$packages" "${slim[@]}" "${apt_opts[@]}" \
  --essential-hook='mkdir -p "$1/usr/share/man/man1"' \
  --essential-hook="\"$here/common/users.sh\" \"\$1\" \"$recipe/users\"" \
  --customize-hook="cp -a --no-preserve=ownership \"$recipe/rootfs/.\" \"\$1/\"" \
  --customize-hook="\"$recipe/customize.sh\" \"\$1\"" \
  --customize-hook="\"$here/common/slim.sh\" \"\$1\"" \
  --customize-hook="chroot \"\$1\" dpkg-query -W -f='\${Package}\t\${Version}\n' >\"$out/packages.txt\"" \
  "$suite" "$out/layer.tar" "deb $mirror $suite main"

debversion=$(awk -F'\t' -v p="$version_package" '$1 == p { print $2 }' "$out/packages.txt")
[ -n "$debversion" ] || { echo "build-image.sh: $version_package is not installed in $name" >&2; exit 1; }
# Upstream version: no epoch, no Debian revision or repack suffix (5:8.0.2-3 -> 8.0.2).
version=$(printf '%s' "$debversion" | sed -e 's/^[0-9]*://' -e 's/[-+~].*$//')
printf '%s\n' "$version" >"$out/version"

# The image config, with the versions filled in.
sed -e "s|@VERSION@|$version|g" -e "s|@DEBVERSION@|$debversion|g" -e "s|@KAFKA_VERSION@|${KAFKA_VERSION:-}|g" \
  "$recipe/config.json" >"$out/config.json"
node "$here/../oci-archive.mjs" --name "$ref" --out "$out/image.oci.tar" --layer "$out/layer.tar" --config "$out/config.json" >"$out/digest"
stat -c %s "$out/layer.tar" >"$out/layer-bytes"
rm -f "$out/layer.tar"
echo "build-image.sh: $name $version ($ref) $(cat "$out/digest") in $(($(date +%s) - started)) s" >&2
