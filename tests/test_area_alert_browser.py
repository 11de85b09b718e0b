"""A citizen on a phone (390x844), with no tile server, asks for weekly alerts around a corner they know by name:
types it as people type it, picks the suggestion, sees the pin, the circle and "cerca de ...", and asks for the
alert; the stored centre is the corner's. Screenshots go to test-output/area_alert/."""

import os

import pytest
from django.contrib.gis.geos import Point
from django.contrib.gis.measure import D
from playwright.sync_api import expect

from geo_siac.citizens.models import AreaAlert
from geo_siac.geocoding.selectors import geocode_search
from geo_siac.testing import PROJECT_ROOT
from tests.test_accessibility_browser import axe_findings
from tests.test_place_search_browser import PHONE, gazetteer, phone_page  # noqa: F401 (fixtures)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser
OUTPUT = PROJECT_ROOT / "test-output" / "area_alert"


def test_citizen_finds_the_centre_of_an_area_alert_by_a_street_name(phone_page, gazetteer):  # noqa: F811
    OUTPUT.mkdir(parents=True, exist_ok=True)
    crossing = geocode_search("concha y toro con eyzaguirre")[0]
    page = phone_page
    page.goto(page.base_url + "/mis-solicitudes/avisos/")
    page.locator(".commune-label").first.wait_for()
    search = page.locator("#place-search-input")
    search.press_sequentially("concha y toro con eyzaguirre", delay=60)
    page.locator("#place-search-list [role=option]").first.wait_for()
    page.screenshot(path=OUTPUT / "1-suggestions.png")
    search.press("ArrowDown")
    search.press("Enter")

    expect(page.locator("#place-near")).to_have_text(f"cerca de {crossing.label}")
    assert float(page.input_value("#id_lat")) == pytest.approx(crossing.latitude, abs=1e-5)
    assert float(page.input_value("#id_long")) == pytest.approx(crossing.longitude, abs=1e-5)
    assert page.is_checked("input[name=kind][value=circle]")
    assert page.locator("#map img.leaflet-marker-icon").count() == 1
    radius = page.evaluate(
        "() => { let r = null; window.geoSiacMap.eachLayer(l => { if (l instanceof L.Circle) r = l.getRadius(); });"
        " return r; }"
    )
    assert radius == 500  # the default radius, drawn around the found corner
    assert page.evaluate("window.geoSiacMap.getZoom()") >= 15  # the whole circle in view, close enough for names
    expect(page.locator(".map-street-label").first).to_be_visible()  # streets named around it, with no tiles
    page.locator("#map").screenshot(path=OUTPUT / "2-circle.png")
    findings = axe_findings(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.fill("#id_email", "vecina@example.cl")
    page.click("#area-alert-form button[type=submit]")
    expect(page.locator("#alert-sent")).to_be_visible()
    page.screenshot(path=OUTPUT / "3-sent.png", full_page=True)
    assert findings == []
    alert = AreaAlert.objects.get(email="vecina@example.cl")
    assert alert.radius_m == 500 and alert.confirmed_at is None
    corner = Point(crossing.longitude, crossing.latitude, srid=4326)
    assert AreaAlert.objects.filter(pk=alert.pk, centre__distance_lte=(corner, D(m=1))).exists()
