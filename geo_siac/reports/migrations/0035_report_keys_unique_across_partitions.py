"""The tracking code and the source id become unique through a side table, reports_reportkey, instead of unique
indexes of the report table, which a table partitioned by id cannot have (migration 0036; docs/deployment.md,
"Partitioned history"). Every stored report's keys are copied into it; the report table keeps plain indexes for
the lookups by code (only the importer looks a source id up, in the side table)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The primary key takes the name report_create redraws a tracking code on (services.create).
KEYS_FORWARD = """
ALTER TABLE reports_reportkey RENAME CONSTRAINT reports_reportkey_pkey TO report_unique_tracking_code;
INSERT INTO reports_reportkey (key, report_id) SELECT 'code:' || tracking_code, id FROM reports_report;
INSERT INTO reports_reportkey (key, report_id)
    SELECT 'source:' || source || ':' || source_id, id FROM reports_report WHERE source_id <> '';
"""
KEYS_BACKWARD = """
ALTER TABLE reports_reportkey RENAME CONSTRAINT report_unique_tracking_code TO reports_reportkey_pkey;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0008_institutions_list"),
        ("reports", "0034_report_year_of"),
        ("zones", "0015_identity_logo_label"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ReportKey",
            fields=[
                ("key", models.CharField(max_length=220, primary_key=True, serialize=False, verbose_name="clave")),
            ],
            options={
                "verbose_name": "clave única de solicitud",
                "verbose_name_plural": "claves únicas de solicitudes",
            },
        ),
        migrations.AddField(
            model_name="reportkey",
            name="report",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="reports.report",
                verbose_name="solicitud",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="report",
            name="report_unique_tracking_code",
        ),
        migrations.RemoveConstraint(
            model_name="report",
            name="report_unique_source_id",
        ),
        migrations.AddIndex(
            model_name="report",
            index=models.Index(fields=["tracking_code"], name="report_tracking_code"),
        ),
        # After the report table's own unique constraint of that name is gone.
        migrations.RunSQL(KEYS_FORWARD, KEYS_BACKWARD),
    ]
