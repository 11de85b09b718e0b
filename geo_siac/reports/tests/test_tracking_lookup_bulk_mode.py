"""A citizen's tracking lookup while a bulk import has suspended the report table's secondary indexes
(importers.bulk_mode): found through its key's unique index and the reports' primary keys, never by reading every
partition."""

import pytest
from django.db import connection

from geo_siac.reports.importers import suspend_secondary_schema
from geo_siac.reports.importers.bulk_mode import restore_suspended
from geo_siac.reports.selectors import REPORT_BY_TRACKING_CODE, report_by_tracking_code


def lookup_plan(code: str) -> str:
    """EXPLAIN of the tracking page's compiled lookup, sequential scans priced out: one left means no index serves it."""
    compiled = REPORT_BY_TRACKING_CODE.compile()
    params = list(compiled.params)
    params[compiled.index] = code
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {compiled.sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("bulk_mode", [False, True])
def test_a_tracking_lookup_reads_no_partition_whole_even_in_bulk_mode(make_report, bulk_mode):
    report = make_report()
    other = make_report()
    if bulk_mode:
        assert suspend_secondary_schema() > 0
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexdef LIKE %s", ["%(tracking_code)%"])
            assert cursor.fetchone()[0] == 0
    try:
        plan = lookup_plan(report.tracking_code)
        assert "Seq Scan on reports_report" not in plan, plan
        assert report_by_tracking_code(report.tracking_code.lower()) == report
        assert report_by_tracking_code(other.tracking_code) == other
        assert report_by_tracking_code("PA-XXXX-XXXX") is None
    finally:
        if bulk_mode:
            restore_suspended()
