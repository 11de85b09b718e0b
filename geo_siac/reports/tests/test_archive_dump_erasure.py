"""`apply_pending_erasures --dumps`: an erasure pending for a year only in its dump is made real without a person
restoring it: the dump restored, the erasure applied, a new dump written and recorded, the schema dropped again, and
the old dump file, which held the erased data, deleted last. A failure at any step leaves a whole copy of the year
(the old dump, or the schema in the database) and the same command finishes the job (issue #26 point 3)."""

import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from django.core.management import CommandError
from django.db import connection

from geo_siac.citizens.services import citizen_data_erase
from geo_siac.citizens.tests.test_personal_data import photo
from geo_siac.reports import archive, archive_erasure
from geo_siac.reports.archive import archive_drop, dump_readable, file_digest
from geo_siac.reports.archive_erasure import DumpErasureFailed
from geo_siac.reports.models import ErasureDigestKey, EventPhoto, PendingErasure, YearArchive
from geo_siac.reports.services import (
    EXPLAINED_BY_CALLER,
    report_add_citizen_info,
    report_change_status,
    report_follow,
    report_unfollow,
)
from geo_siac.reports.tests.test_archive_pending_erasures import (  # noqa: F401
    OLD,
    OTRA,
    SCHEMA,
    VECINA,
    apply_pending,
    dump_text,
    dumped_2019,
    restore,
    schema_rows_holding,
)
from geo_siac.reports.tests.test_archive_year import archive_year, filed_in, long_done

pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump and pg_restore see only what is committed


def new_dump(dumped) -> Path:
    return dumped["dumps"] / f"geo_siac_{SCHEMA}-2.dump"


def test_the_dumps_option_erases_the_person_from_the_dump_and_deletes_the_old_one(dumped_2019):
    citizen_data_erase(email=VECINA, commit=True)
    old = Path(dumped_2019["dump"])
    assert VECINA in dump_text(old) and dumped_2019["photo"].exists()

    out = apply_pending("--dumps")

    new = new_dump(dumped_2019)
    record = YearArchive.objects.get(year=OLD)
    assert (record.dump, record.dump_replaced) == (str(new), "")
    text = dump_text(str(new))
    for held in (VECINA, "Olivares", "8765 4321"):  # her address, her name, her number (also in a note)
        assert held not in text
    assert OTRA in text and "Luis Paz" in text  # the others' rows stay
    assert not old.exists() and not dumped_2019["photo"].exists()
    assert not PendingErasure.objects.exists() and not archive.schema_exists(SCHEMA)
    assert f"{OLD}: 1 borrados pendientes aplicados en {SCHEMA} (1 personas con datos en el año" in out
    assert f"{OLD}: volcado nuevo {new}; esquema {SCHEMA} eliminado de nuevo." in out
    assert f"{OLD}: borrado el volcado anterior {old}, que aún contenía lo borrado." in out
    assert f"destruya toda copia del volcado anterior ({old})" in out

    assert apply_pending("--dumps") == "No hay borrados pendientes en volcados: nada que hacer.\n"
    citizen_data_erase(email=OTRA, commit=True)  # the next erasure: the other name in turn, beside it
    assert f"{OLD}: volcado nuevo {old};" in apply_pending("--dumps")
    assert not new.exists() and OTRA not in dump_text(str(old)) and "Luis Paz" in dump_text(str(old))


def test_a_failed_pg_dump_keeps_the_old_dump_and_the_erased_schema_and_the_same_command_finishes(
    dumped_2019, monkeypatch, tmp_path
):
    citizen_data_erase(email=VECINA, commit=True)
    old = Path(dumped_2019["dump"])
    written = YearArchive.objects.get(year=OLD)
    failing = tmp_path / "bin"
    failing.mkdir()
    (failing / "pg_dump").write_text(
        "#!/bin/sh\necho 'pg_dump: error: could not write to file: No space left on device' >&2\nexit 1\n"
    )
    (failing / "pg_dump").chmod(0o755)
    path = os.environ["PATH"]
    monkeypatch.setenv("PATH", f"{failing}:{path}")  # pg_restore is the real one

    with pytest.raises(CommandError, match=f"{OLD}: los borrados pendientes quedaron aplicados en el esquema") as error:
        apply_pending("--dumps")

    assert "No space left on device" in str(error.value) and f"El volcado anterior {old} se conserva" in str(
        error.value
    )
    assert file_digest(old) == (written.dump_size, written.dump_sha256) and dump_readable(old, SCHEMA)
    assert archive.schema_exists(SCHEMA) and schema_rows_holding(VECINA) == []  # the year's one erased copy
    assert schema_rows_holding(OTRA)
    assert YearArchive.objects.get(year=OLD).dump_replaced == str(old)
    assert PendingErasure.objects.get().applied_at is not None  # kept until a new dump holds the erasure

    monkeypatch.setenv("PATH", path)
    out = apply_pending("--dumps")

    assert f"{OLD}: 1 borrados pendientes aplicados en {SCHEMA} (0 personas" in out  # applied once: nothing left
    assert f"volcado nuevo {new_dump(dumped_2019)}" in out and not old.exists()
    assert VECINA not in dump_text(str(new_dump(dumped_2019))) and not archive.schema_exists(SCHEMA)
    assert not PendingErasure.objects.exists()


