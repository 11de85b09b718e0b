"""Status changes: a report moved through an allowed transition under a row lock, and the messages that tell its
reporter and followers."""

from collections.abc import Callable, Sequence
from enum import Enum

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from geo_siac.catalogue.kinds import closing_by_law
from geo_siac.notifications.models import Medium
from geo_siac.notifications.services import notification_enqueue
from geo_siac.reports.closing import citizen_may_reopen
from geo_siac.reports.events import event_data, event_text, stored_note
from geo_siac.reports.messages import notice_message, sender_name, status_message
from geo_siac.reports.models import AnswerLetter, EventKind, Report, ReportEvent
from geo_siac.reports.photos import ProcessedPhoto
from geo_siac.reports.services.photos import event_photo_store, photo_process
from geo_siac.reports.states import (
    CLOSED,
    OPEN,
    Channel,
    Status,
    can_transition,
    public_text,
    public_text_refusal,
    resolved_only_by_letter,
    resolved_only_by_letter_message,
)
from geo_siac.reports.work_location import WorkLocation, crew_work_check, event_fields


class Unchanged(ValidationError):
    """The report is already as asked (status, crew): a single change says so; a bulk change reports it as
    unchanged rather than refusing the batch."""


# A crew shows the place before and after; more is a mistake (the same shot picked twice) or a slow upload.
MAX_STATUS_PHOTOS = 4


def status_photos_process(photos: Sequence) -> list[ProcessedPhoto]:
    """Every photo of one change checked and re-encoded (photo_process) before anything is written: one bad photo
    refuses the whole change, under `photos`, naming which one and why."""
    if len(photos) > MAX_STATUS_PHOTOS:
        raise ValidationError(
            {
                "photos": _("Se pueden adjuntar hasta %(max)d fotos por cambio; llegaron %(count)d.")
                % {"max": MAX_STATUS_PHOTOS, "count": len(photos)}
            }
        )
    processed = []
    for number, photo in enumerate(photos, start=1):
        try:
            processed.append(photo_process(photo))
        except ValidationError as exc:
            message = _(
                "La foto %(number)d (%(name)s) no se puede usar: %(reason)s No se guardó ningún cambio; "
                "quítela o reemplácela y vuelva a intentarlo."
            )
            raise ValidationError(
                {
                    "photos": message
                    % {"number": number, "name": getattr(photo, "name", "") or "—", "reason": " ".join(exc.messages)}
                }
            ) from exc
    return processed


def lock_report(report: Report, seen_updated_at=None) -> Report:
    """The report's row, locked until the transaction ends. With `seen_updated_at` (what the person's form
    showed), refuse when someone else changed the report in between rather than overwrite their change."""
    locked = Report.objects.select_for_update().get(pk=report.pk)
    if seen_updated_at is not None and locked.updated_at != seen_updated_at:
        raise ValidationError(
            {
                "__all__": _(
                    "Otra persona modificó esta solicitud mientras usted la tenía abierta. "
                    "Revise su estado actual y vuelva a intentarlo."
                )
            }
        )
    return locked


class Explained(Enum):
    BY_CALLER = "by_caller"


# report_change_status's `public_note` from a caller whose change carries its own explanation for the citizen.
EXPLAINED_BY_CALLER = Explained.BY_CALLER


