"""Names are text on the staff folium maps: a comuna, zone, crew, category, category group or service point named
like an <img onerror> tag opens no dialog in the coverage page, the heat map page or their folium frames, with
every layer listed and every shape's tooltip opened."""

import os

import pytest

from geo_siac.catalogue.models import Category, CategoryGroup
from geo_siac.testing import EAST_POINT, PUENTE_ALTO_CENTRE, WEST_POINT
from geo_siac.zones.models import Commune, Crew, ServicePoint, Zone
from tests.test_coverage_page import puente_alto  # noqa: F401 (fixture)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser

COVERAGE = "/mapas/cobertura/?commune=13201&res=9&thresholds=500,1000&catchment_m=2000&k=1"
HEAT_MAP = "/mapas/calor/?res=9&comuna=13201"
HOVER_EVERY_SHAPE = """() => document.querySelectorAll('path.leaflet-interactive').forEach(
    shape => shape.dispatchEvent(new MouseEvent('mouseover', {bubbles: true})))"""


def hostile(kind: str) -> str:
    return f'{kind} <img src=x onerror=alert("{kind}")> `${{alert("{kind}-literal")}}`'


def dialogs_on_map_pages(chromium, base_url: str, cookies: list[dict], paths: list[str]) -> list[str]:
    """The messages of every dialog the pages open, their frames included, once each frame's map has drawn and
    each of its shapes has shown its tooltip. Takes a base URL, so it runs against any server."""
    context = chromium.new_context()
    context.add_cookies([{**cookie, "url": base_url} for cookie in cookies])
    page = context.new_page()
    dialogs = []

    def opened(dialog):
        dialogs.append(f"{page.url}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", opened)  # Playwright reports the dialogs of every frame of the page here
    try:
        for path in paths:
            page.goto(base_url + path, wait_until="load")
            page.wait_for_selector("iframe", state="attached")
            maps = [frame for frame in page.frames if frame is not page.main_frame]
            assert maps, f"{path}: no map frame"
            for frame in maps:
                frame.wait_for_selector(".leaflet-control-layers", state="attached", timeout=20_000)
                frame.evaluate(HOVER_EVERY_SHAPE)
            page.wait_for_load_state("networkidle")
    finally:
        context.close()
    return dialogs


@pytest.fixture
def names_as_markup(crews, puente_alto, make_report):  # noqa: F811
    make_report(point=WEST_POINT)
    make_report(point=EAST_POINT, category="bache")
    make_report(point=PUENTE_ALTO_CENTRE)
    Commune.objects.filter(cut="13201").update(name=hostile("comuna"))
    Zone.objects.filter(pk=crews["west"].pk).update(name=hostile("zona"))
    Crew.objects.filter(pk=crews["A"].pk).update(name=hostile("cuadrilla"))
    Category.objects.filter(service_code="retiro-escombros").update(
        name_es=hostile("categoria"), name_en=hostile("categoria")
    )
    CategoryGroup.objects.update(name_es=hostile("grupo"), name_en=hostile("grupo"))
    ServicePoint.objects.update(name=hostile("punto"))


def test_names_run_nothing_on_the_coverage_and_heat_map_pages_or_their_frames(
    chromium, production_server, client, names_as_markup, crews
):
    client.force_login(crews["admin"])
    cookies = [{"name": "sessionid", "value": client.cookies["sessionid"].value}]
    assert dialogs_on_map_pages(chromium, production_server.url, cookies, [COVERAGE, HEAT_MAP]) == []
