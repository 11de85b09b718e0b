"""A citizen on a phone (390x844) finds the place by its name, against the production server with no tile server:
types a real DTPM intersection as a person would, picks the suggestion, sees the pin, "cerca de ..." and the open
reports already made around it (clustered; a non-public one only at its published cell), and files. The operator
console finds an address the same way. Screenshots go to test-output/place_search/."""

import io
import os

import pytest
from django.core.management import call_command
from h3.api import basic_int as h3i
from playwright.sync_api import expect

from geo_siac.geocoding.models import EntryKind
from geo_siac.geocoding.selectors import geocode_search
from geo_siac.geocoding.services import Entry, gazetteer_load
from geo_siac.reports.models import Report
from geo_siac.testing import PROJECT_ROOT, browser_log_in, browser_user, shared_data
from tests.test_accessibility_browser import AXE, axe_findings

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser
OUTPUT = PROJECT_ROOT / "test-output" / "place_search"
PHONE = {"width": 390, "height": 844}
K = 3


@pytest.fixture
def gazetteer(communes):
    stops = shared_data("streets/dtpm_stops_puente_alto_penalolen.geojson")
    call_command("load_addresses", stops, "--preset", "dtpm", "--no-progress", "--commit", stdout=io.StringIO())


def phone_context(chromium, production_server):
    OUTPUT.mkdir(parents=True, exist_ok=True)
    # bypass_csp: axe arrives as an inline script, which the pages' policy forbids.
    return chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="es-CL", bypass_csp=True)


@pytest.fixture
def phone_page(chromium, production_server):
    from django.db import connections

    context = phone_context(chromium, production_server)
    page = context.new_page()
    page.base_url = production_server.url
    yield page
    context.close()
    connections.close_all()  # Playwright's greenlet has its own connection; it would block the database teardown


def metres_north(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0] + metres / 111_320, point[1]


