# shellcheck shell=bash
# The node: a network namespace joined to the host by a veth (as kind's node containers are), and
# inside it a PID and mount namespace whose init is labforge-pause. Every process of the cluster
# (control plane, containerd and its shims, kubelet, kube-proxy, the policy enforcer, the pods)
# runs in there, so that
#   - two clusters never share a port, an iptables chain, an nftables table or a bridge;
#   - what the node mounts (its /run on a tmpfs, the kubelet's bind mounts, container root
#     filesystems, pod network namespaces) never shows on the host and is gone with the node;
#   - killing the init kills every process of the node (the kernel does it), so `down` of a
#     crashed or half-started cluster is as sure as of a healthy one.
# Sourced by cluster.sh.

# Host-wide sysctls the kubelet sets on start (vm.overcommit_memory, kernel.panic, ...), and the
# values it wants. The node sees these values in files bound over /proc/sys instead, so a
# practice cluster never changes the host's kernel settings.
KUBELET_SYSCTLS="vm/overcommit_memory=1 vm/panic_on_oom=0 kernel/panic=10 kernel/panic_on_oops=1 kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000"

inode_of() { stat -L -c %i "$1" 2>/dev/null; }

create_network() {
  mkdir -p /run/netns
  # A bind mount of a new network namespace, without `ip netns add` (which also turns /run/netns
  # into a shared mount point of its own that outlives the namespace).
  [[ -e "$NETNS_FILE" ]] || touch "$NETNS_FILE"
  unshare --net="$NETNS_FILE" true
  ip link add "$VETH" type veth peer name eth0 netns "$NETNS"
  # No IPv6 on the host end: nothing to autoconfigure or solicit on that link.
  sysctl -qw "net.ipv6.conf.$VETH.disable_ipv6=1" 2>/dev/null || true
  ip addr add "$HOST_IP/30" dev "$VETH"
  ip link set "$VETH" up
  # The host reaches pods and Services through the node; nothing routes further.
  ip route add "$SUPERNET" via "$NODE_IP" dev "$VETH"
  nsenter --net="$NETNS_FILE" sh -ec "
    ip link set lo up
    ip addr add $NODE_IP/30 dev eth0
    ip link set eth0 up
    sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
    sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  "
  # Pods answer the host but never open a connection out of the node (the host included): the
  # node has no default route anyway, and this keeps pods off the host's own addresses.
  nsenter --net="$NETNS_FILE" nft -f - <<EOF
table inet labforge {
  chain forward {
    type filter hook forward priority -10; policy accept;
    oifname "eth0" ct state new drop
  }
}
EOF
}

# Starts the node's init in new PID and mount namespaces inside the network namespace, after
# giving that mount namespace its own /run, /var/log, /var/lib/cni and the sysctl files above.
start_init() {
  local pause="$ADDONS_DIR/labforge-pause" setup="" entry path value
  mkdir -p "$DIR/node/var-log" "$DIR/node/var-lib-cni" "$DIR/node/sysctl" "$LOGS"
  # /var/lib/cni is where libcni caches results (containerd 1.6 has no setting for it); the
  # directory must exist on the host to be a mount point, and only the node's bind mount is used.
  if [[ ! -d /var/lib/cni ]]; then mkdir -p /var/lib/cni; touch "$CLUSTERS_ROOT/.created-var-lib-cni"; fi
  for entry in $KUBELET_SYSCTLS; do
    path="${entry%%=*}"; value="${entry#*=}"
    [[ "$(cat "/proc/sys/$path")" == "$value" ]] && continue
    echo "$value" > "$DIR/node/sysctl/${path//\//.}"
    setup+="mount --bind -o ro $DIR/node/sysctl/${path//\//.} /proc/sys/$path; "
  done
  setsid nsenter --net="$NETNS_FILE" -- \
    unshare --mount --pid --fork --propagation slave --mount-proc -- /bin/sh -ec "
      mount -t tmpfs -o mode=755,size=256m labforge-$NAME-run /run
      mkdir -p /run/netns /run/lock
      mount --bind $DIR/node/var-log /var/log
      mount --bind $DIR/node/var-lib-cni /var/lib/cni
      $setup
      exec $pause" > "$LOGS/init.log" 2>&1 < /dev/null 8>&- &
  local unshare_pid=$! i init=""
  for i in $(seq 1 100); do
    init="$(cat "/proc/$unshare_pid/task/$unshare_pid/children" 2>/dev/null | awk '{print $1}')"
    if [[ -n "$init" && "$(tr '\0' ' ' < "/proc/$init/cmdline" 2>/dev/null)" == "$pause " ]]; then break; fi
    init=""
    kill -0 "$unshare_pid" 2>/dev/null || { cat "$LOGS/init.log" >&2; die "the node's init did not start"; }
    sleep 0.05
  done
  [[ -n "$init" ]] || die "the node's init did not start within 5s (log: $LOGS/init.log)"
  INIT_PID="$init"
  save_state INIT_PID "$INIT_PID"
  # The start time tells this init from a later process that gets the same pid.
  save_state INIT_START "$(awk '{print $22}' "/proc/$INIT_PID/stat")"
  save_state PIDNS "$(inode_of "/proc/$INIT_PID/ns/pid")"
  save_state MNTNS "$(inode_of "/proc/$INIT_PID/ns/mnt")"
}

