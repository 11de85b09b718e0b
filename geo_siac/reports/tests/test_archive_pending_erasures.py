"""An erasure that meets an archived year only in its dump (`archive_year --drop`) is recorded as pending, by a keyed
digest of the person, never their address or number, and applied to that year's schema once it is restored
(`apply_pending_erasures`, `migrate`, or `archive_year` before it dumps again): to the schema only, as of the
erasure, once (issue #26 point 3)."""

import hashlib
import io
import json
import subprocess
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from geo_siac.citizens.services import citizen_data_erase
from geo_siac.citizens.tests.test_personal_data import photo
from geo_siac.citizens.tests.test_sign_in import sign_in
from geo_siac.reports import archive
from geo_siac.reports.archive import archive_drop, archive_schema
from geo_siac.reports.models import (
    ErasureDigestKey,
    EventKind,
    Follower,
    PendingErasure,
    Report,
    ReportPhoto,
    YearArchive,
)
from geo_siac.reports.services import EXPLAINED_BY_CALLER, erasure, report_change_status
from geo_siac.reports.services.erasure import pending_erasures_apply
from geo_siac.reports.services.status import public_line
from geo_siac.reports.tests.test_archive_year import OLD, archive_year, filed_in, long_done

VECINA = "vecina@example.cl"
NAME = "Marta Olivares Fuentes"
PHONE = "+56 9 8765 4321"
OTRA = "ana.soto@example.cl"
LUIS_PHONE = "912345678"
SCHEMA = archive_schema(OLD)

pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump and pg_restore see only what is committed


@pytest.fixture
def dumped_2019(make_report, monkeypatch, settings, tmp_path):
    """2019, archived, dumped and dropped: Marta's request (her name, number, a photo, notes naming her), her follow
    of Ana's request, and Luis's request filed by phone only; Marta also filed a request this year."""
    settings.MEDIA_ROOT = tmp_path / "media"
    old = filed_in(
        monkeypatch, make_report, OLD, reporter_name=NAME, reporter_email=VECINA, reporter_phone=PHONE, photo=photo()
    )
    photo_file = settings.MEDIA_ROOT / ReportPhoto.objects.get(report=old).image.name
    report_change_status(
        public_note=EXPLAINED_BY_CALLER,
        report=old,
        status="resolved",
        note=f"Se llamó a {NAME} al {PHONE}.",
        actor_label="Prueba",
    )
    # A line GeoSIAC words (reports.events) keeps what the officer typed in its data too: erased there as well.
    public_line(
        old,
        kind=EventKind.EXTENDED,
        line="information_extended",
        params={"days": 10, "from": date(OLD, 6, 1), "to": date(OLD, 6, 15)},
        reason=f"Lo pidió {NAME}.",
        actor_label="Prueba",
        created_at=timezone.now(),
    )
    anas = filed_in(monkeypatch, make_report, OLD, reporter_name="Ana Soto", reporter_email=OTRA)
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=anas, status="resolved", actor_label="Prueba")
    Follower.objects.create(report=anas, email=VECINA, created_at=timezone.now())
    luis = filed_in(monkeypatch, make_report, OLD, reporter_name="Luis Paz", reporter_phone=LUIS_PHONE)
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=luis, status="resolved", actor_label="Prueba")
    long_done(old, anas, luis)
    live = make_report(reporter_name=NAME, reporter_email=VECINA)
    dumps = tmp_path / "archivo"
    archive_year(OLD, "--commit", "--to", dumps, "--drop")
    yield {"old": old, "anas": anas, "luis": luis, "live": live, "photo": photo_file, "dumps": dumps,
           "dump": str(dumps / f"geo_siac_{SCHEMA}.dump")}  # fmt: skip
    if archive.schema_exists(SCHEMA):
        archive_drop(year=OLD)


def restore(dump: str) -> None:
    """As docs/deployment.md says: the schema appears whole, at once."""
    arguments, environment = archive.pg_environment()
    subprocess.run(
        ["pg_restore", "--single-transaction", *arguments, dump], env=environment, check=True, capture_output=True
    )


