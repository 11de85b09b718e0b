"""The lines GeoSIAC writes in a request's public history (a reclassification, a rerouting, a Ley 20.285 extension)
are kept as data and worded in each reader's language (reports.events): written by a Spanish-speaking officer, they
read in English on the tracking page and in an English notice, dates as the locale writes them; the stored note, which
Open311 and the webhooks publish, is in the installation's language whoever wrote it; an event written before lines
were data still shows its note."""

import re
from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import translation

from geo_siac.catalogue.kinds import LegalOutcome, RequestKind
from geo_siac.catalogue.models import Category, Department, Institution
from geo_siac.notifications.models import Notification
from geo_siac.reports.events import event_data, event_html, event_text, event_title
from geo_siac.reports.models import EventKind, Report, ReportEvent
from geo_siac.reports.services import (
    information_correction_receive,
    information_correction_request,
    information_corrections_lapse,
    information_extend,
    report_answer,
    report_assign_department,
    report_create,
    report_reclassify,
    report_refer,
)

SANTIAGO = ZoneInfo("America/Santiago")
CITIZEN = "resident@example.cl"


def at(month, day):
    return datetime(2026, month, day, 10, 0, tzinfo=SANTIAGO)


def run_at(moment, function, *, language="es-cl", **kwargs):
    """`function` run at `moment` by an officer whose pages are in `language`."""
    with mock.patch("django.utils.timezone.now", return_value=moment), translation.override(language):
        return function(**kwargs)


def english_reader(report: Report) -> Report:
    Report.objects.filter(pk=report.pk).update(language="en")
    return report


def filed(communes, kind, category) -> Report:
    return english_reader(
        run_at(
            at(9, 10),
            report_create,
            kind=kind,
            category=category,
            commune=communes["13201"],
            channel="email",
            description="El camión de la basura no pasa hace dos semanas.",
            reporter_name="Rosa Pérez",
            reporter_email=CITIZEN,
        )
    )


def tracking(client, report: Report, language: str) -> str:
    client.cookies["django_language"] = language
    return client.get(reverse("reports:tracking", args=[report.tracking_code])).content.decode()


def last_notice(report: Report) -> str:
    return Notification.objects.filter(report=report, recipient=CITIZEN).order_by("id").last().body


def test_a_reclassification_by_a_spanish_speaking_officer_reads_in_english_with_the_day_in_words(
    client, communes, crews
):
    query = filed(communes, RequestKind.QUERY, "consulta-tramites")
    run_at(
        at(9, 14),
        report_reclassify,
        report=query,
        category="reclamo-servicio",
        reason="Es un reclamo.",
        actor=crews["supervisor"],
    )
    english = tracking(client, query, "en")
    assert "is now registered as" in english and "The deadline to answer you is 25 September 2026." in english
    assert "quedó registrada" not in english and "25-09-2026" not in english
    notice = last_notice(query)
    assert notice.startswith("Your request, received as") and "is 25 September 2026." in notice
    spanish = tracking(client, query, "es-cl")
    assert "El plazo para responderle es el 25 de septiembre de 2026." in spanish


def test_a_rerouting_reads_in_english_on_the_page_and_in_the_notice(client, communes, crews):
    """A regression test: a rerouting already kept only its department (models.PUBLIC_REROUTING), so this passed
    before lines were data too; it guards that the rerouting's line stays worded in the reader's language."""
    query = filed(communes, RequestKind.QUERY, "consulta-tramites")
    other = Department.objects.create(name="Unidad de Prueba")
    run_at(at(9, 14), report_assign_department, report=query, department=other, actor=crews["supervisor"])
    assert "Rerouted to Unidad de Prueba." in tracking(client, query, "en")
    assert last_notice(query).startswith("Your request was sent to Unidad de Prueba, which is now responsible")
    # Its note is still the department alone, which Open311 and the webhooks word (models.PUBLIC_REROUTING).
    assert query.events.get(kind=EventKind.REROUTED, is_public=True).note == "Unidad de Prueba"


