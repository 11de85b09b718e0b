"""Bulk mode, as PostgreSQL's "Populating a Database" advises: into an empty table (or with bulk=True) the
non-unique indexes and the foreign keys of the report tables are dropped first and rebuilt once at the end, which is
several times cheaper than maintaining them row by row. Into an empty report table the keys' primary key
(models.ReportKey: source ids and tracking codes) goes too, and comes back after one pass that removes the rows
imported twice and redraws the tracking codes drawn twice (keys_deduplicate), so a restart still never
duplicates. What was dropped is recorded in SuspendedSchemaObject, so a crashed import's indexes are put back, with
that pass, by the next import or by `import_reports --restore-schema`."""

import threading
from contextlib import contextmanager

from django.db import IntegrityError, connection, transaction

from geo_siac.reports.importers.results import ImportFileError
from geo_siac.reports.models import YEAR_ID_BASE, Report, ReportEvent, ReportKey, SuspendedSchemaObject
from geo_siac.reports.tracking import tracking_codes

# Partial indexes stay: they are cheap (the open-deadline index holds only
# open reports) and their predicate does not survive pg_get_indexdef's round trip textually unchanged.
BULK_TABLES = (Report._meta.db_table, ReportEvent._meta.db_table, ReportKey._meta.db_table)
# pg_advisory_lock key: one import at a time (two bulk imports would drop each other's indexes).
IMPORT_LOCK_KEY = 4_711_311
# A partitioned table's index reads "ON ONLY table", which would rebuild the parent's index without its partitions':
# without ONLY it is built on every partition (the events table is partitioned, reports.partitions).
SECONDARY_INDEXES_SQL = """
SELECT t.relname, i.relname, replace(pg_get_indexdef(i.oid), ' ON ONLY ', ' ON ')
  FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
 WHERE x.indrelid = ANY(%s::regclass[]) AND NOT x.indisunique AND x.indpred IS NULL
 ORDER BY t.relname, i.relname
"""
# conparentid = 0: a key to a partitioned table has a hidden copy per partition, dropped with the key itself.
FOREIGN_KEYS_SQL = """
SELECT t.relname, c.conname, pg_get_constraintdef(c.oid)
  FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
 WHERE c.contype = 'f' AND c.conrelid = ANY(%s::regclass[]) AND c.conparentid = 0
 ORDER BY t.relname, c.conname
"""
UNIQUE = "CREATE UNIQUE INDEX "
# The keys' primary key, suspended as an index (its definition a unique index) and put back as the primary key.
KEYS_PRIMARY_KEY_SQL = """
SELECT c.conname, pg_get_indexdef(c.conindid) FROM pg_constraint c WHERE c.contype = 'p' AND c.conrelid = %s::regclass
"""


@contextmanager
def import_lock():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [IMPORT_LOCK_KEY])
        if not cursor.fetchone()[0]:
            raise ImportFileError("Otra importación está en curso en esta base de datos; espere a que termine.")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [IMPORT_LOCK_KEY])


def suspend_secondary_schema(*, unique_keys: bool = False) -> int:
    """Drop the non-unique indexes and the foreign keys of the report tables, and with `unique_keys` the keys'
    primary key, recording each definition first (in the same transaction) so restore_suspended can rebuild it.
    Returns how many were dropped."""
    quote = connection.ops.quote_name
    keys_table = ReportKey._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        # Dropping a foreign key alters the referenced table too, which PostgreSQL refuses while checks deferred
        # by earlier writes of an enclosing transaction are pending: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(SECONDARY_INDEXES_SQL, [list(BULK_TABLES)])
        indexes = cursor.fetchall()
        cursor.execute(FOREIGN_KEYS_SQL, [list(BULK_TABLES)])
        keys = cursor.fetchall()
        cursor.execute(KEYS_PRIMARY_KEY_SQL, [keys_table])
        primary = [(keys_table, name, definition) for name, definition in cursor.fetchall()] if unique_keys else []
        SuspendedSchemaObject.objects.bulk_create(
            [
                SuspendedSchemaObject(table=t, name=n, kind=SuspendedSchemaObject.Kind.INDEX, definition=d)
                for t, n, d in indexes + primary
            ]
            + [
                SuspendedSchemaObject(table=t, name=n, kind=SuspendedSchemaObject.Kind.FOREIGN_KEY, definition=d)
                for t, n, d in keys
            ],
            ignore_conflicts=True,
        )
        for table, name, _definition in keys + primary:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for _table, name, _definition in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    return len(indexes) + len(keys) + len(primary)


