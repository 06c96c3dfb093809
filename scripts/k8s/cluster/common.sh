# shellcheck shell=bash
# Names, addresses and paths of one practice cluster, derived from its name and its index (a
# small number given at `up`, kept in its state file), plus logging and the tool checks.
# Sourced by cluster.sh.

log() { printf '[cluster %s] %s\n' "${NAME:-?}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }

# Everything a cluster writes lives in $CLUSTERS_ROOT/NAME.
CLUSTERS_ROOT="${LABFORGE_CLUSTERS_DIR:-/var/lib/labforge/clusters}"
CACHE_ROOT="${LABFORGE_K8S_CACHE:-/var/cache/labforge}"
# Extra images (OCI archives) every `up` imports: what other tools build for labs.
IMAGES_DIR="${LABFORGE_K8S_IMAGES:-$CACHE_ROOT/k8s-images}"
KUBE_VERSION="${KUBE_VERSION:-v1.37.2}"
# The largest index: clusters get 10.(200+i).0.0/16 each.
MAX_INDEX=50

# NAME becomes part of interface names (15 bytes at most: "lf-" + 12).
valid_name() { [[ "$1" =~ ^[a-z][a-z0-9-]{0,11}$ && "$1" != *- ]]; }

# Sets every per-cluster variable from NAME (and INDEX when known).
cluster_paths() {
  DIR="$CLUSTERS_ROOT/$NAME"
  STATE="$DIR/state"
  KUBECONFIG_PATH="$DIR/kubeconfig"
  LOGS="$DIR/logs"
  NETNS="labforge-$NAME"
  NETNS_FILE="/run/netns/$NETNS"
  VETH="lf-$NAME"
  NODE_NAME="$NAME"
  # The cgroup every pod of this cluster lives under, in each hierarchy (kubelet cgroupRoot).
  CGROUP_ROOT="labforge-$NAME"
}

cluster_addresses() {
  local b=$(( 200 + INDEX ))
  SUPERNET="10.$b.0.0/16"     # the host routes it to the node; nothing else uses it
  POD_CIDR="10.$b.0.0/24"
  POD_GATEWAY="10.$b.0.1"     # the CNI bridge, in the node's namespace
  SERVICE_CIDR="10.$b.128.0/24"
  KUBERNETES_SERVICE_IP="10.$b.128.1"
  DNS_IP="10.$b.128.10"
  HOST_IP="10.$b.255.1"       # host end of the veth
  NODE_IP="10.$b.255.2"       # node end: the node's InternalIP, the apiserver's address
  APISERVER_PORT=6443
  APISERVER_URL="https://$NODE_IP:$APISERVER_PORT"
}

# KEY=VALUE lines of the state file into the environment (only known keys).
load_state() {
  [[ -f "$STATE" ]] || return 1
  local key value
  while IFS='=' read -r key value; do
    case "$key" in
      INDEX|INIT_PID|INIT_START|PIDNS|NETNS_INODE|MNTNS|KUBE_BIN_DIR|ADDONS_DIR) printf -v "$key" '%s' "$value" ;;
    esac
  done < "$STATE"
  [[ -n "${INDEX:-}" ]] || return 1
  cluster_addresses
}

save_state() {  # KEY VALUE: adds or replaces one line
  local tmp="$STATE.tmp"
  { grep -v "^$1=" "$STATE" 2>/dev/null || true; echo "$1=$2"; } > "$tmp"
  mv -f "$tmp" "$STATE"
}

# The lowest index no other cluster holds.
allocate_index() {
  local used=" " f i
  for f in "$CLUSTERS_ROOT"/*/state; do
    [[ -f "$f" ]] || continue
    used+="$(sed -n 's/^INDEX=//p' "$f") "
  done
  for (( i = 1; i <= MAX_INDEX; i++ )); do
    [[ "$used" == *" $i "* ]] || { echo "$i"; return 0; }
  done
  die "all $MAX_INDEX cluster slots are taken: run '$0 down --name NAME' for one of $(ls "$CLUSTERS_ROOT" | tr '\n' ' ')"
}

require_root() {
  [[ "$(id -u)" -eq 0 ]] || { echo "cluster.sh: must run as root (kubelet and containerd need it): sudo $0 $*" >&2; exit 1; }
}

# Every host tool a cluster needs, with the package that has it.
check_tools() {
  local missing=() tool pkg
  while read -r tool pkg; do
    [[ -n "$tool" ]] || continue
    if [[ "$tool" == /* ]]; then [[ -x "$tool" ]] || missing+=("$tool ($pkg)")
    else command -v "$tool" >/dev/null || missing+=("$tool ($pkg)"); fi
  done <<'EOF'
containerd containerd
containerd-shim-runc-v2 containerd
ctr containerd
runc runc
/usr/lib/cni/bridge containernetworking-plugins
/usr/lib/cni/host-local containernetworking-plugins
/usr/lib/cni/loopback containernetworking-plugins
/usr/lib/cni/portmap containernetworking-plugins
iptables iptables
nft nftables
conntrack conntrack
ip iproute2
nsenter util-linux
unshare util-linux
flock util-linux
openssl openssl
curl curl
etcd etcd-server
EOF
  [[ ${#missing[@]} -eq 0 ]] || die "missing: ${missing[*]}: apt-get install -y containerd runc containernetworking-plugins iptables nftables conntrack iproute2 util-linux openssl curl etcd-server (or run scripts/setup.sh --test)"
}

# The build directories (binaries and images), built once when missing unless
# LABFORGE_K8S_NO_BUILD=1 (tests: they must say what to run instead of building for 20 minutes).
resolve_builds() {
  local here; here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  local kube="$CACHE_ROOT/kubernetes-$KUBE_VERSION" addons="$CACHE_ROOT/k8s-addons" c
  local complete=1
  [[ -f "$kube/.build-complete" && -f "$addons/.build-complete" ]] || complete=0
  for c in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl; do
    [[ -x "$kube/$c" ]] || complete=0
  done
  if [[ $complete -eq 0 ]]; then
    [[ "${LABFORGE_K8S_NO_BUILD:-0}" != 1 ]] || die "the practice cluster's binaries are not built (looked in $kube and $addons): run scripts/k8s/build-apiserver.sh and scripts/k8s/build-addons.sh (scripts/setup.sh --test runs both)"
    log "first run: building Kubernetes $KUBE_VERSION and the add-ons from the Go module proxy (about 20-30 minutes on 2 cores)"
    kube="$(LABFORGE_K8S_CACHE="$CACHE_ROOT" KUBE_VERSION="$KUBE_VERSION" "$here/build-apiserver.sh" | tail -n1)"
    addons="$(LABFORGE_K8S_CACHE="$CACHE_ROOT" "$here/build-addons.sh" | tail -n1)"
  fi
  KUBE_BIN_DIR="$kube"
  ADDONS_DIR="$addons"
}

# The kubectl built with the cluster (Debian's is 1.20, too old for it).
kubectl_() { "$KUBE_BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_PATH" "$@"; }
