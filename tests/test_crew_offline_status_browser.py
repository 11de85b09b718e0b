"""The crew pages say the connection and the outbox at the top (one status bar under the header), show a change
waiting to be sent beside the report's status, and draw the report's status again once it is sent, without losing
what the crew member is typing. Phone-sized Chromium against the production server; screenshots in
test-output/off23/."""

import os

import pytest
from playwright.sync_api import expect, sync_playwright

from geo_siac.reports.models import CrewAction, Report
from geo_siac.testing import PROJECT_ROOT, WEST_POINT, browser_user, chromium_launch
from geo_siac.workspace.access import seen_report
from tests.test_crew_offline_browser import PHONE, open_queue, phone

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
SCREENSHOTS = PROJECT_ROOT / "test-output" / "off23"
OFFLINE = "Sin conexión: los cambios se guardan en este dispositivo."
TOP = 140  # px from the top of the page: under the header, above the page's first heading
# "Cambios enviados" shown for 1.5 s instead of 8 (the page's data-flash), set before the crew script reads it.
SHORT_FLASH = """new MutationObserver((records, observer) => {
  const app = document.getElementById("offline-app");
  if (app) { app.dataset.flash = "1500"; observer.disconnect(); }
}).observe(document, {childList: true, subtree: true});"""


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / name)


def bar_near_top(page):
    """The bar, drawn just under the header (the page scrolled to its top)."""
    page.evaluate("window.scrollTo(0, 0)")
    bar = page.locator("#offline-bar")
    box = bar.bounding_box()
    header = page.locator(".site-header").bounding_box()
    assert box is not None and header["y"] + header["height"] <= box["y"] <= TOP, (box, header)
    assert box["height"] < PHONE["height"] / 5, box  # a small bar, not a panel
    return bar


def status_options(page):
    return page.eval_on_selector_all("#id_status option", "options => options.map(o => o.value)")


def kept_copy(page):
    """The report page's copy the service worker keeps for offline use, as the phone would show it without network."""
    return page.evaluate("caches.match(location.href).then(r => r ? r.text() : '')")


def record(page, base_url, report):
    page.goto(f"{base_url}/cuadrilla/solicitud/{report.tracking_code}/")
    page.select_option("#id_status", "resolved")
    page.fill("#id_public_note", "Reparamos la luminaria.")
    page.fill("#id_note", "Cambio de ampolleta")
    page.click("#status-form button[type=submit]")


@pytest.mark.browser
def test_the_bar_says_offline_and_pending_at_the_top_and_the_page_shows_the_sent_status(
    production_server, make_report, crews
):
    browser_user(crews["member_a"])
    report = make_report(point=WEST_POINT)
    url = production_server.url
    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        context = phone(browser)
        context.add_init_script(SHORT_FLASH)
        page = context.new_page()
        script_errors = []
        page.on("pageerror", lambda error: script_errors.append(str(error)))
        open_queue(page, url)
        expect(page.locator("#offline-bar")).to_have_text("")  # online, nothing waiting: no bar
        assert page.locator("#offline-bar").get_attribute("role") == "status"
        shot(page, "01-queue-online.png")

        context.set_offline(True)
        page.goto(f"{url}/cuadrilla/solicitud/{report.tracking_code}/")
        expect(bar_near_top(page)).to_have_text(OFFLINE)
        expect(page.locator("#offline-app")).not_to_contain_text("Sin conexión")  # one place, not a second copy
        shot(page, "02-report-offline.png")

        record(page, url, report)
        status_line = page.locator("#report-status + [data-pending-for]")
        expect(status_line).to_have_text(" · cambio a Resuelta pendiente de envío")
        expect(page.locator("#report-status")).to_have_text("Recibida")
        expect(page.locator("#offline-bar")).to_be_in_viewport()  # sticky: in view from the form just tapped
        shot(page, "03-report-pending-at-the-form.png")
        expect(bar_near_top(page)).to_have_text(f"{OFFLINE} 1 cambio pendiente de envío.")
        shot(page, "04-report-pending.png")
        # A field above the view, focused (Tab, a form's error): scrolled to below the sticky bar, not under it.
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        page.focus("#id_status")
        field = page.locator("#id_status").bounding_box()
        bar = page.locator("#offline-bar").bounding_box()
        assert field["y"] >= bar["y"] + bar["height"], (field, bar)

        page.goto(f"{url}/cuadrilla/")
        row = page.locator("#report-list li", has_text=report.tracking_code)
        expect(row).to_contain_text("Recibida · cambio a Resuelta pendiente de envío")
        expect(bar_near_top(page)).to_have_text(f"{OFFLINE} 1 cambio pendiente de envío.")
        shot(page, "05-queue-pending.png")

        page.goto(f"{url}/cuadrilla/solicitud/{report.tracking_code}/")
        page.evaluate("window.beforeSending = 1")
        context.set_offline(False)
        # Sent, and nothing typed: the page is reloaded with the report's current status, the bar says so.
        expect(page.locator("#report-status")).to_have_text("Resuelta")
        assert page.evaluate("window.beforeSending") is None  # a new page: reloaded, not patched
        expect(bar_near_top(page)).to_have_text("Cambios enviados: 1.")
        heading = page.locator("main h1").bounding_box()
        expect(status_line).to_have_text("")
        expect(page.locator("#history")).to_contain_text("Reparamos la luminaria.")
        assert "Recargue" not in page.content()
        shot(page, "06-report-sent.png")
        expect(page.locator("#offline-bar")).to_have_text("", timeout=5000)  # "briefly"
        assert page.locator("main h1").bounding_box() == heading  # drawn over the page: nothing moved when it went
        page.goto(f"{url}/cuadrilla/")
        expect(page.locator("#report-list")).not_to_contain_text(report.tracking_code)  # resolved: not open
        expect(page.locator("#offline-bar")).to_have_text("")
        assert script_errors == []
        browser.close()
    report = Report.objects.get(pk=report.pk)
    assert report.status == "resolved"
    assert report.events.filter(kind="status").count() == 1
    assert CrewAction.objects.filter(report=report).count() == 1


