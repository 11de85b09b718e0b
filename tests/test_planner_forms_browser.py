"""The planners' GET forms and the operator's office field in headless Chromium, as production serves them, on a
390x844 phone and a 1366x768 laptop: the heat map's category list shows most of its boxes at once and ticks or
unticks them all from the keyboard; the coverage page opened with only a comuna shows its analysis, a wrong value a
Spanish error naming its field; the console says what office to pick. Screenshots go to test-output/ui22/."""

import os
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from geo_siac.testing import PROJECT_ROOT, browser_log_in, browser_user, staff_account
from tests.test_coverage_page import puente_alto  # noqa: F401 (fixture)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser

OUTPUT = PROJECT_ROOT / "test-output" / "ui22"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1366, "height": 768}}


def shown_in_its_list(box, frame) -> bool:
    """Whether a checkbox's row is wholly inside its scrolled list's box."""
    row = box.locator("xpath=ancestor::label").bounding_box()
    return frame["y"] <= row["y"] and row["y"] + row["height"] <= frame["y"] + frame["height"] + 1


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_category_list_shows_most_boxes_and_ticks_them_all_from_the_keyboard(
    chromium, production_server, communes, viewport
):
    from django.db import connections

    browser_user(staff_account("planificadora", is_staff=True))
    OUTPUT.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(locale="es-CL", viewport=VIEWPORTS[viewport])
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        browser_log_in(page, production_server.url, "planificadora", "/mapas/calor/")
        categories = page.get_by_role("group", name="Categorías", exact=True)
        boxes = categories.get_by_role("checkbox")
        scroller = categories.locator("#id_category").bounding_box()
        shown = sum(shown_in_its_list(boxes.nth(i), scroller) for i in range(boxes.count()))
        page.screenshot(path=OUTPUT / f"heatmap-{viewport}.png", full_page=True)
        tick_all = page.get_by_role("button", name="Marcar todas: Categorías", exact=True)
        button_height = tick_all.bounding_box()["height"]
        tick_all.focus()
        page.keyboard.press("Space")
        expect(categories.locator(".ticked")).to_have_text("Marcadas: todas.")
        ticked_all = [boxes.nth(i).is_checked() for i in range(boxes.count())]
        page.keyboard.press("Tab")  # "Desmarcar todas", next to it
        page.keyboard.press("Enter")
        expect(categories.locator(".ticked")).to_have_text("Sin marcar: todas.")
        categories.get_by_role("checkbox", name="Bache en calzada").check()
        expect(categories.locator(".ticked")).to_have_text("Marcadas: Bache en calzada")
        expect(categories.locator(".ticked-count")).to_have_text(f"1 de {boxes.count()} marcadas.")
        page.screenshot(path=OUTPUT / f"heatmap-{viewport}-ticked.png", full_page=True)
        page.get_by_role("button", name="Aplicar filtros").click()
        page.wait_for_url("**/mapas/calor/?*")
        query = parse_qs(urlsplit(page.url).query)
    finally:
        context.close()
        connections.close_all()
    assert errors == []
    assert button_height >= 44  # a finger's target
    total = len(ticked_all)
    assert total >= 15 and all(ticked_all)
    # The whole list on a laptop (columns over the row); on a phone most of it, half the screen at most.
    assert shown == total if viewport == "laptop" else shown >= 9, (shown, total)
    assert query["category"] == ["bache"]


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_coverage_page_opened_with_only_a_comuna_shows_its_analysis_and_a_wrong_value_names_its_field(
    chromium,
    production_server,
    puente_alto,  # noqa: F811
    viewport,
):
    from django.db import connections

    browser_user(staff_account("planner", is_staff=True))
    OUTPUT.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(locale="es-CL", viewport=VIEWPORTS[viewport])
    page = context.new_page()
    try:
        browser_log_in(page, production_server.url, "planner", "/mapas/cobertura/?commune=13201")
        expect(page.locator("h2").first).to_have_text("Puente Alto: H3 res 9")
        errors_shown = page.locator(".errorlist, .error-summary").count()
        thresholds = page.get_by_label("Umbrales (m)").input_value()
        page.screenshot(path=OUTPUT / f"coverage-partial-{viewport}.png")
        page.goto(production_server.url + "/mapas/cobertura/?commune=13201&res=6")
        summary = page.get_by_role("alert").inner_text()
        resolution = page.locator("#id_res").input_value()
        page.screenshot(path=OUTPUT / f"coverage-wrong-{viewport}.png", full_page=True)
    finally:
        context.close()
        connections.close_all()
    assert errors_shown == 0 and thresholds == "500,1000,2000"
    assert "Resolución H3: «6» no es una resolución posible aquí: elija una de la lista." in summary
    assert resolution == "9"  # the default, not the list's first option


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_console_says_which_office_to_pick_for_a_call_and_asks_the_desk_of_an_in_person_request(
    chromium, production_server, crews, viewport
):
    from django.contrib.gis.geos import Point
    from django.db import connections

    from geo_siac.zones.models import ServicePoint

    browser_user(crews["operator"])
    ServicePoint.objects.create(
        name="OIRS Puente Alto", kind="oirs", commune=crews["west"].commune, point=Point(-70.5758, -33.6117, srid=4326)
    )
    OUTPUT.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(locale="es-CL", viewport=VIEWPORTS[viewport])
    page = context.new_page()
    try:
        browser_log_in(page, production_server.url, "oscar", "/operador/")
        office = page.get_by_label("Punto de atención u oficina que recibió la solicitud")
        help_text = page.locator("#id_received_at_helptext").inner_text()
        page.select_option("#id_channel", "in_person")
        page.select_option("#id_category", "retiro-escombros")
        page.fill("#id_latitude", "-33.6117")
        page.fill("#id_longitude", "-70.5758")
        page.fill("#id_description", "Vino una vecina por escombros")
        page.click("#operator-form button[type=submit]")
        error = page.locator('[data-field="received_at"] .errorlist').inner_text()
        office.scroll_into_view_if_needed()
        page.screenshot(path=OUTPUT / f"operator-office-{viewport}.png")
    finally:
        context.close()
        connections.close_all()
    assert "Teléfono: el punto u oficina que atendió la llamada" in help_text and "tipo «otro»" in help_text
    assert error.startswith("Una solicitud presencial se registra con el punto de atención u oficina")
