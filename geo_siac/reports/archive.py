"""Archiving a closed year of history (docs/deployment.md, "Archiving a year"): its requests, their events and every
row that points at them leave the live tables for a schema of their own, `archive_y<YEAR>`, which pg_dump can save
and DROP SCHEMA remove. The year's partitions of the reports and of the events are detached whole; the rows of other
tables that point at them are moved, but for their keys, kept as tombstones, and the year is recorded as archived so
that nothing writes it again. One transaction: a failure leaves the live tables as they were."""

import hashlib
import logging
import os
import subprocess
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from geo_siac.notifications.models import Delivery, Notification
from geo_siac.reports.archived import ALIGN_LOCK_SECONDS, archive_columns_align
from geo_siac.reports.closing import reopen_window_error
from geo_siac.reports.importers.bulk_mode import IMPORT_LOCK_KEY
from geo_siac.reports.models import (
    YEAR_ID_BASE,
    EventKind,
    PendingErasure,
    Report,
    ReportEvent,
    ReportKey,
    SuspendedSchemaObject,
    YearArchive,
)
from geo_siac.reports.partitions import BEFORE_YEAR, missing_partitions, partition_name
from geo_siac.reports.services.erasure import pending_erasures_apply
from geo_siac.reports.services.publication import report_public_cells_refresh
from geo_siac.reports.states import OPEN
from geo_siac.text import installation_language

# More calendar days than any reopening window can last (GEO_SIAC_REOPEN_BUSINESS_DAYS business days, holidays
# and closed days between them): only reports closed since are asked reopen_window_error.
REOPEN_CALENDAR_BOUND_DAYS = 60

REPORTS = Report._meta.db_table
EVENTS = ReportEvent._meta.db_table
KEYS = ReportKey._meta.db_table
# PostgreSQL's lock_not_available (a lock not obtained within lock_timeout) and deadlock_detected.
LOCK_NOT_AVAILABLE = "55P03"
DEADLOCK_DETECTED = "40P01"
# pg_dumps of a year written again because an erasure changed its schema meanwhile, before giving up.
DUMP_ATTEMPTS = 3

# Every single-column foreign key in the public schema, to follow what points at the year's requests (a table added
# later is followed without editing this module). Partitions' copies of their parent's keys are left out.
FOREIGN_KEYS_SQL = """
SELECT t.relname, a.attname, p.relname, pa.attname
  FROM pg_constraint c
  JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class p ON p.oid = c.confrelid
  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
  JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1]
 WHERE c.contype = 'f' AND c.conparentid = 0 AND cardinality(c.conkey) = 1 AND NOT t.relispartition
   AND t.relnamespace = 'public'::regnamespace
"""


logger = logging.getLogger(__name__)


class ArchiveRefused(Exception):
    """The year cannot be archived; the message says why. Nothing was changed."""


class DumpFailed(RuntimeError):
    """pg_dump of an archived year's schema failed or wrote a file pg_restore cannot read; the year stays archived,
    its schema in the database, and year_archive_finish dumps it again."""


@dataclass
class ArchivedYear:
    year: int
    schema: str
    rows: dict[str, int] = field(default_factory=dict)  # table: rows moved into the archive schema
    settled: list[str] = field(default_factory=list)  # what the participants did before the move, as logged
    done: list[str] = field(default_factory=list)  # the steps found done by an earlier run (year_archive_finish)
    dump: Path | None = None
    dumped: bool = False
    dropped: bool = False


@dataclass(frozen=True)
class ArchiveParticipant:
    """An app above reports whose rows of the year need a decision before they leave the live tables (webhooks:
    deliveries not yet sent). reports cannot import it, so it registers itself from its AppConfig.ready().
    `refusal(year)` says why the year cannot be archived yet, or None; `settle(year)`, inside the archive's
    transaction, once every check passed, returns a line saying what it did (logged and printed), or None."""

    name: str
    refusal: Callable[[int], str | None]
    settle: Callable[[int], str | None]


ARCHIVE_PARTICIPANTS: dict[str, ArchiveParticipant] = {}


def archive_participant_register(participant: ArchiveParticipant) -> None:
    ARCHIVE_PARTICIPANTS[participant.name] = participant


def archive_schema(year: int) -> str:
    return f"archive_y{year}"


def year_bounds(year: int) -> tuple[int, int]:
    return year * YEAR_ID_BASE, (year + 1) * YEAR_ID_BASE


