"""The messages about an appointment, in the language the citizen booked in, and its signed link."""

from django.core import signing
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from geo_siac.attention.models import Appointment
from geo_siac.reports.messages import absolute
from geo_siac.zones.selectors import commune_public_host

APPOINTMENT_SALT = "geo_siac.attention.appointment"


def appointment_token(appointment: Appointment) -> str:
    return signing.dumps(appointment.code, salt=APPOINTMENT_SALT)


def code_from_token(token: str) -> str | None:
    """The appointment code a link was signed for; no expiry, since a cancellation is refused once the slot began."""
    try:
        return signing.loads(token, salt=APPOINTMENT_SALT)
    except signing.BadSignature:
        return None


def point_host(appointment: Appointment) -> str | None:
    """The host of the service point's comuna, when it has one: the citizen booked with that municipality."""
    return commune_public_host(appointment.slot.offering.service_point.commune_id)


def appointment_link(appointment: Appointment) -> str:
    return absolute(reverse("attention:appointment", args=[appointment_token(appointment)]), point_host(appointment))


def _when(appointment: Appointment) -> str:
    starts = timezone.localtime(appointment.slot.starts_at)
    return f"{date_format(starts, 'DATE_FORMAT')}, {starts:%H:%M}"


def _facts(appointment: Appointment) -> dict:
    offering = appointment.slot.offering
    return {
        "code": appointment.code,
        "procedure": offering.procedure.name,
        "point": offering.service_point.name,
        "address": offering.service_point.address,
        "when": _when(appointment),
        "link": appointment_link(appointment),
    }


def confirmation_message(appointment: Appointment) -> tuple[str, str]:
    with translation.override(appointment.language):
        facts = _facts(appointment)
        subject = _("Cita %(code)s confirmada: %(procedure)s") % facts
        body = (
            _(
                "Su cita para «%(procedure)s» quedó reservada el %(when)s en %(point)s, %(address)s.\n"
                "Código: %(code)s.\nSi no puede asistir, cancélela en %(link)s"
            )
            % facts
        )
    return subject, body


def reminder_message(appointment: Appointment) -> tuple[str, str]:
    with translation.override(appointment.language):
        facts = _facts(appointment)
        subject = _("Recordatorio: su cita %(code)s es el %(when)s") % facts
        body = (
            _(
                "Le esperamos el %(when)s en %(point)s, %(address)s, para «%(procedure)s».\n"
                "Si no puede asistir, cancélela en %(link)s"
            )
            % facts
        )
    return subject, body


def cancellation_message(appointment: Appointment) -> tuple[str, str]:
    with translation.override(appointment.language):
        facts = _facts(appointment)
        subject = _("Cita %(code)s cancelada") % facts
        body = _(
            "Su cita para «%(procedure)s» del %(when)s en %(point)s fue cancelada. Puede reservar otra en %(booking)s"
        ) % {
            **facts,
            "booking": absolute(
                reverse("attention:book", args=[appointment.slot.offering_id]), point_host(appointment)
            ),
        }
    return subject, body
