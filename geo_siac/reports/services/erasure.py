"""Erasure of one person's data on request (Ley 19.628 / 21.719)."""

import logging
import re
from dataclasses import astuple, dataclass, field
from functools import partial

from django.db import connection, transaction
from django.db.models import F, Q

from geo_siac.notifications.models import Delivery, Notification
from geo_siac.reports.archived import archive_schemas_prepare, archive_search_path, archived_years
from geo_siac.reports.letters import letter_pdf
from geo_siac.reports.models import (
    AnswerLetter,
    EventKind,
    EventPhoto,
    Follower,
    ReportEvent,
    ReportPhoto,
    YearArchive,
)
from geo_siac.reports.selectors import email_key, person_notifications, person_reports, phone_key

ERASED = "[borrado a petición del titular]"
logger = logging.getLogger(__name__)


@dataclass
class ErasureSummary:
    reports_anonymised: int = 0
    photos_deleted: int = 0
    follows_removed: int = 0
    notifications_redacted: int = 0
    letters_redacted: int = 0
    # Archived years (reports.archived): those searched in their archive schema, and those only in a dump, which
    # this erasure cannot reach (the caller says so: restore the dump, erase again, dump it again).
    archived_years_searched: list[int] = field(default_factory=list)
    archived_years_not_reached: list[str] = field(default_factory=list)
    # Dumps of archived years that still hold what this erasure redacted in their schema: to be written again.
    archived_dumps_outdated: list[str] = field(default_factory=list)


def reporter_data_erase(*, email: str = "", phone: str = "", commit: bool = False) -> ErasureSummary:
    """Erase one person's data on request (Ley 19.628 / 21.719); their reports stay, anonymised, in statistics.

    The person is found by their email or, for the channels that have only a number (phone, WhatsApp, SMS), by
    their number however it was written (reports.selectors.person_reports). Removes name, email and phone from
    their reports and their answer letters, their photos (which may show people or plates; those added later as
    citizen information too),
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
        for archive in archived_years():
            if not archive.in_database:
                summary.archived_years_not_reached.append(f"{archive.year} ({archive.dump or archive.schema})")
                continue
            # The year's row locked before its schema is touched: archive_dump records a dump, and year_schema_drop
            # drops the schema, only with this row locked and this erasure's count seen (reports.archive).
            record = YearArchive.objects.select_for_update().get(year=archive.year)
            if not schema_present(record.schema):  # dropped while this erasure waited for the row
                summary.archived_years_not_reached.append(f"{archive.year} ({record.dump or record.schema})")
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
        if commit and (summary.archived_years_not_reached or summary.archived_dumps_outdated):
            # Also when a citizen erases from "Mis solicitudes": someone must restore those dumps and erase again,
            # or write again the dumps that still hold what was erased.
            logger.warning(
                "erasure did not reach archived years only in a dump: %s; dumps holding erased data: %s",
                summary.archived_years_not_reached,
                summary.archived_dumps_outdated,
            )
        if commit:
            transaction.on_commit(partial(_delete_files, files))
        else:
            transaction.set_rollback(True)
    return summary


def schema_present(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regnamespace(%s) IS NOT NULL", [schema])
        return cursor.fetchone()[0]


def person_data_erase(summary: ErasureSummary, files: list[str], *, email: str, phone: str) -> None:
    """One pass of reporter_data_erase over the tables the search_path names; adds to `summary` and `files`."""
    reports = person_reports(email=email, phone=phone).select_for_update()
    photos = ReportPhoto.objects.filter(report__in=reports)
    files += [name for photo in photos for name in (photo.image.name, photo.thumbnail.name) if name]
    summary.photos_deleted += photos.delete()[0]
    # The photos a citizen added later ("Agregar información", an MMS after filing) are theirs too.
    added = EventPhoto.objects.filter(event__report__in=reports, event__kind=EventKind.CITIZEN_INFO)
    files += [photo.image.name for photo in added if photo.image.name]
    summary.photos_deleted += added.delete()[0]
    summary.letters_redacted += _redact_letters(AnswerLetter.objects.filter(report__in=reports))
    _redact_notes(reports)
    # The messages to them by any medium: to their address or number, and every message about their reports.
    messages = Notification.objects.filter(
        Q(pk__in=person_notifications(email=email, phone=phone).values("pk")) | Q(report__in=reports)
    ).exclude(recipient=ERASED)
    message_ids = list(messages.values_list("pk", flat=True))
    summary.reports_anonymised += reports.update(reporter_name="", reporter_email="", reporter_phone="", media_url="")
    if email:
        summary.follows_removed += Follower.objects.filter(email__iexact=email).delete()[0]
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
        letter.content["salutation"] = ERASED
        letter.pdf = letter_pdf(letter.content)
        letter.save(update_fields=["content", "pdf"])
        count += 1
    return count


def _redact_notes(reports) -> None:
    """The history's notes (an answer is also its status event's note) with the requester's identifiers erased."""
    for report in reports:
        pattern = _identifiers(report)
        if pattern is None:
            continue
        for event in ReportEvent.objects.filter(report=report).exclude(note=""):
            redacted = pattern.sub(ERASED, event.note)
            if redacted != event.note:
                ReportEvent.objects.filter(pk=event.pk).update(note=redacted)


def _delete_files(names: list[str]) -> None:
    storage = ReportPhoto._meta.get_field("image").storage
    for name in names:
        storage.delete(name)
