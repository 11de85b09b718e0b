"""Writes of the citizens' app: sign-in to "Mis solicitudes" by a one-time link (requested with an email, used once
within GEO_SIAC_SIGN_IN_LINK_MINUTES) or through an OpenID Connect provider (citizens/oidc.py), both turned into a
citizen session, never a staff one, by citizen_session_start; the erasure of a citizen's data, and area alerts
(subscribed, confirmed by a link, summarised weekly, unsubscribed by a link)."""

import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from geo_siac.attention.services import appointments_personal_data_erase
from geo_siac.citizens import messages
from geo_siac.citizens.models import ALERT_RADII_M, AreaAlert, SignInLink
from geo_siac.citizens.selectors import (
    area_alert_reports,
    area_alert_zones,
    has_reports,
    token_hash,
    usable_sign_in_links,
)
from geo_siac.geo import STORAGE_SRID
from geo_siac.messaging.models import Conversation
from geo_siac.notifications.services import notification_enqueue
from geo_siac.reports.archived import archive_schemas_prepare
from geo_siac.reports.messages import absolute, sign_in_message
from geo_siac.reports.requester import CITIZEN_EMAIL  # the session key the citizen pages read too
from geo_siac.reports.selectors import email_key, phone_key, phone_key_sql
from geo_siac.reports.services import ErasureSummary, report_public_cells_refresh, reporter_data_erase
from geo_siac.reports.validation import coordinate_errors
from geo_siac.zones.messages import outside_message
from geo_siac.zones.selectors import commune_containing, commune_nearest

# An alert is summarised weekly; a timer's run a few minutes earlier than last week's must not put it off a day.
AREA_ALERT_EVERY = timedelta(days=7) - timedelta(hours=1)


def clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("Escriba un correo electrónico válido, como nombre@ejemplo.cl.")}) from None
    return email


@transaction.atomic
def sign_in_link_request(*, email: str, language: str = "es", asked: str = "") -> bool:
    """Send a one-time sign-in link to `email` if it filed or follows a report; an address with nothing to show
    gets no message (so the form cannot be used to send mail to anyone). Returns whether a link was sent; the
    caller answers the same either way, so the page never tells whether an address is known. `asked`, a tracking
    code, rides in the link's query: the citizen lands on that request once signed in."""
    email = clean_email(email)
    if not has_reports(email):
        return False
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    # Links past their time are of no use: each request clears them, so no address lingers in the table.
    SignInLink.objects.filter(expires_at__lte=now).delete()
    SignInLink.objects.create(
        email=email,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=now + timedelta(minutes=settings.GEO_SIAC_SIGN_IN_LINK_MINUTES),
    )
    language = "en" if language.startswith("en") else "es"
    link = reverse("citizens:sign_in", args=[token]) + (f"?{urlencode({'solicitud': asked})}" if asked else "")
    subject, body = sign_in_message(absolute(link), language)
    notification_enqueue(recipient=email, language=language, subject=subject, body=body)
    return True


@transaction.atomic
def sign_in_link_redeem(*, token: str, session) -> str:
    """Use a sign-in link once: mark it used and save the citizen's new session in one transaction, so two clicks
    can never make two sessions. Whatever the session held before (a staff login included) is dropped. Returns the
    citizen's email."""
    link = usable_sign_in_links(token).select_for_update().first()
    if link is None:
        raise ValidationError({"token": _("Este enlace no es válido, ya se usó o venció. Pida uno nuevo.")})
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    return citizen_session_start(email=link.email, session=session)


@transaction.atomic
def citizen_session_start(*, email: str, session) -> str:
    """Sign a citizen in, by a link or through an OpenID Connect provider: a new session holding only their email,
    for GEO_SIAC_CITIZEN_SESSION_SECONDS. Whatever the session held before (a staff login, a sign-in under way) is
    dropped. Returns the email."""
    session.flush()
    session[CITIZEN_EMAIL] = email
    session.set_expiry(settings.GEO_SIAC_CITIZEN_SESSION_SECONDS)
    session.save()
    return email