def test_an_erasure_reaching_the_schema_during_the_run_is_in_the_dump_the_rerun_writes(dumped_2019, monkeypatch):
    citizen_data_erase(email=VECINA, commit=True)
    real = archive_erasure.year_schema_drop

    def erased_first(*, year, dump):  # Ana erases from "Mis solicitudes" after the new dump was recorded
        citizen_data_erase(email=OTRA, commit=True)
        return real(year=year, dump=dump)

    monkeypatch.setattr(archive_erasure, "year_schema_drop", erased_first)
    with pytest.raises(CommandError, match=f"{SCHEMA} no se elimina.*Ejecute de nuevo"):
        apply_pending("--dumps")
    assert archive.schema_exists(SCHEMA) and schema_rows_holding(OTRA) == []
    assert Path(dumped_2019["dump"]).exists()  # the old dump stays until a dump holding both erasures is recorded
    monkeypatch.setattr(archive_erasure, "year_schema_drop", real)

    out = apply_pending("--dumps")

    new = new_dump(dumped_2019)
    assert f"volcado nuevo {new}" in out and not Path(dumped_2019["dump"]).exists()
    assert VECINA not in dump_text(str(new)) and OTRA not in dump_text(str(new)) and "Luis Paz" in dump_text(str(new))
    assert sorted(p.name for p in dumped_2019["dumps"].iterdir()) == [new.name]  # no copy holding Ana's data left


def test_a_dump_that_changed_since_it_was_recorded_is_refused_and_nothing_restored(dumped_2019):
    citizen_data_erase(email=VECINA, commit=True)
    old = Path(dumped_2019["dump"])
    with old.open("ab") as file:
        file.write(b"\0")

    with pytest.raises(CommandError, match=f"{OLD}: su volcado anotado \\({old}\\) falta, cambió"):
        apply_pending("--dumps")
    assert not archive.schema_exists(SCHEMA) and PendingErasure.objects.get().applied_at is None
    assert YearArchive.objects.get(year=OLD).dump == str(old)


def test_a_schema_restored_by_hand_is_left_to_the_operator(dumped_2019):
    citizen_data_erase(email=VECINA, commit=True)
    restore(dumped_2019["dump"])

    out = apply_pending("--dumps")

    assert f"{OLD}: su esquema {SCHEMA} está en la base de datos (restaurado a mano)" in out
    assert schema_rows_holding(VECINA) and Path(dumped_2019["dump"]).exists()


def test_a_followers_photo_on_a_request_of_a_year_only_in_its_dump_goes_too(
    make_report, monkeypatch, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    anas = filed_in(monkeypatch, make_report, OLD, reporter_name="Ana Soto", reporter_email=OTRA)
    report_follow(report=anas, email=VECINA)
    report_add_citizen_info(report=anas, note="Sigue igual.", photo=photo().read(), by_email=VECINA)
    added = settings.MEDIA_ROOT / EventPhoto.objects.get(report=anas).image.name
    report_unfollow(report=anas, email=VECINA)  # found in the year by her photo alone
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=anas, status="resolved", actor_label="Prueba")
    long_done(anas)
    dumps = tmp_path / "archivo"
    try:
        archive_year(OLD, "--commit", "--to", dumps, "--drop")
        assert citizen_data_erase(email=VECINA, commit=True).archived_years_pending == [OLD] and added.exists()

        out = apply_pending("--dumps")

        assert f"{OLD}: 1 borrados pendientes aplicados en {SCHEMA} (1 personas" in out and "1 fotos borradas" in out
        assert not added.exists()
        text = dump_text(str(dumps / f"geo_siac_{SCHEMA}-2.dump"))
        assert VECINA not in text and OTRA in text and "Sigue igual." in text  # her photo went; the request stays
    finally:
        if archive.schema_exists(SCHEMA):
            archive_drop(year=OLD)


