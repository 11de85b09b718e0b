"""manage.py archive_year: a closed year's requests, events and the rows pointing at them leave the live tables for
the schema archive_y<year> (reports.archive), the other years untouched; refused for the current year and for a
year with open requests; pg_dump saves the schema before --drop removes it."""

import os
import subprocess
import sys
import threading
import time
from datetime import datetime
from io import StringIO
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from geo_siac.notifications.models import Delivery, Notification
from geo_siac.reports import archive
from geo_siac.reports.archive import ArchiveRefused, archive_drop, archive_schema, waiting_for
from geo_siac.reports.models import (
    YEAR_ID_BASE,
    EventKind,
    Follower,
    Report,
    ReportEvent,
    ReportKey,
    SuspendedSchemaObject,
    YearArchive,
    report_id_year,
)
from geo_siac.reports.partitions import YearArchived, missing_partitions, partition_name
from geo_siac.reports.services import EXPLAINED_BY_CALLER, create, report_change_status
from geo_siac.testing import PROJECT_ROOT, other_session
from geo_siac.web.ratelimit import attempts, client_key
from geo_siac.webhooks.models import DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEndpoint

SANTIAGO = ZoneInfo("America/Santiago")
EVENTS = ReportEvent._meta.db_table
OLD = 2019
HEADER = "source_id,created_at,closed_at,service_code,channel,status,lat,lng,description\n"


def other_connection():
    """A second session, committing on its own, as another process would."""
    return other_session(autocommit=True)


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
    report_change_status(
        public_note=EXPLAINED_BY_CALLER,
        report=old,
        status="resolved",
        note="Listo.",
        note_is_public=True,
        actor_label="Prueba",
    )
    Follower.objects.create(report=old, email="otra@example.cl", created_at=timezone.now())
    twin = filed_in(monkeypatch, make_report, OLD)
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=twin, status="resolved", actor_label="Prueba")
    current = make_report(reporter_email="vecino@example.cl")
    Report.objects.filter(pk__in=[twin.pk, current.pk]).update(duplicate_of=old)
    long_done(old, twin)
    return old, twin, current


def long_done(*reports: Report) -> None:
    """Closed long ago and every message about them sent: nothing of theirs is still due."""
    Report.objects.filter(pk__in=[r.pk for r in reports]).update(closed_at=datetime(OLD, 6, 3, 12, tzinfo=SANTIAGO))
    Notification.objects.filter(report__in=reports).update(delivery=Delivery.SENT)
    WebhookDelivery.objects.filter(report__in=reports).update(state=DeliveryState.DELIVERED)


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
    status, events, notifications = live_state(current)
    assert (status, events[:-1], notifications) == kept and events[-1][1] == EventKind.NOTE  # the duplicate's trace
    assert current.duplicate_of_id is None


def test_the_current_year_is_refused(make_report):
    report = make_report()
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status="resolved", actor_label="Prueba")
    year = timezone.localdate().year
    with pytest.raises(CommandError, match=f"{year} es el año en curso"):
        archive_year(year, "--commit")
    assert (
        Report.objects.filter(pk=report.pk).exists() and report.events.count() == 3 and missing_partitions(year) == []
    )


def test_a_year_with_open_requests_is_refused_and_nothing_changes(make_report, monkeypatch):
    closed = filed_in(monkeypatch, make_report, OLD)
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=closed, status="resolved", actor_label="Prueba")
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


