"""The Ley 20.285 clock of an access-to-information request (deadlines.py holds its day counts), the formal answer
by letter of it or of a reclamo, and the referral ("derivación") of any request to the competent body. Each step is one transaction under the report's row
lock, leaves a history event and tells the citizen through the outbox (docs/request-kinds.md)."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from geo_siac.catalogue.kinds import (
    NEEDS_GROUND,
    Action,
    DenialGround,
    LegalOutcome,
    RequestKind,
    allows,
    takes_legal_outcome,
)
from geo_siac.catalogue.models import Institution
from geo_siac.reports.deadlines import (
    INFORMATION_EXTENSION_DAYS,
    correction_due,
    information_extended,
    information_restarted,
    shown_day,
)
from geo_siac.reports.events import event_data
from geo_siac.reports.letters import letter_content, letter_pdf
from geo_siac.reports.models import AnswerLetter, EventKind, Report, ReportEvent
from geo_siac.reports.photos import ProcessedDocument
from geo_siac.reports.services.assignment import closed_refusal, required_reason
from geo_siac.reports.services.photos import documents_process, documents_removed_on_rollback, report_document_store
from geo_siac.reports.services.status import (
    EXPLAINED_BY_CALLER,
    lock_report,
    notify_status_change,
    public_line,
    public_notice,
    report_change_status,
)
from geo_siac.reports.states import OPEN, Status
from geo_siac.zones.selectors import closed_days


def clock_refusal(report: Report, action: str) -> dict[str, str]:
    """Why `action` cannot be taken on the report, by field; empty unless its kind allows it and the report is open
    and not waiting for the citizen. The services below and the pages that offer them ask the same."""
    if not allows(report.kind, action):
        return {
            "__all__": _("Una solicitud de tipo «%(kind)s» no admite «%(action)s».")
            % {"kind": RequestKind(report.kind).label, "action": Action(action).label}
        }
    if refusal := closed_refusal(report):
        return refusal
    if report.correction_due_at is not None and action != Action.REFERRAL:
        return {
            "__all__": _("La solicitud espera la subsanación del solicitante hasta el %(day)s.")
            % {"day": shown_day(report.correction_due_at)}
        }
    return {}


def information_extend_refusal(report: Report, now: datetime | None = None) -> dict[str, str]:
    """Why the Ley 20.285 extension cannot be given, by field; empty when it can."""
    if refusal := clock_refusal(report, Action.LEGAL_EXTEND):
        return refusal
    if report.deadline_extended_at is not None:
        return {
            "reason": _("El plazo ya fue prorrogado el %(day)s: la ley permite una sola prórroga.")
            % {"day": shown_day(report.deadline_extended_at)}
        }
    if (now or timezone.now()) > report.expected_at:
        return {
            "reason": _("El plazo venció el %(day)s: la prórroga debe comunicarse antes del vencimiento.")
            % {"day": shown_day(report.expected_at)}
        }
    return {}


def correction_refusal(report: Report, now: datetime | None = None) -> dict[str, str]:
    """Why a subsanación cannot be asked for, by field; empty when it can."""
    if refusal := clock_refusal(report, Action.CORRECTION):
        return refusal
    if (now or timezone.now()) > report.expected_at:
        return {
            "reason": _("El plazo venció el %(day)s: ya no se puede pedir una subsanación.")
            % {"day": shown_day(report.expected_at)}
        }
    return {}


@transaction.atomic
def information_extend(*, report: Report, reason: str, actor=None, seen_updated_at=None) -> Report:
    """The one Ley 20.285 extension (art. 14): 10 business days more, only before the deadline, with a notice."""
    reason = required_reason(reason)
    locked = lock_report(report, seen_updated_at)
    now = timezone.now()
    if refusal := information_extend_refusal(locked, now):
        raise ValidationError(refusal)
    previous = locked.expected_at
    locked.expected_at = information_extended(previous, closed_days=closed_days())
    locked.deadline_extended_at = now
    locked.updated_at = now
    locked.save(update_fields=["expected_at", "deadline_extended_at", "updated_at"])
    public_notice(
        locked,
        kind=EventKind.EXTENDED,
        line="information_extended",
        params={"days": INFORMATION_EXTENSION_DAYS, "from": previous, "to": locked.expected_at},
        reason=reason,
        actor=actor,
        created_at=now,
    )
    return locked


@transaction.atomic
def information_correction_request(*, report: Report, note: str, actor=None, seen_updated_at=None) -> Report:
    """A subsanación (art. 12): the officer asks the citizen to correct or complete the request. The clock waits:
    the request's deadline becomes the citizen's (5 business days), after which it is deemed withdrawn."""
    note = required_reason(note)
    locked = lock_report(report, seen_updated_at)
    now = timezone.now()
    if refusal := correction_refusal(locked, now):
        raise ValidationError(refusal)
    locked.correction_requested_at = now
    locked.correction_due_at = locked.expected_at = correction_due(now, closed_days=closed_days())
    locked.updated_at = now
    locked.save(update_fields=["correction_requested_at", "correction_due_at", "expected_at", "updated_at"])
    public_notice(
        locked,
        kind=EventKind.CORRECTION,
        line="correction_requested",
        params={"day": locked.correction_due_at},
        reason=note,
        actor=actor,
        created_at=now,
    )
    return locked


@transaction.atomic
def information_correction_receive(*, report: Report, note: str, actor=None, actor_label: str = "") -> Report:
    """The citizen's correction arrived (through "Mis solicitudes" or at a desk): the 20 business days count again
    from today. `note` is what the citizen sent, kept as an internal note for the officer."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Escriba lo que el solicitante corrigió o completó.")})
    locked = lock_report(report)
    if locked.correction_due_at is None or locked.status not in OPEN:
        raise ValidationError(
            {"note": _("La solicitud %(code)s no espera una subsanación.") % {"code": locked.tracking_code}}
        )
    now = timezone.now()
    label = actor_label or (actor.get_username() if actor else "")
    ReportEvent.objects.create(
        report=locked,
        kind=EventKind.NOTE,
        note=note,
        is_public=False,
        actor=actor,
        actor_label=label,
        created_at=now,
        # The requester's words, typed at a desk: shown back to them (selectors.requester_additions).
        data={"from_requester": True, "answers_correction": True},
    )
    return correction_received(locked, now=now, actor=actor, actor_label=label)


