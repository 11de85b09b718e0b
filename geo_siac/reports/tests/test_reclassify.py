"""Reclassifying a filed request (report_reclassify): another topic and perhaps another kind, its deadline counted
again from the day it was received across a Chilean holiday (Fri 18 September 2026), routed again as report_create
routes, an internal event with the reason, the citizen told of a new kind; and each refusal writes nothing."""

from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.catalogue.models import Category, Department
from geo_siac.notifications.models import Notification
from geo_siac.reports.models import EventKind, Report, ReportEvent
from geo_siac.reports.services import (
    EXPLAINED_BY_CALLER,
    information_correction_request,
    report_change_status,
    report_create,
    report_extend_deadline,
    report_reclassify,
)
from geo_siac.reports.states import Status
from geo_siac.testing import WEST_POINT

SANTIAGO = ZoneInfo("America/Santiago")
CITIZEN = "vecina@example.cl"
RECEIVED = datetime(2026, 9, 10, 10, 0, tzinfo=SANTIAGO)  # a Thursday; Friday 18 September is a holiday
LATER = datetime(2026, 9, 14, 11, 0, tzinfo=SANTIAGO)


def run_at(moment, function, **kwargs):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return function(**kwargs)


@pytest.fixture
def query(communes):
    """A consulta as email files it: its topic, no place, a name and an address to answer to."""
    return run_at(
        RECEIVED,
        report_create,
        kind=RequestKind.QUERY,
        category="consulta-tramites",
        commune=communes["13201"],
        channel="email",
        description="Quiero reclamar: el camión de la basura no pasa hace dos semanas.",
        reporter_name="Rosa Pérez",
        reporter_email=CITIZEN,
    )


def snapshot(report: Report) -> tuple:
    stored = Report.objects.get(pk=report.pk)
    return (
        stored.kind,
        stored.category_id,
        stored.expected_at,
        stored.department_id,
        stored.crew_id,
        stored.updated_at,
        stored.events.count(),
        Notification.objects.filter(report=report).count(),
    )


def test_a_query_reclassified_as_a_suggestion_counts_its_deadline_from_the_day_received_across_the_holiday(
    query, crews
):
    # 15 business days after Thu 10 September, skipping Fri 18 (a holiday): Fri 2 October, not Thu 1.
    assert query.expected_at.date() == datetime(2026, 9, 25).date()  # the consulta's 10 days, across it too
    report = run_at(
        LATER,
        report_reclassify,
        report=query,
        category="sugerencia",
        reason="Propone un cambio, no pregunta.",
        actor=crews["supervisor"],
    )
    stored = Report.objects.get(pk=report.pk)
    assert (stored.kind, stored.category.service_code) == (RequestKind.SUGGESTION, "sugerencia")
    assert stored.expected_at == datetime(2026, 10, 2, 23, 59, 59, tzinfo=SANTIAGO)


def test_reclassifying_reroutes_to_the_new_topics_department_and_records_the_reason(query, crews):
    transparency = Department.objects.create(name="Unidad de Prueba")
    Category.objects.filter(service_code="reclamo-servicio").update(department=transparency)
    run_at(
        LATER,
        report_reclassify,
        report=query,
        category="reclamo-servicio",
        reason="Es un reclamo por el retiro de basura.",
        actor=crews["supervisor"],
    )
    stored = Report.objects.get(pk=query.pk)
    assert (stored.department, stored.crew, stored.zone) == (transparency, None, None)
    internal = stored.events.get(kind=EventKind.RECLASSIFIED, is_public=False)
    assert internal.actor == crews["supervisor"]
    assert "de «Consulta sobre trámites y beneficios» a «Reclamo por un servicio municipal»" in internal.note
    assert "Unidad de Prueba" in internal.note and "Motivo: Es un reclamo por el retiro de basura." in internal.note


