#!/usr/bin/env bash
# Build the real Kubernetes binaries from the k8s.io/kubernetes Go module (through the Go module
# proxy) and cache them outside the repo: kube-apiserver, kube-controller-manager and kubectl for
# the control plane of the tests (apiserver.sh), and kube-scheduler, kubelet and kube-proxy for the
# practice cluster's node (cluster.sh). One `go build` for all of them, so the packages they share
# compile once. Idempotent: when the binaries and the marker file exist, it only prints the path;
# when some are missing (a cache from before a command was added), it builds only those. The last
# line on stdout is always the directory holding the binaries; all progress goes to stderr.
#
#   scripts/k8s/build-apiserver.sh            # default version (see KUBE_VERSION below)
#   KUBE_VERSION=v1.36.3 scripts/k8s/build-apiserver.sh
#   LABFORGE_K8S_CACHE=/some/dir scripts/k8s/build-apiserver.sh
#   scripts/k8s/build-apiserver.sh --force   # rebuild even if cached
#
# Environment:
#   KUBE_VERSION        k8s.io/kubernetes version (default v1.37.2)
#   LABFORGE_K8S_CACHE  cache root (default /var/cache/labforge, falls back to
#                       ${XDG_CACHE_HOME:-$HOME/.cache}/labforge when not writable)
#   BUILD_PARALLELISM   go build -p (default 2)
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.37.2}"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

