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
it queues behind any running read of the reports and everything queues behind it; so it is tried with a short
lock_timeout and again after a pause, and the migration stops with a message if it never gets the lock (run it
again: every step is re-runnable). Not atomic: a run stopped half way is finished by `migrate` again (IF NOT EXISTS
everywhere; a partition's index left invalid by a failed CONCURRENTLY build is dropped and built again).

Only the plain index is dropped in the database: Django's AlterField would also drop and re-add the comuna's foreign
key, which checks every report again; the state (SeparateDatabaseAndState) is the index and db_index=False."""

import time

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
# The DROP of a partitioned index: how long it may wait for its lock each time, and how many times.
DROP_LOCK_TIMEOUT = "3s"
DROP_ATTEMPTS = 10
DROP_PAUSE_SECONDS = 2

COMMUNE = models.ForeignKey(
    db_index=False,
    on_delete=django.db.models.deletion.PROTECT,
    related_name="reports",
    to="zones.commune",
    verbose_name="comuna",
)


def partitioned_index_create(cursor, name: str, columns: str) -> None:
    """`name` on TABLE `columns`, built partition by partition CONCURRENTLY and attached; re-runnable."""
    cursor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON ONLY "{TABLE}" {columns}')
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
        cursor.execute(f'ALTER INDEX "{name}" ATTACH PARTITION "{child}"')
    cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = %s::regclass", [name])
    if not cursor.fetchone()[0]:
        raise RuntimeError(
            f"{name} quedó inválido: una partición de {TABLE} no tiene su índice; ejecute migrate otra vez."
        )


def partitioned_index_drop(cursor, name: str) -> None:
    """DROP INDEX of a partitioned index (no CONCURRENTLY): a brief ACCESS EXCLUSIVE on the table and its partitions,
    asked with a short lock_timeout and again after a pause, so that it never holds submissions up for longer."""
    for attempt in range(1, DROP_ATTEMPTS + 1):
        try:
            cursor.execute("BEGIN")
            cursor.execute(f"SET LOCAL lock_timeout = '{DROP_LOCK_TIMEOUT}'")
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
            cursor.execute("COMMIT")
            return
        except Exception as exc:
            cursor.execute("ROLLBACK")
            if getattr(exc.__cause__, "pgcode", None) != "55P03" or attempt == DROP_ATTEMPTS:  # lock_not_available
                raise
            time.sleep(DROP_PAUSE_SECONDS)


def forwards(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        partitioned_index_create(cursor, NEW, NEW_COLUMNS)
        partitioned_index_drop(cursor, OLD)


def backwards(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        partitioned_index_create(cursor, OLD, OLD_COLUMNS)
        partitioned_index_drop(cursor, NEW)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("reports", "0041_pending_erasures"),
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