def dependent_tables(cursor) -> list[tuple[str, str]]:
    """(table, condition) for every table whose rows belong to the year's requests, the condition selecting them,
    deepest first (a webhook attempt before its delivery): the order they can be deleted in. The events table is
    left out (its partition is detached whole), and so is the report table's own duplicate_of."""
    cursor.execute(FOREIGN_KEYS_SQL)
    keys = cursor.fetchall()
    quote = connection.ops.quote_name
    conditions: dict[str, list[str]] = {}
    depth: dict[str, int] = {}
    frontier = {REPORTS: "{column} >= %(low)s AND {column} < %(high)s"}
    level = 0
    while frontier:
        level += 1
        found = {}
        for table, column, parent, parent_column in keys:
            if parent not in frontier or table in (REPORTS, EVENTS):
                continue
            if parent == REPORTS:
                condition = frontier[parent].format(column=quote(column))
            else:
                selected = " OR ".join(conditions[parent])
                condition = f"{quote(column)} IN (SELECT {quote(parent_column)} FROM {quote(parent)} WHERE {selected})"
            conditions.setdefault(table, []).append(condition)
            depth[table] = level
            found[table] = True
        if level > len(keys):
            raise RuntimeError("foreign keys in a cycle below the reports")  # never in GeoSIAC's schema
        frontier = found
    ordered = sorted(conditions, key=lambda table: (-depth[table], table))
    return [(table, " OR ".join(f"({c})" for c in conditions[table])) for table in ordered]


def archive_refusal(cursor, year: int) -> str | None:
    """Why `year` cannot be archived, or None. Its reports stay locked (FOR UPDATE) until the caller's transaction
    ends, so that none is reopened between this check and their archiving."""
    if year >= timezone.localdate().year:
        return _("%(year)s es el año en curso o uno futuro: solo se archiva un año ya terminado.") % {"year": year}
    if year < BEFORE_YEAR:
        return _("%(year)s no es un año que lleve el id de una solicitud.") % {"year": year}
    archive = YearArchive.objects.filter(year=year).first()
    if archive is not None:
        return _("%(year)s ya se archivó, en el esquema %(schema)s.") % {"year": year, "schema": archive.schema}
    missing = missing_partitions(year)
    if missing:
        return _("No hay partición de %(year)s en %(table)s: el año no tiene historia o ya se archivó.") % {
            "year": year,
            "table": ", ".join(table for table, _partition in missing),
        }
    cursor.execute("SELECT to_regnamespace(%s) IS NOT NULL", [archive_schema(year)])
    if cursor.fetchone()[0]:
        return _("Ya existe el esquema %(schema)s: guárdelo y elimínelo antes de archivar de nuevo.") % {
            "schema": archive_schema(year)
        }
    # An import writes years' rows and a bulk one suspends the foreign keys this module follows: not at once.
    cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [IMPORT_LOCK_KEY])
    if not cursor.fetchone()[0] or SuspendedSchemaObject.objects.exists():
        return _(
            "Hay una importación masiva en curso o sin terminar (claves suspendidas): termínela antes de archivar."
        )
    low, high = year_bounds(year)
    cursor.execute(f"SELECT FROM {REPORTS} WHERE id >= %s AND id < %s FOR UPDATE", [low, high])
    # A request closed lately may still be reopened by its citizen (reopen_window_error), whose link must work.
    lately = timezone.now() - timedelta(days=REOPEN_CALENDAR_BOUND_DAYS)
    for report in Report.objects.filter(pk__gte=low, pk__lt=high, closed_at__gte=lately).only("closed_at"):
        if reopen_window_error(report) is None:
            return _("%(year)s tiene solicitudes que aún pueden reabrirse: espere a que venza su plazo.") % {
                "year": year
            }
    pending = Notification.objects.filter(report_id__gte=low, report_id__lt=high, delivery=Delivery.PENDING).count()
    if pending:
        return _("%(year)s tiene %(count)s avisos por enviar a la ciudadanía: espere a que salgan.") % {
            "year": year,
            "count": pending,
        }
    cursor.execute(
        f"SELECT count(*) FROM {REPORTS} WHERE id >= %s AND id < %s AND status = ANY(%s)", [low, high, sorted(OPEN)]
    )
    open_count = cursor.fetchone()[0]
    if open_count:
        return _(
            "%(year)s tiene %(count)s solicitudes abiertas: ciérrelas (o espere su respuesta) antes de archivarlo."
        ) % {"year": year, "count": open_count}
    for participant in ARCHIVE_PARTICIPANTS.values():
        refusal = participant.refusal(year)
        if refusal:
            return refusal
    return None


