"""A vecina's walk from a comuna's page, in Chromium against the production server: the kind's form comes with the
comuna chosen, so the first submit files it; the confirmation and the tracking page count the same business days;
the tracking page's follow form speaks to someone else. Screenshots in test-output/citizen_walk/."""

import os
import re

import pytest
from playwright.sync_api import expect

from geo_siac.testing import PROJECT_ROOT

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser
OUTPUT = PROJECT_ROOT / "test-output" / "citizen_walk"


def test_a_complaint_from_a_comunas_page_is_filed_at_once_and_counted_in_business_days(
    chromium, production_server, communes
):
    from django.db import connections

    OUTPUT.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport={"width": 1000, "height": 1100}, locale="es-CL")
    page = context.new_page()
    try:
        page.goto(production_server.url + "/comuna/penalolen/")
        page.click("#other-kinds")
        page.click("#kind-reclamo")
        expect(page.locator("#id_commune")).to_have_value("13122")
        page.select_option("#id_service_code", "reclamo-servicio")
        page.fill("#id_description", "Nadie contesta el teléfono de la oficina de partes.")
        page.fill("#id_reporter_email", "vecina@example.cl")
        page.check("#id_consent")
        page.screenshot(path=OUTPUT / "1-complaint-form.png", full_page=True)
        page.click("#submit-request")

        expect(page.locator("#tracking-code")).to_be_visible()
        promised = re.search(r"\((\d+) días? hábil(?:es)?\)", page.locator("main").inner_text())[1]
        page.screenshot(path=OUTPUT / "2-filed.png", full_page=True)
        page.click("a:text-is('Ver el seguimiento')")

        countdown = page.locator("#countdown").inner_text()
        assert re.fullmatch(rf"quedan? {promised} días? hábil(es)?", countdown)
        expect(page.locator("#follow-others")).to_contain_text("¿Otra persona quiere recibir los avisos?")
        assert "vecina@example.cl" not in page.content()
        page.screenshot(path=OUTPUT / "3-tracking.png", full_page=True)
    finally:
        context.close()
        connections.close_all()  # Playwright's greenlet has its own connection; it would block the database teardown