def failing_restore(tmp_path) -> Path:
    """A folder whose pg_restore fails the restore itself (--single-transaction) and reads dumps as the real one."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "pg_restore").write_text(
        '#!/bin/sh\ncase "$*" in *--single-transaction*) echo "pg_restore: error: connection lost" >&2; exit 1;; '
        f'esac\nexec {shutil.which("pg_restore")} "$@"\n'
    )
    (folder / "pg_restore").chmod(0o755)
    return folder


def test_a_failed_restore_marks_nothing_so_a_schema_then_restored_by_hand_is_left_alone(
    dumped_2019, monkeypatch, tmp_path
):
    citizen_data_erase(email=VECINA, commit=True)
    old = Path(dumped_2019["dump"])
    path = os.environ["PATH"]
    monkeypatch.setenv("PATH", f"{failing_restore(tmp_path)}:{path}")

    with pytest.raises(CommandError, match=re.escape(f"{OLD}: pg_restore de {old} falló (pg_restore: error: conn")):
        apply_pending("--dumps")
    assert YearArchive.objects.get(year=OLD).dump_replaced == "" and not archive.schema_exists(SCHEMA)

    monkeypatch.setenv("PATH", path)
    restore(str(old))  # by hand, to read it (perhaps an older backup)
    out = apply_pending("--dumps")

    assert f"{OLD}: su esquema {SCHEMA} está en la base de datos (restaurado a mano)" in out
    assert old.exists() and YearArchive.objects.get(year=OLD).dump == str(old)
    assert schema_rows_holding(VECINA) and not new_dump(dumped_2019).exists()  # nothing applied nor written
    assert PendingErasure.objects.get().applied_at is None


def test_a_run_stopped_after_the_drop_deletes_the_old_dump_when_run_again_without_restoring(dumped_2019, monkeypatch):
    citizen_data_erase(email=VECINA, commit=True)
    old, new = Path(dumped_2019["dump"]), new_dump(dumped_2019)
    real = archive_erasure.old_dump_delete
    calls = []

    def stopped_once(record):  # as a process killed between the drop and the old file's deletion
        calls.append(record.dump_replaced)
        if len(calls) == 1:
            raise DumpErasureFailed("detenida")
        return real(record)

    monkeypatch.setattr(archive_erasure, "old_dump_delete", stopped_once)
    with pytest.raises(CommandError, match="detenida"):
        apply_pending("--dumps")
    record = YearArchive.objects.get(year=OLD)
    assert (record.dump, record.dump_replaced) == (str(new), str(old)) and old.exists()
    assert not archive.schema_exists(SCHEMA) and not PendingErasure.objects.exists()

    out = apply_pending("--dumps")

    assert "aplicados" not in out  # the new dump was not restored again
    assert f"{OLD}: borrado el volcado anterior {old}, que aún contenía lo borrado." in out and not old.exists()
    record = YearArchive.objects.get(year=OLD)
    assert (record.dump, record.dump_replaced) == (str(new), "") and dump_readable(new, SCHEMA)
    assert apply_pending("--dumps") == "No hay borrados pendientes en volcados: nada que hacer.\n"


def test_a_new_dump_damaged_after_it_was_recorded_keeps_the_old_one(dumped_2019, monkeypatch):
    citizen_data_erase(email=VECINA, commit=True)
    old, new = Path(dumped_2019["dump"]), new_dump(dumped_2019)
    written = YearArchive.objects.get(year=OLD)
    real = archive_erasure.year_schema_drop

    def damaged_after(*, year, dump):  # the disk corrupts the new dump once the schema is gone
        real(year=year, dump=dump)
        with Path(dump).open("ab") as file:
            file.write(b"\0")

    monkeypatch.setattr(archive_erasure, "year_schema_drop", damaged_after)
    refused = re.escape(f"{OLD}: el volcado nuevo anotado {new} falta, cambió") + ".*" + re.escape(f"{old} se conserva")
    with pytest.raises(CommandError, match=refused):
        apply_pending("--dumps")
    assert file_digest(old) == (written.dump_size, written.dump_sha256)
    monkeypatch.setattr(archive_erasure, "year_schema_drop", real)

    with pytest.raises(CommandError, match=refused):  # run again: still kept, never restored from the damaged one
        apply_pending("--dumps")
    assert file_digest(old) == (written.dump_size, written.dump_sha256) and not archive.schema_exists(SCHEMA)
    assert YearArchive.objects.get(year=OLD).dump_replaced == str(old)


def test_a_second_run_while_the_year_is_being_rewritten_is_refused_and_changes_nothing(dumped_2019):
    citizen_data_erase(email=VECINA, commit=True)
    held, release = threading.Event(), threading.Event()

    def first_run():  # holds the year's lock in its own session, as another process running --dumps
        try:
            with archive_erasure.rewrite_lock(OLD):
                held.set()
                release.wait(60)
        finally:
            connection.close()

    other = threading.Thread(target=first_run)
    other.start()
    try:
        assert held.wait(30)
        with pytest.raises(CommandError, match=f"^{OLD}: otra ejecución está reescribiendo su volcado ahora. No se"):
            apply_pending("--dumps")
    finally:
        release.set()
        other.join()
    assert not archive.schema_exists(SCHEMA) and PendingErasure.objects.get().applied_at is None
    assert YearArchive.objects.get(year=OLD).dump_replaced == "" and Path(dumped_2019["dump"]).exists()

    assert f"volcado nuevo {new_dump(dumped_2019)}" in apply_pending("--dumps")  # once released


def test_orphaned_erasures_are_named_apart_and_never_make_the_year_rewritten_again(dumped_2019):
    citizen_data_erase(email=VECINA, commit=True)
    ErasureDigestKey.objects.update(key="ab" * 32)  # replaced, not restored: Marta's record can match nobody
    citizen_data_erase(email=OTRA, commit=True)  # recorded under the key now there
    new = new_dump(dumped_2019)
    orphaned = f"{OLD}: 1 borrados pendientes hechos con una clave que ya no está en reports_erasuredigestkey"

    out = apply_pending("--dumps")

    assert orphaned in out and f"{OLD}: 1 borrados pendientes aplicados en {SCHEMA} (1 personas" in out
    assert "mientras corría" not in out
    assert OTRA not in dump_text(str(new)) and VECINA in dump_text(str(new))  # hers could not be applied
    assert PendingErasure.objects.get().applied_at is None  # hers, kept and named
    written = file_digest(new)

    again = apply_pending("--dumps")

    assert orphaned in again and again.endswith("No hay borrados pendientes en volcados: nada que hacer.\n")
    assert file_digest(new) == written and not archive.schema_exists(SCHEMA)  # not restored nor dumped again
    assert f"{OLD}: no hay borrados pendientes en su volcado." in apply_pending("--dumps", "--year", OLD)


def refused_drop(dumped_2019, monkeypatch) -> Path:
    """A run whose drop is refused (Ana erases while the new dump is written): the schema stays, erased, and the new
    dump it wrote beside the old one is no longer recorded; it still holds Ana's data."""
    citizen_data_erase(email=VECINA, commit=True)
    real = archive_erasure.year_schema_drop

    def erased_first(*, year, dump):
        citizen_data_erase(email=OTRA, commit=True)
        return real(year=year, dump=dump)

    monkeypatch.setattr(archive_erasure, "year_schema_drop", erased_first)
    with pytest.raises(CommandError, match="no se elimina"):
        apply_pending("--dumps")
    monkeypatch.setattr(archive_erasure, "year_schema_drop", real)
    stray = new_dump(dumped_2019)
    assert OTRA in dump_text(str(stray)) and YearArchive.objects.get(year=OLD).dump_replaced == dumped_2019["dump"]
    return stray


