import django.db.models.deletion
from django.db import migrations, models

# Each status change's one photo becomes its first EventPhoto before the column goes (a change may now carry several).
MOVE_EVENT_PHOTOS = """
INSERT INTO reports_eventphoto (event_id, image)
SELECT id, photo FROM reports_reportevent WHERE photo <> '' ORDER BY id
"""
RESTORE_EVENT_PHOTOS = """
UPDATE reports_reportevent e SET photo = p.image
  FROM (SELECT DISTINCT ON (event_id) event_id, image FROM reports_eventphoto ORDER BY event_id, id) p
 WHERE p.event_id = e.id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0013_field_labels"),
        ("zones", "0007_field_labels"),
    ]

    operations = [
        migrations.AddField(
            model_name="report",
            name="received_at",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reports",
                to="zones.servicepoint",
                verbose_name="recibida en",
            ),
        ),
        migrations.AddIndex(
            model_name="report",
            index=models.Index(
                condition=models.Q(("received_at__isnull", False)), fields=["received_at"], name="report_received_at"
            ),
        ),
        migrations.CreateModel(
            name="EventPhoto",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("image", models.FileField(upload_to="report-events/%Y/%m/", verbose_name="foto")),
                (
                    "event",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="photos", to="reports.reportevent"
                    ),
                ),
            ],
            options={
                "verbose_name": "foto de un cambio de estado",
                "verbose_name_plural": "fotos de cambios de estado",
                "ordering": ["id"],
            },
        ),
        migrations.RunSQL(MOVE_EVENT_PHOTOS, RESTORE_EVENT_PHOTOS),
        migrations.RemoveField(
            model_name="reportevent",
            name="photo",
        ),
    ]
