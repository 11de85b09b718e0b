"""message_receive: one citizen message applied once to its number's conversation, which files the request through
report_create when the last answer arrives (docs/messaging.md)."""

import logging
import time
from dataclasses import dataclass, field, replace
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from geo_siac.catalogue.attributes import clean_answer, question_label
from geo_siac.catalogue.kinds import RequestKind, rule
from geo_siac.geocoding.selectors import gazetteer_search
from geo_siac.messaging.models import Conversation, ConversationPhoto, InboundMessage, Step
from geo_siac.messaging.providers import Incoming, twilio_media, whatsapp_media
from geo_siac.notifications.models import Delivery, Medium, Notification
from geo_siac.notifications.services import notification_enqueue
from geo_siac.reports.messages import received_message
from geo_siac.reports.models import Report
from geo_siac.reports.photos import ProcessedPhoto
from geo_siac.reports.selectors import person_reports, public_categories
from geo_siac.reports.services import report_add_citizen_info, report_create
from geo_siac.reports.services.create import locate
from geo_siac.reports.services.photos import photo_process, report_photo_store
from geo_siac.reports.states import OPEN, Channel
from geo_siac.zones.models import Commune

CANCEL_WORDS = frozenset({"cancelar", "salir", "cancel"})
SKIP_WORDS = frozenset({"0", "no", "omitir"})
ORDER = [Step.KIND, Step.CATEGORY, Step.ATTRIBUTE, Step.PLACE, Step.COMMUNE, Step.PHOTO, Step.NAME, Step.DESCRIPTION]
# The outbox's subject of a conversation reply (a WhatsApp message has none), which purge_messages looks for.
REPLY_SUBJECT = "WhatsApp"
# The conversation speaks the installation's first language; the request is filed in it.
LANGUAGE = "es"

logger = logging.getLogger(__name__)


@dataclass
class Received:
    """What one message did: the reply (also in the outbox for WhatsApp, `notification_ids`), whether it was
    applied now (False: a provider's retry of a message already applied), and the request it filed, if any."""

    reply: str
    applied: bool
    report: Report | None = None
    notification_ids: list[int] = field(default_factory=list)


def message_receive(*, channel: str, message: Incoming) -> Received:
    """Apply `message` once. Its photos are downloaded first, outside the transaction, so no lock is held while the
    provider answers; the id claim in message_apply still applies the message once whoever downloaded them."""
    if message.media_id and photo_awaited(channel, message):
        message = replace(message, photos=(photo_download(message.media_id),))
    elif message.media and not already_applied(message):
        message = replace(message, photos=mms_download(message, photo_room(channel, message.phone)))
    return message_apply(channel=channel, message=message)


def already_applied(message: Incoming) -> bool:
    """A read without a lock, to spare a provider's retry the download."""
    return InboundMessage.objects.filter(message_id=message.message_id).exists()


def photo_awaited(channel: str, message: Incoming) -> bool:
    """A read without a lock, to spare a download the conversation would ignore or a retry already applied."""
    waiting = Conversation.objects.filter(channel=channel, phone=message.phone, step=Step.PHOTO).exists()
    return waiting and not already_applied(message)


def photo_download(media_id: str) -> bytes:
    """The photo's bytes, or b"" when the provider would not give them (the reply says so)."""
    try:
        return whatsapp_media(media_id)
    except (OSError, ValueError, KeyError) as exc:
        logger.warning("WhatsApp media %s not downloaded: %s", media_id, exc)
        return b""


def photo_room(channel: str, phone: str) -> int:
    """How many more photos the number's conversation may keep (GEO_SIAC_SMS_MAX_PHOTOS a request): a read without
    a lock, so that no more are downloaded than could be kept; message_apply counts again under the lock."""
    kept = ConversationPhoto.objects.filter(
        conversation__channel=channel, conversation__phone=phone, conversation__updated_at__gte=stale_before()
    ).count()
    return max(settings.GEO_SIAC_SMS_MAX_PHOTOS - kept, 0)


def mms_download(message: Incoming, room: int) -> tuple[bytes, ...]:
    """The bytes of the MMS's first `room` images, b"" for one Twilio would not give within the time budget (the
    reply says so). Other media (a vCard, audio) and the images beyond `room` are not downloaded. All the downloads
    share GEO_SIAC_TWILIO_MEDIA_BUDGET_SECONDS, so the webhook answers within the ~15 s Twilio waits for it."""
    deadline = time.monotonic() + settings.GEO_SIAC_TWILIO_MEDIA_BUDGET_SECONDS
    return tuple(mms_photo_download(url, message.message_id, deadline) for url in image_urls(message)[:room])