def test_a_ley_20285_extension_reads_in_english_and_keeps_the_officers_words_as_typed(client, communes, crews):
    request = filed(communes, RequestKind.INFORMATION, "acceso-informacion")
    request = run_at(
        at(9, 16), information_extend, report=request, reason="Volumen de documentos.", actor=crews["supervisor"]
    )
    # 20 business days from Thu 10 September, past Fri 18 and Sat 19 (holidays): Fri 9 October; 10 more, past
    # Mon 12 October: Mon 26 October.
    english = tracking(client, request, "en")
    assert "The term to answer was extended by 10 business days, from 9 October 2026 to 26 October 2026" in english
    assert "Volumen de documentos." in english and "se prorrogó" not in english
    assert "from 9 October 2026 to 26 October 2026 (Ley 20.285, art. 14).\nVolumen de documentos." in last_notice(
        request
    )


def test_the_stored_note_is_in_the_installations_language_whoever_wrote_it(communes, crews):
    request = filed(communes, RequestKind.INFORMATION, "acceso-informacion")
    run_at(
        at(9, 16),
        information_extend,
        language="en",
        report=request,
        reason="Volumen de documentos.",
        actor=crews["supervisor"],
    )
    event = request.events.get(kind=EventKind.EXTENDED)
    assert event.note == (
        "El plazo para responder se prorrogó 10 días hábiles, del 9 de octubre de 2026 al 26 de octubre de 2026 "
        "(Ley 20.285, art. 14). Volumen de documentos."
    )
    assert event_text(event, "es-cl") == event.note


def test_an_event_written_before_lines_were_data_still_shows_its_note(client, communes):
    query = filed(communes, RequestKind.QUERY, "consulta-tramites")
    ReportEvent.objects.create(
        report=query,
        kind=EventKind.RECLASSIFIED,
        note="Su solicitud quedó registrada como «Reclamo». El plazo para responderle es el 25-09-2026.",
        is_public=True,
        created_at=at(9, 14),
    )
    assert "El plazo para responderle es el 25-09-2026." in tracking(client, query, "en")


@pytest.mark.parametrize("english_name", ["Municipal service complaint", ""])
def test_a_reclassifications_topic_reads_in_the_readers_language_when_it_has_one(client, communes, crews, english_name):
    Category.objects.filter(service_code="reclamo-servicio").update(name_en=english_name)
    query = filed(communes, RequestKind.QUERY, "consulta-tramites")
    run_at(at(9, 14), report_reclassify, report=query, category="reclamo-servicio", reason="x", actor=None)
    english = tracking(client, query, "en")
    assert f"({english_name or 'Reclamo por un servicio municipal'})" in english


def test_a_referral_reads_in_english_with_the_bodys_contact_and_the_officers_words_as_typed(client, communes, crews):
    complaint = filed(communes, RequestKind.COMPLAINT, "reclamo-servicio")
    sernac = Institution.objects.get(name="Servicio Nacional del Consumidor (SERNAC)")
    run_at(at(9, 14), report_refer, report=complaint, institution=sernac, note="Es un reclamo de consumo.")
    english = tracking(client, complaint, "en")
    assert "Servicio Nacional del Consumidor (SERNAC)" in english and "Es un reclamo de consumo." in english
    assert "el organismo competente" not in english and "https://www.sernac.cl" in english
    assert "Referred to Servicio Nacional del Consumidor (SERNAC), the competent body." in english
    assert "How to reach it:" in english and "Cómo contactarlo" not in english
    assert "el organismo competente" not in last_notice(complaint)
    assert "Referred to Servicio Nacional del Consumidor (SERNAC), the competent body." in last_notice(complaint)
    spanish = complaint.events.get(to_status="closed_not_municipal").note
    assert spanish.startswith("Derivada a Servicio Nacional del Consumidor (SERNAC), el organismo competente.")


