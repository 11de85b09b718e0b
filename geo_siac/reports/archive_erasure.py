"""Erasures pending for a year only in its dump (issue #26 point 3), made real without restoring it by hand: the
recorded dump is restored, the erasures applied to it, a new dump written beside it and recorded, the schema dropped
again, and only then the old dump file, which still held the erased data, deleted (docs/deployment.md, "Erasures
pending for a year only in its dump"). Each step is the one archive_year and apply_pending_erasures use, with their
locks; a run stopped at any step is finished by the same call again."""

import logging
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.db import DatabaseError, connection
from django.db.models import Count

from geo_siac.reports.archive import (
    ArchiveRefused,
    DumpFailed,
    archive_dump,
    dump_intact,
    dump_name,
    legacy_dump_adopt,
    pg_environment,
    schema_exists,
    year_schema_drop,
)
from geo_siac.reports.archived import (
    ArchiveColumnsMissing,
    PendingErasuresBlocked,
    archive_schemas_prepare,
    erasure_digest_keys,
)
from geo_siac.reports.models import PendingErasure, YearArchive
from geo_siac.reports.services.erasure import PendingErasuresApplied, pending_erasures_apply

logger = logging.getLogger(__name__)


class DumpErasureFailed(RuntimeError):
    """A year's dump could not be written out with its pending erasures; the message says where it was left (always a
    whole copy of the year: the old dump, or the schema in the database) and what to run."""


@dataclass
class DumpErased:
    """What pending_erasures_dump_rewrite did to one archived year."""

    year: int
    schema: str
    old_dump: str  # the dump restored, which held the erased data
    applied: PendingErasuresApplied | None = None  # None when an earlier run had applied and dumped them
    dump: str = ""  # the new dump, recorded; empty when the year had nothing to write out
    old_removed: bool = False
    pending_left: int = 0  # erasures recorded while this ran, after the restore had read them: the next run's work
    skipped: str = ""  # why nothing was done: a schema restored by hand, for the commands that read it


def usable_pending_erasures():
    """The PendingErasure rows whose digest key is still in reports_erasuredigestkey: the only ones an application
    can match (pending_erasures_apply leaves the others, orphaned, as they are)."""
    return PendingErasure.objects.filter(key_fingerprint__in=list(erasure_digest_keys()))


def orphaned_pending_erasures() -> dict[int, int]:
    """Per archived year, the PendingErasure rows made with a key no longer in reports_erasuredigestkey."""
    orphaned = PendingErasure.objects.exclude(key_fingerprint__in=list(erasure_digest_keys()))
    return dict(orphaned.values("archive_id").annotate(count=Count("pk")).values_list("archive_id", "count"))


def dump_erasure_years() -> list[int]:
    """The archived years pending_erasures_dump_rewrite has work in, oldest first: those with erasures recorded while
    only in their dump that an application can match (an orphaned one would have the year restored, dumped and
    dropped again at every run, erasing nothing), and those whose last rewrite stopped midway (dump_replaced)."""
    years = set(usable_pending_erasures().values_list("archive_id", flat=True))
    years |= set(YearArchive.objects.exclude(dump_replaced="").values_list("year", flat=True))
    return sorted(years)


def rewritten_dump_path(old: str, schema: str) -> Path:
    """The new dump's path: beside the old one, under the other of two names, so that it never overwrites the old
    file and a run stopped and run again writes the same file again, never a third copy holding erased data."""
    old_path = Path(old)
    usual = dump_name(schema)
    return old_path.with_name(usual if old_path.name != usual else usual.replace(".dump", "-2.dump"))


