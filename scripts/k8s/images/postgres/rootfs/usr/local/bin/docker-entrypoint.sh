#!/usr/bin/env bash
# Entrypoint of labforge's locally built postgres:17 image. It keeps the official image's
# contract (docs/images.md): POSTGRES_PASSWORD, POSTGRES_USER, POSTGRES_DB,
# POSTGRES_INITDB_ARGS and their *_FILE variants, POSTGRES_INITDB_WALDIR,
# POSTGRES_HOST_AUTH_METHOD, PGDATA; on the first start initdb, then every
# /docker-entrypoint-initdb.d/*.sh|*.sql|*.sql.gz|*.sql.xz|*.sql.zst in order against a
# socket-only server; a root start steps down to `postgres`; any other uid works too.
# Function names are those of the official script, so init scripts that call them
# (docker_process_sql ...) keep working. Run as docker-ensure-initdb.sh it only initialises;
# as docker-enforce-initdb.sh it fails when the database exists already.
set -Eeo pipefail

# Sets VAR from $VAR or from the file named by $VAR_FILE (never both), else DEFAULT.
file_env() {
	local var=$1 file_var="${1}_FILE" value=${2:-}
	if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
		echo "error: both $var and $file_var are set (but are exclusive)" >&2
		exit 1
	fi
	if [ -n "${!var:-}" ]; then
		value=${!var}
	elif [ -n "${!file_var:-}" ]; then
		value=$(<"${!file_var}")
	fi
	export "$var=$value"
	unset "$file_var"
}

docker_setup_env() {
	file_env POSTGRES_PASSWORD
	file_env POSTGRES_USER postgres
	file_env POSTGRES_DB "$POSTGRES_USER"
	file_env POSTGRES_INITDB_ARGS
	: "${POSTGRES_HOST_AUTH_METHOD:=}"
	declare -g DATABASE_ALREADY_EXISTS=
	if [ -s "$PGDATA/PG_VERSION" ]; then
		DATABASE_ALREADY_EXISTS=true
	fi
}

# PGDATA 0700 and the socket directory; ownership to `postgres` only when started as root.
docker_create_db_directories() {
	local uid
	uid=$(id -u)
	mkdir -p "$PGDATA"
	# PostgreSQL itself refuses a PGDATA it cannot trust; chmod may fail on some mounts.
	chmod 00700 "$PGDATA" || :
	mkdir -p /var/run/postgresql || :
	chmod 03775 /var/run/postgresql || :
	if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
		mkdir -p "$POSTGRES_INITDB_WALDIR"
		[ "$uid" = 0 ] && find "$POSTGRES_INITDB_WALDIR" \! -user postgres -exec chown postgres '{}' +
		chmod 700 "$POSTGRES_INITDB_WALDIR"
	fi
	if [ "$uid" = 0 ]; then
		find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
		find /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
	fi
}

docker_verify_minimum_env() {
	if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
		cat >&2 <<-'EOF'
			Error: Database is uninitialized and superuser password is not specified.
			       Set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) to a non-empty value,
			       or POSTGRES_HOST_AUTH_METHOD=trust to allow every connection without a
			       password (not recommended).
		EOF
		exit 1
	fi
	if [ "$POSTGRES_HOST_AUTH_METHOD" = trust ]; then
		echo 'WARNING: POSTGRES_HOST_AUTH_METHOD=trust: every connection is allowed without a password.' >&2
	fi
}

# initdb needs a passwd entry for the current uid: for an arbitrary --user, nss_wrapper
# supplies one for the duration of initdb.
docker_init_database_dir() {
	local uid gid wrapper
	uid=$(id -u)
	gid=$(id -g)
	if ! getent passwd "$uid" >/dev/null 2>&1; then
		for wrapper in /usr/lib/*/libnss_wrapper.so /usr/lib/libnss_wrapper.so; do
			[ -s "$wrapper" ] || continue
			NSS_WRAPPER_PASSWD=$(mktemp)
			NSS_WRAPPER_GROUP=$(mktemp)
			export LD_PRELOAD=$wrapper NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
			printf 'postgres:x:%s:%s:PostgreSQL:%s:/bin/false\n' "$uid" "$gid" "$PGDATA" >"$NSS_WRAPPER_PASSWD"
			printf 'postgres:x:%s:\n' "$gid" >"$NSS_WRAPPER_GROUP"
			break
		done
	fi
	if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
		set -- --waldir "$POSTGRES_INITDB_WALDIR" "$@"
	fi
	# POSTGRES_INITDB_ARGS is word-split on purpose (several options in one variable). The
	# password goes through a pipe, never argv; --pwfile refuses an empty file, hence the newline.
	eval 'initdb --username="$POSTGRES_USER" --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD") '"$POSTGRES_INITDB_ARGS"' "$@"'
	if [[ "${LD_PRELOAD:-}" == */libnss_wrapper.so ]]; then
		rm -f "$NSS_WRAPPER_PASSWD" "$NSS_WRAPPER_GROUP"
		unset LD_PRELOAD NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
	fi
}

# Remote connections: every host, with the server's password_encryption (scram-sha-256)
# unless POSTGRES_HOST_AUTH_METHOD says otherwise.
pg_setup_hba_conf() {
	[ "${1:-}" = postgres ] && shift
	local auth
	auth=$(postgres -C password_encryption "$@")
	: "${POSTGRES_HOST_AUTH_METHOD:=$auth}"
	{
		printf '\n'
		[ "$POSTGRES_HOST_AUTH_METHOD" = trust ] && printf '# warning: trust is enabled for all connections\n'
		printf 'host all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD"
	} >>"$PGDATA/pg_hba.conf"
}

