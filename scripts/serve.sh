#!/usr/bin/env bash
# Sets everything up (see scripts/setup.sh), loads the comunas, categories and demo reports, and serves
# GeoSIAC at http://127.0.0.1:8000 (admin at /admin/).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
geo_siac_setup
"$PY" manage.py load_comunas --cut 13201 --cut 13122 --commit
"$PY" manage.py load_categories --commit
"$PY" manage.py seed_demo --reports "${GEO_SIAC_DEMO_REPORTS:-2000}"
"$PY" manage.py ensure_demo_admin
log "serving on http://127.0.0.1:${GEO_SIAC_PORT:-8000}"
exec "$PY" manage.py runserver "127.0.0.1:${GEO_SIAC_PORT:-8000}"
