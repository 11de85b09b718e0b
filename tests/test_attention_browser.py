"""A citizen on a phone finds the next night session near them, books a slot in it, receives the confirmation
and cancels by the link in it (issue #25)."""

import os
import re
from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from geo_siac.attention.models import Appointment, AppointmentStatus, Offering, Procedure
from geo_siac.notifications.models import Notification
from geo_siac.testing import PROJECT_ROOT, chromium_launch
from geo_siac.zones.models import ServicePoint, ServicePointKind
from geo_siac.zones.opening_hours import WEEKDAYS

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
SCREENSHOTS = PROJECT_ROOT / "test-output"
PHONE = {"width": 390, "height": 844}
NEAR_PUENTE_ALTO = {"latitude": -33.6090, "longitude": -70.5740}


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / name, full_page=True)


def phone_page(playwright, **context):
    browser = chromium_launch(playwright)
    page = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="es-CL", **context).new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


@pytest.fixture
def night_point(communes):
    """A municipal building whose monthly night session falls tomorrow (its rule is "the nth <weekday>" of
    tomorrow's date), and an OIRS farther away without one."""
    tomorrow = timezone.localdate() + timedelta(days=1)
    session = {
        "weekday": WEEKDAYS[tomorrow.weekday()],
        "nth": (tomorrow.day - 1) // 7 + 1,
        "hours": [["19:00", "22:30"]],
        "label": "Atención Nocturna",
    }
    point = ServicePoint.objects.create(
        name="Municipalidad de Puente Alto",
        kind=ServicePointKind.MUNICIPAL_OFFICE,
        commune=communes["13201"],
        point=Point(-70.5759, -33.6106, srid=4326),
        address="Av. Concha y Toro 1820, Puente Alto",
        opening_hours={"weekly": {}, "closed_on_public_holidays": False, "special_sessions": [session]},
    )
    ServicePoint.objects.create(
        name="OIRS de Peñalolén",
        kind=ServicePointKind.OIRS,
        commune=communes["13122"],
        point=Point(-70.5571, -33.4687, srid=4326),
        address="Av. Grecia 8735, Peñalolén",
        opening_hours={"weekly": {"mon": [["08:30", "14:00"]]}},
    )
    procedure = Procedure.objects.create(slug="permiso-de-circulacion", name="Permiso de circulación")
    Offering.objects.create(service_point=point, procedure=procedure, slot_minutes=30, capacity_per_slot=2)
    return point


@pytest.mark.browser
def test_citizen_books_a_night_session_slot_near_them_and_cancels_it_by_the_link(production_server, night_point):
    base = production_server.url
    with sync_playwright() as playwright:
        page, errors = phone_page(playwright, geolocation=NEAR_PUENTE_ALTO, permissions=["geolocation"])
        page.goto(f"{base}/puntos-de-atencion/")
        page.click("#id_nocturna")
        page.click("#near-me")
        page.wait_for_url(re.compile(r"lat=-33\.6"))
        first = page.locator("#points li").first
        expect(first).to_contain_text("Municipalidad de Puente Alto")
        expect(first).to_contain_text("Próxima sesión: Atención Nocturna")
        expect(page.locator("#points li")).to_have_count(1)  # the OIRS holds no night session
        expect(page.locator("#points-map .leaflet-marker-icon")).to_have_count(1)
        shot(page, "attention-points-phone.png")
        first.get_by_role("link").click()
        expect(page.locator("#next-session")).to_contain_text("19:00–22:30")
        shot(page, "attention-point-phone.png")
        page.get_by_role("link", name="Pedir hora").click()
        page.locator("input[name=starts_at]:not([disabled])").first.check()
        page.fill("#id_name", "Carla Rojas")
        page.fill("#id_email", "carla@example.cl")
        shot(page, "attention-book-phone.png")
        page.click("#book")
        expect(page.locator("#confirmation")).to_be_visible()
        code = page.locator(".tracking-code").inner_text()
        assert errors == []

    confirmation = Notification.objects.get(recipient="carla@example.cl")
    assert code in confirmation.subject and "19:00" in confirmation.body
    link = re.search(r"https?://\S+/citas/\S+/", confirmation.body)[0]
    assert link.startswith(base)

    with sync_playwright() as playwright:
        page, errors = phone_page(playwright)
        page.goto(link)
        expect(page.locator("#appointment-status")).to_have_text("reservada")
        page.click("#cancel")
        expect(page.locator("#cancelled")).to_be_visible()
        expect(page.locator("#appointment-status")).to_have_text("cancelada")
        shot(page, "attention-cancelled-phone.png")
        assert errors == []

    assert Appointment.objects.get(code=code).status == AppointmentStatus.CANCELLED
    assert Notification.objects.filter(subject=f"Cita {code} cancelada", recipient="carla@example.cl").exists()


@pytest.mark.browser
def test_on_a_phone_the_points_map_comes_first_and_the_long_list_folds_per_comuna(production_server, communes):
    from tests.test_accessibility_browser import axe_findings

    ServicePoint.objects.bulk_create(
        ServicePoint(
            name=f"CESFAM {i:03d}",
            kind=ServicePointKind.OIRS,
            commune=communes[cut],
            point=Point(lng + i / 5000, lat, srid=4326),
            address=f"Av. Concha y Toro {1000 + i}",
            opening_hours={"weekly": {"mon": [["08:30", "14:00"]]}},
        )
        for i, (cut, lat, lng) in enumerate([("13201", -33.61, -70.59)] * 100 + [("13122", -33.47, -70.56)] * 50)
    )
    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        # bypass_csp: axe arrives as an inline script, which the pages' policy forbids.
        page = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="es-CL", bypass_csp=True)
        page = page.new_page()
        page.goto(f"{production_server.url}/puntos-de-atencion/")
        expect(page.locator("#points-map .leaflet-marker-icon")).to_have_count(150)
        map_box = page.locator("#points-map").bounding_box()
        assert map_box["y"] + map_box["height"] <= PHONE["height"]  # the whole map in the first screen
        summaries = page.locator("#points summary")
        expect(summaries).to_have_text(["Peñalolén (50 puntos)", "Puente Alto (100 puntos)"])
        expect(page.locator("#points li").first).to_be_hidden()
        shot(page, "attention-points-folded-phone.png")
        summaries.nth(1).click()
        expect(page.locator("#points details").nth(1).locator("li").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert axe_findings(page) == []
