"""email_receive: a received message becomes a request through report_create (the one creation path), or
information added to the sender's open request it quotes (report_add_citizen_info), once per Message-ID and
sender."""

import hashlib
from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from geo_siac.email_intake.models import InboundEmail
from geo_siac.email_intake.parsing import Attachment, ParsedEmail, parse_email
from geo_siac.email_intake.selectors import recipient_commune, reply_target
from geo_siac.notifications.services import notification_enqueue
from geo_siac.reports.messages import sender_name
from geo_siac.reports.models import Report
from geo_siac.reports.photos import ProcessedPhoto
from geo_siac.reports.selectors import category_by_code
from geo_siac.reports.services import report_add_citizen_info, report_create
from geo_siac.reports.services.photos import photo_process, report_photo_store
from geo_siac.reports.states import Channel
from geo_siac.reports.validation import NAME_MAX_LENGTH, email_error
from geo_siac.web.ratelimit import count_attempt
from geo_siac.zones.selectors import NOT_OFFERED

# report_create's fields that no message can fix: a fault of the installation, which the MTA should retry later.
INSTALLATION_FIELDS = frozenset({"category", "commune", "kind", "channel"})


class NotReady(Exception):
    """The installation cannot file email now (no topic, no comuna for the address): retry later, nothing written."""


class TooMany(Exception):
    """The sender has filed GEO_SIAC_EMAIL_PER_SENDER messages in the window: retry later, nothing written."""


@dataclass(frozen=True)
class Received:
    outcome: str  # InboundEmail.Outcome, "duplicate" (applied before) or "ignored" (an automatic message)
    tracking_code: str = ""


def sender_key(address: str) -> str:
    # A digest: neither the duplicate key nor the rate counter holds the address itself.
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


def own_addresses(recipients: list[str]) -> set[str]:
    """The addresses the system receives or sends as: mail from them is its own, looping back."""
    own = {address.strip("<> ").lower() for address in [*recipients, *settings.GEO_SIAC_EMAIL_COMMUNES]}
    own.add(parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower())
    return own - {""}


def within_sender_limit(address: str) -> bool:
    count = count_attempt(f"email:sender:{sender_key(address)[:32]}", settings.GEO_SIAC_EMAIL_SENDER_WINDOW_SECONDS)
    return count <= settings.GEO_SIAC_EMAIL_PER_SENDER


def email_topic():
    topic = category_by_code(settings.GEO_SIAC_EMAIL_TOPIC, "active")
    if topic is None:
        raise NotReady(f"GEO_SIAC_EMAIL_TOPIC={settings.GEO_SIAC_EMAIL_TOPIC!r} is not an active topic")
    return topic


def usable_photos(attachments: list[Attachment]) -> tuple[list[tuple[Attachment, ProcessedPhoto]], list[str]]:
    """The first GEO_SIAC_EMAIL_MAX_PHOTOS attachments checked by the one photo path: the photos, and what is wrong
    with each other attachment (the ones over the cap never reach Pillow)."""
    cap = settings.GEO_SIAC_EMAIL_MAX_PHOTOS
    photos, rejected = [], []
    for attachment in attachments[:cap]:
        try:
            photos.append((attachment, photo_process(attachment.data)))
        except ValidationError as exc:
            rejected.append(f"{attachment.filename}: {' '.join(exc.messages)}")
    over = _("se guardan hasta %(max)s adjuntos por correo.") % {"max": cap}
    rejected += [f"{attachment.filename}: {over}" for attachment in attachments[cap:]]
    return photos, rejected


def cut_text(text: str) -> tuple[str, bool]:
    """The text within GEO_SIAC_MAX_DESCRIPTION, and whether it had to be cut: a citizen's message is never
    refused for its length."""
    limit = settings.GEO_SIAC_MAX_DESCRIPTION
    if len(text) <= limit:
        return text, False
    return text[:limit].rstrip(), True


