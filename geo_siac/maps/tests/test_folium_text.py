"""Names from imported files are text on folium maps: never markup, never script (folium does not escape)."""

import ast
import os

import pytest

from geo_siac.maps.folium_offline import offline_map
from geo_siac.maps.folium_text import circle_marker, geojson_layer, layer_control, map_text
from geo_siac.testing import PROJECT_ROOT

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

HOSTILE = 'Posta `${document.title="pwned"}` <img src="x" id="injected"> \\u & "ñ"'
CENTRE = [-33.6117, -70.5758]


def test_map_text_escapes_markup_and_the_template_literal():
    text = map_text(HOSTILE)
    assert not set("<>`$\\") & set(text)
    assert text.startswith("Posta &#96;&#36;{document.title=&quot;pwned&quot;}&#96; &lt;img")


@pytest.mark.browser
def test_a_hostile_name_reads_as_itself_in_a_chromium_tooltip_and_runs_nothing(chromium, production_server, tmp_path):
    fmap = offline_map(production_server.url + "/static/", location=CENTRE, zoom_start=14)
    circle_marker(CENTRE, radius=40, tooltip=HOSTILE).add_to(fmap)
    west, south = CENTRE[1] + 0.004, CENTRE[0] - 0.002
    square = [[west, south], [west + 0.003, south], [west + 0.003, south + 0.003], [west, south + 0.003], [west, south]]
    zone = {
        "type": "Feature",
        "properties": {"name": HOSTILE},
        "geometry": {"type": "Polygon", "coordinates": [square]},
    }
    geojson_layer(
        {"type": "FeatureCollection", "features": [zone]},
        name=HOSTILE,
        style_function=lambda _: {},
        tooltip={"name": HOSTILE},
    ).add_to(fmap)
    layer_control(fmap)
    path = tmp_path / "map.html"
    path.write_text(fmap.get_root().render(), encoding="utf-8")

    page = chromium.new_page(viewport={"width": 800, "height": 600})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri())
    page.wait_for_selector("path.leaflet-interactive")
    shapes = page.locator("path.leaflet-interactive")
    for index in range(shapes.count()):
        shapes.nth(index).dispatch_event("mouseover")
        page.wait_for_selector(".leaflet-tooltip")
        assert HOSTILE in page.locator(".leaflet-tooltip").last.inner_text()
    assert HOSTILE in page.locator(".leaflet-control-layers").inner_text()
    title = page.title()
    injected = page.locator("#injected").count()
    page.close()
    assert errors == [] and injected == 0 and title != "pwned"


def test_no_module_but_folium_text_builds_folium_elements():
    """So no name reaches a map but through map_text (folium_offline makes the empty offline map; tests may)."""
    importers = set()
    for path in (PROJECT_ROOT / "geo_siac").rglob("*.py"):
        if "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(name.split(".")[0] in ("folium", "branca") for name in names):
                importers.add(str(path.relative_to(PROJECT_ROOT)))
    assert importers == {"geo_siac/maps/folium_text.py", "geo_siac/maps/folium_offline.py"}
