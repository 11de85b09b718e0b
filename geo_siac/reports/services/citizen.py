"""What a citizen does after filing: follow an open report or stop following it, answer the survey of a closed one,
reopen a closing they do not accept ("No fue resuelto"), add a note or photo to an open report, and choose the
language of their messages, and have a fresh link to an answer letter sent to the requester."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from geo_siac.catalogue.kinds import takes_documents
from geo_siac.notifications.models import Medium, Notification
from geo_siac.notifications.services import notification_enqueue
from geo_siac.reports.closing import citizen_reopen_refusal, offers_survey
from geo_siac.reports.messages import letter_link_message, sender_name
from geo_siac.reports.models import CITIZEN_ACTOR, EventKind, Follower, Report, ReportEvent, SurveyResponse
from geo_siac.reports.ratelimit import Refusal
from geo_siac.reports.selectors import CITIZEN_INFO_PLACEHOLDERS, email_key, person_reports
from geo_siac.reports.services.information import correction_received
from geo_siac.reports.services.photos import (
    documents_process,
    documents_removed_on_rollback,
    event_photo_store,
    photo_process,
    report_document_store,
)
from geo_siac.reports.services.status import EXPLAINED_BY_CALLER, lock_report, phone_medium, report_change_status
from geo_siac.reports.states import CLOSED, is_open, reopening_status
from geo_siac.reports.validation import control_character_errors, description_error
from geo_siac.text import installation_language

# The languages messages are written in (Report.language, Follower.language).
MESSAGE_LANGUAGES = ("es", "en")
# A fresh letter link asked again inside this window (a reload, a second click, an answer lost on the way) finds the
# one already queued and is not sent twice.
LETTER_LINK_REPEAT = timedelta(minutes=10)


@transaction.atomic
def report_follow(*, report: Report, email: str, language: str = "es") -> Follower:
    """Follow an open report instead of filing a duplicate: the follower gets its notifications."""
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("Escriba un correo electrónico válido para recibir los avisos.")}) from None
    if not is_open(report.status):
        raise ValidationError({"email": _("Esta solicitud ya está cerrada; ya no envía avisos.")})
    follower, _created = Follower.objects.get_or_create(
        report=report,
        email=email.lower(),
        defaults={"language": "en" if language.startswith("en") else "es", "created_at": timezone.now()},
    )
    return follower


@transaction.atomic
def report_unfollow(*, report: Report, email: str) -> None:
    """Stop the notifications of a report one follows."""
    if not Follower.objects.filter(report=report, email__iexact=email).delete()[0]:
        raise ValidationError({"__all__": _("Usted no sigue la solicitud %(code)s.") % {"code": report.tracking_code}})


@transaction.atomic
def reporter_language_update(*, email: str, language: str) -> int:
    """The language of every message to `email`: their own reports' and the ones they follow. Returns the rows."""
    if language not in MESSAGE_LANGUAGES:
        raise ValidationError({"language": _("Idioma desconocido: %s") % language})
    return Report.objects.filter(reporter_email__iexact=email).update(language=language) + Follower.objects.filter(
        email__iexact=email
    ).update(language=language)


@transaction.atomic
def survey_submit(*, report: Report, resolution_rating, service_rating, comment: str = "") -> SurveyResponse:
    """Store the satisfaction survey of a closed report; one answer per report."""
    errors = {}
    ratings = {}
    for field, value in (("resolution_rating", resolution_rating), ("service_rating", service_rating)):
        try:
            ratings[field] = int(value)
        except (TypeError, ValueError):
            ratings[field] = 0
        if not 1 <= ratings[field] <= 5:
            errors[field] = _("Elija una nota de 1 a 5.")
    comment = (comment or "").strip()
    if (message := description_error(comment)) is not None:
        errors["comment"] = message
    if report.status not in CLOSED:
        errors["__all__"] = _("La encuesta se abre cuando la solicitud se cierra.")
    elif not offers_survey(report):
        errors["__all__"] = _("La encuesta es sobre el trabajo del municipio, y esta solicitud se cerró sin él.")
    Report.objects.select_for_update().filter(pk=report.pk).first()  # one survey writer per report at a time
    if SurveyResponse.objects.filter(report=report).exists():
        errors["__all__"] = _("Esta solicitud ya tiene una encuesta respondida. ¡Gracias!")
    if errors:
        raise ValidationError(errors)
    return SurveyResponse.objects.create(report=report, comment=comment, created_at=timezone.now(), **ratings)


def citizen_text_error(text: str, field: str) -> str | None:
    """The problem with a citizen's free text (too long, control characters), or None."""
    return description_error(text) or control_character_errors(**{field: text}).get(field)


def concerns(report: Report, email: str) -> bool:
    """Whether `email` filed the report or follows it: who gets its messages, and may act on them."""
    email = (email or "").strip()
    return (
        bool(email)
        and Report.objects.filter(
            Q(reporter_email__iexact=email) | Q(followers__email__iexact=email), pk=report.pk
        ).exists()
    )


@transaction.atomic
def report_reopen_by_citizen(*, report: Report, reason: str, by_email: str) -> Report:
    """ "No fue resuelto": the reporter or a follower reopens a closed report within the window, with a reason. The
    report goes back to the same crew through report_change_status (the one status path: a public history event
    with the reason, counted in times_reopened, everyone told)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Cuéntenos por qué no fue resuelto.")})
    if (message := citizen_text_error(reason, "reason")) is not None:
        raise ValidationError({"reason": message})
    locked = lock_report(report)
    if not concerns(locked, by_email):
        raise ValidationError(
            {"__all__": _("La solicitud %(code)s no está asociada a su correo.") % {"code": locked.tracking_code}}
        )
    if (message := citizen_reopen_refusal(locked)) is not None:
        raise ValidationError({"__all__": message})
    # The reason is shown with the change on the request's tracking page, opened by its code, but published nowhere
    # (models.CITIZEN_REOPENING): a follower's or reporter's words may name people.
    return report_change_status(
        public_note=EXPLAINED_BY_CALLER,
        report=locked,
        status=reopening_status(locked.status),
        note=reason,
        note_is_public=True,
        actor_label=CITIZEN_ACTOR,
    )


def answers_correction(report: Report, by_email: str) -> bool:
    """Whether what `by_email` adds to the request answers its pending subsanación: only its requester's does."""
    return report.correction_due_at is not None and bool(by_email) and by_email.lower() == report.reporter_email.lower()


