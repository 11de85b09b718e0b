"""What a closed request offers its citizen (reports.closing): reopening and the survey decided once, by kind, status,
outcome and time, and said alike by the email, the tracking page, Mis solicitudes and the reopening link; and the
notices around it (the receipt, a reopening, a referral) as the citizen reads them, from their municipality."""

import re
from datetime import timedelta
from email.header import decode_header, make_header
from email.utils import parseaddr

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.catalogue.models import Institution
from geo_siac.notifications.models import Notification
from geo_siac.notifications.services import notifications_send_due, sender
from geo_siac.reports.closing import citizen_reopen_refusal
from geo_siac.reports.deadlines import written_day
from geo_siac.reports.messages import received_message, reopen_token, survey_token
from geo_siac.reports.models import Follower
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
from geo_siac.zones.models import CommuneIdentity

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


def closing_queries(make_report, followers: int) -> int:
    report = make_report(point=WEST_POINT, reporter_email=ROSA)
    now = timezone.now()
    Follower.objects.bulk_create(
        Follower(report=report, email=f"vecino{n}@example.cl", created_at=now) for n in range(followers)
    )
    with CaptureQueriesContext(connection) as queries:
        report_change_status(public_note="Bache reparado.", report=report, status="resolved")
    return len(queries)


def test_a_closing_asks_what_it_offers_once_however_many_follow_it(make_report, django_assert_max_num_queries):
    one = closing_queries(make_report, 1)
    report = make_report(point=WEST_POINT, reporter_email=ROSA)
    now = timezone.now()
    Follower.objects.bulk_create(
        Follower(report=report, email=f"vecino{n}@example.cl", created_at=now) for n in range(20)
    )
    # Each further recipient costs its outbox row and its message's comuna host, not the reopening rule again.
    with django_assert_max_num_queries(one + 19 * 2):
        report_change_status(public_note="Bache reparado.", report=report, status="resolved")
    assert Notification.objects.filter(report=report, body__contains=REOPEN_OFFER).count() == 21


def test_an_english_officers_closing_comes_from_the_municipalitys_legal_spanish_name(make_report):
    report = make_report(point=WEST_POINT, reporter_email=ROSA)
    Follower.objects.create(report=report, email="john@example.com", language="en", created_at=timezone.now())
    with translation.override("en"):  # the officer's screen
        report_change_status(public_note="Pothole fixed.", report=report, status="resolved")
    notifications_send_due(now=timezone.now() + timedelta(minutes=1))
    names = {parseaddr(sent.from_email)[0] for sent in mail.outbox}
    assert names == {"Ilustre Municipalidad de Puente Alto"}
    (john,) = [sent for sent in mail.outbox if sent.to == ["john@example.com"]]
    assert john.body.endswith("\n-- \nIlustre Municipalidad de Puente Alto")


def test_a_complaint_answered_by_letter_reopened_by_staff_and_closed_without_a_letter_may_be_reopened(communes, crews):
    complaint = filed(communes, RequestKind.COMPLAINT, "reclamo-servicio")
    complaint = report_answer(report=complaint, note="Se reprogramó la ruta.", actor=crews["supervisor"])
    assert citizen_reopen_refusal(complaint) is not None  # the letter's own remedy
    complaint = report_change_status(report=complaint, status="in_progress", public_note="Revisamos de nuevo.")
    # Closed by the crew's work, with no new letter: the old one answered a closing that is no longer the current one.
    complaint = report_change_status(
        report=complaint, status="closed_unfixable", public_note="La calle no admite el camión grande."
    )
    assert citizen_reopen_refusal(complaint) is None
    assert REOPEN_OFFER in last_email(complaint)


def test_a_plain_not_municipal_closing_names_no_body_and_suggests_a_new_request(communes):
    complaint = filed(communes, RequestKind.COMPLAINT, "reclamo-servicio")
    complaint = report_change_status(
        report=complaint, status="closed_not_municipal", public_note="No es un tema municipal."
    )
    refusal = citizen_reopen_refusal(complaint)
    assert "organismo" not in refusal and "si cree que es municipal, ingrese una nueva solicitud" in refusal


def test_a_withdrawn_request_offers_no_reopening(make_report):
    report = make_report(point=WEST_POINT, reporter_email=ROSA)
    report = report_change_status(report=report, status="closed_withdrawn", public_note="Desistida por la vecina.")
    assert "desistimiento" in citizen_reopen_refusal(report)
    assert REOPEN_OFFER not in last_email(report)


def decoded(header: str) -> tuple[str, str]:
    """A From header's name and address as a mail client shows them (RFC 2047 words decoded)."""
    name, address = parseaddr(header)
    return str(make_header(decode_header(name))), address


def test_the_sender_is_the_identitys_name_encoded_at_the_configured_address(make_report):
    CommuneIdentity.objects.update_or_create(
        commune_id=make_report(point=WEST_POINT).commune_id,
        defaults={"display_name": 'Municipalidad de Ñuñoa, "Chile"'},
    )
    report = make_report(point=WEST_POINT, reporter_email=ROSA)
    report_change_status(public_note="Bache reparado.", report=report, status="resolved")
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    for sent in sent_to_rosa():
        assert decoded(str(sent.message()["From"])) == ('Municipalidad de Ñuñoa, "Chile"', address)  # as sent
        assert parseaddr(sent.from_email)[1] == address  # the envelope's sender


def test_a_name_with_a_newline_is_folded_to_one_line():
    assert decoded(sender("Municipalidad\nde Ñuñoa")) == (
        "Municipalidad de Ñuñoa",
        parseaddr(settings.DEFAULT_FROM_EMAIL)[1],
    )
    assert "\n" not in sender("Municipalidad\nde Ñuñoa")


def test_an_sms_receipt_has_no_deadline_line_and_an_email_one_has(make_report):
    report = make_report(point=WEST_POINT, reporter_email=ROSA)
    assert "Plazo de respuesta" in received_message(report, "es")[1]
    assert "Plazo de respuesta" not in received_message(report, "es", email=False)[1]


def test_a_refused_survey_post_is_a_400(communes, client):
    complaint = filed(communes, RequestKind.COMPLAINT, "reclamo-servicio")
    complaint = report_change_status(report=complaint, status="closed_not_municipal", public_note="No municipal.")
    posted = client.post(f"/encuesta/{survey_token(complaint)}/", {"resolution_rating": 1, "service_rating": 1})
    assert posted.status_code == 400 and 'id="no-survey"' in posted.content.decode()
