"""The staff page of a request offers only the actions its kind allows (catalogue.kinds): a crew's work in the field
(photos with a status change, "Registrar dónde trabajé") only where the kind has it."""

import io
import re
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from PIL import Image

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.reports.models import EventPhoto, Report, ReportEvent
from geo_siac.reports.services import report_change_status, report_create, report_return
from geo_siac.reports.states import transitions_by_hand
from geo_siac.reports.work_location import work_location
from geo_siac.testing import WEST_POINT
from geo_siac.workspace.access import seen_token


def information_request(communes):
    return report_create(
        kind=RequestKind.INFORMATION,
        category="acceso-informacion",
        commune=communes["13201"],
        channel="web",
        description="Copia del decreto de la plaza.",
        reporter_name="Rosa Pérez",
        reporter_email="rosa@example.cl",
    )


def test_the_staff_page_of_an_information_request_offers_no_crew_work(client, communes, crews, make_report):
    client.force_login(crews["supervisor"])
    information = information_request(communes)
    page = client.get(reverse("crew:report", args=[information.tracking_code])).content.decode()
    status_form = page.split('id="status-form"')[1].split("</form>")[0]
    assert 'id="record-location"' not in page and "Registrar dónde trabajé" not in page
    assert "El vecino no envió fotos ni documentos." in page
    assert 'name="photos"' not in status_form and 'name="latitude"' not in status_form
    response = client.post(
        reverse("crew:status", args=[information.tracking_code]),
        {"status": "in_progress", "note": "En revisión.", "seen": information.updated_at.isoformat()},
    )
    assert response.status_code == 302
    information.refresh_from_db()
    assert information.status == "in_progress"
    service = make_report()
    page = client.get(reverse("crew:report", args=[service.tracking_code])).content.decode()
    assert 'id="record-location"' in page and 'name="photos"' in page and "El vecino no envió fotos." in page


def jpeg(name="trabajo.jpg") -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(buffer, "JPEG")
    buffer.seek(0)
    buffer.name = name
    return buffer


def no_crew_work_written(report) -> bool:
    return not EventPhoto.objects.filter(report=report).exists() and not ReportEvent.objects.filter(
        report=report, work_location__isnull=False
    )


def test_the_status_service_refuses_a_crews_photos_or_work_location_on_an_information_request(
    communes, crews, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    information = information_request(communes)
    change = {
        "report": information,
        "status": "in_progress",
        "public_note": "",
        "actor": crews["supervisor"],
        "actor_label": "supervisor",
    }
    with pytest.raises(ValidationError) as refused:
        report_change_status(**change, photos=[jpeg()])
    assert "photos" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        report_change_status(**change, work_location=work_location("-33.45", "-70.66", "12"))
    assert "work_location" in refused.value.message_dict
    information.refresh_from_db()
    assert information.status == "submitted" and no_crew_work_written(information)
    assert list(tmp_path.rglob("*.*")) == []


def test_the_return_service_refuses_a_work_location_on_an_information_request_and_writes_nothing(communes, crews):
    information = information_request(communes)
    Report.objects.filter(pk=information.pk).update(crew=crews["A"])
    information.refresh_from_db()
    events_before = information.events.count()
    with pytest.raises(ValidationError) as refused:
        report_return(
            report=information,
            reason="No es de esta cuadrilla.",
            actor=crews["member_a"],
            work_location=work_location("-33.45", "-70.66", "12"),
        )
    assert refused.value.message_dict == {
        "work_location": [
            "Una solicitud de tipo «Solicitud de acceso a información pública» no registra dónde trabajó una cuadrilla."
        ]
    }
    information.refresh_from_db()
    assert information.crew == crews["A"] and information.events.count() == events_before
    assert no_crew_work_written(information)


def test_an_offline_change_with_photos_on_an_information_request_keeps_the_change_and_leaves_them_out(
    client, communes, crews, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    information = information_request(communes)
    supervisor = crews["supervisor"]
    client.force_login(supervisor)
    response = client.post(
        reverse("crew:action"),
        {
            "key": str(uuid.uuid4()),
            "kind": "status",
            "seen": seen_token(supervisor, information),
            "status": "in_progress",
            "public_note": "Estamos reuniendo la información.",
            "photos": jpeg(),
            "latitude": "-33.45",
            "longitude": "-70.66",
            "accuracy": "12",
            "complete": "1",
        },
    )
    assert response.status_code == 200, response.content
    assert "No se guardaron las fotos ni la ubicación" in response.json()["message"]
    information.refresh_from_db()
    assert information.status == "in_progress"
    assert no_crew_work_written(information)
    assert list(tmp_path.rglob("*.*")) == []


def test_an_information_request_is_closed_by_hand_only_as_a_duplicate_and_the_service_names_the_legal_path(
    client, communes, crews
):
    information = information_request(communes)
    client.force_login(crews["supervisor"])
    page = client.get(reverse("crew:report", args=[information.tracking_code])).content.decode()
    status_form = page.split('id="status-form"')[1].split("</form>")[0]
    offered = set(re.findall(r'<option value="([a-z_]+)"', status_form))
    assert offered == {"acknowledged", "in_progress", "closed_duplicate"}
    refusals = {}
    for status in ("closed_withdrawn", "closed_not_municipal", "closed_unfixable"):
        with pytest.raises(ValidationError) as refused:
            report_change_status(report=information, status=status, public_note="Cerrada.", actor=crews["supervisor"])
        refusals[status] = refused.value.message_dict["status"][0]
    assert "Derivar a otro organismo" in refusals["closed_not_municipal"]
    assert "desistida sola si no se subsana a tiempo" in refusals["closed_withdrawn"]
    information.refresh_from_db()
    assert information.status == "submitted"
    assert "closed_not_municipal" in set(transitions_by_hand("submitted", RequestKind.SERVICE_REQUEST))


def test_a_crews_work_is_refused_on_the_kind_the_request_has_when_locked_not_the_one_the_page_loaded(
    communes, crews, make_report
):
    loaded = make_report(point=WEST_POINT)  # a service request, as the crew's page loaded it
    Report.objects.filter(pk=loaded.pk).update(kind=RequestKind.INFORMATION)  # reclassified meanwhile
    where = work_location("-33.61", "-70.59", "12")
    with pytest.raises(ValidationError) as refused:
        report_change_status(
            report=loaded, status="in_progress", public_note="", actor=crews["member_a"], work_location=where
        )
    assert "work_location" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        report_return(report=loaded, reason="No es de esta cuadrilla.", actor=crews["member_a"], work_location=where)
    assert "work_location" in refused.value.message_dict
    loaded.refresh_from_db()
    assert (loaded.status, loaded.crew) == ("submitted", crews["A"]) and no_crew_work_written(loaded)
