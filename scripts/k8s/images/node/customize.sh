#!/bin/sh
# node recipe: the official node:24 image's user and entrypoint on Debian's nodejs.
set -eu
root="$1"
install -d -o 1000 -g 1000 -m 755 "$root/home/node"
chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"
chroot "$root" node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 22 ? 0 : 1)'
chroot "$root" node --version