def test_citizen_types_an_intersection_picks_it_sees_what_is_reported_near_and_files(
    phone_page, gazetteer, make_report, settings
):
    assert AXE.exists(), f"{AXE} is missing: run scripts/setup.sh with GEO_SIAC_WITH_BROWSER=1"
    crossing = geocode_search("concha y toro con eyzaguirre")[0]
    corner = (crossing.latitude, crossing.longitude)
    followed = make_report(point=metres_north(corner, 70), public_visibility=True, description="Escombros.")
    # Non-public ones in the corner's res-9 cell, so that it is their published place, within 300 m of the corner.
    cell_centre = h3i.cell_to_latlng(h3i.latlng_to_cell(*corner, 9))
    private = [make_report(point=metres_north(cell_centre, metres)) for metres in (8, 16, 24)]
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = K
    call_command("publish_open_data", stdout=io.StringIO())
    page = phone_page
    nearby_bodies = []
    page.on("response", lambda response: "/api/cercanos/" in response.url and nearby_bodies.append(response))

    page.goto(page.base_url + "/")
    page.locator(".leaflet-interactive").first.wait_for()
    search = page.locator("#place-search-input")
    search.press_sequentially("concha y toro con eyzaguirre", delay=60)
    options = page.locator("#place-search-list [role=option]")
    options.first.wait_for()
    assert search.get_attribute("aria-expanded") == "true"
    page.screenshot(path=OUTPUT / "1-suggestions.png")
    search.press("ArrowDown")
    assert search.get_attribute("aria-activedescendant") == "place-option-0"
    assert crossing.label in options.first.inner_text()
    search.press("Enter")

    expect(page.locator("#place-near")).to_have_text(f"cerca de {crossing.label}")
    assert abs(float(page.input_value("#id_lat")) - corner[0]) < 1e-5
    assert page.evaluate("window.geoSiacMap.getZoom()") == 17
    assert page.locator("#map img.leaflet-marker-icon").count() == 1  # the pin
    expect(page.locator("#nearby-summary")).to_contain_text("Ya hay 4 solicitudes abiertas")
    page.locator("#map").screenshot(path=OUTPUT / "2-pin-and-reported-near.png")
    page.screenshot(path=OUTPUT / "2-place-step.png", full_page=True)

    page.locator(".reported-icon:not(.approximate):not(.reported-cluster)").click()
    follow = page.locator(".leaflet-popup-content a")
    expect(follow).to_have_text("Seguir este reporte")
    assert follow.get_attribute("href") == f"/seguimiento/{followed.tracking_code}/#seguir"
    page.locator("#map").screenshot(path=OUTPUT / "3-already-reported.png")
    # Closed from the keyboard on the map: a click on the popup's x, on a busy machine, once landed on the map as the
    # popup went and moved the pin there (the report was then filed "cerca de" another place).
    page.locator("#map").focus()
    page.keyboard.press("Escape")
    # Leaflet fades the popup out: axe must not measure its text's contrast half-transparent.
    page.locator(".leaflet-popup").wait_for(state="detached")
    assert abs(float(page.input_value("#id_lat")) - corner[0]) < 1e-5  # the pin stayed where the citizen chose

    findings = axe_findings(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # What the page got about the reports near the pin: the non-public ones at their published cell, never at
    # their point, and never their tracking codes.
    bodies = "".join(response.text() for response in nearby_bodies)
    for report in private:
        assert Report.objects.get(pk=report.pk).public_cell == h3i.latlng_to_cell(*corner, 9)
        assert f"[{round(cell_centre[1], 6)}, {round(cell_centre[0], 6)}]" in bodies
        assert f"{report.location.y:.5f}" not in bodies and report.tracking_code not in bodies

    page.select_option("#id_service_code", "retiro-escombros")
    page.select_option("#q-retiro-escombros-volumen", "1-3m3")
    page.fill("#id_description", "Un colchón en la esquina.")
    page.click("#submit-report")
    code = page.locator("#tracking-code").text_content().strip()
    page.screenshot(path=OUTPUT / "4-filed.png", full_page=True)
    assert findings == []
    # The pick filled the address field (place_search.js), as the operator console's: what was chosen is stored.
    assert Report.objects.get(tracking_code=code).address == crossing.label


def test_a_street_that_does_not_exist_is_said_not_found_with_the_map_offered_and_a_typo_still_finds(
    phone_page, gazetteer
):
    page = phone_page
    page.goto(page.base_url + "/")
    page.locator(".leaflet-interactive").first.wait_for()
    search = page.locator("#place-search-input")
    search.press_sequentially("san inventado 12", delay=40)
    none = page.locator("#place-search-none")
    expect(none).to_be_visible()
    expect(none).to_contain_text("No encontramos «san inventado 12» entre las calles y lugares que conocemos.")
    expect(page.locator("#place-search-list [role=option]")).to_have_count(0)
    assert search.get_attribute("aria-expanded") == "false"
    page.screenshot(path=OUTPUT / "7-not-found.png")
    findings = axe_findings(page)
    page.click("#place-search-to-map")
    expect(page.locator("#map")).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    search.fill("")
    search.press_sequentially("eysaguirre con tome", delay=40)
    expect(page.locator("#place-search-list [role=option]").first).to_contain_text("Tomé / Esq. Av. Eyzaguirre")
    expect(none).to_be_hidden()
    page.screenshot(path=OUTPUT / "8-typo-found.png")
    # A word unaccent lengthens past what the edit distance measures ("ß" is read "ss") is a street not found too.
    search.fill("ß" * 130)
    expect(none).to_be_visible()
    expect(none).to_contain_text("No encontramos «" + "ß" * 130 + "»")
    assert findings == []


def test_the_map_names_the_gazetteer_places_when_no_tiles_load(phone_page, gazetteer):
    page = phone_page
    metro = geocode_search("metro las mercedes")[0]
    page.goto(page.base_url + "/")
    page.locator(".leaflet-interactive").first.wait_for()
    assert page.locator(".commune-label", has_text="Puente Alto").count() == 1
    page.evaluate(
        "([lat, lng]) => window.geoSiacMap.setView([lat, lng], 16, {animate: false})", [metro.latitude, metro.longitude]
    )
    expect(page.locator(".map-place-label", has_text=metro.label).first).to_be_visible()
    assert page.locator(".map-street-label").count() > 0
    page.locator("#map").screenshot(path=OUTPUT / "5-names-without-tiles.png")


def test_operator_hears_an_address_and_finds_it(chromium, production_server, gazetteer, crews):
    from django.db import connections

    browser_user(crews["operator"])
    crossing = geocode_search("concha y toro esquina san carlos")[0]
    context = chromium.new_context(viewport={"width": 1024, "height": 900}, locale="es-CL")
    page = context.new_page()
    browser_log_in(page, production_server.url, "oscar", "/operador/")
    page.locator("#place-search-input").press_sequentially("concha y toro esquina san carlos", delay=40)
    page.locator("#place-search-list [role=option]").first.click()
    expect(page.locator("#place-near")).to_have_text(f"cerca de {crossing.label}")
    latitude, longitude = float(page.input_value("#id_latitude")), float(page.input_value("#id_longitude"))
    page.screenshot(path=OUTPUT / "6-operator.png", full_page=True)
    context.close()
    connections.close_all()
    assert (latitude, longitude) == pytest.approx((crossing.latitude, crossing.longitude), abs=1e-5)


def test_a_typed_house_number_is_kept_in_the_box_and_the_address_and_the_pin_is_said_approximate(phone_page, gazetteer):
    # DTPM's stops number no house on Avenida Grecia: the pin is at the street's middle, and the page says so.
    street = geocode_search("avenida grecia")[0]
    page = phone_page
    page.goto(page.base_url + "/comuna/penalolen/")
    page.locator(".leaflet-interactive").first.wait_for()
    help_text = page.locator("#place-search-help").text_content()
    assert "Concha y Toro" not in help_text and "con" in help_text  # a Peñalolén street, not Puente Alto's
    search = page.locator("#place-search-input")
    # The street's suggestions are shown while the number is typed; Enter comes before the pause that asks again.
    search.press_sequentially("Avenida Grecia", delay=60)
    page.locator("#place-search-list [role=option]").first.wait_for()
    search.press_sequentially(" 8000", delay=20)
    expect(page.locator("#place-search-list [role=option] .place-label-text").first).to_have_text(
        f"{street.label} – sin número conocido"
    )
    search.press("Enter")
    expect(search).to_have_value("Avenida Grecia 8000")
    expect(page.locator("#id_address")).to_have_value("Avenida Grecia 8000")
    expect(page.locator("#place-search-note")).to_have_text(
        "No conocemos números de esta calle cercanos a ese: el pin está en un punto de la calle, no en el número; muévalo al lugar exacto."
    )
    assert float(page.input_value("#id_lat")) == pytest.approx(street.latitude, abs=1e-5)
    page.screenshot(path=OUTPUT / "7-house-number-kept.png", full_page=True)
    # A whole street picked: said whole, and no address (the pin goes to the block, and what is near it is stored);
    # the one the earlier pick filled goes.
    search.fill("")
    search.press_sequentially("Av. José Arrieta", delay=60)
    page.locator("#place-search-list [role=option]").first.wait_for()
    search.press("Enter")
    expect(page.locator("#place-search-note")).to_have_text("Calle completa: mueva el pin a la cuadra.")
    expect(page.locator("#id_address")).to_have_value("")
    page.screenshot(path=OUTPUT / "8-whole-street.png", full_page=True)


def test_a_suggestion_highlighted_before_more_keys_is_not_what_enter_picks(phone_page, gazetteer):
    page = phone_page
    page.goto(page.base_url + "/comuna/penalolen/")
    page.locator(".leaflet-interactive").first.wait_for()
    search, note = page.locator("#place-search-input"), page.locator("#place-search-note")
    search.press_sequentially("Av. José Arrieta", delay=60)
    page.locator("#place-search-list [role=option]").first.wait_for()
    search.press("ArrowDown")
    expect(page.locator("#place-search-list [role=option]").first).to_have_attribute("aria-selected", "true")
    search.press_sequentially(" 500", delay=20)
    expect(search).not_to_have_attribute("aria-activedescendant", "place-option-0")
    search.press("Enter")
    expect(search).to_have_value("Av. José Arrieta 500")
    expect(note).to_contain_text("No conocemos números")
    # The note stays in the page, emptied, so a screen reader announces the next one.
    search.press_sequentially("0", delay=20)
    expect(note).to_have_text("")
    assert note.get_attribute("hidden") is None and note.get_attribute("role") == "status"


def test_operator_hears_a_number_the_data_lacks_sees_the_nearest_numbers_once_and_keeps_it(
    chromium, production_server, gazetteer, crews
):
    from django.db import connections

    numbers = [95, 546, 3459, 2531, 648]
    entries = [
        Entry(EntryKind.ADDRESS, f"Concha y Toro {n}", -70.5765, -33.60 + n / 1e6, f"n{n}", number=n) for n in numbers
    ]
    # The same address from another source, a few metres off: offered once.
    entries.append(Entry(EntryKind.ADDRESS, "Concha Y Toro 3459", -70.5766, -33.5966, "repeated", number=3459))
    gazetteer_load(source="deis-prueba", entries=entries, commit=True)
    browser_user(crews["operator"])
    context = chromium.new_context(viewport={"width": 1024, "height": 900}, locale="es-CL")
    page = context.new_page()
    browser_log_in(page, production_server.url, "oscar", "/operador/")
    search = page.locator("#place-search-input")
    search.press_sequentially("Concha y Toro 1820", delay=40)
    options = page.locator("#place-search-list [role=option] .place-label-text")
    # The street is offered as the street, the number said unknown, and what was typed is the address kept.
    expect(options.first).to_have_text("Av. Concha y Toro – sin número conocido")
    shown = [label.casefold() for label in options.all_text_contents()]
    assert sum(label.startswith("av. concha y toro") and "/" not in label for label in shown) == 1
    search.press("Enter")
    expect(page.locator("#id_address")).to_have_value("Concha y Toro 1820")
    # The nearest known number, 2531, is too far to place 1820 by.
    expect(page.locator("#place-search-note")).to_contain_text("No conocemos números")
    page.screenshot(path=OUTPUT / "9-operator-number.png", full_page=True)
    context.close()
    connections.close_all()
    numbered = [label for label in shown if label.startswith("concha y toro ")]
    assert numbered == [f"concha y toro {n}" for n in (2531, 648, 546, 3459, 95)]


def test_an_answer_to_enter_that_comes_after_more_keys_is_not_picked(phone_page, gazetteer):
    page = phone_page
    held = []

    def hold(route):
        held.append((route, route.fetch()))

    page.route(lambda url: "/api/geocode/?" in url and "Arrieta+500&" in url, hold)
    page.goto(page.base_url + "/comuna/penalolen/")
    page.locator(".leaflet-interactive").first.wait_for()
    search = page.locator("#place-search-input")
    search.press_sequentially("Av. José Arrieta 500", delay=20)
    search.press("Enter")
    while not held:
        page.wait_for_timeout(20)
    search.press("0")  # while Enter's answer for "… 500" is on its way
    route, response = held[0]
    route.fulfill(response=response)
    page.locator("#place-search-list [role=option]").first.wait_for()
    expect(search).to_have_value("Av. José Arrieta 5000")
    expect(page.locator("#place-search-note")).to_have_text("")
