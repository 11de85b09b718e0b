"""Report ids carry the year the report was received (migration 0032): the key the report tables are to be
partitioned on by year (docs/deployment.md, "Partitioned history"), given by report_create and the importer."""

from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from geo_siac.reports.models import YEAR_ID_BASE, Report, ReportEvent, report_id_year
from geo_siac.reports.services import create

SANTIAGO = ZoneInfo("America/Santiago")


def year_ids(*moments: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT report_year_id(moment) / %s FROM unnest(%s::timestamptz[]) AS moment", [YEAR_ID_BASE, list(moments)]
        )
        return [year for (year,) in cursor.fetchall()]


def test_the_year_is_the_local_one_at_new_year(db):
    # 23:30 on New Year's Eve in Santiago is already the next year in UTC.
    assert year_ids("2025-12-31 23:30-03", "2026-01-01 02:30+00", "2026-01-01 00:05-03") == [2025, 2025, 2026]


def test_a_filed_report_carries_the_year_it_was_received_and_is_found_by_it(make_report):
    report = make_report()
    assert report_id_year(report.pk) == timezone.localtime(report.created_at).year
    assert Report.objects.get(pk=report.pk).tracking_code == report.tracking_code
    assert set(ReportEvent.objects.filter(report_id=report.pk).values_list("kind", flat=True)) == {"created", "routed"}


def test_report_create_takes_the_year_from_its_own_clock_not_the_transactions(make_report, monkeypatch):
    # The last second of 2024 in Santiago, while the database's now() is today: the id follows created_at.
    last_second = datetime(2024, 12, 31, 23, 59, 59, tzinfo=SANTIAGO)
    monkeypatch.setattr(create.timezone, "now", lambda: last_second)
    report = make_report()
    assert report.created_at == last_second
    assert report_id_year(report.pk) == 2024
    assert Report.objects.filter(pk__gte=2024 * YEAR_ID_BASE, pk__lt=2025 * YEAR_ID_BASE).get() == report


def test_imported_reports_carry_the_year_they_were_received(communes, tmp_path):
    rows = [
        ("y2019", "2019-06-01 10:00", "2019-06-03 10:00", "resolved"),
        ("y2023", "2023-12-31 23:30", "", "submitted"),  # local time: still 2023
        ("y2026", "2026-01-02 08:00", "", "submitted"),
    ]
    path = tmp_path / "historia.csv"
    path.write_text(
        "source_id,created_at,closed_at,service_code,channel,status,lat,lng,description\n"
        + "".join(f"{sid},{at},{closed},bache,web,{status},-33.6117,-70.5758,x\n" for sid, at, closed, status in rows),
        encoding="utf-8",
    )
    out = StringIO()
    call_command("import_reports", str(path), "--commit", "--no-progress", stdout=out)

    imported = {r.source_id: r for r in Report.objects.filter(source_id__in=[sid for sid, *_ in rows])}
    assert {sid: report_id_year(r.pk) for sid, r in imported.items()} == {"y2019": 2019, "y2023": 2023, "y2026": 2026}
    assert all(timezone.localtime(r.created_at).year == report_id_year(r.pk) for r in imported.values())
    # Their history points at the new ids: a created event each, and the closing of the closed one.
    events = ReportEvent.objects.filter(report__in=imported.values())
    assert sorted(events.values_list("report__source_id", "kind")) == [
        ("y2019", "created"),
        ("y2019", "status"),
        ("y2023", "created"),
        ("y2026", "created"),
    ]


def test_a_report_stored_before_ids_carried_a_year_reads_as_none():
    assert report_id_year(41) is None and report_id_year(2026 * YEAR_ID_BASE + 7) == 2026
    assert len(str(2026 * YEAR_ID_BASE + 99_999_999_999)) == 15  # exact in a spreadsheet
