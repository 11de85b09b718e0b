"""Writes of the attention app: booking, cancelling and the desk's marks on an appointment, and the reminders."""

import secrets
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from geo_siac.attention.messages import cancellation_message, confirmation_message, reminder_message
from geo_siac.attention.models import HOLDS_SEAT, Appointment, AppointmentStatus, Offering, Slot
from geo_siac.attention.selectors import appointments_of, local_date, slot_bounds
from geo_siac.notifications.models import Medium
from geo_siac.notifications.services import notification_enqueue
from geo_siac.reports.services import ERASED
from geo_siac.reports.validation import control_character_errors, email_error, name_error, phone_error
from geo_siac.zones.selectors import closed_days, municipality_sender_name

NAME_MAX_LENGTH = Appointment._meta.get_field("name").max_length
PHONE_MAX_LENGTH = Appointment._meta.get_field("phone").max_length
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread at the desk
REMINDER_AHEAD = timedelta(hours=24)


def _contact_errors(name: str, email: str, phone: str) -> dict[str, str]:
    """The reports' contact rules (reports.validation), with an appointment's lengths and a contact required."""
    found = {
        "name": (
            _("Escriba su nombre.")
            if not name.strip()
            else name_error(name, max_length=NAME_MAX_LENGTH) or control_character_errors(name=name).get("name")
        ),
        "email": email_error(email) if email else None,
        "phone": phone_error(phone, max_length=PHONE_MAX_LENGTH) if phone else None,
    }
    if not email and not phone:
        found["email"] = _("Indique un correo o un teléfono para enviarle la confirmación.")
    return {field: message for field, message in found.items() if message}


def _slot_end(offering: Offering, starts_at: datetime) -> datetime | None:
    """The end of the slot that starts at `starts_at` by the point's hours, or None if no slot starts then."""
    day = local_date(offering.service_point, starts_at)
    return next((end for start, end in slot_bounds(offering, day, closed_days()) if start == starts_at), None)