def year_archive(*, year: int, lock_timeout: int | None = None) -> ArchivedYear:
    """Move `year`'s requests, their events and the rows pointing at them into the schema archive_y<year>, or raise
    ArchiveRefused (the current or a future year, one with open requests, no partition, an archive not yet removed,
    a lock not obtained within `lock_timeout` seconds, GEO_SIAC_ARCHIVE_LOCK_TIMEOUT_SECONDS by default).

    The rows pointing at the year's requests are moved (DELETE ... RETURNING into the archive, so that no row is
    deleted unarchived: one committed after its table's move makes its parent's move fail, and nothing is archived);
    their keys stay behind as tombstones (ReportKey) and the year
    is recorded (YearArchive), so that it is never imported again nor its tracking codes drawn again. Then the
    year's partitions of the events and the reports are detached (DETACH PARTITION). Both tables are locked, reads
    included, from the start until the commit (year_archive_locks): run it in a quiet hour."""
    schema = archive_schema(year)
    seconds = settings.GEO_SIAC_ARCHIVE_LOCK_TIMEOUT_SECONDS if lock_timeout is None else lock_timeout
    archived = ArchivedYear(year=year, schema=schema)
    # Any other statement kept waiting past lock_timeout, or chosen to break a deadlock, gives up the archive too.
    with waiting_for(_("una tabla del archivo de %(year)s") % {"year": year}, seconds):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{seconds}s"])
            year_archive_locks(cursor, seconds)
            with waiting_for(_("las solicitudes de %(year)s (FOR UPDATE)") % {"year": year}, seconds):
                refusal = archive_refusal(cursor, year)
            if refusal:
                raise ArchiveRefused(refusal)
            year_move(cursor, archived, seconds)
    return archived


def year_archive_locks(cursor, seconds: int) -> None:
    """Every lock the archive will upgrade to, taken first and in the order other writers take them (the public
    cells' advisory lock, then the reports and events): taken later, after rows locked FOR UPDATE, a writer holding
    one of them and waiting for such a row deadlocked the archive. Reads of both tables wait until the commit."""
    with waiting_for(_("las celdas públicas (bloqueo consultivo reports:public_cell)"), seconds):
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('reports:public_cell'))")
    with waiting_for(_("las tablas %(tables)s (LOCK TABLE)") % {"tables": f"{REPORTS}, {EVENTS}"}, seconds):
        cursor.execute(f"LOCK TABLE {REPORTS}, {EVENTS} IN ACCESS EXCLUSIVE MODE")


def year_move(cursor, archived: ArchivedYear, seconds: int) -> None:
    """The moves of year_archive, once the year is known archivable; `archived.rows` counts them."""
    quote = connection.ops.quote_name
    year, schema = archived.year, archived.schema
    low, high = year_bounds(year)
    bounds = {"low": low, "high": high, "year": year}
    for participant in ARCHIVE_PARTICIPANTS.values():
        with waiting_for(_("las filas de %(name)s") % {"name": participant.name}, seconds):
            line = participant.settle(year)
        if line:
            logger.warning("archive of %s: %s", year, line)
            archived.settled.append(line)
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # pending deferred checks would refuse the ALTERs
    cursor.execute(f"CREATE SCHEMA {quote(schema)}")
    dependents = dependent_tables(cursor)
    for table, _condition in dependents:
        with waiting_for(_("la tabla %(table)s (CREATE TABLE ... AS TABLE)") % {"table": table}, seconds):
            cursor.execute(f"CREATE TABLE {quote(schema)}.{quote(table)} AS TABLE {quote(table)} WITH NO DATA")
    for table, condition in dependents:
        with waiting_for(_("las filas de %(table)s") % {"table": table}, seconds):
            try:
                archived.rows[table] = rows_move(cursor, table=table, condition=condition, schema=schema, bounds=bounds)
            except IntegrityError as exc:
                # A row pointing at these, committed by another session after its own table was moved.
                raise ArchiveRefused(
                    _(
                        "Otra sesión agregó durante el archivo una fila que apunta a %(table)s (%(error)s). No se "
                        "archivó nada; reintente en una hora tranquila."
                    )
                    % {"table": table, "error": str(exc).splitlines()[0]}
                ) from exc
    duplicates_of_the_year_unlink(cursor, year=year, schema=schema, bounds=bounds, seconds=seconds)
    # The events first: their partition's foreign key to the reports would block detaching the reports'.
    for table in (EVENTS, REPORTS):
        with waiting_for(_("la tabla %(table)s (DETACH PARTITION)") % {"table": table}, seconds):
            archived.rows[table] = partition_detach(cursor, table=table, year=year, schema=schema)
    with waiting_for(_("la copia archivada de %(table)s") % {"table": REPORTS}, seconds):
        cursor.execute(
            f"UPDATE {quote(schema)}.{REPORTS} a SET duplicate_of_id = d.duplicate_of_id "
            "FROM archived_duplicates d WHERE a.id = d.id"
        )
    YearArchive.objects.create(year=year, schema=schema, archived_at=timezone.now())
    # The k-anonymous public cells were decided counting the archived requests: decided again without them, so
    # that no live request is published in a group smaller than k.
    report_public_cells_refresh()