@transaction.atomic
def report_change_status(
    *,
    report: Report,
    status: str,
    note: str = "",
    actor=None,
    actor_label: str = "",
    note_is_public: bool = False,
    photos: Sequence = (),
    seen_updated_at=None,
    work_location: WorkLocation | None = None,
    letter: AnswerLetter | None = None,
    legal_step: bool = False,
    public_note: str | Explained,
    line: dict | None = None,
) -> Report:
    """Move a report through an allowed transition, under a row lock so concurrent changes never interleave.

    The change itself is public (the citizen is told of every change). The note is internal unless
    `note_is_public`: crews write for each other ("vecino conflictivo", a neighbour's name), so a note reaches the
    citizen only when its author chose so; an internal note is kept as a separate staff-only history event.
    `photos` (bytes or uploaded files) are all validated and stripped of metadata before the row is locked: one
    bad photo refuses the change and nothing is written. `work_location`, where the crew worked, is kept on the
    status event for staff only (no public read selects it). A kind answered by letter is resolved only by
    report_answer, which passes its `letter` here so the message links it; a closing its kind reaches only by a legal
    step (catalogue.kinds.closing_by_law: a Ley 20.285 referral) only from that step's service, with `legal_step`.
    Crew photos and a work location only where the kind has a crew's work (catalogue.kinds.offers_crew_work).

    `public_note` is what a person's status form (crew, supervisor, bulk, offline queue) says to the citizen, apart
    from the internal note: it goes on the public event and in the message, and the outcomes of
    `states.PUBLIC_TEXT_REQUIRED` are refused without it. It has no default, so no caller skips the rule by
    forgetting it: EXPLAINED_BY_CALLER is for callers that tell the citizen why themselves (a letter, a referral, a
    merge, a reopening, an import). `line` (events.event_data) is what a caller tells them in a line GeoSIAC words in
    each reader's language (a referral): the public event's, in place of a note."""
    processed = status_photos_process(photos)
    locked = lock_report(report, seen_updated_at)
    crew_work_check(locked.kind, photos=photos, location=work_location)  # as locked: a reclassification moves a kind
    if status not in Status.values:
        raise ValidationError({"status": _("Estado desconocido: %s") % status})
    if locked.status == status:
        raise Unchanged({"status": _("Ya está en «%(status)s».") % {"status": Status(status).label}})
    if letter is None and resolved_only_by_letter(locked.kind, status):
        raise ValidationError({"status": resolved_only_by_letter_message(locked.kind)})
    if not legal_step and (refusal := closing_by_law(locked.kind, status)):
        raise ValidationError({"status": refusal})
    if not can_transition(locked.status, status):
        raise ValidationError(
            {
                "status": _("No se puede pasar de «%(from)s» a «%(to)s».")
                % {"from": Status(locked.status).label, "to": Status(status).label}
            }
        )
    note = note.strip()
    explained = public_note is EXPLAINED_BY_CALLER
    told = public_text(None if explained else public_note, note, note_is_public)
    if not explained and (refusal := public_text_refusal(status, told)):
        raise ValidationError({"public_note": refusal})
    now = timezone.now()
    previous = locked.status
    locked.status = status
    locked.updated_at = now
    locked.closed_at = now if status in CLOSED else None
    if previous == Status.SUBMITTED and locked.first_response_at is None:
        locked.first_response_at = now
    if previous in CLOSED and status in OPEN:
        locked.times_reopened += 1
        locked.duplicate_of = None  # reopened: not the same problem after all, so it counts on its own again
    locked.save(
        update_fields=["status", "updated_at", "closed_at", "first_response_at", "times_reopened", "duplicate_of"]
    )
    event = ReportEvent(
        report=locked,
        kind=EventKind.STATUS,
        from_status=previous,
        to_status=status,
        note=told,
        data=line,
        is_public=True,
        actor=actor,
        actor_label=actor_label,
        created_at=now,
        **event_fields(work_location),
    )
    if line is not None:
        event.note = stored_note(event)
    event.save()
    for photo in processed:
        event_photo_store(event=event, processed=photo)
    if note and not note_is_public:
        ReportEvent.objects.create(
            report=locked,
            kind=EventKind.NOTE,
            note=note,
            is_public=False,
            actor=actor,
            actor_label=actor_label,
            created_at=now,
        )
    notify_status_change(report=locked, event=event, letter=letter)
    return locked


def notify_status_change(*, report: Report, event: ReportEvent, letter: AnswerLetter | None = None) -> None:
    """Outbox messages for the reporter (email, or SMS when only a phone was left) and every follower: the status
    `event`'s note in each one's language (events.event_text). Whether a closing offers reopening is asked once."""
    reopenable = report.status in CLOSED and citizen_may_reopen(report)
    notify_citizens(
        report=report,
        message=lambda language, email: status_message(
            report,
            language,
            # The notice's wording: the officer's words on a line of their own, as the tracking page shows them.
            event_text(event, language, notice=True),
            email=email,
            letter=letter,
            reopened=event.reopened_by_citizen,
            reopenable=reopenable,
        ),
    )


def phone_medium(report: Report) -> str:
    """A request filed by WhatsApp hears back on WhatsApp; any other phone by SMS."""
    return Medium.WHATSAPP if report.channel == Channel.WHATSAPP else Medium.SMS


def notify_citizens(*, report: Report, message: Callable[[str, str], tuple[str, str]]) -> None:
    """Queue `message(language, email)` (its subject and body; email empty for an SMS) for the reporter (email, or
    SMS when only a phone was left) and every follower."""
    recipients = {f.email: (Medium.EMAIL, f.language) for f in report.followers.all()}
    if report.reporter_email:
        recipients[report.reporter_email.lower()] = (Medium.EMAIL, report.language)
    elif report.reporter_phone:
        recipients[report.reporter_phone] = (phone_medium(report), report.language)
    sender = sender_name(report)
    for recipient, (medium, language) in recipients.items():
        subject, body = message(language, recipient if medium == Medium.EMAIL else "")
        notification_enqueue(
            report=report,
            recipient=recipient,
            language=language,
            subject=subject,
            body=body,
            medium=medium,
            sender_name=sender,
        )


def public_line(
    report: Report, *, kind: str, line: str, params: dict, reason: str = "", actor=None, actor_label=None, **fields
) -> ReportEvent:
    """Write the public event of a line GeoSIAC words for the citizen (reports.events.LINES): its data, worded by
    each reader in their language, and what `reason` the officer typed for them. `fields`: the event's others
    (created_at, from_status, to_status)."""
    event = ReportEvent(
        report=report,
        kind=kind,
        is_public=True,
        data=event_data(line, params, reason),
        actor=actor,
        actor_label=(actor.get_username() if actor else "") if actor_label is None else actor_label,
        **fields,
    )
    event.note = stored_note(event)
    event.save()
    return event


def public_notice(report: Report, **line) -> ReportEvent:
    """public_line, and the notice of its line to every citizen of the request, each in their own language: one
    place for the changes that tell the citizen without changing the status (a rerouting, a reclassification, a
    Ley 20.285 extension or subsanación)."""
    event = public_line(report, **line)
    notify_citizens(
        report=report,
        message=lambda language, email: notice_message(report, language, event_text(event, language, notice=True)),
    )
    return event