def apply_pending(*arguments) -> str:
    out = io.StringIO()
    call_command("apply_pending_erasures", *arguments, stdout=out)
    return out.getvalue()


def schema_rows_holding(text: str) -> list[str]:
    """ "table: row" for every row of the restored schema whose text holds `text`."""
    found = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relnamespace = %s::regnamespace AND relkind = 'r'", [SCHEMA])
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT t::text FROM "{SCHEMA}"."{table}" t WHERE t::text ILIKE %s', [f"%{text}%"])
            found += [f"{table}: {row}" for (row,) in cursor.fetchall()]
    return sorted(found)


def everything() -> list:
    """Every row of the restored schema, as text, and of the live reports, follows and years."""
    return schema_rows_holding("") + [
        row for model in (Report, Follower, YearArchive) for row in model.objects.order_by("pk").values_list()
    ]


def test_a_pending_erasure_reaches_the_restored_year_only_and_once(
    dumped_2019, make_report, django_capture_on_commit_callbacks
):
    summary = citizen_data_erase(email=VECINA, commit=True)
    assert summary.archived_years_pending == [OLD] and summary.reports_anonymised == 1  # her live request
    filed_since = make_report(reporter_name=NAME, reporter_email=VECINA)  # filed again after her erasure
    restore(dumped_2019["dump"])
    assert schema_rows_holding(VECINA) and dumped_2019["photo"].exists()
    with connection.cursor() as cursor:  # a row of the schema written after the erasure: not what she erased
        cursor.execute(
            f'INSERT INTO "{SCHEMA}".reports_follower (id, report_id, email, created_at) '
            "VALUES (999999, %s, %s, now() + interval '1 minute')",
            [dumped_2019["luis"].pk, VECINA],
        )

    with django_capture_on_commit_callbacks(execute=True):
        out = apply_pending()

    assert f"{OLD}: 1 borrados pendientes aplicados en {SCHEMA} (1 personas con datos en el año; 1 solicitudes" in out
    assert f"{dumped_2019['dump']} aún contiene lo borrado" in out
    assert [row.split(",")[0] for row in schema_rows_holding(VECINA)] == ["reports_follower: (999999"]
    assert schema_rows_holding("Olivares") == [] and schema_rows_holding("8765") == []
    assert not dumped_2019["photo"].exists()
    assert schema_rows_holding(OTRA) and schema_rows_holding("Luis Paz")  # the others' rows stay
    filed_since.refresh_from_db()
    assert (filed_since.reporter_email, filed_since.reporter_name) == (VECINA, NAME)  # live, and later
    assert PendingErasure.objects.get().applied_at is not None  # kept: the dump restored still holds her data
    assert YearArchive.objects.get(year=OLD).dump == ""  # the restored dump holds what was erased: dump it again

    before = everything()
    assert f"{OLD}: 1 borrados pendientes aplicados en {SCHEMA} (0 personas" in apply_pending()
    assert pending_erasures_apply(year=OLD).people == 0
    assert everything() == before


def test_a_secret_key_changed_between_the_erasure_and_the_restore_changes_nothing(dumped_2019, settings):
    summary = citizen_data_erase(email=VECINA, commit=True)
    phone_summary = erasure.reporter_data_erase(phone="+56 9 1234 5678", commit=True)  # Luis, by phone only
    assert summary.archived_years_pending == phone_summary.archived_years_pending == [OLD]
    settings.SECRET_KEY = "otra-clave-después-de-rotarla-" * 2
    assert f"{OLD}: 2 borrados pendientes; su esquema {SCHEMA} no está en la base de datos" in apply_pending()
    restore(dumped_2019["dump"])

    assert f"{OLD}: 2 borrados pendientes aplicados en {SCHEMA} (2 personas" in apply_pending()
    assert schema_rows_holding(VECINA) == [] and schema_rows_holding("Luis Paz") == []
    assert schema_rows_holding("912345678") == [] and schema_rows_holding(OTRA)


