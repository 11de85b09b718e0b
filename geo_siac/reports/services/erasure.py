"""Erasure of one person's data on request (Ley 19.628 / 21.719)."""

import logging
import re
from dataclasses import astuple, dataclass, field
from datetime import datetime
from functools import partial

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from geo_siac.notifications.models import Delivery, Medium, Notification
from geo_siac.reports.archived import (
    ArchiveColumnsMissing,
    PendingErasuresBlocked,
    archive_schemas_prepare,
    archive_search_path,
    archived_years,
    erasure_digest_key,
    erasure_digest_keys,
    key_fingerprint,
    person_digest,
)
from geo_siac.reports.events import data_redacted
from geo_siac.reports.letters import letter_pdf
from geo_siac.reports.models import (
    AnswerLetter,
    EventKind,
    EventPhoto,
    Follower,
    PendingErasure,
    Report,
    ReportDocument,
    ReportEvent,
    ReportPhoto,
    YearArchive,
)
from geo_siac.reports.selectors import (
    email_key,
    person_added_photos,
    person_notifications,
    person_reports,
    phone_key,
)

ERASED = "[borrado a petición del titular]"
logger = logging.getLogger(__name__)


@dataclass
class ErasureSummary:
    reports_anonymised: int = 0
    photos_deleted: int = 0
    documents_deleted: int = 0
    follows_removed: int = 0
    notifications_redacted: int = 0
    letters_redacted: int = 0
    # Archived years (reports.archived): those searched in their archive schema, and those only in a dump, which
    # this erasure cannot reach (the caller says so: restore the dump, erase again, dump it again).
    archived_years_searched: list[int] = field(default_factory=list)
    archived_years_not_reached: list[str] = field(default_factory=list)
    # Dumps of archived years that still hold what this erasure redacted in their schema: to be written again.
    archived_dumps_outdated: list[str] = field(default_factory=list)
    # Of the years not reached, those where this erasure is recorded as pending (PendingErasure), to be applied to the
    # year's schema once its dump is restored (pending_erasures_apply).
    archived_years_pending: list[int] = field(default_factory=list)
    # The years of archived_years_not_reached, in its order.
    archived_years_unreached: list[int] = field(default_factory=list)


