"""The reports and their events partitioned by the year the report's id carries (migrations 0033 and 0036,
reports.partitions): reports and events land in their year, a year's partitions are made ahead and once, the tracking
code stays unique across partitions (reports_reportkey), an event photo or webhook delivery names its event's report,
and every answer read from the tables is the same partitioned or not."""

import importlib
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from geo_siac.maps.selectors import CellFilters, cell_counts
from geo_siac.open311.selectors import request_updates
from geo_siac.reports.checks import next_year_partitions
from geo_siac.reports.models import YEAR_ID_BASE, EventPhoto, Report, ReportEvent, ReportKey, report_id_year
from geo_siac.reports.partitions import is_partitioned, missing_partition, missing_partitions, partition_name
from geo_siac.reports.services import EXPLAINED_BY_CALLER, create, report_change_status
from geo_siac.transparency.selectors import indicators

EVENTS = ReportEvent._meta.db_table
REPORTS = Report._meta.db_table
SANTIAGO = ZoneInfo("America/Santiago")
partitioning = importlib.import_module("geo_siac.reports.migrations.0033_events_partitioned_by_report_year")
reports_partitioning = importlib.import_module("geo_siac.reports.migrations.0036_reports_partitioned_by_year")


def partition_of(report: Report) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {REPORTS} WHERE id = %s", [report.pk])
        return cursor.fetchone()[0]


def partitions_of_events(report: Report) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT tableoid::regclass::text FROM {EVENTS} WHERE report_id = %s", [report.pk])
        return {name for (name,) in cursor.fetchall()}


def add_year_partitions(year: int) -> str:
    out = StringIO()
    call_command("add_year_partitions", "--year", str(year), stdout=out)
    return out.getvalue()


def file_on(monkeypatch, make_report, moment: datetime, **kwargs) -> Report:
    monkeypatch.setattr(create.timezone, "now", lambda: moment)
    return make_report(**kwargs)


def test_migrate_made_this_and_next_years_partitions(db):
    year = timezone.localdate().year
    assert is_partitioned(EVENTS) and is_partitioned(REPORTS)
    out = StringIO()
    call_command("add_year_partitions", stdout=out)
    assert out.getvalue() == f"ya existían las particiones de {year} y {year + 1}\n"


def test_check_names_next_years_missing_partition(db):
    next_year = timezone.localdate().year + 1
    assert next_year_partitions(databases=["default"]) == []
    with connection.cursor() as cursor:
        # Undone with the test's transaction.
        cursor.execute(f"ALTER TABLE {EVENTS} DETACH PARTITION {partition_name(EVENTS, next_year)}")
    [error] = next_year_partitions(databases=["default"])
    assert error.id == "reports.E001" and f"--year {next_year}" in error.hint


def test_a_filed_report_and_its_events_are_in_its_years_partitions(make_report):
    report = make_report()
    year = report_id_year(report.pk)
    assert partition_of(report) == partition_name(REPORTS, year)
    assert partitions_of_events(report) == {partition_name(EVENTS, year)}


def test_a_tracking_code_held_in_another_years_partition_is_drawn_again(make_report, monkeypatch):
    old = file_on(monkeypatch, make_report, datetime(2019, 6, 1, 12, tzinfo=SANTIAGO))
    monkeypatch.undo()
    drawn = iter([old.tracking_code, "PA-2345-6789"])
    monkeypatch.setattr(create, "new_tracking_code", lambda prefix: next(drawn))
    new = make_report()
    assert partition_of(old) == partition_name(REPORTS, 2019) != partition_of(new)
    assert new.tracking_code == "PA-2345-6789" and Report.objects.filter(tracking_code=old.tracking_code).count() == 1
    assert set(ReportKey.objects.filter(report__in=[old, new]).values_list("key", "report_id")) == {
        (f"code:{old.tracking_code}", old.pk),
        ("code:PA-2345-6789", new.pk),
    }


def test_the_first_report_of_a_year_without_partition_makes_it(make_report, monkeypatch):
    assert missing_partitions(1999) == [(table, partition_name(table, 1999)) for table in (REPORTS, EVENTS)]
    report = file_on(monkeypatch, make_report, datetime(1999, 6, 1, 12, tzinfo=SANTIAGO))
    assert partitions_of_events(report) == {partition_name(EVENTS, 1999)} and missing_partitions(1999) == []
    assert partition_of(report) == partition_name(REPORTS, 1999)
    assert Report.objects.filter(pk=report.pk).count() == 1 and report.events.count() == 2


def test_an_event_of_a_year_without_partition_is_refused_whole(make_report):
    report = make_report()
    before = ReportEvent.objects.count()
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        ReportEvent.objects.create(report_id=1998 * YEAR_ID_BASE + 1, kind="note", created_at=timezone.now())
    assert missing_partition(caught.value) and ReportEvent.objects.count() == before and report.events.count() == 2


def test_add_year_partitions_makes_a_year_once(db):
    assert add_year_partitions(1999) == f"creadas: {partition_name(REPORTS, 1999)}, {partition_name(EVENTS, 1999)}\n"
    assert add_year_partitions(1999) == "ya existían las particiones de 1999\n"
    with pytest.raises(CommandError, match="no es un año que lleve"):
        add_year_partitions(99)