def keys_unchecked() -> bool:
    """Whether the keys' primary key is suspended: rows are then written without claiming their keys first."""
    return SuspendedSchemaObject.objects.filter(table=ReportKey._meta.db_table, definition__startswith=UNIQUE).exists()


def restore_suspended() -> tuple[list[str], int]:
    """Rebuild every suspended index, then re-add every suspended foreign key (validated in one pass each).
    Each object in its own transaction, so one that cannot come back (a row referencing a deleted category,
    say) does not hold back the others; its error names it and it stays recorded. Returns the names restored and
    how many reports keys_deduplicate removed (imported twice while the keys' primary key was suspended).

    Outside a transaction the GiST indexes, which PostgreSQL builds without parallel workers, are built on a
    second connection while this one builds the others."""
    restored, failed, removed = [], [], []
    # The keys' primary key last of the indexes: its pass deletes by the report id, through the rebuilt indexes.
    pending = sorted(
        SuspendedSchemaObject.objects.all(),
        key=lambda o: (o.kind != o.Kind.INDEX, o.definition.startswith(UNIQUE), o.table, o.name),
    )
    beside = [o for o in pending if " USING gist " in o.definition] if not connection.in_atomic_block else []

    def restore(items: list[SuspendedSchemaObject]) -> None:
        for item in items:
            try:
                removed.append(restore_one(item))
            except Exception as exc:  # noqa: BLE001 - reported with the object's name below
                failed.append(f"{item}: {exc}".strip())
                continue
            restored.append(item.name)

    def restore_beside() -> None:
        try:
            restore(beside)
        finally:
            connection.close()  # this thread's own connection

    worker = threading.Thread(target=restore_beside, name="import-restore-gist", daemon=True)
    worker.start()
    try:
        restore([o for o in pending if o not in beside and o.kind == o.Kind.INDEX])
    finally:
        worker.join()
    restore([o for o in pending if o.kind != o.Kind.INDEX])
    if failed:
        raise ImportFileError("No se pudieron reconstruir: " + "; ".join(failed))
    return restored, sum(removed)


def restore_one(item: SuspendedSchemaObject) -> int:
    """Put one suspended object back in its own transaction; returns how many reports keys_deduplicate removed."""
    quote = connection.ops.quote_name
    removed = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem TO '256MB'")
        if item.definition.startswith(UNIQUE):
            removed = keys_primary_key_restore(cursor, item)
        elif item.kind == item.Kind.INDEX:
            cursor.execute(item.definition.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))
        else:
            cursor.execute(
                "SELECT 1 FROM pg_constraint WHERE conname = %s AND conrelid = %s::regclass", [item.name, item.table]
            )
            if cursor.fetchone() is None:
                cursor.execute(f"ALTER TABLE {quote(item.table)} ADD CONSTRAINT {quote(item.name)} {item.definition}")
        item.delete()
    return removed


