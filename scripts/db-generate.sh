#!/bin/sh
# Generates a migration from a drizzle schema: db-generate.sh <drizzle-config> <migrations-dir> [drizzle-kit args, e.g. --name add_holds]
#
# drizzle-kit writes `CREATE SCHEMA "x";` into a service's first migration, but the migrator has
# already created that schema to hold the service's own journal table (see migrateSchema), so the
# statement is rewritten to tolerate it. Harmless on files already rewritten.
set -eu
config=$1
migrations=$2
shift 2
drizzle-kit generate --config "$config" "$@"
for file in "$migrations"/*.sql; do
  [ -e "$file" ] && sed -i 's/^CREATE SCHEMA "\([^"]*\)";/CREATE SCHEMA IF NOT EXISTS "\1";/' "$file"
done
