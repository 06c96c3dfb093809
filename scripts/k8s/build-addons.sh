#!/usr/bin/env bash
# Build what the practice cluster (cluster.sh) runs beside the Kubernetes binaries, from the Go
# module proxy, once, into a cache outside the repo; then pack the images its pods run (no image
# registry is reachable, so none can be pulled):
#   coredns                github.com/coredns/coredns, with only the plugins its Corefile uses
#                          (tools/k8s/coredns)
#   kube-network-policies  sigs.k8s.io/kube-network-policies: NetworkPolicy through nftables + NFQUEUE,
#                          patched to queue with the xtables NFQUEUE target (tools/k8s/kube-network-
#                          policies/nfqueue-xt.patch): these kernels lack nftables' own queue
#                          expression (CONFIG_NFT_QUEUE) but have xt_NFQUEUE
#   metrics-server         sigs.k8s.io/metrics-server: the metrics API behind `kubectl top` and HPAs
#   labforge-pause         the pod sandbox process and the node's init (tools/k8s/pause)
#   images/*.oci.tar       pause, coredns, metrics-server and a busybox (Debian's busybox-static)
#                          image for tests, as OCI archives `ctr images import` takes
# Each add-on is built in a wrapper module (made here, in the cache) that pins client-go,
# apimachinery, apiserver and everything under them to the exact versions Kubernetes
# the Kubernetes build uses (build-apiserver.sh runs first): those packages then come from the Go build
# cache instead of compiling once more per add-on (kube-network-policies: 358 s -> 38 s here). The
# add-ons' own go.mod files ask for other versions of those modules (older for
# kube-network-policies, a few newer patch or minor releases for CoreDNS). Not metrics-server:
# its generated OpenAPI definitions only match the k8s.io/apiserver it was released with (with
# v0.37 it panics "cannot find model definition for ...NodeMetrics"), so it builds with its own
# go.mod.
# Idempotent: with the marker in place it only prints the directory. The last line on stdout is
# the directory; progress goes to stderr.
#
#   scripts/k8s/build-addons.sh [--force]
# Environment: LABFORGE_K8S_CACHE (cache root, as build-apiserver.sh), BUILD_PARALLELISM (go -p)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
COREDNS_VERSION=v1.15.0
NETPOL_VERSION=v0.8.0
METRICS_SERVER_VERSION=v0.8.0
PAUSE_VERSION=1
KUBE_VERSION="${KUBE_VERSION:-v1.37.2}"
# Written into the marker: a cache built for other versions is rebuilt.
ADDONS_SET="coredns=$COREDNS_VERSION kube-network-policies=$NETPOL_VERSION+nfqueue-xt metrics-server=$METRICS_SERVER_VERSION pause=$PAUSE_VERSION pinned-to=kubernetes-$KUBE_VERSION"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

log() { printf '[build-addons] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v go >/dev/null || die "go is not on PATH (the practice cluster's add-ons are built with Go >= 1.26)"
command -v node >/dev/null || die "node is not on PATH (scripts/k8s/oci-archive.mjs packs the images)"
[[ -x /usr/bin/busybox ]] || die "/usr/bin/busybox not found: apt-get install -y busybox-static"

CACHE_ROOT="${LABFORGE_K8S_CACHE:-/var/cache/labforge}"
if ! mkdir -p "$CACHE_ROOT" 2>/dev/null || [[ ! -w "$CACHE_ROOT" ]]; then
  CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/labforge"
  mkdir -p "$CACHE_ROOT"
fi
OUT="$CACHE_ROOT/k8s-addons"
MARKER="$OUT/.build-complete"
mkdir -p "$OUT"

cached() { [[ -f "$MARKER" ]] && grep -qxF "set=$ADDONS_SET" "$MARKER"; }
if [[ $FORCE -eq 0 ]] && cached; then
  log "cached: $OUT"
  echo "$OUT"
  exit 0
fi
exec 9>"$OUT/.lock"
flock 9
if [[ $FORCE -eq 0 ]] && cached; then echo "$OUT"; exit 0; fi
rm -f "$MARKER"

export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=
P="${BUILD_PARALLELISM:-2}"
declare -A SECONDS_OF=()
timed() {
  local name="$1" t0; shift
  t0=$(date +%s)
  log "building $name"
  "$@" || die "building $name failed"
  SECONDS_OF[$name]=$(( $(date +%s) - t0 ))
  log "built $name in ${SECONDS_OF[$name]}s"
}

