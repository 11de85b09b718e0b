"""The planner's heat map with the counts and the hotspots on at once, as production serves it: both keys read whole
in the window on a 1366x768 desktop and on a 390x844 phone (where a key folds), the map keeps its size, the PNG
carries a key for every layer it draws, and the printed page keeps the map and both keys without CSS :has().
Screenshots go to test-output/plan24/."""

import io
import os
import re
from urllib.parse import quote

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from geo_siac.maps.heatmap import HOTSPOT_COLOURS
from geo_siac.maps.tests.conftest import import_synthetic
from geo_siac.testing import PROJECT_ROOT, browser_log_in, browser_user, staff_account

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser

SHOTS = PROJECT_ROOT / "test-output" / "plan24"
PAGE = "/mapas/calor/?comuna=13201&res=9"
HOTSPOTS = "Puntos calientes y fríos (Gi*, FDR)"


def _open(chromium, production_server, viewport):
    browser_user(staff_account("planner", is_staff=True))
    context = chromium.new_context(viewport=viewport, locale="es-CL")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    browser_log_in(page, production_server.url, "planner", quote(PAGE))
    frame = page.frame_locator("iframe.heatmap-frame")
    frame.locator("path.leaflet-interactive[fill-opacity='0.7']").first.wait_for()
    page.locator("iframe.heatmap-frame").scroll_into_view_if_needed()
    return context, page, frame, errors


def _hotspots_on(page, frame) -> None:
    frame.locator(".leaflet-control-layers").hover()
    frame.get_by_role("checkbox", name=HOTSPOTS).click()
    page.mouse.move(0, 0)  # the layer list folds back
    expect(frame.locator('.map-legend[data-legend="hotspots"]')).to_be_visible()
    page.wait_for_timeout(300)  # a resize would show on Leaflet's next animation frame


def _hidden_items(page, frame, key: str) -> list[str]:
    """The items of the `key` legend that are not whole inside both the legends' box and the window."""
    box = frame.locator(".map-legends").bounding_box()
    window = page.viewport_size
    hidden = []
    for item in frame.locator(f'.map-legend[data-legend="{key}"] li').all():
        b = item.bounding_box()
        inside = (
            b["y"] >= max(box["y"], 0) - 1
            and b["y"] + b["height"] <= min(box["y"] + box["height"], window["height"]) + 1
            and b["x"] >= -1
            and b["x"] + b["width"] <= window["width"] + 1
        )
        if not inside:
            hidden.append(item.inner_text())
    return hidden


def _map_height(frame) -> float:
    return frame.locator(".folium-map").bounding_box()["height"]


def _runs(mask: np.ndarray, length: int) -> list[tuple[int, int, int]]:
    """(row, first column, last column) of each horizontal run of at least `length` True pixels."""
    found = []
    for row in np.flatnonzero(mask.any(axis=1)):
        columns = np.flatnonzero(mask[row])
        breaks = np.flatnonzero(np.diff(columns) > 1)
        for start, end in zip(np.r_[0, breaks + 1], np.r_[breaks, len(columns) - 1], strict=True):
            if columns[end] - columns[start] + 1 >= length:
                found.append((int(row), int(columns[start]), int(columns[end])))
    return found


def _colour(css: str) -> tuple[int, int, int]:
    return tuple(int(part) for part in re.findall(r"\d+", css)[:3])


