"""Staff accounts: failed admin logins are throttled per IP and per username; staff sessions expire when idle."""

import hashlib

from django.conf import settings
from django.contrib import admin
from django.shortcuts import render
from django.utils.translation import gettext as _

from geo_siac.web.ratelimit import attempts, client_ip, count_attempt


def failure_keys(request) -> list[str]:
    username = request.POST.get("username", "").strip().lower()
    user_hash = hashlib.sha256(username.encode()).hexdigest()[:32]
    return [f"login:ip:{client_ip(request)}", f"login:user:{user_hash}"]


def login_blocked(request) -> bool:
    return any(attempts(key) >= settings.GEO_SIAC_LOGIN_FAILURES_ALLOWED for key in failure_keys(request))


def record_failure(request) -> None:
    """Failures count for GEO_SIAC_LOGIN_LOCKOUT_SECONDS from the first one: reaching the allowed number locks the
    IP or username until then, and the next failure after it starts a new count."""
    for key in failure_keys(request):
        count_attempt(key, settings.GEO_SIAC_LOGIN_LOCKOUT_SECONDS)


def admin_login(request, extra_context=None):
    """The admin's login view, refusing with 429 after too many failures from one IP or for one username."""
    if request.method == "POST" and login_blocked(request):
        response = render(request, "429_login.html", {
            "message": _("Demasiados intentos fallidos. Espere unos minutos antes de volver a intentarlo."),
        }, status=429)
        response["Retry-After"] = str(settings.GEO_SIAC_LOGIN_LOCKOUT_SECONDS)
        return response
    response = admin.site.login(request, extra_context)
    if request.method == "POST" and not request.user.is_authenticated:
        record_failure(request)
    return response


class StaffSessionExpiryMiddleware:
    """Each staff request pushes the expiry GEO_SIAC_STAFF_SESSION_IDLE_SECONDS ahead: idle staff sessions end."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Without a session cookie nobody is logged in. Asking `request.user` would load the (empty) session, and
        # SessionMiddleware then marks every response `Vary: Cookie`: the cached public pages would be cached once
        # per visitor's CSRF cookie instead of once for everyone.
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            request.session.set_expiry(settings.GEO_SIAC_STAFF_SESSION_IDLE_SECONDS)
        return self.get_response(request)
