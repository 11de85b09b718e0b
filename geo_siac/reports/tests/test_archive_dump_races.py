"""An archived year's dump and the erasures, exports and webhooks around it (issue #26 point 3, review 7): an erasure
committed while pg_dump runs or just before the DROP SCHEMA is never lost with the schema, a dump cut short is never
taken for a whole one, a read never alters an archive table, a webhook endpoint re-activated during the archive
refuses it, and a dry-run erasure says nothing was erased."""

import io
import subprocess
import threading
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.utils import timezone

from geo_siac.citizens.selectors import citizen_data
from geo_siac.citizens.services import citizen_data_erase
from geo_siac.reports import archive, archived
from geo_siac.reports.archive import archive_drop, archive_schema
from geo_siac.reports.archived import ArchiveColumnsMissing, archive_schemas_align
from geo_siac.reports.models import Follower, YearArchive
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status
from geo_siac.reports.tests.test_archive_year import OLD, archive_year, filed_in, long_done, other_connection
from geo_siac.webhooks import archive as webhooks_archive
from geo_siac.webhooks.models import DeliveryState, WebhookDelivery, WebhookEndpoint

VECINA = "vecina@example.cl"


def dump_text(dump: str) -> str:
    return subprocess.run(
        ["pg_restore", "--data-only", "-f", "-", dump], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def vecina_2019(make_report, monkeypatch):
    """A closed 2019 request of vecina@example.cl, followed by seguidora@example.cl; 2019 not yet archived."""
    old = filed_in(monkeypatch, make_report, OLD, reporter_email=VECINA)
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=old, status="resolved", actor_label="Prueba")
    Follower.objects.create(report=old, email="seguidora@example.cl", created_at=timezone.now())
    long_done(old)
    yield old
    if archive.schema_exists(archive_schema(OLD)):
        archive_drop(year=OLD)


@pytest.mark.django_db(transaction=True)
def test_an_erasure_committed_while_pg_dump_runs_is_in_the_dump_recorded_before_the_drop(
    vecina_2019, monkeypatch, tmp_path
):
    archive_year(OLD, "--commit")
    original = archive.dump_readable
    erased = []

    def readable(path, schema):
        if str(path).endswith(".partial") and not erased:
            # pg_dump has finished (its snapshot taken before); a citizen erases from "Mis solicitudes" now
            erased.append(citizen_data_erase(email=VECINA, commit=True))
        return original(path, schema)

    monkeypatch.setattr(archive, "dump_readable", readable)
    dumps = tmp_path / "d"
    out = archive_year(OLD, "--commit", "--to", dumps, "--drop")
    dump = str(dumps / f"geo_siac_{archive_schema(OLD)}.dump")
    assert VECINA not in dump_text(dump)  # dumped again after the erasure
    assert erased[0].archived_years_searched == [OLD]
    assert "eliminado el esquema" in out
    record = YearArchive.objects.get(year=OLD)
    assert record.dump == dump and record.erasures == 1
    assert "seguidora@example.cl" in dump_text(dump)


@pytest.mark.django_db(transaction=True)
def test_a_dump_outdated_by_every_attempt_is_refused_and_the_schema_kept(vecina_2019, monkeypatch, tmp_path):
    archive_year(OLD, "--commit")
    original = archive.dump_readable

    def readable(path, schema):  # an erasure changes the schema during every pg_dump
        YearArchive.objects.filter(year=OLD).update(erasures=F("erasures") + 1)
        return original(path, schema)

    monkeypatch.setattr(archive, "dump_readable", readable)
    dumps = tmp_path / "d"
    with pytest.raises(CommandError, match="quedaron atrasados por borrados"):
        archive_year(OLD, "--commit", "--to", dumps, "--drop")
    assert archive.schema_exists(archive_schema(OLD))
    assert YearArchive.objects.get(year=OLD).dump == ""
    assert not list(dumps.iterdir())  # neither a dump nor its .partial left


@pytest.mark.django_db(transaction=True)
def test_an_erasure_committed_between_the_dump_check_and_the_drop_keeps_the_schema(vecina_2019, monkeypatch, tmp_path):
    dumps = tmp_path / "d"
    archive_year(OLD, "--commit", "--to", dumps)
    dump = str(dumps / f"geo_siac_{archive_schema(OLD)}.dump")
    original = archive.year_schema_drop
    erased = []

    def drop(*, year, dump):
        erased.append(citizen_data_erase(email=VECINA, commit=True))  # commits just before the drop's transaction
        return original(year=year, dump=dump)

    monkeypatch.setattr(archive, "year_schema_drop", drop)
    with pytest.raises(CommandError, match="no se elimina"):
        archive_year(OLD, "--commit", "--to", dumps, "--drop")
    assert erased[0].archived_dumps_outdated == [dump]
    assert archive.schema_exists(archive_schema(OLD)) and YearArchive.objects.get(year=OLD).dump == ""
    monkeypatch.setattr(archive, "year_schema_drop", original)
    out = archive_year(OLD, "--commit", "--to", dumps, "--drop")  # the same command again: dumped again, dropped
    assert "guardado en" in out and "eliminado el esquema" in out
    assert VECINA not in dump_text(dump)


