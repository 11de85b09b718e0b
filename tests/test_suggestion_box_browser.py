"""The suggestion box in headless Chromium: staff print a service point's sheet (one A5 or A4 page), the QR code on
the rendered sheet is decoded by zbar, and a phone opens what it holds and files a suggestion received at that point."""

import os
import re

import pytest
from django.contrib.gis.geos import Point
from playwright.sync_api import expect, sync_playwright

from geo_siac.attention.tests.test_suggestion_box import decode_qr
from geo_siac.reports.models import Report
from geo_siac.reports.states import Channel
from geo_siac.testing import PROJECT_ROOT, browser_log_in, browser_user, chromium_launch
from geo_siac.zones.models import ServicePoint

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

OUTPUT = PROJECT_ROOT / "test-output" / "suggestion_box"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


@pytest.mark.browser
def test_staff_print_a_points_qr_and_a_phone_that_scans_it_files_a_suggestion(production_server, crews):
    officer = crews["supervisor"]
    officer.is_staff = True
    officer.save(update_fields=["is_staff"])
    browser_user(officer)
    point = ServicePoint.objects.create(
        name="Atención nocturna Bajos de Mena",
        kind="night_service",
        commune=crews["west"].commune,
        point=Point(-70.5758, -33.6117, srid=4326),
        address="Av. Juanita 1250",
    )
    OUTPUT.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        staff = browser.new_page(viewport={"width": 1100, "height": 900}, locale="es-CL")
        browser_log_in(staff, production_server.url, "sofia", "/atencion/buzones/")
        expect(staff.locator("#boxes")).to_contain_text("Atención nocturna Bajos de Mena")
        staff.screenshot(path=OUTPUT / "1-box-list.png", full_page=True)
        staff.click(f"#print-{point.pk}-a5")
        expect(staff.locator("#box-sheet h1")).to_have_text("Buzón de sugerencias")
        staff.emulate_media(media="print")
        staff.screenshot(path=OUTPUT / "2-print-sheet-a5.png", full_page=True)
        staff.locator("#box-qr").screenshot(path=OUTPUT / "3-printed-qr.png")
        assert pdf_pages(staff.pdf(prefer_css_page_size=True)) == 1
        staff.goto(f"{production_server.url}/atencion/buzones/{point.pk}/imprimir/?papel=a4")
        assert pdf_pages(staff.pdf(prefer_css_page_size=True)) == 1
        scanned = decode_qr(OUTPUT / "3-printed-qr.png")
        assert scanned == f"{production_server.url}/buzon/{point.pk}/"

        phone = browser.new_context(locale="es-CL", **PHONE).new_page()
        phone.goto(scanned)
        expect(phone.locator("#box-point")).to_contain_text("Atención nocturna Bajos de Mena")
        phone.screenshot(path=OUTPUT / "4-phone-form.png", full_page=True)
        phone.click("#submit-box")
        expect(phone.locator("#error-service_code")).to_contain_text("Elija si es una sugerencia")
        phone.check("input[value=sugerencia]")
        phone.fill("#id_description", "Que la atención nocturna abra también los martes.")
        phone.screenshot(path=OUTPUT / "5-phone-form-filled.png", full_page=True)
        phone.click("#submit-box")
        code = phone.locator("#tracking-code").inner_text()
        phone.screenshot(path=OUTPUT / "6-phone-filed.png", full_page=True)
        width = phone.evaluate("document.documentElement.scrollWidth")
        browser.close()

    report = Report.objects.get(tracking_code=code)
    assert (report.received_at_id, report.channel, report.kind) == (point.pk, Channel.SUGGESTION_BOX, "suggestion")
    assert width <= PHONE["viewport"]["width"]  # nothing wider than the phone: no sideways scrolling


@pytest.mark.browser
def test_a_box_page_on_a_phone_speaks_for_its_municipality_and_names_each_kind_once(
    chromium, production_server, communes
):
    from django.db import connections

    from geo_siac.zones.models import ServicePointKind

    point = ServicePoint.objects.create(
        name="Oficina Lo Hermida",
        kind=ServicePointKind.MUNICIPAL_OFFICE,
        commune=communes["13122"],
        point=Point(-70.5400, -33.4850, srid=4326),
        address="Av. Grecia 8735, Peñalolén",
    )
    OUTPUT.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(locale="es-CL", **PHONE)
    page = context.new_page()
    try:
        page.goto(f"{production_server.url}/buzon/{point.pk}/")
        page.screenshot(path=OUTPUT / "box-phone.png", full_page=True)
        brand = page.locator(".brand").inner_text()
        headings = page.locator(".box-kind").all_inner_texts()
        choices = page.locator(".box-choice").all_inner_texts()
    finally:
        context.close()
        connections.close_all()  # Playwright's greenlet has its own database connection

    assert "Peñalolén" in brand and "GeoSIAC" not in brand
    assert "Sugerencia" not in headings and "Felicitación" not in headings and "Reclamo" in headings
    assert [choice.strip() for choice in choices][:2] == ["Sugerencia", "Felicitación"]  # before any kind's heading
