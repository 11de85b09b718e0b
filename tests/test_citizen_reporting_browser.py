"""A citizen reports through the page in headless Chromium: pin on the map, photo, tracking code, tracking page;
a pin outside the comunas; the duplicate suggestion 20 m from an open report."""

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from geo_siac.reports.models import Report
from geo_siac.testing import PROJECT_ROOT, PUENTE_ALTO_CENTRE

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser
OUTPUT = PROJECT_ROOT / "test-output" / "citizen_reporting"
LA_FLORIDA = (-33.55, -70.60)  # between Puente Alto and Peñalolén, served by neither


@pytest.fixture
def browser_page(chromium, production_server):
    from django.db import connections

    OUTPUT.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(
        viewport={"width": 1000, "height": 1300}, locale="es-CL", permissions=["geolocation"]
    )
    page = context.new_page()
    page.base_url = production_server.url
    yield page
    context.close()
    # Code run under sync_playwright is in another greenlet, hence another context and another database
    # connection than pytest-django's; close it, or it blocks the test database's teardown.
    connections.close_all()


def click_map_at(page, lat: float, lng: float, zoom: int | None = None):
    if zoom is not None:
        page.evaluate(
            "([lat, lng, zoom]) => window.geoSiacMap.setView([lat, lng], zoom, {animate: false})", [lat, lng, zoom]
        )
    x, y = page.evaluate(
        "([lat, lng]) => { const p = window.geoSiacMap.latLngToContainerPoint([lat, lng]); return [p.x, p.y]; }",
        [lat, lng],
    )
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)


def real_png(path: Path) -> Path:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (180, 90, 30)).save(out, "PNG")
    path.write_bytes(out.getvalue())
    return path


def test_citizen_reports_with_a_pin_and_a_photo_then_tracks_it(browser_page, communes, tmp_path):
    page = browser_page
    page.goto(page.base_url + "/")
    page.locator(".leaflet-interactive").first.wait_for()
    click_map_at(page, *PUENTE_ALTO_CENTRE)
    assert page.locator("#map img.leaflet-marker-icon").evaluate("pin => pin.decode().then(() => pin.naturalWidth)")
    assert page.locator("#id_lat").input_value().startswith("-33.61")
    assert page.locator("#error-location").text_content() == ""
    page.select_option("#id_service_code", "retiro-escombros")
    page.select_option("#q-retiro-escombros-volumen", "1-3m3")
    page.fill("#id_description", "Escombros y un colchón en la vereda.")
    page.set_input_files("#id_photo", str(real_png(tmp_path / "vereda.png")))
    page.screenshot(path=OUTPUT / "1-form-filled.png", full_page=True)
    page.click("#submit-report")

    code = page.locator("#tracking-code").text_content().strip()
    page.screenshot(path=OUTPUT / "2-confirmation.png", full_page=True)
    report = Report.objects.get(tracking_code=code)
    assert report.photos.count() == 1 and report.commune.cut == "13201"
    assert "Dirección de Medio Ambiente, Aseo y Ornato" in page.content()

    page.click("a:text-is('Ver el seguimiento')")
    assert page.locator("#status").text_content() == "Recibida"
    page.screenshot(path=OUTPUT / "3-tracking.png", full_page=True)


def test_click_outside_the_comunas_shows_the_error_next_to_the_map(browser_page, communes):
    page = browser_page
    page.goto(page.base_url + "/")
    page.locator(".leaflet-interactive").first.wait_for()
    click_map_at(page, *LA_FLORIDA)
    error = page.locator("#error-location")
    assert "fuera de las comunas atendidas" in error.text_content()
    error.screenshot(path=OUTPUT / "4-outside-error-detail.png")
    page.screenshot(path=OUTPUT / "4-outside-error.png")


def test_second_report_20_m_from_an_open_public_one_is_offered_to_follow_it(browser_page, make_report):
    existing = make_report(point=PUENTE_ALTO_CENTRE, public_visibility=True)
    page = browser_page
    lat, lng = PUENTE_ALTO_CENTRE[0] + 20 / 111_320, PUENTE_ALTO_CENTRE[1]
    page.context.set_geolocation({"latitude": lat, "longitude": lng})
    page.goto(page.base_url + "/")
    page.locator(".leaflet-interactive").first.wait_for()
    page.click("#use-location")
    page.select_option("#id_service_code", "retiro-escombros")
    suggestion = page.locator("#duplicates-list li")
    suggestion.first.wait_for()
    assert "a 20 m" in suggestion.first.text_content()
    page.screenshot(path=OUTPUT / "5-duplicate-suggestion.png", full_page=True)

    page.click("#duplicates-list a")
    page.fill("#id_follow_email", "vecino@example.cl")
    with page.expect_navigation():  # the form's POST and its redirect: page.content() mid-navigation is ""
        page.click("#seguir button")
    assert "le avisaremos por correo" in page.content()
    assert existing.followers.get().email == "vecino@example.cl"


def test_report_page_fits_a_phone_screen(browser_page, communes):
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.base_url + "/")
    page.locator(".leaflet-interactive").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("#map").bounding_box()["height"] >= 260
    page.screenshot(path=OUTPUT / "6-phone.png", full_page=True)
