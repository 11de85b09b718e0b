"""The formal answer letter (report_answer): a reclamo or an access-to-information request is answered with a letter
on the municipality's letterhead, with its legal reference, outcome and signing officer, frozen when sent, e-mailed
as links and kept on the tracking page, where the requester (reports.requester.can_read_letters) opens it."""

import io
import re
from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from pypdf import PdfReader

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.notifications.models import Notification
from geo_siac.reports.events import event_text
from geo_siac.reports.letters import signer_of
from geo_siac.reports.models import AnswerLetter, Report, Signatory
from geo_siac.reports.requester import filed_redirect
from geo_siac.reports.services import (
    EXPLAINED_BY_CALLER,
    report_answer,
    report_change_status,
    report_create,
    report_follow,
    reporter_data_erase,
)
from geo_siac.reports.states import Status
from geo_siac.reports.tests.test_citizen_reopen import signed_in

SANTIAGO = ZoneInfo("America/Santiago")
MONDAY = datetime(2026, 9, 14, 10, 0, tzinfo=SANTIAGO)
ANSWERED = datetime(2026, 9, 28, 12, 0, tzinfo=SANTIAGO)


def at(moment, function, **kwargs):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return function(**kwargs)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def information_request(communes):
    return at(
        MONDAY,
        report_create,
        channel="in_person",
        kind=RequestKind.INFORMATION,
        category="acceso-informacion",
        commune=communes["13201"],
        description="Copia del contrato de alumbrado público vigente.",
        reporter_name="Rosa Pérez",
        reporter_email="rosa@example.cl",
    )


@pytest.fixture
def complaint(communes):
    return at(
        MONDAY,
        report_create,
        channel="web",
        kind=RequestKind.COMPLAINT,
        category="reclamo-servicio",
        commune=communes["13201"],
        description="El camión de la basura no pasó en toda la semana.",
        reporter_name="Juan Soto",
        reporter_email="juan@example.cl",
    )


def test_a_partial_delivery_is_answered_with_a_letter_naming_code_outcome_ground_law_and_officer(
    information_request, crews
):
    report = at(
        ANSWERED,
        report_answer,
        report=information_request,
        outcome="partly_delivered",
        ground="art21_2",
        note="Se entrega el contrato; se tarjan los datos personales de los trabajadores.",
        actor=crews["supervisor"],
    )
    assert report.status == Status.RESOLVED
    letter = AnswerLetter.objects.get(report=report)
    assert (letter.number, letter.language, letter.signed_by) == (1, "es", crews["supervisor"])
    text = pdf_text(bytes(letter.pdf))
    for expected in (
        "Ilustre Municipalidad de Puente Alto",
        "Puente Alto, 28 de septiembre de 2026",
        report.tracking_code,
        "recibida el 14 de septiembre de 2026",
        "Estimado(a) Rosa Pérez:",
        "Ley 20.285",
        "Resultado: Entregada parcialmente",
        "Art. 21 N°2",
        "se tarjan los datos personales",
        "Consejo para la Transparencia",
        "Sofía Muñoz Rojas",
        "Encargada de Transparencia y OIRS",
    ):
        assert expected in " ".join(text.split()), expected


def test_a_complaint_is_answered_with_a_letter_citing_ley_19880_and_no_legal_outcome(complaint, crews):
    report = report_answer(
        report=complaint, note="Se reprogramó la ruta del camión recolector.", actor=crews["supervisor"]
    )
    letter = report.letters.get()
    assert letter.content["outcome"] == "" and report.legal_outcome == ""
    text = " ".join(pdf_text(bytes(letter.pdf)).split())
    assert "Respuesta a su reclamo" in text and "Ley 19.880" in text and "reposición" in text
    assert "Se reprogramó la ruta" in text and complaint.tracking_code in text


def test_a_complaint_is_not_resolved_without_its_letter_nor_given_a_legal_outcome(complaint, crews):
    with pytest.raises(ValidationError) as caught:
        report_change_status(
            public_note=EXPLAINED_BY_CALLER, report=complaint, status="resolved", note="Listo.", note_is_public=True
        )
    assert "se resuelve respondiendo con carta" in caught.value.message_dict["status"][0]
    with pytest.raises(ValidationError) as caught:
        report_answer(report=complaint, outcome="delivered", note="Listo.", actor=crews["supervisor"])
    assert "Solo una solicitud de acceso a información" in caught.value.message_dict["outcome"][0]
    complaint.refresh_from_db()
    assert complaint.status == Status.SUBMITTED and not complaint.letters.exists()


def test_a_denial_without_its_ground_is_refused_and_writes_nothing(information_request, crews):
    with pytest.raises(ValidationError) as caught:
        report_answer(report=information_request, outcome="denied", note="No procede.", actor=crews["supervisor"])
    assert "causal legal" in caught.value.message_dict["ground"][0]
    information_request.refresh_from_db()
    assert information_request.status == Status.SUBMITTED and not AnswerLetter.objects.exists()


