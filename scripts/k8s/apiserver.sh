#!/usr/bin/env bash
# Start / stop a throwaway Kubernetes control plane on 127.0.0.1 for tests: etcd, kube-apiserver
# and kube-controller-manager (no scheduler, no kubelet: Pods are created but stay Pending).
#
#   scripts/k8s/apiserver.sh start DIR   # DIR must not exist or be empty; prints KEY=VALUE lines
#   scripts/k8s/apiserver.sh stop DIR    # stops all three processes (by their pid files), removes DIR
#   (internal) apiserver.sh watch DIR PID   the watchdog of LABFORGE_K8S_OWNER_PID, see below
#
# `start` finds the binaries (KUBE_BIN_DIR, else the directory of KUBE_APISERVER_BIN, else the
# directory build-apiserver.sh prints, building once), picks free ports, makes a CA, serving certs
# and a service-account key pair with openssl, starts etcd (Debian package etcd-server), waits for
# the apiserver's /readyz, then starts the controller-manager and waits for its /healthz and for
# its first work (the `default` ServiceAccount). It writes DIR/kubeconfig and DIR/env (mode 0600):
#   KUBE_APISERVER_URL=https://127.0.0.1:PORT
#   KUBE_TOKEN=...            (static token, user "labforge-admin", group system:masters)
#   KUBE_CA_FILE=DIR/ca.crt
#   KUBECONFIG=DIR/kubeconfig
#   ETCD_URL=http://127.0.0.1:PORT
#   CONTROLLER_MANAGER_URL=https://127.0.0.1:PORT
#   ETCD_PID=... APISERVER_PID=... CONTROLLER_MANAGER_PID=...
#   APISERVER_READY_SECONDS=... READY_SECONDS=...   (apiserver /readyz; whole control plane)
# and prints those lines on stdout, except KUBE_TOKEN (it stays in DIR/env and DIR/kubeconfig).
# Logs: DIR/etcd.log, DIR/kube-apiserver.log, DIR/kube-controller-manager.log.
# Environment: KUBE_BIN_DIR, KUBE_APISERVER_BIN, KUBE_CONTROLLER_MANAGER_BIN (skip the build),
#              KUBE_VERSION (passed to build-apiserver.sh), ETCD_BIN (default: an etcd in the
#              binaries' directory, else etcd on PATH),
#              READY_TIMEOUT (seconds per component, default 120), KUBE_CONTROLLERS (replaces
#              the --controllers list below; serviceaccount-controller is needed for readiness),
#              KUBE_APISERVER_EXTRA_ARGS, KUBE_CONTROLLER_MANAGER_EXTRA_ARGS,
#              LABFORGE_K8S_OWNER_PID (a watchdog stops the cluster when this pid exits).
# For a control plane that serves a real node (cluster.sh runs this script inside the node's
# network namespace), these change what is otherwise fixed:
#   KUBE_APISERVER_ADDRESS  address the apiserver binds and advertises (default 127.0.0.1; any
#                           other address also turns the `kubernetes` Service's endpoint
#                           reconciler on, so pods reach the apiserver through the Service)
#   KUBE_APISERVER_PORT     its port (default: a free one)
#   KUBE_APISERVER_SANS     more subjectAltNames for its serving certificate (IP:...,DNS:...)
#   KUBE_SERVICE_CIDR       --service-cluster-ip-range (default 10.96.0.0/24)
#   KUBE_CA_DIR             a directory with ca.crt and ca.key to sign with, instead of a new CA
#   KUBE_AUTHORIZATION_MODE --authorization-mode (default RBAC)
#   KUBE_EXTRA_CONTROLLERS  controllers added to the list below (e.g. node-lifecycle-controller)
#   KUBE_CERT_DAYS          validity of the serving certificates (default 2)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf '[apiserver] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Controllers that make stored objects behave: Deployments -> ReplicaSets -> Pods, Services ->
# EndpointSlices, namespaces finalized, ownerReferences collected, default ServiceAccounts (Pod
# admission needs them), aggregated ClusterRoles (admin/edit/view), PVC/PV protection finalizers
# removed (else a namespace holding a PVC never finalizes). Names as `kube-controller-manager
# --help` lists them. Node-bound controllers are left out: there are no nodes.
CONTROLLERS="namespace-controller,garbage-collector-controller,deployment-controller"
CONTROLLERS+=",replicaset-controller,statefulset-controller,daemonset-controller,job-controller"
CONTROLLERS+=",cronjob-controller,ttl-after-finished-controller,disruption-controller"
CONTROLLERS+=",horizontal-pod-autoscaler-controller,resourcequota-controller"
CONTROLLERS+=",endpoints-controller,endpointslice-controller,endpointslice-mirroring-controller"
CONTROLLERS+=",serviceaccount-controller,serviceaccount-token-controller"
CONTROLLERS+=",root-ca-certificate-publisher-controller,clusterrole-aggregation-controller"
CONTROLLERS+=",persistentvolumeclaim-protection-controller,persistentvolume-protection-controller"
CONTROLLERS="${KUBE_CONTROLLERS:-$CONTROLLERS}${KUBE_EXTRA_CONTROLLERS:+,$KUBE_EXTRA_CONTROLLERS}"
APISERVER_ADDRESS="${KUBE_APISERVER_ADDRESS:-127.0.0.1}"
SERVICE_CIDR="${KUBE_SERVICE_CIDR:-10.96.0.0/24}"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Alive and not a zombie (a zombie waits for its new parent to reap it, it holds nothing).
alive() { [[ -r "/proc/$1/stat" ]] && [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]]; }
# Command line of a pid, spaces for NULs. (A variable, not `| grep -q`: with pipefail a SIGPIPE
# to the writer would turn a match into a miss.)
cmdline() { tr '\0' ' ' 2>/dev/null < "/proc/$1/cmdline" || true; }

