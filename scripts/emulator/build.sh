#!/usr/bin/env bash
# Build a real OpenTofu, terraform-provider-aws and terraform-provider-random from the Go module
# proxy (no download site is reachable here) for the emulator tests (tests/emulator), install the
# providers into a filesystem mirror and write a tofu CLI config that uses only that mirror.
# Idempotent: with the marker present it only prints the directory. The last stdout line is the
# directory; progress goes to stderr.
#
#   scripts/emulator/build.sh           # build once, then print the cached directory
#   scripts/emulator/build.sh --force   # rebuild
#   scripts/emulator/build.sh --print-if-cached   # the directory if built, else exit 1 (tests)
#
# The versions are pinned by tools/emulator/*/go.mod (their `tool` lines); the directory name
# carries them, so a version bump builds into a new directory.
#
# Environment:
#   LABFORGE_EMULATOR_CACHE  cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/labforge)
#   BUILD_PARALLELISM        go build -p (default 2)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"

log() { printf '[emulator-build] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
command -v go >/dev/null || die "go is not on PATH (the emulator tests build OpenTofu and the providers with Go >= 1.26)"

FORCE=0
PRINT_ONLY=0
case "${1:-}" in
  --force) FORCE=1 ;;
  --print-if-cached) PRINT_ONLY=1 ;;
  "") ;;
  *) die "unknown option '$1' (valid: --force, --print-if-cached)" ;;
esac

# module dir | Go module | package path inside it | binary | provider type (empty for tofu itself)
BUILDS=(
  "tofu|github.com/opentofu/opentofu|/cmd/tofu|tofu|"
  "provider-aws|github.com/hashicorp/terraform-provider-aws||terraform-provider-aws|aws"
  "provider-random|github.com/terraform-providers/terraform-provider-random||terraform-provider-random|random"
  "provider-kubernetes|github.com/hashicorp/terraform-provider-kubernetes||terraform-provider-kubernetes|kubernetes"
)

# The version each module pins: the require line of its tool's module.
pinned() {
  local dir="$1" module="$2"
  awk -v m="$module" '$1==m {print $2; exit} $1=="require" && $2==m {print $3; exit}' "$ROOT/tools/emulator/$dir/go.mod"
}
# The release a provider build reports: its version/VERSION file (pseudo-versions carry none).
release_of() {
  local module="$1" version="$2"
  cat "$(go env GOMODCACHE)/$module@$version/version/VERSION"
}

key=""
for b in "${BUILDS[@]}"; do
  IFS='|' read -r dir module _ bin _ <<<"$b"
  v="$(pinned "$dir" "$module")"
  [[ -n "$v" ]] || die "tools/emulator/$dir/go.mod pins no version of $module"
  key+="$bin@$v "
done
CACHE_ROOT="${LABFORGE_EMULATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/labforge}"
DIR="$CACHE_ROOT/emulator-$(printf '%s' "$key" | sha256sum | cut -c1-12)"
MARKER="$DIR/.build-complete"
if [[ $PRINT_ONLY -eq 1 ]]; then
  [[ -f "$MARKER" ]] || die "not built yet: run scripts/emulator/build.sh (it builds into $DIR)"
  echo "$DIR"
  exit 0
fi
mkdir -p "$DIR"

if [[ $FORCE -eq 0 && -f "$MARKER" ]]; then
  log "cached: $DIR ($(head -n1 "$MARKER"))"
  echo "$DIR"
  exit 0
fi
# One build at a time (parallel test workers may call this script).
exec 9>"$DIR/.lock"
flock 9
if [[ $FORCE -eq 0 && -f "$MARKER" ]]; then
  log "built by another process: $DIR"
  echo "$DIR"
  exit 0
fi
rm -f "$MARKER"

export GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false"
summary=()
start_all=$(date +%s)
mkdir -p "$DIR/bin"
for b in "${BUILDS[@]}"; do
  IFS='|' read -r dir module sub bin type <<<"$b"
  pkg="$module$sub"
  version="$(pinned "$dir" "$module")"
  log "go build $pkg@$version (-p ${BUILD_PARALLELISM:-2}); the first build of the AWS provider takes long"
  start=$(date +%s)
  # /usr/bin/time -v reports the build's peak memory (its children's included).
  (cd "$ROOT/tools/emulator/$dir" && /usr/bin/time -f '%M' -o "$DIR/.$bin.maxrss" \
    go build -p "${BUILD_PARALLELISM:-2}" -ldflags '-s -w' -o "$DIR/bin/$bin.tmp" "$pkg")
  mv -f "$DIR/bin/$bin.tmp" "$DIR/bin/$bin"
  secs=$(( $(date +%s) - start ))
  mib=$(( $(cat "$DIR/.$bin.maxrss") / 1024 ))
  if [[ -n "$type" ]]; then
    release="$(release_of "$module" "$version")"
    # Unpacked filesystem-mirror layout: <host>/<namespace>/<type>/<version>/<os>_<arch>/.
    for host in registry.opentofu.org registry.terraform.io; do
      target="$DIR/mirror/$host/hashicorp/$type/$release/linux_amd64"
      mkdir -p "$target"
      ln -sfn "$DIR/bin/$bin" "$target/${bin}_v$release"
    done
    echo "$type=$release" >> "$DIR/.providers.tmp"
    summary+=("$bin $release ($version) ${secs}s ${mib}MiB")
  else
    summary+=("$bin $version ${secs}s ${mib}MiB")
  fi
  log "built $bin in ${secs}s, peak ${mib} MiB"
done
mv -f "$DIR/.providers.tmp" "$DIR/providers"

# A CLI config that installs providers from the mirror only: nothing is fetched from a registry.
cat > "$DIR/tofurc" <<EOF
provider_installation {
  filesystem_mirror {
    path    = "$DIR/mirror"
    include = ["*/*/*"]
  }
  direct {
    exclude = ["*/*/*"]
  }
}
EOF
"$DIR/bin/tofu" version >&2 || die "the built tofu does not run"

total=$(( $(date +%s) - start_all ))
{
  echo "built in ${total}s on $(nproc) cores, go $(go env GOVERSION), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  printf '%s\n' "${summary[@]}"
} > "$MARKER.tmp"
mv -f "$MARKER.tmp" "$MARKER"
log "done in ${total}s: $DIR"
echo "$DIR"