# psql against the initialising server over its socket (never TCP).
docker_process_sql() {
	local runner=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
	[ -n "$POSTGRES_DB" ] && runner+=(--dbname "$POSTGRES_DB")
	PGHOST= PGHOSTADDR= "${runner[@]}" "$@"
}

docker_setup_db() {
	local exists
	[ "$POSTGRES_DB" = postgres ] && return 0
	exists=$(POSTGRES_DB='' docker_process_sql --dbname postgres --set db="$POSTGRES_DB" --tuples-only <<-'EOSQL'
		SELECT 1 FROM pg_database WHERE datname = :'db' ;
	EOSQL
	)
	if [ -z "$exists" ]; then
		POSTGRES_DB='' docker_process_sql --dbname postgres --set db="$POSTGRES_DB" <<-'EOSQL'
			CREATE DATABASE :"db" ;
		EOSQL
		echo
	fi
}

# Runs the init files in the order given: executable *.sh run, others are sourced (and may
# call these functions); SQL, compressed or not, goes through psql; anything else is ignored.
docker_process_init_files() {
	local f
	echo
	for f; do
		case "$f" in
			*.sh)
				if [ -x "$f" ]; then
					echo "$0: running $f"
					"$f"
				else
					echo "$0: sourcing $f"
					# shellcheck disable=SC1090
					. "$f"
				fi
				;;
			*.sql) echo "$0: running $f"; docker_process_sql -f "$f"; echo ;;
			*.sql.gz) echo "$0: running $f"; gunzip -c "$f" | docker_process_sql; echo ;;
			*.sql.xz) echo "$0: running $f"; xzcat "$f" | docker_process_sql; echo ;;
			*.sql.zst) echo "$0: running $f"; zstd -dc "$f" | docker_process_sql; echo ;;
			*) echo "$0: ignoring $f" ;;
		esac
		echo
	done
}

# A server for the init scripts that listens on its socket only, so no client connects to a
# half-initialised database.
docker_temp_server_start() {
	[ "${1:-}" = postgres ] && shift
	set -- "$@" -c listen_addresses='' -p "${PGPORT:-5432}"
	NOTIFY_SOCKET= PGUSER="${PGUSER:-$POSTGRES_USER}" pg_ctl -D "$PGDATA" -o "$(printf '%q ' "$@")" -w start
}

docker_temp_server_stop() {
	PGUSER="${PGUSER:-postgres}" pg_ctl -D "$PGDATA" -m fast -w stop
}

# Options that make postgres print and exit: no initialisation for those.
_pg_want_help() {
	local arg
	for arg; do
		case "$arg" in -'?' | --help | --describe-config | -V | --version | -C) return 0 ;; esac
	done
	return 1
}

docker_initialize() {
	docker_verify_minimum_env
	# Fails early (and clearly) when the init directory is unreadable for this uid.
	ls /docker-entrypoint-initdb.d/ >/dev/null
	docker_init_database_dir
	pg_setup_hba_conf "$@"
	export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
	docker_temp_server_start "$@"
	docker_setup_db
	docker_process_init_files /docker-entrypoint-initdb.d/*
	docker_temp_server_stop
	unset PGPASSWORD
	printf '\nPostgreSQL init process complete; ready for start up.\n\n'
}

_main() {
	if [ "${1:0:1}" = '-' ]; then
		set -- postgres "$@"
	fi
	if [ "$1" = postgres ] && ! _pg_want_help "$@"; then
		docker_setup_env
		docker_create_db_directories
		if [ "$(id -u)" = 0 ]; then
			exec gosu postgres "${BASH_SOURCE[0]}" "$@"
		fi
		if [ -z "$DATABASE_ALREADY_EXISTS" ]; then
			docker_initialize "$@"
		else
			printf '\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n\n'
		fi
	fi
	exec "$@"
}

# docker-ensure-initdb.sh / docker-enforce-initdb.sh: initialise (or refuse an existing
# database), then exit without starting the server (for init containers).
_ensure() {
	if [ "$#" -eq 0 ] || [ "$1" != postgres ]; then
		set -- postgres "$@"
	fi
	docker_setup_env
	docker_create_db_directories
	if [ "$(id -u)" = 0 ]; then
		exec gosu postgres "${BASH_SOURCE[0]}" "$@"
	fi
	if [ -z "$DATABASE_ALREADY_EXISTS" ]; then
		docker_initialize "$@"
	elif [ "$(basename "${BASH_SOURCE[0]}")" = docker-enforce-initdb.sh ]; then
		echo "error: $PGDATA already contains a database" >&2
		exit 1
	else
		echo "$PGDATA already contains a database; nothing to do"
	fi
}

# Sourced (by a wrapper of the user's own) it only defines the functions.
if [ "${#FUNCNAME[@]}" -eq 0 ] || [ "${FUNCNAME[0]}" != source ]; then
	case "$(basename "${BASH_SOURCE[0]}")" in
		docker-ensure-initdb.sh | docker-enforce-initdb.sh) _ensure "$@" ;;
		*) _main "$@" ;;
	esac
fi