def keys_primary_key_restore(cursor, item: SuspendedSchemaObject) -> int:
    """Put the keys' primary key back, after keys_deduplicate where a key repeats; returns how many reports that
    removed. The table is locked against writes first (report_create's too, which waits), so no key can repeat
    between the pass and the index."""
    quote = connection.ops.quote_name
    table, name = quote(item.table), quote(item.name)
    cursor.execute(
        "SELECT 1 FROM pg_constraint WHERE conname = %s AND conrelid = %s::regclass", [item.name, item.table]
    )
    if cursor.fetchone() is not None:
        return 0
    cursor.execute(f"LOCK TABLE {table} IN SHARE MODE")
    cursor.execute("SET LOCAL work_mem TO '256MB'")  # the keys counted in memory: with 4 MB they spill to disk
    removed = 0
    for _round in range(10):
        # Built first, the index finds whether any key repeats without a pass of its own (most imports repeat none),
        # and built again after each pass, it checks the codes that pass drew.
        try:
            with transaction.atomic():
                cursor.execute(item.definition.replace(UNIQUE, UNIQUE + "IF NOT EXISTS ", 1))
        except IntegrityError:
            removed += keys_deduplicate(cursor)
            continue
        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} PRIMARY KEY USING INDEX {name}")
        return removed
    raise RuntimeError("tracking codes kept colliding; the keys' primary key was not rebuilt")


def keys_deduplicate(cursor) -> int:
    """What the keys' primary key would have refused while it was suspended, sorted out as the claim would have:
    of the reports sharing a source key, the first imported stays (a tombstone of an archived year before any) and
    the others are deleted with their history and keys; of those left sharing a tracking code, the one not imported
    (a citizen holds its code) or else the first keeps it and the others get a new code. Returns how many reports
    were deleted."""
    repeated = keys_repeated(cursor)
    doomed = {report for key, owners in repeated.items() if key.startswith("source:") for report, _ in owners[1:]}
    redrawn = []
    for key, owners in repeated.items():
        left = [report for report, _imported in owners if report not in doomed]
        if key.startswith("code:"):
            redrawn += [(report, key.removeprefix("code:")) for report in left[1:]]
    if doomed:
        reports_delete(cursor, sorted(doomed))
    if redrawn:
        codes_redraw(cursor, redrawn)
    return len(doomed)


def keys_repeated(cursor) -> dict[str, list[tuple[int | None, bool]]]:
    """The keys held more than once, each with its holders in the order the first stays in: (report id, imported).
    The keys are counted alone first (one pass over the table, mostly finding none), the holders looked up after."""
    keys, reports = quote_table(ReportKey), quote_table(Report)
    cursor.execute(f"SELECT key FROM {keys} GROUP BY key HAVING count(*) > 1")
    if not (repeated_keys := [key for (key,) in cursor.fetchall()]):
        return {}
    cursor.execute(
        f"""
        SELECT k.key, k.report_id, r.source <> ''
          FROM {keys} k LEFT JOIN {reports} r ON r.id = k.report_id
         WHERE k.key = ANY(%s)
         ORDER BY k.key, k.report_id IS NOT NULL, r.source <> '', k.report_id %% {YEAR_ID_BASE}
        """,
        [repeated_keys],
    )
    repeated: dict[str, list[tuple[int | None, bool]]] = {}
    for key, report, imported in cursor.fetchall():
        repeated.setdefault(key, []).append((report, imported))
    return repeated


def reports_delete(cursor, ids: list[int]) -> None:
    for model, column in ((ReportEvent, "report_id"), (ReportKey, "report_id"), (Report, "id")):
        cursor.execute(f"DELETE FROM {quote_table(model)} WHERE {column} = ANY(%s)", [ids])


def codes_redraw(cursor, rows: list[tuple[int, str]]) -> None:
    fresh = tracking_codes([code.rsplit("-", 2)[0] for _report, code in rows])
    changes = [(report, old, new) for (report, old), new in zip(rows, fresh, strict=True)]
    cursor.executemany(
        f"UPDATE {quote_table(Report)} SET tracking_code = %s WHERE id = %s", [(new, r) for r, _old, new in changes]
    )
    cursor.executemany(
        f"UPDATE {quote_table(ReportKey)} SET key = %s WHERE key = %s AND report_id = %s",
        [("code:" + new, "code:" + old, r) for r, old, new in changes],
    )


def quote_table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)