def test_a_new_kind_tells_the_citizen_and_the_tracking_page_but_not_the_internal_reason(client, query, crews):
    run_at(
        LATER,
        report_reclassify,
        report=query,
        category="reclamo-servicio",
        reason="Motivo interno: vecina reiterativa.",
        actor=crews["supervisor"],
    )
    message = Notification.objects.filter(report=query, recipient=CITIZEN).order_by("id").last()
    assert "Su solicitud, recibida como «Consulta», quedó registrada como «Reclamo»" in message.body
    # Reclamo: the topic's 10 days, the day as the locale writes it.
    assert "El plazo para responderle es el 25 de septiembre de 2026." in message.body
    assert "vecina reiterativa" not in message.body
    page = client.get(reverse("reports:tracking", args=[query.tracking_code])).content.decode()
    assert "quedó registrada como «Reclamo»" in page and "vecina reiterativa" not in page


def test_a_new_kind_answered_by_another_department_tells_the_citizen_once_naming_it(query, crews):
    other = Department.objects.create(name="Unidad de Prueba")
    Category.objects.filter(service_code="reclamo-servicio").update(department=other)
    before = Notification.objects.filter(report=query).count()
    run_at(LATER, report_reclassify, report=query, category="reclamo-servicio", reason="Es un reclamo.")
    notices = list(Notification.objects.filter(report=query).order_by("id")[before:])
    assert len(notices) == 1 and "quedó registrada como «Reclamo»" in notices[0].body
    assert "y ahora la responde Unidad de Prueba." in notices[0].body
    told = query.events.filter(is_public=True).exclude(kind=EventKind.CREATED)
    assert [event.kind for event in told] == [EventKind.RECLASSIFIED] and "Unidad de Prueba" in told[0].note


def test_the_same_kind_on_another_departments_topic_tells_the_citizen_of_the_department(query, crews, client):
    other = Department.objects.create(name="Unidad de Prueba")
    Category.objects.create(
        service_code="consulta-otra",
        kind=RequestKind.QUERY,
        name_es="Consulta sobre patentes",
        group=query.category.group,
        response_days=5,
        department=other,
    )
    before = Notification.objects.filter(report=query).count()
    run_at(LATER, report_reclassify, report=query, category="consulta-otra", reason="Es sobre patentes.")
    notices = list(Notification.objects.filter(report=query).order_by("id")[before:])
    assert len(notices) == 1 and "Su solicitud fue derivada a Unidad de Prueba" in notices[0].body
    told = query.events.filter(is_public=True).exclude(kind=EventKind.CREATED)
    assert [(event.kind, event.note) for event in told] == [(EventKind.REROUTED, "Unidad de Prueba")]
    page = client.get(reverse("reports:tracking", args=[query.tracking_code])).content.decode()
    assert "Derivada a Unidad de Prueba." in page


def test_the_same_kind_on_another_topic_tells_the_citizen_nothing(query, crews):
    Category.objects.create(
        service_code="consulta-otra",
        kind=RequestKind.QUERY,
        name_es="Consulta sobre patentes",
        group=query.category.group,
        response_days=5,
    )
    before = Notification.objects.filter(report=query).count()
    run_at(LATER, report_reclassify, report=query, category="consulta-otra", reason="Es sobre patentes.")
    stored = Report.objects.get(pk=query.pk)
    assert stored.expected_at == datetime(2026, 9, 17, 23, 59, 59, tzinfo=SANTIAGO)
    assert Notification.objects.filter(report=query).count() == before
    assert not stored.events.filter(kind=EventKind.RECLASSIFIED, is_public=True).exists()


def test_a_placed_service_request_reclassified_as_a_complaint_is_routed_as_report_create_routes_it(make_report, crews):
    report = make_report(point=WEST_POINT, reporter_email=CITIZEN)
    assert report.crew == crews["A"]
    report_reclassify(report=report, category="reclamo-servicio", reason="Reclama por la demora de otra vez.")
    filed_directly = report_create(
        kind=RequestKind.COMPLAINT,
        category="reclamo-servicio",
        latitude=WEST_POINT[0],
        longitude=WEST_POINT[1],
        channel="web",
        description="Igual, con lugar.",
    )
    stored = Report.objects.get(pk=report.pk)
    assert stored.kind == RequestKind.COMPLAINT and stored.location is not None
    assert (stored.zone, stored.crew, stored.department) == (
        filed_directly.zone,
        filed_directly.crew,
        filed_directly.department,
    )


