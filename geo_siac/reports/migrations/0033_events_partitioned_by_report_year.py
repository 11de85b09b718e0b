"""reports_reportevent becomes a table partitioned by RANGE (report_id), one partition per year a report id carries
(migration 0032), so that a year's requests and their history can be detached together (docs/deployment.md,
"Partitioned history"). A partitioned table's unique keys must contain report_id: the primary key is (id, report_id)
in the database, ids still come from the one identity sequence, and event photos reference the pair."""

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone

TABLE = "reports_reportevent"
NEW = "reports_reportevent_rebuilt"
YEAR_ID_BASE = 10**11
BEFORE_YEAR = 1000  # reports.partitions.BEFORE_YEAR: ids stored before 0032 live below this year's
PHOTO_KEY = """
ALTER TABLE reports_eventphoto ADD CONSTRAINT reports_eventphoto_event_of_report FOREIGN KEY (event_id, report_id)
    REFERENCES reports_reportevent (id, report_id) DEFERRABLE INITIALLY DEFERRED
"""


def fetch(cursor, sql, params=()):
    cursor.execute(sql, params)
    return cursor.fetchall()


def rebuild(schema_editor, *, partitioned: bool):
    """Copy the events into a new table (partitioned or not) and put it in the old one's place with the same
    indexes, constraints, foreign keys and triggers under the same names. Foreign keys that reference the events
    go with the old table; their owners' migrations make them again (event photos here, webhook deliveries in
    webhooks.0004)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # deferred checks pending would refuse the ALTERs
        indexes = fetch(
            cursor,
            "SELECT replace(pg_get_indexdef(indexrelid), ' ON ONLY ', ' ON ') FROM pg_index "
            "WHERE indrelid = %s::regclass AND NOT indisprimary",
            [TABLE],
        )
        keys = fetch(
            cursor,
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f' AND conparentid = 0",
            [TABLE],
        )
        triggers = fetch(
            cursor,
            "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
            [TABLE],
        )
        key = "id, report_id" if partitioned else "id"
        tail = " PARTITION BY RANGE (report_id)" if partitioned else ""
        cursor.execute(
            f"CREATE TABLE {NEW} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS, "
            f"PRIMARY KEY ({key})){tail}"
        )
        if partitioned:
            cursor.execute(
                f"CREATE TABLE {TABLE}_before PARTITION OF {NEW} FOR VALUES FROM (MINVALUE) TO (%s)",
                [BEFORE_YEAR * YEAR_ID_BASE],
            )
            years = {y for (y,) in fetch(cursor, f"SELECT DISTINCT report_id / %s FROM {TABLE}", [YEAR_ID_BASE])}
            this_year = timezone.localdate().year
            for year in sorted({y for y in years if y >= BEFORE_YEAR} | {this_year, this_year + 1}):
                cursor.execute(
                    f"CREATE TABLE {TABLE}_y{year} PARTITION OF {NEW} FOR VALUES FROM (%s) TO (%s)",
                    [year * YEAR_ID_BASE, (year + 1) * YEAR_ID_BASE],
                )
        cursor.execute(f"INSERT INTO {NEW} SELECT * FROM {TABLE}")
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{NEW}', 'id'), "
            f"GREATEST(nextval(pg_get_serial_sequence('{TABLE}', 'id')), COALESCE(max(id), 0) + 1), false) FROM {NEW}"
        )
        cursor.execute(f"DROP TABLE {TABLE} CASCADE")
        cursor.execute(f"ALTER TABLE {NEW} RENAME TO {TABLE}")
        cursor.execute(f"ALTER TABLE {TABLE} RENAME CONSTRAINT {NEW}_pkey TO {TABLE}_pkey")
        cursor.execute(f"ALTER SEQUENCE {NEW}_id_seq RENAME TO {TABLE}_id_seq")
        for (definition,) in indexes:
            cursor.execute(definition)
        for name, definition in keys:
            cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {definition}")
        for (definition,) in triggers:
            cursor.execute(definition)


def partition(apps, schema_editor):
    rebuild(schema_editor, partitioned=True)
    schema_editor.execute(PHOTO_KEY)


def unpartition(apps, schema_editor):
    schema_editor.execute("ALTER TABLE reports_eventphoto DROP CONSTRAINT reports_eventphoto_event_of_report")
    rebuild(schema_editor, partitioned=False)
    # The webhook deliveries' key to an event, which webhooks.0004's reverse cannot make while events are partitioned.
    schema_editor.execute(
        "DO $$ BEGIN IF to_regclass('webhooks_webhookdelivery') IS NOT NULL THEN "
        "ALTER TABLE webhooks_webhookdelivery ADD CONSTRAINT webhooks_webhookdeli_event_id_48da21e7_fk_reports_r "
        "FOREIGN KEY (event_id) REFERENCES reports_reportevent (id) DEFERRABLE INITIALLY DEFERRED; END IF; END $$"
    )


class Migration(migrations.Migration):
    # After the webhook deliveries' table exists: its key to an event's id alone must be made before, not after.
    dependencies = [("reports", "0032_report_ids_carry_their_year"), ("webhooks", "0003_attempt_error_label")]

    operations = [
        migrations.AddField(
            model_name="eventphoto",
            name="report",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="reports.report",
                verbose_name="solicitud",
            ),
        ),
        migrations.RunSQL(
            "UPDATE reports_eventphoto p SET report_id = e.report_id FROM reports_reportevent e WHERE e.id = p.event_id",
            migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="eventphoto",
            name="report",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="reports.report",
                verbose_name="solicitud",
            ),
        ),
        migrations.AlterField(
            model_name="eventphoto",
            name="event",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="photos",
                to="reports.reportevent",
            ),
        ),
        migrations.RunPython(partition, unpartition),
        # Autovacuum never analyzes a partitioned parent (PostgreSQL 15): without this its planner estimates start
        # from nothing; add_year_partitions analyzes it from then on.
        migrations.RunSQL("ANALYZE reports_reportevent", migrations.RunSQL.noop),
    ]
