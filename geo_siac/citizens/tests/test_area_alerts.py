"""Area alerts (issue #22, point 6): subscribe to a circle or a crew zone, confirm by the emailed link, receive a
weekly summary of the new public reports there (a non-public one only at its published cell), once, and
unsubscribe in one click."""

import re
from datetime import timedelta
from unittest.mock import patch

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from h3.api import basic_int as h3i

from geo_siac.citizens.models import AreaAlert
from geo_siac.citizens.services import area_alerts_send
from geo_siac.notifications.models import Notification
from geo_siac.notifications.services import notifications_send_due
from geo_siac.testing import PUENTE_ALTO_CENTRE

VECINA = "vecina@example.cl"
CONFIRM = re.compile(r"https?://[^/\s]+/mis-solicitudes/avisos/confirmar/[^/\s]+/")
LAT, LNG = PUENTE_ALTO_CENTRE


def offset(metres_north: float, metres_east: float = 0) -> tuple[float, float]:
    return LAT + metres_north / 111_320, LNG + metres_east / 92_800  # metres per degree at 33.6° S


def subscribe(client, **fields):
    return client.post("/mis-solicitudes/avisos/", {"email": VECINA, **fields}, REMOTE_ADDR="203.0.113.9")


def confirm(client) -> AreaAlert:
    link = CONFIRM.search(Notification.objects.filter(recipient=VECINA).latest("id").body).group(0)
    path = "/" + link.split("/", 3)[3]
    assert client.get(path).status_code == 200 and not AreaAlert.objects.get().confirmed_at  # a scanner's GET
    assert "alert-confirmed" in client.post(path).content.decode()
    return AreaAlert.objects.get()


def summaries() -> list[Notification]:
    return list(Notification.objects.filter(recipient=VECINA, subject__startswith="Nuevas solicitudes"))


@pytest.fixture
def circle(client, communes):
    """A confirmed alert for 500 m around the plaza."""
    response = subscribe(client, kind="circle", latitude=str(LAT), longitude=str(LNG), radius_m="500")
    assert "alert-sent" in response.content.decode()
    return confirm(client)


def test_nothing_is_sent_to_an_address_that_did_not_confirm(client, make_report, communes):
    subscribe(client, kind="circle", latitude=str(LAT), longitude=str(LNG), radius_m="500")
    make_report(point=PUENTE_ALTO_CENTRE, public_visibility=True)

    assert area_alerts_send(now=timezone.now() + timedelta(days=8)) == 0
    assert Notification.objects.filter(recipient=VECINA).count() == 1  # the confirmation only


def test_the_summary_lists_new_public_reports_inside_and_places_a_private_one_only_at_its_cell(
    circle, make_report, settings
):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 1  # every report is then published at its res-9 cell
    cell = h3i.latlng_to_cell(LAT, LNG, 9)
    private_point = h3i.cell_to_latlng(cell)[0] + 0.0002, h3i.cell_to_latlng(cell)[1]
    make_report(point=offset(150), public_visibility=True, address="Calle Uno 123", description="Hoyo en la calzada.")
    make_report(point=offset(0, 3000), public_visibility=True, address="Calle Lejana 9", description="Lejos.")
    make_report(point=private_point, address="Pasaje Secreto 45", description="Mi vecino Juan deja basura.")
    # No refresh of the published cells here: the run does it first, or the private report, filed since the last
    # hourly refresh, would have no cell yet and the mark would pass it for good.

    assert area_alerts_send(now=timezone.now() + timedelta(days=8)) == 1

    [summary] = summaries()
    centre_lat, centre_lng = h3i.cell_to_latlng(cell)
    assert "Calle Uno 123" in summary.body and "Hoyo en la calzada." in summary.body
    assert "Calle Lejana 9" not in summary.body
    assert f"cerca de {centre_lat:.4f}, {centre_lng:.4f}" in summary.body
    assert "Pasaje Secreto" not in summary.body and "Juan" not in summary.body
    assert f"{private_point[0]:.4f}" not in summary.body
    assert summary.body.count("• ") == 2


def test_running_twice_sends_once_and_the_next_week_only_what_is_new(circle, make_report):
    make_report(point=offset(100), public_visibility=True, address="Calle Uno 123")
    week = timezone.now() + timedelta(days=8)

    assert area_alerts_send(now=week) == 1
    assert area_alerts_send(now=week) == 0
    assert area_alerts_send(now=week + timedelta(days=1)) == 0
    assert len(summaries()) == 1

    with patch("django.utils.timezone.now", return_value=week + timedelta(days=2)):
        make_report(point=offset(200), public_visibility=True, address="Calle Dos 45")
    assert area_alerts_send(now=week + timedelta(days=6)) == 0  # not a week yet
    assert area_alerts_send(now=week + timedelta(days=7)) == 1
    latest = summaries()[-1].body
    assert "Calle Dos 45" in latest and "Calle Uno 123" not in latest


def test_a_week_with_nothing_new_sends_nothing(circle):
    assert area_alerts_send(now=timezone.now() + timedelta(days=8)) == 0
    assert summaries() == []


def test_one_click_unsubscribe_from_the_mail_header_deletes_the_subscription(circle, make_report):
    make_report(point=offset(100), public_visibility=True)
    area_alerts_send(now=timezone.now() + timedelta(days=8))
    notifications_send_due()

    [message] = [m for m in mail.outbox if m.subject.startswith("Nuevas solicitudes")]
    header = message.extra_headers["List-Unsubscribe"]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert header.strip("<>") in message.body
    path = "/" + header.strip("<>").split("/", 3)[3]
    mail_client = Client(enforce_csrf_checks=True)  # what a mail client sends: no page, no CSRF token
    response = mail_client.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 200 and "alert-removed" in response.content.decode()
    assert not AreaAlert.objects.exists()
    assert mail_client.post(path).status_code == 200  # a second click changes nothing
    assert mail_client.get(path.replace("/baja/", "/baja/x")).status_code == 404


def test_a_crew_zone_alert_lists_the_reports_of_that_zone_only(client, crews, make_report):
    subscribe(client, kind="zone", zone_id=str(crews["west"].pk), latitude="", longitude="", radius_m="500")
    alert = confirm(client)
    assert alert.zone_key == "poniente" and alert.centre is None
    make_report(point=offset(0, -300), public_visibility=True, address="Calle Poniente 1")
    make_report(point=offset(0, 300), public_visibility=True, address="Calle Oriente 2")

    assert area_alerts_send(now=timezone.now() + timedelta(days=8)) == 1
    [summary] = summaries()
    assert "Calle Poniente 1" in summary.body and "Calle Oriente 2" not in summary.body


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"latitude": "abc", "longitude": str(LNG), "radius_m": "500"}, "error-lat", "La latitud debe ser un número."),
        (
            {"latitude": str(LAT), "longitude": str(LNG), "radius_m": "300"},
            "error-radius",
            "Elija un radio de la lista",
        ),
        ({"latitude": "-33.45", "longitude": "-70.30", "radius_m": "500"}, "error-location", "fuera de las comunas"),
        ({"kind": "zone", "zone_id": "999999"}, "error-zone", "Elija una de las zonas de la lista."),
    ],
)
def test_a_bad_area_is_refused_naming_the_problem_and_nothing_is_stored(client, crews, fields, field, message):
    response = subscribe(client, **{"kind": "circle", **fields})

    assert response.status_code == 400
    page = response.content.decode()
    assert message in page[page.index(f'id="{field}"') :]
    assert not AreaAlert.objects.exists() and not Notification.objects.exists()