def test_an_archived_year_is_never_written_again_by_any_path(two_years, make_report, monkeypatch):
    archive_year(OLD, "--commit")
    assert YearArchive.objects.get(year=OLD).schema == archive_schema(OLD)
    message = f"{OLD} está archivado \\(esquema {archive_schema(OLD)}\\)"
    with pytest.raises(CommandError, match=message):
        call_command("add_year_partitions", "--year", str(OLD), stdout=StringIO())
    with monkeypatch.context() as patched, pytest.raises(YearArchived, match=message):
        # report_create's clock only: the archive's check asks the real date which years are over.
        patched.setattr(create, "timezone", SimpleNamespace(now=lambda: datetime(OLD, 9, 4, 10, tzinfo=SANTIAGO)))
        make_report()
    assert missing_partitions(OLD) == [(table, partition_name(table, OLD)) for table in ("reports_report", EVENTS)]
    assert archive_year(OLD) == f"{OLD} ya se archivó, en el esquema {archive_schema(OLD)}; volcado: -.\n"
    assert archive_year(OLD, "--commit") == f"{OLD} ya hecho: archivado en el esquema {archive_schema(OLD)}.\n"


def test_an_archived_tracking_code_is_kept_as_a_tombstone_and_never_drawn_again(two_years, make_report, monkeypatch):
    old, _twin, _current = two_years
    archive_year(OLD, "--commit")
    assert ReportKey.objects.filter(key=f"code:{old.tracking_code}", report=None, archived_year=OLD).exists()
    drawn = iter([old.tracking_code, "PA-2345-6789"])
    monkeypatch.setattr(create, "new_tracking_code", lambda prefix: next(drawn))
    new = make_report()
    assert new.tracking_code == "PA-2345-6789"
    assert not Report.objects.filter(tracking_code=old.tracking_code).exists()


def test_the_tracking_page_of_an_archived_code_says_so_without_personal_data(two_years, client):
    old, _twin, _current = two_years
    archive_year(OLD, "--commit")
    response = client.get(reverse("reports:tracking", args=[old.tracking_code]))
    page = response.content.decode()
    assert response.status_code == 410 and "Solicitud archivada" in page and f"es de {OLD}" in page
    assert "vecina@example.cl" not in page and old.description not in page and str(old.pk) not in page
    assert client.get(reverse("reports:tracking", args=["PA-2345-6789"])).status_code == 404


def test_the_lookup_form_answers_an_archived_code_typed_any_way_counting_one_failed_lookup(two_years, client):
    old, _twin, _current = two_years
    archive_year(OLD, "--commit")
    typed = old.tracking_code.lower().replace("-", "/")  # a code the tracking page's URL cannot take
    lookup = client.get(reverse("reports:tracking_lookup"), {"codigo": typed})
    page = lookup.content.decode()
    assert (
        lookup.status_code == 410
        and "Solicitud archivada" in page
        and f"La solicitud {old.tracking_code} es de {OLD}" in page
    )
    assert attempts(f"tracking:{client_key(lookup.wsgi_request)}") == 1


def closed_rows_csv(path, source_ids, *, year: int = OLD):
    lines = [
        f"{sid},{year}-03-0{1 + i % 5} 10:00,{year}-03-20 10:00,bache,web,resolved,{-33.6117 + i * 1e-5},-70.5758,x\n"
        for i, sid in enumerate(source_ids)
    ]
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return str(path)


def run_import(*args) -> str:
    out = StringIO()
    call_command("import_reports", *args, "--no-progress", "--commit", stdout=out)
    return out.getvalue()


def test_importing_an_archived_year_again_imports_nothing(communes, make_report, tmp_path):
    make_report()  # not bulk mode
    path = closed_rows_csv(tmp_path / "a.csv", [f"s{i}" for i in range(6)])
    assert "insertadas: 6" in run_import(path)
    archive_year(OLD, "--commit")

    out = run_import(path)

    assert "insertadas: 0\n" in out and "ya importadas antes, archivadas: 6\n" in out
    assert not Report.objects.filter(pk__gte=OLD * YEAR_ID_BASE, pk__lt=(OLD + 1) * YEAR_ID_BASE).exists()
    assert missing_partitions(OLD) == [(table, partition_name(table, OLD)) for table in ("reports_report", EVENTS)]
    fresh = closed_rows_csv(tmp_path / "b.csv", ["s0", "s99"])
    with pytest.raises(CommandError, match=f"{OLD} está archivado"):
        run_import(fresh)
    assert Report.objects.count() == 1


