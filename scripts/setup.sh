#!/usr/bin/env bash
# Installs what labforge needs on a fresh Debian/Ubuntu machine, from package registries only.
#   scripts/setup.sh          service binaries for local labs + npm packages (then: npx labforge up beginner)
#   scripts/setup.sh --test   the same, plus the test tools (checkov, from PyPI)
# Safe to run again: every step skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=false
[ "${1:-}" = "--test" ] && want_tests=true

# Debian packages for the local target's real servers.
packages=(postgresql redis-server)
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

if $want_tests; then
  # checkov scans the synthesized Terraform in tests/policy. Pinned: 3.3.30 parses cdktf 0.21
  # output cleanly (older 3.2.x crashed on some cdktf JSON, checkov issue 7454).
  CHECKOV_VERSION=3.3.30
  venv="${XDG_CACHE_HOME:-$HOME/.cache}/labforge/checkov-$CHECKOV_VERSION"
  if [ ! -x "$venv/bin/checkov" ]; then
    echo "setup: installing checkov $CHECKOV_VERSION from PyPI into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "checkov==$CHECKOV_VERSION"
  fi
fi