def image_urls(message: Incoming) -> list[str]:
    return [url for url, content_type in message.media if content_type.lower().startswith("image/")]


def mms_photo_download(url: str, message_sid: str, deadline: float) -> bytes:
    try:
        return twilio_media(url, message_sid, deadline=deadline)
    except (OSError, ValueError) as exc:
        logger.warning("Twilio media of %s not downloaded: %s", message_sid, exc)
        return b""


@transaction.atomic
def message_apply(*, channel: str, message: Incoming) -> Received:
    """Apply `message` once: its id is claimed first, so a retried delivery gets the first reply back and changes
    nothing. The conversation's row is locked, so two messages of one number are applied one after the other. A
    WhatsApp reply goes to the notification outbox in this transaction (the caller sends it after answering the
    provider); an SMS reply is the caller's to return in TwiML."""
    if not message_claim(channel, message.message_id):
        stored = InboundMessage.objects.get(message_id=message.message_id)
        return Received(reply=stored.reply, applied=False, report=stored.report)
    with translation.override(LANGUAGE):
        conversation = conversation_for(channel, message.phone)
        notices = [photos_recheck(conversation), photos_keep(conversation, message) if message.media else ""]
        reply, report = advance(conversation, channel, message)
    reply = "\n".join(part for part in (reply, *notices) if part)
    InboundMessage.objects.filter(message_id=message.message_id).update(reply=reply, report=report)
    received = Received(reply=reply, applied=True, report=report)
    if channel == Channel.WHATSAPP:
        notification = notification_enqueue(
            report=report,
            recipient=message.phone,
            language=LANGUAGE,
            subject=REPLY_SUBJECT,
            body=reply,
            medium=Medium.WHATSAPP,
        )
        received.notification_ids.append(notification.pk)
    return received


CLAIM = f"""
INSERT INTO {InboundMessage._meta.db_table} (channel, message_id, reply, received_at) VALUES (%s, %s, '', %s)
ON CONFLICT (message_id) DO NOTHING RETURNING id
"""


def message_claim(channel: str, message_id: str) -> bool:
    """Whether this transaction is the first to see `message_id`. A concurrent retry waits on the unique key until
    the first one commits, then finds it taken (or takes it, when the first rolled back)."""
    with connection.cursor() as cursor:
        cursor.execute(CLAIM, [channel, message_id, timezone.now()])
        return cursor.fetchone() is not None


def photos_keep(conversation: Conversation, message: Incoming) -> str:
    """Keep an MMS's photos on the conversation, whatever its step, each as the photo service gives it back, up to
    GEO_SIAC_SMS_MAX_PHOTOS a request; they are filed with the request. Returns what the reply adds about the
    media not kept (not received, not a valid photo, over the limit, not an image), or ""."""
    cap = settings.GEO_SIAC_SMS_MAX_PHOTOS
    room = max(cap - conversation.photos.count(), 0)
    images = len(image_urls(message))
    earlier = just_filed(conversation) if conversation.updated_at is None else None
    lost = over = kept = 0
    for photo in message.photos:
        processed = photo_checked(photo)
        if processed is None:
            lost += 1
        elif kept >= room:
            over += 1
        elif earlier is not None:
            try:
                report_add_citizen_info(report=earlier, note="", photo=processed.image, by_phone=conversation.phone)
            except ValidationError as exc:  # closed since it was found: the message is still answered
                logger.warning("MMS photo not added to %s: %s", earlier.tracking_code, exc.messages)
                lost += 1
                continue
            kept += 1
        else:
            photo_keep(conversation, processed)
            kept += 1
    over += images - len(message.photos)  # not downloaded: the conversation had no room left
    others = len(message.media) - images
    sentences = []
    if lost:
        sentences.append(
            _("No pudimos recibir la foto que envió.")
            if images == 1
            else _("No pudimos recibir %(count)s de las %(total)s fotos que envió.") % {"count": lost, "total": images}
        )
    if over:
        sentences.append(
            ngettext(
                "Se guardan hasta %(max)s fotos por solicitud: %(count)s no se guardó.",
                "Se guardan hasta %(max)s fotos por solicitud: %(count)s no se guardaron.",
                over,
            )
            % {"max": cap, "count": over}
        )
    if others:
        sentences.append(
            ngettext(
                "Solo se guardan fotos: %(count)s archivo que no es una foto no se guardó.",
                "Solo se guardan fotos: %(count)s archivos que no son fotos no se guardaron.",
                others,
            )
            % {"count": others}
        )
    if kept and earlier is not None:
        sentences.append(
            ngettext(
                "La foto se agregó a su solicitud %(code)s.", "Las fotos se agregaron a su solicitud %(code)s.", kept
            )
            % {"code": earlier.tracking_code}
        )
    elif kept and conversation.updated_at is None:
        # A photo sent long after filing starts a new conversation: the citizen must not think it reached that request.
        sentences.append(
            ngettext(
                "La foto quedó guardada para la solicitud que empieza ahora; no se agregó a una solicitud ya enviada.",
                "Las fotos quedaron guardadas para la solicitud que empieza ahora; no se agregaron a una solicitud "
                "ya enviada.",
                kept,
            )
        )
    return " ".join(sentences)


