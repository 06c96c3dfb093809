# shellcheck shell=bash
# `down`: removes a cluster whatever state it is in (running, crashed, half-started, state file
# lost), then `leftovers` lists whatever of it is still on the host. Sourced by cluster.sh.

# Alive and not a zombie (PID 1 of some machines never reaps: a zombie holds nothing).
alive() { local s; s="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" && [[ -n "$s" && "$s" != Z ]]; }

# Pids of live processes that belong to this cluster: in the node's PID, mount or network
# namespace, in its pod cgroups, or naming its directory on their command line.
cluster_processes() {
  local netns_inode mntns="${MNTNS:-}" pidns="${PIDNS:-}" p ns cmd
  netns_inode="$(inode_of "$NETNS_FILE" || true)"
  local cgroup_pids=" "
  local f
  for f in /sys/fs/cgroup/*/"$CGROUP_ROOT"; do
    [[ -d "$f" ]] || continue
    cgroup_pids+="$(find "$f" -name cgroup.procs -exec cat {} + 2>/dev/null | tr '\n' ' ')"
  done
  for p in /proc/[0-9]*; do
    p="${p#/proc/}"
    [[ "$p" == "$$" || "$p" == "$BASHPID" ]] && continue
    alive "$p" || continue
    if [[ "$cgroup_pids" == *" $p "* ]]; then echo "$p"; continue; fi
    ns="$(stat -L -c %i "/proc/$p/ns/net" 2>/dev/null || true)"
    if [[ -n "$netns_inode" && "$ns" == "$netns_inode" ]]; then echo "$p"; continue; fi
    ns="$(stat -L -c %i "/proc/$p/ns/pid" 2>/dev/null || true)"
    if [[ -n "$pidns" && "$ns" == "$pidns" ]]; then echo "$p"; continue; fi
    ns="$(stat -L -c %i "/proc/$p/ns/mnt" 2>/dev/null || true)"
    if [[ -n "$mntns" && "$ns" == "$mntns" ]]; then echo "$p"; continue; fi
    cmd="$(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null || true)"
    [[ "$cmd" == *"$DIR/"* || "$cmd" == *"$DIR "* ]] && echo "$p"
  done
  return 0
}

kill_cluster_processes() {
  # The init first: the kernel then kills every process of the node's PID namespace (pods too).
  if init_alive; then kill -KILL "$INIT_PID" 2>/dev/null || true; fi
  local left i
  for i in $(seq 1 50); do
    left="$(cluster_processes)"
    [[ -z "$left" ]] && return 0
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null || true
    sleep 0.2
  done
  log "still running after 10s: $(echo $left)"
}

remove_cgroups() {
  local root i d
  for root in /sys/fs/cgroup/*/"$CGROUP_ROOT"; do
    [[ -d "$root" ]] || continue
    for i in $(seq 1 50); do
      # Deepest first; a cgroup whose last task is still exiting answers EBUSY for a moment.
      find "$root" -depth -type d -exec rmdir {} \; 2>/dev/null || true
      [[ -d "$root" ]] || break
      sleep 0.1
    done
  done
}

remove_network() {
  ip link del "$VETH" 2>/dev/null || true
  if [[ -e "$NETNS_FILE" ]]; then
    umount "$NETNS_FILE" 2>/dev/null || true
    rm -f "$NETNS_FILE"
  fi
  rmdir /run/netns 2>/dev/null || true
}

# Mounts on the host under the cluster's directory (none are made there; a safety net).
unmount_host_mounts() {
  local m
  awk -v d="$DIR" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
}

cmd_down() {
  cluster_paths
  load_state || true
  if [[ ! -d "$DIR" && ! -e "$NETNS_FILE" ]] && ! ip link show "$VETH" >/dev/null 2>&1; then
    log "not running (nothing to remove)"
    return 0
  fi
  local t0; t0="$(date +%s.%N)"
  kill_cluster_processes
  remove_network
  remove_cgroups
  unmount_host_mounts
  rm -rf "$DIR"
  # The empty mount point for the nodes' /var/lib/cni, once no cluster is left.
  if [[ -f "$CLUSTERS_ROOT/.created-var-lib-cni" ]] && ! compgen -G "$CLUSTERS_ROOT/*/state" >/dev/null; then
    rmdir /var/lib/cni 2>/dev/null && rm -f "$CLUSTERS_ROOT/.created-var-lib-cni"
  fi
  local left; left="$(leftovers)"
  if [[ -n "$left" ]]; then
    log "down left these behind:"; echo "$left" >&2
    return 1
  fi
  log "down in $(since "$t0")s: no process, mount, network namespace, link, cgroup or directory left"
}

# What of this cluster is still on the host, one line each; nothing when it is all gone.
leftovers() {
  local p
  for p in $(cluster_processes); do echo "process $p: $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | cut -c1-120)"; done
  awk -v d="$DIR" -v n="$NETNS_FILE" '$5 == d || index($5, d "/") == 1 || $5 == n {print "mount " $5}' /proc/self/mountinfo
  [[ -e "$NETNS_FILE" ]] && echo "network namespace $NETNS_FILE"
  ip link show "$VETH" >/dev/null 2>&1 && echo "link $VETH"
  ip route show | { grep -F " dev $VETH " || true; } | sed "s/^/route /"
  for p in /sys/fs/cgroup/*/"$CGROUP_ROOT"; do [[ -e "$p" ]] && echo "cgroup $p"; done
  [[ -e "$DIR" ]] && echo "directory $DIR"
  return 0
}