@documents_removed_on_rollback()
@transaction.atomic
def report_add_citizen_info(
    *, report: Report, note: str, photo=None, documents=(), by_email: str = "", by_phone: str = ""
) -> ReportEvent:
    """ "Agregar información": the reporter or a follower adds a note, a photo and/or PDF documents (where the kind
    takes them) to an open report, as an internal history event the crew reads (the photo through the one photo
    path, attached to that event; the documents to the report, for its staff); the next alerts run tells the crew
    (alerts, `citizen_info`). The citizen is who `by_email` names, or, for a request filed with a number only (SMS,
    WhatsApp), who `by_phone` names (person_reports' rule)."""
    note = (note or "").strip()
    if not note and not photo and not documents:
        raise ValidationError(
            {
                "note": _("Escriba una nota o adjunte una foto o un documento PDF.")
                if takes_documents(report.kind)
                else _("Escriba una nota o adjunte una foto.")
            }
        )
    if (message := citizen_text_error(note, "note")) is not None:
        raise ValidationError({"note": message})
    processed = photo_process(photo) if photo else None
    checked_documents = documents_process(report.kind, documents)
    locked = lock_report(report)
    if by_phone and not person_reports(phone=by_phone).filter(pk=locked.pk).exists():
        raise ValidationError(
            {"__all__": _("La solicitud %(code)s no está asociada a su número.") % {"code": locked.tracking_code}}
        )
    if not by_phone and not concerns(locked, by_email):
        raise ValidationError(
            {"__all__": _("La solicitud %(code)s no está asociada a su correo.") % {"code": locked.tracking_code}}
        )
    if not is_open(locked.status):
        raise ValidationError(
            {
                "__all__": _("La solicitud %(code)s está cerrada: solo se agrega información a una solicitud abierta.")
                % {"code": locked.tracking_code}
            }
        )
    now = timezone.now()
    locked.updated_at = now
    locked.save(update_fields=["updated_at"])
    if not note:
        with installation_language():  # the history crews read: the installation's language
            note = _(CITIZEN_INFO_PLACEHOLDERS[0] if photo else CITIZEN_INFO_PLACEHOLDERS[1])
    # By number, person_reports found a request filed with that number and no email: the requester's.
    from_requester = bool(by_phone) or bool(by_email and email_key(by_email) == email_key(locked.reporter_email))
    answers = answers_correction(locked, by_email)
    # Internal, for the crew: a follower's words or photo never reach the public timeline or the report's photos,
    # which are published under the reporter's consent.
    event = ReportEvent.objects.create(
        report=locked,
        kind=EventKind.CITIZEN_INFO,
        note=note,
        is_public=False,
        actor_label=CITIZEN_ACTOR,
        created_at=now,
        # Marked, so the requester is shown what they added (selectors.requester_additions); a follower's is not.
        data={"from_requester": from_requester, "answers_correction": answers},
    )
    added_by = "" if by_phone else email_key(by_email)
    if processed is not None:
        event_photo_store(event=event, processed=processed, added_by=added_by)
    for document in checked_documents:
        report_document_store(report=locked, processed=document, created_at=now, added_by=added_by)
    if answers:
        correction_received(locked, now=now, actor_label=CITIZEN_ACTOR)  # the subsanación a Ley 20.285 clock awaits
    return event


@dataclass(frozen=True)
class LetterLink:
    """What became of a fresh letter link: `via` "email" or "phone" (empty: the request left no contact), `queued`
    now, or `refused` past a limit (neither: a retry answered by the link queued moments ago). Never the contact, not
    even masked: whoever asks may be anyone holding the code, and an address's domain can name its owner."""

    via: str = ""
    queued: bool = False
    refused: Refusal | None = None


@transaction.atomic
def letter_link_send(*, report: Report, letter, refusal: Callable[[], Refusal | None]) -> LetterLink:
    """Queue a fresh keyed link to `letter` for the requester, through the contact on file: the email, else the
    phone on the channel the request came by (SMS, or WhatsApp). Once per letter and LETTER_LINK_REPEAT. `refusal`
    counts the attempt against its limits (reports.ratelimit, purpose "letter-link"); called only when a link would
    be queued, so a request without contact or a retry is never refused. Its count commits with this transaction: a
    failed queueing takes it back."""
    report = lock_report(report)  # two clicks at once: the second waits, then finds the first one's link
    if report.reporter_email:
        medium, recipient, via = Medium.EMAIL, report.reporter_email, "email"
    elif report.reporter_phone:
        medium, recipient, via = phone_medium(report), report.reporter_phone, "phone"
    else:
        return LetterLink()
    subject, body = letter_link_message(letter, report.language, sms=medium != Medium.EMAIL)
    repeated = Notification.objects.filter(
        report=report,
        recipient=recipient,
        subject=subject,
        body__contains=f"/carta/{letter.number}/",  # the subject names the request; the link, its letter
        created_at__gte=timezone.now() - LETTER_LINK_REPEAT,
    )
    if repeated.exists():
        return LetterLink(via=via)
    if refused := refusal():
        return LetterLink(via=via, refused=refused)
    notification_enqueue(
        report=report,
        recipient=recipient,
        language=report.language,
        subject=subject,
        body=body,
        medium=medium,
        sender_name=sender_name(report),
    )
    return LetterLink(via=via, queued=True)