def test_a_row_moved_into_an_archived_year_after_its_import_counts_as_imported_not_as_a_write(
    communes, make_report, tmp_path
):
    make_report()  # not bulk mode
    assert "insertadas: 2" in run_import(closed_rows_csv(tmp_path / "old.csv", ["s0", "s1"]))
    assert "insertadas: 1" in run_import(closed_rows_csv(tmp_path / "later.csv", ["s50"], year=OLD + 1))
    archive_year(OLD, "--commit")
    moved = closed_rows_csv(tmp_path / "edited.csv", ["s0", "s50"])  # s50's date edited into the archived year

    out = run_import(moved)

    assert (
        "insertadas: 0\n" in out and "ya importadas antes: 1\n" in out and "ya importadas antes, archivadas: 1\n" in out
    )
    assert Report.objects.filter(pk__gte=(OLD + 1) * YEAR_ID_BASE, pk__lt=(OLD + 2) * YEAR_ID_BASE).count() == 1


def test_a_source_name_with_a_colon_is_refused(communes, tmp_path):
    path = closed_rows_csv(tmp_path / "a.csv", ["1"])
    with pytest.raises(CommandError, match="«sistema:viejo» tiene «:»"):
        run_import(path, "--source", "sistema:viejo")
    assert not Report.objects.exists() and not ReportKey.objects.exists()


def test_a_request_of_another_year_keeps_the_archived_request_it_duplicated(two_years):
    old, _twin, current = two_years
    archive_year(OLD, "--commit")
    current.refresh_from_db()
    assert current.duplicate_of_id is None
    note = current.events.get(kind=EventKind.NOTE)
    assert old.tracking_code in note.note and str(OLD) in note.note and archive_schema(OLD) in note.note
    assert not note.is_public and note.actor_label == "Archivo"


@pytest.mark.django_db(transaction=True)  # the test's transaction would hold the lock its partitions took
def test_a_lock_not_obtained_in_time_gives_up_naming_it_and_changes_nothing(two_years):
    old, _twin, current = two_years
    other = other_connection()
    with other.cursor() as cursor:
        cursor.execute("BEGIN; LOCK TABLE reports_reportevent IN ACCESS SHARE MODE")
    release = threading.Timer(15, lambda: other.cursor().execute("ROLLBACK"))  # before the fix the detach waited
    release.start()
    try:
        started = time.monotonic()
        with pytest.raises(
            CommandError, match="No se obtuvo en 1 s el bloqueo de las tablas reports_report, reports_reportevent"
        ):
            archive_year(OLD, "--commit", "--lock-timeout", "1")
        assert time.monotonic() - started < 10
    finally:
        release.cancel()
        other.close()
    assert Report.objects.filter(pk=old.pk).exists() and missing_partitions(OLD) == []
    assert ReportKey.objects.filter(report=old).exists() and not YearArchive.objects.exists()
    assert Follower.objects.filter(report=old).exists() and current.events.filter(kind=EventKind.NOTE).count() == 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regnamespace(%s)", [archive_schema(OLD)])
        assert cursor.fetchone()[0] is None


@pytest.mark.django_db(transaction=True)
def test_a_webhook_attempt_committed_during_the_archive_is_archived_not_lost(make_report, monkeypatch):
    endpoint = WebhookEndpoint.objects.create(description="Prueba", url="https://example.cl/hook", secret="s" * 32)
    old = filed_in(monkeypatch, make_report, OLD)
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=old, status="resolved", actor_label="Prueba")
    long_done(old)
    delivery = WebhookDelivery.objects.filter(report=old).first()
    assert delivery is not None
    other = other_connection()
    inserted = []

    def attempt_committed_meanwhile(execute, sql, params, many, context):
        if not inserted and 'DELETE FROM "webhooks_webhookattempt"' in sql:
            with other.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO webhooks_webhookattempt (delivery_id, endpoint_id, attempted_at, latency_ms, "
                    "response_excerpt, error, status_code) VALUES (%s, %s, now(), 5, '', '', 200) RETURNING id",
                    [delivery.pk, endpoint.pk],
                )
                inserted.append(cursor.fetchone()[0])
        return execute(sql, params, many, context)

    try:
        with connection.execute_wrapper(attempt_committed_meanwhile):
            archive_year(OLD, "--commit")
        assert inserted
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT id FROM "{archive_schema(OLD)}".webhooks_webhookattempt')
            assert [row[0] for row in cursor.fetchall()] == inserted
        assert not WebhookAttempt.objects.exists()
    finally:
        other.close()
        archive_drop(year=OLD)


