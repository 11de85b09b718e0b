"""Derivar: a request goes to one of the institutions kept in the admin (no free text), is closed for the
municipality, and the citizen is told where it went with that body's contact, by email and on the tracking page;
the officer picks the institution from a list in the console."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.catalogue.models import Institution
from geo_siac.notifications.models import Notification
from geo_siac.reports.models import Report
from geo_siac.reports.services import report_create, report_refer
from geo_siac.reports.states import Status

CITIZEN = "vecina@example.cl"
# The list the data migration loads, as issue #23 names it.
LISTED = [
    "Servicio de Registro Civil e Identificación",
    "Servicio Nacional del Consumidor (SERNAC)",
    "Carabineros de Chile",
    "SERVIU Metropolitano",
    "Instituto de Previsión Social (IPS) y ChileAtiende",
    "Fondo Nacional de Salud (Fonasa)",
    "Superintendencia de Salud",
    "Dirección del Trabajo",
    "Poder Judicial",
    "Corporación de Asistencia Judicial",
    "Contraloría General de la República",
]


@pytest.fixture
def complaint(communes):
    return report_create(
        kind=RequestKind.COMPLAINT,
        category="reclamo-servicio",
        commune=communes["13201"],
        channel="web",
        description="La tienda no me quiere cambiar un producto defectuoso.",
        reporter_email=CITIZEN,
    )


def sernac() -> Institution:
    return Institution.objects.get(name="Servicio Nacional del Consumidor (SERNAC)")


def test_the_institutions_are_data_with_a_web_site_and_how_to_contact_them(db):
    institutions = {i.name: i for i in Institution.objects.filter(is_active=True)}
    assert set(LISTED) <= set(institutions)
    assert all(i.website.startswith("https://") and i.contact for i in institutions.values())


def test_a_referral_tells_the_citizen_where_it_went_and_how_to_reach_it(client, complaint, crews):
    report = report_refer(report=complaint, institution=sernac(), note="Es un reclamo de consumo.")
    assert (report.status, report.referred_to) == (Status.CLOSED_NOT_MUNICIPAL, sernac())
    email = Notification.objects.filter(recipient=CITIZEN).order_by("id").last().body
    assert "Derivada a Servicio Nacional del Consumidor (SERNAC), el organismo competente." in email
    assert "800 700 100" in email and "https://www.sernac.cl" in email and "Es un reclamo de consumo." in email
    tracking = client.get(reverse("reports:tracking", args=[report.tracking_code])).content.decode()
    assert "Derivada a Servicio Nacional del Consumidor (SERNAC)" in tracking and "800 700 100" in tracking


@pytest.mark.parametrize("institution", [None, "inactive"])
def test_a_referral_without_a_listed_active_institution_is_refused_and_changes_nothing(complaint, institution):
    if institution == "inactive":
        institution = Institution.objects.create(name="Oficina cerrada", is_active=False)
    with pytest.raises(ValidationError) as refused:
        report_refer(report=complaint, institution=institution)
    assert refused.value.message_dict == {"institution": ["Elija de la lista el organismo al que se deriva."]}
    stored = Report.objects.get(pk=complaint.pk)
    assert (stored.status, stored.referred_to) == (Status.SUBMITTED, None)


def test_the_officer_picks_the_institution_from_a_list_in_the_console(client, complaint, crews):
    Institution.objects.create(name="Oficina cerrada", is_active=False)
    client.force_login(crews["supervisor"])
    page = client.get(reverse("crew:report", args=[complaint.tracking_code])).content.decode()
    assert 'id="referral-form"' in page and f'<option value="{sernac().pk}">' in page
    assert "Oficina cerrada" not in page
    url = reverse("crew:kind_step", args=[complaint.tracking_code, "referral"])
    refused = client.post(url, {"institution": "999999"})
    assert refused.status_code == 400 and "Elija de la lista el organismo" in refused.content.decode()
    assert client.post(url, {"institution": sernac().pk, "note": ""}).status_code == 302
    assert Report.objects.get(pk=complaint.pk).referred_to == sernac()
