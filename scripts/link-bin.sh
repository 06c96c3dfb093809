#!/usr/bin/env bash
# Puts `labforge` on PATH: a link to this checkout's bin/labforge.js in /usr/local/bin (root) or
# ~/.local/bin (a user); LABFORGE_BIN_DIR names another folder. Says so when that folder is not on
# PATH, and how to add it. Run by scripts/setup.sh; safe to run again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin_dir="${LABFORGE_BIN_DIR:-}"
if [ -z "$bin_dir" ]; then
  if [ "$(id -u)" -eq 0 ]; then bin_dir=/usr/local/bin; else bin_dir="$HOME/.local/bin"; fi
fi
mkdir -p "$bin_dir"
ln -sfn "$root/bin/labforge.js" "$bin_dir/labforge"
case ":$PATH:" in
  *":$bin_dir:"*) echo "setup: labforge is on PATH ($bin_dir/labforge -> $root/bin/labforge.js)" >&2 ;;
  *) echo "setup: linked $bin_dir/labforge, but $bin_dir is not on PATH: add it (echo 'export PATH=\"$bin_dir:\$PATH\"' >> ~/.bashrc, then open a new shell), or run $root/bin/labforge.js" >&2 ;;
esac