@pytest.mark.django_db(transaction=True)
def test_the_tombstones_migration_goes_back_and_forth_and_recovers_a_year_archived_before_it(two_years):
    old, twin, current = two_years
    archive_year(OLD, "--commit")
    live = set(ReportKey.objects.filter(report__isnull=False).values_list("key", "report_id"))
    tombstones = set(ReportKey.objects.filter(report=None).values_list("key", "archived_year"))
    assert tombstones == {(f"code:{old.tracking_code}", OLD), (f"code:{twin.tracking_code}", OLD)}
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        migrate([("reports", "0036_reports_partitioned_by_year")])
        with connection.cursor() as cursor:
            cursor.execute("SELECT key, report_id FROM reports_reportkey")
            assert set(cursor.fetchall()) == live  # the tombstones went, the archive kept its copy of the keys
            cursor.execute("SELECT to_regclass('reports_yeararchive')")
            assert cursor.fetchone()[0] is None
        migrate(latest)
        assert set(ReportKey.objects.filter(report__isnull=False).values_list("key", "report_id")) == live
        assert set(ReportKey.objects.filter(report=None).values_list("key", "archived_year")) == tombstones
        assert YearArchive.objects.get(year=OLD).schema == archive_schema(OLD)
        assert Report.objects.filter(pk=current.pk).exists()
    finally:
        migrate(latest)
        archive_drop(year=OLD)


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.mark.parametrize("seconds", ["0", "-3"])
def test_a_lock_timeout_below_one_second_is_refused_before_anything_starts(two_years, seconds):
    with pytest.raises(CommandError, match="debe ser al menos 1 segundo"):
        archive_year(OLD, "--commit", "--lock-timeout", seconds)
    assert missing_partitions(OLD) == [] and not YearArchive.objects.exists()


def test_a_lock_timeout_setting_below_one_second_stops_the_settings():
    checked = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "GEO_SIAC_ARCHIVE_LOCK_TIMEOUT_SECONDS": "0"},
        timeout=120,
    )
    assert (
        checked.returncode != 0
        and "GEO_SIAC_ARCHIVE_LOCK_TIMEOUT_SECONDS is 0: it must be at least 1" in checked.stderr
    )


@pytest.mark.django_db(transaction=True)
def test_a_status_change_of_a_duplicate_of_the_year_makes_the_archive_give_up_not_deadlock(two_years):
    """report_change_status locks its request, then waits for the archived one it duplicates; the archive, had it
    locked the year's requests first and that request after, would wait for it: a deadlock."""
    old, _twin, current = two_years
    other = other_connection()
    with other.cursor() as cursor:
        cursor.execute("BEGIN; SELECT FROM reports_report WHERE id = %s FOR UPDATE", [current.pk])
    waits = []

    def the_other_waits_for_the_archived_request():
        time.sleep(0.3)
        with other.cursor() as cursor:
            cursor.execute("SELECT FROM reports_report WHERE id = %s FOR UPDATE", [old.pk])

    def duplicates_locked(execute, sql, params, many, context):
        if not waits and "FOR UPDATE OF r" in sql:
            waits.append(threading.Thread(target=the_other_waits_for_the_archived_request))
            waits[0].start()
        return execute(sql, params, many, context)

    try:
        with (
            connection.execute_wrapper(duplicates_locked),
            pytest.raises(
                CommandError, match="No se obtuvo en 3 s el bloqueo de las tablas reports_report, reports_reportevent"
            ),
        ):
            archive_year(OLD, "--commit", "--lock-timeout", "3")
    finally:
        for wait in waits:
            wait.join()
        other.cursor().execute("ROLLBACK")
        other.close()
    assert Report.objects.filter(pk=old.pk).exists() and missing_partitions(OLD) == []
    assert not YearArchive.objects.exists() and ReportKey.objects.filter(report=old).exists()


