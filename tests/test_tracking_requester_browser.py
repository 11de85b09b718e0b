"""The tracking page at a phone's size (390x844), in Chromium against the production server: the browser that filed
a request sees the place it typed and its text; another browser holding only the code does not. Screenshots in
test-output/cit23/."""

import os

import pytest
from playwright.sync_api import expect

from geo_siac.testing import PROJECT_ROOT, PUENTE_ALTO_CENTRE

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser
OUTPUT = PROJECT_ROOT / "test-output" / "cit23"
PHONE = {"width": 390, "height": 844}
TEXT = "Escombros frente a mi casa; pregunten por la señora Marta Soto."
PLACE = "Pasaje Los Aromos 1234"


def test_the_requester_sees_what_and_where_they_asked_a_stranger_with_the_code_does_not(
    chromium, production_server, communes
):
    from django.db import connections

    OUTPUT.mkdir(parents=True, exist_ok=True)
    mine = chromium.new_context(viewport=PHONE, locale="es-CL")
    stranger = chromium.new_context(viewport=PHONE, locale="es-CL")
    try:
        page = mine.new_page()
        page.goto(production_server.url + "/")
        page.locator(".leaflet-interactive").first.wait_for()
        page.click(".coords-details summary")  # typed, as a phone's narrow map is no place to aim a test's tap
        page.fill("#id_lat", str(PUENTE_ALTO_CENTRE[0]))
        page.fill("#id_long", str(PUENTE_ALTO_CENTRE[1]))
        page.select_option("#id_service_code", "retiro-escombros")
        page.select_option("#q-retiro-escombros-volumen", "1-3m3")
        page.fill("#id_address", PLACE)
        page.fill("#id_description", TEXT)
        page.click("#submit-report")
        code = page.locator("#tracking-code").text_content().strip()
        # The no-contact sentence names no link: the link's text is on the page once.
        expect(page.locator("#notified")).to_contain_text("Guarde el código o esta página")
        expect(page.get_by_text("Ver el seguimiento")).to_have_count(1)
        page.screenshot(path=OUTPUT / "1-confirmation-requester.png", full_page=True)

        page.click("a:text-is('Ver el seguimiento')")
        expect(page.locator("#own-place")).to_have_text(PLACE)
        expect(page.locator("#own-text")).to_have_text(TEXT)
        expect(page.locator("#own-only")).to_be_visible()
        page.screenshot(path=OUTPUT / "2-tracking-requester.png", full_page=True)

        other = stranger.new_page()
        other.goto(f"{production_server.url}/seguimiento/{code}/")
        expect(other.locator("#status")).to_have_text("Recibida")
        html = other.content()
        assert "Los Aromos" not in html and "Marta Soto" not in html and 'id="own-request"' not in html
        other.screenshot(path=OUTPUT / "3-tracking-stranger.png", full_page=True)
        # Neither page scrolls sideways at a phone's width.
        for shown in (page, other):
            assert shown.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        mine.close()
        stranger.close()
        connections.close_all()  # Playwright's greenlet has its own connection; it would block the database teardown
