#!/usr/bin/env bash
# A real one-node Kubernetes practice cluster without Docker: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet, kube-proxy (iptables), containerd + runc, CNI
# bridge, CoreDNS, kube-network-policies (NetworkPolicy enforced with nftables + NFQUEUE) and
# metrics-server, all inside one network/PID/mount namespace per cluster (scripts/k8s/cluster/node.sh).
# A practice cluster, not a production one: one node, no registry (images are imported), no way out.
#
#   cluster.sh up    [--name NAME]        start (idempotent: a running cluster returns at once);
#                                         prints `export KUBECONFIG=...` on stdout
#   cluster.sh down  [--name NAME]        stop and remove everything, proves nothing is left
#   cluster.sh env   [--name NAME]        prints `export KUBECONFIG=...`
#   cluster.sh load  [--name NAME] FILE.. imports OCI image archives into the running cluster
#   cluster.sh status [--name NAME]       running or not, addresses, node state
#   cluster.sh leftovers [--name NAME]    what of a cluster is still on the host (empty: nothing)
#   cluster.sh check                      exits 0 when root, the host tools and the builds are
#                                         there, else says in one line what to install or run
# NAME: a-z, 0-9 and '-', up to 12 characters (default labforge).
#
# Environment: LABFORGE_K8S_IMAGES (directory whose *.tar OCI archives `up` imports, default
# /var/cache/labforge/k8s-images), LABFORGE_CLUSTERS_DIR (default /var/lib/labforge/clusters),
# LABFORGE_K8S_CACHE (build cache root), LABFORGE_K8S_NO_BUILD=1 (fail instead of building).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/common.sh
. "$HERE/cluster/common.sh"
. "$HERE/cluster/pki.sh"
. "$HERE/cluster/node.sh"
. "$HERE/cluster/addons.sh"
. "$HERE/cluster/teardown.sh"

USAGE="usage: cluster.sh up|down|env|load|status|leftovers|check [--name NAME] [FILE...]"
VERB="${1:-}"; [[ $# -gt 0 ]] && shift
NAME=labforge
FILES=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --name) [[ $# -ge 2 ]] || { echo "cluster.sh: --name needs a value" >&2; exit 2; }; NAME="$2"; shift 2 ;;
    --name=*) NAME="${1#--name=}"; shift ;;
    -*) echo "cluster.sh: unknown option '$1' (valid: --name NAME)" >&2; exit 2 ;;
    *) FILES+=("$1"); shift ;;
  esac
done
case "$VERB" in
  up|down|env|load|status|leftovers|check) ;;
  *) echo "cluster.sh: unknown command '${VERB}' (valid: up, down, env, load, status, leftovers, check)" >&2; echo "$USAGE" >&2; exit 2 ;;