def test_a_deadlock_broken_by_cancelling_the_archive_is_a_refusal_naming_the_lock(db):
    other = other_connection()
    with connection.cursor() as cursor, other.cursor() as theirs:
        cursor.execute("SELECT pg_advisory_xact_lock(727001)")
        theirs.execute("SELECT pg_advisory_lock(727002)")
        waiting = threading.Thread(target=lambda: other.cursor().execute("SELECT pg_advisory_lock(727001)"))
        threading.Timer(0.3, waiting.start).start()  # waits after the archive does: PostgreSQL cancels the archive
        try:
            with pytest.raises(ArchiveRefused, match="Esperando el bloqueo de la prueba, el archivo y otra sesión"):
                with waiting_for("la prueba", 5):
                    cursor.execute("SELECT pg_advisory_xact_lock(727002)")
        finally:
            time.sleep(0.5)
            other.cancel()
            waiting.join()
            other.close()


@pytest.mark.django_db(transaction=True)
def test_a_lock_not_obtained_while_copying_a_table_s_shape_is_a_refusal_naming_the_table(two_years):
    old, _twin, _current = two_years
    other = other_connection()
    with other.cursor() as cursor:
        cursor.execute("BEGIN; LOCK TABLE reports_follower IN ACCESS EXCLUSIVE MODE")
    try:
        with pytest.raises(CommandError, match=r"bloqueo de la tabla reports_follower \(CREATE TABLE"):
            archive_year(OLD, "--commit", "--lock-timeout", "1")
    finally:
        other.cursor().execute("ROLLBACK")
        other.close()
    assert Report.objects.filter(pk=old.pk).exists() and missing_partitions(OLD) == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regnamespace(%s)", [archive_schema(OLD)])
        assert cursor.fetchone()[0] is None


@pytest.mark.django_db(transaction=True)
def test_migrating_back_past_the_tombstones_is_refused_while_an_archive_schema_is_dropped(two_years, tmp_path):
    old, _twin, _current = two_years
    archive_year(OLD, "--commit", "--to", tmp_path, "--drop")
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        with pytest.raises(RuntimeError, match=f"the archive schema of {OLD} \\({archive_schema(OLD)}\\) is not in"):
            migrate([("reports", "0036_reports_partitioned_by_year")])
        assert ReportKey.objects.filter(key=f"code:{old.tracking_code}", report=None, archived_year=OLD).exists()
        assert YearArchive.objects.filter(year=OLD).exists()
    finally:
        migrate(latest)


@pytest.mark.django_db(transaction=True)
def test_the_tombstones_migration_stops_on_a_year_archived_before_it_whose_partitions_were_made_again(two_years):
    archive_year(OLD, "--commit")
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        migrate([("reports", "0036_reports_partitioned_by_year")])
        low, high = OLD * YEAR_ID_BASE, (OLD + 1) * YEAR_ID_BASE
        with connection.cursor() as cursor:  # as add_year_partitions did before 0037 recorded archived years
            cursor.execute(
                f"CREATE TABLE reports_report_y{OLD} PARTITION OF reports_report FOR VALUES FROM ({low}) TO ({high})"
            )
        with pytest.raises(RuntimeError, match=f"{OLD} was archived into the schema {archive_schema(OLD)}, but its"):
            migrate(latest)
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('reports_yeararchive')")
            assert cursor.fetchone()[0] is None
            cursor.execute(f"ALTER TABLE reports_report DETACH PARTITION reports_report_y{OLD}")
            cursor.execute(f"DROP TABLE reports_report_y{OLD}")
    finally:
        migrate(latest)
        archive_drop(year=OLD)