def correction_received(locked: Report, *, now: datetime, actor=None, actor_label: str = "") -> Report:
    """Restart the clock of a locked request waiting for its subsanación: 20 business days from `now`."""
    locked.correction_due_at = None
    locked.expected_at = information_restarted(now, closed_days=closed_days())
    locked.updated_at = now
    locked.save(update_fields=["correction_due_at", "expected_at", "updated_at"])
    public_line(
        locked,
        kind=EventKind.CORRECTION,
        line="correction_received",
        params={"day": locked.expected_at},
        actor=actor,
        actor_label=actor_label,
        created_at=now,
    )
    return locked


def information_corrections_lapse(*, now: datetime | None = None) -> int:
    """Close as withdrawn ("se tiene por desistida", art. 12) every request whose subsanación was not answered by
    its due time, at that time; one transaction per request. Behind `manage.py lapse_corrections`, run by a
    timer; returns how many lapsed."""
    now = now or timezone.now()
    lapsed = 0
    for pk in Report.objects.filter(correction_due_at__lt=now, status__in=OPEN).values_list("pk", flat=True):
        with transaction.atomic():
            locked = lock_report(Report(pk=pk))
            if locked.correction_due_at is None or locked.correction_due_at >= now or locked.status not in OPEN:
                continue  # answered or closed meanwhile
            previous, due = locked.status, locked.correction_due_at
            locked.status, locked.closed_at, locked.updated_at = Status.CLOSED_WITHDRAWN, due, now
            locked.correction_due_at = None
            if locked.first_response_at is None and previous == Status.SUBMITTED:
                locked.first_response_at = now
            locked.save(update_fields=["status", "closed_at", "updated_at", "correction_due_at", "first_response_at"])
            event = public_line(
                locked,
                kind=EventKind.STATUS,
                line="correction_lapsed",
                params={"day": due},
                actor_label="GeoSIAC",
                from_status=previous,
                to_status=locked.status,
                created_at=now,
            )
            notify_status_change(report=locked, event=event)
            lapsed += 1
    return lapsed


def answer_validate(*, kind: str, outcome: str, note: str, ground: str = "") -> str:
    """The answer's text, stripped, or the refusal naming each problem: a Ley 20.285 answer has its outcome and,
    for a denial whole or partial, its legal ground; a reclamo's has neither. The console's preview checks the
    same rules before showing the letter."""
    note = (note or "").strip()
    errors = {}
    if not takes_legal_outcome(kind):
        if outcome or ground:
            errors["outcome"] = _("Solo una solicitud de acceso a información lleva resultado legal.")
    elif outcome not in LegalOutcome.values:
        errors["outcome"] = _("Elija el resultado de la respuesta.")
    elif outcome in NEEDS_GROUND and ground not in DenialGround.values:
        errors["ground"] = _("Indique la causal legal de la denegación (art. 21 o art. 20).")
    elif outcome not in NEEDS_GROUND and ground:
        errors["ground"] = _("Solo una denegación, total o parcial, lleva causal.")
    if not note:
        errors["note"] = _("Escriba la respuesta.")
    if errors:
        raise ValidationError(errors)
    return note


