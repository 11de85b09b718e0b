"""A citizen comes back with the code of a request whose year was archived (issue #26 point 3), on a phone against
the production server: the lookup form, with the code typed as printed on paper, leads to a page that says the
request was archived and the code is right, with nothing of the request, no sideways scroll and no axe finding."""

import os

import pytest

from geo_siac.reports.models import ReportKey
from geo_siac.testing import PROJECT_ROOT
from tests.test_accessibility_browser import axe_findings
from tests.test_my_reports_browser import PHONE, phone_page  # noqa: F401  (a fixture)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser
OUTPUT = PROJECT_ROOT / "test-output" / "archived_tracking"
CODE = "PA-JQP9-F5Q8"


def test_a_citizen_with_an_archived_code_is_told_it_was_archived(phone_page):  # noqa: F811
    ReportKey.objects.create(key=f"code:{CODE}", report=None, archived_year=2019)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page = phone_page
    page.goto(page.base_url + "/seguimiento/")
    page.fill("#id_codigo", "pa/jqp9/f5q8")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.screenshot(path=OUTPUT / "archived.png", full_page=True)
    heading = page.locator("h1")
    assert "archivada" in heading.inner_text().lower()
    assert CODE in page.content() and "2019" in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert axe_findings(page) == []
    # Where to ask next: the service points (the OIRS among them), or another code.
    page.click("text=Puntos de atención y sus horarios")
    assert page.url.endswith("/puntos-de-atencion/")