def test_the_pending_record_holds_no_address_nor_number(dumped_2019):
    citizen_data_erase(email="  Vecina@Example.cl ", commit=True)  # as typed, padded
    erasure.reporter_data_erase(phone="+56 9 1234 5678", commit=True)
    arguments, environment = archive.pg_environment()
    table = subprocess.run(
        ["pg_dump", *arguments, "--data-only", "--table", "reports_pendingerasure"],
        env=environment,
        check=True,
        capture_output=True,
    ).stdout.lower()
    assert table.count(b"\n") > 2 and PendingErasure.objects.count() == 2
    for text in ("vecina", "example.cl", "olivares", "912345678", "56912345678", "1234 5678"):
        assert text.encode() not in table
    digests = set(PendingErasure.objects.values_list("person", flat=True))
    for unkeyed in (VECINA, f"email:{VECINA}"):  # not a plain hash anyone could compute from a guessed address
        assert hashlib.sha256(unkeyed.encode()).hexdigest() not in digests


def test_archive_year_applies_them_before_it_dumps_the_restored_year_again(dumped_2019):
    citizen_data_erase(email=VECINA, commit=True)
    restore(dumped_2019["dump"])

    out = archive_year(OLD, "--commit", "--to", dumped_2019["dumps"], "--drop")

    assert f"borrados pendientes aplicados en {SCHEMA}: 1 (1 con datos en el año)" in out
    assert f"guardado en {dumped_2019['dump']}" in out and f"eliminado el esquema {SCHEMA}" in out
    text = subprocess.run(
        ["pg_restore", "--data-only", "-f", "-", dumped_2019["dump"]], capture_output=True, text=True, check=True
    ).stdout
    assert VECINA not in text and "Olivares" not in text and OTRA in text
    assert not PendingErasure.objects.exists()


def test_migrate_after_the_restore_applies_them(dumped_2019):
    citizen_data_erase(email=VECINA, commit=True)
    restore(dumped_2019["dump"])

    call_command("migrate", verbosity=0)

    assert schema_rows_holding(VECINA) == [] and PendingErasure.objects.get().applied_at is not None


def test_a_failure_midway_leaves_the_schema_and_the_pending_erasures_as_they_were(dumped_2019, monkeypatch):
    citizen_data_erase(email=VECINA, commit=True)
    erasure.reporter_data_erase(phone=LUIS_PHONE, commit=True)
    restore(dumped_2019["dump"])
    real = erasure.person_data_erase

    def second_fails(summary, files, **person):
        if summary.reports_anonymised:
            raise RuntimeError("falla a medio camino")
        real(summary, files, **person)

    monkeypatch.setattr(erasure, "person_data_erase", second_fails)
    with pytest.raises(RuntimeError, match="falla a medio camino"):
        apply_pending()
    assert schema_rows_holding(VECINA) and schema_rows_holding("Luis Paz")
    assert PendingErasure.objects.filter(applied_at=None).count() == 2
    assert YearArchive.objects.get(year=OLD).dump == dumped_2019["dump"]

    monkeypatch.setattr(erasure, "person_data_erase", real)
    assert f"{OLD}: 2 borrados pendientes aplicados" in apply_pending()
    assert schema_rows_holding(VECINA) == [] and schema_rows_holding("Luis Paz") == []


def test_the_page_and_the_export_say_the_erasure_is_pending_for_the_dumped_year(client, dumped_2019, tmp_path):
    sign_in(client, VECINA)
    assert citizen_data_erase(email=VECINA).archived_years_pending == [OLD]  # a dry run records nothing
    assert not PendingErasure.objects.exists()

    response = client.post("/mis-solicitudes/borrar/", {"confirm": "on"})

    page = response.content.decode()
    assert "Borramos sus datos personales" in page
    assert f"Las solicitudes de {OLD} están archivadas fuera de línea. Si tiene solicitudes de esos años" in page
    erased_at = PendingErasure.objects.get().erased_at
    path, out = tmp_path / "datos.json", io.StringIO()
    call_command("reporter_data", "--email", VECINA, "--export", str(path), stdout=out)
    data = json.loads(path.read_text())
    assert data["archived_years_erasure_pending"] == [
        {"year": OLD, "erased_at": erased_at.isoformat(), "applied_at": None}
    ]
    assert data["archived_years_not_read"] == [{"year": OLD, "dump": dumped_2019["dump"]}]
    assert f"Borrado pendiente en {OLD} (pedido el {erased_at.isoformat()})" in out.getvalue()
    out = io.StringIO()
    call_command("reporter_data", "--email", VECINA, "--erase", "--commit", stdout=out)
    assert f"archived_years_pending: [{OLD}]" in out.getvalue() and "Queda anotado como pendiente" in out.getvalue()
    assert PendingErasure.objects.count() == 1  # the same person and year: one record, of the latest erasure
    assert PendingErasure.objects.get().erased_at > erased_at


