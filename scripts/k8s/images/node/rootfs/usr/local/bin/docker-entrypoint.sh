#!/bin/sh
# Entrypoint of labforge's locally built node:24 image, as the official image's: arguments
# that start with `-`, or that name no command on PATH (a script file), are run by node.
set -e
if [ "${1#-}" != "$1" ] || [ -z "$(command -v "$1" 2>/dev/null)" ] || { [ -f "$1" ] && ! [ -x "$1" ]; }; then
	set -- node "$@"
fi
exec "$@"
