"""PDF documents of a Ley 20.285 request (issue info23): checked by their content under one upload rule
(reports.photos), stored like the private photos, served only to the request's staff as a download, never on a
public page or API; only the kinds that take them (catalogue.kinds) do."""

import io
import re
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.reports.models import Report, ReportDocument, ReportEvent
from geo_siac.reports.photos import process_document
from geo_siac.reports.selectors import email_key
from geo_siac.reports.services import information_correction_request, report_add_citizen_info, report_create
from geo_siac.reports.services.erasure import reporter_data_erase, schema_people

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (0, 90, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def pdf_upload(name="poder notarial.pdf", content=PDF):
    # The client's type claims a PDF whatever the bytes: the rule must not trust it.
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def information_request(communes, **extra):
    return report_create(
        kind=RequestKind.INFORMATION,
        category="acceso-informacion",
        commune=communes["13201"],
        channel="web",
        description="Copia del decreto de la plaza.",
        reporter_name="Rosa Pérez",
        reporter_email="rosa@example.cl",
        **extra,
    )


def form_post(client, **files):
    page = client.get("/solicitud/acceso-informacion/").content.decode()
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    data = {
        "token": token,
        "service_code": "acceso-informacion",
        "commune": "13201",
        "description": "Copia del decreto de la plaza.",
        "reporter_name": "Rosa Pérez",
        "reporter_email": "rosa@example.cl",
        "consent": "on",
        **files,
    }
    return client.post("/solicitud/acceso-informacion/", data)


def downloaded(client, name: str):
    response = client.get(reverse("document", args=[name]))
    body = b"".join(response.streaming_content) if response.status_code == 200 else b""
    return response.status_code, body, response


def test_a_pdf_filed_with_an_information_request_is_served_only_to_its_staff_as_a_download(client, communes, crews):
    form = client.get("/solicitud/acceso-informacion/").content.decode()
    assert 'name="documents"' in form and 'accept="application/pdf,.pdf"' in form
    response = form_post(client, documents=[pdf_upload(), pdf_upload("cedula.pdf")])
    assert response.status_code == 302
    first, second = ReportDocument.objects.order_by("id")
    assert (first.name, second.name, first.size) == ("poder notarial.pdf", "cedula.pdf", len(PDF))
    assert first.file.name.startswith("reports/documents/") and "poder" not in first.file.name
    with default_storage.open(first.file.name, "rb") as stored:
        assert stored.read() == PDF

    assert downloaded(client, first.file.name)[0] == 404  # a visitor
    client.force_login(crews["member_b"])  # a crew that does not work the request
    assert downloaded(client, first.file.name)[0] == 404
    for person in ("supervisor", "admin"):
        client.force_login(crews[person])
        status, body, served = downloaded(client, first.file.name)
        assert status == 200 and body == PDF, person
        assert served["Content-Type"] == "application/pdf"
        assert served["Content-Disposition"].startswith("attachment;") and "poder" in served["Content-Disposition"]
        assert served["X-Content-Type-Options"] == "nosniff"
        assert served["Content-Security-Policy"] == "sandbox; default-src 'none'"
        assert "private" in served["Cache-Control"] and "no-store" in served["Cache-Control"]
    staff_page = client.get(reverse("crew:report", args=[first.report.tracking_code])).content.decode()
    assert reverse("document", args=[first.file.name]) in staff_page and "poder notarial.pdf" in staff_page
    # The photo address never serves a document, whoever asks.
    assert client.get(reverse("photo", args=[first.file.name])).status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("poder.pdf", png_bytes(), "no es un documento PDF"),  # an image renamed .pdf
        ("poder.pdf", b"<html><body><script>alert(1)</script>%PDF-1.4\n%%EOF</body></html>", "no es un documento PDF"),
        ("poder.pdf", b"\n%PDF-1.4\n%%EOF\n", "no es un documento PDF"),  # the header must be the first bytes
        ("poder.pdf", b"%PDF-1.4\n1 0 obj\n", "no es un PDF completo"),  # cut short: no end-of-file marker
        ("poder.pdf", b"", "está vacío"),
    ],
)
def test_a_fake_pdf_is_refused_naming_the_file_and_nothing_is_filed(client, communes, name, content, why):
    response = form_post(client, documents=[pdf_upload(name, content)])
    page = response.content.decode()
    assert response.status_code == 400 and not ReportDocument.objects.exists()
    assert f"El archivo «{name}» {why}" in page
    assert 'id="error-documents"' in page and 'aria-invalid="true"' in page.split('id="id_documents"')[1][:200]


