#!/usr/bin/env bash
# Installs what labforge needs on a fresh Debian/Ubuntu machine, from package registries only,
# and puts `labforge` on PATH.
#   scripts/setup.sh          servers of the beginner and intermediate labs + npm packages
#   scripts/setup.sh --all    also RabbitMQ, HAProxy, Java and the Kafka jars (advanced, expert)
#   scripts/setup.sh --test   everything, plus the test tools (kcat, amqp-tools, checkov and moto from PyPI, etcd,
#                             the Kubernetes binaries and the practice cluster's add-ons built with Go, and
#                             the k8s labs' images built from Debian packages)
# Safe to run again: every step skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

want_all=false
want_tests=false
case "${1:-}" in
  --all) want_all=true ;;
  --test) want_all=true; want_tests=true ;;
  "") ;;
  *) echo "setup.sh: unknown option '$1' (valid: --all, --test)" >&2; exit 2 ;;
esac

# Debian packages for the local target's real servers.
packages=(postgresql redis-server)
if $want_all; then
  packages+=(rabbitmq-server haproxy)
  command -v java >/dev/null || packages+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || packages+=(maven)
fi
if $want_tests; then
  packages+=(kcat amqp-tools)
  # The Kubernetes control plane of tests/e2e/k8s-*.ts: etcd, and the tools scripts/k8s/ uses.
  packages+=(etcd-server openssl curl)
  # The practice cluster (scripts/k8s/cluster.sh): a real node's runtime, network and tools, and
  # the busybox its test image is made of; mmdebstrap and unzip build the k8s labs' images
  # (tests/e2e/images-*.test.ts run them with runc and containerd).
  packages+=(containerd runc containernetworking-plugins iptables nftables conntrack iproute2 util-linux busybox-static)
  packages+=(mmdebstrap unzip)
fi
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing ${missing[*]} from Debian packages" >&2
  $sudo apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages (the prepare script builds dist/).
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi

# `labforge` on PATH (npx would add ~0.8 s of npm start-up to every command).
scripts/link-bin.sh

# Kafka has no Debian package: its jars come from Maven Central into labforge's cache.
$want_all && scripts/kafka/fetch.sh >/dev/null

if $want_tests; then
  # A PyPI tool in a venv of its own under the cache: pip_tool <name> <version> <requirement> <binary>.
  pip_tool() {
    local venv="${XDG_CACHE_HOME:-$HOME/.cache}/labforge/$1-$2"
    if [ ! -x "$venv/bin/$4" ]; then
      echo "setup: installing $3 from PyPI into $venv" >&2
      python3 -m venv "$venv"
      "$venv/bin/pip" install -q "$3"
    fi
  }
  # checkov scans the synthesized Terraform in tests/policy. Pinned: 3.3.30 parses cdktf 0.21
  # output cleanly (older 3.2.x crashed on some cdktf JSON, checkov issue 7454).
  CHECKOV_VERSION=3.3.30
  pip_tool checkov "$CHECKOV_VERSION" "checkov==$CHECKOV_VERSION" checkov
  # moto in server mode stands in for AWS in tests/e2e/sweep.test.ts (one process, every region).
  MOTO_VERSION=5.2.5
  pip_tool moto "$MOTO_VERSION" "moto[server]==$MOTO_VERSION" moto_server

  # Kubernetes has no Debian package (and Debian's kubectl is 1.20, too old for the server):
  # kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy and kubectl are
  # built once from the k8s.io/kubernetes module (Go module proxy) into a cache; then CoreDNS,
  # kube-network-policies, metrics-server and the cluster's images, reusing that build cache
  # (build-addons.sh runs after it, on purpose: run side by side, both would compile client-go).
  # Later runs only print the paths.
  if ! command -v go >/dev/null; then
    echo "setup: go not found on PATH; the Kubernetes tests need Go >= 1.26 to build Kubernetes" >&2
    exit 1
  fi
  # The images the k8s labs run (PostgreSQL, Redis, RabbitMQ, Kafka, Node.js), from Debian packages:
  # mostly downloads and dpkg, so they build beside the CPU-bound Go builds (docs/images.md).
  scripts/k8s/images.sh build 2> >(sed 's/^/[images] /' >&2) &
  images_pid=$!
  scripts/k8s/build-apiserver.sh >/dev/null
  scripts/k8s/build-addons.sh >/dev/null
  wait "$images_pid" || { echo "setup: building the k8s labs' images failed (see the [images] lines above)" >&2; exit 1; }
fi