# The outcomes that deliver information, whole or in part: only their letters carry the documents delivered.
DELIVERING = (LegalOutcome.DELIVERED, LegalOutcome.PARTLY_DELIVERED)


def answer_documents_process(*, kind: str, outcome: str, documents) -> list[ProcessedDocument]:
    """The PDFs an answer delivers, each checked by the requester's own rule (services.photos.documents_process, so
    one bad file refuses the whole answer, naming it), or the refusal: only a delivering answer carries any."""
    documents = [document for document in documents or () if document]
    if documents and outcome not in DELIVERING:
        raise ValidationError(
            {
                "documents": _(
                    "Solo una respuesta que entrega la información, total o parcialmente, lleva documentos adjuntos."
                )
            }
        )
    return documents_process(kind, documents, send_rest_later=False)


def answer_refusal(report: Report) -> dict[str, str]:
    """Why the request cannot be answered by letter now, by field; empty when it can."""
    return clock_refusal(report, Action.LEGAL_ANSWER)


@documents_removed_on_rollback()
@transaction.atomic
def report_answer(
    *, report: Report, note: str, outcome: str = "", ground: str = "", documents=(), actor, seen_updated_at=None
):
    """The formal answer of a request whose kind is answered by letter (a reclamo; an access-to-information request
    with its legal outcome: delivered, partly delivered, denied with its art. 21/20 ground, not held). The letter is
    written and frozen (AnswerLetter, signed by `actor`) with the PDF `documents` it delivers listed and attached as
    the institution's, the request resolved with `note` as its public answer, and the citizen told with links to the
    letter. Returns the report."""
    note = answer_validate(kind=report.kind, outcome=outcome, note=note, ground=ground)
    checked = answer_documents_process(kind=report.kind, outcome=outcome, documents=documents)
    locked = lock_report(report, seen_updated_at)
    if refusal := answer_refusal(locked):
        raise ValidationError(refusal)
    now = timezone.now()
    content = letter_content(
        report=locked, officer=actor, note=note, outcome=outcome, ground=ground, now=now, documents=checked
    )
    letter = AnswerLetter.objects.create(
        report=locked,
        number=locked.letters.count() + 1,
        language=locked.language,
        content=content,
        pdf=letter_pdf(content),
        signed_by=actor,
        issued_at=now,
    )
    if checked:
        for listed, document in zip(content["attachments"], checked, strict=True):
            stored = report_document_store(report=locked, processed=document, created_at=now, letter=letter)
            listed["document_id"] = stored.pk  # the letter's pages link each line to its own file
        letter.save(update_fields=["content"])
    if outcome:
        locked.legal_outcome, locked.denial_ground = outcome, ground
        locked.save(update_fields=["legal_outcome", "denial_ground"])
    line = "answered_ground" if ground else "answered"
    return report_change_status(
        public_note=EXPLAINED_BY_CALLER,
        report=locked,
        status=Status.RESOLVED,
        note=note,
        note_is_public=True,
        line=event_data(line, {"outcome": outcome, **({"ground": ground} if ground else {})}, note)
        if outcome
        else None,
        actor=actor,
        actor_label=actor.get_username(),
        letter=letter,
    )


def refer_refusal(report: Report) -> dict[str, str]:
    """Why the request cannot be referred to another institution, by field; empty when it can (also while it waits
    for a subsanación)."""
    return clock_refusal(report, Action.REFERRAL)


@transaction.atomic
def report_refer(
    *, report: Report, institution: Institution | None, note: str = "", actor=None, seen_updated_at=None
) -> Report:
    """ "Derivar": the request belongs to another institution, one of those kept in the admin (no free text, so
    the citizen always gets its contact); it is closed for the municipality with that outcome and the citizen is
    told where it went and how to reach it."""
    if institution is None or not Institution.objects.filter(pk=institution.pk, is_active=True).exists():
        raise ValidationError({"institution": _("Elija de la lista el organismo al que se deriva.")})
    locked = lock_report(report, seen_updated_at)
    if refusal := refer_refusal(locked):
        raise ValidationError(refusal)
    locked.referred_to, locked.correction_due_at = institution, None
    locked.save(update_fields=["referred_to", "correction_due_at"])
    return report_change_status(
        public_note=EXPLAINED_BY_CALLER,
        report=locked,
        status=Status.CLOSED_NOT_MUNICIPAL,
        line=event_data(
            "referred",
            {"body": institution.name, "contact": institution.contact.strip(), "url": institution.website},
            note.strip(),
        ),
        legal_step=True,
        actor=actor,
        actor_label=actor.get_username() if actor else "",
    )
