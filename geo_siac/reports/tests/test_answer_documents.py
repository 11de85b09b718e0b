"""The documents an answer letter delivers (report_answer's `documents`): checked by the requester's documents' one
rule, stored as the institution's, listed on the letter (HTML and PDF) and opened only where the letter opens
(reports.requester.can_read_letters; staff who see the request), never on a public page, Open311 or open data; one
bad file refuses the whole answer. And the requester's own subsanación text, shown back to the requester only."""

import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.test import Client, RequestFactory
from django.urls import reverse

from geo_siac.notifications.models import Notification
from geo_siac.reports.models import AnswerLetter, EventKind, Report, ReportDocument, ReportEvent
from geo_siac.reports.requester import LETTER_KEY, letter_key
from geo_siac.reports.selectors import report_documents
from geo_siac.reports.services import (
    information_correction_receive,
    information_correction_request,
    report_add_citizen_info,
    report_answer,
    report_follow,
    reporter_data_erase,
)
from geo_siac.reports.states import Status
from geo_siac.reports.tests.test_answer_letters import pdf_text
from geo_siac.reports.tests.test_citizen_reopen import signed_in
from geo_siac.reports.tests.test_information_documents import (
    files_under_media,
    information_request,
    pdf_upload,
    png_bytes,
)
from geo_siac.reports.views import answer_documents_readable
from geo_siac.webhooks.payloads import event_body

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def answered(report, crews, *documents, outcome="delivered"):
    return report_answer(
        report=report,
        outcome=outcome,
        note="Se entrega copia del decreto de la plaza.",
        documents=list(documents),
        actor=crews["supervisor"],
    )


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def document_links(page: str) -> list[str]:
    return re.findall(r'href="([^"]*/documento/\d+/[^"]*)"', page.replace("&amp;", "&"))


def test_a_delivered_answer_lists_its_pdfs_on_the_letter_and_stores_them_as_the_institutions(communes, crews):
    report = information_request(communes, documents=[pdf_upload("poder.pdf")])
    answered(report, crews, pdf_upload("decreto 123.pdf"), pdf_upload("plano.pdf"))
    letter = AnswerLetter.objects.get(report=report)
    delivered = ReportDocument.objects.filter(letter=letter).order_by("id")
    assert [(d.name, d.added_by) for d in delivered] == [("decreto 123.pdf", ""), ("plano.pdf", "")]
    # The staff page's "what the requester sent" keeps only the requester's own.
    assert [d.name for d in report_documents(report)] == ["poder.pdf"]
    assert [a["name"] for a in letter.content["attachments"]] == ["decreto 123.pdf", "plano.pdf"]
    text = " ".join(pdf_text(bytes(letter.pdf)).split())
    assert "Documentos adjuntos" in text and "decreto 123.pdf" in text and "plano.pdf" in text
    (message,) = Notification.objects.filter(recipient="rosa@example.cl", subject__contains="Resuelta")
    assert "La carta de respuesta, con 2 documentos adjuntos: " in message.body


def test_the_documents_open_where_the_letter_opens_and_nowhere_else(client, communes, crews):
    report = information_request(communes, documents=[pdf_upload("poder.pdf")])
    answered(report, crews, pdf_upload("decreto.pdf"))
    delivered = ReportDocument.objects.get(letter__isnull=False)
    own = ReportDocument.objects.get(letter__isnull=True)
    code = report.tracking_code
    url = reverse("reports:letter_document", args=[code, 1, delivered.pk])

    # Anyone holding only the code: no names, no links, no file.
    page = client.get(reverse("reports:tracking", args=[code])).content.decode()
    assert "decreto.pdf" not in page and not document_links(page)
    assert client.get(url).status_code == 404
    locked = client.get(reverse("reports:letter", args=[code, 1]))  # the letter's 403 offers a fresh link instead
    assert locked.status_code == 403 and "decreto.pdf" not in locked.content.decode()

    # The requester, in Mis solicitudes: listed on the tracking page and the letter, downloaded as a PDF.
    requester = signed_in(Client(), "rosa@example.cl")
    page = requester.get(reverse("reports:tracking", args=[code])).content.decode()
    assert 'id="letter-1-documents"' in page and "decreto.pdf" in page and document_links(page) == [url]
    letter_page = requester.get(reverse("reports:letter", args=[code, 1])).content.decode()
    assert "Documentos adjuntos" in letter_page and document_links(letter_page) == [url]
    response = requester.get(url)
    assert response.status_code == 200 and body_of(response).startswith(b"%PDF")
    assert response["Content-Type"] == "application/pdf" and "no-store" in response["Cache-Control"]
    assert 'filename="decreto.pdf"' in response["Content-Disposition"]
    # The route serves an answer's documents only, never the requester's own nor another letter's.
    assert requester.get(reverse("reports:letter_document", args=[code, 1, own.pk])).status_code == 404
    assert requester.get(reverse("reports:letter_document", args=[code, 2, delivered.pk])).status_code == 404

    # The letter's key (the link e-mailed to the requester) opens the letter and its documents in any browser.
    keyed = Client().get(f"{reverse('reports:letter', args=[code, 1])}?{LETTER_KEY}={letter_key(report)}")
    (keyed_url,) = document_links(keyed.content.decode())
    assert keyed_url.startswith(url + "?") and Client().get(keyed_url).status_code == 200
    assert Client().get(f"{url}?{LETTER_KEY}=wrong").status_code == 404

    # Staff who see the request open them from their copy of the letter; a crew member who does not see it, not.
    staff = Client()
    staff.force_login(crews["supervisor"])
    staff_page = staff.get(reverse("crew:letter", args=[code, 1])).content.decode()
    staff_url = reverse("document", args=[delivered.file.name])
    assert staff_url in staff_page and staff.get(staff_url).status_code == 200
    outsider = Client()
    outsider.force_login(crews["member_a"])
    assert outsider.get(staff_url).status_code == 404


