from django.db import models
from django.utils.translation import gettext_lazy as _


class Medium(models.TextChoices):
    EMAIL = "email", _("Correo electrónico")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")


class Delivery(models.TextChoices):
    PENDING = "pending", _("Pendiente")
    SENT = "sent", _("Enviada")
    FAILED = "failed", _("Fallida definitivamente")


class Notification(models.Model):
    """The outbox: written in the same transaction as the change it announces, sent later by the worker. A staff
    digest (alerts) is about many reports, so it names none."""

    # None for a message about no single report: an appointment's confirmation, reminder or cancellation, a staff
    # digest, a citizen's sign-in link to "Mis solicitudes".
    report = models.ForeignKey(
        "reports.Report",
        verbose_name=_("solicitud"),
        on_delete=models.CASCADE,
        related_name="notifications",
        null=True,
        blank=True,
    )
    medium = models.CharField(_("medio"), max_length=8, choices=Medium.choices, default=Medium.EMAIL)
    recipient = models.CharField(_("destinatario"), max_length=254)
    language = models.CharField(_("idioma"), max_length=8, default="es")
    subject = models.CharField(_("asunto"), max_length=200)
    body = models.TextField(_("mensaje"))
    delivery = models.CharField(_("envío"), max_length=8, choices=Delivery.choices, default=Delivery.PENDING)
    attempts = models.PositiveSmallIntegerField(_("intentos"), default=0)
    next_attempt_at = models.DateTimeField(_("próximo intento"))
    last_error = models.TextField(_("último error"), blank=True)
    sent_at = models.DateTimeField(_("enviada"), null=True, blank=True)
    created_at = models.DateTimeField(_("creada"))
    # Who an email is from and signed by (a request's municipality, reports.messages.sender_name); empty: the
    # installation's DEFAULT_FROM_EMAIL as configured. The address is always the configured one.
    sender_name = models.CharField(_("remitente"), max_length=200, blank=True, default="", db_default="")
    # A message of a mailing (an area alert's summary): its one-click unsubscribe link, sent as List-Unsubscribe.
    unsubscribe_url = models.URLField(
        _("enlace para darse de baja"), max_length=500, blank=True, default="", db_default=""
    )

    class Meta:
        verbose_name = _("notificación")
        verbose_name_plural = _("notificaciones")
        ordering = ["next_attempt_at", "id"]
        indexes = [models.Index(fields=["delivery", "next_attempt_at"], name="notification_due")]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.subject}"
