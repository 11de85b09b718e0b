#!/usr/bin/env bash
# Shared, idempotent setup for scripts/serve.sh and scripts/test.sh.
# Installs what is missing (PostgreSQL + PostGIS, python venv), starts the cluster, creates the role and
# database with PostGIS, builds .venv from the pinned requirements and migrates. Each step is skipped when
# it is already done, so a second run takes seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [ "$(id -u)" -eq 0 ]; then SUDO=""; AS_POSTGRES="runuser -u postgres --"; else SUDO="sudo"; AS_POSTGRES="sudo -u postgres"; fi

# Local defaults; DATABASE_URL (if set) points at a database managed elsewhere and skips provisioning.
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-geo_siac}"
export PGPASSWORD="${PGPASSWORD:-geo_siac}" PGDATABASE="${PGDATABASE:-geo_siac}"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

log() { printf '\033[1m[geo_siac]\033[0m %s\n' "$*"; }

apt_install() {
  log "apt-get install $*"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

pg_version() { ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1; }

ensure_system_packages() {
  local missing=()
  [ -n "$(pg_version)" ] || apt_install postgresql postgresql-contrib
  local ver; ver="$(pg_version)"
  dpkg -s "postgresql-$ver-postgis-3" >/dev/null 2>&1 || missing+=("postgresql-$ver-postgis-3")
  command -v python3 >/dev/null || missing+=(python3)
  python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
  if [ "${GEO_SIAC_WITH_BROWSER:-0}" = 1 ] && [ ! -x /usr/bin/chromium ]; then missing+=(chromium); fi
  if [ "${GEO_SIAC_WITH_BROWSER:-0}" = 1 ] && ! command -v npm >/dev/null; then missing+=(nodejs npm); fi
  # nginx for the two-server test (tests/test_two_servers.py) and the multi-server layout (GEO_SIAC_WITH_NGINX=1).
  if [ "${GEO_SIAC_WITH_BROWSER:-0}" = 1 ] || [ "${GEO_SIAC_WITH_NGINX:-0}" = 1 ]; then
    [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
  fi
  # zbarimg decodes the suggestion box's QR codes in the tests
  command -v zbarimg >/dev/null || missing+=(zbar-tools)
  if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi
}

ensure_cluster() {
  local ver; ver="$(pg_version)"
  if ! pg_lsclusters -h | awk -v v="$ver" '$1==v' | grep -q .; then
    log "creating PostgreSQL $ver cluster"
    $SUDO pg_createcluster "$ver" main >/dev/null
  fi
  local cluster; cluster="$(pg_lsclusters -h | awk -v v="$ver" '$1==v {print $2; exit}')"
  if pg_lsclusters -h | awk -v v="$ver" -v c="$cluster" '$1==v && $2==c {print $4}' | grep -q down; then
    log "starting PostgreSQL $ver/$cluster"
    $SUDO pg_ctlcluster "$ver" "$cluster" start
  fi
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p "$PGPORT" && return 0; sleep 1; done
  echo "PostgreSQL did not become ready on port $PGPORT" >&2; exit 1
}

ensure_database() {
  # PostGIS, pg_trgm and unaccent go into template1 too, so the test database (created from it) has them without
  # superuser rights; the geocoding migration then finds them (CREATE EXTENSION IF NOT EXISTS).
  $AS_POSTGRES env -u PGHOST -u PGUSER -u PGPASSWORD -u PGDATABASE \
    PGOPTIONS="-c client_min_messages=warning" psql -q -v ON_ERROR_STOP=1 -p "$PGPORT" -d postgres <<SQL
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', '$PGUSER', '$PGPASSWORD')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$PGUSER') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', '$PGDATABASE', '$PGUSER')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$PGDATABASE') \gexec
\c template1
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;
\c $PGDATABASE
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;
SQL
}

ensure_venv() {
  local want; want="$(cat requirements.txt requirements-dev.txt constraints.txt | sha256sum | cut -d' ' -f1)"
  if [ -f "$VENV/.requirements.sha256" ] && [ "$(cat "$VENV/.requirements.sha256")" = "$want" ]; then return 0; fi
  local python; python="$(command -v python3.11 || command -v python3)"
  log "building .venv with $($python --version)"
  [ -x "$PY" ] || "$python" -m venv "$VENV"
  "$PY" -m pip install -q --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
  echo "$want" > "$VENV/.requirements.sha256"
}

# The browser tests inject axe-core from here (tests/test_accessibility_browser.py) and the OIDC sign-in tests run
# oidc-provider from here (geo_siac/citizens/tests/test_oidc.py), pinned by test-tools'
# package-lock.json; `npm ci` again only when the lock file changes.
ensure_browser_tools() {
  local want; want="$(sha256sum test-tools/package-lock.json | cut -d' ' -f1)"
  local stamp=test-tools/node_modules/.geo_siac.sha256
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  log "npm ci in test-tools (axe-core, oidc-provider)"
  (cd test-tools && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
}

geo_siac_setup() {
  ensure_system_packages
  if [ -z "${DATABASE_URL:-}" ]; then ensure_cluster; ensure_database; fi
  ensure_venv
  if [ "${GEO_SIAC_WITH_BROWSER:-0}" = 1 ]; then ensure_browser_tools; fi
  log "migrating"
  "$PY" manage.py migrate --noinput -v 0
  "$PY" manage.py createcachetable  # the table of CACHE_BACKEND=...DatabaseCache; nothing for the other caches
}
