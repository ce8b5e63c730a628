#!/bin/sh
# drizzle-kit writes `CREATE SCHEMA "x";` into a service's first migration, but the migrator has
# already created that schema to hold the service's own journal table (see migrateSchema), so the
# statement must tolerate it. Run after `drizzle-kit generate`; harmless on files already fixed.
set -eu
for file in "$1"/*.sql; do
  sed -i 's/^CREATE SCHEMA "\([^"]*\)";/CREATE SCHEMA IF NOT EXISTS "\1";/' "$file"
done
