#!/usr/bin/env bash
# Makes sure PostgreSQL answers: the server at DATABASE_URL when set, else the local one on
# 127.0.0.1:5432 (user postgres, trust auth, as on the development machines). A local server that is
# installed but stopped is started; a freshly installed one is set to trust loopback connections.
set -euo pipefail
url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
pg_isready -q -d "$url" && exit 0
if [ -n "${DATABASE_URL:-}" ]; then
  echo "ensure-postgres: nothing answers at DATABASE_URL" >&2
  exit 1
fi

version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
if [ -z "$version" ]; then
  echo "ensure-postgres: no local PostgreSQL (apt-get install postgresql, or set DATABASE_URL)" >&2
  exit 1
fi
hba=/etc/postgresql/$version/main/pg_hba.conf
if ! grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
  sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
fi
pg_ctlcluster --skip-systemctl-redirect "$version" main restart
for _ in $(seq 1 30); do
  pg_isready -q -d "$url" && exit 0
  sleep 1
done
echo "ensure-postgres: PostgreSQL $version did not start" >&2
exit 1
