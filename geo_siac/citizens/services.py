"""Sign-in to "Mis solicitudes" by a one-time link: requested with an email, used once within
GEO_SIAC_SIGN_IN_LINK_MINUTES, and turned into a citizen session (never a staff one)."""

import secrets
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from geo_siac.attention.services import appointments_personal_data_erase
from geo_siac.citizens.models import SignInLink
from geo_siac.citizens.selectors import has_reports, token_hash, usable_sign_in_links
from geo_siac.notifications.services import notification_enqueue
from geo_siac.reports.messages import absolute, sign_in_message
from geo_siac.reports.services import ErasureSummary, reporter_data_erase

# The session key of a signed-in citizen: their email. Staff sessions use Django's auth keys, never this one.
CITIZEN_EMAIL = "citizen_email"


def clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("Escriba un correo electrónico válido, como nombre@ejemplo.cl.")}) from None
    return email


@transaction.atomic
def sign_in_link_request(*, email: str, language: str = "es") -> bool:
    """Send a one-time sign-in link to `email` if it filed or follows a report; an address with nothing to show
    gets no message (so the form cannot be used to send mail to anyone). Returns whether a link was sent; the
    caller answers the same either way, so the page never tells whether an address is known."""
    email = clean_email(email)
    if not has_reports(email):
        return False
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    # Links past their time are of no use: each request clears them, so no address lingers in the table.
    SignInLink.objects.filter(expires_at__lte=now).delete()
    SignInLink.objects.create(email=email, token_hash=token_hash(token), created_at=now,
                              expires_at=now + timedelta(minutes=settings.GEO_SIAC_SIGN_IN_LINK_MINUTES))
    language = "en" if language.startswith("en") else "es"
    subject, body = sign_in_message(absolute(reverse("citizens:sign_in", args=[token])), language)
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
    session.flush()
    session[CITIZEN_EMAIL] = link.email
    session.set_expiry(settings.GEO_SIAC_CITIZEN_SESSION_SECONDS)
    session.save()
    return link.email


@dataclass
class CitizenErasureSummary(ErasureSummary):
    appointments_anonymised: int = 0
    sign_in_links_deleted: int = 0


def citizen_data_erase(*, email: str, commit: bool = False) -> CitizenErasureSummary:
    """Erase everything stored about one email on request (Ley 19.628 / 21.719): what `reports` holds
    (reporter_data_erase), their appointments and their sign-in links, in one transaction: all of it or, on any
    failure, none. Dry run unless `commit`. The "Mis solicitudes" page and `manage.py reporter_data --erase`."""
    with transaction.atomic():
        summary = CitizenErasureSummary(**asdict(reporter_data_erase(email=email, commit=True)))
        summary.appointments_anonymised = appointments_personal_data_erase(email=email)
        summary.sign_in_links_deleted = SignInLink.objects.filter(email__iexact=email).delete()[0]
        if not commit:
            transaction.set_rollback(True)
    return summary
