"""A comuna's reports by date read from one index (docs/maps.md, "Reads by date"): (commune_id, created_at) with the
heat-map columns, in place of the plain commune_id index, so the importer keeps as many indexes as before.

Built without locking submissions out (PostgreSQL's way for a partitioned table, which refuses CONCURRENTLY): the
index is made ON ONLY the parent (invalid, no partition's rows read), then each partition attached to reports_report
(pg_inherits: reports_report_before and every reports_report_y<year>) gets its copy by CREATE INDEX CONCURRENTLY,
attached to the parent's by ALTER INDEX ... ATTACH PARTITION; the parent turns valid when its last partition's is
attached. A partition created afterwards (add_year_partitions, migrate, a first request of a year) gets the index
from the parent by itself. An archived year's table (archive_y<year>) is no longer a partition and is not read by
the maps: it keeps the indexes it had.

The plain commune_id index is then dropped: DROP INDEX of a partitioned index cannot be CONCURRENTLY and takes an
ACCESS EXCLUSIVE lock on reports_report and every partition for the time of a catalogue change (milliseconds), but
it queues behind any running read of the reports and everything queues behind it. The same holds for the two other
catalogue changes: CREATE INDEX ... ON ONLY takes a SHARE lock on reports_report (it waits for a write in progress,
and new reports wait behind it), ALTER INDEX ... ATTACH PARTITION an ACCESS EXCLUSIVE lock on the partition's new
index (it waits for a read of the partition, and new reports of the partition wait behind it). So each of the three
runs in a short transaction with a short lock_timeout, tried again after a pause, and the migration stops with a
message if it never gets the lock (run it again: every step is re-runnable). Not atomic: a run stopped half way is
finished by `migrate` again (IF NOT EXISTS everywhere; a partition's index left invalid by a failed CONCURRENTLY
build is dropped and built again).

A bulk import drops the reports' indexes and records them to rebuild them at its end (importers.bulk_mode): the
migration holds the import's lock (IMPORT_LOCK_KEY) throughout and stops with a message while an import runs, and
takes off the record of the index it drops (a crashed import's record would rebuild it) and of the one it builds.

Only the plain index is dropped in the database: Django's AlterField would also drop and re-add the comuna's foreign
key, which checks every report again; the state (SeparateDatabaseAndState) is the index and db_index=False."""

import time
from contextlib import contextmanager

import django.db.models.deletion
from django.db import migrations, models

TABLE = "reports_report"
NEW = "report_heatmap_commune"
NEW_COLUMNS = (
    '("commune_id", "created_at") INCLUDE ("category_id", "status", "channel", "h3_res6", "h3_res7", "h3_res8", '
    '"h3_res9", "h3_res10")'
)
OLD = "reports_report_commune_id_babfa675"
OLD_COLUMNS = '("commune_id")'
# A catalogue change (ON ONLY, ATTACH PARTITION, DROP): how long it may hold reports up waiting for its lock each
# time, how many times it is tried, and the pause between.
LOCK_TIMEOUT = "2s"
LOCK_ATTEMPTS = 10
LOCK_PAUSE_SECONDS = 2
# importers.bulk_mode.IMPORT_LOCK_KEY, written out: a migration does not follow the code (a test checks they agree).
IMPORT_LOCK_KEY = 4_711_311

COMMUNE = models.ForeignKey(
    db_index=False,
    on_delete=django.db.models.deletion.PROTECT,
    related_name="reports",
    to="zones.commune",
    verbose_name="comuna",
)