def reporter_data_erase(*, email: str = "", phone: str = "", commit: bool = False) -> ErasureSummary:
    """Erase one person's data on request (Ley 19.628 / 21.719); their reports stay, anonymised, in statistics.

    The person is found by their email or, for the channels that have only a number (phone, WhatsApp, SMS), by
    their number however it was written (reports.selectors.person_reports). Removes name, email and phone from
    their reports and their answer letters, their photos (which may show people or plates; those added later as
    citizen information too, and those they added to a request they follow),
    their follows, and the recipient and text of messages to them: in the live tables and in the schema of every
    archived year still in the database (the same queries, reports.archived). Dry run unless `commit`. Called
    inside a larger erasure (citizens.services.citizen_data_erase), it is part of that one transaction; photo files
    are deleted only once the outermost transaction commits, so a failure never leaves rows pointing at missing
    files. The e-mail is matched without the spaces around it (selectors.email_key). An archive schema lacking a
    live column gets it first, in its own transaction (archived.archive_schemas_prepare; done by the caller when
    inside a larger one); one whose table stays locked makes the whole erasure refuse (ArchiveColumnsMissing),
    nothing erased.
    """
    email = email_key(email)
    archive_schemas_prepare()
    summary = ErasureSummary()
    files: list[str] = []
    with transaction.atomic():
        person_data_erase(summary, files, email=email, phone=phone)
        archives = archived_years()
        digest = person_key_digest(email=email, phone=phone) if archives else None
        unreached: list[int] = []
        for archive in archives:
            if not archive.in_database:
                summary.archived_years_not_reached.append(f"{archive.year} ({archive.dump or archive.schema})")
                unreached.append(archive.year)
                continue
            # The year's row locked before its schema is touched: archive_dump records a dump, and year_schema_drop
            # drops the schema, only with this row locked and this erasure's count seen (reports.archive).
            record = YearArchive.objects.select_for_update().get(year=archive.year)
            if not schema_present(record.schema):  # dropped while this erasure waited for the row
                summary.archived_years_not_reached.append(f"{archive.year} ({record.dump or record.schema})")
                unreached.append(archive.year)
                continue
            before = astuple(summary)
            with archive_search_path(record.schema):
                person_data_erase(summary, files, email=email, phone=phone)
            if astuple(summary) != before:
                # Any dump of the year, recorded or being written, still holds what was just erased: no longer its
                # record, so that archive_year --to dumps the schema again before --drop may drop it.
                YearArchive.objects.filter(year=archive.year).update(
                    dump="", dump_size=None, dump_sha256="", erasures=F("erasures") + 1
                )
                if record.dump:
                    summary.archived_dumps_outdated.append(record.dump)
            summary.archived_years_searched.append(archive.year)
            if digest:  # an earlier erasure of theirs pending for this year: this one goes further, and is done
                # here. Kept (marked applied), not deleted: the dump restored still holds what she erased, until
                # archive_dump records a new one (reports.archive).
                PendingErasure.objects.filter(
                    person=digest[0], key_fingerprint=digest[1], archive_id=archive.year
                ).update(erased_at=timezone.now(), applied_at=timezone.now())
        summary.archived_years_unreached = unreached
        if digest and unreached:
            pending_erasures_record(digest=digest, years=unreached)
            summary.archived_years_pending = unreached
        if commit and (summary.archived_years_not_reached or summary.archived_dumps_outdated):
            # Also when a citizen erases from "Mis solicitudes": someone must restore those dumps and erase again,
            # or write again the dumps that still hold what was erased.
            logger.warning(
                "erasure did not reach archived years only in a dump: %s (recorded as pending there, applied once "
                "restored: manage.py apply_pending_erasures); dumps holding erased data: %s",
                summary.archived_years_not_reached,
                summary.archived_dumps_outdated,
            )
        if commit:
            transaction.on_commit(partial(_delete_files, files))
        else:
            transaction.set_rollback(True)
    return summary


def person_key_digest(*, email: str, phone: str) -> tuple[str, str] | None:
    """The person's PendingErasure digest and the fingerprint of the key that made it, or None when they are no one
    to find (no e-mail, a number too short)."""
    if not email and len(phone_key(phone)) < 8:
        return None
    key = erasure_digest_key(create=True)
    return person_digest(key, email=email, phone=phone_key(phone)), key_fingerprint(key)


def pending_erasures_record(*, digest: tuple[str, str], years: list[int]) -> None:
    """This erasure, pending for `years` (only in their dumps): by the person's digest, never their address or
    number, the key's fingerprint, and its time, the bound of what the restored schema will have erased (the latest,
    if they ask again: then not applied yet)."""
    now = timezone.now()
    person, fingerprint = digest
    PendingErasure.objects.bulk_create(
        [PendingErasure(person=person, key_fingerprint=fingerprint, archive_id=year, erased_at=now) for year in years],
        update_conflicts=True,
        unique_fields=["person", "archive"],
        update_fields=["erased_at", "key_fingerprint", "applied_at"],
    )


@dataclass
class PendingErasuresApplied:
    """What pending_erasures_apply did to one archived year's schema."""

    year: int
    schema: str
    records: int = 0  # the pending erasures of the year applied (again, harmlessly, for those applied before)
    people: int = 0  # of them, the people who had data in the schema still
    orphaned: int = 0  # those made with a key no longer in reports_erasuredigestkey: left unapplied
    summary: ErasureSummary = field(default_factory=ErasureSummary)
    dump_outdated: str = ""  # the recorded dump, which still holds what was erased: to be written again


# What person_data_erase writes: each must be the archive schema's own table, or the pass would reach live rows.
ERASED_TABLES = [model._meta.db_table for model in (Report, ReportPhoto, EventPhoto, ReportEvent, AnswerLetter)]
ERASED_TABLES += [Notification._meta.db_table, Follower._meta.db_table]


