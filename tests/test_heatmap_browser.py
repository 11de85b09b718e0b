"""The staff heat map as production serves it (gunicorn, DEBUG off, hashed static files): the page, the folium map in
its frame, and the HTML export with every static file it loads."""

import os
import re

import h3
import pytest

from geo_siac.testing import PENALOLEN_CENTRE, PUENTE_ALTO_CENTRE, browser_log_in, browser_user, staff_account

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser


def test_heat_map_its_folium_frame_and_the_html_export_work_in_production(
    chromium, production_server, make_report, django_user_model
):
    from django.db import connections

    make_report(point=PUENTE_ALTO_CENTRE)
    make_report(point=PENALOLEN_CENTRE, category="bache")
    browser_user(staff_account("planner", is_staff=True))
    context = chromium.new_context(locale="es-CL")
    page = context.new_page()
    try:
        browser_log_in(page, production_server.url, "planner", "/mapas/calor/")
        page.frame_locator("iframe").locator(".leaflet-container path.leaflet-interactive").first.wait_for()
        cells = page.frame_locator("iframe").locator(".leaflet-container path.leaflet-interactive").count()
        # The hexagons are drawn in the browser from the cells' H3 ids (h3-js); their tooltips are set as text.
        page.frame_locator("iframe").locator("path.leaflet-interactive[fill-opacity='0.7']").first.hover()
        tooltip = page.frame_locator("iframe").locator(".leaflet-tooltip").inner_text()
        export = page.request.get(production_server.url + page.get_attribute("text=Descargar HTML", "href"))
        html = export.text()
        static_files = sorted(set(re.findall(r'(?:src|href)="(/static/[^"]+)"', html)))
        missing = [path for path in static_files if page.request.get(production_server.url + path).status != 200]
    finally:
        context.close()
        connections.close_all()  # Playwright's greenlet has its own database connection

    assert cells >= 2
    drawn = {h3.latlng_to_cell(*point, 9) for point in (PUENTE_ALTO_CENTRE, PENALOLEN_CENTRE)}
    assert "Celda" in tooltip and "Solicitudes\t1" in tooltip and any(cell in tooltip for cell in drawn), tooltip
    assert export.status == 200
    assert export.headers["content-disposition"] == 'attachment; filename="mapa_calor_res9.html"'
    assert "/static/vendor/leaflet/1.9.3/leaflet.js" in static_files
    assert missing == []
