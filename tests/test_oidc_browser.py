"""Sign-in to "Mis solicitudes" through an OpenID Connect provider in Chromium, on a phone: the button, the
provider's own login and consent pages (node-oidc-provider on loopback), and back to the citizen's list. What only a
browser shows: the page's Content-Security-Policy lets the button reach the provider, and the session cookie comes
back with the provider's redirect."""

import os

import pytest

from geo_siac.citizens.tests.test_oidc import ACCOUNTS, CLIENT_ID, CLIENT_SECRET, ROSA, configure
from geo_siac.testing import OidcProvider

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def provider_for(live_server, settings, tmp_path):
    """A provider whose client sends the browser back to the live server, and GeoSIAC configured for it."""
    settings.SITE_URL = live_server.url
    provider = OidcProvider(
        tmp_path,
        accounts=ACCOUNTS,
        clients=[
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
                "redirect_uris": [live_server.url + "/mis-solicitudes/oidc/vuelta/"],
            }
        ],
    )
    provider.start()
    configure(settings, provider.issuer)
    yield provider
    provider.stop()


@pytest.fixture
def phone_page(chromium):
    from django.db import connections

    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="es-CL")
    yield context.new_page()
    context.close()
    connections.close_all()  # Playwright's greenlet has its own connection; it would block the database teardown


def provider_sign_in(page, provider: OidcProvider, login: str) -> None:
    page.wait_for_url(provider.issuer + "/interaction/**")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "cualquiera")
    page.click("button[type=submit]")
    page.wait_for_url(provider.issuer + "/interaction/**")
    page.click("button[type=submit] >> text=Continue")  # the consent page


def test_citizen_signs_in_through_the_provider_and_sees_their_requests(
    phone_page, live_server, provider_for, make_report
):
    page = phone_page
    mine = make_report(reporter_email=ROSA, description="Luminaria apagada.")
    others = make_report(reporter_email="otra@example.cl")

    page.goto(live_server.url + "/mis-solicitudes/ingresar/")
    page.click("#oidc-sign-in >> text=Entrar con ClaveÚnica de prueba")
    provider_sign_in(page, provider_for, "rosa")

    page.wait_for_url(live_server.url + "/mis-solicitudes/")
    listing = page.locator("#filed").inner_text()
    assert mine.tracking_code in listing and others.tracking_code not in listing


def test_an_unverified_email_ends_on_a_clear_page_and_not_signed_in(phone_page, live_server, provider_for, db):
    page = phone_page
    page.goto(live_server.url + "/mis-solicitudes/ingresar/")
    page.click("#oidc-sign-in")
    provider_sign_in(page, provider_for, "pedro")

    page.wait_for_url(live_server.url + "/mis-solicitudes/oidc/vuelta/**")
    assert "no confirma que su correo esté verificado" in page.locator("#oidc-error").inner_text()
    page.goto(live_server.url + "/mis-solicitudes/")
    assert page.url == live_server.url + "/mis-solicitudes/ingresar/"
