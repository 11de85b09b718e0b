"""The crew's and the board's pages as a phone and a laptop show them: the staff links fold behind "Menú" on a phone so
the crew's queue starts on the first screen, the board takes the window's width, and a reroute's confirmation shows
in the row the page lands on. Measured by the elements' boxes, never by waiting."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from geo_siac.reports.models import Report
from geo_siac.testing import EAST_POINT, PROJECT_ROOT, WEST_POINT, browser_log_in, browser_user

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
SCREENSHOTS = PROJECT_ROOT / "test-output" / "crew23"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
NARROW = {"width": 320, "height": 640}
VIEWPORTS = {"phone": PHONE, "laptop": LAPTOP}


def shot(page, name: str, *, full_page: bool = False) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / name, full_page=full_page)


def in_viewport(box: dict, viewport: dict) -> bool:
    return (
        box["y"] >= 0
        and box["y"] + box["height"] <= viewport["height"]
        and box["x"] >= 0
        and box["x"] + box["width"] <= viewport["width"]
    )


def on_top(page, selector: str) -> bool:
    """Whether the element is in the window and what shows at its middle is it (or inside it), not something over it."""
    return page.locator(selector).evaluate(
        """e => { e.scrollIntoView({block: "nearest"}); const r = e.getBoundingClientRect();
                  const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
                  return r.width > 0 && (top === e || e.contains(top)); }"""
    )


@pytest.mark.browser
def test_on_a_phone_the_staff_links_fold_behind_menu_and_the_queue_starts_on_the_first_screen(
    production_server, chromium, make_report, crews
):
    browser_user(crews["member_a"])
    for i in range(5):
        make_report(point=(WEST_POINT[0] - 0.002 * i, WEST_POINT[1]))

    page = chromium.new_page(viewport=PHONE, is_mobile=True, has_touch=True, locale="es-CL")
    script_errors = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    browser_log_in(page, production_server.url, "ana", "/cuadrilla/")
    expect(page.locator("#report-list > li")).to_have_count(5)
    nav = page.get_by_role("navigation", name="Páginas de trabajo")
    menu = nav.locator("summary")
    expect(menu).to_have_accessible_name("Menú")  # the drawn arrow is not read out as part of its name
    expect(page.locator("#staff-menu")).not_to_have_attribute("open", "")
    expect(nav.get_by_role("link", name="Avisos")).to_be_hidden()
    expect(page.locator("#lang-select")).to_be_hidden()  # in the menu
    shot(page, "crew-queue-phone.png")
    header = page.locator(".site-header").bounding_box()
    assert header["height"] <= 80, header  # one bar: the brand and "Menú"
    box = menu.bounding_box()
    assert box["y"] < header["y"] + header["height"] and box["height"] >= 40, box  # a thumb's target
    first_row = page.locator("#report-list > li").first.bounding_box()
    assert first_row["y"] + first_row["height"] <= PHONE["height"], first_row  # above the fold
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    menu.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#staff-menu")).to_have_attribute("open", "")
    expect(menu).to_be_focused()
    assert menu.evaluate("b => getComputedStyle(b).outlineStyle + ' ' + getComputedStyle(b).outlineWidth") == (
        "solid 3px"
    )
    inbox = nav.get_by_role("link", name="Avisos")
    expect(inbox).to_be_visible()
    logout = nav.get_by_role("button", name="Salir")
    shot(page, "crew-queue-phone-menu-open.png")
    for control in (inbox, logout, page.locator("#lang-select")):
        assert in_viewport(control.bounding_box(), PHONE), control
    assert inbox.bounding_box()["height"] >= 44
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")
    expect(page.locator("#staff-menu")).not_to_have_attribute("open", "")
    expect(menu).to_be_focused()
    expect(inbox).to_be_hidden()

    # Tabbing past "Salir" leaves the menu: it closes, and what has focus is seen, not under the menu.
    page.keyboard.press("Enter")
    logout.focus()
    page.keyboard.press("Tab")
    expect(page.locator("#staff-menu")).not_to_have_attribute("open", "")
    assert on_top(page, ":focus"), page.evaluate("document.activeElement.outerHTML")
    # A tap outside the open menu closes it too.
    menu.click()
    expect(inbox).to_be_visible()
    page.mouse.click(PHONE["width"] / 2, PHONE["height"] - 20)  # below the open menu
    expect(inbox).to_be_hidden()
    assert script_errors == []

    # Without the script "Menú" still opens and closes (a <details>), the open menu pushing the page down.
    session = page.context.storage_state()
    page.close()
    page = chromium.new_page(viewport=PHONE, java_script_enabled=False, locale="es-CL", storage_state=session)
    page.goto(f"{production_server.url}/cuadrilla/")
    nav = page.get_by_role("navigation", name="Páginas de trabajo")
    shot(page, "crew-queue-phone-no-script.png")
    header = page.locator(".site-header").bounding_box()
    assert header["height"] <= 70, header  # the closed menu's box adds nothing under "Menú"
    first_row = page.locator("#report-list > li").first.bounding_box()
    assert first_row["y"] + first_row["height"] <= PHONE["height"], first_row
    nav.locator("summary").click()
    expect(nav.get_by_role("link", name="Avisos")).to_be_visible()
    logout = nav.get_by_role("button", name="Salir")
    expect(logout).to_be_visible()
    logout.focus()
    page.keyboard.press("Tab")
    assert on_top(page, ":focus"), page.evaluate("document.activeElement.outerHTML")
    expect(page.locator("#lang-select")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "crew-queue-phone-no-script-menu-open.png")
    page.close()

    page = chromium.new_page(viewport=LAPTOP, locale="es-CL")
    browser_log_in(page, production_server.url, "ana", "/cuadrilla/")
    nav = page.get_by_role("navigation", name="Páginas de trabajo")
    expect(nav.locator("summary")).to_be_hidden()
    expect(nav.get_by_role("link", name="Avisos")).to_be_visible()
    expect(nav.get_by_role("button", name="Salir")).to_be_visible()
    expect(page.locator("#lang-select")).to_be_visible()
    assert page.locator(".site-header").bounding_box()["height"] <= 80
    shot(page, "crew-queue-laptop.png")
    page.close()


@pytest.mark.browser
def test_on_the_narrowest_phone_the_header_is_one_bar_and_the_queue_starts_on_the_first_screen(
    production_server, chromium, make_report, crews
):
    browser_user(crews["member_a"])
    make_report(point=WEST_POINT)
    page = chromium.new_page(viewport=NARROW, is_mobile=True, has_touch=True, locale="es-CL")
    browser_log_in(page, production_server.url, "ana", "/cuadrilla/")
    shot(page, "crew-queue-320.png")
    header = page.locator(".site-header").bounding_box()
    assert header["height"] <= 80, header  # the brand and "Menú" still on one line
    first_row = page.locator("#report-list > li").first.bounding_box()
    assert first_row["y"] + first_row["height"] <= NARROW["height"], first_row
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    page.close()


def due_reports(make_report, count: int = 12) -> list[Report]:
    due = [make_report(point=WEST_POINT if i % 3 else EAST_POINT) for i in range(count)]
    Report.objects.filter(pk__in=[r.pk for r in due]).update(expected_at=timezone.now() - timedelta(days=2))
    return list(Report.objects.filter(pk__in=[r.pk for r in due]).order_by("expected_at", "pk"))


@pytest.mark.browser
@pytest.mark.parametrize("size", VIEWPORTS)
def test_a_reroute_from_the_board_confirms_in_its_row_where_the_page_lands(
    production_server, chromium, make_report, crews, size
):
    browser_user(crews["supervisor"])
    rows = due_reports(make_report)
    target = next(r for r in reversed(rows) if r.crew_id == crews["A"].pk)  # low on the board: the page must jump
    code = target.tracking_code

    viewport = VIEWPORTS[size]
    page = chromium.new_page(viewport=viewport, locale="es-CL")
    browser_log_in(page, production_server.url, "sofia", "/cuadrilla/plazos/")
    row = page.locator(f"#fila-{code}")
    row.locator("summary").click()
    select = page.locator(f"#crew-{code}")
    expect(select).to_have_value("")  # no crew chosen for the supervisor
    assert select.locator("option").all_inner_texts() == ["Elija una cuadrilla", "Cuadrilla Oriente"]
    assert select.evaluate("s => s.required")
    row.get_by_role("button", name="Derivar").click()
    expect(select).to_be_focused()  # an empty choice is refused by the browser before it reaches the server
    select.select_option(label="Cuadrilla Oriente")
    row.get_by_role("button", name="Derivar").click()

    page.wait_for_url(f"**/cuadrilla/plazos/#aviso-{code}")
    expect(page.locator(":target")).to_have_attribute("id", f"aviso-{code}")  # the page lands on the message
    status = page.locator(f"#fila-{code} [role=status]")
    expect(status).to_have_text(f"{code}: Cambio guardado.")
    box, row_box = status.bounding_box(), page.locator(f"#fila-{code}").bounding_box()
    assert in_viewport(box, viewport), (box, page.evaluate("window.scrollY"))
    assert row_box["y"] <= box["y"] and box["y"] + box["height"] <= row_box["y"] + row_box["height"]
    assert in_viewport(page.locator(f"#fila-{code} > a").bounding_box(), viewport)  # which row: its code beside it
    expect(page.locator("main > .board-page > .messages")).to_have_count(0)  # said once, where it is seen
    expect(page.locator(f"#fila-{code}")).to_contain_text("Cuadrilla Oriente")
    shot(page, f"board-rerouted-{size}.png")
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize("size", VIEWPORTS)
def test_the_board_takes_the_windows_width_and_never_runs_off_the_page(
    production_server, chromium, make_report, crews, size
):
    browser_user(crews["supervisor"])
    due_reports(make_report)
    viewport = VIEWPORTS[size]
    page = chromium.new_page(viewport=viewport, locale="es-CL")
    browser_log_in(page, production_server.url, "sofia", "/cuadrilla/plazos/")
    expect(page.locator("#board tbody tr")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    if size == "laptop":
        table = page.locator("#board").bounding_box()
        assert table["width"] > 1100, table  # not held to a 960 px column in a 1366 px window
        scroller = page.locator(".table-scroll")
        assert scroller.evaluate("s => s.scrollWidth <= s.clientWidth")  # every column in view, none behind a scroll
        widths = page.locator("#board thead th").evaluate_all("ths => ths.map(th => th.getBoundingClientRect().width)")
        assert min(widths) >= 80, widths  # headers of a word or two a line, not one letter
    shot(page, f"board-{size}.png", full_page=True)
    page.close()
