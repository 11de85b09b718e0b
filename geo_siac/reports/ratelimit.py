"""Anonymous submissions per client IP, counted in PostgreSQL (geo_siac.web.ratelimit), shared by every worker."""

from django.conf import settings

from geo_siac.web.ratelimit import client_ip, count_attempt


def submission_allowed(request) -> bool:
    """Counts this attempt and says whether it is within GEO_SIAC_SUBMISSIONS_PER_WINDOW."""
    if request.user.is_authenticated:
        return True
    count = count_attempt(f"submissions:{client_ip(request)}", settings.GEO_SIAC_SUBMISSION_WINDOW_SECONDS)
    return count <= settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW
