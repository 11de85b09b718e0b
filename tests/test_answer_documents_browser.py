"""An officer answers a Ley 20.285 request with its letter and two PDFs (the information delivered); the requester,
signed in to Mis solicitudes on a phone (390x844), sees the letter with its "Documentos adjuntos" on the tracking
page, and their own subsanación text, and downloads a document; the code alone shows neither. Against the production
server; screenshots in test-output/info24/."""

import os
import re

import pytest
from playwright.sync_api import expect, sync_playwright

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.notifications.models import Notification
from geo_siac.reports.services import information_correction_request, report_add_citizen_info, report_create
from geo_siac.testing import PROJECT_ROOT, browser_log_in, browser_user, chromium_launch

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser
OUTPUT = PROJECT_ROOT / "test-output" / "info24"
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def test_the_requester_opens_the_answers_documents_on_a_phone(production_server, crews, communes):
    OUTPUT.mkdir(parents=True, exist_ok=True)
    browser_user(crews["supervisor"])
    report = report_create(
        kind=RequestKind.INFORMATION,
        category="acceso-informacion",
        commune=communes["13201"],
        channel="web",
        description="Copia del decreto que aprobó la remodelación de la plaza.",
        reporter_name="Rosa Pérez",
        reporter_email="rosa@example.cl",
    )
    information_correction_request(report=report, note="Indique el año del decreto.", actor=crews["supervisor"])
    report.refresh_from_db()
    report_add_citizen_info(report=report, note="Es el decreto 123 de 2024.", by_email="rosa@example.cl")
    code = report.tracking_code
    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        officer = browser.new_page(viewport={"width": 1024, "height": 1300}, locale="es-CL")
        browser_log_in(officer, production_server.url, "sofia", f"/cuadrilla/solicitud/{code}/")
        officer.select_option("#id_answer_outcome", "delivered")
        officer.fill("#id_answer_note", "Se entrega copia del decreto 123 de 2024 y su plano.")
        officer.set_input_files(
            "#legal-answer-form #id_documents",
            [
                {"name": "decreto-123-2024.pdf", "mimeType": "application/pdf", "buffer": PDF},
                {"name": "plano plaza.pdf", "mimeType": "application/pdf", "buffer": PDF * 400},
            ],
        )
        officer.click("#answer-send")
        expect(officer.locator("#messages")).to_contain_text("Respuesta enviada con su carta")

        stranger = browser.new_page(viewport={"width": 390, "height": 844}, locale="es-CL")
        stranger.goto(f"{production_server.url}/seguimiento/{code}/")
        expect(stranger.locator("#letters-private")).to_be_visible()
        expect(stranger.locator("body")).not_to_contain_text("decreto-123-2024.pdf")
        expect(stranger.locator("body")).not_to_contain_text("Es el decreto 123 de 2024.")

        phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="es-CL", accept_downloads=True)
        phone.goto(f"{production_server.url}/mis-solicitudes/ingresar/")
        phone.fill("#id_email", "rosa@example.cl")
        phone.locator("form button[type=submit]").first.click()
        body = Notification.objects.filter(recipient="rosa@example.cl", report=None).latest("id").body
        phone.goto(production_server.url + re.search(r"/mis-solicitudes/entrar/[^/\s]+/", body)[0])
        phone.click("#sign-in")
        phone.goto(f"{production_server.url}/seguimiento/{code}/")
        documents = phone.locator("#letter-1-documents li")
        expect(documents).to_have_count(2)
        expect(documents.first).to_contain_text("decreto-123-2024.pdf")
        expect(phone.locator("#own-corrections")).to_contain_text("Es el decreto 123 de 2024.")
        phone.screenshot(path=OUTPUT / "1-phone-tracking-letter-documents.png", full_page=True)
        with phone.expect_download() as download:
            documents.first.locator("a").click()
        assert download.value.suggested_filename == "decreto-123-2024.pdf"
        assert download.value.path().read_bytes() == PDF
        phone.click("#letter-1")
        expect(phone.locator("#letter-attachments")).to_contain_text("plano plaza.pdf")
        phone.screenshot(path=OUTPUT / "2-phone-letter-documents.png", full_page=True)
        browser.close()
