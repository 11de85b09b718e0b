"""A requester on a phone (390x844) files a Ley 20.285 request with a PDF, against the production server; an image
renamed .pdf comes back refused, naming the file; the supervisor's page of the request lists the PDF and offers no
crew work. Screenshots go to test-output/info23/."""

import io
import os

import pytest
from django.urls import reverse
from PIL import Image

from geo_siac.reports.models import Report, ReportDocument
from geo_siac.testing import PROJECT_ROOT

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser
OUTPUT = PROJECT_ROOT / "test-output" / "info23"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (0, 90, 200)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def phone(chromium, production_server):
    from django.db import connections

    OUTPUT.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(**PHONE, locale="es-CL")
    page = context.new_page()
    page.base_url = production_server.url
    yield context, page
    context.close()
    connections.close_all()  # Playwright's greenlet has its own connection; it would block the database teardown


def fill_request(page, document: dict) -> None:
    page.goto(page.base_url + "/solicitud/acceso-informacion/")
    page.select_option("#id_commune", "13201")
    page.fill("#id_description", "Copia del decreto que aprobó la remodelación de la plaza.")
    page.fill("#id_reporter_name", "Rosa Pérez")
    page.fill("#id_reporter_email", "rosa@example.cl")
    page.check("#id_consent")
    page.set_input_files("#id_documents", [document])


def test_a_requester_files_a_pdf_from_a_phone_and_the_supervisor_sees_it(phone, communes, crews, client):
    context, page = phone
    fill_request(page, {"name": "poder.pdf", "mimeType": "application/pdf", "buffer": png_bytes()})
    with page.expect_navigation():
        page.click("#submit-request")
    assert page.title().startswith("Error: ")
    error = page.locator("#error-documents").inner_text()
    assert "El archivo «poder.pdf» no es un documento PDF" in error
    page.locator("#id_documents").scroll_into_view_if_needed()
    page.screenshot(path=OUTPUT / "phone-1-fake-pdf-refused.png", full_page=True)
    assert not Report.objects.exists()

    fill_request(page, {"name": "poder notarial.pdf", "mimeType": "application/pdf", "buffer": PDF})
    page.locator("#id_documents").scroll_into_view_if_needed()
    page.screenshot(path=OUTPUT / "phone-2-form-with-pdf.png", full_page=True)
    with page.expect_navigation():
        page.click("#submit-request")
    page.screenshot(path=OUTPUT / "phone-3-filed.png", full_page=True)
    document = ReportDocument.objects.select_related("report").get()
    assert document.name == "poder notarial.pdf" and document.size == len(PDF)

    client.force_login(crews["supervisor"])
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": page.base_url}])
    page.goto(page.base_url + reverse("crew:report", args=[document.report.tracking_code]))
    assert page.locator("#citizen-documents a").inner_text() == "poder notarial.pdf"
    assert page.locator("#record-location").count() == 0 and page.locator("input[name=photos]").count() == 0
    page.locator("#citizen-documents").scroll_into_view_if_needed()
    page.screenshot(path=OUTPUT / "phone-4-staff-page.png", full_page=True)
    with page.expect_download() as download:
        page.click("#citizen-documents a")
    assert download.value.suggested_filename == "poder notarial.pdf"
    with open(download.value.path(), "rb") as saved:
        assert saved.read() == PDF