@dataclass
class CitizenErasureSummary(ErasureSummary):
    appointments_anonymised: int = 0
    area_alerts_deleted: int = 0
    sign_in_links_deleted: int = 0
    conversations_deleted: int = 0


def citizen_phone_data_erase(*, phone: str, commit: bool = False) -> CitizenErasureSummary:
    """Erase what is stored about a person known only by their number (phone, WhatsApp, SMS; Ley 19.628 / 21.719):
    their reports' contact, photos and letters, the messages to them (reporter_data_erase), the appointments booked
    with that number only, and a WhatsApp or SMS
    conversation left unfinished, in one transaction. Dry run unless `commit`. `manage.py reporter_data --phone`."""
    archive_schemas_prepare()  # before the transaction: each schema's alignment is its own
    with transaction.atomic():
        summary = CitizenErasureSummary(**asdict(reporter_data_erase(phone=phone, commit=commit)))
        summary.appointments_anonymised = appointments_personal_data_erase(phone=phone)
        summary.conversations_deleted = (
            Conversation.objects.alias(key=phone_key_sql("phone"))
            .filter(key=phone_key(phone))
            .delete()[1]
            .get("messaging.Conversation", 0)
        )
        if not commit:
            transaction.set_rollback(True)
    return summary


def citizen_data_erase(*, email: str, commit: bool = False, lock_wait: int | None = None) -> CitizenErasureSummary:
    """Erase everything stored about one email on request (Ley 19.628 / 21.719): what `reports` holds
    (reporter_data_erase), their appointments, area alerts and sign-in links, in one transaction: all of it or, on
    any failure, none. Dry run unless `commit`. The "Mis solicitudes" page and `manage.py reporter_data --erase`.
    The e-mail is matched without the spaces around it (reports.selectors.email_key). With `lock_wait`, a lock not
    obtained within that many seconds (an archived year's row held by pending_erasures_apply or a dump, say) raises
    OperationalError (lock_not_available) and nothing is erased."""
    email = email_key(email)
    archive_schemas_prepare()  # before the transaction: each schema's alignment is its own
    with transaction.atomic():
        if lock_wait is not None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{lock_wait}s"])
        summary = CitizenErasureSummary(**asdict(reporter_data_erase(email=email, commit=commit)))
        summary.appointments_anonymised = appointments_personal_data_erase(email=email)
        summary.area_alerts_deleted = AreaAlert.objects.filter(email__iexact=email).delete()[0]
        summary.sign_in_links_deleted = SignInLink.objects.filter(email__iexact=email).delete()[0]
        if not commit:
            transaction.set_rollback(True)
    return summary


def _area(*, latitude, longitude, radius_m, zone_id) -> dict:
    """The area of a subscription, a circle or a crew zone, as AreaAlert's fields; ValidationError naming the
    problem otherwise."""
    if zone_id not in (None, ""):
        zone = area_alert_zones().filter(pk=zone_id).first() if str(zone_id).isdigit() else None
        if zone is None:
            raise ValidationError({"zone": _("Elija una de las zonas de la lista.")})
        return {"zone_commune": zone.commune, "zone_key": zone.key, "zone_name": zone.name}
    lat, lng, errors = coordinate_errors(latitude, longitude)
    if str(radius_m) not in {str(r) for r in ALERT_RADII_M}:
        errors["radius_m"] = _("Elija un radio de la lista: %(radii)s m.") % {
            "radii": ", ".join(str(r) for r in ALERT_RADII_M)
        }
    if errors:
        raise ValidationError(errors)
    centre = Point(lng, lat, srid=STORAGE_SRID)
    if commune_containing(centre) is None:
        nearest = commune_nearest(centre)
        raise ValidationError(
            {
                "location": outside_message(nearest.commune.name, nearest.distance_m)
                if nearest
                else _("No hay comunas atendidas.")
            }
        )
    return {"centre": centre, "radius_m": int(radius_m)}