@pytest.mark.django_db(transaction=True)
def test_a_row_committed_after_its_table_was_moved_makes_its_parent_s_move_fail_and_nothing_is_archived(
    make_report, monkeypatch
):
    endpoint = WebhookEndpoint.objects.create(description="Prueba", url="https://example.cl/hook", secret="s" * 32)
    old = filed_in(monkeypatch, make_report, OLD)
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=old, status="resolved", actor_label="Prueba")
    long_done(old)
    delivery = WebhookDelivery.objects.filter(report=old).first()
    other = other_connection()

    def attempt_committed_late(execute, sql, params, many, context):
        if 'DELETE FROM "webhooks_webhookdelivery"' in sql:  # the attempts were moved already
            with other.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO webhooks_webhookattempt (delivery_id, endpoint_id, attempted_at, latency_ms, "
                    "response_excerpt, error, status_code) VALUES (%s, %s, now(), 5, '', '', 200)",
                    [delivery.pk, endpoint.pk],
                )
        return execute(sql, params, many, context)

    try:
        with (
            connection.execute_wrapper(attempt_committed_late),
            pytest.raises(
                CommandError,
                match="Otra sesión agregó durante el archivo una fila que apunta a webhooks_webhookdelivery",
            ),
        ):
            archive_year(OLD, "--commit")
    finally:
        other.close()
    assert Report.objects.filter(pk=old.pk).exists() and missing_partitions(OLD) == []
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1 and not YearArchive.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regnamespace(%s)", [archive_schema(OLD)])
        assert cursor.fetchone()[0] is None


def archived_rows(schema: str, sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql.format(schema=f'"{schema}"'))
        return cursor.fetchall()


def test_webhook_deliveries_pending_to_an_active_endpoint_hold_the_archive_back(two_years):
    old, _twin, current = two_years
    endpoint = WebhookEndpoint.objects.create(description="Sistema de obras", url="https://example.cl/hook")
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=old.events.latest("id"),
        report=old,
        next_attempt_at=timezone.now(),
        created_at=timezone.now(),
    )
    message = f"{OLD} tiene 1 envíos de webhooks pendientes a destinos activos \\(Sistema de obras\\)"
    with pytest.raises(CommandError, match=message):
        archive_year(OLD)
    with pytest.raises(CommandError, match=message):
        archive_year(OLD, "--commit")
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING and Report.objects.filter(pk=old.pk).exists()
    assert missing_partitions(OLD) == [] and not YearArchive.objects.exists()


def test_webhook_deliveries_pending_to_an_inactive_endpoint_are_archived_marked_unsent_and_logged(two_years, caplog):
    old, twin, current = two_years
    endpoint = WebhookEndpoint.objects.create(description="Sistema antiguo", url="https://example.cl/hook")
    events = list(ReportEvent.objects.filter(report__in=[old, twin]).order_by("id")[:2])
    for event in events:
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            event=event,
            report_id=event.report_id,
            next_attempt_at=timezone.now(),
            created_at=timezone.now(),
        )
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    report_change_status(
        public_note=EXPLAINED_BY_CALLER, report=current, status="acknowledged", actor_label="Prueba"
    )  # queued for it too
    live = WebhookDelivery.objects.filter(endpoint=endpoint, report=current)
    assert live.filter(state=DeliveryState.PENDING).count() == 1

    out = archive_year(OLD, "--commit")

    line = "webhooks: 2 envíos pendientes a destinos inactivos se archivan sin enviar (Sistema antiguo: 2)"
    assert f"{line}\n" in out and line in caplog.text
    states = archived_rows(archive_schema(OLD), "SELECT event_id, state FROM {schema}.webhooks_webhookdelivery")
    assert sorted(states) == sorted((event.pk, DeliveryState.ARCHIVED) for event in events)
    # Another year's events (the archive's note on the duplicate too) still go out once the endpoint is active.
    assert list(live.values_list("state", flat=True)) == [DeliveryState.PENDING] * 2
    assert not WebhookDelivery.objects.filter(report_id__in=[old.pk, twin.pk]).exists()