def partitioned_index_create(cursor, name: str, columns: str) -> None:
    """`name` on TABLE `columns`, built partition by partition CONCURRENTLY and attached; re-runnable."""
    under_lock_timeout(cursor, f'CREATE INDEX IF NOT EXISTS "{name}" ON ONLY "{TABLE}" {columns}')
    cursor.execute(
        "SELECT p.inhrelid::regclass::text FROM pg_inherits p WHERE p.inhparent = %s::regclass "
        "AND NOT EXISTS (SELECT FROM pg_index x JOIN pg_inherits i ON i.inhrelid = x.indexrelid "
        "WHERE x.indrelid = p.inhrelid AND i.inhparent = %s::regclass) ORDER BY 1",
        [TABLE, name],
    )
    for (partition,) in cursor.fetchall():
        child = f"{partition}_{name.removeprefix('report_')}"[:63]
        cursor.execute(
            "SELECT x.indisvalid FROM pg_index x WHERE x.indexrelid = to_regclass(%s) AND x.indrelid = %s::regclass",
            [child, partition],
        )
        row = cursor.fetchone()
        if row is not None and not row[0]:  # left by a CONCURRENTLY build that failed: no use, built again
            cursor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{child}"')
        cursor.execute(f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{child}" ON "{partition}" {columns}')
        under_lock_timeout(cursor, f'ALTER INDEX "{name}" ATTACH PARTITION "{child}"')
    cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = %s::regclass", [name])
    if not cursor.fetchone()[0]:
        raise RuntimeError(
            f"{name} quedó inválido: una partición de {TABLE} no tiene su índice; ejecute migrate otra vez."
        )


def under_lock_timeout(cursor, statement: str) -> None:
    """`statement`, a catalogue change that locks what reports are written to, in a transaction of its own with a
    short lock_timeout, tried again after a pause: it never holds submissions up for longer than LOCK_TIMEOUT."""
    for attempt in range(1, LOCK_ATTEMPTS + 1):
        try:
            cursor.execute("BEGIN")
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            cursor.execute(statement)
            cursor.execute("COMMIT")
            return
        except Exception as exc:
            cursor.execute("ROLLBACK")
            if getattr(exc.__cause__, "pgcode", None) != "55P03":  # lock_not_available
                raise
            if attempt == LOCK_ATTEMPTS:
                raise RuntimeError(
                    f"{statement}: no obtuvo su bloqueo en {LOCK_ATTEMPTS} intentos de {LOCK_TIMEOUT} (lecturas o "
                    f"escrituras de {TABLE} en curso); ejecute migrate otra vez."
                ) from exc
            time.sleep(LOCK_PAUSE_SECONDS)


def partitioned_index_drop(cursor, name: str) -> None:
    """DROP INDEX of a partitioned index (no CONCURRENTLY): a brief ACCESS EXCLUSIVE on the table and its partitions."""
    under_lock_timeout(cursor, f'DROP INDEX IF EXISTS "{name}"')


@contextmanager
def import_lock(cursor):
    """The bulk import's lock, held by this session for the migration: no import drops or rebuilds the reports'
    indexes meanwhile (nor does archive_year, which takes it too)."""
    cursor.execute("SELECT pg_try_advisory_lock(%s)", [IMPORT_LOCK_KEY])
    if not cursor.fetchone()[0]:
        raise RuntimeError(
            "Una importación de solicitudes (o el archivo de un año) está en curso en esta base de datos; "
            "ejecute migrate cuando termine."
        )
    try:
        yield
    finally:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [IMPORT_LOCK_KEY])


def replace_index(apps, schema_editor, build: tuple[str, str], drop: str) -> None:
    """Build the index `build` (name, columns), drop `drop`, and take both off the records of a crashed import:
    restoring the dropped one would build it again."""
    suspended = apps.get_model("reports", "SuspendedSchemaObject")
    with schema_editor.connection.cursor() as cursor, import_lock(cursor):
        partitioned_index_create(cursor, *build)
        partitioned_index_drop(cursor, drop)
        suspended.objects.filter(table=TABLE, name__in=[build[0], drop]).delete()


def forwards(apps, schema_editor):
    replace_index(apps, schema_editor, (NEW, NEW_COLUMNS), OLD)


def backwards(apps, schema_editor):
    replace_index(apps, schema_editor, (OLD, OLD_COLUMNS), NEW)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("reports", "0042_suspended_recount_of_counts"),
        ("zones", "0015_identity_logo_label"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="report",
                    index=models.Index(
                        fields=["commune", "created_at"],
                        include=(
                            "category",
                            "status",
                            "channel",
                            "h3_res6",
                            "h3_res7",
                            "h3_res8",
                            "h3_res9",
                            "h3_res10",
                        ),
                        name=NEW,
                    ),
                ),
                migrations.AlterField(model_name="report", name="commune", field=COMMUNE),
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
