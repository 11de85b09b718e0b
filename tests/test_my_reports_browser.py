"""The "Mis solicitudes" journey on a phone (390x844) against the production server: from a resolved report's
tracking page (with the vecino's photo), "¿No se resolvió?" leads to the sign-in; ask for a sign-in link, read it
from the outbox, open it, see the list, reopen a closed report with a reason, and see it reopened on the tracking
page. No page of the journey scrolls sideways or has a serious axe-core violation."""

import io
import os
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from geo_siac.notifications.models import Notification
from geo_siac.reports.models import Report
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status
from geo_siac.testing import PROJECT_ROOT, WEST_POINT
from tests.test_accessibility_browser import AXE, axe_findings

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser
OUTPUT = PROJECT_ROOT / "test-output" / "my_reports"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone_page(chromium, production_server):
    from django.db import connections

    OUTPUT.mkdir(parents=True, exist_ok=True)
    # bypass_csp: axe arrives as an inline script, which the pages' policy forbids.
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="es-CL", bypass_csp=True)
    page = context.new_page()
    page.base_url = production_server.url
    yield page
    context.close()
    connections.close_all()  # Playwright's greenlet has its own connection; it would block the database teardown


def check_phone_page(page, name: str, findings: list[str]) -> None:
    page.screenshot(path=OUTPUT / f"{name}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
    findings.extend(f"{name}: {finding}" for finding in axe_findings(page))


def test_citizen_signs_in_by_link_sees_the_list_and_reopens_a_closed_report(
    phone_page, make_report, crews, production_server, settings, chromium
):
    assert AXE.exists(), f"{AXE} is missing: run scripts/setup.sh with GEO_SIAC_WITH_BROWSER=1"
    page = phone_page
    # A phone's photo, wider than the phone: the tracking page's policy (no inline styles) once let it stretch the page.
    settings.MEDIA_ROOT = production_server.root / "media"  # where the server keeps and finds photos
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 900), "olive").save(buffer, "JPEG")
    photo = SimpleUploadedFile("hoyo.jpg", buffer.getvalue(), content_type="image/jpeg")
    report = make_report(
        point=WEST_POINT,
        reporter_email="rosa@example.cl",
        description="Hoyo en la calzada.",
        public_visibility=True,
        photo=photo,
    )
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status="resolved", actor=crews["member_a"])
    findings: list[str] = []

    # With the pages' own policy in force (phone_page bypasses it for axe): an inline style would not hold the photo.
    strict = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="es-CL")
    tracking = strict.new_page()
    tracking.goto(page.base_url + f"/seguimiento/{report.tracking_code}/")
    assert tracking.locator("#report-photos img").evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    tracking.screenshot(path=OUTPUT / "0-tracking-resolved.png", full_page=True)
    assert tracking.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    strict.close()

    page.goto(page.base_url + f"/seguimiento/{report.tracking_code}/")
    page.click("#no-resuelta >> #reopen-sign-in")
    page.fill("#id_email", "rosa@example.cl")
    page.click("button[type=submit] >> text=Enviarme el enlace")
    page.locator("#link-sent").wait_for()
    check_phone_page(page, "1-link-sent", findings)

    body = Notification.objects.get(recipient="rosa@example.cl", report=None).body
    page.goto(re.search(r"http\S+/mis-solicitudes/entrar/\S+/", body).group(0))
    check_phone_page(page, "2-sign-in", findings)
    page.click("#sign-in")
    assert page.url == page.base_url + "/mis-solicitudes/"
    check_phone_page(page, "3-list", findings)
    assert page.locator("#filed .status").inner_text() == "Resuelta"

    page.click(f"#filed >> text={report.tracking_code}")
    check_phone_page(page, "4-report", findings)
    page.fill("#id_reason", "El hoyo sigue en la calzada.")
    page.click("#reopen")

    assert page.url == page.base_url + f"/seguimiento/{report.tracking_code}/"
    assert page.locator("#status").inner_text() == "En ejecución"
    assert "reabrimos su solicitud" in page.locator("#reopened").inner_text()
    assert page.locator("#no-resuelta").count() == 0
    assert "Motivo: «El hoyo sigue en la calzada.»" in page.locator(".timeline").inner_text()  # the reopening says why
    check_phone_page(page, "5-tracking-reopened", findings)
    reopened = Report.objects.get(pk=report.pk)
    assert (reopened.times_reopened, reopened.crew) == (1, crews["A"])
    assert findings == []
