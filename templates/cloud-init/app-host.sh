#!/bin/bash
# labforge: app host (rendered by constructs/aws/cloud-init.ts into EC2 user data).
# Installs a Node.js runtime and the clients the exercises use, and writes the lab's endpoints
# to /etc/labforge/lab.env. No secret is written here: passwords come from `labforge secrets`.
set -euo pipefail
exec >>/var/log/labforge-init.log 2>&1

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q awscli nodejs npm postgresql-client redis-tools git ca-certificates

mkdir -p /etc/labforge
cat >/etc/labforge/lab.env <<'ENV'
{{env}}
ENV
chmod 0644 /etc/labforge/lab.env

touch /var/lib/labforge-ready
echo 'labforge: app host ready'
