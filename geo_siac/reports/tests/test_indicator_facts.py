"""The per-report facts the indicators read (first response, reopenings) and the business-day calendar: kept by
report_change_status and the bulk importer, backfilled from the history by migration 0008."""

import importlib
import random
from datetime import date, datetime, timedelta
from io import StringIO
from unittest.mock import patch

import pytest
from django.core.management import call_command
from django.db import connection

from geo_siac.reports.deadlines import CALENDAR_END, CALENDAR_START, SANTIAGO, business_days_between
from geo_siac.reports.models import CalendarDay, Report
from geo_siac.reports.services import EXPLAINED_BY_CALLER, business_calendar_sync, report_change_status

backfill = importlib.import_module("geo_siac.reports.migrations.0008_indicator_facts_and_calendar")


def at(day, hour=10):
    return patch("django.utils.timezone.now", return_value=datetime(2026, 9, day, hour, tzinfo=SANTIAGO))


def change(report, status, day):
    with at(day):
        return report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status=status)


@pytest.fixture
def reworked(make_report):
    """Received 1 Sep, acknowledged 2, in progress 3, resolved 4, reopened 7, resolved 8, reopened 9."""
    with at(1):
        report = make_report()
    for status, day in [
        ("acknowledged", 2),
        ("in_progress", 3),
        ("resolved", 4),
        ("in_progress", 7),
        ("resolved", 8),
        ("in_progress", 9),
    ]:
        report = change(report, status, day)
    return report


@pytest.mark.django_db
def test_a_new_report_has_no_first_response_and_no_reopening(make_report):
    report = Report.objects.get(pk=make_report().pk)

    assert report.first_response_at is None and report.times_reopened == 0


@pytest.mark.django_db
def test_first_response_is_the_first_move_out_of_submitted_and_later_changes_keep_it(reworked):
    reworked.refresh_from_db()

    assert reworked.first_response_at == datetime(2026, 9, 2, 10, tzinfo=SANTIAGO)
    assert reworked.times_reopened == 2
    assert reworked.closed_at is None  # open again after the second reopening


@pytest.mark.django_db
def test_closing_straight_from_submitted_is_the_first_response(make_report):
    with at(1):
        report = make_report()
    report = change(report, "closed_duplicate", 3)

    assert Report.objects.get(pk=report.pk).first_response_at == datetime(2026, 9, 3, 10, tzinfo=SANTIAGO)


@pytest.mark.django_db
def test_a_refused_transition_changes_no_fact(reworked):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        change(reworked, "submitted", 10)

    reworked.refresh_from_db()
    assert (reworked.first_response_at.day, reworked.times_reopened) == (2, 2)


@pytest.mark.django_db
def test_the_bulk_importer_stores_a_closing_as_the_first_response_and_leaves_an_open_one_unknown(communes, tmp_path):
    path = tmp_path / "native.csv"
    path.write_text(
        "source_id,created_at,closed_at,service_code,channel,status,lat,lng,description,address\n"
        "c,2026-10-01T10:00:00-03:00,2026-10-03T12:00:00-03:00,bache,phone,resolved,-33.6117,-70.5758,Hoyo,\n"
        "w,2026-10-02T09:00:00-03:00,,grafiti,web,in_progress,-33.6117,-70.5758,Rayado,\n"
        "s,2026-10-02T09:00:00-03:00,,grafiti,web,submitted,-33.6117,-70.5758,Rayado,\n",
        encoding="utf-8",
    )
    call_command("import_reports", str(path), "--commit", "--no-progress", stdout=StringIO())

    reports = {r.source_id: r for r in Report.objects.all()}
    closing = reports["c"].events.get(kind="status", from_status="submitted")
    assert reports["c"].first_response_at == closing.created_at == reports["c"].closed_at
    assert reports["c"].first_response_at == datetime(2026, 10, 3, 12, tzinfo=SANTIAGO)
    # Open past submitted: answered at a time the file does not give, though its status event is dated.
    assert reports["w"].events.filter(kind="status", from_status="submitted").exists()
    assert reports["w"].first_response_at is None
    assert reports["s"].first_response_at is None
    assert all(r.times_reopened == 0 for r in reports.values())


@pytest.mark.django_db
def test_the_migration_backfills_the_facts_from_the_history(reworked, make_report):
    untouched = make_report()
    Report.objects.update(first_response_at=None, times_reopened=0)

    with connection.cursor() as cursor:
        cursor.execute(backfill.BACKFILL_FIRST_RESPONSE)
        cursor.execute(backfill.BACKFILL_REOPENED)

    reworked.refresh_from_db()
    untouched.refresh_from_db()
    assert (reworked.first_response_at, reworked.times_reopened) == (datetime(2026, 9, 2, 10, tzinfo=SANTIAGO), 2)
    assert (untouched.first_response_at, untouched.times_reopened) == (None, 0)


@pytest.mark.django_db
def test_the_calendar_counts_business_days_like_deadlines(communes):
    numbers = dict(CalendarDay.objects.values_list("day", "business_days"))
    rng = random.Random(8)
    assert min(numbers) == CALENDAR_START and max(numbers) == CALENDAR_END
    for _ in range(300):
        start = date(2020, 1, 1) + timedelta(days=rng.randrange(3000))
        end = start + timedelta(days=rng.randrange(60))
        assert numbers[end] - numbers[start] == business_days_between(start, end), (start, end)


@pytest.mark.django_db
def test_calendar_sync_repairs_a_stale_calendar_and_leaves_a_current_one(communes):
    assert business_calendar_sync() == 0
    CalendarDay.objects.filter(day=date(2026, 9, 18)).update(is_business_day=True)  # as if a holiday were new
    CalendarDay.objects.filter(day=date(2030, 1, 1)).delete()

    assert business_calendar_sync() == 2
    assert CalendarDay.objects.get(day=date(2026, 9, 18)).is_business_day is False
    assert CalendarDay.objects.filter(day=date(2030, 1, 1)).exists()
    assert business_calendar_sync() == 0
