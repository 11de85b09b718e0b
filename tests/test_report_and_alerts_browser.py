"""The executive report with its comuna and month form, and the alerts worded by their request's state, in a browser
on the production server at a desktop's 1366x768 (screenshots in test-output/ind24/)."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from geo_siac.alerts.models import Alert, AlertKind, Recipient, StaffAlert
from geo_siac.reports.models import Report
from geo_siac.testing import PROJECT_ROOT, WEST_POINT, browser_log_in, browser_user

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
SCREENSHOTS = PROJECT_ROOT / "test-output" / "ind24"
DESKTOP = {"width": 1366, "height": 768}


@pytest.mark.browser
def test_the_executive_report_opens_on_the_last_complete_month_and_its_form_picks_another(
    production_server, chromium, make_report, crews
):
    admin = browser_user(crews["admin"])
    for _ in range(3):
        make_report(point=WEST_POINT)
    page = chromium.new_page(viewport=DESKTOP, locale="es-CL")
    browser_log_in(page, production_server.url, admin.username, "/transparencia/informe/")
    expect(page.locator("h1")).to_have_text("Informe ejecutivo de solicitudes vecinales")
    last_month = (timezone.localdate().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    expect(page.locator("#report-month")).to_have_value(last_month)
    expect(page.locator("#report-pdf")).to_have_text("Descargar PDF")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "executive-report-form-1366.png")
    page.select_option("#report-commune", "13201")  # the admin works for every comuna: Peñalolén comes first
    page.fill("#report-month", timezone.localdate().strftime("%Y-%m"))
    page.click("#report-form button[type=submit]")
    expect(page.locator("#by-kind")).to_contain_text("Solicitud de servicio")
    page.screenshot(path=SCREENSHOTS / "executive-report-this-month-1366.png", full_page=True)
    page.close()


@pytest.mark.browser
def test_the_alerts_page_leads_with_each_requests_state_most_urgent_first(
    production_server, chromium, make_report, crews
):
    sofia = browser_user(crews["supervisor"])
    now = timezone.now()
    overdue, soon = make_report(point=WEST_POINT), make_report(point=WEST_POINT)
    Report.objects.filter(pk=overdue.pk).update(expected_at=now - timedelta(days=9))
    Report.objects.filter(pk=soon.pk).update(expected_at=now + timedelta(days=3))
    for report, level, threshold, age in ((overdue, 1, -2, 12), (soon, 1, -2, 0), (overdue, 3, 5, 1)):
        alert = Alert.objects.create(
            report=report,
            kind=AlertKind.ESCALATION,
            level=level,
            fired_at=now - timedelta(days=age),
            threshold_business_days=threshold,
            recipients=[Recipient.CREW_SUPERVISOR],
        )
        StaffAlert.objects.create(alert=alert, user=sofia)
    page = chromium.new_page(viewport=DESKTOP, locale="es-CL")
    browser_log_in(page, production_server.url, "sofia", "/cuadrilla/avisos/")
    items = page.locator("#alerts > li")
    expect(items).to_have_count(3)
    expect(items.nth(0)).to_contain_text("Vencida hace")
    expect(items.nth(0)).to_contain_text("Escalamiento nivel 3")
    expect(items.nth(1)).to_contain_text("Escalamiento nivel 1")
    expect(items.nth(2)).to_contain_text("Vence en")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "alerts-1366.png")
    page.close()
