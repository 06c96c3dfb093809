#!/usr/bin/env bash
# Runs a Kafka main class on the image's classpath (/opt/kafka/libs), taking the settings
# Kafka's own kafka-run-class.sh takes: KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS,
# KAFKA_JMX_OPTS (+ JMX_PORT), KAFKA_LOG4J_OPTS, KAFKA_OPTS, LOG_DIR, JAVA_HOME, CLASSPATH,
# and before the class: -daemon, -name NAME, -loggc (GC log in LOG_DIR/NAME-gc.log).
#   kafka-run-class.sh [-daemon] [-name NAME] [-loggc] CLASS [ARGS...]
if [ $# -lt 1 ]; then
  echo "USAGE: $0 [-daemon] [-name servicename] [-loggc] classname [opts]" >&2
  exit 1
fi
base_dir=$(cd "$(dirname "$0")/.." && pwd)

daemon_mode=false
daemon_name=
gc_log=false
while [ $# -gt 0 ]; do
  case "$1" in
    -name) daemon_name=$2; shift 2 ;;
    -loggc) gc_log=true; shift ;;
    -daemon) daemon_mode=true; shift ;;
    *) break ;;
  esac
done

CLASSPATH="${CLASSPATH:+$CLASSPATH:}$base_dir/libs/*"
LOG_DIR=${LOG_DIR:-$base_dir/logs}
if [ -z "${KAFKA_LOG4J_OPTS:-}" ]; then
  KAFKA_LOG4J_OPTS="-Dlog4j2.configurationFile=$base_dir/config/tools-log4j2.yaml"
else
  # A server's log configuration may write files there.
  mkdir -p "$LOG_DIR"
fi
KAFKA_LOG4J_CMD_OPTS="-Dkafka.logs.dir=$LOG_DIR $KAFKA_LOG4J_OPTS"

KAFKA_JMX_OPTS=${KAFKA_JMX_OPTS-"-Dcom.sun.management.jmxremote -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false"}
if [ -n "${JMX_PORT:-}" ]; then
  KAFKA_JMX_OPTS="$KAFKA_JMX_OPTS -Dcom.sun.management.jmxremote.port=$JMX_PORT"
  case "$KAFKA_JMX_OPTS" in
    *com.sun.management.jmxremote.rmi.port*) ;;
    *) KAFKA_JMX_OPTS="$KAFKA_JMX_OPTS -Dcom.sun.management.jmxremote.rmi.port=$JMX_PORT" ;;
  esac
fi
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:-"-Xmx256M"}
KAFKA_JVM_PERFORMANCE_OPTS=${KAFKA_JVM_PERFORMANCE_OPTS:-"-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true"}
if $gc_log; then
  KAFKA_GC_LOG_OPTS="-Xlog:gc*:file=$LOG_DIR/${daemon_name}-gc.log:time,tags:filecount=10,filesize=100M"
fi
java=${JAVA_HOME:+$JAVA_HOME/bin/}java

# Word splitting of the *_OPTS variables is intended: each holds several JVM options.
# shellcheck disable=SC2086
if $daemon_mode; then
  nohup "$java" $KAFKA_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS ${KAFKA_GC_LOG_OPTS:-} $KAFKA_JMX_OPTS $KAFKA_LOG4J_CMD_OPTS \
    -cp "$CLASSPATH" ${KAFKA_OPTS:-} "$@" >"$LOG_DIR/${daemon_name:-kafka}.out" 2>&1 </dev/null &
else
  exec "$java" $KAFKA_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS ${KAFKA_GC_LOG_OPTS:-} $KAFKA_JMX_OPTS $KAFKA_LOG4J_CMD_OPTS \
    -cp "$CLASSPATH" ${KAFKA_OPTS:-} "$@"
fi