def test_a_bad_file_refuses_the_whole_answer_naming_it_and_writes_nothing(communes, crews, settings):
    report = information_request(communes)
    with pytest.raises(ValidationError, match="carnet.pdf"):
        answered(report, crews, pdf_upload("decreto.pdf"), pdf_upload("carnet.pdf", png_bytes()))
    report.refresh_from_db()
    assert report.status != Status.RESOLVED and not report.legal_outcome
    assert not AnswerLetter.objects.exists() and not ReportDocument.objects.exists()
    assert files_under_media(settings) == []


@pytest.mark.parametrize("outcome", ["denied", "not_held"])
def test_only_an_answer_that_delivers_carries_documents(communes, crews, outcome):
    report = information_request(communes)
    with pytest.raises(ValidationError) as refused:
        report_answer(
            report=report,
            outcome=outcome,
            ground="art21_1" if outcome == "denied" else "",
            note="No procede.",
            documents=[pdf_upload("decreto.pdf")],
            actor=crews["supervisor"],
        )
    assert "Solo una respuesta que entrega la información" in refused.value.message_dict["documents"][0]
    assert not AnswerLetter.objects.exists() and not ReportDocument.objects.exists()


def test_an_answers_documents_reach_no_public_page_open311_or_open_data(client, communes, crews):
    report = information_request(communes, public_visibility=True)
    answered(report, crews, pdf_upload("decreto reservado.pdf"))
    name = ReportDocument.objects.get().file.name
    for url in (
        reverse("reports:tracking", args=[report.tracking_code]),
        f"/open311/v2/requests/{report.tracking_code}.json",
        "/open311/v2/requests.json",
        "/api/reports/",
        "/transparencia/datos/solicitudes.csv",
        "/transparencia/datos/solicitudes.geojson",
    ):
        body = body_of(client.get(url))
        assert name.encode() not in body and b"decreto reservado" not in body and b"/documento/" not in body, url
    # The webhook of the answer (the request resolved): a public endpoint gets no such request; an internal one gets
    # the answer, without its documents.
    resolved = ReportEvent.objects.get(report=report, to_status=Status.RESOLVED)
    assert event_body(resolved, internal=False) is None
    body = json.dumps(event_body(resolved, internal=True), ensure_ascii=False, default=str)
    assert resolved.note in body
    assert name not in body and "decreto reservado" not in body and "/documento/" not in body
    assert client.get(reverse("document", args=[name])).status_code == 404
    assert client.get(f"/media/{name}").status_code == 404


def test_an_erasure_of_the_requester_keeps_the_institutions_documents(
    communes, crews, django_capture_on_commit_callbacks
):
    report = information_request(communes, documents=[pdf_upload("poder.pdf")])
    answered(report, crews, pdf_upload("decreto.pdf"))
    kept = ReportDocument.objects.get(letter__isnull=False)
    with django_capture_on_commit_callbacks(execute=True):
        reporter_data_erase(email="rosa@example.cl", commit=True)
    assert list(ReportDocument.objects.values_list("name", flat=True)) == ["decreto.pdf"]
    assert default_storage.exists(kept.file.name)
    assert "decreto.pdf" in " ".join(pdf_text(bytes(AnswerLetter.objects.get().pdf)).split())
    # Kept for staff; the code alone, which now opens the redacted letter, does not open a PDF that may name them.
    code = report.tracking_code
    letter = Client().get(reverse("reports:letter", args=[code, 1]))
    assert letter.status_code == 200 and 'id="documents-at-desk"' in letter.content.decode()  # where to ask instead
    assert Client().get(reverse("reports:letter_document", args=[code, 1, kept.pk])).status_code == 404
    assert "decreto.pdf" not in Client().get(reverse("reports:tracking", args=[code])).content.decode()
    staff = Client()
    staff.force_login(crews["supervisor"])
    assert staff.get(reverse("document", args=[kept.file.name])).status_code == 200


