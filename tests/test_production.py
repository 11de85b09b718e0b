"""Production mode: deploy checks, static files, security headers, health, database loss as 503, JSON logs."""

import json
import logging
import os
import subprocess
import sys

import pytest
from django.db import OperationalError
from django.test import override_settings

from geo_siac.testing import PROJECT_ROOT
from geo_siac.transparency.services import indicator_snapshots_refresh
from geo_siac.web.logs import JsonFormatter

PRODUCTION_ENV = {
    "GEO_SIAC_PRODUCTION": "1",
    "SECRET_KEY": "x" * 30 + "-production-test-key-with-enough-entropy-0123456789",
    "ALLOWED_HOSTS": "geosiac.example.cl",
}


def manage(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={**deploy_environment(), **(env or {})},
        timeout=120,
    )


def deploy_environment() -> dict:
    """The test run's environment minus what the browser tests set for Playwright (never set in deployment)."""
    return {name: value for name, value in os.environ.items() if name != "DJANGO_ALLOW_ASYNC_UNSAFE"}


@pytest.mark.slow
def test_check_deploy_is_clean_in_production_mode():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_workers_share_one_cache_so_cached_pages_are_not_per_process(tmp_path):
    shared = tmp_path / "cache"
    script = (
        "from django.core.cache import cache; from django.conf import settings; "
        "print(settings.CACHES['default']['BACKEND']); print(cache.incr('hits') if cache.get('hits') else "
        "cache.set('hits', 1) or 1)"
    )
    env = {**PRODUCTION_ENV, "CACHE_LOCATION": str(shared)}
    first, second = (manage("shell", "-v", "0", "-c", script, env=env) for _ in range(2))  # two processes
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stdout.split() == ["django.core.cache.backends.filebased.FileBasedCache", "1"]
    assert second.stdout.split()[-1] == "2"


