"""Login brute force (the admin's and the crews' and operators' login page) is throttled per client and per account
from that client, so nobody can lock a named person out from elsewhere; idle staff sessions expire."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from geo_siac.testing import staff_account


@pytest.fixture
def operator(db):
    return staff_account("operadora", password="clave-correcta-123", is_staff=True)


def login(client, username="operadora", password="mala", ip="10.0.0.1", page="/admin/login/", **headers):
    return client.post(page, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip, **headers)


def test_fifth_failure_locks_the_account_from_that_client_even_with_the_right_password(client, operator, settings):
    settings.GEO_SIAC_LOGIN_FAILURES_ALLOWED = 5
    assert [login(client).status_code for _ in range(5)] == [200] * 5
    response = login(client, password="clave-correcta-123")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_failures_from_another_client_do_not_lock_the_owner_out(client, operator, settings):
    settings.GEO_SIAC_LOGIN_FAILURES_ALLOWED = 5
    for _ in range(20):
        login(client, ip="198.51.100.66")
    assert login(client, ip="198.51.100.66", password="clave-correcta-123").status_code == 429
    assert login(client, ip="10.0.0.1", password="clave-correcta-123").status_code == 302


def test_one_client_trying_many_usernames_is_locked_out(client, operator, settings):
    settings.GEO_SIAC_LOGIN_FAILURES_ALLOWED, settings.GEO_SIAC_LOGIN_FAILURES_PER_CLIENT = 5, 3
    for n in range(3):
        login(client, username=f"usuario{n}")
    assert login(client, username="operadora", password="clave-correcta-123").status_code == 429


def test_behind_a_trusted_proxy_each_client_is_counted_on_its_own(client, operator, settings):
    settings.GEO_SIAC_TRUSTED_PROXIES = ["127.0.0.1"]
    settings.GEO_SIAC_LOGIN_FAILURES_ALLOWED, settings.GEO_SIAC_LOGIN_FAILURES_PER_CLIENT = 3, 6

    def through_proxy(forwarded_for, **fields):
        return login(client, ip="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for, **fields)

    for n in range(6):
        through_proxy("203.0.113.5", username=f"usuario{n}")
    assert through_proxy("203.0.113.5", password="clave-correcta-123").status_code == 429
    # Entries the attacker writes in front of the proxy's own do not make it a new client.
    assert through_proxy("198.51.100.4, 203.0.113.5", password="clave-correcta-123").status_code == 429
    assert through_proxy("198.51.100.4", password="clave-correcta-123").status_code == 302


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


def test_the_crew_and_operator_login_page_is_throttled_too(client, operator, settings):
    settings.GEO_SIAC_LOGIN_FAILURES_ALLOWED = 3
    page = "/cuenta/ingresar/"
    assert [login(client, page=page).status_code for _ in range(3)] == [200] * 3
    response = login(client, password="clave-correcta-123", page=page)
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session
    # The two pages share the count: failing on one locks the other.
    assert login(client, password="clave-correcta-123").status_code == 429


def test_successful_logins_do_not_count_as_failures(client, operator, settings):
    settings.GEO_SIAC_LOGIN_FAILURES_ALLOWED = 2
    for _ in range(5):
        assert login(client, password="clave-correcta-123", page="/cuenta/ingresar/").status_code == 302
        client.logout()
    assert login(client).status_code == 200  # the first failure
    assert login(client, password="clave-correcta-123").status_code == 302


def test_a_failure_while_logged_in_still_counts(client, operator, settings):
    settings.GEO_SIAC_LOGIN_FAILURES_ALLOWED = 2
    client.force_login(operator)
    for _ in range(2):
        login(client, page="/cuenta/ingresar/")
    assert login(client, password="clave-correcta-123", page="/cuenta/ingresar/").status_code == 429


def test_an_attempt_made_while_another_is_checking_its_password_finds_it_counted(
    client, operator, settings, monkeypatch
):
    """Two guesses at once, the second arriving while the first is checking its password: counted only after the
    check, both saw the same count and both were checked (one guess past the limit per busy worker)."""
    from django.contrib.auth.backends import ModelBackend
    from django.test import Client

    settings.GEO_SIAC_LOGIN_FAILURES_ALLOWED = 3
    login(client)
    login(client)
    checked, answers = [], []
    authenticate = ModelBackend.authenticate

    def checking(backend, request, username=None, password=None, **kwargs):
        checked.append(password)
        if password == "primera":  # the other guess arrives during this check
            answers.append(login(Client(), password="segunda").status_code)
        return authenticate(backend, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", checking)
    assert login(client, password="primera").status_code == 200  # the third guess, within the limit
    assert answers == [429]  # the fourth, on the same account from the same client
    assert checked == ["primera"]


def test_staff_sessions_expire_after_the_idle_timeout(client, operator, settings):
    settings.GEO_SIAC_STAFF_SESSION_IDLE_SECONDS = 1800
    client.force_login(operator)
    assert client.get("/admin/").status_code == 200
    assert client.session.get_expiry_age() == 1800

    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
