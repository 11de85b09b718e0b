"""reports_report becomes a table partitioned by RANGE (id), one partition per year a report id carries (migration
0032), as its events already are (0033): a year's requests and their history can then be detached together
(docs/deployment.md, "Partitioned history"). The primary key is still the id alone, so every foreign key to a report
stays a one-column key; the two unique keys without the id moved to reports_reportkey (0035). Requests stored before
ids carried a year (ids below 10^11) go to reports_report_before, with their events."""

from django.db import migrations
from django.utils import timezone

TABLE = "reports_report"
NEW = "reports_report_rebuilt"
YEAR_ID_BASE = 10**11
BEFORE_YEAR = 1000  # reports.partitions.BEFORE_YEAR


def fetch(cursor, sql, params=()):
    cursor.execute(sql, params)
    return cursor.fetchall()


def rebuild(schema_editor, *, partitioned: bool):
    """Copy the reports into a new table (partitioned or not) and put it in the old one's place with the same
    indexes, checks, defaults, triggers and foreign keys, both those of the reports and those pointing at them (read
    from pg_constraint, so that one added by a later migration is not missed), under the same names."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # deferred checks pending would refuse the ALTERs
        indexes = fetch(
            cursor,
            "SELECT replace(pg_get_indexdef(indexrelid), ' ON ONLY ', ' ON ') FROM pg_index "
            "WHERE indrelid = %s::regclass AND NOT indisprimary",
            [TABLE],
        )
        outgoing = fetch(
            cursor,
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND confrelid <> conrelid AND contype = 'f' AND conparentid = 0",
            [TABLE],
        )
        incoming = fetch(
            cursor,
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE confrelid = %s::regclass AND contype = 'f' AND conparentid = 0 ORDER BY 1, 2",
            [TABLE],
        )
        triggers = fetch(
            cursor,
            "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
            [TABLE],
        )
        for table, name, _definition in incoming:
            cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        tail = " PARTITION BY RANGE (id)" if partitioned else ""
        cursor.execute(
            f"CREATE TABLE {NEW} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS, PRIMARY KEY (id)){tail}"
        )
        if partitioned:
            cursor.execute(
                f"CREATE TABLE {TABLE}_before PARTITION OF {NEW} FOR VALUES FROM (MINVALUE) TO (%s)",
                [BEFORE_YEAR * YEAR_ID_BASE],
            )
            years = {y for (y,) in fetch(cursor, f"SELECT DISTINCT id / %s FROM {TABLE}", [YEAR_ID_BASE])}
            this_year = timezone.localdate().year
            for year in sorted({y for y in years if y >= BEFORE_YEAR} | {this_year, this_year + 1}):
                cursor.execute(
                    f"CREATE TABLE {TABLE}_y{year} PARTITION OF {NEW} FOR VALUES FROM (%s) TO (%s)",
                    [year * YEAR_ID_BASE, (year + 1) * YEAR_ID_BASE],
                )
        cursor.execute(f"INSERT INTO {NEW} SELECT * FROM {TABLE}")
        cursor.execute(f"DROP TABLE {TABLE}")
        cursor.execute(f"ALTER TABLE {NEW} RENAME TO {TABLE}")
        cursor.execute(f"ALTER TABLE {TABLE} RENAME CONSTRAINT {NEW}_pkey TO {TABLE}_pkey")
        for (definition,) in indexes:
            cursor.execute(definition)
        for name, definition in outgoing:
            cursor.execute(f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" {definition}')
        for table, name, definition in incoming:
            cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        for (definition,) in triggers:
            cursor.execute(definition)
        cursor.execute(f"ANALYZE {TABLE}")


def partition(apps, schema_editor):
    rebuild(schema_editor, partitioned=True)


def unpartition(apps, schema_editor):
    rebuild(schema_editor, partitioned=False)


# The text-pattern index Django gives a text primary key (made at the end of 0035, after its operations ran): no
# query of the keys uses LIKE, and every report would pay for it.
DROP_KEY_PATTERN_INDEX = """
DO $$ DECLARE pattern_index text; BEGIN
    FOR pattern_index IN SELECT indexrelid::regclass::text FROM pg_index
         WHERE indrelid = 'reports_reportkey'::regclass AND NOT indisprimary
           AND pg_get_indexdef(indexrelid) LIKE '%pattern_ops%'
    LOOP EXECUTE format('DROP INDEX %I', pattern_index); END LOOP;
END $$
"""


class Migration(migrations.Migration):
    # After every migration that alters a foreign key to a report: a key to a partitioned table has one hidden copy
    # per partition, which Django takes for the key itself and fails to drop (docs/deployment.md).
    dependencies = [
        ("reports", "0035_report_keys_unique_across_partitions"),
        ("alerts", "0006_heads_and_rules_commune_required"),
        ("email_intake", "0002_key_on_message_id_and_sender"),
        ("messaging", "0003_conversation_photos_processed"),
        ("notifications", "0005_whatsapp_medium"),
        ("webhooks", "0004_deliveries_follow_partitioned_events"),
    ]

    operations = [
        migrations.RunSQL(DROP_KEY_PATTERN_INDEX, migrations.RunSQL.noop),
        migrations.RunPython(partition, unpartition),
    ]
