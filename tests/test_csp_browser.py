"""The Content-Security-Policy lets the pages work: no violation in headless Chromium's console on the report
page (Leaflet), the Swagger page and the staff coverage page (folium in an iframe)."""

import os

import pytest

from geo_siac.testing import staff_account
from tests.test_coverage_page import puente_alto  # noqa: F401 (fixture)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser


@pytest.fixture
def staff_session(client, production_server):
    """A staff session the production server accepts (it shares the test's SECRET_KEY)."""
    client.force_login(staff_account("planner", is_staff=True))
    return client.cookies["sessionid"].value


def csp_violations(chromium, url: str, rendered: str, cookies: list[dict] | None = None) -> list[str]:
    """Console CSP messages once the page has rendered the element `rendered` (proof its scripts ran)."""
    from django.db import connections

    context = chromium.new_context()
    if cookies:
        context.add_cookies(cookies)
    page = context.new_page()
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    try:
        page.goto(url, wait_until="load")
        page.wait_for_selector(rendered, state="attached", timeout=20_000)
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
        connections.close_all()
    return [text for text in messages if "Content Security Policy" in text or "Content-Security-Policy" in text]


def test_report_page_runs_under_the_policy(chromium, production_server, communes):
    assert csp_violations(chromium, production_server.url + "/", "#map .leaflet-marker-pane") == []


def test_swagger_page_runs_under_the_policy(chromium, production_server):
    assert csp_violations(chromium, production_server.url + "/api/docs/", ".swagger-ui .info") == []


def test_coverage_page_with_its_folium_map_runs_under_the_policy(
    chromium,
    production_server,
    puente_alto,  # noqa: F811
    staff_session,
):
    cookie = {"name": "sessionid", "value": staff_session, "url": production_server.url}
    assert csp_violations(chromium, production_server.url + "/mapas/cobertura/", "iframe.coverage-map", [cookie]) == []


def test_admin_map_widget_runs_under_the_policy(chromium, production_server, make_report, staff_session):
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(username="planner").update(is_superuser=True)
    report = make_report()
    cookie = {"name": "sessionid", "value": staff_session, "url": production_server.url}
    url = f"{production_server.url}/admin/reports/report/{report.pk}/change/"
    assert csp_violations(chromium, url, ".dj_map canvas, .dj_map .ol-viewport", [cookie]) == []


def session_cookie(client, user, base_url: str) -> list[dict]:
    client.force_login(user)
    return [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base_url}]


def test_heat_map_and_its_folium_frame_run_under_the_policy(chromium, production_server, make_report, staff_session):
    make_report()
    base = production_server.url
    cookie = [{"name": "sessionid", "value": staff_session, "url": base}]
    assert csp_violations(chromium, base + "/mapas/calor/", "iframe", cookie) == []
    assert csp_violations(chromium, base + "/mapas/calor/mapa.html", ".leaflet-container", cookie) == []


def test_transparency_pages_and_the_embeddable_map_run_under_the_policy(chromium, production_server, communes):
    base = production_server.url
    assert csp_violations(chromium, base + "/transparencia/", "#transparency-map.leaflet-container") == []
    assert csp_violations(chromium, base + "/transparencia/mapa/", "#transparency-map.leaflet-container") == []


def test_crew_workspace_and_operator_console_run_under_the_policy(chromium, production_server, crews, client):
    base = production_server.url
    crew_cookie = session_cookie(client, crews["member_a"], base)
    assert csp_violations(chromium, base + "/cuadrilla/", "#crew-map.leaflet-container", crew_cookie) == []
    operator_cookie = session_cookie(client, crews["operator"], base)
    assert csp_violations(chromium, base + "/operador/", "#operator-map.leaflet-container", operator_cookie) == []