def just_filed(conversation: Conversation) -> Report | None:
    """The number's own request filed on this channel within the conversation window and still open: a photo sent
    right after filing belongs to it. By number only a request that carries no email (person_reports' rule)."""
    return (
        person_reports(phone=conversation.phone)
        .filter(channel=conversation.channel, status__in=OPEN, created_at__gte=stale_before())
        .order_by("-created_at")
        .first()
    )


def photo_checked(photo: bytes) -> ProcessedPhoto | None:
    if not photo:
        return None
    try:
        return photo_process(photo)
    except ValidationError:
        return None


def photo_keep(conversation: Conversation, processed: ProcessedPhoto) -> None:
    ConversationPhoto.objects.create(
        conversation=conversation,
        image=processed.image,
        thumbnail=processed.thumbnail,
        content_type=processed.content_type,
        extension=processed.extension,
        width=processed.width,
        height=processed.height,
    )


def photos_recheck(conversation: Conversation) -> str:
    """A photo kept as received, before photos were kept processed, is processed now; one that no longer passes the
    check is dropped and the citizen told, so it never stops the request from being filed."""
    dropped = 0
    for row in conversation.photos.filter(content_type=""):
        processed = photo_checked(bytes(row.image))
        row.delete()
        if processed is None:
            dropped += 1
        else:
            photo_keep(conversation, processed)
    if not dropped:
        return ""
    return ngettext(
        "%(count)s foto que envió antes ya no se pudo guardar.",
        "%(count)s fotos que envió antes ya no se pudieron guardar.",
        dropped,
    ) % {"count": dropped}


def conversation_photos(conversation: Conversation) -> list[ProcessedPhoto]:
    return [
        ProcessedPhoto(
            image=bytes(row.image),
            thumbnail=bytes(row.thumbnail),
            content_type=row.content_type,
            extension=row.extension,
            width=row.width,
            height=row.height,
        )
        for row in conversation.photos.exclude(content_type="").order_by("pk")
    ]


def conversation_for(channel: str, phone: str) -> Conversation:
    """The number's conversation, locked; a new one, or one left too long, starts over (updated_at None)."""
    Conversation.objects.filter(channel=channel, phone=phone, updated_at__lt=stale_before()).delete()
    Conversation.objects.bulk_create([Conversation(channel=channel, phone=phone)], ignore_conflicts=True)
    return Conversation.objects.select_for_update().get(channel=channel, phone=phone)


def stale_before():
    return timezone.now() - timedelta(minutes=settings.GEO_SIAC_CONVERSATION_MINUTES)


def messages_purge(*, now=None) -> tuple[int, int, int]:
    """What no one needs any more: conversations left too long (each number's own is also started over when it
    writes again), and the conversation replies sent or failed and the received message ids older than
    GEO_SIAC_MESSAGES_KEEP_DAYS. Returns how many of each were deleted. `manage.py purge_messages`."""
    now = now or timezone.now()
    kept_since = now - timedelta(days=settings.GEO_SIAC_MESSAGES_KEEP_DAYS)
    # delete()[0] would also count each conversation's photos deleted with it.
    conversations = (
        Conversation.objects.filter(updated_at__lt=stale_before()).delete()[1].get("messaging.Conversation", 0)
    )
    replies = (
        Notification.objects.filter(medium=Medium.WHATSAPP, subject=REPLY_SUBJECT, created_at__lt=kept_since)
        .exclude(delivery=Delivery.PENDING)
        .delete()[0]
    )
    received = InboundMessage.objects.filter(received_at__lt=kept_since).delete()[0]
    return conversations, replies, received


