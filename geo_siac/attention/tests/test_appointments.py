"""Appointments: booking within a slot's capacity under concurrency, confirmation, the signed cancellation link,
reminders, refusals that write nothing, and the desk's agenda."""

import re
import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from geo_siac.attention.models import Appointment, AppointmentStatus
from geo_siac.attention.selectors import booking_days, free_slots, local_date
from geo_siac.attention.services import appointment_book, appointment_mark, appointments_remind_due
from geo_siac.notifications.models import Medium, Notification
from geo_siac.zones.selectors import municipality_name
from tests.test_form_errors import assert_summary_links_each_field_in_error, parsed

EVERY_DAY = {
    "weekly": {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    "closed_on_public_holidays": False,
}


@pytest.fixture
def offering(make_offering, make_point):
    return make_offering(point=make_point(opening_hours=EVERY_DAY), capacity=4, minutes=30)


def next_slot(offering, skip: int = 2):
    now = timezone.now()
    day = booking_days(offering, local_date(offering.service_point, now))[0]
    slots = free_slots(offering, day, now) or free_slots(offering, day + timedelta(days=1), now)
    return slots[min(skip, len(slots) - 1)]["starts_at"]


def book(offering, starts_at, **contact):
    return appointment_book(
        offering=offering,
        starts_at=starts_at,
        name=contact.pop("name", "Ana Pérez"),
        **({"email": "ana@example.cl"} | contact),
    )


def book_concurrently(offering, starts_at, attempts: int = 50) -> tuple[int, list[str]]:
    barrier = threading.Barrier(attempts)
    accepted, refusals, lock = [], [], threading.Lock()

    def attempt(n: int):
        try:
            barrier.wait()
            book(offering, starts_at, email=f"vecino{n}@example.cl")
            with lock:
                accepted.append(n)
        except ValidationError as exc:
            with lock:
                refusals.append(exc.message_dict["starts_at"][0])
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(accepted), refusals


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_bookings_of_the_last_seat_accept_exactly_one(offering):
    starts_at = next_slot(offering)
    for n in range(3):
        book(offering, starts_at, email=f"antes{n}@example.cl")
    accepted, refusals = book_concurrently(offering, starts_at)
    assert accepted == 1
    assert len(refusals) == 49 and set(refusals) == {"Ese cupo ya no tiene lugares libres; elija otro horario."}
    assert Appointment.objects.filter(slot__starts_at=starts_at).count() == 4


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_first_bookings_of_a_slot_accept_exactly_its_capacity(offering):
    starts_at = next_slot(offering)
    accepted, refusals = book_concurrently(offering, starts_at)
    assert accepted == 4 and len(refusals) == 46
    assert Notification.objects.filter(subject__startswith="Cita C-").count() == 4


def test_booking_queues_a_confirmation_with_the_signed_link_that_cancels_it(client, offering):
    starts_at = next_slot(offering)
    appointment = book(offering, starts_at)
    confirmation = Notification.objects.get(recipient="ana@example.cl")
    assert confirmation.subject == f"Cita {appointment.code} confirmada: Certificado de residencia"
    assert "Av. Concha y Toro 1820" in confirmation.body
    link = re.search(r"https?://\S+/citas/(\S+)/", confirmation.body)
    page = client.get(f"/citas/{link[1]}/").content.decode()
    assert appointment.code in page and "Cancelar la cita" in page
    response = client.post(f"/citas/{link[1]}/cancelar/")
    assert response.status_code == 302
    assert "Su cita fue cancelada" in client.get(response.url).content.decode()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    cancellation = Notification.objects.get(subject=f"Cita {appointment.code} cancelada")
    assert f"/citas/reservar/{offering.pk}/" in cancellation.body
    assert [
        s["free"]
        for s in free_slots(offering, local_date(offering.service_point, starts_at), timezone.now())
        if s["starts_at"] == starts_at
    ] == [4]


def test_a_tampered_link_finds_no_appointment(client, offering):
    book(offering, next_slot(offering))
    token = re.search(r"/citas/(\S+)/", Notification.objects.get().body)[1]
    assert client.get(f"/citas/{token[:-1]}x/").status_code == 404
    assert client.post(f"/citas/{token[:-1]}x/cancelar/").status_code == 404
    assert Appointment.objects.get().status == AppointmentStatus.BOOKED


def test_a_cancelled_appointment_cannot_be_cancelled_twice(client, offering):
    book(offering, next_slot(offering))
    token = re.search(r"/citas/(\S+)/", Notification.objects.get().body)[1]
    client.post(f"/citas/{token}/cancelar/")
    response = client.post(f"/citas/{token}/cancelar/")
    assert response.status_code == 409
    assert "ya está cancelada" in response.content.decode()
    assert Notification.objects.filter(subject__endswith="cancelada").count() == 1


def test_reminder_is_queued_once_for_appointments_within_a_day_by_their_medium(offering):
    starts_at = next_slot(offering)
    by_email = book(offering, starts_at)
    by_phone = book(offering, starts_at, email="", phone="+56 9 1234 5678")
    cancelled = book(offering, starts_at, email="otro@example.cl")
    Appointment.objects.filter(pk=cancelled.pk).update(status=AppointmentStatus.CANCELLED)
    assert appointments_remind_due(now=starts_at - timedelta(hours=25)) == 0
    assert appointments_remind_due(now=starts_at - timedelta(hours=2)) == 2
    assert appointments_remind_due(now=starts_at - timedelta(hours=1)) == 0
    reminders = Notification.objects.filter(subject__startswith="Recordatorio")
    assert {(n.recipient, n.medium) for n in reminders} == {
        ("ana@example.cl", Medium.EMAIL),
        ("+56912345678", Medium.SMS),
    }
    assert all(a.code in n.subject for a, n in zip((by_email, by_phone), reminders.order_by("id")))


@pytest.mark.parametrize(
    "contact, field, message",
    [
        ({"email": "", "phone": ""}, "email", "Indique un correo o un teléfono"),
        ({"email": "no-es-correo"}, "email", "El correo electrónico no es válido."),
        ({"phone": "12"}, "phone", "El teléfono debe tener al menos 8 dígitos"),
        ({"phone": "+569123456789012345678"}, "phone", "El teléfono debe tener al menos 8 dígitos"),  # over 20
        ({"name": "Ana\x00"}, "name", "El texto contiene caracteres de control"),
        ({"name": "   "}, "name", "Escriba su nombre."),
    ],
)
def test_bad_contact_is_refused_by_field_and_writes_nothing(offering, contact, field, message):
    with pytest.raises(ValidationError) as refused:
        book(offering, next_slot(offering), **contact)
    assert refused.value.message_dict[field][0].startswith(message)
    assert not Appointment.objects.exists() and not Notification.objects.exists()


def test_a_time_outside_the_slots_is_refused_on_the_page(client, offering):
    starts_at = next_slot(offering) + timedelta(minutes=7)
    response = client.post(
        f"/citas/reservar/{offering.pk}/",
        {"starts_at": starts_at.isoformat(), "name": "Ana", "email": "ana@example.cl"},
    )
    assert response.status_code == 400
    assert "No hay un cupo que comience a esa hora en este punto de atención." in response.content.decode()
    assert not Appointment.objects.exists()


def test_a_refused_booking_opens_with_the_error_summary_linking_the_first_free_slot_and_the_email(client, offering):
    starts_at = next_slot(offering) + timedelta(minutes=7)
    page = parsed(
        client.post(f"/citas/reservar/{offering.pk}/", {"starts_at": starts_at.isoformat(), "email": "no-es-correo"})
    )
    assert [line["href"] for line in page.lines] == ["#id_starts_at", "#id_name", "#id_email"]
    assert_summary_links_each_field_in_error(page, 3)
    first_slot = page.by_id["id_starts_at"]["attrs"]
    assert first_slot["type"] == "radio" and "disabled" not in first_slot


def test_booking_page_books_and_shows_the_appointment(client, offering):
    starts_at = next_slot(offering)
    response = client.post(
        f"/citas/reservar/{offering.pk}/",
        {"starts_at": starts_at.isoformat(), "name": "Ana", "email": "ana@example.cl"},
        follow=True,
    )
    appointment = Appointment.objects.get()
    assert appointment.code in response.content.decode()
    assert "Le enviamos la confirmación" in response.content.decode()


def test_desk_agenda_lists_the_day_and_records_arrival_service_and_no_show(client, offering, crews):
    starts_at = next_slot(offering)
    ana = book(offering, starts_at)
    beto = book(offering, starts_at, name="Beto Soto", email="beto@example.cl")
    client.force_login(crews["admin"])
    day = local_date(offering.service_point, starts_at)
    page = client.get("/atencion/agenda/", {"punto": offering.service_point.pk, "dia": day.isoformat()})
    assert ana.code in page.content.decode() and "Beto Soto" in page.content.decode()
    # Each column is aligned as its header: the procedure's and the person's names from the left (site.css).
    head, first_row = page.content.decode().split("<thead>")[1].split("</tr>")[:2]
    header_classes = re.findall(r'<th scope="col"(?: class="([^"]*)")?>', head)
    assert header_classes == re.findall(r'<td(?: class="([^"]*)")?>', first_row)
    assert header_classes[1:3] == ["text-left", "text-left"]
    client.post(f"/atencion/citas/{ana.pk}/", {"mark": "arrived"})
    client.post(f"/atencion/citas/{ana.pk}/", {"mark": "served"})
    early = client.post(f"/atencion/citas/{beto.pk}/", {"mark": "no_show"})
    assert early.status_code == 409  # the slot has not started yet
    appointment_mark(appointment=beto, mark="no_show", now=starts_at + timedelta(minutes=10))
    assert [a.status for a in Appointment.objects.order_by("id")] == [
        AppointmentStatus.SERVED,
        AppointmentStatus.NO_SHOW,
    ]


def test_agenda_is_for_staff_only(client, offering):
    assert client.get("/atencion/agenda/").status_code == 302


def test_a_booking_past_the_new_requests_limit_comes_back_as_typed(client, offering, settings):
    settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW = 0
    starts_at = next_slot(offering)
    response = client.post(
        f"/citas/reservar/{offering.pk}/",
        {"starts_at": starts_at.isoformat(), "name": "Ana Pérez", "email": "ana@example.cl"},
    )
    page = response.content.decode()
    assert response.status_code == 429 and "No reservamos la hora" in page
    assert "Podrá pedir otra hora en 60 minutos." in page and response["Retry-After"] in ("3599", "3600")
    assert 'value="Ana Pérez"' in page and 'value="ana@example.cl"' in page
    assert not Appointment.objects.exists()


def test_appointment_emails_come_from_the_offices_municipality(offering):
    book(offering, next_slot(offering))
    confirmation = Notification.objects.get(recipient="ana@example.cl")
    municipality = municipality_name(offering.service_point.commune)
    assert confirmation.sender_name == municipality and confirmation.body.endswith(f"\n-- \n{municipality}")
