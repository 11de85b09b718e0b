"""Per-client limits of the citizens' pages, counted in PostgreSQL (geo_siac.web.ratelimit), shared by every worker:
anonymous new requests, actions on an existing request (each with its own budget), and lookups of tracking codes
that do not exist. Citizens share addresses (a municipality's wifi, a mobile carrier's CGNAT), so only what was
accepted spends a budget, and a refused form comes back as typed, saying when it can be sent."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from math import ceil

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy, ngettext

from geo_siac.reports.models import Report
from geo_siac.web.ratelimit import client_ip, count_attempt, count_in_windows, seconds_until, uncount_attempt


class TrackingLookupsExhausted(Exception):
    """This client looked up too many unknown tracking codes in the current window."""


# What each purpose's refusal says, and which budgets it spends (submission_limits).
WORDING = {
    "request": gettext_lazy(
        "No enviamos su solicitud: desde esta conexión se enviaron muchas en poco tiempo. Podrá enviar otra "
        "solicitud en %(wait)s."
    ),
    "booking": gettext_lazy(
        "No reservamos la hora: desde esta conexión se pidieron muchas en poco tiempo. Podrá pedir otra hora en "
        "%(wait)s."
    ),
    "action": gettext_lazy(
        "No guardamos este cambio: desde esta conexión se hicieron muchos en poco tiempo. Podrá volver a "
        "intentarlo en %(wait)s."
    ),
    "follow": gettext_lazy(
        "No registramos su correo: desde esta conexión se pidieron muchos avisos en poco tiempo. Podrá intentarlo "
        "de nuevo en %(wait)s."
    ),
    "sign-in": gettext_lazy(
        "No enviamos el enlace: desde esta conexión se pidieron muchos en poco tiempo. Podrá pedir otro en %(wait)s."
    ),
    "letter-link": gettext_lazy(
        "No enviamos el enlace: para esta solicitud o desde esta conexión se pidieron varios en poco tiempo. Podrá "
        "pedir otro en %(wait)s. Mientras tanto, revise su correo o su teléfono: puede que el enlace ya le haya "
        "llegado."
    ),
    "area-alert": gettext_lazy(
        "No registramos la alerta: desde esta conexión se pidieron muchas en poco tiempo. Podrá intentarlo de nuevo "
        "en %(wait)s."
    ),
}


# The purposes whose budgets count staff's POSTs too (submission_limits says which of their budgets).
STAFF_COUNTED = ("letter-link",)


@dataclass(frozen=True)
class Refusal:
    """A citizen's POST past its limit: the form is shown again as typed, saying when it can be sent."""

    seconds: int
    kind: str  # a purpose of WORDING

    @property
    def wait(self) -> str:
        minutes = max(1, ceil(self.seconds / 60))
        if minutes < 120:
            return ngettext("%(n)d minuto", "%(n)d minutos", minutes) % {"n": minutes}
        hours = ceil(minutes / 60)
        return ngettext("%(n)d hora", "%(n)d horas", hours) % {"n": hours}

    @property
    def message(self) -> str:
        return str(WORDING[self.kind]) % {"wait": self.wait}


def submission_limits(request, purpose: str, report: Report | None) -> list[tuple[str, int, int]]:
    """(key, attempts allowed, window) of each budget a POST of `purpose` spends (on `report`, for an action)."""
    ip = client_ip(request)
    new_requests = (
        f"submissions:{ip}",
        settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW,
        settings.GEO_SIAC_SUBMISSION_WINDOW_SECONDS,
    )
    if purpose in ("sign-in", "area-alert"):
        per_client = settings.GEO_SIAC_SIGN_IN_LINKS_PER_CLIENT
        return [(f"{purpose}:client:{ip}", per_client, settings.GEO_SIAC_SIGN_IN_LINKS_WINDOW_SECONDS)]
    if purpose == "letter-link":
        # A fresh letter link (services.letter_link_send): per request from any client, staff's too, so nobody
        # floods the requester's phone; per client, staff at the desk excepted.
        per_request = (
            f"letter-link:request:{report.pk}",
            settings.GEO_SIAC_LETTER_LINKS_PER_REQUEST,
            settings.GEO_SIAC_LETTER_LINKS_REQUEST_WINDOW_SECONDS,
        )
        per_client = (
            f"letter-link:client:{ip}",
            settings.GEO_SIAC_LETTER_LINKS_PER_CLIENT,
            settings.GEO_SIAC_LETTER_LINKS_CLIENT_WINDOW_SECONDS,
        )
        return [per_request] if request.user.is_authenticated else [per_request, per_client]
    if report is None:
        return [new_requests]
    window = settings.GEO_SIAC_ACTION_WINDOW_SECONDS
    actions = [
        (f"actions:{ip}", settings.GEO_SIAC_ACTIONS_PER_WINDOW, window),
        (f"actions:{ip}:{report.pk}", settings.GEO_SIAC_ACTIONS_PER_REPORT, window),
    ]
    # Following subscribes an address nobody confirms and emails it: it spends the new requests' budget too.
    return [new_requests, *actions] if purpose == "follow" else actions


