#!/usr/bin/env bash
# Restores a scripts/backup.sh dump into a NEW database (never over an existing one).
#   scripts/restore.sh DUMP_FILE NEW_DATABASE
# Connection: the libpq variables PGHOST, PGPORT, PGUSER, PGPASSWORD; the role needs CREATEDB, and PostGIS
# must be installable in the new database (scripts/setup.sh puts it in template1).
set -euo pipefail
DUMP="${1:?usage: restore.sh DUMP_FILE NEW_DATABASE}"
NAME="${2:?usage: restore.sh DUMP_FILE NEW_DATABASE}"
[ -r "$DUMP" ] || { echo "cannot read $DUMP" >&2; exit 2; }
LIST="$(mktemp)"
trap 'rm -f "$LIST"' EXIT
# A truncated or foreign file stops here, before anything is created. PostGIS's own spatial_ref_sys rows come
# with the extension in the new database (the project adds no SRID of its own), so they are not restored.
pg_restore --list "$DUMP" | grep -v 'TABLE DATA public spatial_ref_sys' > "$LIST"
createdb "$NAME"
# --no-comments: COMMENT ON EXTENSION postgis needs the extension's owner (a superuser).
if ! pg_restore --no-owner --no-privileges --no-comments --exit-on-error --use-list="$LIST" --dbname="$NAME" "$DUMP"; then
  echo "restore failed; dropping the half-restored database $NAME" >&2
  dropdb "$NAME"
  exit 1
fi
psql -X -q -At --dbname="$NAME" -c "SELECT 'reports restored: ' || count(*) FROM reports_report"
