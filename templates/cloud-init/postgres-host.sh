#!/bin/bash
# labforge: PostgreSQL host (rendered by constructs/aws/cloud-init.ts into EC2 user data).
# The password is not in this script: it is read from SSM with the instance role (IMDSv2).
set -euo pipefail
exec >>/var/log/labforge-init.log 2>&1

REGION={{region}}
PG_VERSION={{pgVersion}}
DB_NAME={{database}}
DB_USER={{user}}
PASSWORD_PARAMETER={{passwordParameter}}
ALLOW_CIDR={{allowCidr}}

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q awscli postgresql-common ca-certificates
# Debian 12 ships PostgreSQL 15; other majors come from the PGDG repository.
if ! apt-cache show "postgresql-$PG_VERSION" >/dev/null 2>&1; then
  /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y
fi
apt-get install -y -q "postgresql-$PG_VERSION"

# IAM is eventually consistent: the role may need a minute before it can read the parameter.
PASSWORD=''
for attempt in $(seq 1 30); do
  if PASSWORD=$(aws ssm get-parameter --region "$REGION" --name "$PASSWORD_PARAMETER" \
      --with-decryption --query Parameter.Value --output text); then
    break
  fi
  echo "labforge: password parameter not readable yet (attempt $attempt)"
  sleep 10
done
if [ -z "$PASSWORD" ]; then
  echo 'labforge: could not read the password parameter' >&2
  exit 1
fi

CONF_DIR="/etc/postgresql/$PG_VERSION/main"
cat >"$CONF_DIR/conf.d/labforge.conf" <<'CONF'
listen_addresses = '*'
password_encryption = 'scram-sha-256'
CONF
# Remote logins only from the allowed CIDR, only as the lab role, only with SCRAM.
if [ -n "$ALLOW_CIDR" ]; then
  echo "host $DB_NAME $DB_USER $ALLOW_CIDR scram-sha-256" >>"$CONF_DIR/pg_hba.conf"
fi
systemctl restart "postgresql@$PG_VERSION-main"

# The password goes through the environment, never on a command line.
export LAB_USER="$DB_USER" LAB_DB="$DB_NAME" LAB_PASSWORD="$PASSWORD"
runuser -u postgres -- psql -v ON_ERROR_STOP=1 -d postgres <<'SQL'
\getenv lab_user LAB_USER
\getenv lab_db LAB_DB
\getenv lab_password LAB_PASSWORD
SET password_encryption = 'scram-sha-256';
SELECT format('CREATE ROLE %I LOGIN', :'lab_user') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'lab_user') \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'lab_user', :'lab_password') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'lab_db', :'lab_user') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'lab_db') \gexec
SQL

mkdir -p /etc/labforge
cat >/etc/labforge/shop-schema.sql <<'SQL'
{{shopSchema}}
SQL
{ echo "SET ROLE \"$DB_USER\";"; cat /etc/labforge/shop-schema.sql; } |
  runuser -u postgres -- psql -v ON_ERROR_STOP=1 -d "$DB_NAME"

unset PASSWORD LAB_PASSWORD
touch /var/lib/labforge-ready
echo 'labforge: PostgreSQL ready'