def advance(conversation: Conversation, channel: str, message: Incoming) -> tuple[str, Report | None]:
    """The reply to `message` and the request it filed, if any, with the conversation saved or deleted."""
    text = message.text.strip()
    if text.lower() in CANCEL_WORDS:
        conversation.delete()
        return _("Solicitud cancelada. Escriba cualquier mensaje para empezar de nuevo."), None
    if conversation.updated_at is None:
        conversation.step = Step.KIND
        reply = _("Hola, este es el canal de solicitudes de la municipalidad.") + "\n" + question(conversation)
        return saved(conversation, reply), None
    answer = ANSWERS[conversation.step]
    try:
        outcome = answer(conversation, message, text)
    except ValidationError as exc:
        return saved(conversation, " ".join(exc.messages) + "\n" + question(conversation)), None
    if isinstance(outcome, Report):
        conversation.delete()
        return received_message(outcome, LANGUAGE, email=False)[1], outcome
    conversation.step = next_step(conversation, channel)
    return saved(conversation, question(conversation)), None


def saved(conversation: Conversation, reply: str) -> str:
    conversation.updated_at = timezone.now()
    conversation.save()
    return reply


def next_step(conversation: Conversation, channel: str) -> str:
    """The first step after the current one that this request needs; a topic's questions are asked one by one."""
    if conversation.step == Step.ATTRIBUTE and pending_question(conversation) is not None:
        return Step.ATTRIBUTE
    later = ORDER[ORDER.index(conversation.step) + 1 :]
    return next(step for step in later if needed(step, conversation, channel))


def needed(step: str, conversation: Conversation, channel: str) -> bool:
    kind_rule = rule(conversation.kind)
    return {
        Step.ATTRIBUTE: pending_question(conversation) is not None,
        Step.PLACE: kind_rule.place_required,
        Step.COMMUNE: not kind_rule.place_required and len(served_communes()) > 1,
        Step.PHOTO: channel == Channel.WHATSAPP,
        Step.NAME: kind_rule.identity_required,
    }.get(step, True)


def served_communes() -> list[Commune]:
    return list(Commune.objects.active().defer("geometry").order_by("name"))


def categories(conversation: Conversation) -> list:
    return list(public_categories(conversation.kind))


def pending_question(conversation: Conversation) -> dict | None:
    """The topic's first required question not answered yet (the optional ones are left to the web form)."""
    questions = sorted(conversation.category.attributes if conversation.category else [], key=lambda q: q["order"])
    return next((q for q in questions if q.get("required") and q["code"] not in conversation.attributes), None)


def numbered(options: list[str]) -> str:
    return "\n".join(f"{number}. {option}" for number, option in enumerate(options, start=1))


def question(conversation: Conversation) -> str:
    step = conversation.step
    if step == Step.KIND:
        return _("¿Qué desea enviar? Responda con el número:") + "\n" + numbered([k.label for k in RequestKind])
    if step == Step.CATEGORY:
        names = [c.name for c in categories(conversation)]
        return _("Elija el tema (responda con el número):") + "\n" + numbered(names)
    if step == Step.ATTRIBUTE:
        asked = pending_question(conversation)
        values = [str(v["name"]) for v in asked.get("values", [])]
        return question_label(asked) + ("\n" + _("Responda con el número:") + "\n" + numbered(values) if values else "")
    if step == Step.PLACE:
        if conversation.channel == Channel.WHATSAPP:
            return _(
                "Envíe la ubicación del problema (clip, «Ubicación») o escriba la dirección: calle y número, o "
                "calle con calle."
            )
        return _("Escriba la dirección del problema: calle y número, o calle con calle.")
    if step == Step.COMMUNE:
        names = [c.name for c in served_communes()]
        return _("¿A qué comuna dirige su solicitud? Responda con el número:") + "\n" + numbered(names)
    if step == Step.PHOTO:
        return _("Si quiere, envíe una foto. Si no, responda 0.")
    if step == Step.NAME:
        return _("La Ley 20.285 pide el nombre de quien solicita: escriba su nombre completo.")
    return _("Escriba su %(kind)s en un solo mensaje.") % {"kind": RequestKind(conversation.kind).label.lower()}


