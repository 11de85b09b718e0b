"""The planners' heat map and coverage pages in Chromium at 1366x768, as production serves them: the legend follows
the layers on, the map opens on the chosen comuna, and the printed page keeps the map, legend and tables but not the
navigation. Screenshots (screen and print) go to test-output/plan23/."""

import os
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from geo_siac.maps.tests.conftest import import_synthetic
from geo_siac.testing import PROJECT_ROOT, browser_log_in, browser_user, staff_account

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser

SHOTS = PROJECT_ROOT / "test-output" / "plan23"
VIEWPORT = {"width": 1366, "height": 768}
# window.print opens no dialog under Playwright; counting its calls shows the button asked for it.
# The zoom of the folium map in a frame (folium names its map map_<id>, a global of the frame's window).
MAP_ZOOM = "Object.keys(window).filter((k) => /^map_[0-9a-f]+$/.test(k)).map((k) => window[k].getZoom())[0]"
COUNT_PRINTS = "window.__prints = 0; window.print = function () { window.__prints += 1; };"


def _open(chromium, production_server, path):
    browser_user(staff_account("planner", is_staff=True))
    context = chromium.new_context(viewport=VIEWPORT, locale="es-CL")
    context.add_init_script(COUNT_PRINTS)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    browser_log_in(page, production_server.url, "planner", quote(path))
    return context, page, errors


def _switch(frame, layer: str) -> None:
    """Turn `layer` on or off in the layer list, opened first: it folds back into its button after a change.
    Clicked, not check(): Leaflet draws the list anew on each change, which check() takes for no change."""
    frame.locator(".leaflet-control-layers").hover()
    frame.get_by_role("checkbox", name=layer).click()


def _fills_the_map(outline: dict, map_box: dict) -> float:
    """How much of the map the comuna's outline fills, once inside it: of the larger of its width and height, the
    smaller of the two shares must be at least 30 %, so a comuna shown as a sliver fails too."""
    assert map_box["x"] - 1 <= outline["x"] and outline["x"] + outline["width"] <= map_box["x"] + map_box["width"] + 1
    assert map_box["y"] - 1 <= outline["y"] and outline["y"] + outline["height"] <= map_box["y"] + map_box["height"] + 1
    shares = sorted((outline["width"] / map_box["width"], outline["height"] / map_box["height"]))
    assert shares[0] >= 0.3, shares
    return shares[1]


def _printed_without_navigation(page, name: str) -> None:
    page.emulate_media(media="print")
    for hidden in (page.locator(".staff-nav"), page.locator("#lang-select"), page.get_by_role("button", name="Salir")):
        expect(hidden).to_be_hidden()
    expect(page.get_by_role("button", name="Imprimir")).to_be_hidden()
    expect(page.locator("main form")).to_be_hidden()
    page.screenshot(path=SHOTS / f"{name}-print.png", full_page=True)
    page.emulate_media(media="screen")
    expect(page.locator(".staff-nav")).to_be_visible()


