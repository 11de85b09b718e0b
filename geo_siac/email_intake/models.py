"""The email channel's memory: which messages were applied, so a re-delivered one is not applied twice."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from geo_siac.reports.models import Report

# RFC 5322's longest line: a Message-ID longer than this is keyed by the message's digest instead (parsing.py).
MESSAGE_ID_MAX_LENGTH = 998


class InboundEmail(models.Model):
    """One applied message, keyed by its Message-ID and sender: another sender reusing a Message-ID is a different
    message. The sender is kept only as a digest (sender_key), the subject not at all: the request holds them, where
    erasure finds them."""

    class Outcome(models.TextChoices):
        CREATED = "created", _("Nueva solicitud")
        ATTACHED = "attached", _("Información agregada a una solicitud")

    message_id = models.CharField(_("Message-ID"), max_length=MESSAGE_ID_MAX_LENGTH)
    sender_key = models.CharField(_("remitente (digest)"), max_length=64, default="")
    outcome = models.CharField(_("resultado"), max_length=16, choices=Outcome.choices)
    # SET_NULL: the message stays known as applied even if its request is deleted.
    report = models.ForeignKey(
        Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("solicitud")
    )
    received_at = models.DateTimeField(_("recibido"))

    class Meta:
        verbose_name = _("correo recibido")
        verbose_name_plural = _("correos recibidos")
        constraints = [
            models.UniqueConstraint(fields=["message_id", "sender_key"], name="inbound_email_unique_message_sender")
        ]

    def __str__(self) -> str:
        return self.message_id
