"""Anonymous submissions per client IP, counted in Django's cache (a shared cache when there are several workers)."""

from django.conf import settings
from django.core.cache import cache


def client_ip(request) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is set by the client unless a trusted proxy rewrites it.
    return request.META.get("REMOTE_ADDR", "")


def submission_allowed(request) -> bool:
    """Counts this attempt and says whether it is within GEO_SIAC_SUBMISSIONS_PER_WINDOW."""
    if request.user.is_authenticated:
        return True
    key = f"geo_siac:submissions:{client_ip(request)}"
    cache.add(key, 0, timeout=settings.GEO_SIAC_SUBMISSION_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=settings.GEO_SIAC_SUBMISSION_WINDOW_SECONDS)
        count = 1
    return count <= settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW
