"""Failed logins are throttled per client and per account from that client. Imports neither the admin nor
django.contrib.auth's views, so the admin site (web.admin_site, loaded with the apps) can wrap its own login and
password change with it."""

import hashlib
from functools import wraps

from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext as _

from geo_siac.web.ratelimit import client_key, count_in_windows, uncount_attempt


def posted_username(request) -> str:
    """The account a login form names."""
    return request.POST.get("username", "")


def signed_in_username(request) -> str:
    """The signed-in person's account: the password change page asks for its password, whatever the POST names."""
    return request.user.get_username() if request.user.is_authenticated else ""


def logged_in(request, response, session_before) -> bool:
    """A login succeeded: logging in always gives the session a new key (django.contrib.auth.login); a failure,
    even by someone already logged in, leaves it as it was."""
    return request.user.is_authenticated and request.session.session_key != session_before


def old_password_right(request, response, session_before) -> bool:
    """The password change page took the old password: it redirects, or its form refused only the new one (too
    short, too common), which is no wrong guess."""
    form = (getattr(response, "context_data", None) or {}).get("form")
    return response.status_code == 302 or (form is not None and "old_password" not in form.errors)


def failure_limits(request, account: str) -> dict[str, int]:
    """The counts a login attempt on `account` adds to, each with the failures it allows: the client's, over all
    accounts, and the account's from this client only. No count is the account's alone: anyone could then lock a
    named person out by failing on purpose, as django-axes's username-and-address combination prevents too."""
    user_hash = hashlib.sha256(account.strip().lower().encode()).hexdigest()[:32]
    client = client_key(request)
    return {
        f"login:client:{client}": settings.GEO_SIAC_LOGIN_FAILURES_PER_CLIENT,
        f"login:user:{user_hash}:client:{client}": settings.GEO_SIAC_LOGIN_FAILURES_ALLOWED,
    }


def login_throttled(view, account=posted_username, succeeded=logged_in):
    """A login view that refuses a client with 429 after GEO_SIAC_LOGIN_FAILURES_ALLOWED failures on one account or
    GEO_SIAC_LOGIN_FAILURES_PER_CLIENT on all of them, until GEO_SIAC_LOGIN_LOCKOUT_SECONDS after the first of
    them; the next failure then starts a new count. `account(request)` is the account whose password is tried, and
    `succeeded(request, response, session key before)` tells a right password from a wrong one.

    Every attempt is counted before the password is checked, and given back when it was right: counting failures
    only after checking let parallel guesses through, each one seeing the count before the others had added to it
    (one more guess per busy worker). Counted first, concurrent attempts each get their own number (one upsert),
    so no more than the allowed number reach the password check in a window.
    """

    @wraps(view)
    def throttled(request, *args, **kwargs):
        if request.method != "POST":
            return view(request, *args, **kwargs)
        limits = failure_limits(request, account(request))
        counted = count_in_windows([(key, settings.GEO_SIAC_LOGIN_LOCKOUT_SECONDS) for key in limits])
        if any(count > allowed for (count, _end), allowed in zip(counted, limits.values())):
            response = render(
                request,
                "429_login.html",
                {
                    "message": _("Demasiados intentos fallidos. Espere unos minutos antes de volver a intentarlo."),
                },
                status=429,
            )
            response["Retry-After"] = str(settings.GEO_SIAC_LOGIN_LOCKOUT_SECONDS)
            return response
        session_before = request.session.session_key
        response = view(request, *args, **kwargs)
        if succeeded(request, response, session_before):
            for key in limits:
                uncount_attempt(key)
        return response

    return throttled
