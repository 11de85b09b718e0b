"""Admin login brute force is throttled per IP and per username; idle staff sessions expire."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.utils import timezone


@pytest.fixture
def operator(db):
    return get_user_model().objects.create_user("operadora", password="clave-correcta-123", is_staff=True)


def login(client, username="operadora", password="mala", ip="10.0.0.1"):
    return client.post("/admin/login/", {"username": username, "password": password, "next": "/admin/"},
                       REMOTE_ADDR=ip)


def test_fifth_failure_locks_the_username_even_with_the_right_password(client, operator, settings):
    settings.GEO_SIAC_LOGIN_FAILURES_ALLOWED = 5
    assert [login(client).status_code for _ in range(5)] == [200] * 5
    response = login(client, password="clave-correcta-123", ip="10.0.0.99")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_one_ip_trying_many_usernames_is_locked_out(client, operator, settings):
    settings.GEO_SIAC_LOGIN_FAILURES_ALLOWED = 3
    for n in range(3):
        login(client, username=f"usuario{n}")
    assert login(client, username="operadora", password="clave-correcta-123").status_code == 429


def test_the_lockout_ends_lockout_seconds_after_the_first_failure(client, operator, settings, monkeypatch):
    settings.GEO_SIAC_LOGIN_FAILURES_ALLOWED, settings.GEO_SIAC_LOGIN_LOCKOUT_SECONDS = 2, 900
    monkeypatch.setattr("geo_siac.web.ratelimit.time", lambda: 1_000_000)
    login(client)
    monkeypatch.setattr("geo_siac.web.ratelimit.time", lambda: 1_000_800)
    login(client)
    assert login(client, password="clave-correcta-123").status_code == 429
    monkeypatch.setattr("geo_siac.web.ratelimit.time", lambda: 1_000_900)
    assert login(client, password="clave-correcta-123").status_code == 302


def test_a_correct_login_under_the_limit_works(client, operator):
    login(client)
    response = login(client, password="clave-correcta-123")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_staff_sessions_expire_after_the_idle_timeout(client, operator, settings):
    settings.GEO_SIAC_STAFF_SESSION_IDLE_SECONDS = 1800
    client.force_login(operator)
    assert client.get("/admin/").status_code == 200
    assert client.session.get_expiry_age() == 1800

    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
