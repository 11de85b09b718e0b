"""A phone operator places the citizen's problem on the map, sees a likely duplicate, files the report and reads
the tracking code back."""

import os

import pytest
from playwright.sync_api import expect, sync_playwright

from geo_siac.reports.models import Report
from geo_siac.testing import PROJECT_ROOT, browser_log_in, browser_user, chromium_launch
from geo_siac.zones.selectors import served_area_centre

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread


@pytest.mark.browser
def test_operator_clicks_the_map_sees_a_nearby_report_and_files_a_phone_report(
    production_server, make_report, crews
):
    operator = browser_user(crews["operator"])
    lat, lng = served_area_centre()  # the operator map opens centred here
    earlier = make_report(point=(lat, lng))

    # Database checks come after the browser is closed (see test_crew_phone_browser.py).
    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        page = browser.new_page(viewport={"width": 1024, "height": 900}, locale="es-CL")
        browser_log_in(page, production_server.url, "oscar", "/operador/")
        page.select_option("#id_channel", "phone")
        page.select_option("#id_category", "retiro-escombros")
        page.click("#operator-map")  # the centre of the map
        expect(page.locator("#nearby")).to_contain_text(earlier.tracking_code)
        assert abs(float(page.input_value("#id_latitude")) - lat) < 0.001
        page.fill("#id_description", "Vecina llamó: escombros frente a su casa")
        (PROJECT_ROOT / "test-output").mkdir(exist_ok=True)
        page.screenshot(path=PROJECT_ROOT / "test-output" / "operator-console.png", full_page=True)
        page.click("#operator-form button[type=submit]")
        code = page.locator("#tracking-code").inner_text()
        page.screenshot(path=PROJECT_ROOT / "test-output" / "operator-filed.png", full_page=True)
        browser.close()

    report = Report.objects.get(tracking_code=code)
    assert (report.channel, report.created_by) == ("phone", operator)
    assert report.description == "Vecina llamó: escombros frente a su casa"
