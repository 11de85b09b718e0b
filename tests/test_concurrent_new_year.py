"""Two first requests of a year without partitions at the same time: both make the year's partition, one after
the other on an advisory lock named after it, and both are filed (no DuplicateTable, no 500).

A third connection holds that lock until both requests wait on it, so the two always meet there."""

import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from geo_siac.reports.models import Report, ReportEvent, report_id_year
from geo_siac.reports.partitions import missing_partitions, partition_name
from geo_siac.reports.services import create
from geo_siac.testing import other_session

YEAR = 1997
EVENTS = ReportEvent._meta.db_table
PARTITION = partition_name(EVENTS, YEAR)
# The year's partitions in the order they are made; the test meets the two requests on the first one's lock.
MADE = [(table, partition_name(table, YEAR)) for table in (Report._meta.db_table, EVENTS)]
FIRST = MADE[0][1]


def other_connection():
    return other_session(autocommit=True)


def waiting_on_the_lock(cursor) -> int:
    cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    return cursor.fetchone()[0]


@pytest.fixture
def year_without_partition():
    assert missing_partitions(YEAR) == MADE
    yield
    # A transactional test's flush empties tables but keeps the partitions this test made. Emptied first (with what
    # points at their rows: the flush empties every table anyway), the events' before the reports'.
    with connection.cursor() as cursor:
        for table, partition in reversed(MADE):
            if (table, partition) not in missing_partitions(YEAR):
                cursor.execute(f"TRUNCATE {partition} CASCADE")
                cursor.execute(f"ALTER TABLE {table} DETACH PARTITION {partition}")
            cursor.execute(f"DROP TABLE IF EXISTS {partition}")


@pytest.mark.django_db(transaction=True)
def test_two_first_requests_of_a_year_at_once_are_both_filed(make_report, monkeypatch, year_without_partition):
    monkeypatch.setattr(create.timezone, "now", lambda: datetime(YEAR, 3, 1, 12, tzinfo=ZoneInfo("America/Santiago")))
    barrier = threading.Barrier(2)
    outcomes = [{}, {}]

    def file(outcome: dict):
        try:
            barrier.wait(timeout=30)
            outcome["report"] = make_report(description="Primera del año.")
        except Exception as exc:  # noqa: BLE001 - handed to the test, which shows it
            outcome["error"] = exc
        finally:
            connection.close()

    holder = other_connection()
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(hashtext(%s))", [FIRST])
            threads = [threading.Thread(target=file, args=(outcome,)) for outcome in outcomes]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 60
            while waiting_on_the_lock(cursor) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            both_waited = waiting_on_the_lock(cursor) == 2
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [FIRST])
        for thread in threads:
            thread.join(timeout=60)
    finally:
        holder.close()
    assert not any(thread.is_alive() for thread in threads)
    assert [outcome.get("error") for outcome in outcomes] == [None, None]
    assert both_waited, "the two requests did not both wait to make the partition"
    filed = [outcome["report"] for outcome in outcomes]
    assert {report_id_year(report.pk) for report in filed} == {YEAR} and len({r.pk for r in filed}) == 2
    assert missing_partitions(YEAR) == []
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT report_id, count(*) FROM {PARTITION} GROUP BY report_id ORDER BY report_id")
        assert cursor.fetchall() == sorted((report.pk, 2) for report in filed)
    assert Report.objects.count() == 2
