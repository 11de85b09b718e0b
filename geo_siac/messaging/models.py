"""A citizen's conversation with the WhatsApp or SMS intake, and every provider message applied."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.catalogue.models import Category
from geo_siac.reports.models import Report
from geo_siac.zones.models import Commune


class Step(models.TextChoices):
    """What the conversation waits for, in the order it asks (docs/messaging.md)."""

    KIND = "kind", _("Tipo de solicitud")
    CATEGORY = "category", _("Tema")
    ATTRIBUTE = "attribute", _("Pregunta del tema")
    PLACE = "place", _("Ubicación")
    COMMUNE = "commune", _("Comuna")
    PHOTO = "photo", _("Foto")
    NAME = "name", _("Nombre")
    DESCRIPTION = "description", _("Descripción")


class Conversation(models.Model):
    """The answers given so far by one number on one channel; deleted when the request is filed or cancelled, and
    started again when left longer than GEO_SIAC_CONVERSATION_MINUTES."""

    channel = models.CharField(_("canal"), max_length=16)
    phone = models.CharField(_("teléfono"), max_length=40)
    step = models.CharField(_("paso"), max_length=16, choices=Step.choices, default=Step.KIND)
    kind = models.CharField(_("tipo de solicitud"), max_length=24, choices=RequestKind.choices, blank=True)
    category = models.ForeignKey(Category, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    attributes = models.JSONField(_("respuestas"), default=dict, blank=True)
    commune = models.ForeignKey(Commune, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    address = models.CharField(_("dirección"), max_length=300, blank=True)
    reporter_name = models.CharField(_("nombre"), max_length=120, blank=True)
    # None until the greeting is sent: a new conversation starts with the menu, whatever its first message said.
    updated_at = models.DateTimeField(_("último mensaje"), null=True, db_index=True)

    class Meta:
        verbose_name = _("conversación")
        verbose_name_plural = _("conversaciones")
        constraints = [models.UniqueConstraint(fields=["channel", "phone"], name="conversation_one_per_number")]


class ConversationPhoto(models.Model):
    """A photo sent in a conversation (a WhatsApp image at the photo step, an MMS at any step), kept as the photo
    service gave it back when it arrived (re-encoded, without EXIF, with its thumbnail); filed with the request as it
    is, deleted with the conversation. A row kept before this (content_type "") holds the bytes as received."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="photos")
    image = models.BinaryField()
    thumbnail = models.BinaryField(default=b"")
    content_type = models.CharField(max_length=32, blank=True)
    extension = models.CharField(max_length=8, blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("foto de la conversación")
        verbose_name_plural = _("fotos de la conversación")


class InboundMessage(models.Model):
    """One provider message, by its id: a retried delivery finds its row and is not applied again, and an SMS gets
    the same reply it got the first time."""

    channel = models.CharField(_("canal"), max_length=16)
    message_id = models.CharField(_("id del mensaje"), max_length=128, unique=True)
    reply = models.TextField(_("respuesta"), blank=True)
    report = models.ForeignKey(Report, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    received_at = models.DateTimeField(_("recibido"))

    class Meta:
        verbose_name = _("mensaje recibido")
        verbose_name_plural = _("mensajes recibidos")