# Stops the process of a pid file and its process group (each runs in its own session), but only
# if its command line still names DIR: a pid reused by an unrelated process is left alone.
kill_pidfile() {
  local f="$1" dir="$2" pid
  [[ -f "$f" ]] || return 0
  pid="$(cat "$f")"
  local cmd; cmd="$(cmdline "$pid")"
  if alive "$pid" && [[ "$cmd" == *"$dir/"* || "$cmd" == *"$dir "* ]]; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
      log "pid $pid ($(basename "$f" .pid)) ignored SIGTERM for 10s: SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
    fi
  fi
  rm -f "$f"
}

# The watchdog first (it would stop the cluster itself), then clients, etcd last, so nothing
# logs storage errors on the way down.
stop_all() {
  kill_pidfile "$1/watchdog.pid" "$1"
  kill_pidfile "$1/kube-controller-manager.pid" "$1"
  kill_pidfile "$1/kube-apiserver.pid" "$1"
  kill_pidfile "$1/etcd.pid" "$1"
}

# Pids of our etcd, apiserver or controller-manager for DIR: their command lines name these files.
processes_using() {
  local p cmd
  for p in /proc/[0-9]*; do
    p="${p#/proc/}"
    alive "$p" || continue
    cmd="$(cmdline "$p")"
    case "$cmd" in
      *"$1/etcd-data"* | *"$1/tokens.csv"* | *"$1/controller-manager.kubeconfig"*) echo "$p" ;;
    esac
  done
  return 0
}

cmd_stop() {
  local dir="$1" left
  [[ -d "$dir" ]] || return 0
  dir="$(cd "$dir" && pwd)"
  stop_all "$dir"
  # A start killed between launching a process and writing its pid file leaves one without a
  # pid file: find it by the directory on its command line.
  left="$(processes_using "$dir")"
  if [[ -n "$left" ]]; then
    log "stopping processes without a pid file: $(echo $left)"
    kill -TERM $left 2>/dev/null || true; sleep 2
    left="$(processes_using "$dir")"
    [[ -z "$left" ]] || kill -KILL $left 2>/dev/null || true
  fi
  rm -rf "$dir"
}

