"""Figures per service point and month: appointments booked, served, no-shows and the median wait."""

import itertools
from datetime import datetime, timedelta
from unittest.mock import patch
from zoneinfo import ZoneInfo

from geo_siac.attention.models import Appointment, AppointmentStatus, Slot
from geo_siac.reports.models import Report
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status
from geo_siac.reports.states import CLOSED

SANTIAGO = ZoneInfo("America/Santiago")


CODES = itertools.count(1)


def seat(offering, starts_at, status, wait_minutes=None):
    slot, _ = Slot.objects.get_or_create(
        offering=offering, starts_at=starts_at, defaults={"ends_at": starts_at + timedelta(minutes=30), "capacity": 9}
    )
    arrived = starts_at if wait_minutes is not None else None
    return Appointment.objects.create(
        slot=slot,
        code=f"C-T{next(CODES):06d}",
        name="Vecina",
        email="v@example.cl",
        status=status,
        created_at=starts_at,
        arrived_at=arrived,
        served_at=arrived + timedelta(minutes=wait_minutes) if arrived else None,
    )


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
    assert cells(page, offering.service_point.name) == ["0", "–", "–", "4", "3", "1", "1", "10"]


def at(when: datetime):
    return patch("django.utils.timezone.now", return_value=when)


def cells(page: str, name: str) -> list[str]:
    row = page[page.index(f'<th scope="row">{name}</th>') :].split("</tr>")[0]
    return [cell.removesuffix("</td>") for cell in row.split("<td>")[1:]]


def test_efficiency_page_counts_the_requests_each_point_received_by_channel_and_in_time(
    client, make_point, make_offering, make_report, crews
):
    desk = make_offering().service_point
    office = make_point(name="Oficina de la Delegación", opening_hours={})  # no procedures: shown for its requests
    with at(datetime(2026, 9, 28, 10, tzinfo=SANTIAGO)):
        make_report(received_at=desk, channel="phone")  # September: not October's
    with at(datetime(2026, 10, 5, 10, tzinfo=SANTIAGO)):
        on_time, late, _open = (
            make_report(received_at=desk, channel=channel) for channel in ("phone", "phone", "in_person")
        )
        make_report(received_at=office, channel="in_person")
        make_report(channel="web")  # received at no point
    with at(datetime(2026, 10, 6, 10, tzinfo=SANTIAGO)):
        report_change_status(public_note=EXPLAINED_BY_CALLER, report=on_time, status="resolved")
    with at(datetime(2026, 10, 29, 10, tzinfo=SANTIAGO)):
        report_change_status(public_note=EXPLAINED_BY_CALLER, report=late, status="resolved")
    month_end = datetime(2026, 11, 1, tzinfo=SANTIAGO)
    october = Report.objects.filter(
        received_at=desk, created_at__gte=datetime(2026, 10, 1, tzinfo=SANTIAGO), created_at__lt=month_end
    )
    closed = [r for r in october if r.status in CLOSED]
    due = closed + [r for r in october if r.status not in CLOSED and r.expected_at < month_end]
    expected_share = round(100 * sum(r.closed_at <= r.expected_at for r in closed) / len(due))

    client.force_login(crews["admin"])
    with at(datetime(2026, 11, 20, 10, tzinfo=SANTIAGO)):
        page = client.get("/atencion/eficiencia/", {"mes": "2026-10"}).content.decode()

    assert len(october) == 3 and expected_share == 33  # on time, late, and open past its 5 business days
    assert cells(page, desk.name)[:3] == ["3", "Teléfono: 2 · Presencial (OIRS): 1", f"{expected_share} %"]
    assert cells(page, office.name)[:4] == ["1", "Presencial (OIRS): 1", "0 %", "0"]


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
    assert "Puntos de atención: solicitudes recibidas y citas" in text and offering.service_point.name in text


def test_efficiency_page_links_the_agenda_only_for_those_who_may_open_it(client, crews, django_user_model):
    """The agenda names citizens and is the desk's (operators); a planner reading the figures gets no link to a 403."""
    from django.contrib.auth.models import Group

    from geo_siac.zones.roles import OPERATOR

    planner = django_user_model.objects.create_user("paula", password="x", is_staff=True)
    client.force_login(planner)
    page = client.get("/atencion/eficiencia/")
    assert page.status_code == 200 and "/atencion/agenda/" not in page.content.decode()
    assert client.get("/atencion/agenda/").status_code == 403
    planner.groups.add(Group.objects.get_or_create(name=OPERATOR)[0])
    page = client.get("/atencion/eficiencia/")
    assert page.status_code == 200 and 'href="/atencion/agenda/"' in page.content.decode()
