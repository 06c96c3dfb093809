#!/usr/bin/env bash
# Starts a Kafka server (kafka.Kafka) with a 1 GB heap and the server log configuration
# unless KAFKA_HEAP_OPTS / KAFKA_LOG4J_OPTS say otherwise; GC log on (EXTRA_ARGS).
#   kafka-server-start.sh [-daemon] server.properties [--override property=value]*
if [ $# -lt 1 ]; then
  echo "USAGE: $0 [-daemon] server.properties [--override property=value]*" >&2
  exit 1
fi
base_dir=$(dirname "$0")
export KAFKA_LOG4J_OPTS=${KAFKA_LOG4J_OPTS:-"-Dlog4j2.configurationFile=$base_dir/../config/log4j2.yaml"}
export KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:-"-Xmx1G -Xms1G"}
EXTRA_ARGS=${EXTRA_ARGS-'-name kafkaServer -loggc'}
if [ "$1" = -daemon ]; then
  EXTRA_ARGS="-daemon $EXTRA_ARGS"
  shift
fi
# shellcheck disable=SC2086
exec "$base_dir/kafka-run-class.sh" $EXTRA_ARGS kafka.Kafka "$@"