resolve_binaries() {
  local bin_dir="${KUBE_BIN_DIR:-}"
  if [[ -z "$bin_dir" && -n "${KUBE_APISERVER_BIN:-}" ]]; then bin_dir="$(dirname "$KUBE_APISERVER_BIN")"; fi
  if [[ -z "$bin_dir" ]]; then bin_dir="$("$HERE/build-apiserver.sh" | tail -n1)"; fi
  APISERVER_BIN="${KUBE_APISERVER_BIN:-$bin_dir/kube-apiserver}"
  CONTROLLER_MANAGER_BIN="${KUBE_CONTROLLER_MANAGER_BIN:-$bin_dir/kube-controller-manager}"
  [[ -x "$APISERVER_BIN" ]] || die "kube-apiserver binary not found: $APISERVER_BIN (run scripts/k8s/build-apiserver.sh)"
  [[ -x "$CONTROLLER_MANAGER_BIN" ]] || die "kube-controller-manager binary not found: $CONTROLLER_MANAGER_BIN (run scripts/k8s/build-apiserver.sh)"
  # An etcd built next to the Kubernetes binaries wins over Debian's: etcd 3.4.23 (Debian 12) lacks
  # watch progress requests, so idle watch caches lag and the apiserver logs "Too large resource
  # version" timeouts every minute and takes seconds to stop. Harmless for tests, but noisy.
  if [[ -z "${ETCD_BIN:-}" && -x "$bin_dir/etcd" ]]; then ETCD_BIN="$bin_dir/etcd"; fi
  ETCD_BIN="${ETCD_BIN:-$(command -v etcd || true)}"
  [[ -x "$ETCD_BIN" ]] || die "etcd not found: apt-get install -y etcd-server"
  command -v openssl >/dev/null || die "openssl not found: apt-get install -y openssl"
  command -v curl >/dev/null || die "curl not found: apt-get install -y curl"
}

# A key and a certificate signed by DIR/ca for a server.
issue_serving_cert() {
  local name="$1" cn="$2" sans="$3"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$cn" -keyout "$name.key" -out "$name.csr" 2>/dev/null
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$sans" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
    -days "${KUBE_CERT_DAYS:-2}" -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext" ca.srl
}

make_credentials() {
  (
    cd "$1"
    if [[ -n "${KUBE_CA_DIR:-}" ]]; then
      cp "$KUBE_CA_DIR/ca.crt" "$KUBE_CA_DIR/ca.key" .
    else
      openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=labforge-test-ca" \
        -keyout ca.key -out ca.crt 2>/dev/null
    fi
    local sans='IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc'
    sans+=',DNS:kubernetes.default.svc.cluster.local'
    [[ "$APISERVER_ADDRESS" == 127.0.0.1 ]] || sans+=",IP:$APISERVER_ADDRESS"
    issue_serving_cert serving kube-apiserver "$sans${KUBE_APISERVER_SANS:+,$KUBE_APISERVER_SANS}"
    issue_serving_cert controller-manager kube-controller-manager 'IP:127.0.0.1,DNS:localhost'
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key 2>/dev/null
    openssl pkey -in sa.key -pubout -out sa.pub 2>/dev/null
  )
}

write_kubeconfig() {
  local file="$1" url="$2" ca="$3" token="$4"
  cat > "$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: labforge-test
  cluster:
    server: $url
    certificate-authority: $ca
users:
- name: labforge-admin
  user:
    token: $token
contexts:
- name: labforge-test
  context: {cluster: labforge-test, user: labforge-admin}
current-context: labforge-test
EOF
}

# Polls `check` every 0.2 s until it succeeds; dies with the log tail if a process exits first.
wait_until() {
  local what="$1" check="$2" deadline=$(( $(date +%s) + ${READY_TIMEOUT:-120} )) name
  shift 2
  until eval "$check"; do
    for name in "$@"; do
      if ! alive "$(cat "$DIR/$name.pid")"; then
        tail -n 30 "$DIR/$name.log" >&2; die "$name exited (log: $DIR/$name.log)"
      fi
    done
    (( $(date +%s) <= deadline )) || die "$what not reached after ${READY_TIMEOUT:-120}s (logs in $DIR)"
    sleep 0.2
  done
}

since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }

