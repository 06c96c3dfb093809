#!/bin/sh
# rabbitmq recipe: the layout of the official rabbitmq:4 image on Debian's rabbitmq-server.
set -eu
root="$1"
server=$(cd "$root/usr/lib/rabbitmq/lib" && ls -d rabbitmq_server-* | head -n1)
# The official image's paths: RABBITMQ_HOME=/opt/rabbitmq (sbin/ on PATH), /plugins.
install -d "$root/opt"
ln -sfT "/usr/lib/rabbitmq/lib/$server" "$root/opt/rabbitmq"
ln -sfT /opt/rabbitmq/plugins "$root/plugins"
# Debian's /usr/sbin wrappers insist on running as root or rabbitmq; the plain scripts in
# /opt/rabbitmq/sbin (first on PATH) work for any uid, as the official image's do.
test -x "$root/usr/lib/rabbitmq/lib/$server/sbin/rabbitmq-diagnostics"
# Debian's env file would pin node name and paths; the image's environment decides instead.
rm -f "$root/etc/rabbitmq/rabbitmq-env.conf"
# Writable by any uid (1777), as in the official image.
for dir in /var/lib/rabbitmq /etc/rabbitmq /etc/rabbitmq/conf.d /var/log/rabbitmq; do
  install -d -o 999 -g 999 -m 1777 "$root$dir"
done
chown -R 999:999 "$root/etc/rabbitmq"
ln -sf /var/lib/rabbitmq/.erlang.cookie "$root/root/.erlang.cookie"
# The Prometheus plugin on by default (the official image enables it at build time).
echo '[rabbitmq_prometheus].' >"$root/etc/rabbitmq/enabled_plugins"
chown 999:999 "$root/etc/rabbitmq/enabled_plugins"
chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"
rm -f "$root/var/lib/rabbitmq/.erlang.cookie"
chroot "$root" gosu nobody true
