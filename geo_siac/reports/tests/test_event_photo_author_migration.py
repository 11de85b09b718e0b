"""Migrations 0044 and 0045: EventPhoto.added_by gets a database default, so that a worker still running the code
before it inserts photos between the migrate and its restart, and its index is built apart, CONCURRENTLY, not in
the transaction that adds the column (which would hold reports_eventphoto locked through the build)."""

import importlib

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from geo_siac.reports.models import EventKind, EventPhoto, ReportEvent

BEFORE = ("reports", "0043_heatmap_commune_covering_index")
COLUMN = ("reports", "0044_event_photo_added_by_and_dump_replaced")
INDEX = importlib.import_module("geo_siac.reports.migrations.0045_event_photo_added_by_index")


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def index_valid() -> bool | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('eventphoto_added_by')")
        row = cursor.fetchone()
    return row[0] if row else None


@pytest.mark.django_db(transaction=True)
def test_a_photo_inserted_as_the_old_code_does_after_0044_and_the_index_built_apart(make_report):
    report = make_report()
    event = ReportEvent.objects.create(report=report, kind=EventKind.CITIZEN_INFO, created_at=timezone.now())
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        migrate([BEFORE])
        migrate([COLUMN])
        with connection.cursor() as cursor:  # the INSERT of the code before 0044, which knows no added_by
            cursor.execute(
                "INSERT INTO reports_eventphoto (image, event_id, report_id) VALUES ('a.jpg', %s, %s)",
                [event.pk, report.pk],
            )
        assert index_valid() is None  # not built in 0044's transaction
    finally:
        migrate(latest)
    assert index_valid() is True
    assert EventPhoto.objects.get().added_by == ""
    assert INDEX.Migration.atomic is False
    assert "CREATE INDEX CONCURRENTLY" in call_command("sqlmigrate", "reports", "0045")
    assert "DROP INDEX CONCURRENTLY" in call_command("sqlmigrate", "reports", "0045", backwards=True)
