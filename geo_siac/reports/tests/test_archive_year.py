"""manage.py archive_year: a closed year's requests, events and the rows pointing at them leave the live tables for
the schema archive_y<year> (reports.archive), the other years untouched; refused for the current year and for a
year with open requests; pg_dump saves the schema before --drop removes it."""

import subprocess
from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from geo_siac.notifications.models import Delivery, Notification
from geo_siac.reports.archive import archive_schema
from geo_siac.reports.models import Follower, Report, ReportEvent, SuspendedSchemaObject, report_id_year
from geo_siac.reports.partitions import missing_partitions, partition_name
from geo_siac.reports.services import create, report_change_status

SANTIAGO = ZoneInfo("America/Santiago")
EVENTS = ReportEvent._meta.db_table
OLD = 2019


def archive_year(*arguments) -> str:
    out = StringIO()
    call_command("archive_year", "--year", *map(str, arguments), stdout=out)
    return out.getvalue()


def filed_in(monkeypatch, make_report, year: int, **kwargs) -> Report:
    call_command("add_year_partitions", "--year", str(year), stdout=StringIO())
    with monkeypatch.context() as patched:
        patched.setattr(create.timezone, "now", lambda: datetime(year, 5, 4, 10, tzinfo=SANTIAGO))
        return make_report(**kwargs)