def closed_request_of(year: int, monkeypatch, make_report) -> Report:
    call_command("add_year_partitions", "--year", str(year), stdout=StringIO())
    with monkeypatch.context() as patched:
        patched.setattr(create.timezone, "now", lambda: datetime(year, 5, 4, 10, tzinfo=SANTIAGO))
        report = make_report()
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status="resolved", actor_label="Prueba")
    Report.objects.filter(pk=report.pk).update(closed_at=datetime(year, 6, 3, 12, tzinfo=SANTIAGO))
    Notification.objects.filter(report=report).update(delivery=Delivery.SENT)
    WebhookDelivery.objects.filter(report=report).update(state=DeliveryState.DELIVERED)
    return report


@pytest.mark.django_db(transaction=True)
def test_several_years_archived_by_a_run_stopped_midway_are_finished_by_the_same_command_again(
    make_report, monkeypatch, tmp_path
):
    years = (2016, 2017, 2018)
    reports = {year: closed_request_of(year, monkeypatch, make_report) for year in years}
    dumps = tmp_path / "archivo"
    command = ("2016", "--through", "2018", "--commit", "--to", dumps, "--drop")
    real_dump = archive.archive_dump

    def pg_dump_fails_in_2017(*, year, to):
        if year == 2017:
            raise archive.DumpFailed("pg_dump: could not write to file: No space left on device")
        return real_dump(year=year, to=to)

    try:
        with monkeypatch.context() as patched:
            patched.setattr(archive, "archive_dump", pg_dump_fails_in_2017)
            with pytest.raises(
                CommandError, match="2017 quedó archivado en el esquema archive_y2017, pero no se guardó"
            ):
                archive_year(*command)
        assert list(YearArchive.objects.order_by("year").values_list("year", "dump")) == [
            (2016, str(dumps / "geo_siac_archive_y2016.dump")),
            (2017, ""),
        ]
        assert Report.objects.filter(pk=reports[2018].pk).exists()
        first_dump = (dumps / "geo_siac_archive_y2016.dump").stat().st_mtime_ns

        out = archive_year(*command)

        assert out.startswith(
            f"2016 ya hecho: archivado en el esquema archive_y2016; guardado en {dumps}/geo_siac_archive_y2016.dump; "
            "esquema archive_y2016 ya eliminado.\n"
            "2017 ya hecho: archivado en el esquema archive_y2017.\n"
            f"guardado en {dumps}/geo_siac_archive_y2017.dump\neliminado el esquema archive_y2017\n"
        )
        assert "archive_y2018.reports_report: 1\n" in out and out.endswith("eliminado el esquema archive_y2018\n")
        assert (dumps / "geo_siac_archive_y2016.dump").stat().st_mtime_ns == first_dump  # not dumped again
        assert [year for year, dump in YearArchive.objects.values_list("year", "dump") if dump] == [2016, 2017, 2018]
        assert not Report.objects.filter(pk__in=[r.pk for r in reports.values()]).exists()
        for year in years:
            assert missing_partitions(year) and not archive.schema_exists(archive_schema(year))
        assert archive_year(*command).count("ya hecho") == 3  # a third run changes nothing
    finally:
        for year in years:
            if archive.schema_exists(archive_schema(year)):
                archive_drop(year=year)


