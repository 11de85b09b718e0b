#!/usr/bin/env bash
# Dumps the GeoSIAC database in pg_dump's custom format (compressed; pg_restore can pick tables from it).
#   scripts/backup.sh [FILE]    default FILE: var/backups/geo_siac-<database>-<UTC time>.dump
# Connection: DATABASE_URL if set, else the libpq variables PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${DATABASE_URL:-${PGDATABASE:-geo_siac}}"
TARGET="${TARGET/#postgis:/postgresql:}"
FILE="${1:-$ROOT/var/backups/geo_siac-$(basename "${TARGET%%\?*}")-$(date -u +%Y%m%dT%H%M%SZ).dump}"
mkdir -p "$(dirname "$FILE")"
# Write to a temporary name first, so an interrupted dump never looks like a finished backup.
pg_dump --format=custom --no-owner --no-privileges --file="$FILE.partial" --dbname="$TARGET"
mv "$FILE.partial" "$FILE"
echo "$FILE"
