#!/usr/bin/env bash
# One login role per service, each owning its own schema in $POSTGRES_DB and nothing else.
#
# The postgres image runs this once, from /docker-entrypoint-initdb.d, when it starts on an empty data
# directory (as $POSTGRES_USER, over the local socket). It is safe to run again by hand, e.g. to reset
# the passwords after changing them in .env:
#   docker compose -f docker-compose.prod.yml exec postgres /docker-entrypoint-initdb.d/10-service-roles.sh
#
# Environment: POSTGRES_USER, POSTGRES_DB (the image's), EVENT_DB_PASSWORD, BOOKING_DB_PASSWORD,
# CHECKOUT_DB_PASSWORD, NOTIFICATION_DB_PASSWORD; TICKET_ROLE_PREFIX (default empty) prefixes the role
# names, so a test can run this on a shared server without touching real roles. psql's usual PG*
# variables (PGHOST, PGPORT, PGPASSWORD) pick another server than the local socket.
#
# What a role may do: connect to $POSTGRES_DB; own, and so use, its schema; create schemas (the
# migration tool and drizzle's first migration run `CREATE SCHEMA IF NOT EXISTS`, which Postgres
# checks against the database's CREATE privilege even when the schema exists). What it may not: see or
# change another service's schema (nobody was granted USAGE on it), create anything in `public`, or
# connect to $POSTGRES_DB without being granted (PUBLIC loses CONNECT).
set -euo pipefail

services=(event booking checkout notification)
prefix=${TICKET_ROLE_PREFIX:-}
db=${POSTGRES_DB:?POSTGRES_DB is not set}

sql() {
  # client_min_messages: a second run would print a NOTICE per existing schema.
  PGOPTIONS='-c client_min_messages=warning' psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet --username "${POSTGRES_USER:?POSTGRES_USER is not set}" --dbname "$db" "$@"
}

# Check every password before changing anything, so a missing one leaves no half-made roles.
for service in "${services[@]}"; do
  var="${service^^}_DB_PASSWORD"
  [ -n "${!var:-}" ] || { echo "10-service-roles.sh: $var is not set" >&2; exit 1; }
done

sql -v db="$db" <<'SQL'
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
-- PostgreSQL 15 already revokes this by default; kept for servers whose public schema predates 15.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL

for service in "${services[@]}"; do
  var="${service^^}_DB_PASSWORD"
  sql -v db="$db" -v role="${prefix}${service}" -v schema="$service" -v password="${!var}" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'password';
GRANT CONNECT, CREATE ON DATABASE :"db" TO :"role";
CREATE SCHEMA IF NOT EXISTS :"schema" AUTHORIZATION :"role";
SQL
  echo "10-service-roles.sh: role ${prefix}${service} owns schema ${service} in ${db}"
done