def test_a_ley_20285_answers_outcome_reads_in_english_before_the_officers_answer_as_typed(client, communes, crews):
    request = filed(communes, RequestKind.INFORMATION, "acceso-informacion")
    answer = "Se entregan los contratos sin datos personales."
    run_at(
        at(9, 16),
        report_answer,
        report=request,
        outcome="partly_delivered",
        ground="art21_2",
        note=answer,
        actor=crews["supervisor"],
    )
    english = tracking(client, request, "en")
    assert answer in english and "Entregada parcialmente" not in english
    assert request.events.get(to_status="resolved").note.startswith("Entregada parcialmente (Art. 21 N°2")
    with translation.override("en"):
        assert str(LegalOutcome.PARTLY_DELIVERED.label) in english


def test_a_lapsed_correction_reads_in_english_on_the_page_and_in_the_notice(client, communes, crews):
    request = filed(communes, RequestKind.INFORMATION, "acceso-informacion")
    run_at(
        at(9, 16), information_correction_request, report=request, note="Precise el período.", actor=crews["supervisor"]
    )
    # 5 business days after Wed 16 September, past Fri 18 and Sat 19 (holidays): Thu 24 September.
    assert run_at(at(9, 25), information_corrections_lapse) == 1
    lapsed = "No correction was received by 24 September 2026: the request is deemed withdrawn"
    english = tracking(client, request, "en")
    assert lapsed in english and "No se recibió" not in english
    assert lapsed in last_notice(request) and "No se recibió" not in last_notice(request)


def test_a_line_this_version_does_not_know_reads_as_its_stored_note():
    event = ReportEvent(kind=EventKind.STATUS, note="Nota guardada.", data={"line": "retirada", "params": {}})
    assert event_text(event, "en") == "Nota guardada."


def test_a_line_that_does_not_exist_is_refused_even_when_assertions_are_off():
    with pytest.raises(ValueError, match="retirada"):
        event_data("retirada", {})


def test_the_data_column_is_named_for_what_it_holds():
    # Its English ("line data") is in django.po, read once django.mo is compiled from it (docs/i18n.md).
    assert ReportEvent._meta.get_field("data").verbose_name == "datos de la línea"


def test_a_subsanacion_asked_and_its_answer_have_headings_of_their_own(client, communes, crews):
    request = filed(communes, RequestKind.INFORMATION, "acceso-informacion")
    run_at(
        at(9, 16), information_correction_request, report=request, note="Precise el período.", actor=crews["supervisor"]
    )
    run_at(at(9, 17), information_correction_receive, report=request, note="Trajo la carta.", actor=crews["operator"])
    events = request.events.filter(kind=EventKind.CORRECTION).order_by("created_at")
    assert [event_title(event, "es-cl") for event in events] == ["Subsanación pedida", "Subsanación recibida"]
    page = tracking(client, request, "es-cl")
    assert "Subsanación pedida" in page and not re.search(r"—\s+Subsanación\s*<", page)


def test_a_referrals_web_address_is_a_link_and_the_officers_words_a_line_of_their_own(client, communes):
    complaint = filed(communes, RequestKind.COMPLAINT, "reclamo-servicio")
    sernac = Institution.objects.get(name="Servicio Nacional del Consumidor (SERNAC)")
    run_at(at(9, 14), report_refer, report=complaint, institution=sernac, note="Vea https://otro.example.cl.")
    page = tracking(client, complaint, "es-cl")
    link = '<a href="https://www.sernac.cl" rel="noopener">https://www.sernac.cl</a>'
    assert f"Sitio web: {link}<br>Vea https://otro.example.cl." in page
    assert 'href="https://otro.example.cl' not in page  # an address the officer typed is text


def test_only_an_http_address_the_line_keeps_is_a_link_and_typed_text_is_escaped():
    data = {"line": "referred", "params": {"body": "<i>X</i>", "contact": "", "url": "javascript:alert(1)"}}
    event = ReportEvent(kind=EventKind.STATUS, data={**data, "reason": "<b>hola</b>"})
    html = event_html(event, "es-cl")
    assert "<a" not in html and "<i>" not in html and "&lt;b&gt;hola&lt;/b&gt;" in html
    assert "Sitio web: javascript:alert(1)<br>" in html
