from collections.abc import Callable

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

# name -> a quick check (one small indexed query at most) of a job the site depends on, answering a dict with its
# "status" ("ok" or a word naming the problem) and what an operator needs to see. Apps register theirs in
# AppConfig.ready(), so this view knows none of them (the layers point down: docs/architecture.md).
CHECKS: dict[str, Callable[[], dict]] = {}


def register_check(name: str, check: Callable[[], dict]) -> None:
    CHECKS[name] = check


def database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return False
    return True


def _run(check: Callable[[], dict]) -> dict:
    try:
        return check()
    except DatabaseError:  # e.g. its table not migrated yet: reported, never a 500 to the load balancer
        return {"status": "error"}


@never_cache
@require_safe
def health(request):
    """Load balancers and monitoring poll this: 503 when the database does not answer; otherwise 200 with "status"
    "ok", or "degraded" when a registered check reports a problem (a stopped timer), which monitoring alerts on and
    a load balancer must not act on: every server would answer the same, and each still serves its pages."""
    if not database_answers():
        response = JsonResponse({"status": "error", "database": "unavailable"}, status=503)
        response["Retry-After"] = "30"
        return response
    checks = {name: _run(check) for name, check in CHECKS.items()}
    degraded = any(result["status"] != "ok" for result in checks.values())
    return JsonResponse({"status": "degraded" if degraded else "ok", "database": "ok", **checks})