# The init of the state file still runs (not a zombie, not a later process with its pid).
init_alive() {
  local stat
  [[ -n "${INIT_PID:-}" ]] || return 1
  stat="$(awk '{print $3, $22}' "/proc/$INIT_PID/stat" 2>/dev/null)" || return 1
  [[ "$stat" != Z* && "${stat#* }" == "${INIT_START:-}" ]]
}

# Runs a command inside the node (its PID, mount and network namespaces) and waits for it.
# (fd 8 is cluster.sh's lock: nothing in the node may keep it.)
node_exec() { nsenter --target "$INIT_PID" --mount --net --pid -- "$@" 8>&-; }

# Starts a long-running process inside the node, detached (the node's init adopts it), with its
# output in DIR/logs/NAME.log; writes its pid (as the node sees it) to DIR/logs/NAME.pid. With
# the usual umask: what containerd and the kubelet create (image layers, pod directories) must
# be readable by the pods' non-root users; secrets are written 0600 explicitly.
node_spawn() {
  local name="$1"; shift
  node_exec /bin/sh -c 'umask 022; setsid "$@" > "'"$LOGS/$name.log"'" 2>&1 < /dev/null & echo $! > "'"$LOGS/$name.pid"'"' sh "$@"
}

node_curl() { node_exec curl -sf --max-time 5 "$@"; }

# Waits until CHECK (a command) succeeds, at most SECONDS; stops early when the process NAME
# (started by node_spawn) has exited, and then or on timeout prints the tail of its log.
wait_for() {
  local what="$1" seconds="$2" name="$3"; shift 3
  local deadline=$(( $(date +%s) + seconds )) reason=""
  until "$@" >/dev/null 2>&1; do
    if [[ -f "$LOGS/$name.pid" ]] && ! node_exec kill -0 "$(cat "$LOGS/$name.pid")" 2>/dev/null; then
      reason="$name exited"
    elif (( $(date +%s) > deadline )); then
      reason="not ready after ${seconds}s"
    fi
    if [[ -n "$reason" ]]; then
      [[ -f "$LOGS/$name.log" ]] && tail -n 25 "$LOGS/$name.log" >&2
      die "$what: $reason (log: $LOGS/$name.log)"
    fi
    sleep 0.2
  done
}

# The kubelet wants its cgroupRoot to exist in every hierarchy; a new cpuset cgroup has no CPUs
# or memory nodes until given its parent's.
make_cgroup_root() {
  local h
  for h in /sys/fs/cgroup/*/; do
    h="${h%/}"
    mountpoint -q "$h" || continue
    mkdir -p "$h/$CGROUP_ROOT"
    if [[ -f "$h/cpuset.cpus" ]]; then
      cat "$h/cpuset.cpus" > "$h/$CGROUP_ROOT/cpuset.cpus"
      cat "$h/cpuset.mems" > "$h/$CGROUP_ROOT/cpuset.mems"
    fi
  done
}

write_node_configs() {
  mkdir -p "$DIR/containerd" "$DIR/cni/net.d" "$DIR/cni/ipam" "$DIR/kubelet"
  cat > "$DIR/containerd/config.toml" <<EOF
version = 2
root = "$DIR/containerd/root"
state = "/run/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "/run/containerd/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$DIR/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "labforge.local/pause:1"
  # No CAP_SYS_RESOURCE on these machines: a sandbox may not lower its oom_score_adj.
  restrict_oom_score_adj = true
  # As containerd 2.x does by default: non-root pods may bind ports below 1024 and ping.
  enable_unprivileged_ports = true
  enable_unprivileged_icmp = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$DIR/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
EOF
  # The bridge is the pods' gateway, without masquerade and without a default route: pods
  # reach the cluster's own ranges and nothing else.
  cat > "$DIR/cni/net.d/10-labforge.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "labforge",
  "plugins": [
    {
      "type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$DIR/cni/ipam",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$POD_GATEWAY"}]],
        "routes": [{"dst": "$SUPERNET"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  write_kubeconfig "$DIR/kubelet/kubeconfig" \
    "client-certificate: $DIR/pki/kubelet-client.crt" "client-key: $DIR/pki/kubelet-client.key"
  cat > "$DIR/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# cgroup v1 on these machines; kubelets from 1.35 refuse it unless told.
failCgroupV1: false
cgroupDriver: cgroupfs
# Pods of this cluster under /sys/fs/cgroup/*/$CGROUP_ROOT, apart from any other cluster's.
cgroupRoot: /$CGROUP_ROOT
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $DIR/pki/kubelet-serving.crt
tlsPrivateKeyFile: $DIR/pki/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $DIR/pki/ca.crt}
authorization:
  mode: Webhook
clusterDNS: [$DNS_IP]
clusterDomain: cluster.local
# No resolver beyond the cluster's own: pods get CoreDNS and nothing from the host.
resolvConf: ""
podLogsDir: $DIR/pod-logs
failSwapOn: false
# Images cannot be pulled back here: never collect them, never evict for a full host disk.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, nodefs.inodesFree: 1%, imagefs.available: 1%}
# How often emptyDir usage is measured (default 1m): a pod over its sizeLimit is evicted within
# about 30 s instead of over a minute.
volumeStatsAggPeriod: 15s
shutdownGracePeriod: 0s
shutdownGracePeriodCriticalPods: 0s
serializeImagePulls: false
maxPods: 110
EOF
  cat > "$DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: $KUBECONFIG_PATH}
hostnameOverride: $NODE_NAME
clusterCIDR: $POD_CIDR
nodePortAddresses: [$NODE_IP/32]
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# Conntrack limits are host-wide sysctls: leave them alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
}

start_containerd() {
  node_spawn containerd containerd --config "$DIR/containerd/config.toml"
  wait_for "containerd" 30 containerd node_exec ctr --address /run/containerd/containerd.sock version
}

# Imports OCI archives into the node's containerd (namespace k8s.io, where the kubelet looks).
import_images() {
  local file
  for file in "$@"; do
    [[ -f "$file" ]] || die "no such image archive: $file"
    node_exec ctr --address /run/containerd/containerd.sock -n k8s.io images import "$file" >&2 \
      || die "ctr images import $file failed"
  done
}

start_node_daemons() {
  local b="$KUBE_BIN_DIR"
  make_cgroup_root
  node_spawn kube-scheduler "$b/kube-scheduler" --kubeconfig "$KUBECONFIG_PATH" \
    --authentication-kubeconfig "$KUBECONFIG_PATH" --authorization-kubeconfig "$KUBECONFIG_PATH" \
    --authentication-skip-lookup --leader-elect=false --bind-address 127.0.0.1 --secure-port 10259 \
    --cert-dir "$DIR/scheduler"
  node_spawn kubelet "$b/kubelet" --config "$DIR/kubelet/config.yaml" --kubeconfig "$DIR/kubelet/kubeconfig" \
    --root-dir "$DIR/kubelet/root" --cert-dir "$DIR/kubelet/pki" \
    --hostname-override "$NODE_NAME" --node-ip "$NODE_IP"
  node_spawn kube-proxy "$b/kube-proxy" --config "$DIR/kube-proxy.yaml"
  # The policy enforcer only reads its API credentials the in-cluster way: they go where a pod's
  # would be, on the node's own /run.
  node_exec /bin/sh -ec "mkdir -p /run/secrets/kubernetes.io/serviceaccount
    cp $DIR/pki/ca.crt /run/secrets/kubernetes.io/serviceaccount/ca.crt
    sed -n 's/^KUBE_TOKEN=//p' $DIR/control-plane/env > /run/secrets/kubernetes.io/serviceaccount/token
    chmod 600 /run/secrets/kubernetes.io/serviceaccount/token"
  node_spawn kube-network-policies env KUBERNETES_SERVICE_HOST="$NODE_IP" KUBERNETES_SERVICE_PORT="$APISERVER_PORT" \
    "$ADDONS_DIR/kube-network-policies" --hostname-override "$NODE_NAME" --nfqueue-id 100 --disable-nri \
    --netfilter-bug-1766-fix=false --metrics-bind-address 127.0.0.1:9080 --v 1
}
