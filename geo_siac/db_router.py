"""Public reads from a streaming replica (`DATABASE_REPLICA_URL`, docs/deployment.md "A replica for public reads").

A view marked `public_read` answers GET and HEAD from the replica when one is configured, answers, is no further
behind than `GEO_SIAC_REPLICA_MAX_LAG_SECONDS`, and has replayed the client's own last write; everything else reads
and writes on the primary. The choice is made once per request (`ReplicaReadsMiddleware`) and held in a context
variable that `PublicReadRouter` reads for every query.
"""

import logging
from contextlib import suppress
from contextvars import ContextVar
from dataclasses import dataclass
from time import monotonic

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections

logger = logging.getLogger("geo_siac.replica")

PRIMARY = DEFAULT_DB_ALIAS
REPLICA = "replica"
SAFE_METHODS = ("GET", "HEAD")
# The primary's WAL position after a client's last write, read back on its next requests.
WRITTEN_COOKIE = "geo_siac_escrito"
# Sessions and accounts: a sign-in just made must hold on the next page. web: the rate counters are UNLOGGED, so a
# replica has none. django_cache (DatabaseCache): a cache is read where it is written.
PRIMARY_ONLY_APPS = frozenset({"sessions", "auth", "admin", "web", "django_cache"})

# An idle primary sends no transactions, so the time since the last replayed one is no lag when the replica has
# replayed all it received and is still receiving (pg_stat_wal_receiver has a row while the receiver runs).
STANDBY_SQL = """
SELECT pg_is_in_recovery(),
       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() AND EXISTS (SELECT FROM pg_stat_wal_receiver)
            THEN 0 ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END,
       pg_last_wal_replay_lsn() - '0/0'::pg_lsn
"""
# The insert position, not the write position: with synchronous_commit off a commit may not be written yet.
WRITTEN_SQL = "SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn"

_reads: ContextVar[str] = ContextVar("geo_siac_reads", default=PRIMARY)


@dataclass
class Standby:
    lag_seconds: float
    replayed: int  # bytes of WAL from 0/0, comparable with WRITTEN_SQL


@dataclass
class _Memory:
    checked_at: float = float("-inf")
    down_until: float = float("-inf")
    standby: Standby | None = None


_memory = _Memory()  # per process: each gunicorn worker checks for itself


class PublicReadRouter:
    def db_for_read(self, model, **hints):
        if _reads.get() == REPLICA and model._meta.app_label not in PRIMARY_ONLY_APPS:
            return REPLICA
        return PRIMARY

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica is a copy of the primary: its rows are the primary's rows

    def allow_migrate(self, db, app_label, **hints):
        return db == PRIMARY


def public_read(view):
    """Mark a view (a function, or an APIView/ViewSet class) whose GET and HEAD read only what anyone may see."""
    view.public_read = True
    return view


def replica_configured() -> bool:
    return REPLICA in connections.settings


def _is_public(view_func) -> bool:
    owner = getattr(view_func, "view_class", None) or getattr(view_func, "cls", None)
    return getattr(view_func, "public_read", False) or getattr(owner, "public_read", False)


def standby() -> Standby | None:
    """The replica's lag and replay position, checked at most every GEO_SIAC_REPLICA_CHECK_SECONDS; None while it is
    down (remembered for GEO_SIAC_REPLICA_RETRY_SECONDS) or when it is not a standby."""
    now = monotonic()
    if now < _memory.down_until:
        return None
    if now - _memory.checked_at < settings.GEO_SIAC_REPLICA_CHECK_SECONDS:
        return _memory.standby
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(STANDBY_SQL)
            in_recovery, lag, replayed = cursor.fetchone()
    except DatabaseError as exc:
        replica_failed(exc)
        return None
    if not in_recovery:
        # A promoted replica no longer follows the primary: what it holds would only grow older.
        logger.error("DATABASE_REPLICA_URL is not a standby (pg_is_in_recovery() is false); reading from the primary")
    _memory.checked_at = now
    _memory.standby = Standby(float("inf") if lag is None else float(lag), int(replayed or 0)) if in_recovery else None
    return _memory.standby


def replica_failed(exc: Exception) -> None:
    """Read from the primary for GEO_SIAC_REPLICA_RETRY_SECONDS, and drop the broken connection."""
    logger.warning(
        "replica unavailable (%s); public reads from the primary for %s s",
        exc.__class__.__name__,
        settings.GEO_SIAC_REPLICA_RETRY_SECONDS,
    )
    _memory.down_until = monotonic() + settings.GEO_SIAC_REPLICA_RETRY_SECONDS
    _memory.standby = None
    with suppress(DatabaseError):
        connections[REPLICA].close()


def client_written(request) -> int:
    """The WAL position of the client's last write, 0 when it has none (or sent something else)."""
    value = request.COOKIES.get(WRITTEN_COOKIE, "")
    return (
        int(value) if value.isascii() and value.isdigit() and len(value) <= 20 else 0
    )  # a WAL position is a 64-bit number


def replica_serves(request) -> bool:
    found = standby()
    return (
        found is not None
        and found.lag_seconds <= settings.GEO_SIAC_REPLICA_MAX_LAG_SECONDS
        and found.replayed >= client_written(request)
    )


def remember_write(response) -> None:
    try:
        with connections[PRIMARY].cursor() as cursor:
            cursor.execute(WRITTEN_SQL)
            written = int(cursor.fetchone()[0])
    except DatabaseError as exc:  # the write is done: its answer must not turn into an error
        logger.warning("could not read the primary's WAL position after a write: %s", exc.__class__.__name__)
        return
    # Once it expires a replica within its lag limit has replayed the write (with a margin for the checks' cache).
    response.set_cookie(
        WRITTEN_COOKIE,
        str(written),
        max_age=settings.GEO_SIAC_REPLICA_MAX_LAG_SECONDS + 60,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


class ReplicaReadsMiddleware:
    """Listed after DatabaseUnavailableMiddleware, so that a replica lost in the middle of a view is retried on the
    primary before that middleware answers 503."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _reads.set(PRIMARY)
        try:
            response = self.get_response(request)
        finally:
            _reads.reset(token)
        if request.method not in SAFE_METHODS and response.status_code < 400 and replica_configured():
            remember_write(response)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if (
            request.method in SAFE_METHODS
            and replica_configured()
            and _is_public(view_func)
            and replica_serves(request)
        ):
            _reads.set(REPLICA)

    def process_exception(self, request, exception):
        if _reads.get() != REPLICA or not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        replica_failed(exception)
        _reads.set(PRIMARY)
        match = request.resolver_match  # a GET reads only: running it again on the primary is safe
        return match.func(request, *match.args, **match.kwargs)
