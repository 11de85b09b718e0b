"""The staff page of a request offers only the actions its kind allows (catalogue.kinds): a crew's work in the field
(photos with a status change, "Registrar dónde trabajé") only where the kind has it."""

from django.urls import reverse

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.reports.services import report_create


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
    assert 'id="record-location"' in page and 'name="photos"' in page
