#!/bin/sh
# redis recipe: the layout of the official redis:8 (Debian) image.
set -eu
root="$1"
install -d -o 999 -g 999 -m 755 "$root/data"
install -d -m 755 "$root/usr/local/lib/redis/modules"
# Debian's own service files and directories: unused in a container.
rm -rf "$root/etc/redis" "$root/var/lib/redis" "$root/var/log/redis"
chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"
chroot "$root" redis-server --version
chroot "$root" redis-cli --version
chroot "$root" gosu nobody true
