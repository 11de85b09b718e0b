"""What a closed request offers its citizen (reports.closing): reopening and the survey decided once, by kind, status,
outcome and time, and said alike by the email, the tracking page, Mis solicitudes and the reopening link; and the
notices around it (the receipt, a reopening, a referral) as the citizen reads them, from their municipality."""

import re
from datetime import timedelta
from email.utils import parseaddr

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.catalogue.models import Institution
from geo_siac.notifications.models import Notification
from geo_siac.notifications.services import notifications_send_due
from geo_siac.reports.deadlines import written_day
from geo_siac.reports.messages import reopen_token, survey_token
from geo_siac.reports.services import (
    EXPLAINED_BY_CALLER,
    report_answer,
    report_change_status,
    report_create,
    report_refer,
    report_reopen_by_citizen,
    survey_submit,
)
from geo_siac.reports.tests.test_citizen_reopen import signed_in
from geo_siac.testing import WEST_POINT

ROSA = "rosa@example.cl"
REOPEN_OFFER = "¿No fue resuelto?"
SURVEY_OFFER = "¿Cómo lo hicimos?"


def filed(communes, kind, category):
    return report_create(
        kind=kind,
        category=category,
        commune=communes["13201"],
        channel="web",
        description="El camión de la basura no pasa hace dos semanas.",
        reporter_name="Rosa Pérez",
        reporter_email=ROSA,
    )


def last_email(report) -> str:
    return Notification.objects.filter(report=report, recipient=ROSA).latest("id").body


def pages(client, report) -> tuple[str, str, str]:
    """The tracking page, Mis solicitudes' page of the request and the page the email's reopening link opens."""
    tracking = client.get(f"/seguimiento/{report.tracking_code}/").content.decode()
    link = client.get(f"/mis-solicitudes/reabrir/{reopen_token(report, ROSA)}/").content.decode()
    mine = signed_in(client).get(f"/mis-solicitudes/solicitud/{report.tracking_code}/").content.decode()
    return tracking, mine, link


def assert_no_reopening_offered(client, report, why: str) -> None:
    assert REOPEN_OFFER not in last_email(report) and "/mis-solicitudes/reabrir/" not in last_email(report)
    tracking, mine, link = pages(client, report)
    assert 'id="no-resuelta"' not in tracking and "Mis solicitudes: reabrir esta solicitud" not in tracking
    for page in (mine, link):
        assert why in page.split('id="no-reopen">')[1].split("</p>")[0]
        assert 'name="reason"' not in page and 'id="reopen"' not in page


def test_a_consulta_offers_no_reopening_and_its_link_says_why_without_a_form(communes, client):
    query = filed(communes, RequestKind.QUERY, "consulta-tramites")
    report_change_status(report=query, status="resolved", public_note="El trámite se hace en la OIRS.")
    assert_no_reopening_offered(client, query, "Una solicitud de tipo «Consulta» no se reabre")
    refused = client.post(f"/mis-solicitudes/reabrir/{reopen_token(query, ROSA)}/", {"reason": "No me sirve."})
    assert refused.status_code == 400 and 'name="reason"' not in refused.content.decode()
    assert SURVEY_OFFER in last_email(query)  # the municipality answered it: its survey is asked


def test_a_complaint_answered_by_letter_offers_its_legal_remedy_not_a_reopening(communes, crews, client):
    complaint = filed(communes, RequestKind.COMPLAINT, "reclamo-servicio")
    report_answer(report=complaint, note="Se reprogramó la ruta del camión.", actor=crews["supervisor"])
    assert_no_reopening_offered(client, complaint, "recurso de reposición ante esta municipalidad, dentro de 5 días")
    assert "10 días hábiles" not in last_email(complaint)
    with pytest.raises(ValidationError, match="Se respondió con una carta"):
        report_reopen_by_citizen(report=complaint, reason="No estoy de acuerdo.", by_email=ROSA)


def test_a_referred_request_offers_neither_reopening_nor_survey_and_its_officers_note_has_its_own_line(
    communes, client
):
    complaint = filed(communes, RequestKind.COMPLAINT, "reclamo-servicio")
    sernac = Institution.objects.get(name="Servicio Nacional del Consumidor (SERNAC)")
    complaint = report_refer(report=complaint, institution=sernac, note="Su reclamo es sobre una empresa de la basura.")
    body = last_email(complaint)
    assert "Sitio web: https://www.sernac.cl\nSu reclamo es sobre una empresa de la basura." in body
    assert SURVEY_OFFER not in body
    assert_no_reopening_offered(client, complaint, "no corresponde al municipio")
    with pytest.raises(ValidationError, match="sobre el trabajo del municipio"):
        survey_submit(report=complaint, resolution_rating=1, service_rating=1)
    page = client.get(f"/encuesta/{survey_token(complaint)}/").content.decode()  # a link sent before this rule
    assert 'id="no-survey"' in page and 'name="resolution_rating"' not in page


def test_a_resolved_service_request_still_offers_both_and_warns_the_reason_is_public(make_report, client):
    report = make_report(point=WEST_POINT, reporter_email=ROSA)
    report_change_status(public_note="Bache reparado.", report=report, status="resolved")
    body = last_email(report)
    assert SURVEY_OFFER in body and REOPEN_OFFER in body
    tracking, mine, link = pages(client, report)
    assert 'id="no-resuelta"' in tracking
    for page in (mine, link):
        hint = page.split('id="reason-public">')[1].split("</p>")[0]
        assert "se verá en la página de seguimiento" in hint and 'aria-describedby="reason-public' in page


def test_a_reopening_notice_says_reabierta_not_the_status_it_went_back_to(make_report):
    report = make_report(point=WEST_POINT, reporter_email=ROSA)
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status="closed_unfixable")
    report_reopen_by_citizen(report=report, reason="Se puede arreglar.", by_email=ROSA)
    notice = Notification.objects.filter(report=report, recipient=ROSA).latest("id")
    assert notice.subject == f"Su solicitud {report.tracking_code}: Reabierta"


def sent_to_rosa():
    notifications_send_due(now=timezone.now() + timedelta(minutes=1))
    return [message for message in mail.outbox if message.to == [ROSA]]


def test_the_receipt_email_says_the_deadline_and_links_mis_solicitudes(communes):
    query = filed(communes, RequestKind.QUERY, "consulta-tramites")
    (sent,) = sent_to_rosa()
    assert f"Plazo de respuesta: {written_day(query.expected_at)}." in sent.body
    assert re.search(r"Vea todas sus solicitudes en \S+/mis-solicitudes/ingresar/", sent.body)


def test_a_requests_emails_come_from_its_municipality_at_the_configured_address_and_are_signed_by_it(make_report):
    report = make_report(point=WEST_POINT, reporter_email=ROSA)
    report_change_status(public_note="Bache reparado.", report=report, status="resolved")
    municipality = "Ilustre Municipalidad de Puente Alto"
    emails = sent_to_rosa()
    assert len(emails) == 2  # the receipt and the closing
    for sent in emails:
        assert parseaddr(sent.from_email) == (municipality, parseaddr(settings.DEFAULT_FROM_EMAIL)[1])
        assert municipality in str(sent.message()["From"])  # the header as sent
        assert sent.body.endswith(f"\n-- \n{municipality}")
