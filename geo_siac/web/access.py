"""The door of every staff page: a visitor without a session is sent to the staff login (`/cuenta/ingresar/`), a
person whose role does not open the page gets 403 (sending them to a login they have already passed would loop)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults


class RoleMissing(PermissionDenied):
    """A role page's refusal, its message naming what opens the page: the one 403 whose message is shown."""


def permission_denied(request, exception):
    """handler403: other refusals' messages (the admin's, a library's) are not written for the person."""
    return defaults.permission_denied(request, exception if isinstance(exception, RoleMissing) else PermissionDenied())


def role_required(test, needs=None):
    """`needs` names what opens the page; the 403 page says it (templates/403.html)."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not test(request.user):
                if needs is None:
                    raise PermissionDenied
                raise RoleMissing(_("Para abrir esta página, su cuenta necesita %(needs)s.") % {"needs": needs})
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def is_staff_member(user) -> bool:
    """The maps, the coverage page and the executive report are for every active staff account."""
    return user.is_active and user.is_staff


staff_required = role_required(
    is_staff_member, needs=gettext_lazy("la marca «Es staff» (Administración › Usuarios › la cuenta)")
)