def test_an_officer_without_a_title_cannot_sign_and_nothing_is_written(information_request, crews):
    Signatory.objects.filter(user=crews["supervisor"]).delete()
    with pytest.raises(ValidationError) as caught:
        report_answer(report=information_request, outcome="delivered", note="Adjunto.", actor=crews["supervisor"])
    assert "nombre completo y cargo" in caught.value.messages[0]
    information_request.refresh_from_db()
    assert information_request.status == Status.SUBMITTED and not AnswerLetter.objects.exists()
    assert not Notification.objects.filter(subject__contains="Resuelta").exists()


def test_a_sent_letter_keeps_the_officer_name_and_title_it_was_signed_with(information_request, crews, client):
    report = report_answer(
        report=information_request, outcome="not_held", note="No existe tal contrato.", actor=crews["supervisor"]
    )
    officer = crews["supervisor"]
    officer.first_name, officer.last_name = "Sofía", "Contreras"
    officer.save()
    Signatory.objects.filter(user=officer).update(title="Administradora Municipal")
    letter = report.letters.get()
    page = signed_in(client, "rosa@example.cl").get(f"/seguimiento/{report.tracking_code}/carta/1/").content.decode()
    for shown in (page, " ".join(pdf_text(bytes(letter.pdf)).split())):
        assert "Sofía Muñoz Rojas" in shown and "Encargada de Transparencia y OIRS" in shown
        assert "Contreras" not in shown and "Administradora Municipal" not in shown


def test_the_citizen_is_emailed_the_letter_page_and_pdf_and_the_tracking_page_keeps_both(
    information_request, crews, client
):
    report = report_answer(
        report=information_request, outcome="delivered", note="Se adjunta el contrato.", actor=crews["supervisor"]
    )
    code = report.tracking_code
    (message,) = Notification.objects.filter(recipient="rosa@example.cl", subject__contains="Resuelta")
    assert f"/seguimiento/{code}/carta/1/" in message.body and f"/seguimiento/{code}/carta/1.pdf" in message.body
    signed_in(client, "rosa@example.cl")
    tracking = client.get(f"/seguimiento/{code}/").content.decode()
    assert f'href="/seguimiento/{code}/carta/1/"' in tracking and f'href="/seguimiento/{code}/carta/1.pdf"' in tracking
    page = client.get(f"/seguimiento/{code}/carta/1/")
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert "Estimado(a) Rosa Pérez:" in page.content.decode()
    download = client.get(f"/seguimiento/{code}/carta/1.pdf")
    assert download["Content-Type"] == "application/pdf"
    assert f'filename="carta-{code}-1.pdf"' in download["Content-Disposition"]
    assert code in pdf_text(download.content)


def test_a_letter_is_reached_only_through_its_own_requests_code(information_request, complaint, crews, client):
    report_answer(report=information_request, outcome="delivered", note="Adjunto.", actor=crews["supervisor"])
    assert client.get(f"/seguimiento/{complaint.tracking_code}/carta/1/").status_code == 404
    assert client.get(f"/seguimiento/{complaint.tracking_code}/carta/1.pdf").status_code == 404
    assert client.get("/seguimiento/PA-NOEXISTE/carta/1/").status_code == 404
    assert client.get(f"/seguimiento/{information_request.tracking_code}/carta/2/").status_code == 404


def test_a_stranger_with_the_code_sees_that_a_letter_was_sent_not_its_content(information_request, crews):
    report_answer(report=information_request, outcome="delivered", note="Adjunto.", actor=crews["supervisor"])
    code, stranger = information_request.tracking_code, Client()
    tracking = stranger.get(f"/seguimiento/{code}/").content.decode()
    assert 'id="letters"' in tracking and 'id="letters-private"' in tracking and "/carta/" not in tracking
    for url in (f"/seguimiento/{code}/carta/1/", f"/seguimiento/{code}/carta/1.pdf"):
        locked = stranger.get(url)
        assert locked.status_code == 403 and "Estimado(a)" not in locked.content.decode()
        assert 'id="letter-link-send"' in locked.content.decode()


@pytest.mark.parametrize("requester", ["filing browser", "mis solicitudes"])
def test_the_requester_reads_the_letter_and_its_pdf(information_request, crews, requester):
    report_answer(report=information_request, outcome="delivered", note="Adjunto.", actor=crews["supervisor"])
    code, browser = information_request.tracking_code, Client()
    if requester == "filing browser":
        browser.cookies.update(filed_redirect(code).cookies)
    else:
        signed_in(browser, "rosa@example.cl")
    tracking = browser.get(f"/seguimiento/{code}/").content.decode()
    assert f'href="/seguimiento/{code}/carta/1/"' in tracking and 'id="letters-private"' not in tracking
    assert "Estimado(a) Rosa Pérez:" in browser.get(f"/seguimiento/{code}/carta/1/").content.decode()
    assert browser.get(f"/seguimiento/{code}/carta/1.pdf")["Content-Type"] == "application/pdf"


