"""Per-client limits of the citizens' pages, counted in PostgreSQL (geo_siac.web.ratelimit), shared by every worker:
anonymous submissions, and lookups of tracking codes that do not exist."""

from collections.abc import Callable

from django.conf import settings

from geo_siac.reports.models import Report
from geo_siac.web.ratelimit import client_ip, count_attempt, uncount_attempt


class TrackingLookupsExhausted(Exception):
    """This client looked up too many unknown tracking codes in the current window."""


def submission_allowed(request) -> bool:
    """Counts this attempt and says whether it is within GEO_SIAC_SUBMISSIONS_PER_WINDOW."""
    if request.user.is_authenticated:
        return True
    count = count_attempt(f"submissions:{client_ip(request)}", settings.GEO_SIAC_SUBMISSION_WINDOW_SECONDS)
    return count <= settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW


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