def test_the_gunicorn_master_freezes_what_it_loaded_before_forking_workers():
    """when_ready runs in the master after preload_app, before any worker is forked: the loaded application is then
    out of reach of the workers' full garbage collections."""
    script = (
        "import gc, runpy; conf = runpy.run_path('geo_siac/gunicorn.conf.py'); "
        "before = gc.get_freeze_count(); conf['when_ready'](None); print(before, gc.get_freeze_count())"
    )
    result = manage("shell", "-v", "0", "-c", script, env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    before, after = map(int, result.stdout.split())
    assert before == 0 and after > 100_000


def test_workers_are_recycled_after_gunicorn_max_requests_give_or_take_a_tenth(monkeypatch):
    import runpy

    assert runpy.run_path("geo_siac/gunicorn.conf.py")["max_requests"] == 100_000
    monkeypatch.setenv("GUNICORN_MAX_REQUESTS", "5000")
    conf = runpy.run_path("geo_siac/gunicorn.conf.py")
    assert (conf["max_requests"], conf["max_requests_jitter"]) == (5000, 500)


def test_production_mode_refuses_to_start_without_a_secret_key():
    result = manage("check", env={**PRODUCTION_ENV, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize(
    "secret_key",
    [
        "dev-only-insecure-key-change-me",  # .env.example's, and the development default
        "dev-only-insecure-key-change-me" + "-and-something-appended-to-pass-the-length",
        "a-short-secret-key-of-40-characters-xyz",
        "ab" * 40,
    ],
)
def test_production_mode_refuses_an_example_short_or_repetitive_secret_key_and_says_how_to_make_one(secret_key):
    result = manage("check", env={**PRODUCTION_ENV, "SECRET_KEY": secret_key})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert 'python -c "import secrets; print(secrets.token_urlsafe(50))"' in result.stderr
    assert secret_key not in result.stderr  # a secret is never echoed into logs


@pytest.mark.slow
def test_collectstatic_in_production_writes_hashed_compressed_vendored_files(tmp_path):
    result = manage("collectstatic", "--noinput", env={**PRODUCTION_ENV, "STATIC_ROOT": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    leaflet = manifest["vendor/leaflet/1.9.3/leaflet.js"]
    assert leaflet != "vendor/leaflet/1.9.3/leaflet.js"
    assert (tmp_path / (leaflet + ".gz")).exists()


def test_every_response_carries_the_security_headers(client, communes):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "object-src 'none'" in csp and "unsafe-inline" not in csp
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "geolocation=(self)" in response["Permissions-Policy"]


def test_the_swagger_page_runs_under_the_sites_own_style_and_script_sources(client):
    csp = client.get("/api/docs/")["Content-Security-Policy"]
    assert "style-src 'self';" in csp and "script-src 'self';" in csp


def test_health_answers_ok_when_the_database_answers(client, db):
    indicator_snapshots_refresh()
    response = client.get("/salud/")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["database"] == "ok"


def test_health_answers_503_when_the_database_is_down(client, db, monkeypatch):
    monkeypatch.setattr("geo_siac.web.health.database_answers", lambda: False)
    response = client.get("/salud/")
    assert response.status_code == 503
    assert response["Retry-After"]


def test_lost_database_during_a_submission_is_a_503_with_retry_after(client, communes, monkeypatch):
    monkeypatch.setattr("geo_siac.reports.views.report_create", _raise_operational_error)
    response = client.post("/", {"service_code": "retiro-escombros", "lat": "-33.6117", "long": "-70.5758"})
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert b"Traceback" not in response.content


def test_lost_database_during_an_open311_request_is_a_json_503(client, communes, monkeypatch):
    monkeypatch.setattr("geo_siac.open311.views.selectors.usable_api_key", _raise_operational_error)
    response = client.post("/open311/v2/requests.json", {"api_key": "x", "service_code": "grafiti"})
    assert response.status_code == 503 and response["Retry-After"]
    assert response.json()[0]["code"] == 503


def test_lost_database_during_an_open311_request_under_a_comuna_is_a_json_503(client, communes, monkeypatch):
    monkeypatch.setattr("geo_siac.open311.views.selectors.usable_api_key", _raise_operational_error)
    response = client.post("/comuna/puente-alto/open311/v2/requests.json", {"api_key": "x", "service_code": "grafiti"})
    assert response.status_code == 503 and response["Retry-After"]
    assert response.json() == [{"code": 503, "description": "El servicio no está disponible por un momento."}]


@override_settings(DEBUG=False)
def test_lost_database_while_choosing_the_comuna_of_an_open311_request_is_a_json_503(client, communes, monkeypatch):
    monkeypatch.setattr("geo_siac.zones.middleware.public_identity", _raise_operational_error)
    client.raise_request_exception = False  # handler500 answers, as in production
    response = client.get("/comuna/puente-alto/open311/v2/services.json")
    assert response.status_code == 503 and response["Retry-After"]
    assert response.json()[0]["code"] == 503


@override_settings(DEBUG=False)
def test_lost_database_outside_a_view_is_still_a_503(rf):
    from geo_siac.web.database import server_error

    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        response = server_error(rf.get("/"))
    assert response.status_code == 503
    assert response["Retry-After"]


def test_production_log_lines_are_json_objects():
    record = logging.LogRecord("geo_siac", logging.WARNING, __file__, 1, "database unavailable: %s", ("x",), None)
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "WARNING"
    assert line["message"] == "database unavailable: x"


def _raise_operational_error(*args, **kwargs):
    raise OperationalError("could not connect to server")


def test_x_forwarded_proto_is_believed_only_from_a_declared_proxy():
    script = "from django.conf import settings; print(getattr(settings, 'SECURE_PROXY_SSL_HEADER', None))"
    alone = manage("shell", "-v", "0", "-c", script, env=PRODUCTION_ENV)
    behind = manage("shell", "-v", "0", "-c", script, env={**PRODUCTION_ENV, "GEO_SIAC_TRUSTED_PROXIES": "127.0.0.1"})
    assert alone.returncode == behind.returncode == 0, alone.stderr + behind.stderr
    assert alone.stdout.strip() == "None"
    assert behind.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"
