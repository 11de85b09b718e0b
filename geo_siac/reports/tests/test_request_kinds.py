"""Request kinds through the one creation path: a place only where the kind needs one, the comuna and routing of
a request without a place, the legal term, and the database's refusal of a service request without a place."""

from datetime import date, datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.catalogue.models import Category
from geo_siac.reports.models import Report
from geo_siac.reports.services import report_create, report_extend_deadline
from geo_siac.testing import PUENTE_ALTO_CENTRE
from geo_siac.zones.models import ServicePoint

SANTIAGO = ZoneInfo("America/Santiago")
MONDAY = datetime(2026, 9, 14, 10, 0, tzinfo=SANTIAGO)


def file(moment=MONDAY, **values):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return report_create(channel="web", **values)


def test_a_suggestion_without_a_place_goes_to_the_topics_department_with_no_cell(communes):
    report = file(
        kind=RequestKind.SUGGESTION,
        category="sugerencia",
        commune=communes["13201"],
        description="Más bancas en la plaza.",
        reporter_email="vecina@example.cl",
    )
    report.refresh_from_db()
    assert report.kind == "suggestion" and report.location is None and report.commune.cut == "13201"
    assert [getattr(report, f"h3_res{r}") for r in range(6, 11)] == [None] * 5
    assert report.crew is None and report.zone is None
    assert report.department.name == "Oficina de Informaciones, Reclamos y Sugerencias (OIRS)"
    # 15 business days from Mon 14 Sep: 18 and 19 September are holidays, so Tue 6 October.
    assert report.expected_at.astimezone(SANTIAGO).date() == date(2026, 10, 6)
    assert "Oficina de Informaciones" in report.events.get(kind="routed").note


def test_a_complaint_topic_promising_more_than_the_law_allows_gets_the_legal_20_business_days(communes):
    Category.objects.filter(service_code="reclamo-servicio").update(response_days=40)
    report = file(
        kind=RequestKind.COMPLAINT,
        category="reclamo-servicio",
        commune=communes["13201"],
        description="No retiraron la basura.",
    )
    # 20 business days from Mon 14 Sep, skipping 18-19 Sep and Mon 12 October: Wed 14 October.
    assert report.expected_at.astimezone(SANTIAGO).date() == date(2026, 10, 14)


def test_a_topic_without_department_goes_to_the_oirs_triage_queue(communes):
    Category.objects.filter(service_code="consulta-tramites").update(department=None)
    report = file(
        kind=RequestKind.QUERY,
        category="consulta-tramites",
        commune=communes["13122"],
        description="¿Cómo renuevo mi permiso?",
    )
    assert report.department is None and report.crew is None
    assert "cola de triage de la OIRS" in report.events.get(kind="routed").note


def test_a_complaint_may_still_carry_a_place(communes):
    lat, lng = PUENTE_ALTO_CENTRE
    report = file(
        kind=RequestKind.COMPLAINT,
        category="reclamo-atencion",
        latitude=lat,
        longitude=lng,
        description="Me atendieron mal en el consultorio.",
    )
    assert report.location is not None and report.h3_res9 is not None and report.commune.cut == "13201"


def test_a_service_request_without_a_place_is_refused_naming_the_coordinates(communes):
    with pytest.raises(ValidationError) as caught:
        file(category="retiro-escombros", commune=communes["13201"], description="Escombros.")
    assert set(caught.value.message_dict) >= {"latitude", "longitude"}
    assert not Report.objects.exists()


def test_a_topic_of_another_kind_is_refused_under_category(communes):
    with pytest.raises(ValidationError) as caught, translation.override("es"):
        file(kind=RequestKind.COMPLAINT, category="sugerencia", commune=communes["13201"], description="x")
    assert caught.value.message_dict["category"] == ["«Sugerencia» no es un tema de «Reclamo»."]
    with pytest.raises(ValidationError) as caught:
        file(kind="petition", category="sugerencia", commune=communes["13201"])
    assert "Tipo de solicitud desconocido" in caught.value.message_dict["kind"][0]


@pytest.mark.parametrize("value", [["complaint"], {"complaint": 1}])
def test_a_kind_or_channel_that_is_not_text_is_refused_by_name(communes, value):
    """A list or a dict (a JSON body's) is an unknown kind or channel, not an error from the set's hashing."""
    with pytest.raises(ValidationError) as caught:
        file(kind=value, category="sugerencia", commune=communes["13201"], description="x")
    assert "Tipo de solicitud desconocido" in caught.value.message_dict["kind"][0]
    with pytest.raises(ValidationError) as caught:
        report_create(
            kind=RequestKind.SUGGESTION,
            category="sugerencia",
            commune=communes["13201"],
            description="x",
            channel=value,
        )
    assert "Canal desconocido" in caught.value.message_dict["channel"][0]
    assert not Report.objects.exists()