class CountedStream(io.BytesIO):
    """A stream that does not declare its size (no `.size`, unlike Django's uploads) and counts what is read."""

    def __init__(self, content: bytes):
        super().__init__(content)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def test_a_pdf_over_the_size_limit_is_refused_after_reading_one_byte_past_the_limit(communes, settings):
    settings.GEO_SIAC_DOCUMENT_MAX_BYTES = 1024 * 1024
    big = PDF[:-6] + b"0" * (3 * 1024 * 1024) + b"%%EOF\n"
    stream = CountedStream(big)
    stream.name = "actas.pdf"
    with pytest.raises(ValidationError) as refused:
        information_request(communes, documents=[stream])
    assert refused.value.message_dict == {"documents": ["El archivo «actas.pdf» supera el tamaño máximo de 1 MB."]}
    assert stream.bytes_read == 1024 * 1024 + 1
    with pytest.raises(ValidationError, match="no es un documento PDF"):
        process_document(io.BytesIO(png_bytes()), name="foto.pdf")


def test_a_service_request_takes_photos_only(make_report):
    with pytest.raises(ValidationError) as refused:
        make_report(documents=[pdf_upload()])
    assert "no lleva documentos PDF" in refused.value.message_dict["documents"][0]
    with pytest.raises(ValidationError) as as_photo:
        make_report(photo=pdf_upload("foto.jpg"))
    assert "PDF no está permitido" in as_photo.value.message_dict["photo"][0]


def test_a_pdf_reaches_no_public_page_or_api(client, communes):
    report = information_request(communes, documents=[pdf_upload()], public_visibility=True)
    name = report.documents.get().file.name
    for url in (
        reverse("reports:tracking", args=[report.tracking_code]),
        f"/open311/v2/requests/{report.tracking_code}.json",
        "/open311/v2/requests.json",
        "/api/reports/",
        "/transparencia/datos/solicitudes.csv",
        "/transparencia/datos/solicitudes.geojson",
    ):
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert name.encode() not in body and b"poder notarial" not in body and b"documentos/" not in body, url
    assert downloaded(client, name)[0] == 404
    assert client.get(f"/media/{name}").status_code == 404


def test_the_requester_answers_a_subsanacion_with_a_pdf_and_an_erasure_removes_it(
    communes, crews, django_capture_on_commit_callbacks
):
    report = information_request(communes)
    information_correction_request(report=report, note="Adjunte el poder.", actor=crews["supervisor"])
    report.refresh_from_db()
    report_add_citizen_info(report=report, note="", documents=[pdf_upload()], by_email="rosa@example.cl")
    report.refresh_from_db()
    document = report.documents.get()
    assert report.correction_due_at is None and document.added_by == "rosa@example.cl"
    assert report.events.filter(note="La persona que reporta agregó un documento.").exists()
    name = document.file.name
    with django_capture_on_commit_callbacks(execute=True):  # the files go once the erasure commits
        reporter_data_erase(email="rosa@example.cl", commit=True)
    assert not ReportDocument.objects.exists() and not default_storage.exists(name)


def test_the_ley_20285_form_and_its_document_rule_read_in_english(client, communes):
    client.cookies["django_language"] = "en"
    form = client.get("/solicitud/acceso-informacion/").content.decode()
    assert "Legal term to answer: up to 20 business days (Ley 20.285, art. 14)." in form
    assert "PDF documents (optional: up to 5, each up to 10 MB; for example, a power of attorney" in form
    assert "Documentos PDF" not in form
    refused = form_post(client, documents=[pdf_upload("poder.pdf", png_bytes())]).content.decode()
    assert "The file «poder.pdf» is not a PDF document: its content is not a PDF&#x27;s" in refused


