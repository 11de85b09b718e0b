"""Archiving a year keeps its reports_reportkey rows as tombstones (report_id NULL, archived_year set) and records the
year in reports_yeararchive, so that the year is never written again and its tracking codes and source ids are never
reused (docs/deployment.md, "Archiving a year"). Years archived before this migration whose archive_y<YEAR> schema is
still in the database get their tombstones back from the schema's copy of the keys. Going back deletes the tombstones
and the record: refused while an archived year's schema (and so the copy they would come back from) is gone."""

from django.db import migrations, models

# Django's AlterField would drop the foreign key by name and find one hidden copy per partition of the reports
# (migration 0036): the column is made nullable by hand, the key left as it is.
NULLABLE = "ALTER TABLE reports_reportkey ALTER COLUMN report_id DROP NOT NULL"
NOT_NULL = "DELETE FROM reports_reportkey WHERE report_id IS NULL; ALTER TABLE reports_reportkey ALTER COLUMN report_id SET NOT NULL"


def archives_recorded(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname, substr(n.nspname, 10)::int FROM pg_namespace n "
            "WHERE n.nspname ~ '^archive_y[0-9]{4}$' AND to_regclass(quote_ident(n.nspname) || '.reports_reportkey') "
            "IS NOT NULL ORDER BY 1"
        )
        archives = cursor.fetchall()
        for schema, year in archives:
            # Partitions of the year made again after it was archived hold requests written since: recording the year
            # as archived would hide them; the operator decides.
            cursor.execute(
                "SELECT to_regclass(format('public.%%I', 'reports_report_y' || %s)) IS NOT NULL "
                "OR to_regclass(format('public.%%I', 'reports_reportevent_y' || %s)) IS NOT NULL",
                [year, year],
            )
            if cursor.fetchone()[0]:
                raise RuntimeError(
                    f"{year} was archived into the schema {schema}, but its partitions reports_report_y{year} or "
                    f"reports_reportevent_y{year} are attached again in public, with what was written since: move "
                    f"those rows into the archive (or rename {schema} if the year is to stay live), then migrate again"
                )
        for schema, year in archives:
            cursor.execute(
                "INSERT INTO reports_yeararchive (year, schema, dump, archived_at) VALUES (%s, %s, '', now()) "
                "ON CONFLICT DO NOTHING",
                [year, schema],
            )
            cursor.execute(
                f'INSERT INTO reports_reportkey (key, report_id, archived_year) SELECT key, NULL, %s FROM "{schema}".'
                "reports_reportkey ON CONFLICT DO NOTHING",
                [year],
            )


def archives_kept(apps, schema_editor):
    """Going back deletes the tombstones, and going forward again takes them back from each archive_y<YEAR> schema's
    copy of the keys: an archived year whose schema was dropped (archive_year --drop) would lose them for good, and
    with them the record that keeps the year from being written again."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT year, schema FROM reports_yeararchive "
            "WHERE to_regclass(quote_ident(schema) || '.reports_reportkey') IS NULL ORDER BY year"
        )
        gone = cursor.fetchall()
    if gone:
        years = ", ".join(f"{year} ({schema})" for year, schema in gone)
        raise RuntimeError(
            f"Cannot migrate back past 0037: the archive schema of {years} is not in the database (dropped after its "
            "dump), so its tombstones and its record as archived would be lost for good and the year writable "
            "again. Restore each dump first (pg_restore -d <database> geo_siac_archive_y<YEAR>.dump)."
        )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0036_reports_partitioned_by_year"),
    ]

    operations = [
        migrations.CreateModel(
            name="YearArchive",
            fields=[
                ("year", models.PositiveSmallIntegerField(primary_key=True, serialize=False, verbose_name="año")),
                ("schema", models.CharField(max_length=63, verbose_name="esquema")),
                ("dump", models.CharField(blank=True, max_length=500, verbose_name="volcado")),
                ("archived_at", models.DateTimeField(verbose_name="archivado")),
            ],
            options={
                "verbose_name": "año archivado",
                "verbose_name_plural": "años archivados",
            },
        ),
        migrations.AddField(
            model_name="reportkey",
            name="archived_year",
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="año archivado"),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="reportkey",
                    name="report",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=models.deletion.CASCADE,
                        related_name="+",
                        to="reports.report",
                        verbose_name="solicitud",
                    ),
                ),
            ],
            database_operations=[migrations.RunSQL(NULLABLE, NOT_NULL)],
        ),
        migrations.AddConstraint(
            model_name="reportkey",
            constraint=models.CheckConstraint(
                condition=models.Q(models.Q(("archived_year__isnull", True), ("report__isnull", False)))
                | models.Q(models.Q(("archived_year__isnull", False), ("report__isnull", True))),
                name="report_key_live_or_archived",
            ),
        ),
        migrations.RunPython(archives_recorded, archives_kept),
    ]