def test_the_console_sends_the_answer_with_its_pdfs_and_refuses_a_bad_one_naming_it(client, communes, crews):
    report = information_request(communes)
    client.force_login(crews["supervisor"])
    url = f"/cuadrilla/solicitud/{report.tracking_code}/paso/legal_answer/"
    page = client.get(f"/cuadrilla/solicitud/{report.tracking_code}/").content.decode()
    assert 'enctype="multipart/form-data" ' in page or 'enctype="multipart/form-data">' in page
    assert 'name="documents"' in page
    answer = {"outcome": "delivered", "note": "Se entrega el decreto."}
    bad = client.post(url, {**answer, "documents": [pdf_upload("decreto.pdf"), pdf_upload("foto.pdf", png_bytes())]})
    assert bad.status_code == 400 and "foto.pdf" in bad.content.decode()
    assert not AnswerLetter.objects.exists() and not ReportDocument.objects.exists()
    preview = client.post(url, {**answer, "preview": "1", "documents": [pdf_upload("decreto.pdf")]})
    assert preview.status_code == 200 and "decreto.pdf" in preview.content.decode()
    assert not ReportDocument.objects.exists()
    assert client.post(url, {**answer, "documents": [pdf_upload("decreto.pdf")]}).status_code == 302
    assert ReportDocument.objects.get().letter == AnswerLetter.objects.get(report=report)


def test_a_letter_previewed_with_its_pdfs_is_not_signed_without_them(client, communes, crews):
    report = information_request(communes)
    client.force_login(crews["supervisor"])
    url = f"/cuadrilla/solicitud/{report.tracking_code}/paso/legal_answer/"
    answer = {"outcome": "delivered", "note": "Se entrega el decreto."}
    preview = client.post(url, {**answer, "preview": "1", "documents": [pdf_upload("decreto.pdf")]}).content.decode()
    assert 'id="documents-not-kept"' in preview and "elíjalo otra vez antes de firmar" in preview
    assert re.search(r'<input type="hidden" name="documents_expected" value="1"', preview)
    # The browser sends the form back with the file field empty: refused by the field, nothing sent.
    signed = client.post(url, {**answer, "documents_expected": "1"})
    assert signed.status_code == 400
    page = signed.content.decode()
    assert "listaba 1 documento y se eligieron 0" in page
    assert page.index("listaba 1 documento") > page.index('id="id_documents"')
    assert not AnswerLetter.objects.exists()
    assert (
        client.post(url, {**answer, "documents_expected": "1", "documents": [pdf_upload("decreto.pdf")]}).status_code
        == 302
    )
    assert ReportDocument.objects.get().letter == AnswerLetter.objects.get(report=report)


def test_the_requester_sees_their_own_subsanacion_text_a_code_holder_does_not(client, communes, crews):
    report = information_request(communes)
    information_correction_request(report=report, note="Indique el año del decreto.", actor=crews["supervisor"])
    report.refresh_from_db()
    report_add_citizen_info(report=report, note="Es el decreto 123 de 2024.", by_email="rosa@example.cl")
    report = Report.objects.get(pk=report.pk)
    information_correction_request(report=report, note="Indique la plaza.", actor=crews["supervisor"])
    report.refresh_from_db()
    information_correction_receive(report=report, note="La plaza de Bajos de Mena.", actor=crews["supervisor"])
    tracking = reverse("reports:tracking", args=[report.tracking_code])
    mine = reverse("citizens:report", args=[report.tracking_code])

    requester = signed_in(Client(), "rosa@example.cl")
    for url in (tracking, mine):
        page = requester.get(url).content.decode()
        assert 'id="own-corrections"' in page, url
        assert "Es el decreto 123 de 2024." in page and "La plaza de Bajos de Mena." in page, url

    page = client.get(tracking).content.decode()
    assert "decreto 123" not in page and "Bajos de Mena" not in page and 'id="own-corrections"' not in page
    # A follower signed in to Mis solicitudes holds the request too, but the text is the requester's.
    report_follow(report=report, email="vecino@example.cl")
    follower = signed_in(Client(), "vecino@example.cl")
    for url in (tracking, mine):
        page = follower.get(url).content.decode()
        assert "decreto 123" not in page and "Bajos de Mena" not in page, url


def own_additions(client, report) -> str:
    page = client.get(reverse("reports:tracking", args=[report.tracking_code])).content.decode()
    found = re.search(r'<div id="own-corrections">.*?</div>', page, re.S)
    return found.group(0) if found else ""


