"""The facts the indicators read, stored on the report (first response, reopenings), backfilled from the history,
and the business-day calendar that lets SQL count business days (docs/indicators.md)."""

from django.db import migrations, models

from geo_siac.reports.deadlines import calendar_days

# The history as the indicators defined it before this migration: the first status change out of "submitted",
# and the status changes from a closed status (resolved, closed_*) back to an open one.
BACKFILL_FIRST_RESPONSE = """
UPDATE reports_report AS r SET first_response_at = f.first_at
  FROM (SELECT report_id, min(created_at) AS first_at FROM reports_reportevent
         WHERE kind = 'status' AND from_status = 'submitted' GROUP BY report_id) AS f
 WHERE f.report_id = r.id
"""
BACKFILL_REOPENED = """
UPDATE reports_report AS r SET times_reopened = f.times
  FROM (SELECT report_id, count(*) AS times FROM reports_reportevent
         WHERE kind = 'status'
           AND from_status IN ('resolved', 'closed_duplicate', 'closed_not_municipal', 'closed_unfixable')
           AND to_status IN ('submitted', 'acknowledged', 'in_progress')
         GROUP BY report_id) AS f
 WHERE f.report_id = r.id
"""


def fill_calendar(apps, schema_editor):
    CalendarDay = apps.get_model("reports", "CalendarDay")
    CalendarDay.objects.bulk_create(
        (
            CalendarDay(day=day, is_business_day=business, business_days=count)
            for day, business, count in calendar_days()
        ),
        batch_size=5000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0007_suspended_schema_objects"),
    ]

    operations = [
        migrations.CreateModel(
            name="CalendarDay",
            fields=[
                ("day", models.DateField(primary_key=True, serialize=False)),
                ("is_business_day", models.BooleanField()),
                (
                    "business_days",
                    models.IntegerField(help_text="Business days from CALENDAR_START up to and including this day."),
                ),
            ],
        ),
        migrations.AddField(
            model_name="report",
            name="first_response_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="primera respuesta"),
        ),
        migrations.AddField(
            model_name="report",
            name="times_reopened",
            field=models.PositiveSmallIntegerField(db_default=0, default=0, verbose_name="veces reabierta"),
        ),
        migrations.RunPython(fill_calendar, migrations.RunPython.noop),
        migrations.RunSQL(BACKFILL_FIRST_RESPONSE, migrations.RunSQL.noop),
        migrations.RunSQL(BACKFILL_REOPENED, migrations.RunSQL.noop),
    ]