@contextmanager
def waiting_for(lock: str, seconds: int):
    """Turn a lock not obtained within lock_timeout, or a deadlock PostgreSQL broke by cancelling the archive, into
    ArchiveRefused naming the lock; the transaction is rolled back."""
    try:
        yield
    except OperationalError as exc:
        code = getattr(exc.__cause__, "pgcode", None)
        if code == LOCK_NOT_AVAILABLE:
            message = _(
                "No se obtuvo en %(seconds)s s el bloqueo de %(lock)s: otra sesión lo tiene. No se archivó nada; "
                "reintente en una hora tranquila o con un --lock-timeout mayor."
            )
        elif code == DEADLOCK_DETECTED:
            message = _(
                "Esperando el bloqueo de %(lock)s, el archivo y otra sesión se esperaban uno al otro (deadlock): "
                "PostgreSQL canceló el archivo. No se archivó nada; reintente en una hora tranquila."
            )
        else:
            raise
        raise ArchiveRefused(message % {"seconds": seconds, "lock": lock}) from exc


def rows_move(cursor, *, table: str, condition: str, schema: str, bounds: dict) -> int:
    """Move the rows of `table` that `condition` selects into the archive's copy of the table; returns how many.
    One statement, DELETE ... RETURNING, so that what is deleted is what is archived. The keys (tracking codes,
    source ids) are copied and stay behind as tombstones instead."""
    quote = connection.ops.quote_name
    archive = f"{quote(schema)}.{quote(table)}"
    if table == KEYS:
        cursor.execute(f"INSERT INTO {archive} SELECT * FROM {quote(table)} WHERE {condition}", bounds)
        moved = cursor.rowcount
        cursor.execute(
            f"UPDATE {quote(table)} SET report_id = NULL, archived_year = %(year)s WHERE {condition}", bounds
        )
        return moved
    cursor.execute(
        f"WITH moved AS (DELETE FROM {quote(table)} WHERE {condition} RETURNING *) INSERT INTO {archive} "
        "SELECT * FROM moved",
        bounds,
    )
    return cursor.rowcount


def duplicates_of_the_year_unlink(cursor, *, year: int, schema: str, bounds: dict, seconds: int) -> None:
    """A duplicate_of pointing into the year blocks detaching it, even from a request of the same year: cleared, and
    put back in the archive for those of the year (archived_duplicates, read once the year is detached); a request of
    another year keeps the archived request's tracking code in an internal note of its history."""
    with waiting_for(_("las solicitudes que son duplicadas de una de %(year)s") % {"year": year}, seconds):
        cursor.execute(
            "CREATE TEMP TABLE archived_duplicates ON COMMIT DROP AS SELECT id, duplicate_of_id "
            f"FROM {REPORTS} WHERE id >= %(low)s AND id < %(high)s AND duplicate_of_id IS NOT NULL",
            bounds,
        )
        cursor.execute(
            f"SELECT r.id, d.tracking_code FROM {REPORTS} r JOIN {REPORTS} d ON d.id = r.duplicate_of_id "
            "WHERE r.duplicate_of_id >= %(low)s AND r.duplicate_of_id < %(high)s "
            "AND NOT (r.id >= %(low)s AND r.id < %(high)s) FOR UPDATE OF r",
            bounds,
        )
        others = cursor.fetchall()
        now = timezone.now()
        with installation_language():
            ReportEvent.objects.bulk_create(
                ReportEvent(
                    report_id=report_id,
                    kind=EventKind.NOTE,
                    note=_("Era duplicada de la solicitud %(code)s, de %(year)s, que se archivó en %(schema)s.")
                    % {"code": code, "year": year, "schema": schema},
                    is_public=False,
                    actor_label=_("Archivo"),
                    created_at=now,
                )
                for report_id, code in others
            )
        cursor.execute(
            f"UPDATE {REPORTS} SET duplicate_of_id = NULL WHERE duplicate_of_id >= %(low)s AND duplicate_of_id < %(high)s",
            bounds,
        )


