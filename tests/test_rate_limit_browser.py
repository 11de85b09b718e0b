"""A citizen past the new requests' limit, on a phone in headless Chromium: the information-request form comes back
with what they typed, saying in how many minutes they can send it and where to go in person."""

import os
from time import time

import pytest
from playwright.sync_api import expect, sync_playwright

from geo_siac.reports.models import Report
from geo_siac.testing import PROJECT_ROOT, chromium_launch
from geo_siac.web.models import RateCounter
from geo_siac.web.ratelimit import client_network

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

OUTPUT = PROJECT_ROOT / "test-output" / "rl22"
TEXT = "Copia de los contratos de recolección de basura vigentes en 2025, con sus anexos."


@pytest.mark.browser
def test_a_refused_information_request_keeps_its_text_and_says_when_to_send_it(production_server, communes):
    # The connection's budget already spent, in a window with 12 minutes left (the server counts by its peer).
    for address in ("127.0.0.1", "::1"):
        key = f"submissions:{client_network(address)}"
        RateCounter.objects.create(key=key, window_end=int(time()) + 12 * 60, count=1000)
    OUTPUT.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        page = browser.new_page(viewport={"width": 390, "height": 844}, locale="es-CL")
        page.goto(production_server.url + "/solicitud/acceso-informacion/")
        page.select_option("#id_commune", "13201")
        page.fill("#id_description", TEXT)
        page.fill("#id_reporter_name", "Rosa Díaz")
        page.fill("#id_reporter_email", "rosa@example.cl")
        page.check("#id_consent")
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.click("#submit-request")
        assert posted.value.status == 429
        notice = page.locator("#rate-limited")
        expect(notice).to_contain_text("Podrá enviar otra solicitud en 12 minutos.")
        expect(notice.get_by_role("link", name="puntos de atención y sus horarios")).to_be_visible()
        expect(page.locator("#id_description")).to_have_value(TEXT)
        expect(page.locator("#id_reporter_name")).to_have_value("Rosa Díaz")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
        page.screenshot(path=OUTPUT / "refused-information-request-390.png", full_page=True)
        page.locator("#rate-limited").screenshot(path=OUTPUT / "refused-notice-390.png")
        browser.close()
    assert Report.objects.count() == 0