def test_a_restored_schema_missing_a_table_the_erasure_writes_is_refused_never_the_live_table(dumped_2019, make_report):
    citizen_data_erase(email=VECINA, commit=True)
    follows_since = Follower.objects.create(report=make_report(), email=VECINA, created_at=timezone.now())
    restore(dumped_2019["dump"])
    with connection.cursor() as cursor:  # the search_path would hand the erasure the live reports_follower
        cursor.execute(f'DROP TABLE "{SCHEMA}".reports_follower')

    with pytest.raises(CommandError, match=f"{SCHEMA} no tiene las tablas reports_follower.*No se borró nada"):
        apply_pending()
    assert Follower.objects.filter(pk=follows_since.pk).exists() and schema_rows_holding(VECINA)
    assert PendingErasure.objects.count() == 1


def test_an_erasure_refuses_when_the_digest_key_is_lost_with_erasures_pending(dumped_2019, make_report):
    citizen_data_erase(email=VECINA, commit=True)
    luis_live = make_report(reporter_name="Luis Paz", reporter_phone=LUIS_PHONE)
    ErasureDigestKey.objects.all().delete()

    with pytest.raises(CommandError, match="reports_erasuredigestkey está vacía y hay borrados pendientes"):
        call_command("reporter_data", "--phone", LUIS_PHONE, "--erase", "--commit", stdout=io.StringIO())
    assert ErasureDigestKey.objects.count() == 0 and PendingErasure.objects.count() == 1
    luis_live.refresh_from_db()
    assert luis_live.reporter_name == "Luis Paz"  # nothing erased: a new key would have orphaned Marta's


def dump_text(dump: str) -> str:
    return subprocess.run(
        ["pg_restore", "--data-only", "-f", "-", dump], capture_output=True, text=True, check=True
    ).stdout


def test_applied_is_kept_until_a_new_dump_so_the_old_dump_restored_again_is_erased_again(dumped_2019):
    citizen_data_erase(email=VECINA, commit=True)
    restore(dumped_2019["dump"])
    apply_pending()
    assert schema_rows_holding(VECINA) == []
    archive_drop(year=OLD)  # restored only to be read, dropped again by hand: the old dump is still the only one
    with pytest.raises(CommandError, match="borrados a petición de titulares anotados después de su último volcado"):
        archive_year(OLD, "--commit", "--to", dumped_2019["dumps"])  # never "adopt" the old dump
    restore(dumped_2019["dump"])  # later, the same dump restored again

    assert f"{OLD}: 1 borrados pendientes aplicados en {SCHEMA} (1 personas" in apply_pending()
    assert schema_rows_holding(VECINA) == []
    archive_year(OLD, "--commit", "--to", dumped_2019["dumps"], "--drop")
    assert VECINA not in dump_text(dumped_2019["dump"]) and OTRA in dump_text(dumped_2019["dump"])
    assert not PendingErasure.objects.exists()  # the new dump, written after the apply, holds the erasure