@pytest.mark.django_db(transaction=True)
def test_a_schema_whose_recorded_dump_is_unreadable_is_dumped_again_before_it_is_dropped(two_years, tmp_path):
    archive_year(OLD, "--commit", "--to", tmp_path)
    dump = tmp_path / f"geo_siac_{archive_schema(OLD)}.dump"
    dump.write_bytes(b"truncated")

    out = archive_year(OLD, "--commit", "--to", tmp_path, "--drop")

    assert out == (
        f"{OLD} ya hecho: archivado en el esquema {archive_schema(OLD)}.\n"
        f"guardado en {dump}\neliminado el esquema {archive_schema(OLD)}\n"
    )
    assert archive.dump_readable(dump, archive_schema(OLD))


@pytest.mark.django_db(transaction=True)
def test_a_dropped_year_whose_dump_was_recorded_before_its_checksums_is_adopted_if_whole(two_years, tmp_path):
    archive_year(OLD, "--commit", "--to", tmp_path, "--drop")
    dump = tmp_path / f"geo_siac_{archive_schema(OLD)}.dump"
    YearArchive.objects.filter(year=OLD).update(dump_size=None, dump_sha256="")  # as recorded before 0040

    out = archive_year(OLD, "--commit", "--to", tmp_path, "--drop")  # as a batch (--through) run again

    assert out == (
        f"{OLD} ya hecho: archivado en el esquema {archive_schema(OLD)}; guardado en {dump}; "
        f"esquema {archive_schema(OLD)} ya eliminado.\n"
    )
    record = YearArchive.objects.get(year=OLD)
    assert (record.dump_size, record.dump_sha256) == archive.file_digest(dump)
    # One that does not read whole is not adopted: the refusal names it and what to do.
    YearArchive.objects.filter(year=OLD).update(dump_size=None, dump_sha256="")
    dump.write_bytes(dump.read_bytes()[:-200])
    with pytest.raises(CommandError, match=f"el anotado, {dump}, falta, cambió desde que se anotó o no se lee entero"):
        archive_year(OLD, "--commit", "--to", tmp_path, "--drop")
    assert YearArchive.objects.get(year=OLD).dump_sha256 == ""


def test_through_before_the_first_year_is_refused(db):
    with pytest.raises(CommandError, match="--through 2017 es anterior a --year 2019"):
        archive_year(OLD, "--through", "2017")


@pytest.mark.django_db(transaction=True)
def test_a_delivery_being_sent_when_the_archive_starts_is_archived_as_the_worker_leaves_it_not_marked_unsent(
    two_years,
):
    old, _twin, _current = two_years
    endpoint = WebhookEndpoint.objects.create(description="Sistema de obras", url="https://example.cl/hook")
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=old.events.latest("id"),
        report=old,
        next_attempt_at=timezone.now(),
        created_at=timezone.now(),
    )
    worker = other_connection()  # as webhook_delivery_send: the row and its event read, locked, while it posts
    with worker.cursor() as cursor:
        cursor.execute(
            "BEGIN; SELECT d.id FROM webhooks_webhookdelivery d JOIN reports_reportevent e ON e.id = d.event_id "
            "WHERE d.id = %s AND d.state = 'pending' FOR UPDATE OF d SKIP LOCKED",
            [delivery.pk],
        )
        assert cursor.fetchall() == [(delivery.pk,)]
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)  # deactivated meanwhile

    def answered():
        with worker.cursor() as cursor:
            cursor.execute("UPDATE webhooks_webhookdelivery SET state = 'delivered' WHERE id = %s", [delivery.pk])
            cursor.execute("COMMIT")

    answer = threading.Timer(1.5, answered)
    answer.start()
    try:
        out = archive_year(OLD, "--commit", "--lock-timeout", "10")
        schema = archive_schema(OLD)
        states = archived_rows(schema, "SELECT id, state FROM {schema}.webhooks_webhookdelivery")
    finally:
        answer.cancel()
        worker.close()
        if archive.schema_exists(archive_schema(OLD)):
            archive_drop(year=OLD)
    assert "webhooks:" not in out  # nothing left pending to mark
    assert states == [(delivery.pk, DeliveryState.DELIVERED)]
