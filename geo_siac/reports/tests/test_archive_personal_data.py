"""A citizen's rights of access and erasure (Ley 19.628 / 21.719) reach the years archived by `archive_year`: the
export includes the rows of the archive schemas, the erasure redacts them as it does the live ones, and a year only
in a dump is named, never passed over in silence."""

import io
import json
import subprocess

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from geo_siac.citizens.services import citizen_data_erase
from geo_siac.citizens.tests.test_personal_data import photo
from geo_siac.notifications.models import Notification
from geo_siac.reports import archive
from geo_siac.reports.archive import archive_drop, archive_schema
from geo_siac.reports.archived import archive_schemas_align
from geo_siac.reports.models import Follower, PendingErasure, Report, ReportPhoto, YearArchive
from geo_siac.reports.services import ERASED, EXPLAINED_BY_CALLER, report_change_status
from geo_siac.reports.tests.test_archive_year import OLD, archive_year, filed_in, long_done

VECINA = "vecina@example.cl"
NAME = "Marta Olivares Fuentes"
PHONE = "+56 9 8765 4321"


@pytest.fixture
def archived_vecina(make_report, monkeypatch, settings, tmp_path):
    """Marta's 2019 request (a photo, a message to her, a note naming her, a follower), a 2019 request filed by
    phone only, and one of hers this year; 2019 archived."""
    settings.MEDIA_ROOT = tmp_path
    old = filed_in(
        monkeypatch, make_report, OLD, reporter_name=NAME, reporter_email=VECINA, reporter_phone=PHONE, photo=photo()
    )
    photo_file = tmp_path / ReportPhoto.objects.get(report=old).image.name
    report_change_status(
        public_note=EXPLAINED_BY_CALLER,
        report=old,
        status="resolved",
        note=f"Se llamó a {NAME} al {PHONE}.",
        actor_label="Prueba",
    )
    Follower.objects.create(report=old, email="otra@example.cl", created_at=timezone.now())
    by_phone = filed_in(monkeypatch, make_report, OLD, reporter_name="Luis Paz", reporter_phone="912345678")
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=by_phone, status="resolved", actor_label="Prueba")
    long_done(old, by_phone)
    current = make_report(reporter_name=NAME, reporter_email=VECINA)
    assert Notification.objects.filter(report=old, recipient=VECINA).exists()
    archive_year(OLD, "--commit")
    return {"old": old, "by_phone": by_phone, "current": current, "photo": photo_file}


def exported(tmp_path, *who) -> dict:
    path = tmp_path / "datos.json"
    call_command("reporter_data", *who, "--export", str(path), stdout=io.StringIO())
    return json.loads(path.read_text())


def archive_cells_holding(text: str) -> list[str]:
    """The archive's tables with a row whose text holds `text` anywhere."""
    schema = archive_schema(OLD)
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relnamespace = %s::regnamespace AND relkind = 'r'", [schema])
        tables = [name for (name,) in cursor.fetchall()]
        found = []
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{schema}"."{table}" t WHERE t::text ILIKE %s', [f"%{text}%"])
            if cursor.fetchone()[0]:
                found.append(table)
    return sorted(found)


def test_the_export_includes_the_archived_years_rows(archived_vecina, tmp_path):
    data = exported(tmp_path, "--email", VECINA)

    old = archived_vecina["old"]
    by_year = {r["tracking_code"]: r for r in data["reports"]}
    assert set(by_year) == {old.tracking_code, archived_vecina["current"].tracking_code}
    assert by_year[old.tracking_code]["archived_year"] == OLD
    assert (by_year[old.tracking_code]["reporter_name"], by_year[old.tracking_code]["reporter_phone"]) == (NAME, PHONE)
    assert len(by_year[old.tracking_code]["photos"]) == 1
    assert "archived_year" not in by_year[archived_vecina["current"].tracking_code]
    assert [n["archived_year"] for n in data["notifications"] if "archived_year" in n]  # the 2019 messages to her
    assert data["archived_years_not_read"] == []
    by_phone = exported(tmp_path, "--phone", "+56 9 1234 5678")
    assert [(r["tracking_code"], r["archived_year"]) for r in by_phone["reports"]] == [
        (archived_vecina["by_phone"].tracking_code, OLD)
    ]


def test_the_erasure_reaches_the_archive_and_leaves_nothing_personal_there(
    archived_vecina, tmp_path, django_capture_on_commit_callbacks
):
    assert archive_cells_holding(VECINA) and archive_cells_holding("Olivares")
    out = io.StringIO()

    assert archived_vecina["photo"].exists()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("reporter_data", "--email", VECINA, "--erase", "--commit", stdout=out)
    call_command("reporter_data", "--phone", "912345678", "--erase", "--commit", stdout=io.StringIO())

    assert f"archived_years_searched: [{OLD}]\n" in out.getvalue()
    assert archive_cells_holding(VECINA) == [] and archive_cells_holding("Olivares") == []
    assert archive_cells_holding("8765") == [] and archive_cells_holding("Luis Paz") == []
    assert archive_cells_holding("otra@example.cl") == ["reports_follower"]  # someone else's follow stays
    assert not archived_vecina["photo"].exists()
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT count(*), count(*) FILTER (WHERE subject = %s) FROM "{archive_schema(OLD)}".notifications_notification '
            "WHERE report_id = %s",
            [ERASED, archived_vecina["old"].pk],
        )
        messages, erased = cursor.fetchone()
        cursor.execute(
            f'SELECT note FROM "{archive_schema(OLD)}".reports_reportevent WHERE note LIKE %s', ["Se llamó%"]
        )
        assert cursor.fetchall() == [(f"Se llamó a {ERASED} al {ERASED}.",)]
    assert messages == erased >= 1
    data = exported(tmp_path, "--email", VECINA)
    assert data["reports"] == [] and data["notifications"] == []