cmd_start() {
  DIR="$1"
  # Keys, the token file, kubeconfigs and env are secrets: everything this run creates is 0600.
  umask 077
  mkdir -p "$DIR"
  [[ -z "$(ls -A "$DIR")" ]] || die "$DIR is not empty"
  DIR="$(cd "$DIR" && pwd)"
  chmod 700 "$DIR"
  resolve_binaries
  make_credentials "$DIR"
  # On any failure below, stop what was started (the logs stay in DIR).
  trap 'rc=$?; [[ $rc -eq 0 ]] || stop_all "$DIR"' EXIT

  local token
  token="$(openssl rand -hex 24)"
  printf '%s,labforge-admin,labforge-admin,"system:masters"\n' "$token" > "$DIR/tokens.csv"
  # curl reads the header from a file, so the token never appears in a process list.
  printf 'Authorization: Bearer %s\n' "$token" > "$DIR/auth-header"

  local etcd_port peer_port api_port kcm_port
  etcd_port="$(free_port)"; peer_port="$(free_port)"; api_port="${KUBE_APISERVER_PORT:-$(free_port)}"; kcm_port="$(free_port)"
  # The reconciler keeps the `kubernetes` Service's endpoint at the advertised address; it refuses
  # a loopback address, which only tests without pods use.
  local reconciler=lease
  [[ "$APISERVER_ADDRESS" == 127.0.0.1 ]] && reconciler=none
  local t0; t0="$(date +%s.%N)"

  # --- etcd (loopback only: client, peer; no metrics listener) ---
  local etcd_extra=() etcd_help
  # Test data need not survive a crash; etcd 3.4 (Debian 12) lacks the flag, so only when known.
  etcd_help="$("$ETCD_BIN" --help 2>&1 || true)"
  [[ "$etcd_help" == *--unsafe-no-fsync* ]] && etcd_extra+=(--unsafe-no-fsync)
  # setsid: own session and process group, so a test runner's Ctrl-C does not hit them half-way
  # and stop can signal the whole group.
  setsid "$ETCD_BIN" \
    --name labforge-test \
    --data-dir "$DIR/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "labforge-test=http://127.0.0.1:$peer_port" \
    "${etcd_extra[@]}" \
    --log-outputs stderr --logger zap \
    > "$DIR/etcd.log" 2>&1 < /dev/null &
  echo $! > "$DIR/etcd.pid"

  # --- kube-apiserver ---
  # --endpoint-reconciler-type none on loopback: the reconciler refuses a loopback advertise
  # address, and the `kubernetes` Service's endpoints only matter to Pods, which run only on a node.
  # shellcheck disable=SC2086 # EXTRA_ARGS is a list of flags
  setsid "$APISERVER_BIN" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address "$APISERVER_ADDRESS" \
    --advertise-address "$APISERVER_ADDRESS" \
    --endpoint-reconciler-type "$reconciler" \
    --secure-port "$api_port" \
    --tls-cert-file "$DIR/serving.crt" \
    --tls-private-key-file "$DIR/serving.key" \
    --cert-dir "$DIR/certs" \
    --anonymous-auth=false \
    --token-auth-file "$DIR/tokens.csv" \
    --authorization-mode "${KUBE_AUTHORIZATION_MODE:-RBAC}" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$DIR/sa.pub" \
    --service-account-signing-key-file "$DIR/sa.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --allow-privileged=true \
    --profiling=false \
    ${KUBE_APISERVER_EXTRA_ARGS:-} \
    > "$DIR/kube-apiserver.log" 2>&1 < /dev/null &
  echo $! > "$DIR/kube-apiserver.pid"

  local url="https://$APISERVER_ADDRESS:$api_port"
  local api=(curl -sf --cacert "$DIR/ca.crt" -H "@$DIR/auth-header")
  wait_until "kube-apiserver /readyz" '"${api[@]}" "$url/readyz" >/dev/null 2>&1' etcd kube-apiserver
  local api_ready; api_ready="$(since "$t0")"
  log "kube-apiserver ready in ${api_ready}s at $url"

  # --- kube-controller-manager (after /readyz: it exits if the apiserver does not answer) ---
  write_kubeconfig "$DIR/kubeconfig" "$url" "$DIR/ca.crt" "$token"
  write_kubeconfig "$DIR/controller-manager.kubeconfig" "$url" "$DIR/ca.crt" "$token"
  # --authentication-skip-lookup: this apiserver has no client CA, so the configmap it would look
  # up (kube-system/extension-apiserver-authentication) never exists; tokens are still reviewed.
  # shellcheck disable=SC2086
  setsid "$CONTROLLER_MANAGER_BIN" \
    --kubeconfig "$DIR/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$DIR/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$DIR/controller-manager.kubeconfig" \
    --authentication-skip-lookup \
    --leader-elect=false \
    --bind-address 127.0.0.1 \
    --secure-port "$kcm_port" \
    --tls-cert-file "$DIR/controller-manager.crt" \
    --tls-private-key-file "$DIR/controller-manager.key" \
    --controllers "$CONTROLLERS" \
    --service-account-private-key-file "$DIR/sa.key" \
    --root-ca-file "$DIR/ca.crt" \
    --profiling=false \
    ${KUBE_CONTROLLER_MANAGER_EXTRA_ARGS:-} \
    > "$DIR/kube-controller-manager.log" 2>&1 < /dev/null &
  echo $! > "$DIR/kube-controller-manager.pid"

  local kcm_url="https://127.0.0.1:$kcm_port"
  wait_until "kube-controller-manager /healthz" \
    'curl -sf --cacert "$DIR/ca.crt" "$kcm_url/healthz" >/dev/null 2>&1' etcd kube-apiserver kube-controller-manager
  # Healthy is not yet working: the serviceaccount controller creating `default` shows the
  # controllers run (and Pods can be admitted in the default namespace).
  wait_until "ServiceAccount default/default" \
    '"${api[@]}" "$url/api/v1/namespaces/default/serviceaccounts/default" >/dev/null 2>&1' \
    etcd kube-apiserver kube-controller-manager
  local ready; ready="$(since "$t0")"

  cat > "$DIR/env" <<EOF
KUBE_APISERVER_URL=$url
KUBE_TOKEN=$token
KUBE_CA_FILE=$DIR/ca.crt
KUBECONFIG=$DIR/kubeconfig
ETCD_URL=http://127.0.0.1:$etcd_port
CONTROLLER_MANAGER_URL=$kcm_url
ETCD_PID=$(cat "$DIR/etcd.pid")
APISERVER_PID=$(cat "$DIR/kube-apiserver.pid")
CONTROLLER_MANAGER_PID=$(cat "$DIR/kube-controller-manager.pid")
APISERVER_READY_SECONDS=$api_ready
READY_SECONDS=$ready
EOF
  # A test runner killed before its teardown would leave three servers running: the watchdog
  # stops them once the owner process has gone.
  if [[ -n "${LABFORGE_K8S_OWNER_PID:-}" ]]; then
    setsid bash "$HERE/apiserver.sh" watch "$DIR" "$LABFORGE_K8S_OWNER_PID" \
      > "$DIR/watchdog.log" 2>&1 < /dev/null &
    echo $! > "$DIR/watchdog.pid"
  fi
  log "control plane ready in ${ready}s (apiserver ${api_ready}s)"
  grep -v '^KUBE_TOKEN=' "$DIR/env"
}

# Waits for the owner pid (or DIR) to disappear, then stops the cluster.
cmd_watch() {
  local dir="$1" owner="$2"
  while alive "$owner" && [[ -d "$dir" ]]; do sleep 1; done
  [[ -d "$dir" ]] || return 0
  log "owner pid $owner exited: stopping the cluster in $dir"
  rm -f "$dir/watchdog.pid"
  cmd_stop "$dir"
}

case "${1:-}" in
  start) [[ $# -eq 2 ]] || die "usage: $0 start DIR"; cmd_start "$2" ;;
  stop)  [[ $# -eq 2 ]] || die "usage: $0 stop DIR"; cmd_stop "$2" ;;
  watch) [[ $# -eq 3 ]] || die "usage: $0 watch DIR OWNER_PID"; cmd_watch "$2" "$3" ;;
  *) die "usage: $0 start|stop DIR" ;;
esac