@pytest.mark.django_db(transaction=True)
def test_an_erasure_started_during_the_drop_waits_for_it_and_names_the_year_as_only_in_its_dump(
    vecina_2019, monkeypatch, tmp_path
):
    dumps = tmp_path / "d"
    archive_year(OLD, "--commit", "--to", dumps)
    original = archive.archive_drop
    erased = []

    def erase():
        try:
            erased.append(citizen_data_erase(email=VECINA, commit=True))
        finally:
            connection.close()

    eraser = threading.Thread(target=erase)

    def drop(*, year):  # the row is locked and the dump checked: an erasure starts in another session
        eraser.start()
        time.sleep(1)
        return original(year=year)

    monkeypatch.setattr(archive, "archive_drop", drop)
    out = archive_year(OLD, "--commit", "--to", dumps, "--drop")
    eraser.join(30)
    assert "eliminado el esquema" in out
    dump = str(dumps / f"geo_siac_{archive_schema(OLD)}.dump")
    assert erased[0].archived_years_searched == []
    assert erased[0].archived_years_not_reached == [f"{OLD} ({dump})"]


@pytest.mark.django_db(transaction=True)
def test_a_recorded_dump_cut_short_is_written_again_before_the_drop(make_report, monkeypatch, tmp_path):
    for i in range(30):
        old = filed_in(monkeypatch, make_report, OLD, reporter_email=f"v{i}@example.cl")
        report_change_status(public_note=EXPLAINED_BY_CALLER, report=old, status="resolved", actor_label="Prueba")
        long_done(old)
    dumps = tmp_path / "d"
    try:
        archive_year(OLD, "--commit", "--to", dumps)
        dump = dumps / f"geo_siac_{archive_schema(OLD)}.dump"
        data = dump.read_bytes()
        dump.write_bytes(data[: len(data) - 64])  # a copy cut short (disk full, an interrupted rsync)
        listing = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True, text=True)
        assert listing.returncode == 0  # its table of contents still reads
        assert not archive.dump_readable(dump, archive_schema(OLD))
        assert not archive.dump_intact(YearArchive.objects.get(year=OLD))
        out = archive_year(OLD, "--commit", "--to", dumps, "--drop")
        assert "guardado en" in out and "eliminado el esquema" in out
        whole = subprocess.run(["pg_restore", "-f", "/dev/null", str(dump)], capture_output=True, text=True)
        assert whole.returncode == 0 and dump.stat().st_size == YearArchive.objects.get(year=OLD).dump_size
    finally:
        if archive.schema_exists(archive_schema(OLD)):
            archive_drop(year=OLD)


@pytest.mark.django_db(transaction=True)
def test_a_dump_changed_after_it_was_recorded_is_not_dropped_on(vecina_2019, monkeypatch, tmp_path):
    dumps = tmp_path / "d"
    archive_year(OLD, "--commit", "--to", dumps)
    original = archive.year_schema_drop

    def drop(*, year, dump):
        dump.write_bytes(dump.read_bytes() + b"\0")  # another file under its name since it was checked
        return original(year=year, dump=dump)

    monkeypatch.setattr(archive, "year_schema_drop", drop)
    with pytest.raises(CommandError, match="no está entero"):
        archive_year(OLD, "--commit", "--to", dumps, "--drop")
    assert archive.schema_exists(archive_schema(OLD))


def hold(schema: str):
    """Another session holding an archive table as pg_dump does (ACCESS SHARE until it ends)."""
    other = other_connection()
    with other.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute(f'LOCK TABLE "{schema}".reports_report IN ACCESS SHARE MODE')
    return other


@pytest.mark.django_db(transaction=True)
def test_a_read_aligns_the_archive_first_and_refuses_only_a_schema_it_cannot_align(vecina_2019, monkeypatch, caplog):
    archive_year(OLD, "--commit")
    schema = archive_schema(OLD)
    monkeypatch.setattr(archived, "ALIGN_LOCK_SECONDS", 1)
    with connection.cursor() as cursor:  # as if media_url had been added to the live table after the archive
        cursor.execute(f'ALTER TABLE "{schema}".reports_report DROP COLUMN media_url')
    # A pg_dump holds the table: the alignment gives up after its lock timeout and that schema is refused, nothing
    # exported nor erased.
    other = hold(schema)
    try:
        with pytest.raises(ArchiveColumnsMissing, match=f"{schema} no tiene las columnas reports_report.media_url"):
            citizen_data(VECINA)
        with pytest.raises(ArchiveColumnsMissing):
            citizen_data_erase(email=VECINA, commit=True)
    finally:
        other.close()
    assert f"archive schema {schema} not aligned" in caplog.text and "manage.py migrate again" in caplog.text
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{schema}".reports_report WHERE reporter_email = %s', [VECINA])
        assert cursor.fetchone()[0] == 1
    # Once the table is free, the read adds the column itself (the live default), in its own transaction.
    assert [r["media_url"] for r in citizen_data(VECINA)["reports"]] == [""]
    # Another session adding the column meanwhile: aligning waits for it, then finds it there, no error.
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{schema}".reports_report DROP COLUMN media_url')
    other = other_connection()
    with other.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute(f'ALTER TABLE "{schema}".reports_report ADD COLUMN media_url varchar(200)')
    timer = threading.Timer(0.5, lambda: other.cursor().execute("COMMIT"))
    timer.start()
    try:
        archive_schemas_align()
    finally:
        timer.join()
    # An aligned schema is read without waiting behind a pg_dump: the read takes no lock it would queue for.
    other = hold(schema)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '500ms'")
        assert [r["media_url"] for r in citizen_data(VECINA)["reports"]] == [None]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
        other.close()