def test_a_dump_not_kept_beside_the_old_one_is_deleted_with_it(dumped_2019, monkeypatch, tmp_path):
    stray = refused_drop(dumped_2019, monkeypatch)
    elsewhere = tmp_path / "otra-carpeta"
    archive_year(OLD, "--commit", "--to", elsewhere, "--drop")  # the erased schema saved in another folder

    out = apply_pending("--dumps")

    assert f"{OLD}: borrado el volcado anterior {dumped_2019['dump']}" in out
    assert not stray.exists() and list(dumped_2019["dumps"].iterdir()) == []  # both held erased data
    record = YearArchive.objects.get(year=OLD)
    assert (record.dump, record.dump_replaced) == (str(elsewhere / f"geo_siac_{SCHEMA}.dump"), "")
    assert OTRA not in dump_text(record.dump) and VECINA not in dump_text(record.dump)


def test_a_dump_written_over_the_one_being_replaced_ends_the_rewrite(dumped_2019, monkeypatch):
    refused_drop(dumped_2019, monkeypatch)
    archive_year(OLD, "--commit", "--to", dumped_2019["dumps"], "--drop")  # over the old dump's own name

    record = YearArchive.objects.get(year=OLD)
    assert (record.dump, record.dump_replaced) == (dumped_2019["dump"], "")
    assert apply_pending("--dumps") == "No hay borrados pendientes en volcados: nada que hacer.\n"
    assert OTRA not in dump_text(record.dump) and VECINA not in dump_text(record.dump)