def test_a_follower_who_added_a_pdf_is_among_the_people_an_erasure_of_a_schema_finds(communes):
    report = information_request(communes)
    added_by = email_key("vecino.seguidor@example.cl")
    ReportDocument.objects.create(
        report=report,
        file="reports/documents/x.pdf",
        name="x.pdf",
        size=1,
        added_by=added_by,
        created_at=report.created_at,
    )
    assert ("email", added_by) in schema_people()


def test_the_note_or_attachment_refusal_names_documents_where_the_kind_takes_them(communes, make_report):
    with pytest.raises(ValidationError) as refused:
        report_add_citizen_info(report=information_request(communes), note="", by_email="rosa@example.cl")
    assert refused.value.message_dict["note"] == ["Escriba una nota o adjunte una foto o un documento PDF."]
    service = make_report(reporter_email="rosa@example.cl")
    with pytest.raises(ValidationError) as refused:
        report_add_citizen_info(report=service, note="", by_email="rosa@example.cl")
    assert refused.value.message_dict["note"] == ["Escriba una nota o adjunte una foto."]


def test_documents_over_the_total_for_one_submission_are_refused_naming_the_total(communes, settings):
    settings.GEO_SIAC_DOCUMENTS_TOTAL_MAX_BYTES = 1024 * 1024
    half = PDF[:-6] + b"0" * (600 * 1024) + b"%%EOF\n"
    with pytest.raises(ValidationError) as refused:
        information_request(communes, documents=[pdf_upload("a.pdf", half), pdf_upload("b.pdf", half)])
    assert refused.value.message_dict["documents"][0].startswith(
        "Los documentos PDF suman 1,2 MB; el máximo por envío es 1 MB."
    )
    assert not ReportDocument.objects.exists()


def test_the_proxys_body_limit_is_above_the_largest_submission_the_application_accepts():
    template = (django_settings.BASE_DIR / "deploy" / "nginx.conf.template").read_text()
    body_max = int(re.search(r"GEO_SIAC_BODY_MAX\s+e\.g\. (\d+)m", template).group(1)) * 1024 * 1024
    photo_max = django_settings.GEO_SIAC_PHOTO_MAX_BYTES
    assert body_max > photo_max + django_settings.GEO_SIAC_DOCUMENTS_TOTAL_MAX_BYTES and body_max > 4 * photo_max


def files_under_media(settings) -> list:
    return [path for path in settings.MEDIA_ROOT.rglob("*") if path.is_file()] if settings.MEDIA_ROOT.exists() else []


def test_a_good_pdf_beside_a_fake_one_writes_nothing_at_filing_nor_with_added_information(communes, settings):
    good_and_fake = [pdf_upload("poder.pdf"), pdf_upload("carnet.pdf", png_bytes())]
    with pytest.raises(ValidationError, match="carnet.pdf"):
        information_request(communes, documents=good_and_fake)
    assert not Report.objects.exists() and not ReportEvent.objects.exists()
    report = information_request(communes)
    events = report.events.count()
    good_and_fake = [pdf_upload("poder.pdf"), pdf_upload("carnet.pdf", png_bytes())]
    with pytest.raises(ValidationError, match="carnet.pdf"):
        report_add_citizen_info(report=report, note="Adjunto.", documents=good_and_fake, by_email="rosa@example.cl")
    assert not ReportDocument.objects.exists() and report.events.count() == events
    assert files_under_media(settings) == []


def test_a_filing_or_added_information_rolled_back_after_its_pdf_was_written_leaves_no_file(communes, settings):
    with mock.patch("geo_siac.reports.services.create.notification_enqueue", side_effect=RuntimeError("outbox")):
        with pytest.raises(RuntimeError):
            information_request(communes, documents=[pdf_upload()])
    assert not Report.objects.exists() and files_under_media(settings) == []
    report = information_request(communes)
    with mock.patch("geo_siac.reports.services.citizen.answers_correction", side_effect=RuntimeError("clock")):
        with pytest.raises(RuntimeError):
            report_add_citizen_info(report=report, note="", documents=[pdf_upload()], by_email="rosa@example.cl")
    assert not ReportDocument.objects.exists() and files_under_media(settings) == []
