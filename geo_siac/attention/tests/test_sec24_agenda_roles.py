"""The desk's agenda names the citizens who booked and marks their appointments: it is the operators', not every
staff account's; a planner (staff with no group) reads the maps, not the people."""

import pytest

from geo_siac.attention.models import Appointment, AppointmentStatus
from geo_siac.attention.tests.test_appointments import EVERY_DAY, book, next_slot
from geo_siac.testing import staff_account


@pytest.fixture
def offering(make_offering, make_point):
    return make_offering(point=make_point(opening_hours=EVERY_DAY), capacity=4, minutes=30)


def test_a_planner_can_neither_read_the_agenda_nor_mark_an_appointment(client, offering, crews):
    appointment = book(offering, next_slot(offering))
    client.force_login(staff_account("paula", is_staff=True))
    assert client.get("/atencion/agenda/", {"punto": offering.service_point.pk}).status_code == 403
    assert client.post(f"/atencion/citas/{appointment.pk}/", {"mark": "arrived"}).status_code == 403
    assert Appointment.objects.get().status == AppointmentStatus.BOOKED


def test_an_operator_reads_the_agenda(client, offering, crews):
    client.force_login(crews["operator"])
    assert client.get("/atencion/agenda/", {"punto": offering.service_point.pk}).status_code == 200