@pytest.mark.django_db(transaction=True)
def test_migrate_warns_and_succeeds_when_a_backup_holds_an_archive_table(vecina_2019, monkeypatch, caplog):
    archive_year(OLD, "--commit")
    schema = archive_schema(OLD)
    monkeypatch.setattr(archived, "ALIGN_LOCK_SECONDS", 1)
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE reports_report ADD COLUMN rev11_flag integer NOT NULL DEFAULT 11")
    other = hold(schema)
    try:
        call_command("migrate", "reports", verbosity=0)  # its migrations committed: it does not fail for the lock
        other.close()
        assert f"archive schema {schema} not aligned" in caplog.text
        # The erasure adds the column first, then reaches the year.
        assert citizen_data_erase(email=VECINA, commit=True).archived_years_searched == [OLD]
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT rev11_flag, reporter_email FROM "{schema}".reports_report')
            assert cursor.fetchall() == [(11, "")]
    finally:
        other.close()
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE reports_report DROP COLUMN rev11_flag")


@pytest.mark.django_db(transaction=True)
def test_aligning_copies_the_live_column_s_default(vecina_2019):
    archive_year(OLD, "--commit")
    schema = archive_schema(OLD)
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE reports_report ADD COLUMN rev7_flag integer NOT NULL DEFAULT 7")
    try:
        call_command("migrate", "reports", verbosity=0)  # post_migrate aligns every archive schema
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT rev7_flag FROM "{schema}".reports_report')
            assert cursor.fetchall() == [(7,)]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE reports_report DROP COLUMN rev7_flag")


def test_an_endpoint_re_activated_after_the_check_refuses_the_archive(vecina_2019):
    old = vecina_2019
    endpoint = WebhookEndpoint.objects.create(description="Obras", url="https://example.cl/hook", is_active=False)
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=old.events.latest("id"),
        report=old,
        next_attempt_at=timezone.now(),
        created_at=timezone.now(),
    )
    original = webhooks_archive.PARTICIPANT.refusal

    def refusal(year):
        answer = original(year)
        # an admin re-activates the endpoint after the check, before settle
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=True)
        return answer

    participants = dict(archive.ARCHIVE_PARTICIPANTS)
    participants["webhooks"] = archive.ArchiveParticipant("webhooks", refusal, webhooks_archive.PARTICIPANT.settle)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(archive, "ARCHIVE_PARTICIPANTS", participants)
        with pytest.raises(CommandError, match="reactivados durante el archivo \\(Obras\\)"):
            archive_year(OLD, "--commit")
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING
    assert not YearArchive.objects.filter(year=OLD).exists()


@pytest.mark.django_db(transaction=True)
def test_a_dry_run_erasure_neither_warns_nor_changes_the_record(vecina_2019, tmp_path, caplog):
    dumps = tmp_path / "d"
    archive_year(OLD, "--commit", "--to", dumps)
    out = io.StringIO()
    call_command("reporter_data", "--email", VECINA, "--erase", stdout=out)  # a dry run
    assert "Simulación" in out.getvalue() and "aún contiene lo borrado" not in out.getvalue()
    assert "tras borrar habrá que guardarlo de nuevo" in out.getvalue()
    assert "dumps holding erased data" not in caplog.text
    record = YearArchive.objects.get(year=OLD)
    assert record.dump and record.erasures == 0


@pytest.mark.django_db(transaction=True)
def test_an_archived_follow_says_its_year_in_the_export(vecina_2019):
    archive_year(OLD, "--commit")
    assert citizen_data("seguidora@example.cl")["following"] == [
        {"tracking_code": vecina_2019.tracking_code, "archived_year": OLD}
    ]


@pytest.mark.django_db(transaction=True)
def test_a_relative_to_records_an_absolute_dump_path(vecina_2019, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    archive_year(OLD, "--commit", "--to", "d")
    assert YearArchive.objects.get(year=OLD).dump == str(tmp_path / "d" / f"geo_siac_{archive_schema(OLD)}.dump")