@pytest.mark.django_db(transaction=True)  # the column is added in its own transaction, before the read's
def test_an_archive_made_before_a_column_existed_is_read_and_erased_all_the_same(archived_vecina, tmp_path):
    with connection.cursor() as cursor:  # as if media_url had been added to the live table after 2019's archive
        cursor.execute(f'ALTER TABLE "{archive_schema(OLD)}".reports_report DROP COLUMN media_url')
    try:
        # No migrate needed: the export adds the column first, with the live column's default ('')
        assert [r["media_url"] for r in exported(tmp_path, "--email", VECINA)["reports"]] == ["", ""]
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER TABLE "{archive_schema(OLD)}".reports_report DROP COLUMN media_url')
        out = io.StringIO()
        call_command("reporter_data", "--email", VECINA, "--erase", "--commit", stdout=out)
        assert f"archived_years_searched: [{OLD}]\n" in out.getvalue()
        assert archive_cells_holding(VECINA) == []
    finally:
        archive_drop(year=OLD)


@pytest.mark.django_db(transaction=True)
def test_an_erasure_with_padded_email_reaches_every_row(archived_vecina, tmp_path):
    try:
        data = exported(tmp_path, "--email", "  Vecina@Example.CL ")
        assert len(data["reports"]) == 2
        summary = citizen_data_erase(email="  Vecina@Example.CL ", commit=True)  # as typed, padded
        assert summary.reports_anonymised == 2 and summary.archived_years_searched == [OLD]
        assert not Report.objects.filter(reporter_email__iexact=VECINA).exists()
        assert archive_cells_holding(VECINA) == []
        assert data["email"] == VECINA
    finally:
        archive_drop(year=OLD)


def test_the_command_refuses_a_schema_it_cannot_align_naming_it_and_the_fix(archived_vecina, tmp_path):
    # Within a transaction (the test's) the column is not added (archived.archive_schemas_prepare): as a schema
    # whose table a backup holds.
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{archive_schema(OLD)}".reports_report DROP COLUMN media_url')
    path = tmp_path / "datos.json"
    with pytest.raises(CommandError, match=f"{archive_schema(OLD)} no tiene las columnas .*manage.py migrate"):
        call_command("reporter_data", "--email", VECINA, "--export", str(path), stdout=io.StringIO())
    assert not path.exists()
    archive_schemas_align()
    assert len(exported(tmp_path, "--email", VECINA)["reports"]) == 2


def dump_text(dump: str) -> str:
    return subprocess.run(
        ["pg_restore", "--data-only", "-f", "-", dump], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.django_db(transaction=True)
def test_a_year_only_in_a_dump_is_named_then_erased_once_restored_and_dumped_again(make_report, monkeypatch, tmp_path):
    old = filed_in(monkeypatch, make_report, OLD, reporter_email=VECINA)
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=old, status="resolved", actor_label="Prueba")
    long_done(old)
    dumps = tmp_path / "archivo"
    archive_year(OLD, "--commit", "--to", dumps, "--drop")
    dump = str(dumps / f"geo_siac_{archive_schema(OLD)}.dump")
    assert VECINA in dump_text(dump)

    assert exported(tmp_path, "--email", VECINA)["archived_years_not_read"] == [{"year": OLD, "dump": dump}]
    out = io.StringIO()
    call_command("reporter_data", "--email", VECINA, "--erase", "--commit", stdout=out)
    assert f"archived_years_not_reached: ['{OLD} ({dump})']" in out.getvalue()
    assert f"El borrado no alcanza {OLD} ({dump})" in out.getvalue()
    assert PendingErasure.objects.get().archive_id == OLD

    arguments, environment = archive.pg_environment()  # restored as docs/deployment.md says, then erased again
    subprocess.run(["pg_restore", *arguments, dump], env=environment, check=True, capture_output=True)
    try:
        out = io.StringIO()
        call_command("reporter_data", "--email", VECINA, "--erase", "--commit", stdout=out)
        assert f"archived_years_searched: [{OLD}]\n" in out.getvalue()
        assert f"{dump} aún contiene lo borrado" in out.getvalue()
        assert YearArchive.objects.get(year=OLD).dump == ""  # so that --drop waits for a new dump
        # The first erasure's, pending for 2019, done by this one: kept, marked applied, until a new dump is recorded
        assert PendingErasure.objects.get().applied_at is not None

        rerun = archive_year(OLD, "--commit", "--to", dumps, "--drop")
    finally:
        if archive.schema_exists(archive_schema(OLD)):
            archive_drop(year=OLD)
    assert rerun == (
        f"{OLD} ya hecho: archivado en el esquema {archive_schema(OLD)}.\n"
        f"guardado en {dump}\neliminado el esquema {archive_schema(OLD)}\n"
    )
    assert VECINA not in dump_text(dump) and YearArchive.objects.get(year=OLD).dump == dump
    assert not PendingErasure.objects.exists()  # the new dump holds the erasure: its record goes
