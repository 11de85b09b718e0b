"""A delivery for each endpoint (an inactive one keeps its own until reactivated) is written by PostgreSQL in the statement that writes an event.

Events are written in many places (report_store's single statement, each service, bulk routing, the importer): a
trigger is the one place that sees them all, in their own transaction, so an event that commits has its deliveries
and one that rolls back has none. Statement-level with a transition table: one INSERT per statement, however many
events it wrote. The importer marks its inserts (geo_siac.loading_history): history is not news."""

from django.db import migrations

CREATE = """
CREATE FUNCTION webhook_deliveries_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('geo_siac.loading_history', true) = 'on' THEN
        RETURN NULL;
    END IF;
    INSERT INTO webhooks_webhookdelivery (endpoint_id, event_id, state, attempts, next_attempt_at, created_at)
    SELECT endpoint.id, event.id, 'pending', 0, now(), now()
      FROM new_events event
      JOIN webhooks_webhookendpoint endpoint
        ON cardinality(endpoint.event_kinds) = 0 OR event.kind = ANY (endpoint.event_kinds);
    RETURN NULL;
END
$$;
CREATE TRIGGER reportevent_webhooks AFTER INSERT ON reports_reportevent
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION webhook_deliveries_enqueue();
"""
DROP = """
DROP TRIGGER reportevent_webhooks ON reports_reportevent;
DROP FUNCTION webhook_deliveries_enqueue();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_initial"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
