import django.contrib.gis.db.models.fields
from django.db import migrations, models

# An offline change's position moves from its CrewAction to the first event the change wrote (same report, same
# person, written in the same transaction just after the action's row).
COPY_TO_EVENTS = """
UPDATE reports_reportevent e
   SET work_location = a.location, work_location_accuracy_m = a.location_accuracy_m
  FROM reports_crewaction a
 WHERE a.location IS NOT NULL
   AND e.id = (SELECT f.id FROM reports_reportevent f
                WHERE f.report_id = a.report_id AND f.actor_id = a.user_id AND f.created_at >= a.created_at
                ORDER BY f.created_at, f.id LIMIT 1)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0020_citizen_info_events"),
    ]

    operations = [
        migrations.AddField(
            model_name="reportevent",
            name="work_location",
            field=django.contrib.gis.db.models.fields.PointField(
                blank=True, null=True, srid=4326, verbose_name="ubicación del trabajo"
            ),
        ),
        migrations.AddField(
            model_name="reportevent",
            name="work_location_accuracy_m",
            field=models.FloatField(blank=True, null=True, verbose_name="precisión de la ubicación (m)"),
        ),
        migrations.AddConstraint(
            model_name="reportevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("work_location__isnull", True), ("work_location_accuracy_m__isnull", True)),
                    models.Q(("work_location__isnull", False), ("work_location_accuracy_m__isnull", False)),
                    _connector="OR",
                ),
                name="event_work_location_with_accuracy",
            ),
        ),
        migrations.RunSQL(COPY_TO_EVENTS, migrations.RunSQL.noop),
        migrations.RemoveField(
            model_name="crewaction",
            name="location",
        ),
        migrations.RemoveField(
            model_name="crewaction",
            name="location_accuracy_m",
        ),
    ]