def test_a_placed_complaint_becomes_a_service_request_until_it_was_answered_in_public_notes(communes, crews):
    def placed_complaint():
        return report_create(
            kind=RequestKind.COMPLAINT,
            category="reclamo-servicio",
            latitude=WEST_POINT[0],
            longitude=WEST_POINT[1],
            channel="web",
            description="Escombros frente a mi casa hace un mes.",
            reporter_email=CITIZEN,
        )

    quiet = report_reclassify(report=placed_complaint(), category="retiro-escombros", reason="Es un retiro.")
    assert (quiet.kind, quiet.crew) == (RequestKind.SERVICE_REQUEST, crews["A"])
    answered = placed_complaint()
    report_change_status(
        public_note=EXPLAINED_BY_CALLER,
        report=answered,
        status=Status.IN_PROGRESS,
        note="Sra. Rosa, revisaremos su caso personalmente.",
        note_is_public=True,
        actor=crews["supervisor"],
    )
    errors = refused(answered, category="retiro-escombros")
    assert "Ya se le escribió al vecino como «Reclamo»" in errors["category"][0]


def refused(report, **kwargs) -> dict:
    before = snapshot(report)
    with pytest.raises(ValidationError) as error:
        report_reclassify(report=report, **{"reason": "Motivo.", **kwargs})
    assert snapshot(report) == before
    return error.value.message_dict


def test_a_request_without_a_place_cannot_become_a_service_request(query):
    errors = refused(query, category="retiro-escombros")
    assert "es una solicitud de servicio y necesita un lugar" in errors["category"][0]


def test_a_closed_request_is_not_reclassified(query, crews):
    report_change_status(
        public_note=EXPLAINED_BY_CALLER, report=query, status=Status.CLOSED_NOT_MUNICIPAL, actor=crews["supervisor"]
    )
    assert refused(query, category="sugerencia") == {"__all__": [f"La solicitud {query.tracking_code} está cerrada."]}


def test_an_extended_request_is_not_reclassified(query, crews):
    report_extend_deadline(report=query, business_days=5, reason="Falta un informe.")
    errors = refused(query, category="sugerencia")
    assert "ya tuvo un trámite propio de su tipo" in errors["category"][0]


def test_an_information_request_waiting_for_its_correction_is_not_reclassified(communes):
    information = report_create(
        kind=RequestKind.INFORMATION,
        category="acceso-informacion",
        commune=communes["13201"],
        channel="web",
        description="Contratos.",
        reporter_name="Rosa Pérez",
        reporter_email=CITIZEN,
    )
    information_correction_request(report=information, note="¿De qué año?")
    errors = refused(information, category="consulta-tramites")
    assert "ya tuvo un trámite propio de su tipo" in errors["category"][0]


def test_a_stale_form_is_refused(query):
    errors = refused(query, category="sugerencia", seen_updated_at=datetime(2026, 1, 1, tzinfo=SANTIAGO))
    assert "Otra persona modificó esta solicitud" in errors["__all__"][0]


def test_an_information_request_needs_the_requesters_name(communes):
    anonymous = report_create(
        kind=RequestKind.QUERY,
        category="consulta-tramites",
        commune=communes["13201"],
        channel="email",
        description="¿Cuánto gastó el municipio en luminarias?",
        reporter_email=CITIZEN,
    )
    errors = refused(anonymous, category="acceso-informacion")
    assert "necesita el nombre de quien solicita" in errors["category"][0]


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"category": "sugerencia", "reason": "  "}, "reason", "Indique el motivo."),
        ({"category": "no-existe"}, "category", "no-existe"),
        ({"category": "consulta-tramites"}, "category", "Ya está clasificada como"),
    ],
)
def test_bad_input_names_the_problem_and_writes_nothing(query, kwargs, field, message):
    errors = refused(query, **kwargs)
    assert message in errors[field][0]
    assert ReportEvent.objects.filter(report=query, kind=EventKind.RECLASSIFIED).count() == 0
