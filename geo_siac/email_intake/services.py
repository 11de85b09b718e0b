"""email_receive: a received message becomes a request through report_create (the one creation path), or
information added to the sender's open request it quotes (report_add_citizen_info), once per Message-ID."""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from geo_siac.email_intake.models import InboundEmail
from geo_siac.email_intake.parsing import Attachment, ParsedEmail, parse_email
from geo_siac.email_intake.selectors import applied_email, recipient_commune, reply_target
from geo_siac.notifications.services import notification_enqueue
from geo_siac.reports.models import Report
from geo_siac.reports.photos import ProcessedPhoto
from geo_siac.reports.selectors import category_by_code
from geo_siac.reports.services import report_add_citizen_info, report_create
from geo_siac.reports.services.photos import photo_process, report_photo_store
from geo_siac.reports.states import Channel
from geo_siac.reports.validation import NAME_MAX_LENGTH, email_error

# report_create's fields that no message can fix: a fault of the installation, which the MTA should retry later.
INSTALLATION_FIELDS = frozenset({"category", "commune", "kind", "channel"})


class NotReady(Exception):
    """The installation cannot file email now (no topic, no comuna for the address): retry later, nothing written."""


@dataclass(frozen=True)
class Received:
    outcome: str  # InboundEmail.Outcome, "duplicate" (applied before) or "ignored" (an automatic message)
    tracking_code: str = ""


def email_topic():
    topic = category_by_code(settings.GEO_SIAC_EMAIL_TOPIC, "active")
    if topic is None:
        raise NotReady(f"GEO_SIAC_EMAIL_TOPIC={settings.GEO_SIAC_EMAIL_TOPIC!r} is not an active topic")
    return topic


def usable_photos(attachments: list[Attachment]) -> tuple[list[tuple[Attachment, ProcessedPhoto]], list[str]]:
    """Each attachment checked by the one photo path: the photos, and what is wrong with each other one."""
    photos, rejected = [], []
    for attachment in attachments:
        try:
            photos.append((attachment, photo_process(attachment.data)))
        except ValidationError as exc:
            rejected.append(f"{attachment.filename}: {' '.join(exc.messages)}")
    return photos, rejected


def message_errors(parsed: ParsedEmail, text: str, photos: list, rejected: list[str]) -> dict[str, str]:
    errors = {}
    if not parsed.sender_email:
        errors["reporter_email"] = _("El correo no indica su remitente (From).")
    elif (message := email_error(parsed.sender_email)) is not None:
        errors["reporter_email"] = message
    if not text and not photos:
        errors["description"] = (
            _("El correo no trae texto ni una foto válida (%(rejected)s).") % {"rejected": "; ".join(rejected)}
            if rejected
            else _("El correo no trae texto: escriba su solicitud en el mensaje.")
        )
    return errors


@transaction.atomic
def email_receive(*, raw: bytes, envelope_sender: str, recipients: list[str]) -> Received:
    """File a received message, in one transaction: the caller answers the MTA only after it committed.

    A message whose open request of the sender it quotes (a tracking code in the subject or text) adds its new
    text and photos to that request; any other message, a code of somebody else's included, files a request of
    the GEO_SIAC_EMAIL_TOPIC topic without a place. Raises ValidationError (the sender's fault: nothing written)
    or NotReady (the installation's). Attachments that are not valid photos are named to the sender and dropped,
    the request kept; a message with no text and no valid photo is refused."""
    parsed = parse_email(raw, envelope_sender=envelope_sender)
    if parsed.automatic:
        return Received("ignored")
    target = reply_target(parsed.tracking_codes(), parsed.sender_email) if parsed.sender_email else None
    text = parsed.reply_text() if target else "\n\n".join(part for part in (parsed.subject, parsed.text) if part)
    photos, rejected = usable_photos(parsed.attachments)
    if errors := message_errors(parsed, text, photos, rejected):
        raise ValidationError(errors)
    outcome = InboundEmail.Outcome.ATTACHED if target else InboundEmail.Outcome.CREATED
    try:
        with transaction.atomic():  # a concurrent delivery of the same message waits here for the first to end
            applied = InboundEmail.objects.create(
                message_id=parsed.message_id, outcome=outcome, received_at=timezone.now()
            )
    except IntegrityError:
        earlier = applied_email(parsed.message_id)
        return Received("duplicate", earlier.report.tracking_code if earlier and earlier.report else "")
    report = attach(target, parsed, text, photos) if target else create(parsed, text, photos, recipients)
    applied.report = report
    applied.save(update_fields=["report"])
    if rejected:
        rejected_notice(report, parsed.sender_email, rejected)
    return Received(outcome, report.tracking_code)


def create(parsed: ParsedEmail, text: str, photos: list, recipients: list[str]) -> Report:
    topic = email_topic()
    try:
        report = report_create(
            category=topic,
            kind=topic.kind,
            channel=Channel.EMAIL,
            commune=recipient_commune(recipients),
            description=text,
            reporter_name=parsed.sender_name[:NAME_MAX_LENGTH],
            reporter_email=parsed.sender_email,
        )
    except ValidationError as exc:
        if exc.message_dict.keys() & INSTALLATION_FIELDS:
            raise NotReady(exc.message_dict) from exc
        raise
    for _attachment, processed in photos:
        report_photo_store(report=report, processed=processed)
    return report


def attach(report: Report, parsed: ParsedEmail, text: str, photos: list) -> Report:
    """The reply's text, then each photo, as the citizen's added information (the one path of "Agregar
    información"). The photo is checked again there: the cost of one path, on a few photos a message."""
    if text:
        report_add_citizen_info(report=report, note=text, by_email=parsed.sender_email)
    for attachment, _processed in photos:
        report_add_citizen_info(report=report, note="", photo=attachment.data, by_email=parsed.sender_email)
    return report


def rejected_notice(report: Report, recipient: str, rejected: list[str]) -> None:
    with translation.override(report.language):
        subject = _("Su correo a la solicitud %(code)s: adjuntos no guardados") % {"code": report.tracking_code}
        body = _(
            "Recibimos su correo en la solicitud %(code)s, pero no guardamos estos adjuntos:\n%(rejected)s\n"
            "Solo se guardan fotos JPEG, PNG o WebP. Puede enviarlas en otro correo que cite el código %(code)s."
        ) % {"code": report.tracking_code, "rejected": "\n".join(f"- {line}" for line in rejected)}
    notification_enqueue(report=report, recipient=recipient, language=report.language, subject=subject, body=body)