def message_errors(
    parsed: ParsedEmail, text: str, photos: list, rejected: list[str], recipients: list[str]
) -> dict[str, str]:
    errors = {}
    if not parsed.sender_email:
        errors["reporter_email"] = _("El correo no indica su remitente (From).")
    elif (message := email_error(parsed.sender_email)) is not None:
        errors["reporter_email"] = message
    elif parsed.sender_email.lower() in own_addresses(recipients):
        errors["reporter_email"] = _("El correo viene de una dirección de este mismo sistema.")
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
    the GEO_SIAC_EMAIL_TOPIC topic without a place. Only a message the trusted MTA found DMARC-aligned writes into
    an existing request when GEO_SIAC_EMAIL_REQUIRE_DMARC is on; without it, it files a new one. Raises
    ValidationError (the sender's fault: nothing written), TooMany (the sender's limit: retry later) or NotReady
    (the installation's). Attachments that are not valid photos, or over GEO_SIAC_EMAIL_MAX_PHOTOS, are named to the
    sender and dropped, the request kept; a text over the description's limit is cut and the sender told; a message
    with no text and no valid photo is refused."""
    parsed = parse_email(raw, envelope_sender=envelope_sender, authserv_id=settings.GEO_SIAC_EMAIL_AUTHSERV_ID)
    if parsed.automatic:
        return Received("ignored")
    trusted = parsed.dmarc_pass or not settings.GEO_SIAC_EMAIL_REQUIRE_DMARC
    target = reply_target(parsed.tracking_codes(), parsed.sender_email) if parsed.sender_email and trusted else None
    reply = parsed.reply_text()
    text, cut = cut_text(reply if target else "\n\n".join(part for part in (parsed.subject, reply) if part))
    photos, rejected = usable_photos(parsed.attachments)
    if errors := message_errors(parsed, text, photos, rejected, recipients):
        raise ValidationError(errors)
    outcome = InboundEmail.Outcome.ATTACHED if target else InboundEmail.Outcome.CREATED
    try:
        with transaction.atomic():  # a concurrent delivery of the same message waits here for the first to end
            applied = InboundEmail.objects.create(
                message_id=parsed.message_id,
                sender_key=sender_key(parsed.sender_email),
                outcome=outcome,
                received_at=timezone.now(),
            )
    except IntegrityError:
        # No tracking code: whoever re-sends a Message-ID must not learn the request it filed.
        return Received("duplicate")
    # Counted after the duplicate check (a re-delivery is not a new message) and rolled back with a refusal.
    if not within_sender_limit(parsed.sender_email):
        raise TooMany(parsed.sender_email)
    report = attach(target, parsed, text, photos) if target else create(parsed, text, photos, recipients)
    applied.report = report
    applied.save(update_fields=["report"])
    if rejected or cut:
        email_notice(report, parsed.sender_email, rejected, cut=cut)
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
        # A topic the comuna does not take is refused for good, naming it: retrying would not change the answer.
        if exc.message_dict.keys() & INSTALLATION_FIELDS and not not_offered_only(exc):
            raise NotReady(exc.message_dict) from exc
        raise
    for _attachment, processed in photos:
        report_photo_store(report=report, processed=processed)
    return report


def not_offered_only(exc: ValidationError) -> bool:
    return exc.error_dict.keys() == {"category"} and all(e.code == NOT_OFFERED for e in exc.error_dict["category"])


def attach(report: Report, parsed: ParsedEmail, text: str, photos: list) -> Report:
    """The reply's text, then each photo, as the citizen's added information (the one path of "Agregar
    información"). The photo is checked again there: the cost of one path, on a few photos a message."""
    if text:
        report_add_citizen_info(report=report, note=text, by_email=parsed.sender_email)
    for attachment, _processed in photos:
        report_add_citizen_info(report=report, note="", photo=attachment.data, by_email=parsed.sender_email)
    return report


def email_notice(report: Report, recipient: str, rejected: list[str], *, cut: bool) -> None:
    """What of the message was not kept: its text past the limit, the attachments dropped."""
    code = report.tracking_code
    with translation.override(report.language):
        if rejected:
            subject = _("Su correo a la solicitud %(code)s: adjuntos no guardados") % {"code": code}
        else:
            subject = _("Su correo a la solicitud %(code)s: texto recortado") % {"code": code}
        parts = []
        if cut:
            parts.append(
                _(
                    "Recibimos su correo en la solicitud %(code)s, pero su texto superaba los %(max)s caracteres y "
                    "guardamos solo los primeros %(max)s. Puede enviar el resto en otro correo que cite el código "
                    "%(code)s."
                )
                % {"code": code, "max": settings.GEO_SIAC_MAX_DESCRIPTION}
            )
        if rejected:
            parts.append(
                _(
                    "Recibimos su correo en la solicitud %(code)s, pero no guardamos estos adjuntos:\n%(rejected)s\n"
                    "Solo se guardan fotos JPEG, PNG o WebP. Puede enviarlas en otro correo que cite el código "
                    "%(code)s."
                )
                % {"code": code, "rejected": "\n".join(f"- {line}" for line in rejected)}
            )
    body = "\n\n".join(parts)
    notification_enqueue(
        report=report,
        recipient=recipient,
        language=report.language,
        subject=subject,
        body=body,
        sender_name=sender_name(report),
    )
