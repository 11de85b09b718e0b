"""The officer's answering form: the letter's preview (nothing written), a clear error when a denial has no legal
ground, and the answer sent through report_answer; a reclamo's form asks for no legal outcome."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.reports.deadlines import shown_day
from geo_siac.reports.models import AnswerLetter, Institution, Report
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status, report_create
from geo_siac.reports.states import Status
from geo_siac.testing import WEST_POINT

pytestmark = pytest.mark.django_db


def request_of(kind, category, communes):
    return report_create(
        channel="phone",
        kind=kind,
        category=category,
        commune=communes["13201"],
        description="Copia de las actas del concejo municipal de 2025.",
        reporter_name="Rosa Pérez",
        reporter_email="rosa@example.cl",
    )


def test_a_denial_without_its_ground_is_refused_in_the_preview_with_the_reason(client, crews, communes):
    report = request_of(RequestKind.INFORMATION, "acceso-informacion", communes)
    client.force_login(crews["supervisor"])
    url = f"/cuadrilla/solicitud/{report.tracking_code}/paso/legal_answer/"
    response = client.post(url, {"outcome": "denied", "note": "No procede.", "preview": "1"})
    assert response.status_code == 400
    assert "Indique la causal legal de la denegación" in response.content.decode()
    assert 'id="letter-preview"' not in response.content.decode()
    response = client.post(url, {"outcome": "denied", "note": "No procede."})
    assert response.status_code == 400 and "Indique la causal legal" in response.content.decode()
    assert not AnswerLetter.objects.exists()


def test_the_preview_shows_the_letter_without_sending_it_and_the_answer_sends_it(client, crews, communes):
    report = request_of(RequestKind.INFORMATION, "acceso-informacion", communes)
    client.force_login(crews["supervisor"])
    url = f"/cuadrilla/solicitud/{report.tracking_code}/paso/legal_answer/"
    answer = {"outcome": "denied", "ground": "art21_1", "note": "Las actas están en revisión.", "preview": "1"}
    page = client.post(url, answer).content.decode()
    assert 'id="letter-preview"' in page and "Sofía Muñoz Rojas" in page and "Art. 21 N°1" in page
    assert "Estimado(a) Rosa Pérez:" in page and not AnswerLetter.objects.exists()
    del answer["preview"]
    assert client.post(url, answer).status_code == 302
    letter = AnswerLetter.objects.get(report=report)
    assert letter.content["ground"].startswith("Art. 21 N°1") and letter.signed_by == crews["supervisor"]


def test_a_complaints_answer_form_asks_for_no_legal_outcome(client, crews, communes):
    report = request_of(RequestKind.COMPLAINT, "reclamo-servicio", communes)
    client.force_login(crews["supervisor"])
    page = client.get(f"/cuadrilla/solicitud/{report.tracking_code}/").content.decode()
    assert "Responder con carta (Ley 19.880)" in page and 'name="outcome"' not in page
    url = f"/cuadrilla/solicitud/{report.tracking_code}/paso/legal_answer/"
    assert client.post(url, {"note": "Se repuso la luminaria."}).status_code == 302
    assert AnswerLetter.objects.get(report=report).content["title"] == "Respuesta a su reclamo"


def test_a_puente_alto_officer_can_neither_preview_answer_nor_refer_a_request_of_penalolen(client, crews, communes):
    from geo_siac.catalogue.models import Institution

    report = report_create(
        channel="phone",
        kind=RequestKind.INFORMATION,
        category="acceso-informacion",
        commune=communes["13122"],
        description="Copia de las actas de Peñalolén.",
        reporter_name="Berta Soto",
        reporter_email="berta@example.cl",
    )
    # Its own institution: a transactional test earlier in the run empties the table the migration filled.
    institution = Institution.objects.create(name="Organismo de prueba del aislamiento")
    client.force_login(crews["supervisor"])
    base = f"/cuadrilla/solicitud/{report.tracking_code}/paso/"
    answer = {"outcome": "granted", "note": "Se adjuntan las actas."}
    for step, data in (
        ("legal_answer", {**answer, "preview": "1"}),
        ("legal_answer", answer),
        ("referral", {"institution": institution.pk, "note": "Corresponde a otro organismo."}),
    ):
        response = client.post(base + step + "/", data)
        assert response.status_code == 404 and "Berta Soto" not in response.content.decode(), step
    assert not AnswerLetter.objects.exists()
    stored = Report.objects.get(pk=report.pk)
    assert (stored.status, stored.updated_at) == (report.status, report.updated_at)


def test_the_officer_opens_the_sent_letter_and_its_pdf_from_the_report_page(client, crews, communes):
    report = request_of(RequestKind.INFORMATION, "acceso-informacion", communes)
    client.force_login(crews["supervisor"])
    page = client.get(f"/cuadrilla/solicitud/{report.tracking_code}/").content.decode()
    assert 'id="sent-letters"' not in page
    url = f"/cuadrilla/solicitud/{report.tracking_code}/paso/legal_answer/"
    assert client.post(url, {"outcome": "delivered", "note": "Se adjuntan las actas."}).status_code == 302
    page = client.get(f"/cuadrilla/solicitud/{report.tracking_code}/").content.decode()
    letters = page.split('id="sent-letters"')[1].split("</ul>")[0]
    pdf, letter = (f"/cuadrilla/solicitud/{report.tracking_code}/carta/{name}" for name in ("1.pdf", "1/"))
    assert pdf in letters and letter in letters and "/seguimiento/" not in letters
    assert client.get(pdf).content.startswith(b"%PDF")
    page = client.get(letter).content.decode()
    assert f'href="{pdf}"' in page and f'href="/cuadrilla/solicitud/{report.tracking_code}/"' in page
    citizens = client.get(f"/seguimiento/{report.tracking_code}/carta/1/")  # not a requester: the locked page
    assert citizens.status_code == 403 and "Estimado(a)" not in citizens.content.decode()


def test_the_answer_and_extension_forms_post_to_themselves_so_the_preview_or_error_is_in_view(client, crews, communes):
    report = request_of(RequestKind.INFORMATION, "acceso-informacion", communes)
    client.force_login(crews["supervisor"])
    page = client.get(f"/cuadrilla/solicitud/{report.tracking_code}/").content.decode()
    assert f'action="/cuadrilla/solicitud/{report.tracking_code}/paso/legal_answer/#legal-answer-form"' in page
    assert 'id="legal-extend-form"' in page
    extend = f"/cuadrilla/solicitud/{report.tracking_code}/paso/legal_extend/"
    response = client.post(extend, {"reason": "Volumen de documentos."})
    # Not the form's #legal-extend-form, which the browser keeps across a redirect without a fragment of its own.
    assert (
        response.status_code == 302 and response["Location"] == f"/cuadrilla/solicitud/{report.tracking_code}/#messages"
    )
    page = client.get(f"/cuadrilla/solicitud/{report.tracking_code}/").content.decode()
    assert 'id="legal-extend-form"' not in page  # the law allows one extension: the form goes once it is used


def answered_request(client, crews, communes):
    report = request_of(RequestKind.INFORMATION, "acceso-informacion", communes)
    client.force_login(crews["supervisor"])
    url = f"/cuadrilla/solicitud/{report.tracking_code}/paso/legal_answer/"
    assert client.post(url, {"outcome": "delivered", "note": "Se adjuntan las actas."}).status_code == 302
    assert AnswerLetter.objects.filter(report=report).count() == 1
    return report


def test_a_crew_member_who_is_not_a_supervisor_sees_no_sent_letters(client, crews, communes):
    report = answered_request(client, crews, communes)
    # Handed to crew A, so that its member may open the page at all (a crew member sees only their crews' requests).
    Report.objects.filter(pk=report.pk).update(crew=crews["A"])
    client.force_login(crews["member_a"])
    response = client.get(f"/cuadrilla/solicitud/{report.tracking_code}/")
    page = response.content.decode()
    assert response.status_code == 200 and report.tracking_code in page
    assert 'id="sent-letters"' not in page and "/carta/1" not in page
    assert client.get(f"/cuadrilla/solicitud/{report.tracking_code}/carta/1/").status_code == 403


def test_another_comunas_supervisor_gets_404_on_the_report_page(client, crews, communes, django_user_model):
    from django.contrib.auth.models import Group

    from geo_siac.testing import member_of
    from geo_siac.zones.roles import SUPERVISOR

    report = answered_request(client, crews, communes)
    other = django_user_model.objects.create_user("pedro")
    member_of(other, communes["13122"])
    other.groups.add(Group.objects.get_or_create(name=SUPERVISOR)[0])
    own = request_of(RequestKind.INFORMATION, "acceso-informacion", {"13201": communes["13122"]})
    client.force_login(other)
    assert client.get(f"/cuadrilla/solicitud/{own.tracking_code}/").status_code == 200  # a supervisor, of Peñalolén
    response = client.get(f"/cuadrilla/solicitud/{report.tracking_code}/")
    assert response.status_code == 404 and "/carta/1" not in response.content.decode()
    assert client.get(f"/cuadrilla/solicitud/{report.tracking_code}/carta/1/").status_code == 404
    assert client.get(f"/cuadrilla/solicitud/{report.tracking_code}/carta/1.pdf").status_code == 404


def offered_statuses(client, report) -> set[str]:
    page = client.get(f"/cuadrilla/solicitud/{report.tracking_code}/").content.decode()
    select = re.search(r'<select name="status"[^>]*>(.*?)</select>', page, re.S)[1]
    return set(re.findall(r'<option value="(\w+)"', select))


def accepted_statuses(report) -> set[str]:
    """What report_change_status accepts for this request now, each tried and rolled back."""
    accepted = set()
    for status in Status.values:
        try:
            with transaction.atomic():
                report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status=status)
                accepted.add(status)
                transaction.set_rollback(True)
        except ValidationError:
            pass
    return accepted


def test_the_status_form_offers_exactly_what_the_service_accepts_for_each_kind(client, crews, communes, make_report):
    service = make_report(point=WEST_POINT)
    complaint = request_of(RequestKind.COMPLAINT, "reclamo-servicio", communes)
    information = request_of(RequestKind.INFORMATION, "acceso-informacion", communes)
    client.force_login(crews["supervisor"])
    # The service request first: its form, drawn once, must not be reused for a kind answered by letter.
    offered = offered_statuses(client, service)
    assert "resolved" in offered
    assert offered == accepted_statuses(service)
    for report in (complaint, information):
        offered = offered_statuses(client, report)
        assert "resolved" not in offered and "in_progress" in offered
        assert offered == accepted_statuses(report)


def test_resolving_a_complaint_without_its_letter_is_refused_with_the_services_reason(client, crews, communes):
    complaint = request_of(RequestKind.COMPLAINT, "reclamo-servicio", communes)
    client.force_login(crews["supervisor"])
    response = client.post(reverse("crew:status", args=[complaint.tracking_code]), {"status": "resolved"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Una solicitud de tipo «Reclamo» se resuelve respondiendo con carta." in page
    assert "Escoja una opción válida" not in page
    assert Report.objects.get(pk=complaint.pk).status == complaint.status


def test_each_legal_step_tells_the_officer_what_happened_not_only_that_it_was_saved(client, crews, communes):
    client.force_login(crews["supervisor"])

    def step(report, name, data):
        response = client.post(f"/cuadrilla/solicitud/{report.tracking_code}/paso/{name}/", data, follow=True)
        return response.content.decode().split('id="messages"', 1)[1].split("</ul>", 1)[0]

    extended = request_of(RequestKind.INFORMATION, "acceso-informacion", communes)
    said = step(extended, "legal_extend", {"reason": "Volumen de documentos."})
    extended.refresh_from_db()
    assert f"Plazo prorrogado hasta el {shown_day(extended.expected_at)}" in said
    corrected = request_of(RequestKind.INFORMATION, "acceso-informacion", communes)
    said = step(corrected, "correction", {"note": "Indique el año de las actas."})
    corrected.refresh_from_db()
    assert f"el solicitante tiene hasta el {shown_day(corrected.correction_due_at)} para responder" in said
    answered = request_of(RequestKind.INFORMATION, "acceso-informacion", communes)
    said = step(answered, "legal_answer", {"outcome": "delivered", "note": "Se adjuntan las actas."})
    assert "Respuesta enviada con su carta; la solicitud quedó «Resuelta»." in said
    referred = request_of(RequestKind.INFORMATION, "acceso-informacion", communes)
    institution = Institution.objects.filter(is_active=True).first()
    said = step(referred, "referral", {"institution": institution.pk, "note": ""})
    assert f"Derivada a {institution.name};" in said


def test_an_officer_who_cannot_sign_is_told_before_typing_and_offered_no_buttons(client, crews, communes):
    from geo_siac.reports.models import Signatory

    report = request_of(RequestKind.INFORMATION, "acceso-informacion", communes)
    officer = crews["supervisor"]
    client.force_login(officer)
    page = client.get(f"/cuadrilla/solicitud/{report.tracking_code}/").content.decode()
    assert 'id="signer-missing"' not in page
    assert re.search(r'<button type="submit" id="answer-send">', page)

    Signatory.objects.filter(user=officer).delete()
    page = client.get(f"/cuadrilla/solicitud/{report.tracking_code}/").content.decode()
    notice = page.split('id="signer-missing"')[1].split("</p>")[0]
    assert "quien administra las cuentas de su comuna" in notice
    assert "Solicitudes ciudadanas › Firmantes de cartas" in notice
    assert re.search(r'id="answer-preview" disabled', page) and re.search(r'id="answer-send" disabled', page)
    response = client.post(
        f"/cuadrilla/solicitud/{report.tracking_code}/paso/legal_answer/",
        {"outcome": "delivered", "note": "Adjunto.", "preview": "1"},
    )
    assert "Solicitudes ciudadanas › Firmantes de cartas" in response.content.decode()
