#!/usr/bin/env bash
# Sets up what the tests need (PostgreSQL + PostGIS, .venv, Chromium for browser tests) and runs the whole
# pytest suite against a real PostGIS database, after the linters (ruff check, ruff format --check). Extra
# arguments go to pytest. The tests run on GEO_SIAC_TEST_WORKERS pytest-xdist workers (2, one per core of CI's
# machine; 0 runs them in this process), each with its own test database (docs/testing.md).
set -euo pipefail
export GEO_SIAC_WITH_BROWSER=1
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
geo_siac_setup
cd "$ROOT"
"$PY" -m ruff check .
"$PY" -m ruff format --check .
exec "$PY" -m pytest -n "${GEO_SIAC_TEST_WORKERS:-2}" --dist loadgroup "$@"