def pending_erasures_dump_rewrite(*, year: int) -> DumpErased:
    """Make the erasures pending for `year` real in its dump: restore the recorded dump (pg_restore
    --single-transaction) unless an earlier run left the schema in the database, align its columns, apply the pending
    erasures (pending_erasures_apply, which also deletes their photo files), write a new dump beside the old one
    (archive_dump, which records it and deletes the applied PendingErasure rows), drop the schema (year_schema_drop
    with the new dump), and only then delete the old dump file. The old dump's path is kept in
    YearArchive.dump_replaced from the restore's success until its file is deleted, so that a run stopped anywhere
    is finished by calling it again. A schema in the database that this did not restore (restored by hand, perhaps to
    be read, or an older backup) is left alone, `skipped` saying what to run. Pending erasures whose digest key is
    gone (orphaned) are left: a year with only those has nothing to write out. Raises DumpErasureFailed, naming the
    year, the file and what to run: refused with nothing changed when the recorded dump is not intact or its folder
    not writable."""
    with rewrite_lock(year):
        record = YearArchive.objects.get(year=year)
        result = DumpErased(year=year, schema=record.schema, old_dump=record.dump_replaced or record.dump)
        pending = usable_pending_erasures().filter(archive=record)
        if not record.dump_replaced and not pending.exists():
            return result  # nothing to write out
        in_database = schema_exists(record.schema)
        if not in_database and record.dump_replaced and record.dump != record.dump_replaced:
            # An earlier run recorded the new dump and dropped the schema, but stopped before deleting the old file
            # (kept if the new one no longer reads as recorded).
            result.dump = record.dump
            result.old_removed = old_dump_delete(record)
            record.refresh_from_db()
            if not pending.exists():
                return result
            result.old_dump = record.dump
        if in_database and not record.dump_replaced:
            result.skipped = (
                f"{year}: su esquema {record.schema} está en la base de datos (restaurado a mano): aplique los "
                f"borrados (manage.py apply_pending_erasures --year {year}) y guárdelo de nuevo (manage.py archive_year "
                f"--year {year} --commit --to CARPETA --drop). No se cambió nada."
            )
            return result
        if not in_database:
            record = dump_restore(record)
        result.applied = schema_erase(record)
        record.refresh_from_db()
        result.dump = dump_rewrite(record)
        record.refresh_from_db()
        result.old_removed = old_dump_delete(record)
        result.pending_left = pending.count()
    logger.warning(
        "pending erasures of %s written out of its dump: %s people erased there, new dump %s, old dump %s %s; copies "
        "of the old dump elsewhere (backups) still hold the erased data",
        year,
        result.applied.people if result.applied else 0,
        result.dump,
        result.old_dump,
        "deleted" if result.old_removed else "already gone",
    )
    return result


@contextmanager
def rewrite_lock(year: int):
    """One rewrite of a year at a time (a second would find the schema it restores being restored)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext('reports:dump_rewrite'), %s)", [year])
        if not cursor.fetchone()[0]:
            raise DumpErasureFailed(f"{year}: otra ejecución está reescribiendo su volcado ahora. No se cambió nada.")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtext('reports:dump_rewrite'), %s)", [year])


def dump_restore(record: YearArchive) -> YearArchive:
    """The year's recorded dump, checked whole and its folder writable (a dump that cannot be written is refused
    before anything is restored), restored whole or not at all, and only then marked as the one being replaced: a
    schema restored by hand after a failed restore is never taken for this command's own."""
    record = legacy_dump_adopt(record)
    if not dump_intact(record):
        raise DumpErasureFailed(
            f"{record.year}: su volcado anotado ({record.dump or 'ninguno'}) falta, cambió desde que se anotó o no se "
            "lee entero: no se restauró nada y los borrados siguen pendientes. Busque el volcado del año y anote su "
            "ruta en reports_yeararchive.dump con dump_size y dump_sha256 vacíos (se adopta si pg_restore lo lee "
            "entero)."
        )
    folder = Path(record.dump).parent
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise DumpErasureFailed(
            f"{record.year}: no se puede escribir en {folder}, donde irá el volcado nuevo junto a {record.dump} "
            f"({exc}). No se restauró nada."
        ) from exc
    arguments, environment = pg_environment()
    restored = subprocess.run(
        ["pg_restore", "--single-transaction", *arguments, record.dump], env=environment, capture_output=True, text=True
    )
    if restored.returncode:
        # A mark left by an earlier run whose schema is gone again (dropped by hand) would claim a later restore.
        YearArchive.objects.filter(pk=record.pk, dump_replaced=record.dump).update(dump_replaced="")
        raise DumpErasureFailed(
            f"{record.year}: pg_restore de {record.dump} falló ({restored.stderr.strip()}); en una sola transacción, "
            "no quedó nada restaurado. Corrija la causa y repita manage.py apply_pending_erasures --dumps."
        )
    # A crash before this line leaves the schema unmarked: the next run takes it as restored by hand (left alone).
    YearArchive.objects.filter(pk=record.pk).update(dump_replaced=record.dump)
    record.refresh_from_db()
    return record


