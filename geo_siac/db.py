"""Database session helpers shared by every app."""

from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction
from django.db.models.sql import InsertQuery


def unique_row(queryset):
    """The one row of a lookup by a unique key, or None. `first()` would sort by the model's ordering (for a
    category, a join on its group) and Django builds that ORDER BY on every call: 0.34 -> 0.21 ms of CPU per
    category lookup, on every report submission."""
    found = list(queryset.order_by()[:1])
    return found[0] if found else None


@contextmanager
def parallel_query():
    """Let PostgreSQL use parallel workers for the queries of this block (settings.GEO_SIAC_PARALLEL_WORKERS per
    query). Application sessions start with parallel query off (settings.PG_SESSION_OPTIONS): it suits the few
    analytical reads over millions of rows (an unfiltered res-10 heat map of 10M reports: 622 ms without, 416 ms
    with) and costs everyone else CPU when many small requests run at once. The block runs in a transaction (a
    savepoint inside another one); the setting is put back when it ends, and rolled back with it when it fails."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        previous = int(cursor.fetchone()[0])
        cursor.execute(f"SET LOCAL max_parallel_workers_per_gather = {int(settings.GEO_SIAC_PARALLEL_WORKERS)}")
        yield
        cursor.execute(f"SET LOCAL max_parallel_workers_per_gather = {previous}")


def insert_sql(obj) -> tuple[str, tuple]:
    """The INSERT `obj.save(force_insert=True)` would send, without RETURNING, to be embedded in a larger statement:
    the columns and values come from the model's own fields (defaults, pre_save, geometry and JSON adapters)
    through Django's compiler, as save() does."""
    meta = obj._meta
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field and not f.generated]
    query = InsertQuery(type(obj))
    query.insert_values(fields, [obj])
    [(sql, params)] = query.get_compiler(connection=connection).as_sql()
    return sql, params


def typed_values(objs, fields) -> tuple[str, list]:
    """`VALUES` rows for these objects' fields, each value cast to its column's type (a NULL in VALUES has no type
    of its own), for an `INSERT ... SELECT` that takes other columns from elsewhere in the statement."""
    casts = [f"%s::{field.cast_db_type(connection)}" for field in fields]
    row = f"({', '.join(casts)})"
    params = [field.get_db_prep_save(field.pre_save(obj, add=True), connection) for obj in objs for field in fields]
    return ", ".join([row] * len(objs)), params
