"""Bulk mode, as PostgreSQL's "Populating a Database" advises: into an empty table (or with bulk=True) the
non-unique indexes and the foreign keys of the report tables are dropped first and rebuilt once at the end, which is
several times cheaper than maintaining them row by row. The unique indexes stay, so restarting never duplicates.
The counts that triggers keep over the reports (maps' cell counts) are recounted once at the end too: each one that
can wait provides a function `<name>_counts_recount()`, and its insert trigger adds nothing in a transaction that
set geo_siac.counts_deferred. What was dropped or left to recount is recorded in SuspendedSchemaObject, so a crashed
import's indexes and recounts are put back by the next import or by `import_reports --restore-schema`."""

import threading
from contextlib import contextmanager

from django.db import connection, transaction

from geo_siac.reports.importers.results import ImportFileError
from geo_siac.reports.models import Report, ReportEvent, ReportKey, SuspendedSchemaObject

BULK_TABLES = (Report._meta.db_table, ReportEvent._meta.db_table, ReportKey._meta.db_table)
# Partial indexes stay, but for these: the others are small (the open ones hold the open reports, 2% of the 1M
# bench, the rest almost none of an import's; 1.7 MB at most at 1M) and some predicates do not survive
# pg_get_indexdef's round trip textually unchanged. report_public_cell gets an entry for every report the import's
# placing UPDATE places (80 MB at 1M, docs/performance.md), and round-trips.
SUSPENDED_PARTIAL_INDEXES = ("report_public_cell",)
# pg_advisory_lock key: one import at a time (two bulk imports would drop each other's indexes).
IMPORT_LOCK_KEY = 4_711_311
# A partitioned table's index reads "ON ONLY table", which would rebuild the parent's index without its partitions':
# without ONLY it is built on every partition (the events table is partitioned, reports.partitions).
SECONDARY_INDEXES_SQL = """
SELECT t.relname, i.relname, replace(pg_get_indexdef(i.oid), ' ON ONLY ', ' ON ')
  FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
 WHERE x.indrelid = ANY(%s::regclass[]) AND NOT x.indisunique AND (x.indpred IS NULL OR i.relname = ANY(%s))
 ORDER BY t.relname, i.relname
"""
# The recount functions of the counts kept by triggers (maps' migration 0004), found by their name, not imported: the
# counts are a layer above the reports.
RECOUNT_FUNCTIONS_SQL = r"""
SELECT p.proname FROM pg_proc p WHERE p.proname LIKE '%\_counts\_recount' AND p.pronargs = 0
   AND p.pronamespace = 'public'::regnamespace ORDER BY 1
"""
# conparentid = 0: a key to a partitioned table has a hidden copy per partition, dropped with the key itself.
FOREIGN_KEYS_SQL = """
SELECT t.relname, c.conname, pg_get_constraintdef(c.oid)
  FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
 WHERE c.contype = 'f' AND c.conrelid = ANY(%s::regclass[]) AND c.conparentid = 0
 ORDER BY t.relname, c.conname
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


def suspend_secondary_schema() -> int:
    """Drop the non-unique indexes and the foreign keys of the report tables, recording each definition first
    (in the same transaction) so restore_suspended can rebuild it, and record the recounts of the counts kept by
    triggers (counts_deferred). Returns how many objects it recorded, dropped or to recount."""
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        # Dropping a foreign key alters the referenced table too, which PostgreSQL refuses while checks deferred
        # by earlier writes of an enclosing transaction are pending: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(SECONDARY_INDEXES_SQL, [list(BULK_TABLES), list(SUSPENDED_PARTIAL_INDEXES)])
        indexes = cursor.fetchall()
        cursor.execute(FOREIGN_KEYS_SQL, [list(BULK_TABLES)])
        keys = cursor.fetchall()
        cursor.execute(RECOUNT_FUNCTIONS_SQL)
        recounts = [name for (name,) in cursor.fetchall()]
        SuspendedSchemaObject.objects.bulk_create(
            [
                SuspendedSchemaObject(table=t, name=n, kind=SuspendedSchemaObject.Kind.INDEX, definition=d)
                for t, n, d in indexes
            ]
            + [
                SuspendedSchemaObject(table=t, name=n, kind=SuspendedSchemaObject.Kind.FOREIGN_KEY, definition=d)
                for t, n, d in keys
            ]
            + [
                SuspendedSchemaObject(
                    table=Report._meta.db_table,
                    name=name,
                    kind=SuspendedSchemaObject.Kind.RECOUNT,
                    definition=f"SELECT {quote(name)}()",
                )
                for name in recounts
            ],
            ignore_conflicts=True,
        )
        for table, name, _definition in keys:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for _table, name, _definition in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    return len(indexes) + len(keys) + len(recounts)


def counts_deferred() -> bool:
    """Whether the import's chunks may leave the counts kept by triggers to the recounts recorded: only when every
    such count has its recount waiting (suspend_secondary_schema)."""
    with connection.cursor() as cursor:
        cursor.execute(RECOUNT_FUNCTIONS_SQL)
        recounts = {name for (name,) in cursor.fetchall()}
    recorded = SuspendedSchemaObject.objects.filter(kind=SuspendedSchemaObject.Kind.RECOUNT, name__in=recounts)
    return bool(recounts) and recorded.count() == len(recounts)


def restore_suspended() -> list[str]:
    """Rebuild every suspended index, run every recount, then re-add every suspended foreign key (validated in
    one pass each).
    Each object in its own transaction, so one that cannot come back (a row referencing a deleted category,
    say) does not hold back the others; its error names it and it stays recorded, as does an object of a kind this
    code does not know. Returns the names restored.

    In autocommit outside a transaction two connections share the indexes: a second connection starts with the
    GiST indexes, which PostgreSQL builds without parallel workers, and the recounts (they read the reports in SHARE
    mode, as the index builds do, and hold other writers back until they commit), then, like this one, takes the
    B-tree of the largest table left; inside a transaction, the second connection would wait on this one's locks of
    the dropped indexes, so this connection takes everything, largest table first, and a recount may run before the
    key table's indexes (harmless: it reads only the reports). Whatever the second connection could not do (it
    could not connect, say) is tried once more on this connection after. The foreign keys come last, on this
    connection: each locks the reports against the others (PostgreSQL 15 cannot add one NOT VALID to a partitioned
    table and validate it apart)."""
    restored = []
    pending = sorted(SuspendedSchemaObject.objects.all(), key=lambda o: (o.kind != o.Kind.INDEX, o.table, o.name))
    indexes = [o for o in pending if o.kind == o.Kind.INDEX]
    recounts = [o for o in pending if o.kind == o.Kind.RECOUNT]
    two_connections = not connection.in_atomic_block and connection.get_autocommit()
    beside = [o for o in indexes if " USING gist " in o.definition] + recounts if two_connections else []
    shared = largest_table_first([o for o in indexes + recounts if o not in beside])
    taking = threading.Lock()
    failed_beside = []

    def take() -> SuspendedSchemaObject | None:
        with taking:
            return shared.pop(0) if shared else None

    def restore(items) -> list[tuple[SuspendedSchemaObject, Exception]]:
        failed = []
        for item in items:
            try:
                restore_one(item)
            except Exception as exc:  # noqa: BLE001 - reported with the object's name below
                failed.append((item, exc))
                continue
            restored.append(item.name)
        return failed

    def restore_beside() -> None:
        try:
            failed_beside.extend(restore(beside))
            failed_beside.extend(restore(iter(take, None)))
        finally:
            connection.close()  # this thread's own connection

    worker = threading.Thread(target=restore_beside, name="import-restore-beside", daemon=True)
    if beside:
        worker.start()
    try:
        failed = restore(iter(take, None))
    finally:
        if beside:
            worker.join()
    failed += restore([item for item, _exc in failed_beside])
    failed += restore([o for o in pending if o not in indexes + recounts])  # the keys; restore_one refuses the rest
    if failed:
        raise ImportFileError(
            "No se pudieron reconstruir: " + "; ".join(f"{item}: {exc}".strip() for item, exc in failed)
        )
    return restored


def largest_table_first(items: list[SuspendedSchemaObject]) -> list[SuspendedSchemaObject]:
    """The indexes of the largest tables first (every partition counted), so that the two connections end together."""
    with connection.cursor() as cursor:
        sizes = {}
        for table in {o.table for o in items}:
            # pg_partition_tree lists nothing for a table without partitions (the keys'): its own size counts.
            cursor.execute(
                "SELECT coalesce(sum(pg_relation_size(relid)), pg_relation_size(to_regclass(%s)), 0) "
                "FROM pg_partition_tree(to_regclass(%s))",
                [table, table],
            )
            sizes[table] = cursor.fetchone()[0]
    return sorted(items, key=lambda o: -sizes[o.table])


def restore_one(item: SuspendedSchemaObject) -> None:
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem TO '256MB'")
        if item.kind == item.Kind.INDEX:
            cursor.execute(item.definition.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))
        elif item.kind == item.Kind.RECOUNT:
            cursor.execute(item.definition)
        elif item.kind == item.Kind.FOREIGN_KEY:
            cursor.execute(
                "SELECT 1 FROM pg_constraint WHERE conname = %s AND conrelid = %s::regclass", [item.name, item.table]
            )
            if cursor.fetchone() is None:
                cursor.execute(f"ALTER TABLE {quote(item.table)} ADD CONSTRAINT {quote(item.name)} {item.definition}")
        else:  # recorded by another version of the importer: not guessed at, and left recorded
            raise ImportFileError(f"tipo «{item.kind}» desconocido, no se sabe reconstruir")
        item.delete()
