"""A comuna's reports by date read from one index (docs/maps.md, "Reads by date"): (commune_id, created_at) with the
heat-map columns, in place of the plain commune_id index, so the importer keeps as many indexes as before.

Only the plain index is dropped: Django's AlterField would also drop and re-add the comuna's foreign key, which
checks every report again. Built on the partitioned parent, as 0038's: reports cannot be written while it runs
(~2 s per 100,000 reports); on a much larger table, build each partition's copy CONCURRENTLY first and ATTACH it to
an index made ON ONLY the parent, then fake this migration."""

import django.db.models.deletion
from django.db import migrations, models

COMMUNE = models.ForeignKey(
    db_index=False,
    on_delete=django.db.models.deletion.PROTECT,
    related_name="reports",
    to="zones.commune",
    verbose_name="comuna",
)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0041_pending_erasures"),
        ("zones", "0015_identity_logo_label"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="report",
            index=models.Index(
                fields=["commune", "created_at"],
                include=("category", "status", "channel", "h3_res6", "h3_res7", "h3_res8", "h3_res9", "h3_res10"),
                name="report_heatmap_commune",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AlterField(model_name="report", name="commune", field=COMMUNE)],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX "reports_report_commune_id_babfa675"',
                    'CREATE INDEX "reports_report_commune_id_babfa675" ON "reports_report" ("commune_id")',
                )
            ],
        ),
    ]
