"""The door of every staff page: a visitor without a session is sent to the staff login (`/cuenta/ingresar/`), a
person whose role does not open the page gets 403 (sending them to a login they have already passed would loop)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def role_required(test):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not test(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def is_staff_member(user) -> bool:
    """The maps, the coverage page and the executive report are for every active staff account."""
    return user.is_active and user.is_staff


staff_required = role_required(is_staff_member)