def test_heat_map_legend_follows_the_layers_the_map_fits_the_comuna_and_prints_without_navigation(
    chromium, production_server, communes, tmp_path
):
    from django.db import connections

    SHOTS.mkdir(parents=True, exist_ok=True)
    import_synthetic(tmp_path, 3000)
    context, page, errors = _open(chromium, production_server, "/mapas/calor/?comuna=13201&res=9")
    try:
        frame = page.frame_locator("iframe.heatmap-frame")
        frame.locator("path.leaflet-interactive[fill-opacity='0.7']").first.wait_for()
        counts = frame.locator('.map-legend[data-legend="cells"]')
        hotspots = frame.locator('.map-legend[data-legend="hotspots"]')
        expect(counts).to_be_visible()
        expect(hotspots).to_be_hidden()
        outline = frame.locator("path[stroke='#222222']").first.bounding_box()
        page.screenshot(path=SHOTS / "heatmap-counts.png", full_page=True)
        filled = _fills_the_map(outline, frame.locator(".folium-map").bounding_box())
        map_frame = page.locator("iframe.heatmap-frame").element_handle().content_frame()
        height = frame.locator(".folium-map").bounding_box()["height"]
        zoom = map_frame.evaluate(MAP_ZOOM)
        frame.locator(".leaflet-control-zoom-in").click()
        map_frame.wait_for_function(f"({MAP_ZOOM}) > {zoom}")
        zoomed = map_frame.evaluate(MAP_ZOOM)

        _switch(frame, "Todas las categorías")
        _switch(frame, "Puntos calientes y fríos (Gi*, FDR)")
        expect(counts).to_be_hidden()
        expect(hotspots).to_be_visible()
        page.wait_for_timeout(300)  # a resize would refit on Leaflet's next animation frame
        # The reader's zoom stands, and the legends' box keeps its height: the map neither refits nor jumps.
        after = (map_frame.evaluate(MAP_ZOOM), frame.locator(".folium-map").bounding_box()["height"])
        expect(hotspots).to_contain_text("Caliente, 99 % de confianza")
        expect(hotspots).to_contain_text("Frío, 90 % de confianza")
        expect(hotspots).to_contain_text("FDR")
        page.screenshot(path=SHOTS / "heatmap-hotspots-only.png", full_page=True)
        _switch(frame, "Todas las categorías")
        expect(counts).to_be_visible()
        expect(hotspots).to_be_visible()
        page.screenshot(path=SHOTS / "heatmap-both-legends.png", full_page=True)

        expect(page.locator("details.csv-columns")).to_contain_text("hotspot")
        page.get_by_role("button", name="Imprimir").click()
        prints = page.evaluate("window.__prints")
        _printed_without_navigation(page, "heatmap")
        expect(page.locator("iframe.heatmap-frame")).to_be_visible()
    finally:
        context.close()
        connections.close_all()  # Playwright's greenlet has its own database connection

    assert filled >= 0.7, filled
    assert zoomed == zoom + 1 and after == (zoomed, height), (zoom, zoomed, height, after)
    assert prints == 1
    assert errors == []


def test_coverage_page_fits_the_comuna_says_unticked_kinds_mean_all_and_prints_without_navigation(
    chromium, production_server, communes
):
    from django.db import connections

    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page, errors = _open(chromium, production_server, "/mapas/cobertura/?commune=13122")
    try:
        kinds = page.get_by_role("group", name="Tipos")
        expect(kinds.locator(".ticked")).to_have_text("Sin marcar: todos.")
        frame = page.frame_locator("iframe.coverage-map")
        frame.locator("path[stroke='#333']").first.wait_for()
        outline = frame.locator("path[stroke='#333']").first.bounding_box()
        filled = _fills_the_map(outline, frame.locator(".folium-map").bounding_box())
        expect(page.locator(".population-source")).to_contain_text("Población:")
        page.locator("iframe.coverage-map").scroll_into_view_if_needed()
        page.screenshot(path=SHOTS / "coverage.png", full_page=True)
        kinds.get_by_label("OIRS").check()
        expect(kinds.locator(".ticked")).to_have_text("Marcados: OIRS")
        page.get_by_role("button", name="Imprimir").click()
        prints = page.evaluate("window.__prints")
        _printed_without_navigation(page, "coverage")
        expect(page.locator("table.indicators").first).to_be_visible()
        expect(page.locator("#coverage-legend")).to_be_visible()
    finally:
        context.close()
        connections.close_all()

    assert filled >= 0.7, filled
    assert prints == 1
    assert errors == []


def test_the_print_button_shown_moves_nothing_below_it(chromium, production_server, communes):
    from django.db import connections

    context, page, errors = _open(chromium, production_server, "/mapas/calor/?comuna=13201&res=9")
    try:
        page.get_by_role("button", name="Imprimir").wait_for()
        shown = page.locator("iframe.heatmap-frame").bounding_box()["y"]
        page.evaluate("document.querySelector('button[data-print]').hidden = true")
        hidden = page.locator("iframe.heatmap-frame").bounding_box()["y"]
    finally:
        context.close()
        connections.close_all()

    assert abs(shown - hidden) <= 1, (shown, hidden)  # half a pixel of baseline rounding
    assert errors == []