def counts_submissions(view):
    """A view that calls submission_refusal: what it counted is given back unless its answer is a success (2xx or a
    redirect), so a form refused by its validation, by the limit or by an error spends nothing. Counted first, given
    back after, so that POSTs sent in parallel cannot all pass under the limit. A 429 carries Retry-After."""

    @wraps(view)
    def counted(request, *args, **kwargs):
        request.counted_submissions, request.submission_refused = [], None
        try:
            response = view(request, *args, **kwargs)
        except BaseException:
            give_back(request)
            raise
        if response.status_code >= 400:
            give_back(request)
        if response.status_code == 429 and request.submission_refused is not None:
            response["Retry-After"] = str(request.submission_refused.seconds)
        return response

    return counted


def give_back(request) -> None:
    """Gives back what submission_refusal counted for this request (refused, failed, or a form sent again), each in
    the window it was counted in."""
    for key, window_end in request.counted_submissions:
        uncount_attempt(key, window_end)
    request.counted_submissions = []


def submission_refusal(request, *, purpose: str = "", report: Report | None = None) -> Refusal | None:
    """Counts this anonymous POST (or a staff one of STAFF_COUNTED, in its budgets only) and returns its Refusal past
    a limit, else None. `purpose` is one of WORDING's,
    by default "action" with a `report` and "request" without. Every POST first counts, never given back, in
    GEO_SIAC_FORM_POSTS_PER_WINDOW (forms refused by their validation still cost their decoding); then in its
    purpose's budgets, which counts_submissions, required on the view, gives back when nothing was accepted."""
    if not hasattr(request, "counted_submissions"):
        raise ImproperlyConfigured("view lacks @counts_submissions")
    purpose = purpose or ("action" if report is not None else "request")
    staff = request.user.is_authenticated
    if staff and purpose not in STAFF_COUNTED:
        return None
    ceiling = [] if staff else [(f"form-posts:{client_ip(request)}", settings.GEO_SIAC_FORM_POSTS_PER_WINDOW)]
    budgets = submission_limits(request, purpose, report)
    # The ceiling and the budgets in one statement; past the ceiling the budgets are given back with the 429.
    counts = count_in_windows(
        [(key, settings.GEO_SIAC_SUBMISSION_WINDOW_SECONDS) for key, _allowed in ceiling]
        + [(key, window) for key, _allowed, window in budgets]
    )
    ceiling_counts, budget_counts = counts[: len(ceiling)], counts[len(ceiling) :]
    request.counted_submissions += [
        (key, end) for (key, _allowed, _window), (_count, end) in zip(budgets, budget_counts)
    ]
    for (_key, allowed), (posts, posts_end) in zip(ceiling, ceiling_counts):
        if posts > allowed:
            request.submission_refused = Refusal(seconds=seconds_until(posts_end), kind=purpose)
            return request.submission_refused
    waits = [
        seconds_until(window_end)
        for (_key, allowed, _window), (count, window_end) in zip(budgets, budget_counts)
        if count > allowed
    ]
    if waits:
        request.submission_refused = Refusal(seconds=max(waits), kind=purpose)
    return request.submission_refused


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
