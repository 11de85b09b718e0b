"""Where the crew worked: recorded with an online status change as with an offline one, shown to supervisors on the
report's internal history, and on no public page, API, message or export."""

import uuid

import pytest
from django.urls import reverse

from geo_siac.testing import WEST_POINT
from geo_siac.workspace.access import seen_token
from tests.test_crew_notes_privacy import public_texts

# About 35 m north-east of WEST_POINT, with digits the report's own point does not have.
WORKED = (WEST_POINT[0] + 0.000231, WEST_POINT[1] + 0.000263)


@pytest.fixture
def worked(client, make_report, crews):
    """One report closed online and one offline (the outbox's API), each with where the crew worked."""
    online = make_report(point=WEST_POINT, reporter_email="rosa@example.cl", public_visibility=True)
    offline = make_report(point=WEST_POINT, reporter_email="juan@example.cl", public_visibility=True)
    client.force_login(crews["member_a"])
    response = client.post(
        reverse("crew:status", args=[online.tracking_code]),
        {
            "status": "resolved",
            "public_note": "Se retiraron los escombros.",
            "seen": online.updated_at.isoformat(),
            "latitude": f"{WORKED[0]:.6f}",
            "longitude": f"{WORKED[1]:.6f}",
            "accuracy": "12",
        },
    )
    assert response.status_code == 302
    response = client.post(
        reverse("crew:action"),
        {
            "key": str(uuid.uuid4()),
            "kind": "status",
            "status": "resolved",
            "public_note": "Se retiraron los escombros.",
            "seen": seen_token(crews["member_a"], offline),
            "latitude": f"{WORKED[0]:.6f}",
            "longitude": f"{WORKED[1]:.6f}",
            "accuracy": "12",
            "complete": "1",
        },
    )
    assert response.status_code == 200
    client.logout()
    return online, offline


def test_the_work_location_is_kept_on_the_status_event_and_shown_to_supervisors(client, worked, crews):
    for report in worked:
        event = report.events.get(kind="status", to_status="resolved")
        assert (round(event.work_location.y, 6), round(event.work_location.x, 6)) == pytest.approx(WORKED)
        assert event.work_location_accuracy_m == 12
        client.force_login(crews["supervisor"])
        page = client.get(reverse("crew:report", args=[report.tracking_code])).content.decode()
        assert "Ubicación de trabajo: a 35 m del punto reportado, ±12 m" in page
        assert f"https://www.openstreetmap.org/?mlat={WORKED[0]:.6f}&amp;mlon={WORKED[1]:.6f}" in page


def test_the_crew_page_shows_the_history_but_not_where_the_crew_worked_to_a_crew_member(client, worked, crews):
    client.force_login(crews["member_a"])
    page = client.get(reverse("crew:report", args=[worked[0].tracking_code]))
    assert page.status_code == 200
    assert "Resuelta" in page.content.decode() and "Ubicación de trabajo" not in page.content.decode()


def test_a_bad_position_is_refused_by_name_and_nothing_is_changed(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    response = client.post(
        reverse("crew:status", args=[report.tracking_code]),
        {
            "status": "resolved",
            "seen": report.updated_at.isoformat(),
            "latitude": "-33.61",
            "longitude": "-70.59",
            "accuracy": "lejos",
        },
    )
    assert response.status_code == 400
    assert "La precisión de la ubicación debe ser un número de metros entre 0 y 5000." in response.content.decode()
    report.refresh_from_db()
    assert report.status == "submitted"


def test_the_work_location_reaches_no_public_page_message_api_or_export(client, worked):
    for report in worked:
        texts = public_texts(client, report)
        assert "Resuelta" in texts["tracking page"]
        leaks = [
            where
            for where, text in texts.items()
            if f"{WORKED[0]:.5f}" in text or f"{WORKED[1]:.5f}" in text or "Ubicación de trabajo" in text
        ]
        assert leaks == []