def test_the_requester_is_shown_what_they_added_a_follower_and_a_code_holder_are_not(client, communes, crews):
    report = information_request(communes)
    report_add_citizen_info(report=report, note="Agrego el número: decreto 123.", by_email="rosa@example.cl")
    report_follow(report=report, email="vecino@example.cl")
    report_add_citizen_info(
        report=Report.objects.get(pk=report.pk), note="Yo también lo necesito.", by_email="vecino@example.cl"
    )
    information_correction_request(
        report=Report.objects.get(pk=report.pk), note="Indique el año.", actor=crews["supervisor"]
    )
    # A subsanación answered with a PDF only: its history note is a placeholder, not something they wrote.
    report_add_citizen_info(
        report=Report.objects.get(pk=report.pk), note="", documents=[pdf_upload("año.pdf")], by_email="rosa@example.cl"
    )
    assert ReportEvent.objects.filter(note="La persona que reporta agregó un documento.").exists()

    requester = signed_in(Client(), "rosa@example.cl")
    shown = own_additions(requester, report)
    assert "Agrego el número: decreto 123." in shown and "respuesta a la subsanación" not in shown
    assert "Yo también" not in shown and "agregó un documento" not in shown
    mine = requester.get(reverse("citizens:report", args=[report.tracking_code])).content.decode()
    assert "Agrego el número: decreto 123." in mine
    assert (
        own_additions(client, report) == ""
        and "decreto 123" not in client.get(reverse("reports:tracking", args=[report.tracking_code])).content.decode()
    )
    assert own_additions(signed_in(Client(), "vecino@example.cl"), report) == ""


def test_a_subsanacion_received_before_events_carried_data_is_still_shown_to_the_requester(communes, crews):
    report = information_request(communes)
    information_correction_request(report=report, note="Indique la plaza.", actor=crews["supervisor"])
    information_correction_receive(
        report=Report.objects.get(pk=report.pk), note="La plaza de Bajos de Mena.", actor=crews["supervisor"]
    )
    # As written before migration 0047: no line on the public event, no mark on the internal note.
    ReportEvent.objects.filter(report=report, kind__in=[EventKind.NOTE, EventKind.CORRECTION]).update(data=None)
    shown = own_additions(signed_in(Client(), "rosa@example.cl"), report)
    assert "La plaza de Bajos de Mena." in shown and "respuesta a la subsanación" in shown
    assert "Indique la plaza" not in shown


def test_an_answer_over_the_total_is_refused_without_sending_the_officer_to_agregar_informacion(
    communes, crews, settings
):
    settings.GEO_SIAC_DOCUMENTS_TOTAL_MAX_BYTES = len(pdf_upload("a.pdf").read()) + 1
    report = information_request(communes)
    with pytest.raises(ValidationError) as refused:
        answered(report, crews, pdf_upload("decreto.pdf"), pdf_upload("plano.pdf"))
    (message,) = refused.value.message_dict["documents"]
    assert "el máximo por envío es" in message and "Agregar información" not in message
    assert not AnswerLetter.objects.exists() and not ReportDocument.objects.exists()


def test_the_letter_links_each_listed_document_to_its_own_file_whatever_the_order(communes, crews):
    report = information_request(communes)
    answered(report, crews, pdf_upload("decreto.pdf"), pdf_upload("plano.pdf"))
    letter = AnswerLetter.objects.get()
    ids = {d.name: d.pk for d in ReportDocument.objects.all()}
    assert [a["document_id"] for a in letter.content["attachments"]] == [ids["decreto.pdf"], ids["plano.pdf"]]
    letter.content["attachments"].reverse()
    letter.save(update_fields=["content"])
    page = signed_in(Client(), "rosa@example.cl").get(reverse("reports:letter", args=[report.tracking_code, 1]))
    links = re.findall(r'href="[^"]*/documento/(\d+)/"[^>]*>([^<]+)</a>', page.content.decode())
    assert [(int(pk), name) for pk, name in links] == [
        (ids["plano.pdf"], "plano.pdf"),
        (ids["decreto.pdf"], "decreto.pdf"),
    ]


def test_an_answers_documents_are_readable_where_the_letter_opens_while_the_request_keeps_a_contact(communes, crews):
    report = information_request(communes)
    stranger = RequestFactory().get("/")
    stranger.session = {}
    keyed = RequestFactory().get("/", {LETTER_KEY: letter_key(report)})
    keyed.session = {}
    assert not answer_documents_readable(stranger, report) and answer_documents_readable(keyed, report)
    # Erased, the code alone opens the letter (can_read_letters), never the documents.
    Report.objects.filter(pk=report.pk).update(reporter_email="", reporter_phone="")
    report.refresh_from_db()
    assert not answer_documents_readable(stranger, report)