@transaction.atomic
def area_alert_subscribe(
    *, email: str, language: str = "es", latitude=None, longitude=None, radius_m=None, zone_id=None
) -> AreaAlert:
    """Ask for a weekly summary of the new public reports in an area: a circle (`latitude`, `longitude` in a served
    comuna and `radius_m` from ALERT_RADII_M) or a crew zone (`zone_id`, a current zone). Nothing is sent to the
    address until it confirms by the emailed link (double opt-in). Each request deletes the unconfirmed
    subscriptions whose link is past its time."""
    errors = {}
    try:
        email = clean_email(email)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        area = _area(latitude=latitude, longitude=longitude, radius_m=radius_m, zone_id=zone_id)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    AreaAlert.objects.filter(
        confirmed_at__isnull=True, created_at__lte=now - timedelta(days=messages.AREA_ALERT_CONFIRM_DAYS)
    ).delete()
    alert = AreaAlert.objects.create(
        email=email, language="en" if language.startswith("en") else "es", created_at=now, **area
    )
    subject, body = messages.confirmation_message(alert)
    notification_enqueue(recipient=email, language=alert.language, subject=subject, body=body)
    return alert


@transaction.atomic
def area_alert_confirm(*, token: str) -> AreaAlert:
    """Confirm a subscription by its emailed link; confirming twice changes nothing. The first summary covers the
    reports received from now on."""
    alert_id = messages.alert_id_from_confirm_token(token)
    alert = AreaAlert.objects.select_for_update().filter(pk=alert_id).first() if alert_id else None
    if alert is None:
        raise ValidationError({"token": _("Este enlace no es válido o venció. Pida el aviso de nuevo.")})
    if alert.confirmed_at is None:
        alert.confirmed_at = alert.sent_up_to = timezone.now()
        alert.save(update_fields=["confirmed_at", "sent_up_to"])
    return alert


@transaction.atomic
def area_alert_unsubscribe(*, token: str) -> bool:
    """Delete the subscription of an unsubscribe link; False when the link is not valid or was already used."""
    alert_id = messages.alert_id_from_unsubscribe_token(token)
    return bool(alert_id) and AreaAlert.objects.filter(pk=alert_id).delete()[0] > 0


def area_alerts_send(*, now: datetime | None = None) -> int:
    """Queue each confirmed alert's summary when a week has passed since its mark (`sent_up_to`): the public
    reports received after the mark and up to `now`, then the mark moves to `now` in the same transaction. An alert
    with nothing new moves its mark and gets no message. Each alert is taken under a row lock (skipping locked
    ones) and its due time checked again, so two runs at once, or one after the other, send it once. Returns the
    number of summaries queued."""
    now = now or timezone.now()
    # Every report received up to now gets its published cell first: the mark moves past whatever lacks one.
    report_public_cells_refresh()
    due = AreaAlert.objects.filter(confirmed_at__isnull=False, sent_up_to__lte=now - AREA_ALERT_EVERY)
    return sum(_area_alert_send(pk=pk, now=now) for pk in list(due.order_by("pk").values_list("pk", flat=True)))


@transaction.atomic
def _area_alert_send(*, pk: int, now: datetime) -> int:
    alert = (
        AreaAlert.objects.select_for_update(skip_locked=True)
        .filter(pk=pk, confirmed_at__isnull=False, sent_up_to__lte=now - AREA_ALERT_EVERY)
        .first()
    )
    if alert is None:
        return 0
    reports, more = area_alert_reports(alert, after=alert.sent_up_to, up_to=now)
    if reports:
        subject, body = messages.summary_message(alert, reports, more)
        notification_enqueue(
            recipient=alert.email,
            language=alert.language,
            subject=subject,
            body=body,
            unsubscribe_url=messages.unsubscribe_url(alert),
        )
    alert.sent_up_to = now
    alert.save(update_fields=["sent_up_to"])
    return 1 if reports else 0
