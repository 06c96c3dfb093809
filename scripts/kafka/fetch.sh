#!/usr/bin/env bash
# Fetches the jars of a Kafka broker (KRaft) from Maven Central into labforge's cache, as one flat
# classpath directory: <cache>/kafka-<version>/libs/*.jar. Debian has no Kafka package, and the
# jars are all a broker needs besides Java 17.
#
#   scripts/kafka/fetch.sh        fetch once; later runs skip (prints the libs directory)
#
# Cache: $LABFORGE_CACHE, else $XDG_CACHE_HOME/labforge, else ~/.cache/labforge; as root
# /var/cache/labforge instead of ~/.cache, because root's home is private (0700) and the brokers
# run as the unprivileged `labforge` user, who must read the jars. constructs/local/kafka-dist.ts
# looks in the same places.
#
# Idempotent: a marker file is written last, so an interrupted download is redone from scratch;
# a lock keeps two concurrent runs from interleaving.
set -euo pipefail
umask 022

here="$(cd "$(dirname "$0")" && pwd)"
pom="$here/pom.xml"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom" | head -n1)"
[ -n "$version" ] || { echo "fetch.sh: no <kafka.version> in $pom" >&2; exit 1; }

if [ -n "${LABFORGE_CACHE:-}" ]; then
  root="$LABFORGE_CACHE"
elif [ -n "${XDG_CACHE_HOME:-}" ]; then
  root="$XDG_CACHE_HOME/labforge"
elif [ "$(id -u)" -eq 0 ]; then
  root="/var/cache/labforge"
else
  root="${HOME:?HOME is not set; set LABFORGE_CACHE}/.cache/labforge"
fi
target="$root/kafka-$version"
marker="$target/.complete"

if [ -f "$marker" ] && [ -d "$target/libs" ]; then
  echo "$target/libs"
  exit 0
fi

for tool in mvn java; do
  command -v "$tool" >/dev/null || {
    echo "fetch.sh: $tool is not installed; install with: apt-get install -y maven openjdk-17-jre-headless" >&2
    exit 1
  }
done

mkdir -p "$root"
chmod 755 "$root" 2>/dev/null || true
exec 9>"$root/.kafka-$version.lock"
flock 9
# Another run may have finished while this one waited for the lock.
if [ -f "$marker" ] && [ -d "$target/libs" ]; then
  echo "$target/libs"
  exit 0
fi

echo "fetch.sh: fetching Kafka $version jars from Maven Central into $target" >&2
started=$(date +%s)
staging="$(mktemp -d "$root/.kafka-$version.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
# -f: the pom may sit in a read-only checkout; copy-dependencies writes nothing next to it.
# Maven's local repository follows $HOME (Maven itself reads the passwd entry, which for a
# system user may name a home that does not exist).
mvn -q -B -Dstyle.color=never -f "$pom" -Dmaven.repo.local="${MAVEN_REPO_LOCAL:-$HOME/.m2/repository}" \
  dependency:copy-dependencies -DoutputDirectory="$staging/libs" -DincludeScope=runtime >&2
count=$(find "$staging/libs" -name '*.jar' | wc -l)
[ "$count" -gt 0 ] || { echo "fetch.sh: maven copied no jars into $staging/libs" >&2; exit 1; }

# Readable by the servers' user (mktemp makes 0700 directories).
chmod -R a+rX "$staging"
rm -rf "$target"
mv "$staging" "$target"
trap - EXIT
printf 'kafka %s\njars %s\nfetched %s\n' "$version" "$count" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$marker.tmp"
mv "$marker.tmp" "$marker"
echo "fetch.sh: $count jars, $(du -sh "$target/libs" | cut -f1), in $(($(date +%s) - started)) s" >&2
echo "$target/libs"
