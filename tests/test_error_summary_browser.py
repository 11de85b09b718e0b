"""A keyboard user sends a citizen form (the report, an information request, a suggestion box) empty, against the
production server, on a laptop (1366x768) and on a phone (390x844): the page comes back with the focus on its error
summary, the title starting "Error: ", axe finding nothing; Tab reaches the first problem's link, Enter puts the focus
in the field it names. The map, its pin and the "Ingresar coordenadas" section show the site's 3 px amber focus ring.
Screenshots go to test-output/a11y22/."""

import os

import pytest
from django.contrib.gis.geos import Point

from geo_siac.testing import PROJECT_ROOT, PUENTE_ALTO_CENTRE
from geo_siac.zones.models import ServicePoint, ServicePointKind
from tests.test_accessibility_browser import AXE
from tests.test_citizen_reporting_browser import click_map_at

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser
OUTPUT = PROJECT_ROOT / "test-output" / "a11y22"
VIEWPORTS = {
    "laptop": {"viewport": {"width": 1366, "height": 768}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
AMBER_RING = ("3px", "rgb(242, 169, 0)")
INVALID_BORDER = ("2px", "rgb(164, 22, 26)")
AXE_URL = "/__test-axe__.js"  # answered by the test's route, never by the server


@pytest.fixture(params=list(VIEWPORTS))
def keyboard_page(request, chromium, production_server):
    from django.db import connections

    OUTPUT.mkdir(parents=True, exist_ok=True)
    # The pages' policy holds (no bypass_csp): the summary's focus and the title are what a citizen's browser does.
    context = chromium.new_context(**VIEWPORTS[request.param], locale="es-CL")
    page = context.new_page()
    page.base_url, page.name = production_server.url, request.param
    # axe comes as a same-origin script, which script-src 'self' lets in, instead of an inline one it forbids.
    page.route(production_server.url + AXE_URL, lambda route: route.fulfill(path=str(AXE)))
    yield page
    context.close()
    connections.close_all()  # Playwright's greenlet has its own connection; it would block the database teardown


def axe_violations(page) -> list[str]:
    """Every violation axe finds, whatever its impact."""
    page.add_script_tag(url=page.base_url + AXE_URL)
    results = page.evaluate("axe.run(document, {iframes: false, resultTypes: ['violations']})")
    return [f"{v['impact']} {v['id']}: {v['help']} ({v['nodes'][0]['target']})" for v in results["violations"]]


def focused(page) -> str:
    return page.evaluate("document.activeElement.id || document.activeElement.outerHTML.slice(0, 80)")


def tab_to(page, selector: str, limit: int = 60) -> None:
    """Tab until `selector` has the focus, as a keyboard user gets there (so :focus-visible applies)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}; the focus is on {focused(page)}")


def ring(page) -> tuple[str, str]:
    return tuple(
        page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement); return [s.outlineWidth, s.outlineColor]; }"
        )
    )


@pytest.mark.parametrize(
    ("path", "first_field"), [("/", "place-search-input"), ("/solicitud/acceso-informacion/", "id_commune")]
)
def test_an_empty_form_sent_with_the_keyboard_comes_back_focused_on_its_error_summary(
    keyboard_page, communes, path, first_field
):
    assert AXE.exists(), f"{AXE} is missing: run scripts/setup.sh with GEO_SIAC_WITH_BROWSER=1"
    page = keyboard_page
    page.goto(page.base_url + path)
    tab_to(page, "main form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert focused(page) == "error-summary"
    assert page.title().startswith("Error: ")
    assert ring(page) == AMBER_RING
    shot = "report" if path == "/" else "information"
    page.screenshot(path=OUTPUT / f"{page.name}-{shot}-1-summary.png")
    assert axe_violations(page) == []

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == f"#{first_field}"
    page.keyboard.press("Enter")
    assert focused(page) == first_field
    field = page.locator(f"#{first_field}")
    assert field.get_attribute("aria-invalid") == "true"
    assert field.evaluate("f => [getComputedStyle(f).borderTopWidth, getComputedStyle(f).borderTopColor]") == list(
        INVALID_BORDER
    )
    assert field.evaluate("f => f.getBoundingClientRect().top >= 0 && f.getBoundingClientRect().bottom <= innerHeight")
    page.screenshot(path=OUTPUT / f"{page.name}-{shot}-2-first-field.png")


def test_the_map_its_pin_and_the_coordinates_section_show_the_sites_focus_ring(keyboard_page, communes):
    page = keyboard_page
    page.goto(page.base_url + "/")
    page.locator(".leaflet-interactive").first.wait_for()
    page.locator("#map").scroll_into_view_if_needed()
    click_map_at(page, *PUENTE_ALTO_CENTRE)
    page.locator("#map img.leaflet-marker-icon").wait_for()
    page.focus("#place-search-input")
    for selector, name in (
        ("#map", "map"),
        ("#map .leaflet-marker-icon", "pin"),
        (".coords-details > summary", "coords"),
    ):
        tab_to(page, selector)
        assert ring(page) == AMBER_RING, name
        page.screenshot(path=OUTPUT / f"{page.name}-focus-{name}.png")


def test_an_empty_suggestion_box_comes_back_focused_on_its_summary_whose_link_reaches_the_first_choice(
    keyboard_page, communes
):
    page = keyboard_page
    point = ServicePoint.objects.create(
        name="Edificio consistorial",
        kind=ServicePointKind.MUNICIPAL_OFFICE,
        commune=communes["13201"],
        point=Point(PUENTE_ALTO_CENTRE[1], PUENTE_ALTO_CENTRE[0], srid=4326),
    )
    page.goto(f"{page.base_url}/buzon/{point.pk}/")
    tab_to(page, "main form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert focused(page) == "error-summary" and page.title().startswith("Error: ")
    page.screenshot(path=OUTPUT / f"{page.name}-box-1-summary.png")
    assert axe_violations(page) == []
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert focused(page) == "id_service_code"
    assert page.locator("#id_service_code").get_attribute("type") == "radio"


def test_a_place_picked_after_a_missing_place_clears_the_message_and_the_search_boxs_invalid_state(
    keyboard_page, communes
):
    page = keyboard_page
    page.goto(page.base_url + "/")
    page.click("#submit-report")
    page.wait_for_url("**/")
    search, message = page.locator("#place-search-input"), page.locator("#error-location")
    assert search.get_attribute("aria-invalid") == "true" and message.inner_text().strip()
    # Opened for a browser without scripts (the coordinates are its only way), folded here: search and map work.
    assert page.locator(".coords-details").get_attribute("data-fold-with-script") is not None
    assert page.locator(".coords-details").get_attribute("open") is None
    page.screenshot(path=OUTPUT / f"{page.name}-place-1-missing.png")
    page.locator(".leaflet-interactive").first.wait_for()
    page.locator("#map").scroll_into_view_if_needed()
    click_map_at(page, *PUENTE_ALTO_CENTRE)
    page.locator("#map img.leaflet-marker-icon").wait_for()
    assert search.get_attribute("aria-invalid") is None
    assert message.inner_text().strip() == ""
