"""Staff accounts: the staff login, throttled (web.login_throttle, as the admin's own login in web.admin_site);
staff sessions expire when idle."""

from django.conf import settings
from django.contrib.auth import views as auth_views

from geo_siac.web.login_throttle import login_throttled

login = login_throttled(auth_views.LoginView.as_view())


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
