"""The events table is partitioned by report (reports.0033), which dropped the deliveries' foreign key to an event's
id alone: a delivery now names its event's report too, and references the pair; the trigger fills it."""

import django.db.models.deletion
from django.db import migrations, models

ENQUEUE = """
CREATE OR REPLACE FUNCTION webhook_deliveries_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('geo_siac.loading_history', true) = 'on' THEN
        RETURN NULL;
    END IF;
    INSERT INTO webhooks_webhookdelivery (endpoint_id, event_id, {report}state, attempts, next_attempt_at, created_at)
    SELECT endpoint.id, event.id, {event_report}'pending', 0, now(), now()
      FROM new_events event
      JOIN webhooks_webhookendpoint endpoint
        ON cardinality(endpoint.event_kinds) = 0 OR event.kind = ANY (endpoint.event_kinds);
    RETURN NULL;
END
$$;
"""
KEY = """
ALTER TABLE webhooks_webhookdelivery ADD CONSTRAINT webhooks_webhookdelivery_event_of_report
    FOREIGN KEY (event_id, report_id) REFERENCES reports_reportevent (id, report_id) DEFERRABLE INITIALLY DEFERRED
"""


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0033_events_partitioned_by_report_year"),
        ("webhooks", "0003_attempt_error_label"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookdelivery",
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
            "UPDATE webhooks_webhookdelivery d SET report_id = e.report_id "
            "FROM reports_reportevent e WHERE e.id = d.event_id",
            migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="webhookdelivery",
            name="report",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="reports.report",
                verbose_name="solicitud",
            ),
        ),
        # State only: reports.0033 dropped the database's key with the old table, and its reverse makes it again
        # once the events are one table (a key to an event's id alone cannot exist before).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="webhookdelivery",
                    name="event",
                    field=models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="reports.reportevent",
                        verbose_name="evento",
                    ),
                )
            ]
        ),
        migrations.RunSQL(
            [ENQUEUE.format(report="report_id, ", event_report="event.report_id, "), KEY],
            [
                "ALTER TABLE webhooks_webhookdelivery DROP CONSTRAINT webhooks_webhookdelivery_event_of_report",
                ENQUEUE.format(report="", event_report=""),
            ],
        ),
    ]
