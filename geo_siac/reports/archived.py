"""What the archive schemas of archived years (reports.archive) still hold, for the citizen's rights of access and
erasure (Ley 19.628 / 21.719): each `archive_y<YEAR>` schema has the live tables' names, so the same queries read
and redact it with the schema first in the search_path. A year whose schema was dropped after its dump is out of
reach: it is listed, so that the caller says so."""

import hashlib
import hmac
import logging
import secrets
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import OperationalError, connection, transaction

from geo_siac.reports.models import ErasureDigestKey, PendingErasure, YearArchive

# The archive's copy of a live table, column by column: what a model reads that the copy lacks (a column added to
# the live table after the year was archived, or after the dump a schema was restored from), with the live column's
# type and default. archive_columns_align adds them outside any read (after every migrate, when archive_year finds
# the schema, and before an export or erasure, archive_schemas_prepare); a read that still finds one missing (its
# table stayed locked) refuses that schema (ArchiveColumnsMissing) instead of altering the table.
MISSING_COLUMNS_SQL = """
SELECT c.relname, live.attname, format_type(live.atttypid, live.atttypmod), pg_get_expr(d.adbin, d.adrelid)
  FROM pg_class c
  JOIN pg_class t ON t.relname = c.relname AND t.relnamespace = 'public'::regnamespace AND t.relkind IN ('r', 'p')
  JOIN pg_attribute live ON live.attrelid = t.oid AND live.attnum > 0 AND NOT live.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = t.oid AND d.adnum = live.attnum
 WHERE c.relnamespace = %s::regnamespace AND c.relkind = 'r'
   AND NOT EXISTS (
       SELECT FROM pg_attribute kept WHERE kept.attrelid = c.oid AND kept.attname = live.attname AND NOT kept.attisdropped)
 ORDER BY c.relname, live.attnum
"""
# How long archive_columns_align waits for an archive table's lock (a pg_dump or a read holding it) before giving up.
ALIGN_LOCK_SECONDS = 5
# PostgreSQL's lock_not_available: the lock_timeout ran out.
LOCK_NOT_AVAILABLE = "55P03"

logger = logging.getLogger(__name__)


class ArchiveColumnsMissing(RuntimeError):
    """An archive schema lacks columns of the live tables and they could not be added now (its table locked):
    `manage.py migrate` (or archive_year) adds them."""

    def __init__(self, schema: str, columns: list[str]):
        self.schema = schema
        super().__init__(
            f"{schema} no tiene las columnas {', '.join(columns)} de las tablas en uso y no se pudieron agregar "
            "ahora (su tabla estaba bloqueada, por ejemplo por un pg_dump): ejecute manage.py migrate (las agrega) "
            "y repita."
        )


class PendingErasuresBlocked(RuntimeError):
    """Pending erasures (PendingErasure) cannot be recorded or applied safely now; the message names why and the fix.
    Nothing was erased."""


@dataclass(frozen=True)
class ArchivedYearPlace:
    year: int
    schema: str
    dump: str
    in_database: bool


def archived_years() -> list[ArchivedYearPlace]:
    """Every archived year, oldest first, and whether its schema is still in the database."""
    archives = list(YearArchive.objects.order_by("year"))
    if not archives:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)", [[archive.schema for archive in archives]]
        )
        present = {name for (name,) in cursor.fetchall()}
    return [ArchivedYearPlace(a.year, a.schema, a.dump, a.schema in present) for a in archives]


@contextmanager
def archive_search_path(schema: str, *, alone: bool = False):
    """Within it, the tables of `schema` answer for the live ones of the same name (the rest stay the live ones):
    the archive's rows are read and written by the same queries. With `alone`, `schema` and pg_catalog only: a table
    the schema lacks raises instead of resolving to the live one (pending erasures). A savepoint: on an error the search_path is back
    with its rollback. Runs no DDL: a schema still lacking a live column (archive_schemas_prepare could not add it)
    raises ArchiveColumnsMissing."""
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(MISSING_COLUMNS_SQL, [schema])
        missing = cursor.fetchall()
        if missing:
            raise ArchiveColumnsMissing(schema, [f"{t}.{c}" for t, c, *_ in missing])
        cursor.execute("SELECT current_setting('search_path')")
        previous = cursor.fetchone()[0]
        path = f"{quote(schema)}, pg_catalog" if alone else f"{quote(schema)}, {previous}"
        cursor.execute("SELECT set_config('search_path', %s, true)", [path])
        yield
        cursor.execute("SELECT set_config('search_path', %s, true)", [previous])


