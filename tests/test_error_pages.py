"""403, 404 and 500 are pages a person can read, in Spanish and English, each with a way back home; the 500 page
renders with no database."""

import pytest
from django.test import RequestFactory
from django.utils import translation

from geo_siac.web.database import server_error

BACK_HOME = {"es-cl": '<a href="/">Volver al inicio</a>', "en": '<a href="/">Back to the home page</a>'}


@pytest.mark.parametrize(
    ("language", "heading"),
    [
        ("es-cl", "No tiene acceso a esta página"),
        ("en", "You do not have access to this page"),
    ],
)
def test_a_page_the_role_may_not_use_answers_a_friendly_403(client, crews, language, heading):
    client.force_login(crews["member_a"])
    response = client.get("/operador/", HTTP_ACCEPT_LANGUAGE=language)
    html = response.content.decode()
    assert response.status_code == 403
    assert heading in html and BACK_HOME[language] in html
    assert f'<html lang="{language}">' in html


@pytest.mark.parametrize(
    ("language", "heading"),
    [
        ("es-cl", "No encontramos esta página"),
        ("en", "We could not find this page"),
    ],
)
def test_an_unknown_address_answers_a_friendly_404(client, db, language, heading):
    response = client.get("/no-existe/", HTTP_ACCEPT_LANGUAGE=language)
    html = response.content.decode()
    assert response.status_code == 404
    assert heading in html and BACK_HOME[language] in html


@pytest.mark.parametrize(("language", "heading"), [("es-cl", "Algo salió mal"), ("en", "Something went wrong")])
def test_a_server_error_answers_a_friendly_500_without_touching_the_database(language, heading):
    with translation.override(language):
        response = server_error(RequestFactory().get("/transparencia/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert heading in html and BACK_HOME[language] in html
    assert "csrfmiddlewaretoken" not in html
