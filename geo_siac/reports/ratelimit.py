"""Per-client limits of the citizens' pages, counted in PostgreSQL (geo_siac.web.ratelimit), shared by every worker:
anonymous new requests, actions on an existing request (each with its own budget), and lookups of tracking codes
that do not exist. Citizens share addresses (a municipality's wifi, a mobile carrier's CGNAT), so only what was
accepted spends a budget, and a refused form comes back as typed, saying when it can be sent."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from math import ceil

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from geo_siac.reports.models import Report
from geo_siac.web.ratelimit import client_ip, count_attempt, uncount_attempt, window_left


class TrackingLookupsExhausted(Exception):
    """This client looked up too many unknown tracking codes in the current window."""


@dataclass(frozen=True)
class Refusal:
    """A citizen's POST past its limit: the form is shown again as typed, saying when it can be sent."""

    seconds: int
    on_report: bool  # an action on an existing request, not a new one

    @property
    def wait(self) -> str:
        minutes = max(1, ceil(self.seconds / 60))
        if minutes < 120:
            return ngettext("%(n)d minuto", "%(n)d minutos", minutes) % {"n": minutes}
        hours = ceil(minutes / 60)
        return ngettext("%(n)d hora", "%(n)d horas", hours) % {"n": hours}

    @property
    def message(self) -> str:
        if self.on_report:
            return _(
                "No guardamos este cambio: desde esta conexión se hicieron muchos en poco tiempo. Podrá volver a "
                "intentarlo en %(wait)s."
            ) % {"wait": self.wait}
        return _(
            "No enviamos su solicitud: desde esta conexión se enviaron muchas en poco tiempo. Podrá enviar otra "
            "solicitud en %(wait)s."
        ) % {"wait": self.wait}


def submission_limits(request, report: Report | None) -> list[tuple[str, int, int]]:
    """(key, attempts allowed, window) of each limit a POST counts in: a new request's, or an action's on `report`."""
    ip = client_ip(request)
    if report is None:
        return [
            (f"submissions:{ip}", settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW, settings.GEO_SIAC_SUBMISSION_WINDOW_SECONDS)
        ]
    window = settings.GEO_SIAC_ACTION_WINDOW_SECONDS
    return [
        (f"actions:{ip}", settings.GEO_SIAC_ACTIONS_PER_WINDOW, window),
        (f"actions:{ip}:{report.pk}", settings.GEO_SIAC_ACTIONS_PER_REPORT, window),
    ]


def counts_submissions(view):
    """A view that calls submission_refusal: what it counted is given back unless its answer is a success (2xx or a
    redirect), so a form refused by its validation, by the limit or by an error spends nothing. Counted first, given
    back after, so that POSTs sent in parallel cannot all pass under the limit."""

    @wraps(view)
    def counted(request, *args, **kwargs):
        request.counted_submissions = []
        try:
            response = view(request, *args, **kwargs)
        except BaseException:
            give_back(request)
            raise
        if response.status_code >= 400:
            give_back(request)
        return response

    return counted


def give_back(request) -> None:
    for key in request.counted_submissions:
        uncount_attempt(key)
    request.counted_submissions = []


def submission_refusal(request, *, report: Report | None = None) -> Refusal | None:
    """Counts this anonymous POST (a new request, or an action on `report`) and returns its Refusal past a limit,
    else None. Only in a view under counts_submissions, which gives the count back when nothing was accepted."""
    if request.user.is_authenticated:
        return None
    waits = []
    for key, allowed, window in submission_limits(request, report):
        request.counted_submissions.append(key)
        if count_attempt(key, window) > allowed:
            waits.append(window_left(key))
    return Refusal(seconds=max(waits), on_report=report is not None) if waits else None


def tracked_report(request, code: str, find: Callable[[str], Report | None]) -> Report | None:
    """The report `find` gives for `code`, or None, counting the lookup as a failure when there is none: past
    GEO_SIAC_TRACKING_FAILURES_ALLOWED in a window, raises TrackingLookupsExhausted for every code, a right one
    included, so that the answer cannot tell a guess it was right. Every lookup is counted first and a found one
    given back (as the login throttle does), so lookups sent in parallel cannot all pass under the limit."""
    key = f"tracking:{client_ip(request)}"
    window = settings.GEO_SIAC_TRACKING_FAILURES_WINDOW_SECONDS
    if count_attempt(key, window) > settings.GEO_SIAC_TRACKING_FAILURES_ALLOWED:
        raise TrackingLookupsExhausted
    report = find(code)
    if report is not None:
        uncount_attempt(key)
    return report