def test_both_legends_read_whole_on_a_desktop_and_the_png_has_a_key_for_every_layer_it_draws(
    chromium, production_server, communes, tmp_path
):
    from django.db import connections

    SHOTS.mkdir(parents=True, exist_ok=True)
    import_synthetic(tmp_path, 3000)
    context, page, frame, errors = _open(chromium, production_server, {"width": 1366, "height": 768})
    try:
        height = _map_height(frame)
        _hotspots_on(page, frame)
        page.screenshot(path=SHOTS / "desktop-both-legends.png")
        hidden = {key: _hidden_items(page, frame, key) for key in ("cells", "hotspots")}
        counted = frame.locator('.map-legend[data-legend="cells"] li').count()
        after = _map_height(frame)
        colours = [
            _colour(swatch.evaluate("s => getComputedStyle(s).backgroundColor"))
            for swatch in frame.locator('.map-legend[data-legend="cells"] .swatch').all()
        ]

        with page.expect_download() as download:
            page.get_by_role("link", name="Descargar PNG").click()
        png = open(download.value.path(), "rb").read()
        (SHOTS / "export.png").write_bytes(png)
    finally:
        context.close()
        connections.close_all()  # Playwright's greenlet has its own database connection

    assert counted >= 3 and hidden == {"cells": [], "hotspots": []}, hidden
    assert after == height, (height, after)  # the second key took no room from the map
    assert errors == []

    image = Image.open(io.BytesIO(png))
    assert image.text["Title"] == "Mapa de calor de solicitudes" and "Comunas: Puente Alto" in image.text["Description"]
    pixels = np.asarray(image.convert("RGB")).astype(int)
    width = pixels.shape[1]
    # The hotspots' key: an outline swatch in the hot colour, its two long sides the only runs of 20 px or more in that
    # colour (a drawn cell's outline is a few pixels per side), right of the map and hollow (the page's background).
    hot = np.all(pixels == _rgb(HOTSPOT_COLOURS[3]), axis=2)
    sides = _runs(hot, 20)
    assert len(sides) >= 2, sides
    top, bottom = min(row for row, _, _ in sides), max(row for row, _, _ in sides)
    left, right = sides[0][1], sides[0][2]
    assert left > width * 0.6, (left, width)
    assert tuple(pixels[(top + bottom) // 2, (left + right) // 2]) == (255, 255, 255)
    # The counts' key, above it in the same column: a filled swatch of each class colour the page's key shows.
    column = pixels[:top, left : right + 1]
    for colour in colours:
        assert _runs(np.all(column == colour, axis=2), 20), colour


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def test_on_a_phone_both_legends_show_and_one_folds_to_read_the_other_whole(
    chromium, production_server, communes, tmp_path
):
    from django.db import connections

    SHOTS.mkdir(parents=True, exist_ok=True)
    import_synthetic(tmp_path, 3000)
    context, page, frame, errors = _open(chromium, production_server, {"width": 390, "height": 844})
    try:
        height = _map_height(frame)
        _hotspots_on(page, frame)
        page.screenshot(path=SHOTS / "phone-both-legends.png")
        shown = _map_height(frame)
        counts = frame.get_by_role("button", name="Solicitudes por celda H3")
        counts.click()
        expect(counts).to_have_attribute("aria-expanded", "false")
        page.screenshot(path=SHOTS / "phone-counts-folded.png")
        folded = (_map_height(frame), _hidden_items(page, frame, "hotspots"))
        counts.click()
        expect(frame.locator('.map-legend[data-legend="cells"] li').first).to_be_visible()
    finally:
        context.close()
        connections.close_all()

    assert shown == height and folded == (height, []), (height, shown, folded)
    assert errors == []


def test_the_printed_heat_map_keeps_both_legends_without_css_has(chromium, production_server, communes, tmp_path):
    from django.db import connections

    SHOTS.mkdir(parents=True, exist_ok=True)
    import_synthetic(tmp_path, 3000)
    context, page, frame, errors = _open(chromium, production_server, {"width": 1366, "height": 768})
    try:
        _hotspots_on(page, frame)
        frame.get_by_role("button", name="Solicitudes por celda H3").click()  # folded on screen, whole on paper
        marked = page.evaluate("document.documentElement.classList.contains('map-print')")
        page.emulate_media(media="print")
        expect(page.locator(".staff-nav")).to_be_hidden()
        expect(page.locator(".heatmap-exports")).to_be_hidden()
        frame_box = page.locator("iframe.heatmap-frame").bounding_box()
        outside = []
        for key in ("cells", "hotspots"):
            for item in frame.locator(f'.map-legend[data-legend="{key}"] li').all():
                expect(item).to_be_visible()
                b = item.bounding_box()
                if not (frame_box["y"] <= b["y"] and b["y"] + b["height"] <= frame_box["y"] + frame_box["height"]):
                    outside.append(item.inner_text())
        page.screenshot(path=SHOTS / "print.png", full_page=True)
        page.emulate_media(media="screen")
    finally:
        context.close()
        connections.close_all()

    assert marked and outside == []
    assert errors == []


def test_the_print_stylesheet_does_not_rely_on_css_has():
    css = (PROJECT_ROOT / "geo_siac" / "static" / "geo_siac" / "site.css").read_text()
    printed = "".join(print_blocks(css))
    assert ":has(" not in printed and ".map-print .heatmap-frame" in printed


def print_blocks(css: str) -> list[str]:
    """Every `@media print { ... }` block of `css`, up to its own closing brace."""
    blocks, start = [], css.find("@media print")
    while start != -1:
        depth, end = 0, css.index("{", start)
        while True:
            depth += {"{": 1, "}": -1}.get(css[end], 0)
            if depth == 0:
                break
            end += 1
        blocks.append(css[start : end + 1])
        start = css.find("@media print", end)
    return blocks