def test_an_apply_to_a_schema_restored_without_its_rows_yet_leaves_the_erasure_recorded(dumped_2019):
    citizen_data_erase(email=VECINA, commit=True)
    arguments, environment = archive.pg_environment()
    pg_restore = ["pg_restore", *arguments, dumped_2019["dump"]]
    subprocess.run(
        [*pg_restore[:1], "--schema-only", *pg_restore[1:]], env=environment, check=True, capture_output=True
    )
    assert f"{OLD}: 1 borrados pendientes aplicados en {SCHEMA} (0 personas" in apply_pending()  # nothing there yet
    subprocess.run([*pg_restore[:1], "--data-only", *pg_restore[1:]], env=environment, check=True, capture_output=True)
    assert schema_rows_holding(VECINA) and PendingErasure.objects.exists()

    out = archive_year(OLD, "--commit", "--to", dumped_2019["dumps"], "--drop")  # applies them again before dumping

    assert f"borrados pendientes aplicados en {SCHEMA}: 1 (1 con datos en el año)" in out
    assert VECINA not in dump_text(dumped_2019["dump"])


def test_a_replaced_key_leaves_its_erasures_unapplied_and_named(dumped_2019, tmp_path):
    citizen_data_erase(email=VECINA, commit=True)
    # As after a migrate on a fresh database made a key row and the data-only restore of the old one failed on it.
    ErasureDigestKey.objects.update(key="ab" * 32)
    erasure.reporter_data_erase(phone=LUIS_PHONE, commit=True)  # a later erasure, under the key now there
    restore(dumped_2019["dump"])

    out = apply_pending()

    assert f"{OLD}: 1 borrados pendientes hechos con una clave que ya no está en reports_erasuredigestkey" in out
    assert f"{OLD}: 1 borrados pendientes aplicados en {SCHEMA} (1 personas" in out  # Luis's: its key is there
    assert schema_rows_holding("Luis Paz") == [] and schema_rows_holding(VECINA)  # hers not taken as applied
    assert PendingErasure.objects.filter(applied_at=None).count() == 1
    with pytest.raises(CommandError, match="1 borrados pendientes .* con una clave que ya no está"):
        call_command("reporter_data", "--email", OTRA, "--export", tmp_path / "datos.json", stdout=io.StringIO())


def test_the_dry_run_says_what_would_be_recorded_and_records_nothing(dumped_2019):
    out = io.StringIO()
    call_command("reporter_data", "--email", VECINA, "--erase", stdout=out)
    assert "Con --commit se anotará como pendiente" in out.getvalue()
    assert "Queda anotado" not in out.getvalue() and not PendingErasure.objects.exists()


def test_a_table_missing_from_the_schema_raises_never_resolves_to_the_live_one(dumped_2019, make_report, monkeypatch):
    citizen_data_erase(email=VECINA, commit=True)
    follows_since = Follower.objects.create(report=make_report(), email=VECINA, created_at=timezone.now())
    restore(dumped_2019["dump"])
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE "{SCHEMA}".reports_follower')
    monkeypatch.setattr(erasure, "schema_tables_check", lambda schema: None)  # the backstop away: the search_path

    with pytest.raises(Exception, match='relation "reports_follower" does not exist'):
        apply_pending()
    assert Follower.objects.filter(pk=follows_since.pk).exists() and schema_rows_holding(VECINA)
    assert PendingErasure.objects.get().applied_at is None


def test_the_page_erasure_gives_up_whole_when_a_year_stays_locked(client, dumped_2019, monkeypatch):
    import psycopg2

    from geo_siac.citizens import views

    monkeypatch.setattr(views, "ERASE_LOCK_SECONDS", 1)
    sign_in(client, VECINA)
    other = psycopg2.connect(**{k: v for k, v in connection.get_connection_params().items() if k != "context"})
    try:  # as pending_erasures_apply or a dump holds the year's row
        other.cursor().execute("SELECT 1 FROM reports_yeararchive WHERE year = %s FOR UPDATE", [OLD])
        response = client.post("/mis-solicitudes/borrar/", {"confirm": "on"})
    finally:
        other.rollback()
        other.close()

    assert response.status_code == 503 and "No se cambió nada" in response.content.decode()
    assert Report.objects.get(pk=dumped_2019["live"].pk).reporter_email == VECINA  # nothing erased
    assert not PendingErasure.objects.exists()