esac
valid_name "$NAME" || { echo "cluster.sh: invalid cluster name '$NAME' (valid: a-z, 0-9 and '-', starting with a letter, up to 12 characters)" >&2; exit 2; }
[[ "$VERB" == load || ${#FILES[@]} -eq 0 ]] || { echo "cluster.sh: $VERB takes no file arguments" >&2; exit 2; }
cluster_paths

condition() {  # KIND/NAME TYPE: the status of one condition
  kubectl_ --request-timeout=5s get "$1" -o jsonpath="{.status.conditions[?(@.type==\"$2\")].status}" 2>/dev/null
}
node_ready() { [[ "$(condition "node/$NODE_NAME" Ready)" == True ]]; }
metrics_api_available() { [[ "$(condition apiservice/v1beta1.metrics.k8s.io Available)" == True ]]; }

# The cluster answers: node Ready, through its own kubeconfig.
healthy() {
  [[ -f "$KUBECONFIG_PATH" ]] && load_state && init_alive && node_ready
}

print_env() { echo "export KUBECONFIG=$KUBECONFIG_PATH"; }

start_control_plane() {
  local extra=(
    --client-ca-file="$DIR/pki/ca.crt"
    --kubelet-client-certificate="$DIR/pki/apiserver-kubelet-client.crt"
    --kubelet-client-key="$DIR/pki/apiserver-kubelet-client.key"
    --kubelet-certificate-authority="$DIR/pki/ca.crt"
    --kubelet-preferred-address-types=InternalIP
    --enable-admission-plugins=NodeRestriction
    # The aggregation layer, for metrics-server's metrics.k8s.io.
    --requestheader-client-ca-file="$DIR/pki/front-proxy-ca.crt"
    --requestheader-allowed-names=front-proxy-client
    --requestheader-username-headers=X-Remote-User
    --requestheader-group-headers=X-Remote-Group
    --requestheader-extra-headers-prefix=X-Remote-Extra-
    --proxy-client-cert-file="$DIR/pki/front-proxy-client.crt"
    --proxy-client-key-file="$DIR/pki/front-proxy-client.key"
    --enable-aggregator-routing=true
  )
  # node-lifecycle takes the not-ready taint off the node once the kubelet reports Ready.
  node_exec env KUBE_BIN_DIR="$KUBE_BIN_DIR" KUBE_APISERVER_ADDRESS="$NODE_IP" \
    KUBE_APISERVER_PORT="$APISERVER_PORT" KUBE_SERVICE_CIDR="$SERVICE_CIDR" KUBE_CA_DIR="$DIR/pki" \
    KUBE_APISERVER_SANS="IP:$KUBERNETES_SERVICE_IP" KUBE_AUTHORIZATION_MODE=Node,RBAC KUBE_CERT_DAYS="$CERT_DAYS" \
    KUBE_EXTRA_CONTROLLERS=node-lifecycle-controller,taint-eviction-controller,pod-garbage-collector-controller \
    KUBE_APISERVER_EXTRA_ARGS="${extra[*]}" \
    bash "$HERE/apiserver.sh" start "$DIR/control-plane" > "$LOGS/control-plane.env" 2> "$LOGS/control-plane.log" \
    || { tail -n 30 "$LOGS/control-plane.log" >&2; die "the control plane did not start (logs in $DIR/control-plane)"; }
  write_kubeconfig "$KUBECONFIG_PATH" "token: $(sed -n 's/^KUBE_TOKEN=//p' "$DIR/control-plane/env")"
}

image_archives() {
  local f
  for f in "$ADDONS_DIR"/images/*.tar "$IMAGES_DIR"/*.tar; do [[ -f "$f" ]] && echo "$f"; done
  # The images the labs run, built from Debian packages (scripts/k8s/images.sh; docs/images.md),
  # so that `labforge up <level> --target k8s` finds them under the refs its manifests name.
  "$HERE/images.sh" list --json 2>/dev/null | node -e '
    const d = JSON.parse(require("fs").readFileSync(0, "utf8"));
    for (const i of d.images) if (i.built) console.log(i.archive);' || true
  return 0
}

cmd_up() {
  local t0; t0="$(date +%s.%N)"
  if healthy; then log "already running"; print_env; return 0; fi
  check_tools
  resolve_builds
  mkdir -p "$CLUSTERS_ROOT"
  # One `up` or `down` at a time per machine: they allocate addresses and names.
  exec 8>"$CLUSTERS_ROOT/.lock"; flock 8
  if [[ -e "$DIR" || -e "$NETNS_FILE" ]]; then log "a stopped or broken cluster is in the way: removing it first"; cmd_down; fi
  umask 077
  mkdir -p "$DIR" "$LOGS"
  INDEX="$(allocate_index)" || exit 1
  echo "INDEX=$INDEX" > "$STATE"
  save_state KUBE_BIN_DIR "$KUBE_BIN_DIR"; save_state ADDONS_DIR "$ADDONS_DIR"
  cluster_addresses
  # A failed `up` leaves nothing running: it takes itself down (what failed is printed first)
  # (LABFORGE_K8S_KEEP_FAILED=1 keeps it, to look at.)
  trap 'rc=$?; if [[ $rc -ne 0 && "${LABFORGE_K8S_KEEP_FAILED:-0}" != 1 ]]; then log "up failed: removing the half-started cluster"; cmd_down >&2 || true; fi' EXIT
  log "pods $POD_CIDR, services $SERVICE_CIDR, node $NODE_IP (network namespace $NETNS)"
  make_pki
  create_network
  start_init
  save_state NETNS_INODE "$(inode_of "$NETNS_FILE")"
  write_node_configs
  # The control plane and containerd (with the images) start side by side.
  start_control_plane &
  local cp_pid=$!
  start_containerd
  local images; mapfile -t images < <(image_archives)
  import_images "${images[@]}"
  [[ " ${images[*]} " == *"/postgres-"* ]] || log "the labs' images are not built: scripts/k8s/images.sh build (then $0 up again), or labforge's k8s labs cannot start here"
  wait "$cp_pid" || die "the control plane did not start"
  log "control plane ready in $(sed -n 's/^READY_SECONDS=//p' "$DIR/control-plane/env")s; ${#images[@]} images imported"
  start_node_daemons
  apply_addons
  wait_for "node $NODE_NAME Ready" 60 kubelet node_ready
  wait_for "kube-proxy" 30 kube-proxy node_curl http://127.0.0.1:10256/healthz
  kubectl_ -n kube-system rollout status deployment/coredns deployment/metrics-server --timeout=90s >&2 \
    || die "the add-ons did not become ready: $(kubectl_ -n kube-system get pods -o wide 2>&1)"
  wait_for "metrics API (APIService v1beta1.metrics.k8s.io Available)" 60 metrics-server metrics_api_available
  trap - EXIT
  save_state UP_SECONDS "$(since "$t0")"
  log "ready in $(since "$t0")s"
  print_env
}

cmd_env() {
  [[ -f "$KUBECONFIG_PATH" ]] || die "not running: start it with $0 up --name $NAME"
  print_env
}

cmd_load() {
  [[ ${#FILES[@]} -gt 0 ]] || die "load needs at least one OCI archive (FILE.tar)"
  load_state && init_alive || die "not running: start it with $0 up --name $NAME"
  import_images "${FILES[@]}"
  log "imported ${#FILES[@]} archive(s)"
}

cmd_status() {
  if healthy; then
    local rss=0 p
    for p in $(cluster_processes); do rss=$(( rss + $(awk '/^VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0) )); done
    echo "running: node $NODE_NAME Ready, apiserver $APISERVER_URL, pods $POD_CIDR, services $SERVICE_CIDR"
    echo "processes: $(cluster_processes | wc -l), resident memory: $(( rss / 1024 )) MiB"
    kubectl_ get nodes -o wide
  elif [[ -e "$DIR" ]]; then
    echo "not healthy: $DIR exists but the node is not Ready (cluster.sh down --name $NAME removes it)"; return 1
  else
    echo "not running"; return 1
  fi
}

case "$VERB" in
  env) cmd_env ;;
  leftovers) leftovers ;;
  *)
    require_root "$VERB" --name "$NAME"
    case "$VERB" in
      up) cmd_up ;;
      down) mkdir -p "$CLUSTERS_ROOT"; exec 8>"$CLUSTERS_ROOT/.lock"; flock 8; cmd_down ;;
      load) cmd_load ;;
      status) cmd_status ;;
      check) check_tools; LABFORGE_K8S_NO_BUILD=1 resolve_builds ;;
    esac ;;
esac
