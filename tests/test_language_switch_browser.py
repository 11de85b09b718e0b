"""The language switcher on a cached public page, in Chromium against the production server: a first-time visitor
holds no CSRF cookie, yet choosing English switches the page. Screenshot in test-output/language/."""

import os

import pytest

from geo_siac.testing import PROJECT_ROOT

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser
OUTPUT = PROJECT_ROOT / "test-output" / "language"


def test_first_visitor_of_a_cached_transparency_page_switches_to_english(chromium, production_server, communes):
    from django.db import connections

    OUTPUT.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(locale="es-CL")
    page = context.new_page()
    try:
        page.goto(production_server.url + "/transparencia/")
        context.clear_cookies()  # what a page from a cache brings: no csrftoken cookie
        with page.expect_navigation():
            page.select_option("#lang-select", "en")

        assert page.url == production_server.url + "/transparencia/"
        assert page.locator("html").get_attribute("lang") == "en"
        assert "Forbidden" not in page.content()
        assert [c["value"] for c in context.cookies() if c["name"] == "django_language"] == ["en"]
        page.screenshot(path=OUTPUT / "transparency-en.png", full_page=True)
    finally:
        context.close()
        connections.close_all()  # Playwright's greenlet has its own connection; it would block the database teardown
