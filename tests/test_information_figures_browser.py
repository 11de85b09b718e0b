"""The Ley 20.285 figures page in headless Chromium on a phone: the year selector switches years and the table
stays within the screen (it scrolls sideways inside its region if it must); a count below k reads "menos de 5"."""

import os

import pytest
from playwright.sync_api import expect, sync_playwright

from geo_siac.testing import PROJECT_ROOT, chromium_launch
from geo_siac.transparency.tests.test_information_figures import requests_of_two_years  # noqa: F401 (fixture)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

OUTPUT = PROJECT_ROOT / "test-output" / "information_figures"


@pytest.mark.browser
def test_the_yearly_figures_page_on_a_phone(production_server, requests_of_two_years):  # noqa: F811
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        phone = browser.new_context(
            viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, locale="es-CL"
        ).new_page()
        phone.goto(production_server.url + "/transparencia/")
        phone.click("text=Acceso a información pública (Ley 20.285)")
        expect(phone.locator("#info-received")).to_have_text("10")
        phone.screenshot(path=OUTPUT / "1-year-2026-phone.png", full_page=True)
        phone.select_option("#year-select", "2025")
        phone.click(".period-form button[type=submit]")
        expect(phone.locator("#info-received")).to_have_text("1")
        expect(phone.locator("#info-answered_in_time")).to_have_text("menos de 5")  # k = 5: one request
        phone.screenshot(path=OUTPUT / "2-year-2025-phone.png", full_page=True)
        width = phone.evaluate("document.documentElement.scrollWidth")
        browser.close()
    assert width <= 390