def test_without_a_place_the_comuna_must_be_chosen_when_several_are_served(communes):
    with pytest.raises(ValidationError) as caught:
        file(kind=RequestKind.SUGGESTION, category="sugerencia", description="Más árboles.")
    assert caught.value.message_dict == {"commune": ["Elija la comuna a la que dirige su solicitud."]}


def test_a_request_taken_at_a_desk_belongs_to_the_desks_comuna(communes, crews):
    desk = ServicePoint.objects.create(
        name="OIRS Peñalolén",
        kind="municipal_office",
        commune=communes["13122"],
        point=Point(-70.54, -33.485, srid=4326),
    )
    report = file(
        kind=RequestKind.INFORMATION,
        category="acceso-informacion",
        received_at=desk,
        description="Copia del contrato de recolección de basura.",
        created_by=crews["operator"],
        reporter_name="Rosa Pérez",
        reporter_phone="+56 9 8765 4321",
    )
    assert report.commune.cut == "13122" and report.received_at == desk
    # Ley 20.285: 20 business days whatever the topic says: Wed 14 October.
    assert report.expected_at.astimezone(SANTIAGO).date() == date(2026, 10, 14)


def test_the_database_refuses_a_service_request_without_a_place(make_report):
    report = make_report()
    with pytest.raises(IntegrityError, match="report_service_request_has_place"), transaction.atomic():
        Report.objects.filter(pk=report.pk).update(location=None, **{f"h3_res{r}": None for r in range(6, 11)})


def test_the_database_refuses_a_place_without_its_cells(make_report):
    report = make_report()
    with pytest.raises(IntegrityError, match="report_place_and_cells_together"), transaction.atomic():
        Report.objects.filter(pk=report.pk).update(h3_res8=None)


def test_an_information_request_is_not_extended_by_the_supervisors_extension(communes, crews):
    report = file(
        kind=RequestKind.INFORMATION,
        category="acceso-informacion",
        commune=communes["13201"],
        description="Actas del concejo de 2025.",
        reporter_name="Rosa Pérez",
        reporter_email="rosa@example.cl",
    )
    with pytest.raises(ValidationError) as caught:
        report_extend_deadline(report=report, business_days=5, reason="Mucho trabajo", actor=crews["supervisor"])
    assert "prórroga legal de 10 días hábiles" in caught.value.message_dict["business_days"][0]


def test_a_request_without_a_place_needs_its_text_and_an_information_request_its_requester(communes):
    with pytest.raises(ValidationError) as caught:
        file(kind=RequestKind.COMPLIMENT, category="felicitacion", commune=communes["13201"], description="  ")
    assert caught.value.message_dict == {"description": ["Escriba su felicitación."]}
    with pytest.raises(ValidationError) as caught:
        file(
            kind=RequestKind.INFORMATION,
            category="acceso-informacion",
            commune=communes["13201"],
            description="Actas del concejo.",
        )
    assert caught.value.message_dict == {
        "reporter_name": ["La Ley 20.285 pide el nombre de quien solicita."],
        "reporter_email": ["Indique un correo (o un teléfono) para enviarle la respuesta."],
    }
    assert not Report.objects.exists()


def test_an_answered_access_to_information_request_is_not_reopened_by_its_requester(communes, crews):
    """Ley 20.285 has its own remedy (an amparo before the Consejo para la Transparencia): "no fue resuelto" would
    put an answered request back to work with its legal outcome still recorded."""
    from geo_siac.reports.services import report_answer, report_reopen_by_citizen

    report = file(
        kind=RequestKind.INFORMATION,
        category="acceso-informacion",
        commune=communes["13201"],
        description="Contratos de alumbrado 2025.",
        reporter_name="Rosa Pérez",
        reporter_email="rosa@example.cl",
    )
    report_answer(report=report, outcome="delivered", note="Se adjuntan los contratos.", actor=crews["supervisor"])
    with pytest.raises(ValidationError, match="no se reabre"):
        report_reopen_by_citizen(report=report, reason="No me sirvió.", by_email="rosa@example.cl")
    report.refresh_from_db()
    assert (report.status, report.times_reopened, report.legal_outcome) == ("resolved", 0, "delivered")


def test_requests_of_a_kind_that_does_not_merge_are_not_merged_as_duplicates(communes, crews):
    from geo_siac.reports.services import report_merge_duplicate

    first, second = (
        file(kind=RequestKind.SUGGESTION, category="sugerencia", commune=communes["13201"], description=text)
        for text in ("Más árboles en la plaza.", "Árboles en la plaza, por favor.")
    )
    with pytest.raises(ValidationError, match="solo se unen solicitudes que admiten fusión"):
        report_merge_duplicate(duplicate=second, original=first, by=crews["supervisor"])
    second.refresh_from_db()
    assert (second.status, second.duplicate_of_id) == ("submitted", None)