def test_the_importer_makes_the_partitions_of_the_years_it_loads(communes, tmp_path):
    path = tmp_path / "historia.csv"
    path.write_text(
        "source_id,created_at,closed_at,service_code,channel,status,lat,lng,description\n"
        "p2017,2017-03-01 10:00,2017-03-02 10:00,bache,web,resolved,-33.6117,-70.5758,x\n"
        "p2018,2018-12-31 23:00,,bache,web,submitted,-33.6117,-70.5758,x\n",
        encoding="utf-8",
    )
    call_command("import_reports", str(path), "--commit", "--no-progress", stdout=StringIO())
    found = {
        r.source_id: (partition_of(r), partitions_of_events(r))
        for r in Report.objects.filter(source_id__in=["p2017", "p2018"])
    }
    assert found == {
        "p2017": (f"{REPORTS}_y2017", {f"{EVENTS}_y2017"}),
        "p2018": (f"{REPORTS}_y2018", {f"{EVENTS}_y2018"}),
    }


def test_an_event_photo_must_name_its_events_report(make_report):
    one, other = make_report(), make_report()
    event = one.events.get(kind="created")
    with pytest.raises(IntegrityError, match="reports_eventphoto_event_of_report"), transaction.atomic():
        EventPhoto.objects.create(event=event, report=other, image="report-events/x.jpg")
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_a_webhook_delivery_names_its_events_report(make_report):
    from geo_siac.webhooks.models import WebhookDelivery, WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(description="sig", url="http://127.0.0.1:9/hook", secret="s" * 32)
    report = make_report()
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status="acknowledged", actor_label="Prueba")
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint, event__report=report)
    assert deliveries.exists() and set(deliveries.values_list("report_id", flat=True)) == {report.pk}


def answers(now: datetime) -> dict:
    """What the public and staff read from reports and their history, as of `now`."""
    return {
        "indicators": {
            dimension: indicators(Report.objects.all(), dimension, as_of=now)
            for dimension in (None, "category", "commune", "channel")
        },
        "cells": {resolution: cell_counts(resolution, CellFilters()) for resolution in (7, 8, 9, 10)},
        "filtered_cells": cell_counts(
            9, CellFilters(categories=("bache",), since=datetime(2022, 1, 1, tzinfo=SANTIAGO), until=now)
        ),
        "by_code": {r.tracking_code: r.pk for r in Report.objects.all()},
        "updates": list(
            request_updates(
                jurisdiction=None, window=(now - timedelta(days=3650), now + timedelta(days=1))
            ).values_list("id", "report_id", "kind", "to_status", "created_at")
        ),
        "history": {r.pk: list(r.events.values_list("id", "kind", "note")) for r in Report.objects.all()},
        "reports_with_events": sorted(
            ReportEvent.objects.values_list("report_id", flat=True).order_by("report_id").distinct()
        ),
    }


def test_every_answer_is_the_same_with_the_reports_and_events_partitioned_or_not(
    make_report, monkeypatch, communes, tmp_path
):
    for year in (2019, 2022):
        add_year_partitions(year)
    seeded = [
        file_on(monkeypatch, make_report, datetime(year, month, 10, 9, tzinfo=SANTIAGO), category=category)
        for year, month, category in [(2019, 3, "retiro-escombros"), (2022, 8, "bache"), (2022, 11, "bache")]
    ]
    monkeypatch.undo()
    seeded.append(make_report(category="bache"))
    for report in seeded[1:3]:
        report_change_status(
            public_note=EXPLAINED_BY_CALLER,
            report=report,
            status="acknowledged",
            note="Vamos.",
            note_is_public=True,
            actor_label="P",
        )
    assert {report_id_year(r.pk) for r in seeded} == {2019, 2022, timezone.localdate().year}

    now = timezone.now()
    partitioned = answers(now)
    with connection.schema_editor(atomic=False) as editor:
        reports_partitioning.rebuild(editor, partitioned=False)
    assert not is_partitioned(REPORTS)
    assert answers(now) == partitioned
    with connection.schema_editor(atomic=False) as editor:
        editor.execute("ALTER TABLE reports_eventphoto DROP CONSTRAINT reports_eventphoto_event_of_report")
        editor.execute("ALTER TABLE webhooks_webhookdelivery DROP CONSTRAINT webhooks_webhookdelivery_event_of_report")
        partitioning.rebuild(editor, partitioned=False)
    assert not is_partitioned(EVENTS)
    assert answers(now) == partitioned
    assert len(partitioned["reports_with_events"]) == 4 and partitioned["indicators"] and partitioned["filtered_cells"]


def parent_row_estimate(table: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        return cursor.fetchone()[0]


def test_add_year_partitions_analyzes_the_partitioned_parent(make_report):
    before = parent_row_estimate(EVENTS)
    for _ in range(3):
        make_report()
    assert ReportEvent.objects.count() == 6 and before != 6
    add_year_partitions(timezone.localdate().year)
    assert parent_row_estimate(EVENTS) == 6