def schema_erase(record: YearArchive) -> PendingErasuresApplied:
    """The restored schema aligned with the live columns and its pending erasures applied."""
    archive_schemas_prepare()
    try:
        applied = pending_erasures_apply(year=record.year)
    except (ArchiveColumnsMissing, PendingErasuresBlocked, DatabaseError) as exc:
        raise DumpErasureFailed(
            f"{record.year}: el esquema {record.schema} quedó restaurado en la base de datos pero sus borrados "
            f"pendientes no se aplicaron ({exc}). Ejecute de nuevo manage.py apply_pending_erasures --dumps: "
            f"mientras tanto el esquema aún contiene lo borrado."
        ) from exc
    if applied is None:  # dropped by another session meanwhile (archive_year --drop)
        raise DumpErasureFailed(
            f"{record.year}: el esquema {record.schema} se eliminó mientras corría esta orden. Repítala."
        )
    return applied


def dump_rewrite(record: YearArchive) -> str:
    """A new dump of the erased schema beside the old one, recorded (unless an earlier run recorded one), then the
    schema dropped against it; the old dump stays until then."""
    old = record.dump_replaced
    new = rewritten_dump_path(old, record.schema)
    if record.dump != old and dump_intact(record):
        new = Path(record.dump)
    else:
        try:
            new = archive_dump(year=record.year, to=new.parent, name=new.name)
        except (DumpFailed, OSError) as exc:
            raise DumpErasureFailed(
                f"{record.year}: los borrados pendientes quedaron aplicados en el esquema {record.schema}, que sigue "
                f"en la base de datos, pero no se guardó el volcado nuevo {new} ({exc}). El volcado anterior {old} se "
                "conserva (aún contiene lo borrado) hasta que se guarde el nuevo. Corrija la causa y ejecute de nuevo "
                "manage.py apply_pending_erasures --dumps."
            ) from exc
    try:
        year_schema_drop(year=record.year, dump=new)
    except ArchiveRefused as exc:
        raise DumpErasureFailed(
            f"{record.year}: {exc} (un borrado llegó mientras se guardaba). Ejecute de nuevo manage.py "
            "apply_pending_erasures --dumps: lo guarda otra vez y elimina el esquema."
        ) from exc
    return str(new)


def old_dump_delete(record: YearArchive) -> bool:
    """The replaced dump's file deleted, once the year's recorded dump is another, intact one and its schema is gone,
    and with it the other name beside it (rewritten_dump_path) unless that is the recorded dump: a dump written there
    by an earlier run and then not kept (an erasure came, archive_year --to elsewhere recorded another) holds data
    erased since. True if the old dump's file was there. Raises DumpErasureFailed, the old file kept, when the
    recorded dump does not read as recorded."""
    old = record.dump_replaced
    if not old or old == record.dump or schema_exists(record.schema):
        return False
    if not dump_intact(record):
        raise DumpErasureFailed(
            f"{record.year}: el volcado nuevo anotado {record.dump or '(ninguno)'} falta, cambió desde que se anotó o "
            f"no se lee entero: el anterior {old} se conserva, que aún contiene lo borrado (sus borrados ya no constan "
            "como pendientes). Recupere el volcado nuevo de una copia y ejecute de nuevo manage.py "
            "apply_pending_erasures --dumps."
        )
    path = Path(old)
    existed = path.is_file()
    beside = rewritten_dump_path(old, record.schema)
    try:
        path.unlink(missing_ok=True)
        if str(beside) != record.dump:
            beside.unlink(missing_ok=True)
    except OSError as exc:
        raise DumpErasureFailed(
            f"{record.year}: el volcado nuevo {record.dump} está guardado y el esquema eliminado, pero no se pudo "
            f"borrar el anterior {old} ({exc}), que aún contiene lo borrado. Bórrelo y ejecute de nuevo manage.py "
            "apply_pending_erasures --dumps."
        ) from exc
    YearArchive.objects.filter(pk=record.pk, dump_replaced=old).update(dump_replaced="")
    return existed