def chosen(text: str, options: list):
    """The option a number picks, or a ValidationError naming the numbers allowed."""
    if text.isdigit() and 1 <= int(text) <= len(options):
        return options[int(text) - 1]
    raise ValidationError(_("Responda con un número del 1 al %(last)s.") % {"last": len(options)})


def answer_kind(conversation: Conversation, message: Incoming, text: str) -> None:
    conversation.kind = chosen(text, list(RequestKind)).value
    if not categories(conversation):
        conversation.kind = ""
        raise ValidationError(_("Ese tipo de solicitud no se recibe por este canal."))


def answer_category(conversation: Conversation, message: Incoming, text: str) -> None:
    conversation.category = chosen(text, categories(conversation))
    conversation.attributes = {}


def answer_attribute(conversation: Conversation, message: Incoming, text: str) -> None:
    asked = pending_question(conversation)
    values = [str(v["key"]) for v in asked.get("values", [])]
    if asked["datatype"] == "multivaluelist":
        value = [chosen(part.strip(), values) for part in text.split(",")]
    else:
        value = chosen(text, values) if values else text
    try:
        conversation.attributes = {**conversation.attributes, asked["code"]: clean_answer(asked, value)}
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


def answer_place(conversation: Conversation, message: Incoming, text: str) -> None:
    """A WhatsApp pin, or an address the local gazetteer finds in a served comuna; either inside one."""
    if message.latitude is not None:
        latitude, longitude, address = message.latitude, message.longitude, message.address
    else:
        found = gazetteer_search(text, limit=1) if text else []
        if not found:
            raise ValidationError(_("No encontramos esa dirección."))
        latitude, longitude, address = found[0].latitude, found[0].longitude, found[0].label
    try:
        locate(latitude, longitude, conversation.category)
    except ValidationError as exc:
        raise ValidationError(exc.message_dict["location"]) from exc
    conversation.latitude, conversation.longitude, conversation.address = latitude, longitude, address[:300]


def answer_commune(conversation: Conversation, message: Incoming, text: str) -> None:
    conversation.commune = chosen(text, served_communes())


def answer_photo(conversation: Conversation, message: Incoming, text: str) -> None:
    if not message.media_id:
        if text.lower() in SKIP_WORDS:
            return
        raise ValidationError(_("Envíe una foto, o responda 0 para seguir sin foto."))
    photo = message.photos[0] if message.photos else b""
    if not photo:
        raise ValidationError(_("No pudimos descargar la foto."))
    try:
        processed = photo_process(photo)
    except ValidationError as exc:
        raise ValidationError(exc.message_dict["photo"]) from exc
    photo_keep(conversation, processed)


def answer_name(conversation: Conversation, message: Incoming, text: str) -> None:
    if not text:
        raise ValidationError(_("Escriba su nombre."))
    conversation.reporter_name = text[:120]


def answer_description(conversation: Conversation, message: Incoming, text: str) -> Report:
    """The last answer: the request is filed through report_create with the conversation's photos, or its errors are
    the reply."""
    if not text:
        raise ValidationError(_("Escriba el texto de su solicitud."))
    photos = conversation_photos(conversation)
    report = report_create(
        category=conversation.category,
        kind=conversation.kind,
        latitude=conversation.latitude,
        longitude=conversation.longitude,
        commune=conversation.commune,
        address=conversation.address,
        attributes=conversation.attributes,
        description=text,
        channel=conversation.channel,
        reporter_phone=conversation.phone,
        reporter_name=conversation.reporter_name,
        language=LANGUAGE,
    )
    for processed in photos:
        report_photo_store(report=report, processed=processed)
    return report


ANSWERS = {
    Step.KIND: answer_kind,
    Step.CATEGORY: answer_category,
    Step.ATTRIBUTE: answer_attribute,
    Step.PLACE: answer_place,
    Step.COMMUNE: answer_commune,
    Step.PHOTO: answer_photo,
    Step.NAME: answer_name,
    Step.DESCRIPTION: answer_description,
}
