#!/usr/bin/env bash
# kafka recipe, host side: the broker's jars from Maven Central (scripts/kafka/fetch.sh, cached),
# handed to customize.sh through the environment (printed as shell for build-image.sh to eval).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
libs=$("$here/../../../kafka/fetch.sh")
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/../../../kafka/pom.xml" | head -n1)
printf 'export KAFKA_LIBS=%q KAFKA_VERSION=%q\n' "$libs" "$version"