def test_the_links_sent_to_the_requester_open_the_letter_and_its_pdf_in_any_browser(information_request, crews):
    report_answer(report=information_request, outcome="delivered", note="Adjunto.", actor=crews["supervisor"])
    code = information_request.tracking_code
    (message,) = Notification.objects.filter(recipient="rosa@example.cl", subject__contains="Resuelta")
    page_url, pdf_url = (
        re.search(rf"https?://[^/\s]+(/seguimiento/{code}/carta/1{end}\?clave=[\w.-]+)", message.body)[1]
        for end in ("/", r"\.pdf")
    )
    reader = Client()  # the requester's mail client opens the link in a browser that never saw the request
    page = reader.get(page_url).content.decode()
    assert "Estimado(a) Rosa Pérez:" in page and f'href="{pdf_url}"' in page
    assert reader.get(pdf_url)["Content-Type"] == "application/pdf"
    altered = Client().get(page_url.replace("clave=", "clave=x"))
    assert altered.status_code == 403 and "Estimado(a)" not in altered.content.decode()


def test_a_follower_is_told_a_letter_was_sent_but_never_given_its_keyed_links(information_request, crews):
    """Anyone holding the code may follow a request; the letter names its requester, so only they get the key."""
    report_follow(report=information_request, email="vecino@example.cl")
    report_answer(report=information_request, outcome="delivered", note="Adjunto.", actor=crews["supervisor"])
    (followers,) = Notification.objects.filter(recipient="vecino@example.cl", subject__contains="Resuelta")
    (requesters,) = Notification.objects.filter(recipient="rosa@example.cl", subject__contains="Resuelta")
    assert "clave=" not in followers.body and "/carta/" not in followers.body
    assert "Se respondió con una carta a quien presentó la solicitud." in followers.body
    assert "clave=" in requesters.body


def test_whoever_holds_the_code_of_a_request_that_left_no_contact_reads_its_letter(communes, crews):
    report = at(
        MONDAY,
        report_create,
        channel="in_person",
        kind=RequestKind.INFORMATION,
        category="acceso-informacion",
        commune=communes["13201"],
        description="Copia del contrato de alumbrado público vigente.",
        reporter_name="Rosa Pérez",
        reporter_phone="+56 9 8765 4321",
    )
    report_answer(report=report, outcome="delivered", note="Adjunto.", actor=crews["supervisor"])
    Report.objects.filter(pk=report.pk).update(reporter_phone="")  # a request kept with no way to reach its requester
    holder = Client()
    assert (
        f"/seguimiento/{report.tracking_code}/carta/1/"
        in holder.get(f"/seguimiento/{report.tracking_code}/").content.decode()
    )
    assert "Estimado(a) Rosa Pérez:" in holder.get(f"/seguimiento/{report.tracking_code}/carta/1/").content.decode()
    assert holder.get(f"/seguimiento/{report.tracking_code}/carta/1.pdf").status_code == 200


def test_a_letter_to_an_english_speaking_requester_is_written_in_english(information_request, crews):
    information_request.language = "en"
    information_request.save(update_fields=["language"])
    report = at(
        ANSWERED,
        report_answer,
        report=information_request,
        outcome="denied",
        ground="art21_1",
        note="The contract is under review.",
        actor=crews["supervisor"],
    )
    content = report.letters.get().content
    assert content["title"] == "Answer to your request for access to public information"
    assert content["place_date"] == "Puente Alto, 28 September 2026"
    assert content["outcome_line"] == "Outcome: Denied"


def test_erasing_the_requesters_data_erases_their_name_from_the_letter(information_request, crews, client):
    note = "Sra. Pérez: adjunto lo pedido por rosa@example.cl el mes pasado."  # the answer names the requester
    report_answer(report=information_request, outcome="delivered", note=note, actor=crews["supervisor"])
    summary = reporter_data_erase(email="rosa@example.cl", commit=True)
    assert summary.letters_redacted == 1
    letter = AnswerLetter.objects.get()
    text = pdf_text(bytes(letter.pdf))
    for identifier in ("Rosa", "Pérez", "rosa@example.cl"):
        assert identifier not in str(letter.content) and identifier not in text
    assert "adjunto lo pedido por" in letter.content["body"]  # the answer itself stays on record
    notes = " ".join(information_request.events.values_list("note", flat=True))
    assert "adjunto lo pedido" in notes and "Pérez" not in notes and "rosa@example.cl" not in notes
    # The pages word the answer's line from its data, the officer's words with it: erased there too, in any language.
    event = information_request.events.get(to_status=Status.RESOLVED)
    for language in ("es-cl", "en"):
        client.cookies["django_language"] = language
        page = client.get(f"/seguimiento/{information_request.tracking_code}/").content.decode()
        for text in (page, event_text(event, language)):
            assert "adjunto lo pedido" in text and "Pérez" not in text and "rosa@example.cl" not in text


def test_signer_of_reads_the_signatory_once(crews, django_assert_num_queries):
    """A check and a second read could disagree (the row deleted between them), failing with a 500."""
    supervisor = crews["supervisor"]
    with django_assert_num_queries(1):
        name, title = signer_of(supervisor)
    assert (name, title) == (supervisor.get_full_name().strip(), "Encargada de Transparencia y OIRS")
