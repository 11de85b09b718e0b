"""Triage of a request without a place in headless Chromium, against the production server: a consulta filed as
email files it (report_create, channel email) waits in the triage queue's "sin lugar" list with its kind and
channel; the supervisor reclassifies it as a reclamo (the citizen is told) and answers it with a letter. The list
and the request page are looked at on a desktop and on a phone."""

import os

import pytest
from playwright.sync_api import expect, sync_playwright

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.notifications.models import Notification
from geo_siac.reports.models import Report
from geo_siac.reports.services import report_create
from geo_siac.testing import PROJECT_ROOT, browser_log_in, browser_user, chromium_launch

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

OUTPUT = PROJECT_ROOT / "test-output" / "triage"
CITIZEN = "vecina@example.cl"


@pytest.mark.browser
def test_an_emailed_query_is_reclassified_as_a_complaint_and_answered_with_a_letter(production_server, crews, communes):
    browser_user(crews["supervisor"])
    query = report_create(
        kind=RequestKind.QUERY,
        category="consulta-tramites",
        commune=communes["13201"],
        channel="email",
        description="El camión de la basura no pasa por mi calle hace dos semanas y nadie responde.",
        reporter_name="Rosa Pérez",
        reporter_email=CITIZEN,
    )
    code = query.tracking_code
    OUTPUT.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        desk = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="es-CL")
        browser_log_in(desk, production_server.url, "sofia", "/cuadrilla/supervision/")
        desk.click("#placeless-link")
        row = desk.locator(f".triage-row[data-code='{code}']")
        expect(row.locator(".kind")).to_have_text("Consulta")
        expect(row.locator(".channel")).to_have_text("Correo electrónico")
        expect(row.locator(".act-answer")).to_have_count(0)  # a consulta is not answered by letter
        desk.screenshot(path=OUTPUT / "1-desktop-triage-without-place.png", full_page=True)

        row.locator(".act-reclassify").click()
        desk.select_option("#id_reclassify_category", "reclamo-servicio")
        desk.fill("#id_reclassify_reason", "La vecina reclama por el servicio de recolección.")
        desk.screenshot(path=OUTPUT / "2-desktop-reclassify-form.png", full_page=True)
        desk.click("#reclassify-form button[type=submit]")
        expect(desk.locator("body")).to_contain_text("Cambio guardado.")
        expect(desk.locator("#kind")).to_have_text("Reclamo")

        desk.fill("#id_answer_note", "Reforzamos la ruta de recolección de su calle desde el lunes.")
        desk.click("#answer-send")
        expect(desk.locator("body")).to_contain_text("Respuesta enviada con su carta")
        expect(desk.locator("#report-status")).to_have_text("Resuelta")
        desk.screenshot(path=OUTPUT / "3-desktop-answered.png", full_page=True)

        other = report_create(
            kind=RequestKind.QUERY,
            category="consulta-tramites",
            commune=communes["13201"],
            channel="whatsapp",
            description="¿Qué horario tiene la OIRS?",
            reporter_phone="+56 9 1234 5678",
        )
        phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="es-CL")
        browser_log_in(phone, production_server.url, "sofia", "/cuadrilla/supervision/")
        phone.goto(f"{production_server.url}/cuadrilla/supervision/?cuadrilla=triage&sin_lugar=on")
        expect(phone.locator(f".triage-row[data-code='{other.tracking_code}'] .channel")).to_have_text("WhatsApp")
        expect(phone.locator(f".triage-row[data-code='{code}']")).to_have_count(0)  # answered: no longer open
        phone.screenshot(path=OUTPUT / "4-phone-triage-without-place.png", full_page=True)
        phone.goto(f"{production_server.url}/cuadrilla/solicitud/{other.tracking_code}/")
        expect(phone.locator("#reclassify-form")).to_be_visible()
        phone.screenshot(path=OUTPUT / "5-phone-request-page.png", full_page=True)
        browser.close()

    stored = Report.objects.get(pk=query.pk)
    assert (stored.kind, stored.category.service_code, stored.status) == (
        RequestKind.COMPLAINT,
        "reclamo-servicio",
        "resolved",
    )
    assert stored.letters.count() == 1
    bodies = list(Notification.objects.filter(recipient=CITIZEN).values_list("body", flat=True))
    assert any("quedó registrada como «Reclamo»" in body for body in bodies)
    assert any("La carta de respuesta:" in body for body in bodies)
