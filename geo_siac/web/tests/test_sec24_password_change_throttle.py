"""The admin's password change checks the account's password: someone holding a staff session (a shared office
computer left signed in, a stolen cookie) could otherwise guess it there, unthrottled, and learn it."""

import pytest

from geo_siac.testing import staff_account

RIGHT = "clave-correcta-123"


@pytest.fixture
def operator(db):
    return staff_account("operadora", password=RIGHT, is_staff=True)


def change(client, old, ip="10.0.0.1"):
    data = {"old_password": old, "new_password1": "Otra-clave-larga-987", "new_password2": "Otra-clave-larga-987"}
    return client.post("/admin/password_change/", data, REMOTE_ADDR=ip)


def test_guessing_the_password_on_the_password_change_page_is_throttled_like_a_login(client, operator, settings):
    settings.GEO_SIAC_LOGIN_FAILURES_ALLOWED = 3
    client.force_login(operator)
    assert [change(client, f"adivina-{n}").status_code for n in range(3)] == [200] * 3
    response = change(client, RIGHT)
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    operator.refresh_from_db()
    assert operator.check_password(RIGHT)  # the right guess was not even checked


def test_the_password_change_page_shares_the_login_count_of_that_account_and_client(client, operator, settings):
    settings.GEO_SIAC_LOGIN_FAILURES_ALLOWED = 2
    client.force_login(operator)
    for n in range(2):
        change(client, f"adivina-{n}")
    client.logout()
    response = client.post("/cuenta/ingresar/", {"username": "operadora", "password": RIGHT}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 429


def test_a_right_password_change_under_the_limit_works_and_gives_its_attempt_back(client, operator, settings):
    settings.GEO_SIAC_LOGIN_FAILURES_ALLOWED = 2
    client.force_login(operator)
    change(client, "adivina")
    response = change(client, RIGHT)
    assert response.status_code == 302
    operator.refresh_from_db()
    assert operator.check_password("Otra-clave-larga-987")
    # The success was given back: one failure counted, so one more is still allowed before the lockout.
    data = {"old_password": "mala", "new_password1": "x-Y-z-12345678", "new_password2": "x-Y-z-12345678"}
    assert client.post("/admin/password_change/", data, REMOTE_ADDR="10.0.0.1").status_code == 200


def test_a_username_in_the_post_does_not_give_the_password_change_a_fresh_count(client, operator, settings):
    settings.GEO_SIAC_LOGIN_FAILURES_ALLOWED = 3
    client.force_login(operator)
    data = {"new_password1": "Otra-clave-larga-987", "new_password2": "Otra-clave-larga-987"}
    statuses = [
        client.post(
            "/admin/password_change/", {**data, "old_password": f"adivina-{n}", "username": f"otra-{n}"}
        ).status_code
        for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


def test_a_right_old_password_with_a_refused_new_one_is_no_failure(client, operator, settings):
    settings.GEO_SIAC_LOGIN_FAILURES_ALLOWED = 2
    client.force_login(operator)
    data = {"old_password": RIGHT, "new_password1": "123", "new_password2": "123"}
    responses = [client.post("/admin/password_change/", data, REMOTE_ADDR="10.0.0.1") for _ in range(4)]
    assert [response.status_code for response in responses] == [200] * 4
    assert "new_password2" in responses[-1].context_data["form"].errors  # refused for the new password only
    client.logout()
    response = client.post("/cuenta/ingresar/", {"username": "operadora", "password": RIGHT}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 302
