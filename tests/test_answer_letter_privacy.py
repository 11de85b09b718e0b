"""An answer letter names its requester: it is reached only from its request's tracking page (with the code),
never from a public page, the GeoJSON API, Open311 or the open data, even for a request in a public topic."""

import pytest

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.catalogue.models import Category
from geo_siac.reports.services import report_answer, report_create, report_public_cells_refresh
from geo_siac.reports.tests.test_citizen_reopen import signed_in
from geo_siac.transparency.services import open_data_publish

pytestmark = pytest.mark.django_db
NAME = "Rosa Pérez Valdivia"
ANSWER = "Se entrega el contrato N° 4471 de alumbrado."


def test_the_letter_and_its_requesters_name_reach_no_public_page_api_or_open_data(client, crews, communes, tmp_path):
    Category.objects.filter(kind__in=[RequestKind.INFORMATION, RequestKind.COMPLAINT]).update(is_public=True)
    requests = [
        report_create(
            channel="web",
            kind=kind,
            category=category,
            commune=communes["13201"],
            description="Pido una copia del contrato de alumbrado.",
            reporter_name=NAME,
            reporter_email="rosa@example.cl",
            public_visibility=True,
        )
        for kind, category in (
            (RequestKind.INFORMATION, "acceso-informacion"),
            (RequestKind.COMPLAINT, "reclamo-servicio"),
        )
    ]
    report_answer(report=requests[0], outcome="delivered", note=ANSWER, actor=crews["supervisor"])
    report_answer(report=requests[1], note=ANSWER, actor=crews["supervisor"])
    report_public_cells_refresh(min_count=1)
    open_data_publish(tmp_path)

    responses = [
        client.get(path, params)
        for path, params in (
            ("/open311/v2/requests.json", {"extensions": "true"}),
            ("/open311/v2/requests.xml", {"extensions": "true"}),
            ("/open311/v2/servicerequestupdates.json", {}),
            ("/api/reports/", {"page_size": 50}),
            ("/transparencia/", {}),
            ("/", {}),
        )
    ]
    assert all(response.status_code == 200 for response in responses)
    listed = {r["service_request_id"] for r in responses[0].json()}
    assert {str(r.pk) for r in requests} <= listed  # the answered requests are published, their letters not
    public = [response.content.decode() for response in responses]
    public += [path.read_text(errors="replace") for path in tmp_path.iterdir() if path.is_file()]
    assert any(str(requests[0].pk) in text for text in public[len(responses) :])  # the open data lists them
    for text in public:
        assert NAME not in text and "/carta/" not in text and "contrato N° 4471" not in text

    signed_in(client, "rosa@example.cl")  # the requester: anyone else with the code sees that a letter was sent
    for report in requests:
        tracking = client.get(f"/seguimiento/{report.tracking_code}/").content.decode()
        assert f"/seguimiento/{report.tracking_code}/carta/1/" in tracking
        assert NAME in client.get(f"/seguimiento/{report.tracking_code}/carta/1/").content.decode()