def schema_rows(schema: str, table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{schema}"."{table}"')
        return cursor.fetchone()[0]


def live_state(report: Report) -> tuple:
    report.refresh_from_db()
    return (
        report.status,
        list(report.events.values_list("id", "kind", "to_status").order_by("id")),
        Notification.objects.filter(report=report).count(),
    )


@pytest.fixture
def two_years(make_report, monkeypatch):
    """A closed 2019 request with a follower, a confirmation e-mail and a 2019 duplicate, and one of this year
    marked its duplicate too."""
    old = filed_in(monkeypatch, make_report, OLD, reporter_email="vecina@example.cl")
    report_change_status(report=old, status="resolved", note="Listo.", note_is_public=True, actor_label="Prueba")
    Follower.objects.create(report=old, email="otra@example.cl", created_at=timezone.now())
    twin = filed_in(monkeypatch, make_report, OLD)
    report_change_status(report=twin, status="resolved", actor_label="Prueba")
    current = make_report(reporter_email="vecino@example.cl")
    Report.objects.filter(pk__in=[twin.pk, current.pk]).update(duplicate_of=old)
    long_done(old, twin)
    return old, twin, current


def long_done(*reports: Report) -> None:
    """Closed long ago and every message about them sent: nothing of theirs is still due."""
    Report.objects.filter(pk__in=[r.pk for r in reports]).update(closed_at=datetime(OLD, 6, 3, 12, tzinfo=SANTIAGO))
    Notification.objects.filter(report__in=reports).update(delivery=Delivery.SENT)


def test_archiving_a_year_moves_its_requests_and_history_and_leaves_other_years(two_years):
    old, twin, current = two_years
    assert report_id_year(old.pk) == OLD and report_id_year(current.pk) == timezone.localdate().year
    kept = live_state(current)
    old_events = old.events.count()

    out = archive_year(OLD, "--commit")

    schema = archive_schema(OLD)
    assert f"{schema}.reports_report: 2\n" in out and f"{schema}.{EVENTS}: {old_events + 3}\n" in out
    assert not Report.objects.filter(pk=old.pk).exists() and not ReportEvent.objects.filter(report_id=old.pk).exists()
    assert not Follower.objects.filter(report_id=old.pk).exists()
    assert not Notification.objects.filter(report_id=old.pk).exists()
    assert schema_rows(schema, "reports_report") == 2 and schema_rows(schema, EVENTS) == old_events + 3 == 6
    assert schema_rows(schema, "reports_reportkey") == 2
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT id, duplicate_of_id FROM "{schema}".reports_report ORDER BY id')
        assert cursor.fetchall() == [(old.pk, None), (twin.pk, old.pk)]
    assert schema_rows(schema, "reports_follower") == 1 and schema_rows(schema, "notifications_notification") >= 1
    assert missing_partitions(OLD) == [(table, partition_name(table, OLD)) for table in ("reports_report", EVENTS)]
    assert live_state(current) == kept and current.duplicate_of_id is None


def test_the_current_year_is_refused(make_report):
    report = make_report()
    report_change_status(report=report, status="resolved", actor_label="Prueba")
    year = timezone.localdate().year
    with pytest.raises(CommandError, match=f"{year} es el año en curso"):
        archive_year(year, "--commit")
    assert (
        Report.objects.filter(pk=report.pk).exists() and report.events.count() == 3 and missing_partitions(year) == []
    )


def test_a_year_with_open_requests_is_refused_and_nothing_changes(make_report, monkeypatch):
    closed = filed_in(monkeypatch, make_report, OLD)
    report_change_status(report=closed, status="resolved", actor_label="Prueba")
    long_done(closed)
    filed_in(monkeypatch, make_report, OLD)
    with pytest.raises(CommandError, match=f"{OLD} tiene 1 solicitudes abiertas"):
        archive_year(OLD, "--commit")
    with pytest.raises(CommandError, match="abiertas"):
        archive_year(OLD)
    assert Report.objects.count() == 2 and ReportEvent.objects.count() == 5 and missing_partitions(OLD) == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regnamespace(%s)", [archive_schema(OLD)])
        assert cursor.fetchone()[0] is None


def test_without_commit_it_only_checks(two_years):
    old, _twin, _current = two_years
    assert archive_year(OLD) == f"{OLD} se puede archivar; ejecute de nuevo con --commit.\n"
    assert Report.objects.filter(pk=old.pk).exists() and missing_partitions(OLD) == []


def test_a_year_without_history_is_refused(db):
    with pytest.raises(CommandError, match="No hay partición de 1990"):
        archive_year(1990, "--commit")


@pytest.mark.django_db(transaction=True)
def test_the_archive_is_dumped_then_dropped(two_years, tmp_path):
    old, _twin, current = two_years
    out = archive_year(OLD, "--commit", "--to", tmp_path, "--drop")
    dump = tmp_path / f"geo_siac_{archive_schema(OLD)}.dump"
    assert f"guardado en {dump}\n" in out and f"eliminado el esquema {archive_schema(OLD)}\n" in out
    assert dump.stat().st_mode & 0o777 == 0o600  # citizens' personal data: this account's only
    assert not list(tmp_path.glob("*.partial"))
    listing = subprocess.run(["pg_restore", "--list", str(dump)], check=True, capture_output=True, text=True).stdout
    for table in ("reports_report", EVENTS, "reports_follower", "notifications_notification"):
        assert f"TABLE DATA {archive_schema(OLD)} {table} " in listing
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regnamespace(%s)", [archive_schema(OLD)])
        assert cursor.fetchone()[0] is None
    assert Report.objects.filter(pk=current.pk).exists() and not Report.objects.filter(pk=old.pk).exists()
    with pytest.raises(CommandError, match="--drop necesita --to"):
        archive_year(OLD, "--commit", "--drop")


def test_a_year_with_work_still_due_or_an_unfinished_bulk_import_is_refused(two_years):
    old, _twin, _current = two_years
    Report.objects.filter(pk=old.pk).update(closed_at=timezone.now())  # its citizen may still reopen it
    with pytest.raises(CommandError, match="aún pueden reabrirse"):
        archive_year(OLD, "--commit")
    long_done(old)
    Notification.objects.create(
        report=old,
        recipient="vecina@example.cl",
        subject="Aviso",
        body="Aviso.",
        next_attempt_at=timezone.now(),
        created_at=timezone.now(),
    )
    with pytest.raises(CommandError, match=f"{OLD} tiene 1 avisos por enviar"):
        archive_year(OLD, "--commit")
    Notification.objects.update(delivery=Delivery.SENT)
    SuspendedSchemaObject.objects.create(
        table="reports_reportkey", name="a_key_fk", kind="foreign_key", definition="FOREIGN KEY (report_id) ..."
    )
    with pytest.raises(CommandError, match="importación masiva en curso o sin terminar"):
        archive_year(OLD, "--commit")
    SuspendedSchemaObject.objects.all().delete()
    assert archive_year(OLD) == f"{OLD} se puede archivar; ejecute de nuevo con --commit.\n"
    assert missing_partitions(OLD) == []