def partition_detach(cursor, *, table: str, year: int, schema: str) -> int:
    """Detach `table`'s partition of `year` and move it into `schema` under the table's name; returns its rows.
    The foreign keys it had as a partition (to the reports, categories, users) are dropped: they would block
    deleting a report or a user of the live tables later."""
    quote = connection.ops.quote_name
    partition = partition_name(table, year)
    cursor.execute(f"ALTER TABLE {quote(table)} DETACH PARTITION {quote(partition)}")
    cursor.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f' AND conparentid = 0",
        [partition],
    )
    for (name,) in cursor.fetchall():
        cursor.execute(f"ALTER TABLE {quote(partition)} DROP CONSTRAINT {quote(name)}")
    cursor.execute(f"ALTER TABLE {quote(partition)} SET SCHEMA {quote(schema)}")
    cursor.execute(f"ALTER TABLE {quote(schema)}.{quote(partition)} RENAME TO {quote(table)}")
    cursor.execute(f"SELECT count(*) FROM {quote(schema)}.{quote(table)}")
    return cursor.fetchone()[0]


def pg_environment() -> tuple[list[str], dict[str, str]]:
    """pg_dump's connection arguments and environment, from the default database's settings."""
    database = connection.settings_dict
    arguments = ["--dbname", database["NAME"]]
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if database.get(key):
            arguments += [option, str(database[key])]
    environment = dict(os.environ)
    if database.get("PASSWORD"):
        environment["PGPASSWORD"] = database["PASSWORD"]
    return arguments, environment


def year_archive_finish(
    *, year: int, to: Path | None = None, drop: bool = False, lock_timeout: int | None = None
) -> ArchivedYear:
    """Every step `archive_year` was asked for `year`, each done once: archive it (year_archive) unless it is
    already, apply to a schema restored the erasures pending for it (pending_erasures_apply), dump its schema into `to` unless a whole dump of it is recorded (dump_intact), drop the schema (`drop`)
    once one is (year_schema_drop, which checks it again under the record's lock). A run stopped anywhere (a dump
    that failed, a process killed between years) is finished by the same call again, and a year found done is left
    as it is; `done` names the steps found done."""
    to = to.resolve() if to is not None else None
    record = YearArchive.objects.filter(year=year).first()
    if record is None:
        archived = year_archive(year=year, lock_timeout=lock_timeout)
        record = YearArchive.objects.get(year=year)
    else:
        archived = ArchivedYear(year=year, schema=record.schema)
        archived.done.append(_("archivado en el esquema %(schema)s") % {"schema": record.schema})
    in_database = schema_exists(archived.schema)
    if in_database:  # a schema restored from a dump older than the live tables
        with waiting_for(_("una tabla de %(schema)s (ADD COLUMN)") % {"schema": archived.schema}, ALIGN_LOCK_SECONDS):
            archive_columns_align(archived.schema)
        # Erasures made while the year was only in its dump: applied before the schema is dumped again.
        applied = pending_erasures_apply(year=year)
        if applied and applied.people:  # said when it erased something (applying again erases nothing)
            archived.settled.append(
                _("borrados pendientes aplicados en %(schema)s: %(records)s (%(people)s con datos en el año)")
                % {"schema": applied.schema, "records": applied.records, "people": applied.people}
            )
            record.refresh_from_db()
    if not in_database:  # the dump is the only copy: one recorded before its checksums were is adopted if whole
        record = legacy_dump_adopt(record)
    if dump_intact(record):
        archived.dump = Path(record.dump)
        if to is not None:
            archived.done.append(_("guardado en %(path)s") % {"path": record.dump})
    elif to is not None and in_database:
        archived.dump = archive_dump(year=year, to=to)
        archived.dumped = True
    elif to is not None and PendingErasure.objects.filter(archive_id=year).exists():
        # Any dump found is older than these erasures: adopting it would bring back what was erased.
        raise ArchiveRefused(
            _(
                "%(year)s está archivado pero ni su esquema %(schema)s ni un volcado completo de él están, y tiene "
                "borrados a petición de titulares anotados después de su último volcado: todo volcado que encuentre "
                "aún contiene lo borrado. Restaure el más reciente (pg_restore --single-transaction), aplique los "
                "borrados (manage.py apply_pending_erasures) y repita para guardarlo de nuevo."
            )
            % {"year": year, "schema": archived.schema}
        )
    elif to is not None:
        raise ArchiveRefused(
            _(
                "%(year)s está archivado pero ni su esquema %(schema)s ni un volcado completo de él están (el "
                "anotado, %(dump)s, falta, cambió desde que se anotó o no se lee entero): no hay nada que guardar. "
                "Busque el volcado, anote su ruta en reports_yeararchive.dump con dump_size y dump_sha256 vacíos y "
                "repita: se adopta si pg_restore lo lee entero."
            )
            % {"year": year, "schema": archived.schema, "dump": record.dump or _("ninguno")}
        )
    if drop and in_database:
        if archived.dump is None:
            raise ArchiveRefused(
                _("%(schema)s no se elimina: no hay un volcado completo de él anotado.") % {"schema": archived.schema}
            )
        year_schema_drop(year=year, dump=archived.dump)
        archived.dropped = True
    elif drop:
        archived.done.append(_("esquema %(schema)s ya eliminado") % {"schema": archived.schema})
    return archived