def pending_erasures_apply(*, year: int) -> PendingErasuresApplied | None:
    """The erasures that could not reach `year` (only in its dump then), applied to its schema restored, and to it
    only: each person recorded (PendingErasure) is found among the e-mails and numbers of the schema by their digest,
    under the key that made it (its fingerprint), and erased there as of their erasure (person_data_erase with
    `before`: the rows that existed then), never in the live tables nor in another year. Every row of the year is
    applied, those applied before too (harmless: what they reach is erased already), and marked `applied_at`, never
    deleted: the dump restored still holds the data, and may be restored again (a schema loaded in parts, a schema
    dropped by hand); archive_dump deletes them once a dump written after the apply is recorded. Rows whose key is
    gone (replaced, not restored) are left as they are and counted in `orphaned`. One transaction, with the year's
    row locked first as an erasure does (so that a dump or a drop of the schema waits, reports.archive), the
    schema and pg_catalog alone in the search_path: a failure leaves the schema and the rows as they were. None when
    the year's schema is not in the database. A schema lacking a live column raises ArchiveColumnsMissing
    (archive_schemas_prepare first)."""
    files: list[str] = []
    with transaction.atomic():
        record = YearArchive.objects.select_for_update().filter(year=year).first()
        if record is None or not schema_present(record.schema):
            return None
        pending = list(PendingErasure.objects.select_for_update().filter(archive=record))
        keys = erasure_digest_keys()
        usable = [each for each in pending if each.key_fingerprint in keys]
        applied = PendingErasuresApplied(
            year=year, schema=record.schema, records=len(usable), orphaned=len(pending) - len(usable)
        )
        if not usable:
            return applied
        erased_at = {(each.key_fingerprint, each.person): each.erased_at for each in usable}
        fingerprints = sorted({each.key_fingerprint for each in usable})
        with archive_search_path(record.schema, alone=True):
            schema_tables_check(record.schema)
            for kind, value in schema_people():  # one digest per key in use and distinct identity of the year
                befores = [erased_at.get((f, person_digest(keys[f], **{kind: value}))) for f in fingerprints]
                befores = [before for before in befores if before is not None]
                if befores:
                    counts = astuple(applied.summary)
                    person_data_erase(applied.summary, files, before=max(befores), **{kind: value})
                    applied.people += astuple(applied.summary) != counts
        if astuple(applied.summary) != astuple(ErasureSummary()):
            # As an erasure's: the recorded dump (the one restored) still holds what was erased.
            YearArchive.objects.filter(year=year).update(
                dump="", dump_size=None, dump_sha256="", erasures=F("erasures") + 1
            )
            applied.dump_outdated = record.dump
        PendingErasure.objects.filter(pk__in=[each.pk for each in usable]).update(applied_at=timezone.now())
        transaction.on_commit(partial(_delete_files, files))
    logger.warning(
        "pending erasures of %s applied to %s: %s, %s people found there, %s left with their key gone; dump holding "
        "erased data: %s",
        year,
        applied.schema,
        applied.records,
        applied.people,
        applied.orphaned,
        applied.dump_outdated or "-",
    )
    return applied


def pending_erasure_years() -> list[int]:
    """The archived years with an erasure recorded (pending, or applied but not yet in a new dump), oldest first."""
    return list(PendingErasure.objects.order_by("archive_id").values_list("archive_id", flat=True).distinct())