def _locked_slot(offering: Offering, starts_at: datetime, ends_at: datetime) -> Slot:
    """The slot's row, written by the first booking, locked until the booking commits: concurrent bookings of the
    slot count its seats one after the other."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Slot._meta.db_table} (offering_id, starts_at, ends_at, capacity) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (offering_id, starts_at) DO NOTHING",
            [offering.pk, starts_at, ends_at, offering.capacity_per_slot],
        )
    return Slot.objects.select_for_update().get(offering=offering, starts_at=starts_at)


def _new_code() -> str:
    return "C-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


def _enqueue(appointment: Appointment, message: tuple[str, str]) -> None:
    subject, body = message
    medium, recipient = (Medium.EMAIL, appointment.email) if appointment.email else (Medium.SMS, appointment.phone)
    notification_enqueue(
        recipient=recipient,
        language=appointment.language,
        subject=subject,
        body=body,
        medium=medium,
        # From the municipality of the office it is at, as a request's emails are (zones.selectors).
        sender_name=municipality_sender_name(appointment.slot.offering.service_point.commune_id),
    )


def appointment_book(
    *,
    offering: Offering,
    starts_at: datetime | None,
    name: str,
    email: str = "",
    phone: str = "",
    language: str = "es",
    now: datetime | None = None,
) -> Appointment:
    """Book one seat of a slot and queue the confirmation. Errors (ValidationError) are keyed by parameter."""
    now = now or timezone.now()
    name, email, phone = name.strip(), email.strip(), phone.replace(" ", "").strip()
    errors = _contact_errors(name, email, phone)
    if not offering.bookable:
        errors["offering"] = _("Este trámite no se atiende con cita previa en este punto.")
    ends_at = _slot_end(offering, starts_at) if isinstance(starts_at, datetime) and starts_at.tzinfo else None
    if ends_at is None:
        errors["starts_at"] = _("No hay un cupo que comience a esa hora en este punto de atención.")
    elif starts_at <= now:
        errors["starts_at"] = _("Ese cupo ya comenzó; elija uno posterior.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        slot = _locked_slot(offering, starts_at, ends_at)
        if slot.appointments.filter(status__in=HOLDS_SEAT).count() >= slot.capacity:
            raise ValidationError({"starts_at": _("Ese cupo ya no tiene lugares libres; elija otro horario.")})
        appointment = Appointment.objects.create(
            slot=slot, code=_new_code(), name=name, email=email, phone=phone, language=language, created_at=now
        )
        _enqueue(appointment, confirmation_message(appointment))
    return appointment


def appointment_cancel(*, appointment: Appointment, now: datetime | None = None) -> Appointment:
    """Cancel a booked appointment before its slot starts, freeing its seat, and queue the notice."""
    now = now or timezone.now()
    with transaction.atomic():
        appointment = (
            Appointment.objects.select_for_update()
            .select_related("slot__offering__procedure", "slot__offering__service_point")
            .get(pk=appointment.pk)
        )
        if appointment.status != AppointmentStatus.BOOKED:
            raise ValidationError(
                {
                    "appointment": _("La cita %(code)s ya está %(status)s.")
                    % {"code": appointment.code, "status": appointment.get_status_display()}
                }
            )
        if appointment.slot.starts_at <= now:
            raise ValidationError({"appointment": _("La cita ya comenzó; ya no se puede cancelar en línea.")})
        appointment.status = AppointmentStatus.CANCELLED
        appointment.cancelled_at = now
        appointment.save(update_fields=["status", "cancelled_at"])
        _enqueue(appointment, cancellation_message(appointment))
    return appointment


def appointments_personal_data_erase(*, email: str = "", phone: str = "", now: datetime | None = None) -> int:
    """Erase the name, email and phone of every appointment booked with `email`, or with only `phone` (a citizen's
    erasure request, attention.selectors.appointments_of);
    the rows stay for the points' figures. Appointments still ahead are cancelled, freeing their seats, with no
    notice: there is no one left to tell. Returns how many were erased."""
    now = now or timezone.now()
    with transaction.atomic():
        theirs = Appointment.objects.filter(
            pk__in=list(appointments_of(email=email, phone=phone).values_list("pk", flat=True))
        )
        theirs.filter(status=AppointmentStatus.BOOKED, slot__starts_at__gt=now).update(
            status=AppointmentStatus.CANCELLED, cancelled_at=now
        )
        return theirs.update(name=ERASED, email="", phone="", erased_at=now)


def appointments_remind_due(*, now: datetime | None = None) -> int:
    """Queue one reminder per booked appointment that starts within REMINDER_AHEAD; returns how many."""
    now = now or timezone.now()
    queued = 0
    with transaction.atomic():
        due = (
            Appointment.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                status=AppointmentStatus.BOOKED,
                reminder_queued_at__isnull=True,
                slot__starts_at__gt=now,
                slot__starts_at__lte=now + REMINDER_AHEAD,
            )
            .select_related("slot__offering__procedure", "slot__offering__service_point")
        )
        for appointment in due:
            _enqueue(appointment, reminder_message(appointment))
            appointment.reminder_queued_at = now
            appointment.save(update_fields=["reminder_queued_at"])
            queued += 1
    return queued


DESK_MARKS = {
    "arrived": AppointmentStatus.BOOKED,
    "served": AppointmentStatus.SERVED,
    "no_show": AppointmentStatus.NO_SHOW,
}


def appointment_mark(*, appointment: Appointment, mark: str, now: datetime | None = None) -> Appointment:
    """The desk's record: the citizen arrived, was served, or did not come (only once the slot has started)."""
    now = now or timezone.now()
    if mark not in DESK_MARKS:
        raise ValidationError({"mark": _("Acción desconocida: %(mark)s.") % {"mark": mark[:40]}})
    with transaction.atomic():
        appointment = Appointment.objects.select_for_update().select_related("slot").get(pk=appointment.pk)
        if appointment.status != AppointmentStatus.BOOKED:
            raise ValidationError(
                {
                    "mark": _("La cita %(code)s ya está %(status)s.")
                    % {"code": appointment.code, "status": appointment.get_status_display()}
                }
            )
        if mark == "no_show" and appointment.slot.starts_at > now:
            raise ValidationError({"mark": _("Solo se registra la inasistencia cuando el cupo ya comenzó.")})
        if mark == "arrived":
            appointment.arrived_at = now
        elif mark == "served":
            appointment.served_at = now
        appointment.status = DESK_MARKS[mark]
        appointment.save(update_fields=["arrived_at", "served_at", "status"])
    return appointment
