"""Crew notes are internal; what the crew writes in "Respuesta al vecino" is public. An internal note never reaches the
tracking page, a notification or a public API; a visible one does. The status change itself is always public."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from geo_siac.notifications.models import Notification
from geo_siac.reports.models import Report
from geo_siac.reports.services import report_follow, report_public_cells_refresh
from geo_siac.testing import WEST_POINT

INTERNAL = "Vecino agresivo en el pasaje, ir con Seguridad Ciudadana"
VISIBLE = "Retiramos los escombros; el lunes volvemos por el resto"


@pytest.fixture
def changed(client, make_report, crews):
    """Two reports of crew A moved to in progress from the crew page: one with an internal note, one visible."""
    internal = make_report(point=WEST_POINT, reporter_email="rosa@example.cl", public_visibility=True)
    visible = make_report(point=WEST_POINT, reporter_email="juan@example.cl", public_visibility=True)
    report_follow(report=internal, email="vecina@example.cl", language="en")
    client.force_login(crews["member_a"])
    page = client.get(reverse("crew:report", args=[internal.tracking_code])).content.decode()
    assert 'name="note_is_public"' not in page and 'name="public_note"' in page
    for report, form in ((internal, {"note": INTERNAL}), (visible, {"public_note": VISIBLE})):
        response = client.post(
            reverse("crew:status", args=[report.tracking_code]),
            {"status": "in_progress", "seen": report.updated_at.isoformat(), **form},
        )
        assert response.status_code == 302
    client.logout()
    return internal, visible


def public_texts(client, report: Report) -> dict[str, str]:
    """Everything a citizen or an API client can read about the report, by where it came from."""
    call_command("publish_open_data", stdout=io.StringIO())  # the open-data downloads serve its files

    def get(url, **headers):
        response = client.get(url, **headers)
        assert response.status_code == 200, url
        if response.streaming:
            return b"".join(response.streaming_content).decode()
        return response.content.decode()

    texts = {
        "tracking page": get(f"/seguimiento/{report.tracking_code}/"),
        "tracking page (en)": get(f"/seguimiento/{report.tracking_code}/", HTTP_ACCEPT_LANGUAGE="en"),
        "Open311 JSON": get(f"/open311/v2/requests/{report.pk}.json?extensions=true"),
        "Open311 XML": get(f"/open311/v2/requests/{report.pk}.xml?extensions=true"),
        "Open311 list": get("/open311/v2/requests.json?extensions=true"),
        "Open311 token": get(f"/open311/v2/tokens/{report.tracking_code}.json"),
        "GeoJSON API": get(f"/api/reports/{report.pk}/"),
        "GeoJSON API list": get("/api/reports/"),
        "open data CSV": get("/transparencia/datos/solicitudes.csv"),
        "open data GeoJSON": get("/transparencia/datos/solicitudes.geojson"),
    }
    for message in Notification.objects.filter(report=report):
        texts[f"message to {message.recipient}"] = f"{message.subject}\n{message.body}"
    return texts


def test_an_internal_note_reaches_no_tracking_page_message_or_public_api(client, changed):
    internal, _visible = changed
    texts = public_texts(client, internal)
    assert {"message to rosa@example.cl", "message to vecina@example.cl"} <= set(texts)
    leaks = [where for where, text in texts.items() if INTERNAL in text]
    assert leaks == []
    assert "En ejecución" in texts["tracking page"]  # the status change itself is public
    assert "En ejecución" in texts["message to rosa@example.cl"]
    assert "In progress" in texts["message to vecina@example.cl"]


def test_a_note_marked_visible_reaches_the_tracking_page_the_messages_and_open311(client, changed):
    _internal, visible = changed
    texts = public_texts(client, visible)
    for where in ("tracking page", "tracking page (en)", "Open311 JSON", "Open311 XML", "message to juan@example.cl"):
        assert VISIBLE in texts[where], where
    assert client.get(f"/open311/v2/requests/{visible.pk}.json").json()[0]["status_notes"] == VISIBLE


def test_the_crew_page_keeps_both_notes_and_says_which_one_the_citizen_sees(client, changed, crews):
    internal, visible = changed
    client.force_login(crews["member_a"])
    internal_page = client.get(reverse("crew:report", args=[internal.tracking_code])).content.decode()
    visible_page = client.get(reverse("crew:report", args=[visible.tracking_code])).content.decode()
    assert INTERNAL in internal_page and 'class="badge note-internal">interna' in internal_page
    assert VISIBLE in visible_page and 'class="badge note-public">visible para el vecino' in visible_page
    assert list(internal.events.filter(note=INTERNAL).values_list("kind", "is_public")) == [("note", False)]


def test_a_bulk_note_is_internal_unless_ticked(client, make_report, crews):
    quiet, told = make_report(point=WEST_POINT), make_report(point=WEST_POINT)
    client.force_login(crews["supervisor"])
    for report, extra in ((quiet, {}), (told, {"note_is_public": "on"})):
        response = client.post(
            reverse("crew:supervision"),
            {"reports": [report.tracking_code], "status": "acknowledged", "note": "Lote del martes", **extra},
        )
        assert response.status_code == 302
    client.logout()
    assert "Lote del martes" not in client.get(f"/seguimiento/{quiet.tracking_code}/").content.decode()
    assert "Lote del martes" in client.get(f"/seguimiento/{told.tracking_code}/").content.decode()


REPLY = "Podamos la rama que tapaba la luminaria del pasaje"


def test_the_reply_for_the_citizen_reaches_tracking_messages_and_open311_but_no_map_api_or_open_data(
    client, make_report, crews
):
    report = make_report(point=WEST_POINT, reporter_email="rosa@example.cl", public_visibility=True)
    client.force_login(crews["member_a"])
    response = client.post(
        reverse("crew:status", args=[report.tracking_code]),
        {"status": "resolved", "public_note": REPLY, "note": INTERNAL, "seen": report.updated_at.isoformat()},
    )
    assert response.status_code == 302
    client.logout()
    texts = public_texts(client, report)
    reached = {where for where, text in texts.items() if REPLY in text}
    assert reached == {
        "tracking page",
        "tracking page (en)",
        "Open311 JSON",
        "Open311 XML",
        "Open311 list",
        "message to rosa@example.cl",
    }
    assert [where for where, text in texts.items() if INTERNAL in text] == []


def test_the_reply_on_a_request_its_citizen_kept_private_stays_on_its_tracking_page_only(client, make_report, crews):
    report = make_report(point=WEST_POINT, reporter_email="rosa@example.cl", public_visibility=False)
    client.force_login(crews["member_a"])
    response = client.post(
        reverse("crew:status", args=[report.tracking_code]),
        {"status": "resolved", "public_note": REPLY, "seen": report.updated_at.isoformat()},
    )
    assert response.status_code == 302
    client.logout()
    report_public_cells_refresh(min_count=1)  # published by Open311, at its cell, like any other request
    texts = public_texts(client, report)
    assert {where for where, text in texts.items() if REPLY in text} == {
        "tracking page",
        "tracking page (en)",
        "message to rosa@example.cl",
    }
    (listed,) = [r for r in client.get("/open311/v2/requests.json").json() if r["service_request_id"] == str(report.pk)]
    assert (listed["status"], listed["status_notes"]) == ("closed", "")
