"""GET servicerequestupdates: FixMyStreet's extension, public updates only, in both formats."""

from datetime import timedelta

import pytest
from django.utils import timezone

from geo_siac.catalogue.models import Category
from geo_siac.open311.tests.contract import get, items
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status
from geo_siac.testing import PENALOLEN_CENTRE

FORMATS = ["xml", "json"]
UPDATE_FIELDS = {
    "update_id",
    "service_request_id",
    "status",
    "external_status_code",
    "updated_datetime",
    "description",
    "media_url",
}


def updates(client, fmt, **query) -> list[dict]:
    response, body = get(client, "servicerequestupdates", fmt, **query)
    assert response.status_code == 200
    return items(body, fmt, "service_requests_updates", "request_update")


@pytest.mark.parametrize("fmt", FORMATS)
def test_status_changes_and_public_notes_are_served_with_fixmystreet_statuses(client, make_report, fmt):
    report = make_report(
        reporter_email="rosa@example.cl", description="Frente al 1234 de Calle Larga.", public_visibility=True
    )
    report_change_status(
        public_note=EXPLAINED_BY_CALLER, report=report, status="acknowledged", note="Vecino molesto: llamar antes."
    )
    report_change_status(
        public_note=EXPLAINED_BY_CALLER,
        report=report,
        status="resolved",
        note="Se retiraron los escombros.",
        note_is_public=True,
    )

    served = updates(client, fmt)

    assert [set(u) for u in served] == [UPDATE_FIELDS, UPDATE_FIELDS]
    acknowledged, resolved = served
    status_events = report.events.filter(kind="status").order_by("id")
    assert [u["update_id"] for u in served] == [str(e.pk) for e in status_events]
    assert {u["service_request_id"] for u in served} == {str(report.pk)}
    assert (acknowledged["status"], acknowledged["external_status_code"]) == ("investigating", "acknowledged")
    assert acknowledged["description"] == ""  # the internal note stays internal
    assert (resolved["status"], resolved["description"]) == ("fixed", "Se retiraron los escombros.")
    assert resolved["media_url"] == ""
    assert resolved["updated_datetime"].endswith("-03:00") or resolved["updated_datetime"].endswith("-04:00")
    text = str(served)
    for private in ("rosa@example.cl", "Calle Larga", report.tracking_code, "llamar antes"):
        assert private not in text


def test_the_window_and_jurisdiction_choose_the_updates(client, make_report):
    puente_alto = make_report()
    penalolen = make_report(point=PENALOLEN_CENTRE)
    for report in (puente_alto, penalolen):
        report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status="in_progress")
    now = timezone.now()
    assert (
        len(
            updates(
                client,
                "json",
                start_date=(now - timedelta(hours=1)).isoformat(),
                end_date=(now + timedelta(hours=1)).isoformat(),
            )
        )
        == 2
    )
    assert updates(client, "json", start_date=(now + timedelta(hours=1)).isoformat()) == []
    (only,) = updates(client, "json", jurisdiction_id="penalolen")
    assert only["service_request_id"] == str(penalolen.pk)


def test_requests_of_hidden_categories_have_no_updates(client, make_report):
    report = make_report()
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status="in_progress")
    Category.objects.filter(pk=report.category_id).update(is_public=False)
    assert updates(client, "json") == []


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"start_date": "ayer"}, "start_date"),
        ({"start_date": "2026-01-01T00:00:00-03:00", "end_date": "2026-06-01T00:00:00-04:00"}, "end_date"),
        ({"jurisdiction_id": "valparaiso"}, "jurisdiction_id"),
        ({"page_size": "0"}, "page_size"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(client, communes, query, named):
    response, body = get(client, "servicerequestupdates", "json", **query)
    assert response.status_code == 400
    assert body[0]["description"].startswith(f"{named}: ")
