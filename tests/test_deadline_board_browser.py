"""The deadline board on a phone and on a desktop: each row's reroute and extension forms are folded under one
summary, so the board reads as a list first, and open from the keyboard."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from geo_siac.reports.models import Report
from geo_siac.testing import EAST_POINT, PROJECT_ROOT, WEST_POINT, browser_log_in, browser_user

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
SCREENSHOTS = PROJECT_ROOT / "test-output"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 768}}
DUE = 12  # a demo commune's morning: a dozen requests due today or overdue


def page_height(page) -> int:
    return page.evaluate("document.documentElement.scrollHeight")


@pytest.mark.browser
@pytest.mark.parametrize("size", VIEWPORTS)
def test_the_boards_rows_fold_their_actions_and_open_from_the_keyboard(
    production_server, chromium, make_report, crews, size
):
    browser_user(crews["supervisor"])
    due = [make_report(point=WEST_POINT if i % 3 else EAST_POINT) for i in range(DUE)]
    Report.objects.filter(pk__in=[r.pk for r in due]).update(expected_at=timezone.now() - timedelta(days=2))
    first = Report.objects.filter(pk__in=[r.pk for r in due]).order_by("expected_at", "pk").first()

    viewport = VIEWPORTS[size]
    page = chromium.new_page(viewport=viewport, locale="es-CL")
    script_errors = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    browser_log_in(page, production_server.url, "sofia", "/cuadrilla/plazos/")
    expect(page.locator("h1")).to_have_text("Por vencer y vencidas")
    rows = page.locator("#due > li")
    expect(rows).to_have_count(DUE)
    expect(page.locator("#due details[open]")).to_have_count(0)
    expect(page.locator("#due form").first).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]  # nothing runs off the side
    # The code leads its line: the date after it starts on the code's line, not on one of its own.
    assert rows.first.evaluate(
        """li => { const range = document.createRange(); range.selectNodeContents(li.childNodes[1]);
                   return range.getClientRects()[0].top < li.querySelector("a").getBoundingClientRect().bottom; }"""
    )
    folded = page_height(page)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"deadline-board-{size}-folded.png", full_page=True)

    summary = page.locator("#due summary").first
    expect(summary).to_have_text(f"Derivar o prorrogar… {first.tracking_code}")  # the code tells rows apart aloud
    summary.focus()
    page.keyboard.press("Enter")
    crew_box = page.locator(f"#crew-{first.tracking_code}")
    expect(crew_box).to_be_visible()
    page.keyboard.press("Tab")
    expect(crew_box).to_be_focused()
    expect(page.get_by_label("Derivar a la cuadrilla").first).to_be_visible()
    page.screenshot(path=SCREENSHOTS / f"deadline-board-{size}-one-open.png", full_page=True)

    page.evaluate("document.querySelectorAll('#due details').forEach(d => d.open = true)")
    unfolded = page_height(page)
    assert folded < unfolded * 0.75
    assert script_errors == []
    page.close()