@pytest.mark.browser
def test_a_change_sent_while_typing_updates_the_status_and_keeps_what_is_typed(production_server, make_report, crews):
    member = browser_user(crews["member_a"])
    report = make_report(point=WEST_POINT)
    url = production_server.url
    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        context = phone(browser)
        page = context.new_page()
        open_queue(page, url)
        context.set_offline(True)
        page.goto(f"{url}/cuadrilla/solicitud/{report.tracking_code}/")
        page.select_option("#id_status", "in_progress")
        page.fill("#id_note", "En camino")
        page.click("#status-form button[type=submit]")
        expect(page.locator("#report-status + [data-pending-for]")).to_have_text(
            " · cambio a En ejecución pendiente de envío"
        )
        page.fill("#id_note", "Sigo escribiendo la nota")  # the next note, still being typed
        context.set_offline(False)
        expect(page.locator("#report-status")).to_have_text("En ejecución")
        expect(page.locator("#offline-bar")).to_have_text("Cambios enviados: 1.")
        expect(page.locator("#report-status + [data-pending-for]")).to_have_text("")
        expect(page.locator("#history")).to_contain_text("En camino")
        assert page.input_value("#id_note") == "Sigo escribiendo la nota"  # not reloaded away
        assert page.evaluate("document.activeElement.id") == "id_note"
        seen = page.input_value("#status-form input[name=seen]")
        app_seen = page.evaluate("document.getElementById('offline-app').dataset.seen")
        shot(page, "07-report-sent-while-typing.png")
        # The version tokens are the changed report's: the next change, online or offline, is not refused as another's.
        changed = Report.objects.get(pk=report.pk)
        assert changed.status == "in_progress" and seen == changed.updated_at.isoformat()
        assert seen_report(member, app_seen) == (changed, changed.updated_at)
        # The status choices are the ones the report offers now, as a page loaded afresh shows them.
        fresh = context.new_page()
        fresh.goto(f"{url}/cuadrilla/solicitud/{report.tracking_code}/")
        assert status_options(page) == status_options(fresh)
        fresh.close()
        # The copy kept for offline use is the updated page, not the one from before sending.
        for _ in range(50):
            if "En camino" in kept_copy(page):
                break
            page.wait_for_timeout(100)
        assert "En camino" in kept_copy(page)
        # The next change, sent online from the same page, is applied (not refused for a stale token).
        page.select_option("#id_status", "resolved")
        page.fill("#id_public_note", "Reparamos la luminaria.")
        page.click("#status-form button[type=submit]")
        expect(page.locator("#report-status")).to_have_text("Resuelta")
        browser.close()
    report = Report.objects.get(pk=report.pk)
    assert report.status == "resolved" and report.events.filter(kind="status").count() == 2
    assert CrewAction.objects.filter(report=report).count() == 1  # the offline one; the second was a form post


@pytest.mark.browser
def test_a_change_the_service_worker_sends_first_updates_the_open_page(production_server, make_report, crews):
    browser_user(crews["member_a"])
    report = make_report(point=WEST_POINT)
    url = production_server.url
    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        context = phone(browser)
        page = context.new_page()
        open_queue(page, url)
        context.set_offline(True)
        record(page, url, report)
        expect(page.locator("#report-status + [data-pending-for]")).to_have_text(
            " · cambio a Resuelta pendiente de envío"
        )
        # The worker's Background Sync gets there first: the page's own sending does not get through (the worker's
        # requests are not the page's, so not routed).
        page.route("**/cuadrilla/api/acciones/", lambda route: route.abort())
        context.set_offline(False)
        expect(page.locator("#report-status")).to_have_text("Resuelta")
        expect(page.locator("#offline-bar")).to_have_text("Cambios enviados: 1.")
        expect(page.locator("#report-status + [data-pending-for]")).to_have_text("")
        shot(page, "09-report-sent-by-the-worker.png")
        browser.close()
    report = Report.objects.get(pk=report.pk)
    assert report.status == "resolved" and report.events.filter(kind="status").count() == 1
