#!/usr/bin/env bash
# Sets up what the tests need (PostgreSQL + PostGIS, .venv, Chromium for browser tests) and runs the whole
# pytest suite against a real PostGIS database, after the linters (ruff check, ruff format --check). Extra
# arguments go to pytest.
set -euo pipefail
export GEO_SIAC_WITH_BROWSER=1
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
geo_siac_setup
cd "$ROOT"
"$PY" -m ruff check .
"$PY" -m ruff format --check .
exec "$PY" -m pytest "$@"
