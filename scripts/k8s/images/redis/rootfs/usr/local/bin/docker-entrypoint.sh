#!/bin/sh
# Entrypoint of labforge's locally built redis:8 image, with the official image's contract
# (docs/images.md): `docker run redis --opt` and `redis something.conf` run redis-server; a
# root start chowns /data (the working directory) and steps down to `redis`; umask 0077 unless
# one is set; modules in /usr/local/lib/redis/modules are loaded.
#
# Protected mode: the official image builds redis-server with protected-mode off by default
# (a container is reached through its own network). Debian's binary defaults it to on, so the
# option is added here, unless an argument names protected-mode. A config file or stdin (`-`)
# that sets it is overridden by this default: pass --protected-mode yes as an argument instead.
set -e

if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
	find . \! -user redis -exec chown redis '{}' +
	exec gosu redis "$0" "$@"
fi

if [ "$(umask)" = 0022 ]; then
	umask 0077
fi

if [ "$1" = redis-server ]; then
	case " $* " in
		*protected-mode*) ;;
		*) set -- "$@" --protected-mode no ;;
	esac
	modules=/usr/local/lib/redis/modules
	for module in "$modules"/*.so; do
		[ -f "$module" ] && [ -s "$module" ] && [ -r "$module" ] || continue
		set -- "$@" --loadmodule "$module"
	done
fi

exec "$@"
