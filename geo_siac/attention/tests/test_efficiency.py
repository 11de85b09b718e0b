"""Figures per service point and month: appointments booked, served, no-shows and the median wait."""

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from geo_siac.attention.models import Appointment, AppointmentStatus, Slot

SANTIAGO = ZoneInfo("America/Santiago")


CODES = itertools.count(1)


def seat(offering, starts_at, status, wait_minutes=None):
    slot, _ = Slot.objects.get_or_create(offering=offering, starts_at=starts_at,
                                         defaults={"ends_at": starts_at + timedelta(minutes=30), "capacity": 9})
    arrived = starts_at if wait_minutes is not None else None
    return Appointment.objects.create(
        slot=slot, code=f"C-T{next(CODES):06d}", name="Vecina", email="v@example.cl", status=status,
        created_at=starts_at, arrived_at=arrived, served_at=arrived + timedelta(minutes=wait_minutes) if arrived else None)


def test_efficiency_page_counts_each_points_month(client, make_offering, crews):
    offering = make_offering()
    november = datetime(2026, 11, 10, 9, 0, tzinfo=SANTIAGO)
    for wait in (5, 10, 40):
        seat(offering, november, AppointmentStatus.SERVED, wait)
    seat(offering, november, AppointmentStatus.NO_SHOW)
    seat(offering, november, AppointmentStatus.CANCELLED)
    seat(offering, datetime(2026, 12, 1, 9, 0, tzinfo=SANTIAGO), AppointmentStatus.SERVED, 60)  # next month
    client.force_login(crews["admin"])
    page = client.get("/atencion/eficiencia/", {"mes": "2026-11"}).content.decode()
    row = page[page.index(f"<th scope=\"row\">{offering.service_point.name}</th>"):].split("</tr>")[0]
    assert [cell for cell in row.split("<td>")[1:]] == ["4</td>", "3</td>", "1</td>", "1</td>", "10</td>"]


def test_efficiency_page_names_a_bad_month(client, crews):
    client.force_login(crews["admin"])
    response = client.get("/atencion/eficiencia/", {"mes": "noviembre"})
    assert response.status_code == 400
    assert "El mes debe tener la forma AAAA-MM" in response.content.decode()


def test_executive_report_shows_the_service_points_figures(client, make_offering, crews):
    offering = make_offering()
    seat(offering, datetime(2026, 11, 10, 9, 0, tzinfo=SANTIAGO), AppointmentStatus.NO_SHOW)
    client.force_login(crews["admin"])
    page = client.get("/transparencia/informe/", {"commune": "13201", "month": "2026-11"})
    text = page.content.decode()
    assert "Atención en los puntos con cita previa" in text and offering.service_point.name in text