def schema_exists(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regnamespace(%s) IS NOT NULL", [schema])
        return cursor.fetchone()[0]


def dump_readable(path: Path, schema: str) -> bool:
    """pg_restore lists the archived reports' data in the file at `path` and reads it whole (`--list` reads only
    the table of contents: a file cut short passes it)."""
    if not path.is_file():
        return False
    listing = subprocess.run(["pg_restore", "--list", str(path)], capture_output=True, text=True)
    if listing.returncode or f"TABLE DATA {schema} {REPORTS} " not in listing.stdout:
        return False
    whole = subprocess.run(["pg_restore", "--file", os.devnull, str(path)], capture_output=True, text=True)
    return whole.returncode == 0


def file_digest(path: Path) -> tuple[int, str]:
    """The size and SHA-256 of the file at `path`."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return path.stat().st_size, digest.hexdigest()


def legacy_dump_adopt(record: YearArchive) -> YearArchive:
    """A dump recorded without its size and SHA-256 (before migration 0040_archive_dump_checks, or its path written
    by hand in reports_yeararchive.dump) that pg_restore reads whole gets them recorded, under the year's row lock
    and only if the record is unchanged, so that dump_intact finds it. Only for a year whose schema is gone: then
    the dump is the only copy, and no erasure can have changed the year since (an erasure reaches a schema only).
    Returns the record as it is now."""
    if not record.dump or record.dump_size is not None or record.dump_sha256:
        return record
    with transaction.atomic():
        locked = YearArchive.objects.select_for_update().get(year=record.year)
        path = Path(locked.dump)
        legacy = locked.dump == record.dump and locked.dump_size is None and not locked.dump_sha256
        if legacy and dump_readable(path, locked.schema):
            locked.dump_size, locked.dump_sha256 = file_digest(path)
            locked.save(update_fields=["dump_size", "dump_sha256"])
            logger.info("archive of %s: adopted %s, recorded before its checksums were", locked.year, path)
    return YearArchive.objects.get(year=record.year)


def dump_intact(record: YearArchive) -> bool:
    """The dump `record` names is there, as it was written (its size and SHA-256) and readable whole."""
    if not record.dump or record.dump_size is None or not record.dump_sha256:
        return False
    path = Path(record.dump)
    if not path.is_file() or file_digest(path) != (record.dump_size, record.dump_sha256):
        return False
    return dump_readable(path, record.schema)


def archive_dump(*, year: int, to: Path, name: str = "") -> Path:
    """pg_dump -Fc of the schema archive_y<year> into `to` (as `name`, geo_siac_archive_y<year>.dump by default),
    checked readable whole by pg_restore, recorded with its size and SHA-256. An erasure committed while pg_dump ran
    (its snapshot taken before) is missing from the file: the dump is recorded only if the year's erasure count is
    the one read before pg_dump began (the erasure increments it with the row locked), else written again,
    DUMP_ATTEMPTS times at most, then DumpFailed. Written over the dump a rewrite was replacing
    (YearArchive.dump_replaced, reports.archive_erasure), it clears that mark: the old file is gone."""
    schema = archive_schema(year)
    # Citizens' names, emails and messages: readable by this account only, and never a half-written file under the
    # final name (as scripts/backup.sh).
    to = to.resolve()
    to.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = to / (name or dump_name(schema))
    partial = path.with_suffix(".dump.partial")
    arguments, environment = pg_environment()
    for _attempt in range(DUMP_ATTEMPTS):
        erasures = YearArchive.objects.values_list("erasures", flat=True).get(year=year)
        started = timezone.now()
        partial.touch(mode=0o600)
        partial.chmod(0o600)
        dumped = subprocess.run(
            ["pg_dump", *arguments, "--format=custom", "--schema", schema, "--file", str(partial)],
            env=environment,
            capture_output=True,
            text=True,
        )
        if dumped.returncode:
            raise DumpFailed(f"pg_dump: {dumped.stderr.strip()}")
        if not dump_readable(partial, schema):
            raise DumpFailed(f"pg_restore: {partial} no se lee entero o no contiene las solicitudes archivadas")
        size, sha256 = file_digest(partial)
        with transaction.atomic():
            # Waits for an erasure holding the row, then sees its count: recorded only if none came in between.
            recorded = YearArchive.objects.filter(year=year, erasures=erasures).update(
                dump=str(path),
                dump_size=size,
                dump_sha256=sha256,
                dump_replaced=Case(When(dump_replaced=str(path), then=Value("")), default=F("dump_replaced")),
            )
            if recorded:
                # The erasures pending for the year applied before this dump began are in it: their record goes
                # now, not before (the old dump held their data until this one replaced it).
                PendingErasure.objects.filter(archive_id=year, applied_at__lt=started).delete()
                partial.rename(path)
                return path
        logger.warning("archive of %s: an erasure changed %s during pg_dump; dumping it again", year, schema)
    partial.unlink(missing_ok=True)
    raise DumpFailed(
        f"{DUMP_ATTEMPTS} volcados seguidos de {schema} quedaron atrasados por borrados a petición de titulares "
        "hechos mientras pg_dump corría; reintente en una hora más tranquila"
    )


def dump_name(schema: str) -> str:
    return f"geo_siac_{schema}.dump"


def year_schema_drop(*, year: int, dump: Path) -> None:
    """DROP SCHEMA of the archived `year` once `dump` is found intact (dump_intact: read whole, its size and SHA-256
    as recorded), in one transaction that first locks its YearArchive row (an erasure locks it before its pass over
    the schema) and checks that the record still names that dump with that checksum: an erasure committed since
    cleared the record, and the schema, the only erased copy, stays (ArchiveRefused). The file is read before the
    lock, so that an erasure waits only for the DROP."""
    checked = YearArchive.objects.get(year=year)
    intact = checked.dump == str(dump) and dump_intact(checked)
    with transaction.atomic():
        record = YearArchive.objects.select_for_update().get(year=year)
        same = (record.dump, record.dump_size, record.dump_sha256) == (
            checked.dump,
            checked.dump_size,
            checked.dump_sha256,
        )
        if not (intact and same and dump.is_file() and dump.stat().st_size == record.dump_size):
            raise ArchiveRefused(
                _(
                    "%(schema)s no se elimina: su volcado %(dump)s ya no es el anotado o no está entero (un borrado a "
                    "petición del titular lo dejó atrasado, o el archivo cambió). Guárdelo de nuevo con --to."
                )
                % {"schema": record.schema, "dump": dump}
            )
        archive_drop(year=year)


def archive_drop(*, year: int) -> None:
    """DROP SCHEMA of the archived `year`, unchecked (year_schema_drop checks its dump first)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA {connection.ops.quote_name(archive_schema(year))} CASCADE")
