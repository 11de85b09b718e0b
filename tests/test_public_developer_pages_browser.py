"""The pages a tester walked, in headless Chromium at a phone's and a laptop's size: each comuna's Carta de
Compromisos with its own figures, the month charts with the month in progress marked, and the developers' /open311/
and /api/docs/. No page scrolls sideways, and none logs a Content-Security-Policy violation. Screenshots go to
test-output/pub22/."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from geo_siac.reports.models import Report
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status
from geo_siac.testing import PENALOLEN_CENTRE, PROJECT_ROOT
from geo_siac.transparency.services import indicator_snapshots_refresh

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser
OUTPUT = PROJECT_ROOT / "test-output" / "pub22"
SIZES = {"telefono": (390, 844), "portatil": (1366, 768)}
PAGES = {
    "compromisos-penalolen": ("/comuna/penalolen/transparencia/compromisos/", "table.commitments"),
    "transparencia": ("/transparencia/", "#chart-months-partial-note"),
    "open311": ("/open311/", "#open311-links"),
    "api-docs": ("/api/docs/", ".swagger-ui .info"),
}


@pytest.fixture
def figures(make_report):
    """Requests of both comunas, some a month ago, so the charts have a whole month and the one in progress."""
    puente_alto = [make_report() for _ in range(4)]
    penalolen = [make_report(point=PENALOLEN_CENTRE) for _ in range(2)]
    for report in (*puente_alto, penalolen[0]):
        report_change_status(report=report, status="resolved", public_note=EXPLAINED_BY_CALLER)
    month_ago = timezone.now() - timedelta(days=31)
    Report.objects.filter(pk__in=[r.pk for r in (*puente_alto[:3], *penalolen)]).update(created_at=month_ago)
    indicator_snapshots_refresh()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", PAGES)
def test_the_walked_pages_fit_the_screen_and_run_under_the_policy(chromium, production_server, figures, name, size):
    from django.db import connections

    OUTPUT.mkdir(parents=True, exist_ok=True)
    width, height = SIZES[size]
    path, rendered = PAGES[name]
    context = chromium.new_context(viewport={"width": width, "height": height}, locale="es-CL")
    page = context.new_page()
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    try:
        page.goto(production_server.url + path, wait_until="load")
        page.wait_for_selector(rendered, state="attached", timeout=20_000)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=OUTPUT / f"{name}-{size}.png", full_page=True)
        overflow = page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")
    finally:
        context.close()
        connections.close_all()
    assert [text for text in messages if "Content Security Policy" in text] == []
    assert overflow <= 0


def test_the_api_docs_offer_a_file_picker_for_an_open311_posts_media(chromium, production_server, communes):
    from django.db import connections

    OUTPUT.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    messages = []
    # Swagger UI styles what "Try it out" opens from script: its inline styles must run under the policy too.
    page.on("console", lambda message: messages.append(message.text))
    try:
        page.goto(production_server.url + "/api/docs/")
        operation = page.locator(".opblock-post").filter(has_text="/open311/v2/requests")
        operation.locator(".opblock-summary").click()
        operation.get_by_role("button", name="Try it out").click()
        operation.locator(".opblock-section-request-body select").select_option("multipart/form-data")
        media = operation.locator("tr[data-property-name='media']")
        media.locator("input[type=file]").wait_for()
        media.scroll_into_view_if_needed()
        page.screenshot(path=OUTPUT / "api-docs-media-portatil.png")
        url_input = operation.locator("tr[data-property-name='media_url'] input[placeholder='media_url']")
        assert url_input.get_attribute("type") == "text"
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
        connections.close_all()
    assert [text for text in messages if "Content Security Policy" in text] == []