# --- the pins: what Kubernetes' own build resolved for the client libraries ---------------------
KUBE_DIR="$(LABFORGE_K8S_CACHE="$CACHE_ROOT" KUBE_VERSION="$KUBE_VERSION" "$HERE/build-apiserver.sh" | tail -n1)"
PINS="$(cd "$KUBE_DIR/src" && GOFLAGS=-mod=mod go list -deps \
  -f '{{with .Module}}{{.Path}} {{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}{{end}}' \
  k8s.io/client-go/... k8s.io/apiserver/... k8s.io/component-base/... k8s.io/metrics/... | sort -u)"
[[ "$PINS" == *"k8s.io/client-go "* ]] || die "could not list the module versions of $KUBE_DIR/src"
GO_LINE="$(awk '$1=="go"{print $2; exit}' "$KUBE_DIR/src/go.mod")"

# wrapper NAME MODULE VERSION [unpinned]: $OUT/src/NAME/go.mod requiring MODULE, pinning $PINS.
wrapper() {
  local dir="$OUT/src/$1"
  rm -rf "$dir"; mkdir -p "$dir"
  {
    printf 'module labforge.local/%s-build\n\ngo %s\n\nrequire %s %s\n' "$1" "$GO_LINE" "$2" "$3"
    if [[ "${4:-}" != unpinned ]]; then
      printf '\nrequire (\n'
      # shellcheck disable=SC2086 # PINS is "module version" pairs
      printf '\t%s %s\n' $PINS
      printf ')\n\nreplace (\n'
      printf '%s\n' "$PINS" | awk '{printf "\t%s => %s %s\n", $1, $1, $2}'
      printf ')\n'
    fi
  } > "$dir/go.mod"
  echo "$dir"
}
build_pkg() {  # NAME DIR PACKAGE [LDFLAGS]
  (cd "$2" && GOFLAGS=-mod=mod go build -p "$P" -trimpath -ldflags "-s -w ${4:-}" -o "$OUT/$1.new" "$3") \
    && mv -f "$OUT/$1.new" "$OUT/$1"
}

coredns_dir="$(wrapper coredns github.com/coredns/coredns "$COREDNS_VERSION")"
cp "$ROOT/tools/k8s/coredns/main.go" "$coredns_dir/"
netpol_dir="$(wrapper kube-network-policies sigs.k8s.io/kube-network-policies "$NETPOL_VERSION")"
# The released source, patched, as a local replacement of the module.
netpol_src="$(GOFLAGS= go mod download -json "sigs.k8s.io/kube-network-policies@$NETPOL_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
[[ -d "$netpol_src" ]] || die "could not download sigs.k8s.io/kube-network-policies@$NETPOL_VERSION"
cp -r "$netpol_src" "$netpol_dir/upstream"; chmod -R u+w "$netpol_dir/upstream"
patch -s -d "$netpol_dir/upstream" -p1 < "$ROOT/tools/k8s/kube-network-policies/nfqueue-xt.patch" || die "the nfqueue-xt patch does not apply"
printf '\nreplace sigs.k8s.io/kube-network-policies => ./upstream\n' >> "$netpol_dir/go.mod"
ms_dir="$(wrapper metrics-server sigs.k8s.io/metrics-server "$METRICS_SERVER_VERSION" unpinned)"
# Downloads first, all at once (network, not CPU), so the builds below only compile.
log "downloading modules"
(cd "$coredns_dir" && GOFLAGS=-mod=mod go list -deps . >/dev/null) &
(cd "$netpol_dir" && GOFLAGS=-mod=mod go list -deps sigs.k8s.io/kube-network-policies/cmd >/dev/null) &
(cd "$ms_dir" && GOFLAGS=-mod=mod go list -deps sigs.k8s.io/metrics-server/cmd/metrics-server >/dev/null) &
wait

timed labforge-pause build_pkg labforge-pause "$ROOT/tools/k8s/pause" .
timed kube-network-policies build_pkg kube-network-policies "$netpol_dir" sigs.k8s.io/kube-network-policies/cmd
# metrics-server reports client-go's version variables (its Makefile sets them).
v=k8s.io/client-go/pkg/version
timed metrics-server build_pkg metrics-server "$ms_dir" sigs.k8s.io/metrics-server/cmd/metrics-server \
  "-X $v.gitVersion=$METRICS_SERVER_VERSION -X $v.gitMajor=0 -X $v.gitMinor=8 -X $v.gitTreeState=clean"
