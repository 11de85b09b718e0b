"""A crew member on a phone finds where a request without an address is: the nearest corner in the queue and on
its page, a small map of the pin online when there are tiles, and offline the same words with no map and no script
error."""

import io
import os
import re
from io import StringIO

import pytest
from django.core.management import call_command
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from geo_siac.geocoding.models import EntryKind
from geo_siac.geocoding.services import Entry, gazetteer_load
from geo_siac.reports.models import Report
from geo_siac.testing import PROJECT_ROOT, WEST_POINT, browser_log_in, browser_user, chromium_launch

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
SCREENSHOTS = PROJECT_ROOT / "test-output"
PHONE = {"width": 390, "height": 844}
LAT, LNG = WEST_POINT
NEAR = "cerca de Av. Grecia / Esq. Los Presidentes, a 40 m"


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / name, full_page=True)


@pytest.mark.browser
def test_a_crew_member_finds_the_corner_of_a_request_without_an_address_online_and_offline(
    production_server, crews, tmp_path
):
    gazetteer_load(
        source="prueba",
        entries=[Entry(EntryKind.INTERSECTION, "Av. Grecia / Esq. Los Presidentes", LNG + 0.0004, LAT, "i1")],
        commit=True,
    )
    browser_user(crews["member_a"])
    # Imported as the demo's requests are: no address, channel web.
    path = tmp_path / "historia.csv"
    path.write_text(
        "source_id,created_at,closed_at,service_code,channel,status,lat,lng,description\n"
        f"h1,2026-11-30 10:00,,retiro-escombros,web,submitted,{LAT},{LNG},Escombros\n",
        encoding="utf-8",
    )
    call_command(
        "import_reports", str(path), "--source", "demo", "--route", "--commit", "--no-progress", stdout=StringIO()
    )
    report = Report.objects.get()
    page_url = f"{production_server.url}/cuadrilla/solicitud/{report.tracking_code}/"

    with sync_playwright() as playwright:
        context = chromium_launch(playwright).new_context(
            viewport=PHONE, is_mobile=True, has_touch=True, locale="es-CL"
        )
        page = context.new_page()
        script_errors = []
        page.on("pageerror", lambda error: script_errors.append(str(error)))
        browser_log_in(page, production_server.url, "ana", "/cuadrilla/")
        for _ in range(300):  # wait_for_function evaluates a string, which the page's policy refuses
            if page.evaluate("navigator.serviceWorker.controller !== null"):
                break
            page.wait_for_timeout(100)
        page.reload()
        page.wait_for_selector("html[data-offline-ready='1']")
        expect(page.locator("#report-list")).to_contain_text(NEAR)
        shot(page, "crew-place-queue.png")

        page.goto(page_url)
        expect(page.locator("#place")).to_have_text(NEAR)
        expect(page.locator("#channel")).to_have_text("Importación (canal de origen: Web)")
        expect(page.locator("#channel")).to_have_attribute("title", "demo")
        expect(page.locator(".history li").first).to_contain_text("(Importación)")
        # The test server has no tiles (GEO_SIAC_TILE_URL=""): a pin on a blank square guides no one.
        expect(page.locator("#navigate")).to_be_visible()
        expect(page.locator("#crew-report-map")).to_be_hidden()
        shot(page, "crew-place-report-no-tiles.png")

        context.set_offline(True)
        page.reload()
        expect(page.locator("#offline-bar")).to_contain_text("Sin conexión")
        expect(page.locator("#place")).to_have_text(NEAR)
        expect(page.locator("#crew-report-map")).to_be_hidden()
        expect(page.locator("#navigate")).to_be_visible()
        shot(page, "crew-place-report-offline.png")
        assert script_errors == []
        context.close()

        # Online with tiles: the same page as a server with GEO_SIAC_TILE_URL=/teselas/... sends it, its tiles
        # answered here (service workers blocked, so that the page's requests reach these routes).
        online = chromium_launch(playwright).new_context(
            viewport=PHONE, is_mobile=True, has_touch=True, locale="es-CL", service_workers="block"
        )
        page = online.new_page()
        page.on("pageerror", lambda error: script_errors.append(str(error)))
        browser_log_in(page, production_server.url, "ana", "/cuadrilla/")
        online.route(f"{production_server.url}/cuadrilla/solicitud/**", with_tiles)
        online.route("**/teselas/**", lambda route: route.fulfill(body=TILE, content_type="image/png"))
        page.goto(page_url)
        expect(page.locator("#crew-report-map")).to_be_visible()
        expect(page.locator("#crew-report-map .leaflet-marker-icon")).to_have_count(1)
        expect(page.locator("#crew-report-map img.leaflet-tile-loaded").first).to_be_visible()
        expect(page.locator("#crew-report-map")).not_to_have_class(re.compile("leaflet-grab"))  # one finger scrolls
        box = page.locator("#crew-report-map").bounding_box()
        assert box["width"] <= PHONE["width"] and 150 <= box["height"] <= 300, box
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, "crew-place-report-online.png")
        assert script_errors == []


def png_tile() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), (220, 230, 220)).save(out, "PNG")
    return out.getvalue()


TILE = png_tile()


def with_tiles(route) -> None:
    response = route.fetch()
    route.fulfill(response=response, body=response.text().replace('data-tiles=""', 'data-tiles="/teselas/{z}/{x}/{y}"'))
