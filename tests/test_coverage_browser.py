"""The coverage page in headless Chromium, as production serves it: the map's layer list is a closed button that
leaves the comuna in view on a phone and a desktop, and the legend under the map gives its colours."""

import os

import pytest

from geo_siac.testing import PROJECT_ROOT, browser_log_in, browser_user, staff_account
from tests.test_coverage_page import puente_alto  # noqa: F401 (fixture)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser

OUTPUT = PROJECT_ROOT / "test-output" / "coverage"
COVERAGE = "/mapas/cobertura/?commune=13201&res=9&thresholds=500,1000,2000&catchment_m=2000&k=2"


@pytest.mark.parametrize("width", [390, 1280])
def test_the_layer_list_starts_as_a_button_and_the_legend_names_the_sites_colours(
    chromium,
    production_server,
    puente_alto,  # noqa: F811
    width,
):
    import h3.api.basic_int as h3i
    from django.db import connections

    from geo_siac.geocoding.models import EntryKind
    from geo_siac.geocoding.services import Entry, gazetteer_load
    from geo_siac.zones.models import PopulationCell

    corners = [
        Entry(EntryKind.INTERSECTION, f"Calle {n} / Esq. Pasaje {n}", lng + 0.0003, lat, f"i{n}", cut="13201")
        for n, (lat, lng) in enumerate(
            h3i.cell_to_latlng(cell) for cell in PopulationCell.objects.values_list("cell", flat=True)
        )
    ]
    gazetteer_load(source="prueba", entries=corners, commit=True)
    browser_user(staff_account("planner", is_staff=True))
    OUTPUT.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(locale="es-CL", viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        browser_log_in(page, production_server.url, "planner", "/mapas/cobertura/")
        page.goto(production_server.url + COVERAGE)
        frame = page.frame_locator("iframe.coverage-map")
        control = frame.locator(".leaflet-control-layers")
        control.wait_for()
        box = control.bounding_box()
        expanded = "leaflet-control-layers-expanded" in (control.get_attribute("class") or "")
        legend = page.locator("#coverage-legend")
        legend.scroll_into_view_if_needed()
        legend_text = legend.inner_text()
        first_site = page.locator("table.sites td.place").first.inner_text()
        page.locator("iframe.coverage-map").screenshot(path=OUTPUT / f"map-{width}.png")
        page.screenshot(path=OUTPUT / f"page-{width}.png", full_page=True)
        control.hover()
        opened = "leaflet-control-layers-expanded" in (control.get_attribute("class") or "")
    finally:
        context.close()
        connections.close_all()  # Playwright's greenlet has its own database connection

    assert not expanded and box["width"] < 60 and box["height"] < 60, box
    assert opened  # the list is one hover (or tap) away
    assert "Sitio propuesto (voraz)" in legend_text and "Sitio óptimo (programa entero)" in legend_text
    assert "hasta 500 m" in legend_text
    assert first_site.startswith("cerca de Calle ") and "\n-33." in first_site  # the corner, then the coordinates