log() { printf '[build-apiserver] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ "$KUBE_VERSION" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || die "KUBE_VERSION must look like v1.37.2, got '$KUBE_VERSION'"
KUBE_MINOR="${BASH_REMATCH[1]}"
KUBE_PATCH="${BASH_REMATCH[2]}"
# Staging modules (k8s.io/api, apimachinery, apiserver, client-go, ...) are published as v0.<minor>.<patch>.
STAGING_VERSION="v0.${KUBE_MINOR}.${KUBE_PATCH}"

command -v go >/dev/null || die "go is not on PATH"

CACHE_ROOT="${LABFORGE_K8S_CACHE:-/var/cache/labforge}"
if ! mkdir -p "$CACHE_ROOT" 2>/dev/null || [[ ! -w "$CACHE_ROOT" ]]; then
  CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/labforge"
  mkdir -p "$CACHE_ROOT"
fi
CACHE_DIR="$CACHE_ROOT/kubernetes-$KUBE_VERSION"
# kubectl too: Debian's kubernetes-client is 1.20, too old for a 1.37 server.
COMMANDS=(kube-apiserver kube-controller-manager kubectl kube-scheduler kubelet kube-proxy)
MARKER="$CACHE_DIR/.build-complete"
mkdir -p "$CACHE_DIR"

cached() {
  local c
  for c in "${COMMANDS[@]}"; do [[ -x "$CACHE_DIR/$c" ]] || return 1; done
  [[ -f "$MARKER" ]]
}

if [[ $FORCE -eq 0 ]] && cached; then
  log "cached: $CACHE_DIR ($(cat "$MARKER"))"
  echo "$CACHE_DIR"
  exit 0
fi

# One build at a time per version (parallel test workers may call this script).
exec 9>"$CACHE_DIR/.lock"
if command -v flock >/dev/null; then
  flock 9
  if [[ $FORCE -eq 0 ]] && cached; then
    log "built by another process: $CACHE_DIR"
    echo "$CACHE_DIR"
    exit 0
  fi
fi
rm -f "$MARKER"
# Only what is missing (or everything with --force): a cache built before kube-scheduler, kubelet
# and kube-proxy were added keeps its control-plane binaries.
TO_BUILD=()
for c in "${COMMANDS[@]}"; do
  if [[ $FORCE -eq 1 || ! -x "$CACHE_DIR/$c" ]]; then TO_BUILD+=("$c"); fi
done

# --- Go toolchain ----------------------------------------------------------------------------
export GOFLAGS="-mod=mod"
export CGO_ENABLED=0
log "downloading k8s.io/kubernetes@$KUBE_VERSION (module proxy)"
KUBE_MOD_FILE="$(cd "$CACHE_DIR" && GOFLAGS= GOTOOLCHAIN=local go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" \
  | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
[[ -f "$KUBE_MOD_FILE" ]] || die "could not download k8s.io/kubernetes@$KUBE_VERSION"

KUBE_GO_LINE="$(awk '$1=="go"{print $2; exit}' "$KUBE_MOD_FILE")"
KUBE_GODEBUG="$(awk '$1=="godebug"{print $2; exit}' "$KUBE_MOD_FILE")"
LOCAL_GO="$(GOTOOLCHAIN=local go env GOVERSION)"; LOCAL_GO="${LOCAL_GO#go}"
if [[ "$(printf '%s\n%s\n' "$KUBE_GO_LINE" "$LOCAL_GO" | sort -V | tail -n1)" != "$LOCAL_GO" ]]; then
  # The only newer Go that this workplace serves (through the module proxy).
  export GOTOOLCHAIN=go1.27.3
  log "k8s.io/kubernetes@$KUBE_VERSION needs go $KUBE_GO_LINE > local go $LOCAL_GO: using GOTOOLCHAIN=$GOTOOLCHAIN"
else
  export GOTOOLCHAIN=local
fi

# --- wrapper module ---------------------------------------------------------------------------
# k8s.io/kubernetes requires every staging module at v0.0.0 and replaces it with ./staging/src/...
# which is not in the published module; pin each one to the matching published v0.Y.Z instead.
STAGING_MODULES="$(awk '/=> \.\/staging\/src\//{print $1}' "$KUBE_MOD_FILE" | sort -u)"
[[ -n "$STAGING_MODULES" ]] || die "no staging replace lines found in $KUBE_MOD_FILE"

SRC="$CACHE_DIR/src"
rm -rf "$SRC"; mkdir -p "$SRC"
{
  echo "module labforge.local/kube-apiserver-build"
  echo
  echo "go $KUBE_GO_LINE"
  [[ -n "$KUBE_GODEBUG" ]] && { echo; echo "godebug $KUBE_GODEBUG"; }
  echo
  echo "require k8s.io/kubernetes $KUBE_VERSION"
  echo
  echo "replace ("
  for m in $STAGING_MODULES; do printf '\t%s => %s %s\n' "$m" "$m" "$STAGING_VERSION"; done
  echo ")"
} > "$SRC/go.mod"
log "wrapper module: $SRC/go.mod ($(wc -w <<<"$STAGING_MODULES") staging modules pinned to $STAGING_VERSION)"

# --- build ------------------------------------------------------------------------------------
BUILD_DATE="$(date -u +'%Y-%m-%dT%H:%M:%SZ')"
LDFLAGS="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDFLAGS+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$KUBE_MINOR"
  LDFLAGS+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$BUILD_DATE"
done

log "go build ${TO_BUILD[*]} (go $(go env GOVERSION), -p ${BUILD_PARALLELISM:-2}); the first build takes a long time"
start=$(date +%s)
rm -rf "$CACHE_DIR/out"; mkdir -p "$CACHE_DIR/out"
(
  cd "$SRC"
  go build -p "${BUILD_PARALLELISM:-2}" -trimpath -ldflags "$LDFLAGS" -o "$CACHE_DIR/out/" \
    $(printf 'k8s.io/kubernetes/cmd/%s ' "${TO_BUILD[@]}")
)
secs=$(( $(date +%s) - start ))
for c in "${TO_BUILD[@]}"; do
  if [[ "$c" == kubectl ]]; then version_args=(version --client); else version_args=(--version); fi
  "$CACHE_DIR/out/$c" "${version_args[@]}" >&2 || die "built $c does not run"
  mv -f "$CACHE_DIR/out/$c" "$CACHE_DIR/$c"
done
size=0
for c in "${COMMANDS[@]}"; do size=$(( size + $(stat -c %s "$CACHE_DIR/$c") )); done
rmdir "$CACHE_DIR/out"
# The marker is written last: its presence means every binary is complete.
printf 'version=%s go=%s build_seconds=%s size_bytes=%s built=%s last_built=%s\n' \
  "$KUBE_VERSION" "$(go env GOVERSION)" "$secs" "$size" "$BUILD_DATE" "$(IFS=,; echo "${TO_BUILD[*]}")" > "$MARKER.tmp"
mv -f "$MARKER.tmp" "$MARKER"
log "built ${TO_BUILD[*]} in ${secs}s ($((size / 1024 / 1024)) MiB) into $CACHE_DIR"
echo "$CACHE_DIR"
