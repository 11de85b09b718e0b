"""Who may open the crew workspace and the operator console, and which reports each person may see."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from geo_siac.reports.models import Report
from geo_siac.zones.roles import is_operator, is_supervisor
from geo_siac.zones.selectors import crews_of


def visible_reports(user) -> QuerySet[Report]:
    """Supervisors and admins see every report; a crew member only those of their crews (anything else 404s)."""
    if is_supervisor(user):
        return Report.objects.all()
    return Report.objects.filter(crew__in=crews_of(user))


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


crew_required = role_required(lambda user: is_supervisor(user) or crews_of(user).exists())
supervisor_required = role_required(is_supervisor)
operator_required = role_required(is_operator)
