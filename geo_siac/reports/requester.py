"""Who is the requester of a request, as the citizen pages decide it: the one rule every page that shows the
requester's own things (their text, the place they typed, the contact they left) asks. Anyone holding a tracking code
can open its pages, so the code alone never makes someone the requester."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.signing import BadSignature, SignatureExpired, Signer, TimestampSigner
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from geo_siac.reports.selectors import email_key

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
# Letters issued from this day on send timed keys: an untimed key is honoured only from a letter issued before it
# (plain_key_state), so every untimed key is refused GEO_SIAC_LETTER_LINK_MAX_AGE_DAYS after it at the latest.
LETTER_KEYS_TIMED_SINCE = datetime(2027, 1, 1, tzinfo=ZoneInfo("America/Santiago"))


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
    signed then would be, counted from the request's newest letter issued before LETTER_KEYS_TIMED_SINCE (a later
    one sent a timed key, so it cannot revive an untimed one; docs/security.md, "Answer letter links")."""
    if not constant_time_compare(key, Signer(salt=LETTER_SALT).signature(report.tracking_code)):
        return "invalid"
    untimed = report.letters.filter(issued_at__lt=LETTER_KEYS_TIMED_SINCE)
    newest = untimed.order_by("-issued_at").values_list("issued_at", flat=True).first()
    return "valid" if newest is not None and newest > timezone.now() - max_age else "expired"
