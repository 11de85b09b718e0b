"""What the archive schemas of archived years (reports.archive) still hold, for the citizen's rights of access and
erasure (Ley 19.628 / 21.719): each `archive_y<YEAR>` schema has the live tables' names, so the same queries read
and redact it with the schema first in the search_path. A year whose schema was dropped after its dump is out of
reach: it is listed, so that the caller says so."""

from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction

from geo_siac.reports.models import YearArchive

# The archive's copy of a live table, column by column: what a model reads that the copy lacks (a column added to
# the live table after the year was archived) is added, empty, so that the same query runs on both.
MISSING_COLUMNS_SQL = """
SELECT live.attname, format_type(live.atttypid, live.atttypmod)
  FROM pg_attribute live
 WHERE live.attrelid = %(live)s::regclass AND live.attnum > 0 AND NOT live.attisdropped
   AND NOT EXISTS (
       SELECT FROM pg_attribute kept
        WHERE kept.attrelid = %(kept)s::regclass AND kept.attname = live.attname AND NOT kept.attisdropped)
"""


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
def archive_search_path(schema: str):
    """Within it, the tables of `schema` answer for the live ones of the same name (the rest stay the live ones):
    the archive's rows are read and written by the same queries. A savepoint: on an error the search_path is back
    with its rollback."""
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('search_path')")
        previous = cursor.fetchone()[0]
        archive_columns_align(cursor, schema)
        cursor.execute("SELECT set_config('search_path', %s, true)", [f"{quote(schema)}, {previous}"])
        yield
        cursor.execute("SELECT set_config('search_path', %s, true)", [previous])


def archive_columns_align(cursor, schema: str) -> None:
    quote = connection.ops.quote_name
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_class live ON live.relname = c.relname "
        "AND live.relnamespace = 'public'::regnamespace AND live.relkind IN ('r', 'p') "
        "WHERE c.relnamespace = %s::regnamespace AND c.relkind = 'r'",
        [schema],
    )
    for (table,) in cursor.fetchall():
        kept = f"{quote(schema)}.{quote(table)}"
        cursor.execute(MISSING_COLUMNS_SQL, {"live": f"public.{quote(table)}", "kept": kept})
        for column, column_type in cursor.fetchall():
            cursor.execute(f"ALTER TABLE {kept} ADD COLUMN {quote(column)} {column_type}")