def pending_erasures_apply_restored() -> None:
    """post_migrate (the documented step after a pg_restore): pending_erasures_apply on every year with erasures
    pending whose schema is back. One whose schema could not be aligned (a table locked by a backup) is left with a
    warning: the same command or `manage.py apply_pending_erasures` applies them later."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('reports_pendingerasure') IS NOT NULL")
        if not cursor.fetchone()[0]:  # migrated back before it existed
            return
    for year in pending_erasure_years():
        try:
            pending_erasures_apply(year=year)
        except (ArchiveColumnsMissing, PendingErasuresBlocked) as exc:
            logger.warning("pending erasures of %s not applied: %s", year, exc)


def table_visible(table: str) -> bool:
    """Whether the search_path names a table of that name (the live one, or an archive schema's)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
        return cursor.fetchone()[0]


def schema_tables_check(schema: str) -> None:
    """Every table person_data_erase writes is `schema`'s own (else the search_path would hand it the live one)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t FROM unnest(%s::text[]) t WHERE to_regclass(format('%%I.%%I', %s::text, t)) IS NULL",
            [ERASED_TABLES, schema],
        )
        missing = [table for (table,) in cursor.fetchall()]
    if missing:
        raise PendingErasuresBlocked(
            f"{schema} no tiene las tablas {', '.join(missing)}: el borrado pendiente alcanzaría las tablas en uso. "
            "No se borró nada."
        )


def schema_people() -> list[tuple[str, str]]:
    """("email", e-mail) and ("phone", number) of every person the tables the search_path names hold (reporters,
    followers, those who added a photo or a document, recipients), normalised as person_reports and person_notifications find them."""
    emails = set(Report.objects.exclude(reporter_email="").values_list("reporter_email", flat=True).distinct())
    emails |= set(Follower.objects.values_list("email", flat=True).distinct())
    emails |= set(EventPhoto.objects.exclude(added_by="").values_list("added_by", flat=True).distinct())
    if table_visible(ReportDocument._meta.db_table):  # an archive schema made before documents existed has none
        emails |= set(ReportDocument.objects.exclude(added_by="").values_list("added_by", flat=True).distinct())
    emails |= set(Notification.objects.filter(medium=Medium.EMAIL).values_list("recipient", flat=True).distinct())
    phones = set(
        Report.objects.filter(reporter_email="").exclude(reporter_phone="").values_list("reporter_phone", flat=True)
    )
    phones |= set(
        Notification.objects.filter(medium__in=[Medium.SMS, Medium.WHATSAPP]).values_list("recipient", flat=True)
    )
    people = {("email", email_key(email)) for email in emails if email_key(email)}
    people |= {("phone", phone_key(phone)) for phone in phones if len(phone_key(phone)) >= 8}
    return sorted(people)


def schema_present(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regnamespace(%s) IS NOT NULL", [schema])
        return cursor.fetchone()[0]


def person_data_erase(
    summary: ErasureSummary, files: list[str], *, email: str = "", phone: str = "", before: datetime | None = None
) -> None:
    """One pass of reporter_data_erase over the tables the search_path names; adds to `summary` and `files`. With
    `before`, only what existed then: the reports, follows and messages created before it (a pending erasure)."""
    reports = person_reports(email=email, phone=phone).select_for_update()
    since = {"created_at__lt": before} if before else {}
    reports = reports.filter(**since)
    photos = ReportPhoto.objects.filter(report__in=reports)
    files += [name for photo in photos for name in (photo.image.name, photo.thumbnail.name) if name]
    summary.photos_deleted += photos.delete()[0]
    # The photos a citizen added later ("Agregar información", an MMS after filing) are theirs too, and so are those
    # they added, as a follower, to someone else's request (which stays).
    added = EventPhoto.objects.filter(event__report__in=reports, event__kind=EventKind.CITIZEN_INFO)
    added = added | person_added_photos(email=email).filter(**({"event__created_at__lt": before} if before else {}))
    files += [photo.image.name for photo in added if photo.image.name]
    summary.photos_deleted += added.delete()[0]
    if table_visible(ReportDocument._meta.db_table):  # an archive schema made before documents existed has none
        documents = ReportDocument.objects.filter(report__in=reports)
        if key := email_key(email):  # a follower's PDFs on someone else's request are theirs too
            documents = documents | ReportDocument.objects.filter(added_by=key, **since)
        # An answer's documents stay with its letter: the public body's answer on record (docs/request-kinds.md).
        documents = documents.filter(letter__isnull=True)
        files += [document.file.name for document in documents if document.file.name]
        summary.documents_deleted += documents.delete()[0]
    summary.letters_redacted += _redact_letters(AnswerLetter.objects.filter(report__in=reports))
    _redact_notes(reports)
    # The messages to them by any medium: to their address or number, and every message about their reports.
    messages = Notification.objects.filter(
        Q(pk__in=person_notifications(email=email, phone=phone).filter(**since).values("pk")) | Q(report__in=reports)
    ).exclude(recipient=ERASED)
    message_ids = list(messages.values_list("pk", flat=True))
    summary.reports_anonymised += reports.update(reporter_name="", reporter_email="", reporter_phone="", media_url="")
    if email:
        summary.follows_removed += Follower.objects.filter(email__iexact=email, **since).delete()[0]
    messages = Notification.objects.filter(pk__in=message_ids)
    messages.filter(delivery=Delivery.PENDING).update(delivery=Delivery.FAILED, last_error=ERASED)
    summary.notifications_redacted += messages.update(recipient=ERASED, subject=ERASED, body="")


TITLES = r"(?:Sr|Sra|Srta|Don|Doña|Dr|Dra|Estimad[oa](?:\(a\))?)\.?\s+"


def _identifiers(report) -> re.Pattern | None:
    """The requester as a text about them may write them: their whole name or two or more of its words in a row
    ("María del Carmen", "Pérez Soto"), one word after a title ("Sra. Pérez"), their email, and their number however written.
    Single words alone are left: "del", "Paz" or "Rosa" are also ordinary words of the municipality's record."""
    words = report.reporter_name.split()
    names = [" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 2, len(words) + 1)]
    alternatives = [re.escape(n.strip()).replace(r"\ ", r"\s+") for n in names if len(n.strip()) >= 3]
    alternatives += [TITLES + re.escape(word) for word in words if len(word) >= 3]
    if report.reporter_email:
        alternatives.append(re.escape(report.reporter_email))
    digits = phone_key(report.reporter_phone)
    if len(digits) >= 8:
        national = digits[2:] if digits.startswith("56") and len(digits) == 11 else digits
        alternatives.append(r"(?:\+?56[\s().-]*)?" + r"[\s().-]*".join(national))
    if not alternatives:
        return None
    alternatives.sort(key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def _redact_letters(letters) -> int:
    """A sent letter stays (the municipality's answer on record), with the requester's name, email and phone erased
    from every line of it (the salutation, and the answer where it names them), and its PDF redrawn."""
    count = 0
    for letter in letters.select_related("report"):
        pattern = _identifiers(letter.report)
        for key, value in letter.content.items():
            if isinstance(value, str) and pattern is not None:
                letter.content[key] = pattern.sub(ERASED, value)
        for attached in letter.content.get("attachments", []) if pattern is not None else []:
            attached["name"] = pattern.sub(ERASED, attached["name"])  # as listed; the kept file keeps its own
        letter.content["salutation"] = ERASED
        letter.pdf = letter_pdf(letter.content)
        letter.save(update_fields=["content", "pdf"])
        count += 1
    return count


def _redact_notes(reports) -> None:
    """The history's notes (an answer is also its status event's note) with the requester's identifiers erased, and
    the free text of a line's data (events.data_redacted), which the pages word before its note."""
    for report in reports:
        pattern = _identifiers(report)
        if pattern is None:
            continue
        events = ReportEvent.objects.filter(report=report).exclude(note="", data__isnull=True)
        for event in events.only("pk", "note", "data"):
            note = pattern.sub(ERASED, event.note)
            data = data_redacted(event.data, partial(pattern.sub, ERASED)) if event.data else event.data
            if note != event.note or data != event.data:
                ReportEvent.objects.filter(pk=event.pk).update(note=note, data=data)


def _delete_files(names: list[str]) -> None:
    storage = ReportPhoto._meta.get_field("image").storage
    for name in names:
        storage.delete(name)
