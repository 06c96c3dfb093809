#!/usr/bin/env bash
# Entrypoint of labforge's locally built rabbitmq:4 image, with the official image's contract
# (docs/images.md): RABBITMQ_DEFAULT_USER/PASS/VHOST (read by RabbitMQ itself), configuration
# in /etc/rabbitmq/rabbitmq.conf and /etc/rabbitmq/conf.d/*.conf, data and the Erlang cookie
# in /var/lib/rabbitmq (HOME); a root start chowns the data directory and steps down to
# `rabbitmq`; any other uid works too.
set -euo pipefail

if [[ "$1" == rabbitmq* ]] && [ "$(id -u)" = 0 ]; then
	if [ "$1" = rabbitmq-server ]; then
		find /var/lib/rabbitmq \! -user rabbitmq -exec chown rabbitmq '{}' +
	fi
	exec gosu rabbitmq "${BASH_SOURCE[0]}" "$@"
fi

# Settings the official image refuses since 3.9 (they belong in a configuration file now).
deprecated=(RABBITMQ_DEFAULT_PASS_FILE RABBITMQ_DEFAULT_USER_FILE RABBITMQ_MANAGEMENT_SSL_CACERTFILE
	RABBITMQ_MANAGEMENT_SSL_CERTFILE RABBITMQ_MANAGEMENT_SSL_DEPTH RABBITMQ_MANAGEMENT_SSL_FAIL_IF_NO_PEER_CERT
	RABBITMQ_MANAGEMENT_SSL_KEYFILE RABBITMQ_MANAGEMENT_SSL_VERIFY RABBITMQ_SSL_CACERTFILE RABBITMQ_SSL_CERTFILE
	RABBITMQ_SSL_DEPTH RABBITMQ_SSL_FAIL_IF_NO_PEER_CERT RABBITMQ_SSL_KEYFILE RABBITMQ_SSL_VERIFY
	RABBITMQ_VM_MEMORY_HIGH_WATERMARK)
found=
for var in "${deprecated[@]}"; do
	if [ -n "${!var:-}" ]; then
		echo "error: $var is set but deprecated" >&2
		found=1
	fi
done
if [ -n "$found" ]; then
	echo 'error: deprecated environment variables detected; use a configuration file in /etc/rabbitmq/conf.d instead' >&2
	exit 1
fi

# A fully qualified hostname (a StatefulSet pod's) needs long node names.
if [ -z "${RABBITMQ_USE_LONGNAME:-}" ] && [ "$(hostname)" != "$(hostname -s)" ]; then
	export RABBITMQ_USE_LONGNAME=true
fi

exec "$@"
