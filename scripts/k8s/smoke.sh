#!/usr/bin/env bash
# End-to-end check of the cached control plane: start etcd + kube-apiserver +
# kube-controller-manager (apiserver.sh), create a namespace, Deployment, Service and
# NetworkPolicy (testdata/smoke.yaml) with kubectl, read them back, watch the controllers act
# (ReplicaSet, Pending Pods, EndpointSlice; garbage collection when the Deployment goes; the
# namespace finalized by itself), then stop everything and clean up.
# Needs: go (first run builds the binaries, kubectl among them), etcd (apt-get install -y
# etcd-server), openssl, curl, python3. Prints timing and memory figures.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf '[smoke] %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

# Build first (outside the timed start-up), so READY_SECONDS measures start-up only.
BIN_DIR="$("$HERE/build-apiserver.sh" | tail -n1)"
DIR="$(mktemp -d /tmp/labforge-k8s.XXXXXX)"
trap '"$HERE/apiserver.sh" stop "$DIR"' EXIT

KUBE_BIN_DIR="$BIN_DIR" LABFORGE_K8S_OWNER_PID=$$ "$HERE/apiserver.sh" start "$DIR" > /dev/null
set -a; . "$DIR/env"; set +a
rss() { awk '/VmRSS/{printf "%d MiB", $2/1024}' "/proc/$1/status"; }
rss_all() {
  echo "kube-apiserver $(rss "$APISERVER_PID"), kube-controller-manager $(rss "$CONTROLLER_MANAGER_PID"), etcd $(rss "$ETCD_PID")"
}
log "ready in ${READY_SECONDS}s (apiserver ${APISERVER_READY_SECONDS}s); RSS after ready: $(rss_all)"

k() { "$BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG" "$@"; }
api() { curl -sf --cacert "$KUBE_CA_FILE" -H "@$DIR/auth-header" "$KUBE_APISERVER_URL$1"; }
# Polls a command until its output equals the expected value (15 s by default).
wait_for() {
  local what="$1" want="$2" got="" i; shift 2
  for i in $(seq 1 "${WAIT_STEPS:-75}"); do
    got="$("$@" 2>/dev/null || true)"
    [[ "$got" == "$want" ]] && return 0
    sleep 0.2
  done
  fail "$what: got '$got', expected '$want'"
}
log "server version: $(api /version | python3 -c 'import json,sys; print(json.load(sys.stdin)["gitVersion"])')"

# Negative checks: no anonymous access, wrong token rejected.
code="$(curl -s -o /dev/null -w '%{http_code}' --cacert "$KUBE_CA_FILE" "$KUBE_APISERVER_URL/api/v1/namespaces")"
[[ "$code" == 401 ]] || fail "anonymous request answered $code, expected 401"
code="$(curl -s -o /dev/null -w '%{http_code}' --cacert "$KUBE_CA_FILE" -H 'Authorization: Bearer wrong' "$KUBE_APISERVER_URL/api/v1/namespaces")"
[[ "$code" == 401 ]] || fail "wrong token answered $code, expected 401"

NS=labforge-smoke
t0=$(date +%s.%N)
k apply -f "$HERE/testdata/smoke.yaml" >&2
k -n $NS get deployment/web service/web networkpolicy/web-allow-same-namespace -o wide >&2
[[ "$(k -n $NS get deployment web -o jsonpath='{.spec.replicas}')" == 2 ]] || fail "replicas"
[[ "$(k -n $NS get service web -o jsonpath='{.spec.clusterIP}')" =~ ^10\.96\.0\. ]] || fail "clusterIP"
[[ "$(k -n $NS get networkpolicy web-allow-same-namespace -o jsonpath='{.spec.ingress[0].ports[0].port}')" == 80 ]] || fail "policy port"

# The controller-manager at work: Deployment -> ReplicaSet -> 2 Pods (Pending: no scheduler,
# no kubelet), Service -> EndpointSlice.
wait_for "ReplicaSets owned by deployment/web" Deployment \
  k -n $NS get replicasets -l app=web -o jsonpath='{.items[*].metadata.ownerReferences[0].kind}'
wait_for "Pods of deployment/web" "Pending Pending" \
  k -n $NS get pods -l app=web -o jsonpath='{.items[*].status.phase}'
wait_for "EndpointSlice of service/web" endpointslice-controller.k8s.io \
  k -n $NS get endpointslices -l kubernetes.io/service-name=web \
    -o jsonpath='{.items[*].metadata.labels.endpointslice\.kubernetes\.io/managed-by}'
k -n $NS get replicasets,pods,endpointslices >&2

# Garbage collector: the Deployment's ReplicaSet and Pods go with it (ownerReferences).
k -n $NS delete deployment/web --wait=true >&2
wait_for "ReplicaSets and Pods after deleting the Deployment" "" \
  k -n $NS get replicasets,pods -o name

# Namespace controller: empties the namespace and removes the finalizer by itself.
t_ns=$(date +%s.%N)
k delete namespace $NS --wait=false >&2
WAIT_STEPS=300 wait_for "namespace $NS deleted (NotFound)" 404 \
  curl -s -o /dev/null -w '%{http_code}' --cacert "$KUBE_CA_FILE" -H "@$DIR/auth-header" "$KUBE_APISERVER_URL/api/v1/namespaces/$NS"
log "namespace finalized in $(awk -v a="$t_ns" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s"
left="$(k get namespaces,deployments,replicasets,pods,services,endpointslices,networkpolicies -A \
  -l app.kubernetes.io/part-of=$NS -o name)"
[[ -z "$left" ]] || fail "still there: $left"
t1=$(date +%s.%N)
log "create/read/delete round trip: $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')s; all objects gone"
log "RSS after the round trip: $(rss_all)"
echo "smoke: 1 passed, 0 failed"