def archive_columns_align(schema: str) -> list[str]:
    """Add to `schema`'s tables the live tables' columns they lack (type and default as the live column's), each
    ADD COLUMN IF NOT EXISTS (another session may be adding it too), waiting ALIGN_LOCK_SECONDS at most for its
    table; returns "table.column" for each added. Never within a read (archive_search_path)."""
    quote = connection.ops.quote_name
    added = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{ALIGN_LOCK_SECONDS}s"])
        cursor.execute(MISSING_COLUMNS_SQL, [schema])
        for table, column, column_type, default in cursor.fetchall():
            default_clause = f" DEFAULT {default}" if default else ""
            cursor.execute(
                f"ALTER TABLE {quote(schema)}.{quote(table)} ADD COLUMN IF NOT EXISTS {quote(column)} "
                f"{column_type}{default_clause}"
            )
            added.append(f"{table}.{column}")
    return added


def archive_columns_try_align(schema: str) -> bool:
    """archive_columns_align, in its own transaction; False, with a warning naming the schema and the fix, when a
    table of it stayed locked ALIGN_LOCK_SECONDS (a pg_dump, a backup, a long read holding it)."""
    try:
        archive_columns_align(schema)
    except OperationalError as exc:
        if getattr(exc.__cause__, "pgcode", None) != LOCK_NOT_AVAILABLE:
            raise
        logger.warning(
            "archive schema %s not aligned with the live tables' columns: a table of it stayed locked %s s (a "
            "pg_dump or a backup?); run manage.py migrate again once it is free",
            schema,
            ALIGN_LOCK_SECONDS,
        )
        return False
    return True


def archive_schemas_prepare() -> None:
    """Before an export or an erasure reads the archive schemas, outside any transaction: each one in the database
    that lacks a column of the live tables (restored from an older dump, or its post_migrate alignment failed) gets
    it, in its own short transaction. One that cannot (its table locked) is left, and archive_search_path refuses
    that schema alone. Inside a transaction (an erasure within a larger one) it does nothing: its caller prepared."""
    if connection.in_atomic_block:
        return
    for archive in archived_years():
        if archive.in_database:
            with connection.cursor() as cursor:
                cursor.execute(MISSING_COLUMNS_SQL, [archive.schema])
                missing = cursor.fetchone() is not None
            if missing:
                archive_columns_try_align(archive.schema)


def archive_schemas_align(**kwargs) -> None:
    """post_migrate: every archive schema in the database gets the columns a migration added to the live tables.
    One whose table stays locked (a backup's pg_dump) is left with a warning: migrate does not fail for it, its
    migrations being committed, and an export or erasure tries again first (archive_schemas_prepare)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('reports_yeararchive') IS NOT NULL")
        if not cursor.fetchone()[0]:  # migrated back before the archive existed
            return
        cursor.execute("SELECT schema FROM reports_yeararchive WHERE to_regnamespace(schema) IS NOT NULL ORDER BY year")
        schemas = [schema for (schema,) in cursor.fetchall()]
    for schema in schemas:
        archive_columns_try_align(schema)


def erasure_digest_key(*, create: bool = False) -> bytes | None:
    """The key new pending erasures' digests are made with (the newest ErasureDigestKey, made by migration 0041), or
    None if there is none. Made again only with `create` and no erasure pending (a database flushed by a test, say):
    a new key would leave every pending erasure unrecognisable, so then it refuses, naming the table to restore."""
    key = ErasureDigestKey.objects.order_by("-pk").values_list("key", flat=True).first()
    if key is None and create:
        if PendingErasure.objects.exists():
            raise PendingErasuresBlocked(
                "reports_erasuredigestkey está vacía y hay borrados pendientes (reports_pendingerasure): sin su clave "
                "no se reconocen. Restaure esa fila de un respaldo; no se borró nada."
            )
        key = ErasureDigestKey.objects.get_or_create(pk=1, defaults={"key": secrets.token_hex(32)})[0].key
    return bytes.fromhex(key) if key else None


def erasure_digest_keys() -> dict[str, bytes]:
    """Every ErasureDigestKey, by its fingerprint (key_fingerprint): the one each PendingErasure names."""
    keys = [bytes.fromhex(key) for key in ErasureDigestKey.objects.values_list("key", flat=True)]
    return {key_fingerprint(key): key for key in keys}


def key_fingerprint(key: bytes) -> str:
    """Names a digest key without revealing it (SHA-256 of the random key, shortened): a PendingErasure says by it
    which key made its digest, so that a key replaced by another is noticed instead of matching nobody."""
    return hashlib.sha256(key).hexdigest()[:16]


def person_digest(key: bytes, *, email: str = "", phone: str = "") -> str:
    """A pending erasure's name for one person: HMAC-SHA256 under erasure_digest_key of their e-mail or number, each
    already normalised (selectors.email_key, selectors.phone_key), so that every way of writing it is one digest."""
    identity = f"email:{email}" if email else f"phone:{phone}"
    return hmac.new(key, identity.encode(), hashlib.sha256).hexdigest()