timed coredns build_pkg coredns "$coredns_dir" .

"$OUT/coredns" -version >&2 || die "built coredns does not run"
"$OUT/metrics-server" --version >&2 || die "built metrics-server does not run"
"$OUT/kube-network-policies" --help >/dev/null 2>&1 || die "built kube-network-policies does not run"

# --- images ------------------------------------------------------------------------------------
# A static binary and the few /etc files a Go program (or busybox) looks at. Names say where they
# come from (labforge.local/...): they are not the upstream images.
IMAGES="$OUT/images"
rm -rf "$IMAGES"; mkdir -p "$IMAGES"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
base_files() {  # DIR: /etc/passwd, /etc/group, /etc/nsswitch.conf, /tmp
  mkdir -p "$1/etc" "$1/tmp"
  chmod 1777 "$1/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nlabforge:x:1000:1000:labforge:/tmp:/bin/sh\n' > "$1/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\nlabforge:x:1000:\n' > "$1/etc/group"
  echo 'hosts: files dns' > "$1/etc/nsswitch.conf"
}
pack() {  # NAME REF ROOTFS CONFIG_JSON: writes images/NAME.oci.tar
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$3" -cf "$work/$1.tar" .
  printf '%s' "$4" > "$work/$1.json"
  node "$HERE/oci-archive.mjs" --name "$2" --out "$IMAGES/$1.oci.tar" --layer "$work/$1.tar" --config "$work/$1.json" > "$work/$1.digest"
  log "image $2 $(cat "$work/$1.digest") ($(( $(stat -c %s "$IMAGES/$1.oci.tar") / 1024 )) KiB)"
}
single_binary_image() {  # NAME REF BINARY CONFIG_JSON
  local root="$work/$1-root"
  base_files "$root"; mkdir -p "$root/usr/bin"; cp "$OUT/$3" "$root/usr/bin/$3"
  pack "$1" "$2" "$root" "$4"
}
single_binary_image pause "labforge.local/pause:$PAUSE_VERSION" labforge-pause '{"Entrypoint":["/usr/bin/labforge-pause"],"User":"65534:65534"}'
single_binary_image coredns "labforge.local/coredns:$COREDNS_VERSION" coredns '{"Entrypoint":["/usr/bin/coredns"],"User":"65532:65532"}'
single_binary_image metrics-server "labforge.local/metrics-server:$METRICS_SERVER_VERSION" metrics-server \
  '{"Entrypoint":["/usr/bin/metrics-server"],"User":"65534:65534"}'
# busybox: every applet as a link in /bin (sh, httpd, wget, nc, nslookup, ip, ...).
bb_root="$work/busybox-root"
base_files "$bb_root"; mkdir -p "$bb_root/bin"; cp /usr/bin/busybox "$bb_root/bin/busybox"
for applet in $(/usr/bin/busybox --list); do [[ "$applet" == busybox ]] || ln -sf busybox "$bb_root/bin/$applet"; done
bb_version="$(/usr/bin/busybox | sed -n '1s/^BusyBox v\([0-9.]*\).*/\1/p')"
pack busybox "labforge.local/busybox:$bb_version" "$bb_root" '{"Cmd":["sh"],"Env":["PATH=/bin"]}'

sizes=""
for f in labforge-pause coredns kube-network-policies metrics-server; do sizes+=" $f=$(( $(stat -c %s "$OUT/$f") / 1024 / 1024 ))MiB"; done
{
  echo "set=$ADDONS_SET"
  echo "go=$(go env GOVERSION) built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "build_seconds: pause=${SECONDS_OF[labforge-pause]} coredns=${SECONDS_OF[coredns]} kube-network-policies=${SECONDS_OF[kube-network-policies]} metrics-server=${SECONDS_OF[metrics-server]}"
  echo "sizes:$sizes"
  echo "images: pause=labforge.local/pause:$PAUSE_VERSION coredns=labforge.local/coredns:$COREDNS_VERSION metrics-server=labforge.local/metrics-server:$METRICS_SERVER_VERSION busybox=labforge.local/busybox:$bb_version"
} > "$MARKER.tmp"
mv -f "$MARKER.tmp" "$MARKER"
log "done: $OUT"
echo "$OUT"
