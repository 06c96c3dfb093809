#!/bin/sh
# kafka recipe: the layout of the official apache/kafka JVM image, with Kafka's jars from
# Maven Central (KAFKA_LIBS, from prepare.sh) on Debian's OpenJDK 21.
set -eu
root="$1"
: "${KAFKA_LIBS:?prepare.sh sets KAFKA_LIBS}"
install -d "$root/opt/kafka/libs" "$root/opt/kafka/config" "$root/opt/kafka/logs"
cp "$KAFKA_LIBS"/*.jar "$root/opt/kafka/libs/"
# One small script per tool; each main class must exist in the jars.
jars=$(mktemp)
for jar in "$root"/opt/kafka/libs/*.jar; do unzip -Z1 "$jar"; done >"$jars"
grep -v '^#' "$RECIPE/tools.txt" | while read -r script class heap; do
  [ -n "$script" ] || continue
  grep -qx "$(echo "$class" | tr . /).class" "$jars" || { echo "kafka recipe: $class ($script) is not in the jars" >&2; exit 1; }
  {
    echo '#!/usr/bin/env bash'
    echo "# $script: Kafka's $class (labforge's local apache/kafka image)."
    [ -z "${heap:-}" ] || echo "export KAFKA_HEAP_OPTS=\"\${KAFKA_HEAP_OPTS:-$heap}\""
    echo "exec \"\$(dirname \"\$0\")/kafka-run-class.sh\" $class \"\$@\""
  } >"$root/opt/kafka/bin/$script"
done
rm -f "$jars"
chmod 755 "$root"/opt/kafka/bin/*.sh "$root"/etc/kafka/docker/run "$root"/etc/kafka/docker/configure \
  "$root"/etc/kafka/docker/launch "$root"/etc/kafka/docker/configureDefaults
# Directories and owners of the official image: appuser (1000) owns /opt/kafka; the data
# and secrets directories are group root and group-writable, so an arbitrary uid in group 0
# (OpenShift style) can use them too.
install -d -o 1000 -g 1000 -m 755 "$root/home/appuser"
install -d "$root/var/lib/kafka/data" "$root/etc/kafka/secrets" "$root/usr/logs" "$root/mnt/shared/config"
chown -R 1000:1000 "$root/usr/logs" "$root/opt/kafka" "$root/mnt/shared/config"
chown -R 1000:0 "$root/var/lib/kafka" "$root/etc/kafka/secrets" "$root/etc/kafka"
chmod -R ug+w "$root/etc/kafka" "$root/var/lib/kafka" "$root/etc/kafka/secrets"
chroot "$root" java -version
