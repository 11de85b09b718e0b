from django.conf import settings
from django.db import migrations

# The year a report id drawn for a reception moment carries, as its own function: report_year_id draws the id with
# it, and the writers that make a year's partition before the id is drawn (report_create, the importer) ask it too,
# so the two cannot disagree (reports.partitions.reception_partitions_ensure).
TIME_ZONE = "'" + settings.TIME_ZONE.replace("'", "''") + "'"

FORWARD = f"""
CREATE FUNCTION report_year_of(received timestamptz) RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT extract(year FROM received AT TIME ZONE {TIME_ZONE})::integer
$$;
CREATE OR REPLACE FUNCTION report_year_id(received timestamptz) RETURNS bigint LANGUAGE sql VOLATILE AS $$
    SELECT report_year_of(received)::bigint * 100000000000 + nextval('reports_report_serial')
$$;
"""

BACKWARD = f"""
CREATE OR REPLACE FUNCTION report_year_id(received timestamptz) RETURNS bigint LANGUAGE sql VOLATILE AS $$
    SELECT extract(year FROM received AT TIME ZONE {TIME_ZONE})::bigint * 100000000000
           + nextval('reports_report_serial')
$$;
DROP FUNCTION report_year_of(timestamptz);
"""


class Migration(migrations.Migration):
    dependencies = [("reports", "0033_events_partitioned_by_report_year")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
