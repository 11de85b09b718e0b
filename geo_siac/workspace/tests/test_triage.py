"""The triage of requests without a place from the supervisor's pages: the "sin lugar" filter, each row's kind,
channel and service point with the links its kind allows, the "Reclasificar" form (topics grouped by kind) and
the department assignment, each through its service."""

import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.catalogue.models import Department
from geo_siac.reports.models import EventKind, Report
from geo_siac.reports.services import report_create
from geo_siac.testing import WEST_POINT
from geo_siac.zones.models import ServicePoint


@pytest.fixture
def query(communes):
    return report_create(
        kind=RequestKind.QUERY,
        category="consulta-tramites",
        commune=communes["13201"],
        channel="email",
        description="El camión de la basura no pasa hace dos semanas.",
        reporter_name="Rosa Pérez",
        reporter_email="vecina@example.cl",
    )


def test_the_placeless_filter_lists_kind_channel_service_point_and_the_kinds_actions(client, query, make_report, crews):
    desk = ServicePoint.objects.create(
        name="OIRS Puente Alto", kind="municipal_office", commune=query.commune, point=Point(-70.5758, -33.6117)
    )
    complaint = report_create(
        kind=RequestKind.COMPLAINT,
        category="reclamo-atencion",
        channel="in_person",
        received_at=desk,
        description="Me atendieron mal en la ventanilla.",
    )
    placed = make_report(point=WEST_POINT)
    client.force_login(crews["supervisor"])
    page = client.get(reverse("crew:supervision"), {"cuadrilla": "triage", "sin_lugar": "on"}).content.decode()
    assert query.tracking_code in page and complaint.tracking_code in page
    assert placed.tracking_code not in page
    row = page[page.index(f'data-code="{complaint.tracking_code}"') :].split("</li>")[0]
    assert "Reclamo" in row and "Presencial" in row and "OIRS Puente Alto" in row
    assert "#reclassify-form" in row and "#legal-answer-form" in row and "#referral-form" in row
    row = page[page.index(f'data-code="{query.tracking_code}"') :].split("</li>")[0]
    assert "Consulta" in row and "Correo electrónico" in row
    assert "#legal-answer-form" not in row and "#referral-form" in row and "#department-form" in row


def test_the_supervisor_reclassifies_from_the_request_page(client, query, crews):
    client.force_login(crews["supervisor"])
    url = reverse("crew:report", args=[query.tracking_code])
    page = client.get(url).content.decode()
    form = page[page.index('id="reclassify-form"') :].split("</form>")[0]
    assert '<optgroup label="Reclamo">' in form and 'value="reclamo-servicio"' in form
    assert 'value="retiro-escombros"' not in form  # a service request needs a place this one lacks
    response = client.post(
        reverse("crew:reclassify", args=[query.tracking_code]),
        {"category": "reclamo-servicio", "reason": "Reclama por el retiro.", "seen": query.updated_at.isoformat()},
    )
    assert response.status_code == 302
    stored = Report.objects.get(pk=query.pk)
    assert (stored.kind, stored.category.service_code) == (RequestKind.COMPLAINT, "reclamo-servicio")
    assert 'id="legal-answer-form"' in client.get(url).content.decode()  # a reclamo is answered by letter


def test_a_stale_reclassification_is_refused_on_its_form_and_changes_nothing(client, query, crews):
    client.force_login(crews["supervisor"])
    response = client.post(
        reverse("crew:reclassify", args=[query.tracking_code]),
        {"category": "sugerencia", "reason": "Prueba.", "seen": "2026-01-01T00:00:00+00:00"},
    )
    assert response.status_code == 400
    form = response.content.decode().split('id="reclassify-form"')[1].split("</form>")[0]
    assert "Otra persona modificó esta solicitud" in form
    assert Report.objects.get(pk=query.pk).kind == RequestKind.QUERY


def test_only_supervisors_reclassify_or_assign_a_department(client, query, crews):
    client.force_login(crews["member_a"])
    for name, data in (("crew:reclassify", {"category": "sugerencia", "reason": "x"}), ("crew:assign_department", {})):
        assert client.post(reverse(name, args=[query.tracking_code]), data).status_code in (403, 404)
    assert Report.objects.get(pk=query.pk).category.service_code == "consulta-tramites"


def test_the_supervisor_assigns_a_department_and_a_crews_request_is_refused(client, query, make_report, crews):
    works = Department.objects.create(name="Dirección de Prueba de Triage")
    client.force_login(crews["supervisor"])
    response = client.post(
        reverse("crew:assign_department", args=[query.tracking_code]),
        {"department": works.pk, "reason": "Es de obras."},
    )
    assert response.status_code == 302
    stored = Report.objects.get(pk=query.pk)
    assert stored.department == works
    assert (
        "a Dirección de Prueba de Triage. Es de obras."
        in stored.events.get(kind=EventKind.REROUTED, is_public=False).note
    )
    # The citizen is told the department alone, not the reason (services.assignment.department_changed).
    assert stored.events.get(kind=EventKind.REROUTED, is_public=True).note == "Dirección de Prueba de Triage"
    placed = make_report(point=WEST_POINT)
    response = client.post(reverse("crew:assign_department", args=[placed.tracking_code]), {"department": works.pk})
    assert response.status_code == 400 and "derívela a otra cuadrilla" in response.content.decode()
    assert Report.objects.get(pk=placed.pk).department != works


def test_a_puente_alto_supervisor_neither_lists_nor_reclassifies_nor_assigns_a_placeless_request_of_penalolen(
    client, query, communes, crews
):
    other = report_create(
        kind=RequestKind.QUERY,
        category="consulta-tramites",
        commune=communes["13122"],
        channel="email",
        description="Consulta de Peñalolén.",
    )
    works = Department.objects.create(name="Dirección de Otra Comuna")
    client.force_login(crews["supervisor"])
    page = client.get(reverse("crew:supervision"), {"cuadrilla": "triage", "sin_lugar": "on"}).content.decode()
    assert query.tracking_code in page and other.tracking_code not in page
    for name, data in (
        ("crew:reclassify", {"category": "sugerencia", "reason": "x", "seen": other.updated_at.isoformat()}),
        ("crew:assign_department", {"department": works.pk, "reason": "x"}),
    ):
        assert client.post(reverse(name, args=[other.tracking_code]), data).status_code == 404
    stored = Report.objects.get(pk=other.pk)
    assert (stored.category.service_code, stored.department) == ("consulta-tramites", other.department)
