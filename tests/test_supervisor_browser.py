"""A supervisor, on the production server, merges two duplicates and bulk-changes five reports of which one is already
in the target state (issue #20)."""

import os

import pytest
from playwright.sync_api import expect, sync_playwright

from geo_siac.notifications.models import Notification
from geo_siac.reports.models import Follower, Report
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status, report_follow
from geo_siac.testing import EAST_POINT, PROJECT_ROOT, WEST_POINT, browser_log_in, browser_user, chromium_launch

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
SCREENSHOTS = PROJECT_ROOT / "test-output"
DESKTOP = {"width": 1280, "height": 900}


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / name, full_page=True)


@pytest.mark.browser
def test_supervisor_merges_two_duplicates_and_bulk_changes_five_reports_one_already_there(
    production_server, make_report, crews
):
    browser_user(crews["supervisor"])
    original = make_report(point=WEST_POINT, reporter_email="primera@example.cl")
    duplicate = make_report(point=(WEST_POINT[0] + 0.0003, WEST_POINT[1]), reporter_email="segunda@example.cl")
    report_follow(report=duplicate, email="vecino@example.cl")
    five = [make_report(point=(WEST_POINT[0] - 0.002 * i, WEST_POINT[1])) for i in range(1, 6)]
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=five[3], status="acknowledged")
    other_crew = make_report(point=EAST_POINT)

    with sync_playwright() as playwright:
        page = chromium_launch(playwright).new_page(viewport=DESKTOP, locale="es-CL")
        script_errors = []
        page.on("pageerror", lambda error: script_errors.append(str(error)))
        browser_log_in(page, production_server.url, "sofia", "/cuadrilla/supervision/")
        expect(page.locator("h1")).to_have_text("Supervisión")
        expect(page.locator("#crew-map .report-marker")).to_have_count(8)

        page.get_by_label("Solicitud duplicada (se cierra)").fill(duplicate.tracking_code)
        page.get_by_label("Solicitud original (sigue abierta)").fill(original.tracking_code)
        shot(page, "supervisor-merge-form.png")
        page.click("#merge-form button[type=submit]")
        expect(page.locator("#results")).to_contain_text(
            f"{duplicate.tracking_code} cerrada como duplicada de {original.tracking_code}"
        )
        expect(page.locator("#report-list")).not_to_contain_text(duplicate.tracking_code)

        page.select_option("#id_cuadrilla", label="Cuadrilla Poniente")
        page.click("#filters button[type=submit]")
        expect(page.locator("#report-list li")).to_have_count(6)  # the original and the five
        expect(page.locator("#report-list")).not_to_contain_text(other_crew.tracking_code)
        expect(page.locator("#crew-map .report-marker")).to_have_count(6)
        for report in five:
            page.get_by_role("checkbox", name=report.tracking_code).check()
        page.get_by_label("Cambiar estado a").select_option(label="Acogida")
        shot(page, "supervisor-bulk-selection.png")
        page.click("#bulk-form button[type=submit]")

        results = page.locator("#results li")
        expect(results).to_have_count(5)
        expect(page.locator("#results .bulk-unchanged")).to_have_text(
            f"{five[3].tracking_code}: sin cambios. Ya está en «Acogida»."
        )
        expect(page.locator("#results .bulk-changed")).to_have_count(4)
        assert "cuadrilla=" in page.url  # back on the filtered list
        expect(page.locator("#id_cuadrilla")).to_have_value(str(crews["A"].pk))
        shot(page, "supervisor-bulk-results.png")

        citizen = chromium_launch(playwright).new_page(viewport=DESKTOP, locale="es-CL")
        citizen.goto(f"{production_server.url}/seguimiento/{duplicate.tracking_code}/")
        expect(citizen.locator("#status")).to_have_text("Cerrada: duplicada")
        shot(citizen, "supervisor-duplicate-tracking.png")
        citizen.locator("#duplicate-of a").click()
        expect(citizen.locator("h1")).to_contain_text(original.tracking_code)
        shot(citizen, "supervisor-duplicate-original.png")
        assert script_errors == []

    assert {r.status for r in Report.objects.filter(pk__in=[r.pk for r in five])} == {"acknowledged"}
    assert Report.objects.get(pk=duplicate.pk).duplicate_of_id == original.pk
    assert set(Follower.objects.filter(report=original).values_list("email", flat=True)) == {
        "segunda@example.cl",
        "vecino@example.cl",
    }
    assert Notification.objects.filter(
        report=duplicate, recipient="vecino@example.cl", body__contains=f"Siga la solicitud {original.tracking_code}"
    ).exists()
