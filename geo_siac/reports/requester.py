"""Who is the requester of a request, as the citizen pages decide it: the one rule every page that shows the
requester's own things (their text, the place they typed, the contact they left) asks. Anyone holding a tracking code
can open its pages, so the code alone never makes someone the requester."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.signing import BadSignature, SignatureExpired, Signer, TimestampSigner
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from geo_siac.notifications.models import Medium, Notification
from geo_siac.notifications.services import notification_enqueue
from geo_siac.reports.ratelimit import Refusal
from geo_siac.reports.selectors import email_key
from geo_siac.web.ratelimit import client_ip, count_in_windows, seconds_until

# The session key of a signed-in citizen ("Mis solicitudes"): their email. Staff sessions use Django's auth keys.
CITIZEN_EMAIL = "citizen_email"

# The browser that filed a request carries its code in signed cookies of that request's own pages (the confirmation
# and the tracking page), for an hour. Cookies, not the session: a session would write a row per anonymous
# submission. A cookie holds one path, so each page has its own cookie name. Browser-session cookies (no max_age)
# so closing a shared computer's browser ends them; the hour is checked on the server against the signed time.
FILED_SALT, FILED_SECONDS = "geo_siac.reports.filed", 3600
FILED_COOKIES = {"filed": "reports:submitted", "filed_tracking": "reports:tracking"}
# The letter links sent to the requester (email, SMS) carry this key: they open in whatever browser reads the message,
# until GEO_SIAC_LETTER_LINK_MAX_AGE_DAYS after they were signed (letter_key_state).
LETTER_KEY, LETTER_SALT = "clave", "geo_siac.reports.letter"
# "." rather than the default ":", which a query string escapes: the key stays as readable as the old one.
LETTER_SEP = "."
# A fresh link asked again inside this window (a reload, a second click, an answer lost on the way) finds the one
# already queued and is not sent twice.
LETTER_LINK_REPEAT = timedelta(minutes=10)


def filed_redirect(code: str):
    """To the confirmation of a request just filed (the web form, the kind forms, a point's box), its code kept."""
    response = redirect("reports:submitted", code=code)
    for name, view_name in FILED_COOKIES.items():
        response.set_signed_cookie(
            name,
            code,
            salt=FILED_SALT,
            path=reverse(view_name, args=[code]),
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    return response


def filed_here(request, report) -> bool:
    return any(
        request.get_signed_cookie(name, None, salt=FILED_SALT, max_age=FILED_SECONDS) == report.tracking_code
        for name in FILED_COOKIES
    )


def is_requester(request, report) -> bool:
    """Whether this browser is the requester's: it filed the request (its cookie), or a "Mis solicitudes" session of
    the email the request was filed with (not one that only follows it)."""
    if filed_here(request, report):
        return True
    email = request.session.get(CITIZEN_EMAIL, "") if hasattr(request, "session") else ""
    return bool(email_key(email) and email_key(email) == email_key(report.reporter_email))


def can_read_letters(request, report) -> bool:
    """Whether this browser may open the request's answer letters, which name the requester: the requester, one who
    follows an unexpired link the requester was sent (its `clave`), or anyone with the code of a request that left
    no email and no phone (the code is then its only lasting key)."""
    if is_requester(request, report) or not (report.reporter_email or report.reporter_phone):
        return True
    return letter_key_state(report, request.GET.get(LETTER_KEY, "")) == "valid"


def letter_key(report) -> str:
    """The `clave` of a link sent now: the time it was signed and its signature (the code is already in the URL)."""
    signed = TimestampSigner(salt=LETTER_SALT, sep=LETTER_SEP).sign(report.tracking_code)
    return signed.removeprefix(f"{report.tracking_code}{LETTER_SEP}")


def letter_key_state(report, key: str) -> str:
    """ "valid", "expired" (a right key past GEO_SIAC_LETTER_LINK_MAX_AGE_DAYS) or "invalid" (none, or altered)."""
    if not key:
        return "invalid"
    max_age = timedelta(days=settings.GEO_SIAC_LETTER_LINK_MAX_AGE_DAYS)
    if LETTER_SEP not in key:
        return plain_key_state(report, key, max_age)
    try:
        TimestampSigner(salt=LETTER_SALT, sep=LETTER_SEP).unsign(
            f"{report.tracking_code}{LETTER_SEP}{key}", max_age=max_age
        )
    except SignatureExpired:
        return "expired"
    except BadSignature:
        return "invalid"
    return "valid"


def plain_key_state(report, key: str, max_age: timedelta) -> str:
    """The untimed keys sent before the links expired, each with the letter it announced: honoured as long as a link
    signed then would be, counted from the request's newest letter (docs/security.md, "Answer letter links")."""
    if not constant_time_compare(key, Signer(salt=LETTER_SALT).signature(report.tracking_code)):
        return "invalid"
    newest = report.letters.order_by("-issued_at").values_list("issued_at", flat=True).first()
    return "valid" if newest is not None and newest > timezone.now() - max_age else "expired"


def masked_email(email: str) -> str:
    """«c***@gmail.com»: enough for its owner to know which inbox to open, not enough for anyone else to write."""
    local, _at, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def masked_phone(phone: str) -> str:
    """«+56 9 **** **12»: a Chilean mobile keeps its country and mobile prefix, any number only its last two digits."""
    digits = "".join(c for c in phone if c.isdigit())
    if digits.startswith("569") and len(digits) == 11:
        return f"+56 9 **** **{digits[-2:]}"
    return f"{'*' * max(0, len(digits) - 2)}{digits[-2:]}"


@dataclass(frozen=True)
class LetterLinkRefusal:
    """A fresh link refused past a limit: `per_request` (this request's, from anywhere) or this client's."""

    seconds: int
    per_request: bool

    @property
    def wait(self) -> str:
        return Refusal(seconds=self.seconds, kind="sign-in").wait


def letter_link_refusal(request, report) -> LetterLinkRefusal | None:
    """Counts a request for a fresh letter link, per request (so nobody floods the requester's phone from many
    clients) and per client (staff at the desk excepted, as in reports.ratelimit), and returns its refusal past
    either. The view (reports.ratelimit.counts_submissions) gives the counts back unless a link was queued."""
    limits = [
        (
            f"letter-link:request:{report.pk}",
            settings.GEO_SIAC_LETTER_LINKS_PER_REQUEST,
            settings.GEO_SIAC_LETTER_LINKS_REQUEST_WINDOW_SECONDS,
        )
    ]
    if not request.user.is_authenticated:
        limits.append(
            (
                f"letter-link:client:{client_ip(request)}",
                settings.GEO_SIAC_LETTER_LINKS_PER_CLIENT,
                settings.GEO_SIAC_LETTER_LINKS_CLIENT_WINDOW_SECONDS,
            )
        )
    counts = count_in_windows([(key, window) for key, _allowed, window in limits])
    request.counted_submissions += [(key, end) for (key, _allowed, _window), (_count, end) in zip(limits, counts)]
    over = [
        LetterLinkRefusal(seconds=seconds_until(end), per_request=key.startswith("letter-link:request:"))
        for (key, allowed, _window), (count, end) in zip(limits, counts)
        if count > allowed
    ]
    return max(over, key=lambda refusal: refusal.seconds) if over else None


@dataclass(frozen=True)
class LetterLink:
    """What became of a fresh link: sent to `contact` (masked), or `contact` empty when the request left none."""

    contact: str = ""
    queued: bool = False  # False also when a link queued moments ago answered a retry


@transaction.atomic
def letter_link_send(*, report, letter) -> LetterLink:
    """Queue a fresh keyed link to `letter` for the requester, through the contact on file: the email, else the
    phone on the channel the request came by (SMS, or WhatsApp). Once per LETTER_LINK_REPEAT."""
    # Imported here: messages and the status services build their links with this module's letter_key.
    from geo_siac.reports.messages import letter_link_message
    from geo_siac.reports.services.status import lock_report, phone_medium

    report = lock_report(report)  # two clicks at once: the second waits, then finds the first one's link
    if report.reporter_email:
        medium, recipient, contact = Medium.EMAIL, report.reporter_email, masked_email(report.reporter_email)
    elif report.reporter_phone:
        medium, recipient, contact = phone_medium(report), report.reporter_phone, masked_phone(report.reporter_phone)
    else:
        return LetterLink()
    subject, body = letter_link_message(letter, report.language)
    repeated = Notification.objects.filter(
        report=report, recipient=recipient, subject=subject, created_at__gte=timezone.now() - LETTER_LINK_REPEAT
    )
    if repeated.exists():
        return LetterLink(contact=contact)
    notification_enqueue(
        report=report, recipient=recipient, language=report.language, subject=subject, body=body, medium=medium
    )
    return LetterLink(contact=contact, queued=True)
